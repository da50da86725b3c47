"""The Telegram application and the context its handlers get, typed.

Settings, content and the engine exist from the start; storage and the HTTP client for file
downloads are opened in ``post_init`` (they need the event loop) and then make up ``Services``.
python-telegram-bot builds ``bot_data`` with no arguments, so the services ride on an
``Application`` subclass instead (``ApplicationBuilder.application_class``), and handlers read
``context.services``, never a ``bot_data["x"]`` look-up.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

import httpx
from telegram.ext import Application, CallbackContext, ExtBot

from config import Settings
from flows.content import Content
from flows.engine import Engine
from handlers.core import Services, open_storage
from storage.base import Storage


class ShouhuApplication(Application):
    def __init__(self, *, settings: Settings, content: Content, engine: Engine, mode: str = "polling", **kwargs: Any):
        super().__init__(**kwargs)
        self.settings = settings
        self.content = content
        self.engine = engine
        self.mode = mode  # "polling" or "webhook", for the startup log line
        self.reload_lock = asyncio.Lock()  # one content reload at a time (handlers/reload.py)
        # started by post_init, cancelled by post_shutdown (handlers/app.py): storage upkeep on a
        # timer, the journal sweep (several workers), the report of exports a stop cut off
        self.background: list[asyncio.Task] = []
        self._services: Services | None = None
        self._http: httpx.AsyncClient | None = None

    def swap_content(self, content: Content, engine: Engine) -> None:
        """Serve ``content`` from the next update on (handlers/reload.py). No await in here, so
        every handler sees either the old pair or the new one, never half of each; an update
        already running keeps the ``Services`` it read."""
        self.content = content
        self.engine = engine
        if self._services is not None:
            self._services = replace(self._services, content=content, engine=engine)

    async def open_services(self) -> None:
        storage = await open_storage(self.settings)
        self._services = Services(self.settings, self.content, self.engine, storage)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=10.0))

    async def close_services(self) -> None:
        if self._http:
            await self._http.aclose()
        if self._services:
            await self._services.storage.close()
        self._services = self._http = None

    @property
    def services(self) -> Services:
        if self._services is None:
            raise RuntimeError("services are opened in post_init; nothing may run before it")
        return self._services

    @property
    def http(self) -> httpx.AsyncClient:
        if self._http is None:
            raise RuntimeError("the download client is opened in post_init")
        return self._http


class ShouhuContext(CallbackContext[ExtBot, dict, dict, dict]):
    """``context.services`` (settings, content, engine, storage), typed. One context serves all
    handler groups of one update; ``handled`` says its transaction has marked it handled."""

    handled = False

    @property
    def app(self) -> ShouhuApplication:
        assert isinstance(self.application, ShouhuApplication)
        return self.application

    @property
    def services(self) -> Services:
        return self.app.services

    @property
    def storage(self) -> Storage:
        return self.app.services.storage

    @property
    def engine(self) -> Engine:
        return self.app.engine
