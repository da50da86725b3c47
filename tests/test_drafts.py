"""Drafts on Telegram: a victim with facts, eight incidents and six evidence items receives four
.docx drafts, opens them (python-docx here) and finds the facts, the counts, every fingerprint
and a blank wherever a fact was skipped; an edited fact shows in the next run; the export holds
them too; nothing of them stays on disk."""

from __future__ import annotations

import hashlib
import io
import os
import re
import zipfile
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from docx import Document
from docx.oxml.ns import qn

from flows.filing import FILING, POLICE, Filing
from flows.record import FACTS, INCIDENT, Facts, Incident
from storage.base import CaseKey
from tests.conftest import settled

USER = 424242001
APP = "闪电借-marker"
COLLECTOR = "某某信息咨询有限公司"
STATION = "朝阳区某某派出所"
BLANK = "＿＿＿＿"
TITLES = ("投诉材料", "报案材料", "民事起诉状", "证据目录")


def docx_text(data: bytes) -> str:
    """Every word a reader sees: body paragraphs, tables (nested rows), headers and footers."""
    doc = Document(io.BytesIO(data))
    parts = ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in doc.element.body.iter(qn("w:p"))]
    for section in doc.sections:
        parts += [p.text for p in section.footer.paragraphs] + [p.text for p in section.header.paragraphs]
    return "\n".join(parts)


def runs_without_east_asian_font(data: bytes) -> int:
    doc = Document(io.BytesIO(data))
    missing = 0
    for run in doc.element.body.iter(qn("w:r")):
        fonts = run.find(f"{qn('w:rPr')}/{qn('w:rFonts')}")
        if fonts is None or not (fonts.get(qn("w:eastAsia")) or fonts.get(qn("w:eastAsiaTheme"))):
            missing += 1
    return missing


def facts(app: str = APP) -> Facts:
    return Facts(
        app=app,
        lender=None,  # skipped in the interview: the drafts must leave a blank
        collector_company=COLLECTOR,
        contract_amount=Decimal("5000"),
        received_amount=Decimal("3500"),
        paid_so_far=Decimal("1200"),
        city="北京市",
        name=None,
    )


def eight_incidents() -> list[Incident]:
    start = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)  # 20:00 in Beijing
    out = []
    for n in range(8):
        at = start + timedelta(days=n, hours=3 if n < 3 else 0)  # the first three at 23:00: night
        out.append(
            Incident(at, ("parents", "colleagues", "friends")[n % 3], ("call", "sms")[n % 2], collector="17100001111")
        )
    return out


async def add_record(app, **records) -> None:
    async with app.services.storage.transaction() as tx:
        case = await tx.case(CaseKey(USER), "zh-CN", "welcome")
        for kind, bodies in records.items():
            for body in bodies:
                if kind == FACTS and await tx.record_get(case, FACTS, 1) is not None:
                    await tx.record_put(case, FACTS, 1, body)
                else:
                    await tx.record_add(case, kind, body)


async def six_items(user) -> list[str]:
    hashes = []
    for n in range(6):
        data = f"截图 {n} 催收短信 {os.urandom(8).hex()}".encode()
        user.send_document(data, f"shot{n}.png", "image/png")
        (receipt,) = await user.wait_for_messages(1)
        user.press(receipt, ("短信截图", "亲友证言", "借款合同·账单")[n % 3])
        await user.wait_for_messages(1)
        hashes.append(hashlib.sha256(data).hexdigest())
    return hashes


async def drafts_of(user, message, button: str) -> tuple[dict[str, bytes], object]:
    user.press(message, button)
    msgs = await user.wait_for_messages(5, timeout=30)
    docs = {m.document.filename: m.document.data for m in msgs if m.document}
    (summary,) = [m for m in msgs if not m.document]
    return docs, summary


async def test_four_drafts_hold_the_facts_counts_hashes_and_blanks(bot, fake, data_dir):
    user = fake.user(USER, language_code="zh-hans")
    hashes = await six_items(user)
    await add_record(
        bot,
        **{
            FACTS: [facts().to_body()],
            INCIDENT: [i.to_body() for i in eight_incidents()],
            FILING: [Filing(POLICE, station=STATION, receipt=False, complete=True).to_body()],
        },
    )
    user.send("/drafts")
    (intro,) = await user.wait_for_messages(1)
    assert "骚扰记录 8 次（夜间 3 次）" in intro.text and "证据 6 件" in intro.text

    docs, summary = await drafts_of(user, intro, "📄 生成全部四份")
    assert len(docs) == 4
    assert all(name.endswith(".docx") for name in docs)
    assert sorted(t for t in TITLES for name in docs if name.startswith(t)) == sorted(TITLES)
    assert "8 次" in summary.text and "6 件" in summary.text and "🔄 重新生成" in summary.button_labels

    today = datetime.now(timezone(timedelta(hours=8)))
    made_on = f"{today.year}年{today.month}月{today.day}日"
    for name, data in docs.items():
        text = docx_text(data)
        for h in hashes:
            assert h in text, f"{name}: fingerprint {h[:12]}… missing"
        assert re.search(r"(共|等)8次", text), f"{name}: the number of incidents"
        assert re.search(r"夜间3次|其中3次在夜间", text), f"{name}: the night-time count"
        assert BLANK in text, f"{name}: no blank for the skipped facts"
        assert "本草稿由“守护”机器人" in text, f"{name}: the disclaimer"
        assert f"生成日期：{made_on}" in text, f"{name}: the date it was made"
        assert runs_without_east_asian_font(data) == 0, f"{name}: a run without an East Asian font"
        if not name.startswith("证据目录"):
            assert APP in text and COLLECTOR in text, name
            assert "5,000.00" in text and "3,500.00" in text, name
    complaint = docx_text(next(d for n, d in docs.items() if n.startswith("投诉材料")))
    assert f"放款机构（借款合同上的出借人）：{BLANK}" in complaint, "the lender was skipped: a blank, not a guess"
    assert f"姓名：{BLANK}" in complaint
    assert "父母3次" in complaint and "同事3次" in complaint and "朋友2次" in complaint
    police = docx_text(next(d for n, d in docs.items() if n.startswith("报案材料")))
    assert f"致：{STATION}" in police
    lawsuit = docx_text(next(d for n, d in docs.items() if n.startswith("民事起诉状")))
    assert f"名称：{BLANK}" in lawsuit, "defendant one (the lender) unknown"
    assert "接报案回执：否" in lawsuit

    # what stays on disk: the database and the sealed vault, never a draft
    assert not [p for p in data_dir.rglob("*") if p.suffix == ".docx"]
    assert not any((data_dir / "tmp").iterdir())

    # /stats counts drafts by a record per draft made (which, how often), never by their text
    async with bot.services.storage.transaction() as tx:
        case = await tx.case(CaseKey(USER), "zh-CN", "welcome")
        made = {b["draft"]: b["times"] for _, b in await tx.record_list(case, "draft")}
    assert made == {"complaint": 1, "police": 1, "lawsuit": 1, "evidence": 1}

    # the person corrects a fact; the next run says the new one
    await add_record(bot, **{FACTS: [facts(app="新名字贷-marker").to_body()]})
    docs, _ = await drafts_of(user, summary, "🔄 重新生成")
    for name, data in docs.items():
        text = docx_text(data)
        if not name.startswith("证据目录"):
            assert "新名字贷-marker" in text and APP not in text, name
    assert not fake.unexpected, fake.unexpected


async def test_one_draft_alone_and_the_export_holds_all_four(bot, fake):
    user = fake.user(USER, language_code="zh-hans")
    await six_items(user)
    await add_record(
        bot,
        **{
            INCIDENT: [i.to_body() for i in eight_incidents()[:2]],
            FILING: [Filing(POLICE, station=STATION, receipt=True, complete=True).to_body()],
        },
    )
    user.send("/drafts")
    (intro,) = await user.wait_for_messages(1)
    user.press(intro, "证据目录")
    msgs = await user.wait_for_messages(2, timeout=30)
    assert [m.document.filename.startswith("证据目录") for m in msgs if m.document] == [True]

    user.send("/export")
    (confirm,) = await user.wait_for_messages(1)
    user.press(confirm, "确认导出")
    msgs = await user.wait_for_messages(2, timeout=30)
    (part,) = [m for m in msgs if m.document]
    with zipfile.ZipFile(io.BytesIO(part.document.data)) as zf:
        drafts = [n for n in zf.namelist() if n.startswith("文书草稿/")]
        assert len(drafts) == 4 and all(n.endswith(".docx") for n in drafts)
        evidence_list = next(n for n in drafts if "证据目录" in n)
        assert "共2次" in docx_text(zf.read(evidence_list))
        filings = zf.read("投诉报案起诉记录.csv").decode("utf-8-sig")
        assert "报案" in filings and STATION in filings, "what was filed goes into the export too"
    assert not fake.unexpected, fake.unexpected


async def test_a_case_with_nothing_recorded_gets_blanks_not_inventions(bot, fake):
    user = fake.user(USER, language_code="zh-hans")
    user.send("/drafts")
    (intro,) = await user.wait_for_messages(1)
    assert "案件情况 0/10 项" in intro.text
    docs, summary = await drafts_of(user, intro, "📄 生成全部四份")
    assert "还有 10 项空着" in summary.text
    complaint = docx_text(next(d for n, d in docs.items() if n.startswith("投诉材料")))
    for label in ("借款平台（App）：", "放款机构（借款合同上的出借人）：", "催收机构：", "催收人员使用的号码："):
        assert f"{label}{BLANK}" in complaint, label
    assert f"催收人员联系本人及亲友的时间、次数和方式：{BLANK}" in complaint
    update = user.send("/status")
    (status,) = await user.wait_for_messages(1)
    assert "投诉、报案、起诉：还没有记录" in status.text
    await settled(bot, update)
    assert not fake.unexpected, fake.unexpected


async def test_an_english_speaker_gets_english_drafts_that_say_to_file_in_chinese(content, storage):
    """A document is made in the language the person chose, never in the template's default."""
    from config import Settings
    from flows.engine import Engine
    from flows.model import SendDocument
    from handlers.core import Services
    from tests.chat import EngineChat

    chat = EngineChat(Services(Settings(), content, Engine(content), storage), language="en")
    await chat.send("/drafts")
    assert "Drafts" in chat.last.text
    replies = await chat.click("📄 Make all four")
    docs = [r for r in replies if isinstance(r, SendDocument)]
    assert sorted(d.name.split(" (draft)")[0] for d in docs) == [
        "Civil complaint",
        "Complaint",
        "Evidence list",
        "Police report",
    ]
    for doc in docs:
        text = docx_text(doc.make())
        assert "Chinese offices take papers in Chinese" in text, doc.name
        assert "投诉材料" not in text and "报案材料" not in text, doc.name
