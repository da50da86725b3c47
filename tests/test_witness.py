"""Witness invitations through the engine (no Telegram): the token, the limits, the guided
account, screens that fit a phone, and files that survive a restart or an invitation that ends
while they are on their way."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from config import ConfigError, Settings
from flows.content.limits import html_problems, label_width
from flows.engine import PLACEHOLDER_BOT, Engine
from flows.features.witness_record import INVITE, LINK, MAX_OPEN, PART, TOKEN_RE, new_token
from flows.model import Message, Notify, Press, SendSealed, Upload
from handlers.core import Services, stage_upload
from storage.base import CaseKey
from storage.sqlite import SqliteStorage as Storage
from tests.chat import EngineChat
from tests.conftest import MASTER_KEY

VICTIM, MOM = 11, 22
LINK_RE = re.compile(r"https://t\.me/(\w+)\?start=(w_[A-Za-z0-9_-]+)")


class Clock:
    def __init__(self) -> None:
        self.t = datetime(2026, 3, 6, 9, 30, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def services(content, storage, clock):
    return Services(Settings(), content, Engine(content, clock=clock), storage)


@pytest.fixture
def victim(services):
    return EngineChat(services, VICTIM)


@pytest.fixture
def mom(services):
    return EngineChat(services, MOM)


def messages_of(chat: EngineChat) -> list[Message]:
    return [r for r in chat.replies if isinstance(r, Message)]


async def invite(victim: EngineChat, zh, name: str | None = None) -> str:
    await victim.send("/witness")
    await victim.click(zh.msg("witness_btn_new"))
    await victim.click(zh.msg("witness_who_mother"))
    if name is None:
        await victim.click(zh.msg("witness_btn_no_name"))
    else:
        await victim.send(name)
    found = LINK_RE.search(victim.texts())
    assert found, victim.texts()
    return found.group(2)


async def consent(mom: EngineChat, zh, param: str) -> None:
    await mom.send(f"/start {param}")
    await mom.click(zh.msg("witness_btn_consent"))


async def upload(services: Services, chat_id: int, data: bytes, kind: str = "document"):
    async def chunks() -> AsyncIterator[bytes]:
        yield data

    return await stage_upload(services, chat_id, "zh", chunks(), kind=kind, mime="image/png", filename="s.png")


async def record_list(storage, chat_id: int, kind: str) -> list:
    async with storage.transaction() as tx:
        return await tx.record_list(await tx.case(CaseKey(chat_id), "zh-CN", "welcome"), kind)


async def test_the_link_fits_telegram_names_nothing_and_cannot_be_guessed(victim, zh):
    tokens = {new_token() for _ in range(1000)}
    assert len(tokens) == 1000 and all(TOKEN_RE.match(t) for t in tokens)
    assert all(len("w_" + t) <= 64 for t in tokens), "Telegram's start parameter holds 64 characters"
    param = await invite(victim, zh)
    assert LINK_RE.search(victim.texts()).group(1) == PLACEHOLDER_BOT, "the terminal chat's placeholder"
    assert len(param) == 34 and str(VICTIM) not in param and "mother" not in param


async def test_at_most_five_open_and_revoking_one_frees_a_place(victim, zh):
    for _ in range(MAX_OPEN):
        await invite(victim, zh)
    await victim.send("/witness")
    await victim.click(zh.msg("witness_btn_new"))
    assert victim.last.text == zh.msg("witness_too_many", max=MAX_OPEN)
    await victim.send("/witness")
    await victim.click(f"{zh.msg('witness_who_mother')} · {zh.msg('witness_state_sent')}")
    await victim.click(zh.msg("witness_btn_revoke"))
    await victim.click(zh.msg("witness_btn_revoke_yes"))
    await invite(victim, zh)


async def test_the_expiry_comes_from_settings(content, storage, clock, zh):
    assert Settings.from_env({"SHOUHU_WITNESS_DAYS": "3"}).witness_days == 3
    assert Settings.from_env({}).witness_days == 14
    with pytest.raises(ConfigError, match="SHOUHU_WITNESS_DAYS"):
        Settings.from_env({"SHOUHU_WITNESS_DAYS": "two weeks"})
    engine = Engine(content, clock=clock, witness_days=3)
    chat = EngineChat(Services(Settings(witness_days=3), content, engine, storage), VICTIM)
    await invite(chat, zh)
    assert "2026-03-09" in chat.texts(), "three days from 6 March"
    await chat.send("/witness")
    assert "3 天内有效" in chat.last.text


async def test_the_guided_account_reads_the_time_and_becomes_the_victims_evidence(services, victim, mom, zh, clock):
    param = await invite(victim, zh)
    await consent(mom, zh, param)
    await mom.click(zh.msg("witness_btn_account"))
    await mom.click(zh.msg("witness_rel_parents"))
    await mom.send("好几天前吧")
    assert mom.last.text == zh.msg("witness_when_unclear"), "what cannot be read is asked again, not guessed"
    await mom.send("昨晚11点")
    assert zh.msg("witness_when_saved", when="2026-03-05 23:00") in mom.texts()
    await mom.click(zh.msg("witness_ch_call"))
    await mom.click(zh.msg("witness_times_few"))
    await mom.send("说再不还钱就去单位闹 <b>")
    saved = mom.last.text
    assert "父母" in saved and "打电话" in saved and "2–5 次" in saved and "&lt;b&gt;" in saved
    await mom.click(zh.msg("witness_btn_submit"))
    await mom.click(zh.msg("witness_btn_submit_yes"))
    notice = next(r for r in mom.replies if isinstance(r, Notify))
    assert notice.chat_id == VICTIM

    await victim.do(Press(notice.message.buttons[0][0].data))
    await victim.click(zh.msg("witness_btn_accept"))
    assert "E-001" in victim.texts()
    storage = services.storage
    (stored,) = await storage.evidence_records(victim.case)
    assert stored.item.category == "witness" and stored.item.kind == "testimony"
    assert stored.item.caption == "来自：妈妈（邀请于 2026-03-06）"
    key = await storage.case_key(victim.case)
    text = b"".join(storage.vault.read(victim.case.id, key, stored.item.blob_id)).decode()
    for words in ("父母", "2026-03-05 23:00", "打电话", "2–5 次", "说再不还钱就去单位闹 <b>"):
        assert words in text, (words, text)
    assert "evidence_kit:witnesses" in victim.case.ticks, "the checklist item for relatives' statements"


async def test_the_relative_sees_the_name_the_victim_chose_and_nothing_else(victim, mom, zh):
    await victim.send("/witness")
    await victim.click(zh.msg("witness_btn_new"))
    await victim.click(zh.msg("witness_who_mother"))
    await victim.send("小" * 21)
    assert victim.last.text == zh.msg("witness_name_too_long", max=20)
    param = await invite(victim, zh, name="小明")
    await mom.send(f"/start {param}")
    seen = mom.texts()
    assert "小明" in seen and zh.msg("witness_who_mother") not in seen


async def test_the_victim_opening_their_own_link_is_told_to_forward_it(victim, zh, services):
    param = await invite(victim, zh)
    await victim.send(f"/start {param}")
    assert zh.msg("witness_own_link") in victim.texts()
    assert await record_list(services.storage, VICTIM, LINK) == []


async def test_a_relative_who_is_also_a_victim_keeps_their_own_case_apart(services, victim, mom, zh):
    await consent(mom, zh, await invite(victim, zh))
    await mom.click(zh.msg("witness_btn_own_case"))
    assert mom.case.node == zh.start
    await mom.do(await upload(services, MOM, b"mom's own evidence"))
    assert "E-001" in mom.texts(), "her own case, her own evidence"
    await mom.send("/witness")
    await mom.click(zh.msg("witness_btn_helping"))
    await mom.do(await upload(services, MOM, b"for the victim"))
    assert "#1" in mom.texts()
    assert len(await record_list(services.storage, VICTIM, PART)) == 1
    assert len(await services.storage.evidence(mom.case)) == 1 and await services.storage.evidence(victim.case) == []


async def test_screens_fit_a_phone_and_buttons_fit_telegram(services, victim, mom, zh):
    seen: list[Message] = []

    async def walk(chat: EngineChat, action) -> None:
        await action
        seen.extend(messages_of(chat))
        seen.extend(r.message for r in chat.replies if isinstance(r, Notify))

    param = await invite(victim, zh)
    seen.extend(messages_of(victim))
    await walk(mom, mom.send(f"/start {param}"))
    await walk(mom, mom.click(zh.msg("witness_btn_consent")))
    await walk(mom, mom.click(zh.msg("witness_btn_account")))
    await walk(mom, mom.click(zh.msg("witness_rel_other")))
    await walk(mom, mom.click(zh.msg("witness_btn_skip")))
    await walk(mom, mom.click(zh.msg("witness_ch_mail_or_posting")))
    await walk(mom, mom.click(zh.msg("witness_times_many")))
    await walk(mom, mom.send("他们说" + "很难听的话" * 60))
    for i in range(6):
        await walk(mom, mom.do(await upload(services, MOM, b"shot %d" % i)))
    await walk(mom, mom.click(zh.msg("witness_btn_home")))
    await walk(mom, mom.click(zh.msg("witness_btn_review")))
    await walk(mom, mom.click(zh.msg("btn_next_page")))
    await walk(mom, mom.click(zh.msg("witness_btn_home")))
    await walk(mom, mom.click(zh.msg("witness_btn_rights")))
    await walk(mom, mom.click(zh.msg("btn_law")))
    await walk(mom, mom.click(zh.msg("witness_btn_home")))
    await walk(mom, mom.click(zh.msg("witness_btn_submit")))
    await walk(mom, mom.click(zh.msg("witness_btn_submit_yes")))
    await walk(victim, victim.send("/witness"))
    await walk(victim, victim.click(zh.msg("witness_who_mother")))
    await walk(victim, victim.click(zh.msg("witness_btn_parts")))
    await walk(victim, victim.click("说明 #1"))
    assert len(seen) > 25
    for msg in seen:
        problems, visible = html_problems(msg.text)
        assert not problems, (problems, msg.text)
        buttons = [b for row in msg.buttons for b in row]
        assert len(buttons) <= 8, msg
        assert all(len(b.data.encode()) <= 64 and label_width(b.label) <= 30 for b in buttons), msg
        assert visible <= 600, (visible, msg.text)


async def test_a_waiting_file_survives_a_restart(content, data_dir, clock, zh):
    storage = await Storage.open(data_dir, MASTER_KEY)
    services = Services(Settings(), content, Engine(content, clock=clock), storage)
    victim, mom = EngineChat(services, VICTIM), EngineChat(services, MOM)
    await consent(mom, zh, await invite(victim, zh))
    await mom.do(await upload(services, MOM, b"held by a record, not yet evidence"))
    await storage.close()

    storage = await Storage.open(data_dir, MASTER_KEY)  # the sweep at start keeps what a record holds
    try:
        services = Services(Settings(), content, Engine(content, clock=clock), storage)
        victim, mom = EngineChat(services, VICTIM), EngineChat(services, MOM)
        await mom.send("/witness")
        await mom.click(zh.msg("witness_btn_helping"))
        await mom.click(zh.msg("witness_btn_submit"))
        await mom.click(zh.msg("witness_btn_submit_yes"))
        await victim.send("/witness")
        await victim.click(zh.msg("witness_who_mother"))
        await victim.click(zh.msg("witness_btn_parts"))
        await victim.click("#1")
        assert any(isinstance(r, SendSealed) for r in victim.replies)
        await victim.click(zh.msg("witness_btn_accept"))
        (item,) = await storage.evidence(victim.case)
        key = await storage.case_key(victim.case)
        assert storage.vault.check(victim.case.id, key, item.blob_id, item.sha256).value == "ok"
    finally:
        await storage.close()


async def test_a_file_on_its_way_when_the_invitation_ends_is_kept_nowhere(services, victim, mom, zh, data_dir):
    await consent(mom, zh, await invite(victim, zh))
    staged = await upload(services, MOM, b"staged into the victim's vault")
    assert isinstance(staged, Upload) and staged.staged.case_id != mom.case.id
    await victim.send("/witness")
    await victim.click(zh.msg("witness_who_mother"))
    await victim.click(zh.msg("witness_btn_revoke"))
    await victim.click(zh.msg("witness_btn_revoke_yes"))
    await mom.do(staged)
    assert "刚才没能" in mom.texts() or zh.msg("witness_file_not_kept") in mom.texts()
    assert not list((data_dir / "vault").rglob("*.bin"))
    assert await services.storage.evidence(mom.case) == []


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_an_accept_that_fails_keeps_the_part_and_its_file(services, victim, mom, zh, data_dir, monkeypatch):
    from storage.sqlite_tx import SqliteTx

    await consent(mom, zh, await invite(victim, zh))
    await mom.do(await upload(services, MOM, b"must not be lost"))
    await mom.click(zh.msg("witness_btn_submit"))
    await mom.click(zh.msg("witness_btn_submit_yes"))
    await victim.send("/witness")
    await victim.click(zh.msg("witness_who_mother"))
    await victim.click(zh.msg("witness_btn_parts"))
    await victim.click("#1")
    view = victim.last

    async def broken(self, case, no, category):
        raise RuntimeError("disk trouble")

    monkeypatch.setattr(SqliteTx, "evidence_set_category", broken)
    with pytest.raises(RuntimeError):
        await victim.click(zh.msg("witness_btn_accept"), view)
    monkeypatch.undo()
    assert len(await record_list(services.storage, VICTIM, PART)) == 1
    assert len(list((data_dir / "vault").rglob("*.bin"))) == 1, "the rollback left the part's file alone"
    await victim.click(zh.msg("witness_btn_accept"), view)
    assert "E-001" in victim.texts()
    assert await record_list(services.storage, VICTIM, PART) == []
    ((_, body),) = await record_list(services.storage, VICTIM, INVITE)
    assert body["state"] == "accepted" and body["chat"] is None


async def test_the_relative_can_write_while_in_crisis_and_nothing_is_saved(victim, mom, zh, services):
    await consent(mom, zh, await invite(victim, zh))
    word = zh.crisis_words[0]
    await mom.send(f"我{word}")
    assert zh.crisis_text in mom.texts() and zh.msg("crisis_not_saved") in mom.texts()
    assert await record_list(services.storage, VICTIM, PART) == []
    await mom.send("他们在电话里骂我")
    assert "#1" in mom.texts(), "still writing for the victim afterwards"


@pytest.mark.backends("sqlite")  # reads the vault folder and the SQLite file directly
async def test_waiting_parts_count_against_the_victims_space(content, storage, clock, zh, data_dir):
    services = Services(Settings(quota_bytes=1000), content, Engine(content, clock=clock, quota_bytes=1000), storage)
    victim, mom = EngineChat(services, VICTIM), EngineChat(services, MOM)
    await victim.do(await upload(services, VICTIM, b"v" * 600))
    await consent(mom, zh, await invite(victim, zh))
    await mom.do(await upload(services, MOM, b"m" * 300))
    assert "#1" in mom.texts()
    await mom.do(await upload(services, MOM, b"n" * 200))  # 600 + 300 waiting + 200 > 1000
    assert mom.last.text == zh.msg("witness_quota_full") and "/export" not in mom.last.text
    assert len(list((data_dir / "vault").rglob("*.bin"))) == 2
