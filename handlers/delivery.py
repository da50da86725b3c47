"""Replies -> what a person sees. The one place that decides what a reply means.

Each adapter (Telegram, the terminal) implements ``Output``: show a message (new, or edited in
place), stop a button's spinner with a few words, hand over a file, remove messages, and reach
the clinic's staff chat (a handoff the person consented to). Fetching
an original from the vault, building the export part by part and cleaning up after both live
here, once.

Two replies are settled only here, after the update's transaction: ``Deleted`` says "all
deleted" only once storage has wiped the old pages (else "finishing"), and ``Export`` waits
for one of the process's few export slots, saying so first (never silence).
"""

from __future__ import annotations

import asyncio
import errno
import logging
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from flows.content import Locale
from flows.feature import FileBody, Turn
from flows.features import export as export_feature
from flows.features import handoff
from flows.features.evidence import original_unavailable
from flows.features.export import Deleted, export_summary
from flows.model import (
    Case,
    DeleteMessages,
    EvidenceItem,
    Export,
    Message,
    Notify,
    Reply,
    SendDocument,
    SendImage,
    SendOriginal,
    SendSealed,
    StaffDelete,
    Toast,
    ToStaff,
    ToStaffFile,
)
from handlers.core import Services
from storage.base import CaseKey, ReadState
from storage.errors import NotEnoughDisk
from storage.export import export_parts, part_budget, restore, restore_original
from storage.export_text import ExportText

log = logging.getLogger(__name__)

MAX_EXPORTS = 2  # built at once: each takes a worker thread, disk for one part and upload bandwidth
MAX_EXPORTS_WAITING = 8  # beyond these, a person is asked to come back in a few minutes


class ExportSlots:
    """How many exports run at once in this process, and how many may wait for a turn."""

    def __init__(self, running: int = MAX_EXPORTS, waiting: int = MAX_EXPORTS_WAITING):
        self.running = running
        self.waiting_limit = waiting
        self.waiting = 0
        self._slots = asyncio.Semaphore(running)

    @property
    def free(self) -> bool:
        return not self._slots.locked()

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        self.waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self.waiting -= 1
        try:
            yield
        finally:
            self._slots.release()


_slots: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, ExportSlots] = weakref.WeakKeyDictionary()


def export_slots() -> ExportSlots:
    """This process's export slots (one event loop per process; tests get one per loop)."""
    loop = asyncio.get_running_loop()
    if loop not in _slots:
        _slots[loop] = ExportSlots(MAX_EXPORTS, MAX_EXPORTS_WAITING)
    return _slots[loop]


class StaffUnreachable(Exception):
    """The staff chat refused the bot (removed from it, a wrong id, none configured)."""


class Output(Protocol):
    async def toast(self, text: str) -> None: ...
    async def show(self, msg: Message) -> int | None:
        """Show ``msg``; the id of a new message (None if one was edited in place)."""

    async def send_file(self, path: Path, caption: str | None = None) -> int | None: ...
    async def send_image(self, data: bytes, name: str, caption: str | None = None) -> int | None: ...
    async def delete_messages(self, ids: tuple[int, ...]) -> None: ...
    async def notify(self, chat_id: int, msg: Message) -> int | None:
        """Send ``msg`` to another private chat; None if it did not arrive (blocked, gone)."""

    # the clinic's staff chat (a handoff): ids of what was sent there, None if the adapter has
    # no such chat (the terminal prints instead); StaffUnreachable if the chat refused
    async def to_staff(self, msg: Message) -> int | None: ...
    async def staff_file(self, path: Path, caption: str) -> int | None: ...
    async def staff_delete(self, ids: tuple[int, ...]) -> None: ...


async def deliver(services: Services, case: Case, replies: list[Reply], out: Output) -> None:
    """Show every reply in order. Message ids are recorded even if a later send fails, so
    /delete can remove what did arrive."""
    await out.toast(next((r.text for r in replies if isinstance(r, Toast)), ""))
    sent: list[int | None] = []
    staff = _Staff(services, case, out)
    try:
        for reply in replies:
            if isinstance(reply, Deleted) and services.storage.wipe_pending:
                sent.append(await out.show(Message(reply.finishing)))  # committed, not yet off the disk
            elif isinstance(reply, Message):
                sent.append(await out.show(reply))
            elif isinstance(reply, SendOriginal):
                sent.append(await _original(services, case, reply.no, out))
            elif isinstance(reply, Export):
                await _export(services, case, out, sent)
            elif isinstance(reply, SendDocument):
                sent.append(await _document(services, reply, out))
            elif isinstance(reply, SendImage):
                data = await asyncio.to_thread(reply.draw)
                sent.append(await out.send_image(data, reply.name, reply.caption or None))
            elif isinstance(reply, DeleteMessages):
                await out.delete_messages(reply.ids)
            elif isinstance(reply, ToStaff | ToStaffFile | StaffDelete):
                sent += await staff.deliver(reply)
            elif isinstance(reply, SendSealed):
                sent.append(await _sealed(services, case, reply, out))
            elif isinstance(reply, Notify):
                notice = await out.notify(reply.chat_id, reply.message)
                if notice is not None:  # their /delete removes it from their chat, too
                    await services.storage.record_sent(CaseKey(reply.chat_id), [notice])
    finally:
        ids = [i for i in sent if i is not None]
        if ids and not case.deleted:
            await services.storage.record_sent(CaseKey(case.chat_id), ids)


class _Staff:
    """What goes to the staff chat in one delivery. The id of each tracked message is kept in
    the case record as soon as it is sent (findable by a keyed hash of chat and message id), so
    a staff reply finds its case and a withdrawal finds what to delete. After one refusal the
    rest is not tried, and the person is told once."""

    def __init__(self, services: Services, case: Case, out: Output):
        self.services, self.case, self.out = services, case, out
        self.down = False

    async def deliver(self, reply: ToStaff | ToStaffFile | StaffDelete) -> list[int | None]:
        """Send one staff reply; what the person was shown instead, if anything (their ids)."""
        loc = self.services.content.locale(self.case.locale)
        if isinstance(reply, StaffDelete):
            if reply.ids:
                await self.out.staff_delete(reply.ids)
            return []
        if self.down:
            return []
        try:
            if isinstance(reply, ToStaff):
                mid = await self.out.to_staff(reply.message)
                if mid is not None and reply.track:
                    await self._remember({"id": mid})
                return [await self.out.show(reply.then)] if reply.then else []
            return await self._file(reply, loc)
        except StaffUnreachable:
            self.down = True
            return [await self.out.show(handoff.staff_unreachable(loc))]

    async def _file(self, reply: ToStaffFile, loc: Locale) -> list[int | None]:
        storage = self.services.storage
        async with storage.scratch() as folder:
            original = await restore_original(storage, self.case, ExportText.from_locale(loc), reply.no, folder)
            if original.path is None:
                return [await self.out.show(handoff.file_not_sent(loc, reply.no))]
            mid = await self.out.staff_file(original.path, reply.caption)
        if mid is not None:
            await self._remember({"id": mid, "no": reply.no})
        return []

    async def _remember(self, body: dict) -> None:
        chat = self.services.settings.staff_chat_id
        if chat is None or self.case.deleted:
            return
        async with self.services.storage.transaction() as tx:
            await tx.record_add(self.case, handoff.HANDOFF_MSG, body, lookup=handoff.staff_token(chat, body["id"]))


async def _original(services: Services, case: Case, no: int, out: Output) -> int | None:
    storage = services.storage
    loc = services.content.locale(case.locale)
    async with storage.scratch() as folder:  # removed whatever happens; swept at start after a crash
        original = await restore_original(storage, case, ExportText.from_locale(loc), no, folder)
        if original.path is None:
            return await out.show(
                original_unavailable(
                    loc, no, found=original.item is not None, unreadable=original.state is ReadState.UNREADABLE
                )
            )
        return await out.send_file(original.path)


async def _document(services: Services, doc: SendDocument, out: Output) -> int | None:
    """A file the engine made (a draft), made now off the loop and outside any transaction; on
    disk only inside storage's scratch folder, only while it is sent."""
    data = await asyncio.to_thread(doc.make)
    async with services.storage.scratch() as folder:
        path = folder / (Path(doc.name).name or "document")  # a name, never a path
        await asyncio.to_thread(path.write_bytes, data)
        return await out.send_file(path, doc.caption or None)


async def _sealed(services: Services, case: Case, reply: SendSealed, out: Output) -> int | None:
    """A vault file that is not an evidence item (a witness's upload), checked on its way out."""
    storage = services.storage
    loc = services.content.locale(case.locale)
    item = EvidenceItem(0, "document", None, 0, reply.sha256, datetime.now(UTC), "", blob_id=reply.blob_id)
    async with storage.scratch() as folder:
        dest = folder / Path(reply.name).name
        state = await asyncio.to_thread(restore, storage.vault, case.id, await storage.case_key(case), item, dest)
        if state is not ReadState.OK:
            return await out.show(Message(loc.msg("sealed_unavailable")))
        return await out.send_file(dest)


async def _export(services: Services, case: Case, out: Output, sent: list[int | None]) -> None:
    """Run the export, then forget it was under way: it ended with the parts sent or with a
    word to the person (an exception reaches the error handler, which apologises). Only a
    process that dies (or is cancelled) leaves the marker for the next start to report."""
    try:
        await _export_in_turn(services, case, out, sent)
    except Exception:
        await _export_ended(services, case)
        raise
    await _export_ended(services, case)


async def _export_ended(services: Services, case: Case) -> None:
    if case.deleted:
        return
    loc = services.content.locale(case.locale)
    try:
        async with services.storage.transaction() as tx:
            await export_feature.ended(Turn(services.engine, case, loc, tx))
    except Exception as exc:  # noqa: BLE001 - the export itself is done; at worst the person hears of it once more
        log.warning("an export ended, but its marker stays until the next start: %s", type(exc).__name__)


async def _export_in_turn(services: Services, case: Case, out: Output, sent: list[int | None]) -> None:
    loc = services.content.locale(case.locale)
    slots = export_slots()
    if not slots.free:
        if slots.waiting >= slots.waiting_limit:
            sent.append(await out.show(Message(loc.msg("export_busy_later"))))
            return
        sent.append(await out.show(Message(loc.msg("export_busy"))))
    async with slots.turn():
        await _export_now(services, case, out, sent)


async def _export_now(services: Services, case: Case, out: Output, sent: list[int | None]) -> None:
    storage = services.storage
    loc = services.content.locale(case.locale)
    found: dict[str, FileBody] = {}
    async with storage.transaction() as tx:  # what the features add (the harassment log, facts, drafts)
        turn = Turn(services.engine, case, loc, tx)
        for feature in services.engine.features:
            if feature.exports:
                found.update(await feature.exports(turn))
    extra = {name: await asyncio.to_thread(body) if callable(body) else body for name, body in found.items()}
    try:
        async with export_parts(
            storage, case, ExportText.from_locale(loc), budget=part_budget(services.settings.local_api), extra=extra
        ) as export:
            async for part in export:  # one part on disk at a time: handed over, then removed
                sent.append(
                    await out.send_file(part.path, loc.msg("export_part_caption", part=part.number, parts=part.total))
                )
    except NotEnoughDisk:
        sent.append(await out.show(Message(loc.msg("export_no_space"))))
        return
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        log.error("an export stopped: the disk of %s is full; its part was removed", storage.tmp_dir)
        sent.append(await out.show(Message(loc.msg("export_no_space"))))  # the disk filled up mid-part
        return
    s = export.summary
    for msg in export_summary(loc, s.count, s.parts, s.failed, s.unreadable):
        sent.append(await out.show(msg))
