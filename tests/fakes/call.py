"""One Bot API call as the API methods see it, and the table that routes calls to them.

The HTTP layer turns a request (query string, form, JSON or multipart body) into a
:class:`Call`; every API method takes one and either returns the ``result`` or raises
:class:`~tests.fakes.protocol.ApiError`.  Parameters are read the way the Bot API
server reads them: everything arrives as a string, a missing value is ``""``.
"""

from __future__ import annotations

import dataclasses
import json
import select
import socket
from collections.abc import Callable
from typing import Any, TypeVar

from tests.fakes.protocol import bad

_METHOD_ATTRIBUTE = "_botapi_method"

F = TypeVar("F", bound=Callable[..., Any])


def api_method(name: str) -> Callable[[F], F]:
    """Mark a server method as the handler of the Bot API method ``name`` (e.g. ``"sendMessage"``)."""

    def mark(fn: F) -> F:
        setattr(fn, _METHOD_ATTRIBUTE, name)
        return fn

    return mark


def method_table(obj: object) -> dict[str, tuple[str, Callable[[Call], Any]]]:
    """``{lower-cased name: (canonical name, bound handler)}`` of every :func:`api_method` of ``obj``.

    Telegram matches method names case-insensitively; the canonical name is what the
    request log records.
    """
    table: dict[str, tuple[str, Callable[[Call], Any]]] = {}
    for klass in reversed(type(obj).__mro__):
        for attr, fn in vars(klass).items():
            name = getattr(fn, _METHOD_ATTRIBUTE, None)
            if name is not None:
                table[name.lower()] = (name, getattr(obj, attr))
    return table


@dataclasses.dataclass
class Upload:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str
    data: bytes


class RequestContext:
    """Lets a long-polling handler notice that its client went away."""

    def __init__(self, sock: socket.socket | None):
        self._sock = sock

    def client_gone(self) -> bool:
        if self._sock is None:
            return False
        try:
            readable, _, _ = select.select([self._sock], [], [], 0)
            if not readable:
                return False
            return self._sock.recv(1, socket.MSG_PEEK) == b""
        except (OSError, ValueError):
            return True


@dataclasses.dataclass
class Call:
    """The parameters and uploaded files of one call."""

    params: dict[str, str]
    files: dict[str, Upload] = dataclasses.field(default_factory=dict)
    ctx: RequestContext = dataclasses.field(default_factory=lambda: RequestContext(None))

    def get(self, name: str) -> str:
        return self.params.get(name, "")

    def has(self, name: str) -> bool:
        """True if the parameter is given and not blank."""
        return bool(self.params.get(name, "").strip())

    def get_int(self, name: str, default: int) -> int:
        raw = self.params.get(name, "").strip()
        if not raw:
            return default
        try:
            return int(raw)
        except ValueError:
            try:
                return int(float(raw))
            except ValueError:
                return default

    def get_bool(self, name: str) -> bool:
        return self.params.get(name, "").strip().lower() in ("true", "1")

    def message_id(self, name: str = "message_id") -> int:
        raw = self.params.get(name, "").strip()
        try:
            value = int(raw)
        except ValueError:
            value = 0
        if value <= 0:
            raise bad("message identifier is not specified")
        return value

    def get_json(self, name: str, error: str) -> Any:
        """A JSON-encoded parameter; ``error`` is Telegram's description when it does not parse."""
        try:
            return json.loads(self.params.get(name, ""))
        except ValueError:
            raise bad(error) from None

    def chat_id(self) -> int | None:
        """The numeric ``chat_id`` parameter, if there is one (for the request log)."""
        try:
            return int(self.params.get("chat_id", "").strip())
        except ValueError:
            return None
