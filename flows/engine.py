"""The engine's core: (case, event) -> replies. It dispatches; the features decide.

Pure enough to test without a network: it reads content, changes the ``Case`` it is given and
asks a ``CaseStore`` for evidence; it never talks to Telegram, never sleeps, never logs what a
victim wrote. Each feature (flows/features/) brings its commands, callback prefixes, the texts
it waits for and its content keys (see flows/feature.py); the core builds one table from them
at start, plus one transitions machine per loaded locale, shared by every case.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from transitions import Machine, MachineError

from flows.content import Content, Locale
from flows.feature import Feature, Route, Stale, Turn, UploadClaim
from flows.features import FEATURES
from flows.features.admin import relocate
from flows.features.navigation import unknown_command
from flows.listen import Crisis
from flows.model import (
    Awaiting,
    Case,
    CaseStore,
    Command,
    Event,
    FileProblem,
    Message,
    Press,
    Reply,
    Text,
    Toast,
    Upload,
    UploadFailed,
    said,
)
from flows.screens import MESSAGES as SCREEN_MESSAGES
from flows.screens import continue_row, render

log = logging.getLogger(__name__)

PUBLIC_DOWNLOAD_LIMIT_MB = 20
AFTER_CRISIS = "after_crisis"  # the next text after a crisis message gets a warm answer
PLACEHOLDER_BOT = "shouhu_bot"  # the bot's username until Telegram tells it (the terminal chat keeps it)
WITNESS_DAYS = 14  # how long a witness invitation stays open


def utc_now() -> datetime:
    return datetime.now(UTC)


class _Cursor:
    """The machine's one model: set to a case's node, a trigger applied, the new node read back.
    ``move`` is synchronous, so no two cases ever share it at once; adding a model per move
    instead cost more than half a millisecond (transitions binds every trigger to it)."""

    def __init__(self) -> None:
        self.state = ""


def build_machine(locale: Locale) -> Machine:
    """One machine for one loaded flow: states are nodes, triggers are buttons and step jumps."""
    transitions = []
    for node in locale.nodes.values():
        for row in node.buttons:
            for b in row:
                if b.go:
                    transitions.append({"trigger": f"to:{b.go}", "source": node.id, "dest": b.go})
    for st in locale.steps:
        transitions.append({"trigger": f"step:{st.n}", "source": "*", "dest": st.node})
    for nid in locale.nodes:  # free text understood as a question this node answers
        transitions.append({"trigger": f"jump:{nid}", "source": "*", "dest": nid})
    transitions.append({"trigger": "restart", "source": "*", "dest": locale.start})
    return Machine(
        model=_Cursor(),
        states=list(locale.nodes),
        transitions=transitions,
        initial=locale.start,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def _table(features: Iterable[Feature], pick: Callable[[Feature], Mapping]) -> dict:
    """Merge one kind of entry from every feature; two features claiming one name is a bug."""
    out: dict = {}
    for f in features:
        for name, value in pick(f).items():
            if name in out:
                raise ValueError(f"{f.name}: {name!r} is already taken by another feature")
            out[name] = value
    return out


def _one(features: Iterable[Feature], hook: str) -> Feature:
    found = [f for f in features if getattr(f, hook)]
    if len(found) != 1:
        raise ValueError(f"exactly one feature must provide {hook!r}, not {[f.name for f in found]}")
    return found[0]


def command_names(features: Iterable[Feature] = FEATURES) -> tuple[str, ...]:
    return tuple(name for f in features for name in f.commands)


def required_messages(
    features: Iterable[Feature] = FEATURES, extra: Mapping[str, frozenset[str]] = {}
) -> dict[str, frozenset[str]]:
    """Every content key the code formats, with its placeholders (for ``check``)."""
    out = dict(SCREEN_MESSAGES)
    for f in features:
        out.update(f.messages)
        out.update({f"command_{c}": frozenset() for c in f.commands})
    out.update(extra)
    return out


def code_tables(
    features: tuple[Feature, ...] = FEATURES,
) -> tuple[frozenset[str], dict[str, frozenset[str]], frozenset[str]]:
    """What the code asks of content: the command names buttons may call (``action:``), the
    message keys it formats with their placeholders, and the keys sent as plain text."""
    plain = frozenset(k for f in features for k in f.plain_messages)
    return frozenset(command_names(features)), required_messages(features), plain


class Engine:
    def __init__(
        self,
        content: Content,
        *,
        features: tuple[Feature, ...] = FEATURES,
        quota_bytes: int = 1024**3,
        download_limit_mb: int | None = PUBLIC_DOWNLOAD_LIMIT_MB,
        clock: Callable[[], datetime] = utc_now,
        bot_username: str = PLACEHOLDER_BOT,
        witness_days: int = WITNESS_DAYS,
    ):
        self.content = content
        self.quota_bytes = quota_bytes
        self.download_limit_mb = download_limit_mb
        self.clock = clock
        # links a person forwards (t.me/<bot_username>?start=...): the Telegram adapter sets it
        # from getMe once it knows it, before the first update
        self.bot_username = bot_username
        self.witness_days = witness_days
        self.features = features
        self.commands: dict[str, Callable[[Turn], Awaitable[list[Reply]]]] = _table(features, lambda f: f.commands)
        self.routes: dict[str, Route] = _table(features, lambda f: f.buttons)
        self.texts = _table(features, lambda f: f.texts)
        self.crisis_texts = _table(features, lambda f: f.crisis_texts)
        self.deep_links = _table(features, lambda f: f.deep_links)
        self.uploads = _one(features, "uploads")
        self.listening = _one(features, "free_text")
        self.machines = {code: build_machine(loc) for code, loc in content.locales.items()}
        self.crisis = {code: Crisis(loc.crisis_words, loc.crisis_exceptions) for code, loc in content.locales.items()}
        self.prepared: dict[str, dict[str, Any]] = {
            f.name: {code: f.prepare(loc) for code, loc in content.locales.items()} for f in features if f.prepare
        }
        # the step of each node that content before this one had and this one lacks (set by a
        # reload): a case found at such a node is moved to that step's start (flows/features/admin.py)
        self.former_steps: Mapping[str, Mapping[str, int]] = {}

    # ------------------------------------------------------------------ for adapters

    def command_menu(self) -> dict[str, list[tuple[str, str]]]:
        """Per locale, the (command, description) pairs Telegram shows in its "/" menu."""
        return {
            code: [(c, loc.msg(f"command_{c}")) for c in self.commands] for code, loc in self.content.locales.items()
        }

    def group_reply(self, language_code: str | None) -> Message:
        return Message(self.content.for_language(language_code).msg("group_chat"))

    def error_reply(self, locale_code: str | None) -> Message:
        return Message(self.content.locale(locale_code or self.content.default).msg("error"))

    # ------------------------------------------------------------------ the one entry point

    async def handle(self, case: Case, event: Event, store: CaseStore) -> list[Reply]:
        loc = self.content.locale(case.locale)
        if case.node not in loc.nodes:  # content changed under a user: the start of their step, and a note
            moved = relocate(case, loc, self.former_steps)
            loc = self.content.locale(case.locale)
            replies = await self._handle(case, event, store, loc)
            words = said(event)
            return replies if words and self.crisis[loc.code](words) else [moved, *replies]  # crisis comes alone
        return await self._handle(case, event, store, loc)

    async def _handle(self, case: Case, event: Event, store: CaseStore, loc: Locale) -> list[Reply]:
        turn = Turn(self, case, loc, store)
        words = said(event)
        if words and self.crisis[loc.code](words):
            return await self._crisis(turn, event)
        if isinstance(event, Command):
            case.awaiting = None  # any command leaves a text mode
            command = self.commands.get(event.name, unknown_command)
            turn.args = event.args
            return await command(turn)
        if isinstance(event, Press):
            return await self._press(turn, event.data)
        if isinstance(event, Text):
            return await self._text(turn, event.text)
        return await self._upload(turn, event)

    # ------------------------------------------------------------------ files

    async def upload_claim(self, case: Case, store: CaseStore) -> UploadClaim:
        """Who takes this chat's next file, and into whose vault it goes: a feature that claims
        the chat's files for now (a relative helping someone), else the evidence locker."""
        turn = Turn(self, case, self.content.locale(case.locale), store)
        for feature in self.features:
            if feature.claim_uploads and (claim := await feature.claim_uploads(turn)):
                return claim
        assert self.uploads.uploads is not None and self.uploads.upload_failed is not None
        return UploadClaim(case, await store.evidence_bytes(case), self.uploads.uploads, self.uploads.upload_failed)

    async def _upload(self, turn: Turn, event: Upload | UploadFailed) -> list[Reply]:
        claim = await self.upload_claim(turn.case, turn.store)
        if isinstance(event, UploadFailed):
            return await claim.failed(turn, event)
        if event.staged.case_id and event.staged.case_id != claim.case.id:
            # it was sealed for someone else (an invitation ended meanwhile): never file it elsewhere
            await turn.store.discard_staged(event.staged)
            return await claim.failed(turn, UploadFailed(FileProblem.DOWNLOAD_FAILED, event.staged.caption))
        return await claim.received(turn, event)

    def deep_link(self, param: str) -> Callable[[Turn], Awaitable[list[Reply]]] | None:
        """The feature's handler for a ``/start`` parameter (``w_...``), bound to its rest; None
        for a parameter no feature knows (the ordinary welcome then)."""
        for prefix, handler in self.deep_links.items():
            if param.startswith(prefix) and len(param) > len(prefix):
                rest = param[len(prefix) :]
                return lambda turn: handler(turn, rest)
        return None

    async def _crisis(self, turn: Turn, event: Event) -> list[Reply]:
        """Someone wrote that they cannot go on. The crisis message comes first and alone: no
        receipt, no category picker, no menu. What they wrote is not made evidence without
        asking (a file is kept, its words are not); the next thing they type gets a warm
        answer, unless they were writing their account (then it is saved as usual)."""
        loc, case = turn.loc, turn.case
        replies: list[Reply] = [Message(loc.crisis_text, continue_row(loc))]
        in_text_mode = bool(case.awaiting and case.awaiting.kind in self.texts)
        if isinstance(event, Upload):
            await self._upload(turn, replace(event, staged=replace(event.staged, caption="")))
            replies.append(Message(loc.msg("crisis_file_kept")))
        elif isinstance(event, UploadFailed):
            replies += await self._upload(turn, event)
        elif isinstance(event, Text) and in_text_mode and case.awaiting:
            after = self.crisis_texts.get(case.awaiting.kind)  # e.g. words for the staff, now that care came first
            replies += await after(turn, case.awaiting, event.text) if after else [Message(loc.msg("crisis_not_saved"))]
        if not in_text_mode:
            case.awaiting = Awaiting(AFTER_CRISIS)
        return replies

    async def _press(self, turn: Turn, data: str) -> list[Reply]:
        head, _, rest = data.partition("|")
        route = self.routes.get(head)
        try:
            if route is None:
                raise Stale(head)
            return await route.call(turn, rest.split("|") if rest else [])
        except Stale:  # content changed, the item is gone, or the payload was forged
            return [Toast(turn.loc.msg("stale_button")), render(turn.case, turn.loc)]

    async def _text(self, turn: Turn, text: str) -> list[Reply]:
        awaiting, turn.case.awaiting = turn.case.awaiting, None
        if awaiting and awaiting.kind == AFTER_CRISIS:
            return [Message(turn.loc.msg("crisis_followup"), continue_row(turn.loc))]
        handler = self.texts.get(awaiting.kind) if awaiting else None
        if handler is not None and awaiting is not None and text.strip():
            return await handler(turn, awaiting, text)
        return await self.free_text(turn, text)

    async def free_text(self, turn: Turn, text: str) -> list[Reply]:
        """Typed text nobody asked for: answered, never refused."""
        assert self.listening.free_text is not None
        return await self.listening.free_text(turn, text)

    # ------------------------------------------------------------------ the state machine

    def move(self, case: Case, trigger: str, source: str | None = None) -> bool:
        """Apply ``trigger`` to the case through the shared machine; False if it is not valid."""
        machine = self.machines.get(case.locale) or self.machines[self.content.default]
        start = source or case.node
        if start not in machine.states or trigger not in machine.events:
            return False
        (cursor,) = machine.models
        machine.set_state(start, model=cursor)
        try:
            cursor.trigger(trigger)  # type: ignore[attr-defined]  # added by transitions
        except MachineError:
            return False
        case.node = cursor.state
        return True
