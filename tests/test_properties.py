"""Property tests (#10, Proof): random sequences of events through the engine and a real
storage never raise, always answer, and every reply fits what Telegram accepts.

An example is a list of events: commands (known, unknown, with arguments), typed text
(anything, crisis words, very long), button presses (the buttons just shown, any button seen
earlier in the run, and any string at all), uploads (random bytes, or a failed one) and
restarts of the storage (closed and opened again from disk). After every event:

* nothing raised (a bug would reach the error handler: a person would get an apology);
* something visible came back (a message, a file or an export): never silence;
* every message parses as Telegram HTML (tests/fakes/html_parse.py, a port of Telegram's
  parser), is 1..4096 characters after parsing and trimming, its raw text <= 32 KiB; every
  keyboard has <= 100 buttons, <= 8 a row, labels not empty, callback data 1..64 bytes;
  a button's answer (toast) <= 200 characters.

The default run stays under ~20 s; ``SHOUHU_PROPERTY_EXAMPLES=500`` runs longer.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import Settings
from flows.engine import Engine
from flows.model import (
    Command,
    Export,
    FileProblem,
    Message,
    Press,
    SendOriginal,
    Text,
    Toast,
    ToStaff,
    UploadFailed,
)
from handlers.core import Services, apply, discard, stage_upload
from storage.sqlite import SqliteStorage
from tests.conftest import MASTER_KEY
from tests.fakes.html_parse import parse_html, trim_text
from tests.fakes.protocol import (
    MAX_BUTTONS_PER_ROW,
    MAX_BUTTONS_TOTAL,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CALLBACK_DATA_BYTES,
    MAX_RAW_TEXT_BYTES,
    MAX_TEXT_LENGTH,
)

EXAMPLES = int(os.environ.get("SHOUHU_PROPERTY_EXAMPLES", "60"))
CHAT = 4242
PREFIXES = ("s", "g", "h", "t", "c", "n", "el", "eo", "eg", "eh", "ec", "ed", "edy", "edn", "x", "d", "l", "zz")
KINDS = ("document", "photo", "voice", "audio", "video", "video_note")


def check_message(msg: Message) -> None:
    """What Telegram would refuse in a sendMessage or editMessageText."""
    assert len(msg.text.encode("utf-8", "surrogatepass")) <= MAX_RAW_TEXT_BYTES
    visible, entities = trim_text(*parse_html(msg.text))  # raises on HTML Telegram cannot parse
    assert 1 <= len(visible) <= MAX_TEXT_LENGTH, (len(visible), msg.text[:200])
    buttons = [b for row in msg.buttons for b in row]
    assert len(buttons) <= MAX_BUTTONS_TOTAL
    for row in msg.buttons:
        assert 1 <= len(row) <= MAX_BUTTONS_PER_ROW
        for b in row:
            assert b.label.strip(), msg.buttons
            assert 1 <= len(b.data.encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES, b.data


def check_replies(replies: list) -> None:
    assert replies, "silence"
    # a handoff sent to the staff chat shows the person its ``then`` once the staff chat took it
    seen = [r.then if isinstance(r, ToStaff) and r.then else r for r in replies]
    assert any(isinstance(r, (Message, SendOriginal, Export)) for r in seen), f"nothing visible: {replies}"
    for r in seen:
        if isinstance(r, Message):
            check_message(r)
        elif isinstance(r, Toast):
            assert len(r.text) <= MAX_CALLBACK_ANSWER_LENGTH


# ----------------------------------------------------------------------------- events


def words(zh) -> st.SearchStrategy[str]:
    crisis = list(zh.crisis_words)
    said = [p for node in zh.nodes.values() for p in node.phrases][:200] or ["怎么办"]
    return st.one_of(
        st.text(max_size=200),
        st.text(alphabet=st.sampled_from("<>&;/b 中文\n\"'"), min_size=1, max_size=60),  # HTML's specials
        st.sampled_from(crisis),
        st.sampled_from(said),
        st.builds(lambda w, n: w * n, st.sampled_from(said + ["<b>&", "💬"]), st.integers(100, 2000)),
    )


def events(zh, commands: list[str]) -> st.SearchStrategy[tuple]:
    forged = st.one_of(
        st.text(max_size=80),
        st.builds(
            lambda p, args: "|".join([p, *args]),
            st.sampled_from(PREFIXES),
            st.lists(st.one_of(st.integers(-5, 10**12).map(str), st.text(max_size=12)), max_size=3),
        ),
    )
    # weights by repetition: flows worth reaching (export, deletion, confirmations) need
    # commands followed by presses of what was just shown
    frequent = [*commands, "export", "delete", "evidence", "testimony"] * 2 + ["", "nonsense"]
    command = st.tuples(st.just("command"), st.sampled_from(frequent), st.text(max_size=40))
    shown = st.tuples(st.just("press_shown"), st.integers(0, 99))
    upload = st.tuples(st.just("upload"), st.binary(max_size=3000), st.sampled_from(KINDS), words(zh))
    then = st.tuples(st.just("command_then_press"), st.sampled_from(frequent), st.integers(0, 99))
    return st.one_of(
        command,
        then,
        then,
        st.just(("review",)),  # /evidence, then the first item: where captions and notes are shown back
        shown,
        shown,
        shown,
        st.tuples(st.just("text"), words(zh)),
        st.tuples(st.just("text"), words(zh)),
        upload,
        st.tuples(st.just("press_seen"), st.integers(0, 10_000)),
        st.tuples(st.just("press_forged"), forged),
        st.tuples(st.just("upload_failed"), st.sampled_from(list(FileProblem)), st.text(max_size=50)),
        st.tuples(st.just("restart")),
    )


class Run:
    """One example: a fresh data directory, the storage opened (and reopened) on it."""

    def __init__(self, content, data_dir: Path):
        self.content = content
        self.data_dir = data_dir
        self.engine = Engine(content, quota_bytes=64 * 1024)
        self.services: Services | None = None
        self.shown: list = []  # buttons of the last message that had any
        self.seen: list = []  # every button shown in this run

    async def open(self) -> None:
        storage = await SqliteStorage.open(self.data_dir, MASTER_KEY)
        self.services = Services(Settings(quota_bytes=64 * 1024), self.content, self.engine, storage)

    async def close(self) -> None:
        assert self.services is not None
        await self.services.storage.close()

    async def event(self, spec: tuple):
        assert self.services is not None
        kind = spec[0]
        if kind == "command":
            return Command(spec[1], spec[2])
        if kind == "text":
            return Text(spec[1])
        if kind == "press_shown":
            return Press(self.shown[spec[1] % len(self.shown)].data) if self.shown else Press("h|")
        if kind == "press_seen":
            return Press(self.seen[spec[1] % len(self.seen)].data) if self.seen else Press("h|")
        if kind == "press_forged":
            return Press(spec[1])
        if kind == "upload_failed":
            return UploadFailed(spec[1], spec[2])

        async def chunks():
            for i in range(0, len(spec[1]), 1000):
                yield spec[1][i : i + 1000]

        return await stage_upload(self.services, CHAT, "zh-hans", chunks(), kind=spec[2], mime="", caption=spec[3])

    async def step(self, spec: tuple) -> None:
        if spec[0] == "command_then_press":  # a command, then a button of what it showed
            await self.step(("command", spec[1], ""))
            await self.step(("press_shown", spec[2]))
            return
        if spec[0] == "review":
            await self.step(("command", "evidence", ""))
            await self.step(("press_shown", 0))
            return
        if spec[0] == "restart":
            await self.close()
            await self.open()
            return
        assert self.services is not None
        event = await self.event(spec)
        try:
            _, replies = await apply(self.services, CHAT, "zh-hans", event)
        except BaseException:
            discard(event)
            raise
        check_replies(replies)
        for r in replies:
            if isinstance(r, Message) and r.buttons:
                self.shown = [b for row in r.buttons for b in row]
                self.seen.extend(self.shown)


def test_any_sequence_of_events_is_answered_within_telegrams_limits(content, zh):
    commands = list(Engine(content).commands)

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(st.lists(events(zh, commands), min_size=1, max_size=30))
    def run(specs: list[tuple]) -> None:
        async def main() -> None:
            with tempfile.TemporaryDirectory() as tmp:
                r = Run(content, Path(tmp) / "data")
                await r.open()
                try:
                    for spec in specs:
                        await r.step(spec)
                finally:
                    await r.close()

        asyncio.run(main())

    run()
