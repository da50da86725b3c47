"""The terminal chat: the same engine, storage and delivery as on Telegram, typed instead of tapped.

Operators use it to preview content; anyone can use it to try the bot without a token.
Buttons are numbered: type the number (any other number, 0 or 3000, is sent as typed text). Commands work as on Telegram (/start, /status, ...).
Terminal-only lines start with a colon: ``:file PATH [caption]`` (also ``:photo``, ``:voice``,
``:audio``, ``:video``) sends a file as evidence; ``:q`` quits. Files the bot hands back
(originals, the export ZIP) are written to ./shouhu-out/ (readable by this user only), and
/delete removes them too. Nothing here imports python-telegram-bot.
"""

from __future__ import annotations

import asyncio
import html
import mimetypes
import os
import re
import shutil
import sys
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from config import Settings
from flows.content import Content
from flows.feature import Turn
from flows.features import export
from flows.model import Btn, Command, Event, Message, Press, Text
from handlers.core import Services, apply, build_engine, discard, open_storage, stage_upload
from handlers.delivery import deliver
from storage.base import CaseKey
from storage.crypto import CHUNK_SIZE

TERMINAL_CHAT_ID = 0  # never a Telegram user id
MAX_BUTTON_NUMBER = 99  # a larger number (or 0) is typed text: an amount such as 3000
KINDS = {":file": "document", ":photo": "photo", ":voice": "voice", ":audio": "audio", ":video": "video"}
TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(TAG.sub("", text))


class TerminalOutput:
    """Shows messages as text with numbered buttons; files are copied into ``out_dir``."""

    def __init__(self, term: Terminal):
        self.term = term

    async def toast(self, text: str) -> None:
        if text:
            self.term.say(f"  · {plain(text)}")

    async def show(self, msg: Message) -> int | None:
        self.term.show(msg)
        return None

    async def send_file(self, path: Path, caption: str | None = None) -> int | None:
        self.term.keep(path.name, lambda dest: shutil.copyfile(path, dest))
        return None

    async def send_image(self, data: bytes, name: str, caption: str | None = None) -> int | None:
        if caption:
            self.term.say(plain(caption))
        self.term.keep(name, lambda dest: dest.write_bytes(data))
        return None

    async def notify(self, chat_id: int, msg: Message) -> int | None:
        """The terminal is one chat: a notice meant for it is shown, one for another chat is not."""
        if chat_id == TERMINAL_CHAT_ID:
            self.term.show(msg)
        return None

    async def delete_messages(self, ids: tuple[int, ...]) -> None:
        removed = 0
        for name in sorted(self.term.written):
            path = self.term.out_dir / name
            if path.exists():
                path.unlink()
                removed += 1
        self.term.written.clear()
        self.term.say(plain(self.term.loc.msg("terminal_messages_removed", count=removed, path=self.term.out_dir)))

    async def to_staff(self, msg: Message) -> int | None:
        """No staff chat here: what would go there is printed, so an operator sees it."""
        self.term.say(plain(self.term.loc.msg("terminal_to_staff", text=plain(msg.text))))
        return None

    async def staff_file(self, path: Path, caption: str) -> int | None:
        self.term.say(plain(self.term.loc.msg("terminal_staff_file", name=path.name)))
        return None

    async def staff_delete(self, ids: tuple[int, ...]) -> None:
        self.term.say(plain(self.term.loc.msg("terminal_staff_delete", count=len(ids))))


class Terminal:
    def __init__(self, services: Services, out: TextIO, out_dir: Path):
        self.s = services
        self.out = out
        self.out_dir = out_dir
        self.buttons: list[Btn] = []
        self.loc = services.content.for_language(None)  # the terminal speaks the default locale
        self.commands = set(services.engine.commands)
        self.written: set[str] = set(self._earlier_files())

    def _earlier_files(self) -> list[str]:
        """Files an earlier session of this chat wrote (same names the bot gives them)."""
        if not self.out_dir.is_dir():
            return []
        return [
            p.name
            for p in self.out_dir.iterdir()
            if p.is_file() and (p.name.startswith("shouhu_") or re.match(r"E-\d{3,}_", p.name))
        ]

    def keep(self, name: str, write: Callable[[Path], object]) -> None:
        """A file the bot hands over, written into ``out_dir`` (this user only; /delete removes it)."""
        self.out_dir.mkdir(mode=0o700, exist_ok=True)
        dest = self.out_dir / name
        write(dest)
        os.chmod(dest, 0o600)
        self.written.add(dest.name)
        self.say(plain(self.loc.msg("terminal_file", path=dest)))

    def say(self, text: str = "") -> None:
        print(text, file=self.out, flush=True)

    def show(self, msg: Message) -> None:
        self.say()
        self.say(plain(msg.text))
        if msg.buttons:  # a message without buttons leaves the last numbered ones pressable
            self.buttons = [b for row in msg.buttons for b in row]
            for i, b in enumerate(self.buttons, start=1):
                self.say(f"  [{i}] {b.label}")

    async def event_for(self, line: str) -> Event | None:
        if line.isdigit() and self.buttons and 1 <= int(line) <= MAX_BUTTON_NUMBER:  # 0, 3000: an amount typed
            n = int(line)
            if not 1 <= n <= len(self.buttons):
                self.say(plain(self.loc.msg("terminal_pick", count=len(self.buttons))))
                return None
            return Press(self.buttons[n - 1].data)
        if line.startswith("/"):
            head, _, args = line.partition(" ")
            name = head[1:].lower()
            return Command(name, args.strip()) if name in self.commands else Command("")
        head = line.split(maxsplit=1)[0]
        if head in KINDS:
            return await self.upload(KINDS[head], line[len(head) :].strip())
        return Text(line)

    async def upload(self, kind: str, rest: str) -> Event | None:
        path_text, _, caption = rest.partition(" ")
        path = Path(path_text).expanduser()
        if not path.is_file():
            self.say(plain(self.loc.msg("terminal_no_file", path=path)))
            return None

        async def chunks() -> AsyncIterator[bytes]:
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK_SIZE):
                    yield chunk

        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return await stage_upload(
            self.s,
            TERMINAL_CHAT_ID,
            None,
            chunks(),
            kind=kind,
            mime=mime,
            filename=path.name,
            caption=caption,
            message_date=datetime.now(UTC),
        )

    async def begin(self) -> None:
        """Where this case left off (the start, if new), then, if the last session died while
        exporting, that it was cut off, with the button that builds it again (shown last, so
        its buttons are the numbered ones)."""
        await self.handle(Press("h|"))
        storage = self.s.storage
        async with storage.transaction() as tx:
            case = await tx.case(CaseKey(TERMINAL_CHAT_ID), self.loc.code, self.loc.start)
            loc = self.s.content.locale(case.locale)
            replies = await export.interrupted(Turn(self.s.engine, case, loc, tx))
        if replies:
            await deliver(self.s, case, replies, TerminalOutput(self))

    async def handle(self, event: Event) -> None:
        try:
            case, replies = await apply(self.s, TERMINAL_CHAT_ID, None, event)
        except BaseException:
            discard(event)
            raise
        await deliver(self.s, case, replies, TerminalOutput(self))


async def chat(settings: Settings, content: Content, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    storage = await open_storage(settings)
    services = Services(settings, content, build_engine(settings, content), storage)
    term = Terminal(services, out, Path("shouhu-out"))
    try:
        term.say(plain(term.loc.msg("terminal_intro", name=term.loc.name)))
        await term.begin()  # where this case left off, and an export the last session did not finish
        while True:
            line = await asyncio.to_thread(stdin.readline)
            if not line:
                break
            line = line.strip()
            if line in (":q", ":quit", "/quit"):
                break
            if not line:
                continue
            event = await term.event_for(line)
            if event:
                await term.handle(event)
    finally:
        await storage.close()
    return 0
