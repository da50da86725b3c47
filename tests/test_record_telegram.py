"""The case record on Telegram, as a victim uses it: five incidents logged by taps and by typing
(two at night), one changed, one deleted, the summary and the chart, the facts, the interest
check, the export (sealed at rest until then), and /delete leaving nothing of it on disk."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import UTC, datetime, timedelta, timezone

import pytest

from flows import timeline
from tests.backends import wal_checkpoint
from tests.conftest import files_containing, settled

USER = 555_000_222
BJ = timezone(timedelta(hours=8))
NOW = datetime(2026, 11, 20, 15, 30, tzinfo=BJ)  # a Friday afternoon
APP = "MARKER-app-7731"
NOTE = "MARKER-note-4410 说要去我爸单位"
COLLECTOR = "=MARKER-coll-1234"  # starts like a spreadsheet formula


async def act(bot, user, update) -> list:
    """What the bot sent for ``update`` once it is fully handled (no sleeping, no guessing)."""
    await settled(bot, update)
    return user.take_new_messages()


async def send(bot, user, text: str):
    new = await act(bot, user, user.send(text))
    assert new, f"no answer to {text!r}"
    return new[-1]


async def press(bot, user, msg, label: str):
    """Press ``label`` and return what the person now looks at: a new message, or the pressed one edited."""
    new = await act(bot, user, user.press(msg, label))
    return new[-1] if new else user.message(msg.message_id)


async def log_by_taps(bot, user, relation: str, channel: str):
    screen = await send(bot, user, "/log")
    if relation in ("其他亲属", "本人", "其他"):
        screen = await press(bot, user, screen, "本人·其他")
    screen = await press(bot, user, screen, relation)
    return await press(bot, user, screen, channel)


async def set_time(bot, user, screen, typed: str, expected: str):
    await press(bot, user, screen, "改时间")
    echo = await send(bot, user, typed)
    assert expected in echo.text, echo.text
    return await press(bot, user, echo, "对，就是这个时间")


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_a_victim_keeps_the_record_exports_it_and_then_erases_it(bot, fake, zh, data_dir, monkeypatch):
    monkeypatch.setattr(timeline, "now", lambda: NOW.astimezone(UTC))
    user = fake.user(USER, language_code="zh-hans")
    storage = bot.services.storage

    # a screenshot first, so an incident can point at it
    (receipt,) = await act(bot, user, user.send_document(b"%PDF-1.4 screenshot of the messages", "shot.pdf"))
    await press(bot, user, receipt, zh.categories[0].label)

    # 1. two taps from /log: parents, by phone, now (15:30: daytime)
    saved = await log_by_taps(bot, user, "父母", "电话")
    assert "第 1 条" in saved.text and "15:30" in saved.text

    # 2. from the button in step 2 ("正在被骚扰"): colleagues, by SMS, last night at 23:00, with the screenshot
    welcome = await send(bot, user, "/start")
    right_now = await press(bot, user, welcome, "告诉家人怎么说")
    who = await press(bot, user, right_now, "记下这次骚扰")
    saved = await press(bot, user, await press(bot, user, who, "同事"), "短信")
    picker = await press(bot, user, saved, "关联 E-001")
    assert "☑ E-001" in picker.button_labels
    view = await press(bot, user, picker, "返回")
    view = await set_time(bot, user, view, "昨晚11点", "2026-11-19 周四 23:00")
    assert "E-001" in view.text and "🌙" in view.text

    # 3. by typing: "他们又打来了" finds the log; the boss, by phone, at 07:30 two days ago (night)
    found = await send(bot, user, "他们又打来了")
    assert "骚扰记录" in found.text
    who = await press(bot, user, found, "记一笔")
    saved = await press(bot, user, await press(bot, user, who, "领导"), "电话")
    await set_time(bot, user, saved, "11月18日 7:30", "2026-11-18 周三 07:30")

    # 4. a friend on WeChat, "the day before yesterday in the afternoon" (an approximate time) ...
    saved = await log_by_taps(bot, user, "朋友", "微信或QQ")
    view = await set_time(bot, user, saved, "前天下午", "约 2026-11-18 周三 15:00")
    # ... then changed: it was a phone call, with the collector's number and a note
    view = await press(bot, user, await press(bot, user, view, "改方式"), "电话")
    await press(bot, user, view, "号码或名字")
    await send(bot, user, COLLECTOR)
    await press(bot, user, user.last_message, "备注")
    view = await send(bot, user, NOTE)
    assert "朋友 · 电话" in view.text and "MARKER-note-4410" in view.text

    # 5. themselves, a visit, now; then deleted from the list
    await log_by_taps(bot, user, "本人", "上门")
    home = await send(bot, user, "/log")
    assert "共 5 条，夜间 2 条" in home.text
    listing = await press(bot, user, home, "全部记录")
    view = await press(bot, user, listing, "#5")
    confirm = await press(bot, user, view, "删除")
    await press(bot, user, confirm, "确认删除这条")

    # the summary and the chart
    listing = await press(bot, user, await send(bot, user, "/log"), "全部记录")
    assert "共 4 条" in listing.text and "#5" not in listing.text
    summary = await press(bot, user, listing, "汇总")
    for shown in (
        "共 4 条，分布在 3 天",
        "（北京时间）：2 条",
        "最长连续 3 天（11-18 至 11-20）",
        "最多的一天 11-18：2 条",
        "父母 1、同事 1、领导 1、朋友 1",
        "电话 3、短信 1",
        "11-18 2、11-19 1、11-20 1",
    ):
        assert shown in summary.text, (shown, summary.text)
    picture = await press(bot, user, summary, "每天的图")
    assert picture.photo is not None and picture.photo.data[:8] == b"\x89PNG\r\n\x1a\n"
    assert "共 4 条" in picture.caption and "的 2 条" in picture.caption

    # the facts, every answer read back; the interest check from them
    facts = await send(bot, user, "/facts")
    question = await press(bot, user, facts, "开始填写")
    answers = [APP, None, None, "三千", "2100", "10月1日", "7天 3000", None, "0", "10月8日", "深圳", None]
    for i, answer in enumerate(answers):
        if answer is None:
            question = await press(bot, user, question, "不写名字" if i == len(answers) - 1 else "跳过")
        else:
            question = await send(bot, user, answer)
            assert "✔ 记下了" in question.text
    assert "已填 8/12 项" in question.text and APP in question.text
    check = await press(bot, user, question, "算一算利息")
    said = "\n".join(m.text for m in await act(bot, user, user.press(check, "按这些算")))
    assert "2,234.69%" in said and "12.00%" in said and "书面列明" in said

    status = await send(bot, user, "/status")
    assert "骚扰记录：4 条，其中夜间 2 条" in status.text and APP in status.text and "到手 2,100 元" in status.text

    # sealed at rest: nothing the victim typed is readable on disk
    await wal_checkpoint(storage, "PASSIVE")
    for marker in (APP, "MARKER-note-4410", "MARKER-coll-1234"):
        assert files_containing(data_dir, marker.encode()) == [], marker

    # the export: the timeline, the facts and the chart beside the evidence
    confirm = await send(bot, user, "/export")
    sent = await act(bot, user, user.press(confirm, "确认导出"))
    (zipped,) = [m for m in sent if m.document]
    files = zipfile.ZipFile(io.BytesIO(zipped.document.data))
    rows = list(csv.reader(io.StringIO(files.read(zh.msg("log_export_file")).decode("utf-8-sig"))))
    assert rows[0][:3] == ["序号", "时间（北京时间）", "是否夜间（22:00–08:00）"]
    body = rows[1:]
    assert [r[1] for r in body] == ["2026-11-18 07:30", "2026-11-18 15:00", "2026-11-19 23:00", "2026-11-20 15:30"]
    assert [r[2] for r in body] == ["是", "", "是", ""]
    assert body[2][3:5] == ["同事", "短信"] and body[2][8] == "E-001"
    assert body[1][6] == "'" + COLLECTOR and body[1][7] == NOTE, "a formula is shown as text"
    text = files.read(zh.msg("facts_export_file")).decode("utf-8")
    assert f"借款App或平台：{APP}" in text and "文书上的名字：＿＿＿＿" in text
    assert files.read(zh.msg("log_export_chart"))[:8] == b"\x89PNG\r\n\x1a\n"

    # /delete: none of it is left on disk
    confirm = await send(bot, user, "/delete")
    await act(bot, user, user.press(confirm, "确认删除"))
    await wal_checkpoint(storage)
    for marker in (APP, "MARKER-note-4410", "MARKER-coll-1234"):
        assert files_containing(data_dir, marker.encode()) == [], marker
    (records,) = await (await storage.db.execute("SELECT COUNT(*) FROM records")).fetchone()
    assert records == 0
    assert not list((data_dir / "vault").rglob("*.bin"))
    assert not fake.unanswered_callbacks()
