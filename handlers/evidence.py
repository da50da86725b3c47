"""Uploads in a private chat, at any node: stream, hash, encrypt, then commit as evidence.

The file is fetched and written to the vault *before* the update's transaction (a download can
take minutes and must not hold the one writer), then committed with the update. A redelivered
update is skipped before anything is downloaded.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from telegram import Message, Update
from telegram.error import BadRequest, NetworkError
from telegram.ext import Application, MessageHandler, filters

from flows.model import Event, FileProblem, UploadFailed
from handlers.chat import run
from handlers.context import ShouhuContext
from handlers.core import stage_upload
from storage.crypto import CHUNK_SIZE

log = logging.getLogger(__name__)

DOWNLOAD_ATTEMPTS = 3
KINDS = ("document", "photo", "voice", "audio", "video", "video_note")
UPLOADS = (
    filters.ChatType.PRIVATE
    & filters.UpdateType.MESSAGE
    & (filters.Document.ALL | filters.PHOTO | filters.VOICE | filters.AUDIO | filters.VIDEO | filters.VIDEO_NOTE)
)


def attachment(message: Message):
    """(kind, the file object, its MIME type, its file name) of an upload."""
    for kind in KINDS:
        media = getattr(message, kind)
        if media:
            if kind == "photo":
                return kind, media[-1], "image/jpeg", ""
            return kind, media, getattr(media, "mime_type", None) or "", getattr(media, "file_name", None) or ""
    return None


async def file_chunks(context: ShouhuContext, file_path: str) -> AsyncIterator[bytes]:
    """The file's bytes exactly as Telegram serves them, a chunk at a time."""
    local = Path(file_path)
    if (
        context.services.settings.local_api and local.is_absolute()
    ):  # a local Bot API server hands out paths on its disk
        with open(local, "rb") as f:
            while chunk := f.read(CHUNK_SIZE):
                yield chunk
        return
    # python-telegram-bot has already made file_path the full download URL (it holds the token)
    async with context.app.http.stream("GET", file_path) as response:
        response.raise_for_status()
        async for chunk in response.aiter_bytes(CHUNK_SIZE):
            yield chunk


async def on_upload(update: Update, context: ShouhuContext) -> None:
    message = update.message
    assert message is not None
    if await context.storage.is_handled(update.update_id):
        return
    found = attachment(message)
    assert found is not None  # UPLOADS lets only these kinds through
    kind, media, mime, filename = found
    event: Event
    caption = message.caption or ""
    language = update.effective_user.language_code if update.effective_user else None
    try:
        for attempt in range(1, DOWNLOAD_ATTEMPTS + 1):
            try:
                tg_file = await context.bot.get_file(media.file_id)
                event = await stage_upload(
                    context.services,
                    message.chat_id,
                    language,
                    file_chunks(context, tg_file.file_path or ""),
                    kind=kind,
                    mime=mime,
                    filename=filename,
                    caption=caption,
                    file_unique_id=media.file_unique_id,
                    message_date=message.date,
                )
                break
            except httpx.HTTPError as exc:  # a dropped connection or a 5xx: start the file again
                status = exc.response.status_code if isinstance(exc, httpx.HTTPStatusError) else 500
                if status < 500 or attempt == DOWNLOAD_ATTEMPTS:
                    raise
                log.warning("download failed (%s), trying again", type(exc).__name__)
                await asyncio.sleep(0.5 * attempt)
    except BadRequest as exc:
        if "too big" not in str(exc).lower():
            raise
        event = UploadFailed(FileProblem.TOO_BIG, caption)
    except (httpx.HTTPError, NetworkError, OSError) as exc:
        log.warning("download failed: %s", type(exc).__name__)  # never the URL: it holds the token
        event = UploadFailed(FileProblem.DOWNLOAD_FAILED, caption)
    await run(update, context, event)  # removes the staged file if the update does not commit


def register(app: Application) -> None:
    app.add_handler(MessageHandler(UPLOADS, on_upload))
