"""The terminal chat: the same engine and storage as on Telegram, typed instead of tapped.

Operators use it to preview content; anyone can use it to try the bot without a token.
Buttons are numbered: type the number. Commands work as on Telegram (/start, /status, ...).
Terminal-only lines start with a colon: ``:file PATH [caption]`` (also ``:photo``, ``:voice``,
``:audio``, ``:video``) sends a file as evidence; ``:q`` quits. Files the bot hands back
(originals, the export ZIP) are written to ./shouhu-out/.
"""

from __future__ import annotations

import asyncio
import html
import mimetypes
import re
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import TextIO

from config import Settings
from flows.content import Content
from flows.model import Btn, Case, DeleteMessages, Event, Export, Message, SendOriginal, Toast
from handlers.app import build_engine
from handlers.core import Services, apply, stage_upload
from storage.crypto import CHUNK_SIZE
from storage.base import ReadState
from storage.errors import NotEnoughDisk
from storage.export import export_parts, restore_original
from storage.export_text import ExportText
from storage.factory import open_storage

TERMINAL_CHAT_ID = 0  # never a Telegram user id
KINDS = {":file": "document", ":photo": "photo", ":voice": "voice", ":audio": "audio", ":video": "video"}
TAG = re.compile(r"<[^>]+>")


def plain(text: str) -> str:
    return html.unescape(TAG.sub("", text))


class Terminal:
    def __init__(self, services: Services, out: TextIO, out_dir: Path):
        self.s = services
        self.out = out
        self.out_dir = out_dir
        self.buttons: list[Btn] = []
        self.loc = services.content.for_language(None)  # the terminal speaks the default locale

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
        if line.isdigit() and self.buttons:
            n = int(line)
            if not 1 <= n <= len(self.buttons):
                self.say(plain(self.loc.msg("terminal_pick", count=len(self.buttons))))
                return None
            return Event("button", self.buttons[n - 1].data)
        if line.startswith("/"):
            name = line.split()[0][1:].lower()
            from flows.engine import COMMANDS

            return Event("command", name if name in COMMANDS else "unknown")
        head = line.split(maxsplit=1)[0]
        if head in KINDS:
            return await self.upload(KINDS[head], line[len(head):].strip())
        return Event("text", line)

    async def upload(self, kind: str, rest: str) -> Event | None:
        path_text, _, caption = rest.partition(" ")
        path = Path(path_text).expanduser()
        if not path.is_file():
            self.say(plain(self.loc.msg("terminal_no_file", path=path)))
            return None
        async def chunks():
            with open(path, "rb") as f:
                while chunk := f.read(CHUNK_SIZE):
                    yield chunk

        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return await stage_upload(self.s, TERMINAL_CHAT_ID, None, chunks(), kind=kind, mime=mime, filename=path.name,
                                  caption=caption, message_date=datetime.now(timezone.utc))

    async def deliver(self, case: Case, replies) -> None:
        for r in replies:
            if isinstance(r, Toast) and r.text:
                self.say(f"  · {plain(r.text)}")
            elif isinstance(r, Message):
                self.show(r)
            elif isinstance(r, SendOriginal):
                await self.original(case, r.no)
            elif isinstance(r, Export):
                await self.export(case)
            elif isinstance(r, DeleteMessages):
                self.say(plain(self.loc.msg("terminal_messages_removed")))

    async def original(self, case: Case, no: int) -> None:
        self.out_dir.mkdir(exist_ok=True)
        text = ExportText.from_locale(self.s.content.locale(case.locale))
        original = await restore_original(self.s.storage, case, text, no, self.out_dir)
        if original.path is None:
            self.show(self.s.engine.original_unavailable(case.locale, no, found=original.item is not None,
                                                         unreadable=original.state is ReadState.UNREADABLE))
        else:
            self.say(plain(self.loc.msg("terminal_file", path=original.path)))

    async def export(self, case: Case) -> None:
        loc = self.s.content.locale(case.locale)
        self.out_dir.mkdir(exist_ok=True)
        try:
            async with export_parts(self.s.storage, case, ExportText.from_locale(loc)) as export:
                async for part in export:
                    dest = self.out_dir / part.name
                    shutil.move(part.path, dest)
                    self.say(plain(self.loc.msg("terminal_file", path=dest)))
        except NotEnoughDisk:
            self.show(Message(loc.msg("export_no_space")))
            return
        s = export.summary
        for msg in self.s.engine.export_summary(case.locale, s.count, s.parts, s.failed, s.unreadable):
            self.show(msg)

    async def handle(self, event: Event) -> Case:
        try:
            case, replies = await apply(self.s, TERMINAL_CHAT_ID, None, event)
        except BaseException:
            if event.staged:
                event.staged.path.unlink(missing_ok=True)
            raise
        await self.deliver(case, replies)
        return case


async def chat(settings: Settings, content: Content, stdin: TextIO = sys.stdin, out: TextIO = sys.stdout) -> int:
    services = Services(settings, content, build_engine(settings, content))
    services.storage = await open_storage(settings)
    term = Terminal(services, out, Path("shouhu-out"))
    try:
        term.say(plain(term.loc.msg("terminal_intro", name=term.loc.name)))
        await term.handle(Event("button", "h|"))  # where this case left off (the start, if new)
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
        await services.storage.close()
    return 0
