"""Upkeep on a timer, not only at start: ``Storage.maintenance()`` every few minutes, so message
ids leave after 48 hours (what /privacy says), handled journal rows do not pile up, and a
deletion held up by another reader of the database (a backup, a shell) is wiped as soon as that
reader lets go (retried every few seconds meanwhile). A failure is logged and tried again; it
never stops the bot. Nothing here imports python-telegram-bot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from storage.base import Storage

log = logging.getLogger(__name__)

EVERY = 300.0  # seconds between two rounds
PENDING_EVERY = 5.0  # while a wipe is pending


async def upkeep(storage: Storage, every: float = EVERY, pending_every: float = PENDING_EVERY) -> None:
    while True:
        await asyncio.sleep(pending_every if storage.wipe_pending else every)
        try:
            report = await storage.maintenance()
        except Exception as exc:  # noqa: BLE001 - upkeep must outlive a bad moment (a full disk, a lock)
            log.warning("upkeep failed (%s); trying again later", type(exc).__name__)
            continue
        if report.pruned_messages or report.pruned_updates:
            log.info(
                "upkeep: forgot %d message id(s) and %d journal row(s)", report.pruned_messages, report.pruned_updates
            )


class Upkeep:
    """The running upkeep task of one application: ``start`` in post_init, ``stop`` first thing
    in post_shutdown (before storage closes)."""

    def __init__(self) -> None:
        self._task: asyncio.Task[None] | None = None

    def start(self, storage: Storage, every: float = EVERY, pending_every: float = PENDING_EVERY) -> None:
        self._task = asyncio.create_task(upkeep(storage, every, pending_every), name="shouhu-upkeep")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
