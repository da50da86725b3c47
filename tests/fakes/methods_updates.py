"""How updates reach the bot by getUpdates long polling (webhooks: ``methods_webhook``).

The offset a bot passes to getUpdates is Telegram's only confirmation that the bot
received an update; ``FakeBotAPI.is_confirmed`` / ``wait_confirmed`` expose it to tests.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from typing import Any

from tests.fakes.call import Call, RequestContext, api_method
from tests.fakes.protocol import CONFLICT_GET_UPDATES, CONFLICT_WEBHOOK, NOT_DEFAULT_UPDATES, ApiError, bad
from tests.fakes.state import ServerState


@dataclasses.dataclass
class _Poll:
    """A getUpdates long poll in progress."""

    ctx: RequestContext
    aborted: bool = False
    waiting: bool = False  # found nothing to deliver and is waiting for an update


class UpdateMethods(ServerState):
    _active_poll: _Poll | None = None

    @api_method("getUpdates")
    def _api_get_updates(self, call: Call) -> list[dict[str, Any]]:
        """Long polling like Telegram.

        * ``offset`` confirms (forever drops) every update with a smaller id; a
          negative offset keeps only the last ``-offset`` updates.
        * waits up to ``timeout`` seconds for an update, answers as soon as one arrives.
        * a new getUpdates while another is still waiting terminates the *older* one
          with ``409 Conflict: terminated by other getUpdates request; ...``
          (exactly Telegram's behaviour; counted in :attr:`conflicts` unless the
          older client had already disconnected).
        * ``allowed_updates`` (JSON list) is remembered for later calls; ``[]``
          restores the default (everything except chat_member and reactions).
        """
        offset = call.get_int("offset", 0)
        limit = min(max(call.get_int("limit", 100), 1), 100)
        timeout = max(call.get_int("timeout", 0), 0)
        allowed: list[str] | None = None
        if call.has("allowed_updates"):
            allowed = call.get_json("allowed_updates", "can't parse allowed_updates JSON array")
            if not isinstance(allowed, list):
                raise bad("can't parse allowed_updates JSON array")
        deadline = time.monotonic() + timeout
        with self._cond:
            if self._webhook is not None:
                raise ApiError(409, CONFLICT_WEBHOOK)
            if allowed is not None:
                self._allowed_updates = frozenset(allowed) if allowed else None
            old = self._active_poll
            if old is not None:
                old.aborted = True
                if not old.ctx.client_gone():
                    self.conflicts += 1
                self._cond.notify_all()
            poll = _Poll(call.ctx)
            self._active_poll = poll
            try:
                self._confirm(offset)
                while True:
                    if poll.aborted:
                        raise ApiError(409, CONFLICT_GET_UPDATES)
                    ready = self._deliverable(limit)
                    remaining = deadline - time.monotonic()
                    if ready or remaining <= 0 or self._closing:
                        return ready
                    if not poll.waiting:
                        poll.waiting = True
                        self._polls_waiting += 1
                        self._notify()
                    # the 0.2 s is only how often a waiting poll looks whether its client left
                    self._cond.wait(min(remaining, 0.2))
                    if call.ctx.client_gone():
                        return []  # nobody is listening any more
            finally:
                if poll.waiting:
                    self._polls_waiting -= 1
                    self._notify()
                if self._active_poll is poll:
                    self._active_poll = None

    def _deliverable(self, limit: int) -> list[dict[str, Any]]:
        """Up to ``limit`` pending updates the bot asked for; the others are dropped for good."""
        ready = []
        dropped = False
        for update in list(self._updates):
            kind = next(k for k in update if k != "update_id")
            allowed = self._allowed_updates
            if (allowed is None and kind in NOT_DEFAULT_UPDATES) or (allowed is not None and kind not in allowed):
                self._updates.remove(update)
                self._dropped.add(update["update_id"])
                dropped = True
                continue
            ready.append(update)
            if len(ready) >= limit:
                break
        if dropped:
            self._notify()
        return copy.deepcopy(ready)
