"""What a feature module is, and what its handlers receive.

A feature (navigation, evidence, export and deletion, language, ...) is one module in
``flows/features/`` that ends with a ``FEATURE = Feature(...)`` naming what it answers:

    commands   /name -> handler(turn)
    buttons    callback prefix -> Route(handler, argument types): "eo|3" -> handler(turn, 3)
    texts      an ``Awaiting.kind`` -> handler(turn, awaiting, text): typed text it asked for
    crisis_texts  the same, for text with crisis words (called after the crisis message; without
               one, such text is not used and the person is told so)
    steps_row  a row it adds to the list of steps (☰), which every step's navigation row opens
    on_delete  handler(turn) before the case is erased (/delete): what must go elsewhere first
    uploads    handler(turn, upload) for a file (one feature takes files)
    claim_uploads  handler(turn) -> UploadClaim | None: this feature takes the chat's files for now
               (the witness feature, for a relative helping someone), sealed under another case
    deep_links start parameter prefix -> handler(turn, rest): ``/start w_...`` -> handler(turn, "...")
    on_delete  handler(turn) -> replies, before the case is deleted (invitations ended, notices)
    messages   the content keys it formats, with their placeholders (``check`` verifies them)
    exports    files it adds to /export's ZIP;  status  what it adds to /status

The engine's core (flows/engine.py) only dispatches; adding a feature touches its module, its
content file and its tests, and one line in ``flows/features/__init__.py``.

Callback data is ``prefix|arg|arg``, ASCII, at most 64 bytes. The core parses the arguments by
the route's types before a handler runs: a malformed or forged payload never reaches feature
code. A handler that finds its button stale (an item deleted, content changed) raises
``Stale``; any other exception is a bug and goes to the error handler, never swallowed.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from flows.model import Awaiting, Btn, Case, CaseStore, Reply, Upload, UploadFailed

if TYPE_CHECKING:
    from flows.content import Locale
    from flows.engine import Engine

MAX_INT_ARG = 10**9  # item numbers and pages: anything larger is forged
ID_ARG = re.compile(r"^[A-Za-z0-9_.-]{1,40}$")


class Stale(Exception):
    """A button that no longer means anything (or never did): answered calmly, with where the
    user is. Raised by the core for malformed payloads and by handlers for vanished targets."""


@dataclass
class Turn:
    """One event being handled: the case (changed in place), its locale, the transaction's store."""

    engine: Engine
    case: Case
    loc: Locale
    store: CaseStore
    args: str = ""  # a command's arguments (a deep link's start parameter): never log them

    @property
    def quota_bytes(self) -> int:
        return self.engine.quota_bytes

    @property
    def now(self) -> datetime:
        """The engine's clock (aware, UTC); tests move it."""
        return self.engine.clock()

    def prepared(self, feature: str) -> Any:
        """What ``feature``'s ``prepare`` built for this locale at start."""
        return self.engine.prepared[feature][self.loc.code]


class Id(str):
    """An argument that names something (a node, a category, a locale): letters, digits, _ . -"""


def parse_arg(kind: type, raw: str) -> Any:
    if kind is int:
        if not raw.isascii() or not raw.isdigit() or int(raw) >= MAX_INT_ARG:
            raise Stale(raw)
        return int(raw)
    if kind is Id:
        if not ID_ARG.match(raw):
            raise Stale(raw)
        return raw
    raise TypeError(f"unsupported argument type {kind!r}")  # a bug in a feature's route table


Handler = Callable[..., Awaitable[list[Reply]]]
# A file a feature adds to the export: its bytes, or a function that makes them (a chart), called
# in a worker thread after the export's read transaction, so it never holds the write lock.
FileBody = bytes | Callable[[], bytes]


@dataclass(frozen=True)
class UploadClaim:
    """Who takes a chat's next file and whose vault it is sealed into. By default the evidence
    feature, into the chat's own case; a relative helping someone sends into that person's case
    (sealed under *their* key), taken by the witness feature. ``used`` is what already counts
    against ``case``'s quota."""

    case: Case
    used: int
    received: Callable[[Turn, Upload], Awaitable[list[Reply]]]
    failed: Callable[[Turn, UploadFailed], Awaitable[list[Reply]]]


@dataclass(frozen=True)
class Route:
    handler: Handler
    args: tuple[type, ...] = ()

    def call(self, turn: Turn, raw: list[str]) -> Awaitable[list[Reply]]:
        if len(raw) != len(self.args):
            raise Stale("arity")
        return self.handler(turn, *(parse_arg(k, r) for k, r in zip(self.args, raw)))


def messages(table: Mapping[str, str]) -> dict[str, frozenset[str]]:
    """``{"key": "placeholder placeholder"}`` -> ``{"key": frozenset(placeholders)}``."""
    return {k: frozenset(v.split()) for k, v in table.items()}


@dataclass(frozen=True)
class Feature:
    name: str
    commands: Mapping[str, Callable[[Turn], Awaitable[list[Reply]]]] = field(default_factory=dict)
    buttons: Mapping[str, Route] = field(default_factory=dict)
    texts: Mapping[str, Callable[[Turn, Awaiting, str], Awaitable[list[Reply]]]] = field(default_factory=dict)
    crisis_texts: Mapping[str, Callable[[Turn, Awaiting, str], Awaitable[list[Reply]]]] = field(default_factory=dict)
    steps_row: Callable[[Locale], tuple[Btn, ...]] | None = None
    on_delete: Callable[[Turn], Awaitable[list[Reply]]] | None = None
    uploads: Callable[[Turn, Upload], Awaitable[list[Reply]]] | None = None
    upload_failed: Callable[[Turn, UploadFailed], Awaitable[list[Reply]]] | None = None
    free_text: Callable[[Turn, str], Awaitable[list[Reply]]] | None = None
    claim_uploads: Callable[[Turn], Awaitable[UploadClaim | None]] | None = None
    deep_links: Mapping[str, Callable[[Turn, str], Awaitable[list[Reply]]]] = field(default_factory=dict)
    prepare: Callable[[Locale], Any] | None = None
    exports: Callable[[Turn], Awaitable[Mapping[str, FileBody]]] | None = None
    status: Callable[[Turn], Awaitable[str]] | None = None  # its line(s) in /status ("" for none)
    messages: Mapping[str, frozenset[str]] = field(default_factory=dict)
    plain_messages: frozenset[str] = frozenset()  # sent as plain text, not HTML
