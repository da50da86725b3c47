"""One-time confirmations for what cannot be undone: delete everything, delete an item, export.

A confirmation button carries a nonce (``d|ok|<nonce>``). The nonce is kept in the case record
(kind ``confirm``, one record per action, sealed under the case key like every record) and is
consumed by the first press of that confirmation's confirm *or* cancel button. A button from
an older confirmation (cancelled, used, replaced by a newer one of the same action, or older
than ``TTL``) does nothing but a calm answer.

Why the case record and not the ``Case`` row: it is written in the same transaction as what
the press does (a press that rolls back leaves its nonce unused, one that commits has used
it), it is erased with the case, and it needs no new column or table.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import UTC, datetime, timedelta

from flows.feature import Turn

KIND = "confirm"
TTL = timedelta(minutes=30)  # a confirmation left this long is asked again
NONCE_BYTES = 6  # 8 characters of [A-Za-z0-9_-]: fits callback data beside any prefix and item


def now() -> datetime:
    return datetime.now(UTC)


async def _find(turn: Turn, action: str) -> tuple[int, dict] | None:
    for rid, body in await turn.store.record_list(turn.case, KIND):
        if body.get("action") == action:
            return rid, body
    return None


async def issue(turn: Turn, action: str, item: int | None = None) -> str:
    """A fresh nonce for ``action`` (on ``item``); any earlier one of the action stops working."""
    nonce = secrets.token_urlsafe(NONCE_BYTES)
    body = {"action": action, "item": item, "nonce": nonce, "at": now().isoformat()}
    found = await _find(turn, action)
    if found:
        await turn.store.record_put(turn.case, KIND, found[0], body)
    else:
        await turn.store.record_add(turn.case, KIND, body)
    return nonce


async def take(turn: Turn, action: str, nonce: str, item: int | None = None) -> bool:
    """True once, for the press that carries the current nonce of ``action`` (on ``item``),
    within ``TTL``; the nonce is consumed then. A wrong nonce changes nothing."""
    found = await _find(turn, action)
    if found is None:
        return False
    rid, body = found
    current = str(body.get("nonce") or "")
    if not current or not hmac.compare_digest(current.encode(), nonce.encode()) or body.get("item") != item:
        return False
    await turn.store.record_put(turn.case, KIND, rid, body | {"nonce": ""})
    try:
        issued = datetime.fromisoformat(str(body.get("at")))
    except ValueError:
        return False
    return now() - issued <= TTL
