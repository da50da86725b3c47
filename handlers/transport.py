"""The HTTP transport to the Bot API: one place that survives Telegram's bad moments.

429 Too Many Requests: wait ``retry_after`` seconds, then send again. 5xx and timeouts or
dropped connections: retry with exponential backoff. After the last attempt the error goes up
to the caller (and from there to the error handler, which apologises calmly). Every call goes
through here, polling included, so there is one retry policy and not one per call site.
Retrying a send after a timeout can, rarely, deliver a message twice; losing it is worse.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest

log = logging.getLogger(__name__)


class ResilientRequest(HTTPXRequest):
    def __init__(self, *args: Any, attempts: int = 5, backoff: float = 0.5, max_wait: float = 60.0, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.attempts = attempts
        self.backoff = backoff
        self.max_wait = max_wait
        # shown every successful answer's method and body (the journal keeps getUpdates' own JSON)
        self.observe: Callable[[str, bytes], None] | None = None
        # awaited before each request is sent the first time (polling: the journal's ``durable``)
        self.before_send: Callable[[], Awaitable[None]] | None = None

    async def do_request(  # type: ignore[override]  # passes the timeouts through unchanged
        self, url: str, method: str, request_data: Any = None, **timeouts: Any
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]  # the method name; the rest of the URL holds the token
        if self.before_send is not None:
            await self.before_send()
        for attempt in range(1, self.attempts + 1):
            last = attempt == self.attempts
            delay = min(self.backoff * 2 ** (attempt - 1), self.max_wait)
            try:
                code, payload = await super().do_request(url, method, request_data, **timeouts)
            except (TimedOut, NetworkError) as exc:
                if last:
                    raise
                log.warning("%s: %s, retrying in %.1fs", endpoint, type(exc).__name__, delay)
                await asyncio.sleep(delay)
                continue
            if code == 429 and not last:
                delay = min(self._retry_after(payload, delay), self.max_wait)
                log.warning("%s: rate limited, waiting %.1fs", endpoint, delay)
                await asyncio.sleep(delay)
                continue
            if code >= 500 and not last:
                log.warning("%s: server error %d, retrying in %.1fs", endpoint, code, delay)
                await asyncio.sleep(delay)
                continue
            if self.observe is not None and code == 200:
                self.observe(endpoint, payload)
            return code, payload
        raise AssertionError("unreachable")

    @staticmethod
    def _retry_after(payload: bytes, default: float) -> float:
        try:
            return float(json.loads(payload)["parameters"]["retry_after"])
        except (ValueError, KeyError, TypeError):
            return default
