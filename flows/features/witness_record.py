"""The witness feature's stored shapes, and the few rules about them both sides share.

Everything lives in the case record (``CaseStore.record_*``), sealed under a case key:

    witness_invite  in the VICTIM's case, found by its link's token (``lookup=``): who it is
                    for, the label the relative sees, its state, and (only while it is needed)
                    the relative's chat id
    witness_part    in the VICTIM's case: one thing the relative wrote or sent (an account, a
                    typed note, a file held by the record in the victim's vault). Drafts until
                    the relative submits; then the victim accepts (it becomes evidence and the
                    record goes) or declines (record and file go at once)
    witness_link    in the RELATIVE's case: "my files go to the invitation of this token"; no
                    words of theirs, only the pointer
    witness_tries   in any chat's case: failed link attempts, to slow down guessing

Nothing here talks to a person (``witness_victim``, ``witness_relative`` and ``witness_account``
do); the last section says how the shapes read, in content's words.
"""

from __future__ import annotations

import enum
import re
import secrets
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timedelta
from typing import Any

from flows.content import Locale
from flows.feature import Stale, Turn
from flows.model import Case
from flows.screens import local_time

INVITE = "witness_invite"
PART = "witness_part"
LINK = "witness_link"
TRIES = "witness_tries"

LINK_PREFIX = "w_"
TOKEN_BYTES = 24  # 192 bits, 32 URL-safe characters: "w_" + token fits Telegram's 64
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{32}$")
MAX_OPEN = 5  # open invitations per case
MAX_PARTS = 20  # things one relative may add to one invitation
MAX_NAME = 20  # characters of the name the relative sees
TRY_WINDOW = timedelta(hours=1)
MAX_TRIES = 5  # failed link attempts per chat per window; beyond them nothing is looked up

# who an invitation is for (the victim's choice) -> the label the relative sees by default
WHO = ("mother", "father", "spouse", "colleague", "friend", "other")
INVITER = {
    "mother": "family",
    "father": "family",
    "spouse": "family",
    "colleague": "colleague",
    "friend": "friend",
    "other": "other",
}
# the relative's guided account: ids; words in content (messages_witness.yaml)
RELATIONS = ("parents", "spouse", "children", "relatives", "colleagues", "friends", "other")  # flows.record's
CHANNELS = ("call", "sms", "im", "visit", "mail_or_posting", "other")  # as flows.record.CHANNELS
TIMES = ("once", "few", "many")


class State(str, enum.Enum):
    SENT = "sent"  # made, not opened yet
    OPENED = "opened"  # a relative opened it (and is bound to it)
    SUBMITTED = "submitted"  # the relative handed their parts over; the victim decides
    ACCEPTED = "accepted"  # every part decided, at least one accepted
    DECLINED = "declined"  # every part decided, none accepted
    REVOKED = "revoked"  # the victim ended it
    EXPIRED = "expired"  # its time ran out before it was submitted
    WITHDRAWN = "withdrawn"  # the relative deleted what they had sent


OPEN = (State.SENT, State.OPENED)  # the link still works
WAITING = (State.SENT, State.OPENED, State.SUBMITTED)  # the relative's chat id is still needed


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _iso(t: datetime | None) -> str | None:
    return t.isoformat() if t else None


def _time(s: str | None) -> datetime | None:
    return datetime.fromisoformat(s) if s else None


@dataclass
class Invitation:
    rid: int
    who: str
    name: str  # what the relative sees for the inviter ("" = the default label for ``who``)
    token: str  # to show the link again; sealed like the rest
    created: datetime
    expires: datetime
    state: State = State.SENT
    chat: int | None = None  # the relative's chat while it is needed (see WAITING)
    next_no: int = 1  # the next part's number within this invitation
    accepted: int = 0
    declined: int = 0

    def body(self) -> dict[str, Any]:
        out = asdict(self)
        del out["rid"]
        out.update(created=_iso(self.created), expires=_iso(self.expires), state=self.state.value)
        return out

    @classmethod
    def of(cls, rid: int, body: dict[str, Any]) -> Invitation:
        known = {f.name for f in fields(cls)} - {"rid"}
        values = {k: v for k, v in body.items() if k in known}
        values.update(created=_time(body["created"]), expires=_time(body["expires"]), state=State(body["state"]))
        return cls(rid, **values)

    def open_at(self, now: datetime) -> bool:
        """The link works and the relative may still add things."""
        return self.state in OPEN and now < self.expires


@dataclass
class Part:
    """One thing a relative wrote or sent. ``kind``: account (the guided questions), note
    (typed freely) or file (``file`` holds the staged file's receipt fields)."""

    rid: int
    invite: int
    no: int
    kind: str
    received: datetime
    submitted: bool = False
    text: str = ""  # a note's words, or an account's answer to "what did they say"
    relation: str = ""
    channel: str = ""
    times: str = ""
    when: str | None = None  # ISO, read from what they typed (flows.parse)
    approximate: bool = False
    file: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        out = asdict(self)
        del out["rid"]
        out["received"] = _iso(self.received)
        return out

    @classmethod
    def of(cls, rid: int, body: dict[str, Any]) -> Part:
        known = {f.name for f in fields(cls)} - {"rid"}
        values = {k: v for k, v in body.items() if k in known}
        values["received"] = _time(body["received"])
        return cls(rid, **values)

    @property
    def size(self) -> int:
        return int(self.file.get("size", 0)) if self.kind == "file" else len(self.text.encode("utf-8"))

    @property
    def empty(self) -> bool:
        return not (self.text or self.relation or self.channel or self.times or self.when or self.file)


@dataclass
class Link:
    rid: int
    token: str
    active: bool = True  # this chat's files go to the invitation now
    account: int | None = None  # the account part being written

    def body(self) -> dict[str, Any]:
        return {"token": self.token, "active": self.active, "account": self.account}


# ----------------------------------------------------------------------------- reading and writing


async def invitations(turn: Turn, case: Case | None = None) -> list[Invitation]:
    case = case or turn.case
    return [
        await settle(turn, case, Invitation.of(rid, body)) for rid, body in await turn.store.record_list(case, INVITE)
    ]


async def invitation(turn: Turn, rid: int, case: Case | None = None) -> Invitation:
    case = case or turn.case
    body = await turn.store.record_get(case, INVITE, rid)
    if body is None:
        raise Stale(rid)
    return await settle(turn, case, Invitation.of(rid, body))


async def save(turn: Turn, case: Case, inv: Invitation) -> None:
    await turn.store.record_put(case, INVITE, inv.rid, inv.body())


async def parts(turn: Turn, case: Case, invite: int | None = None) -> list[Part]:
    found = [Part.of(rid, body) for rid, body in await turn.store.record_list(case, PART)]
    return [p for p in found if invite is None or p.invite == invite]


async def part(turn: Turn, case: Case, rid: int) -> Part:
    body = await turn.store.record_get(case, PART, rid)
    if body is None:
        raise Stale(rid)
    return Part.of(rid, body)


async def put_part(turn: Turn, case: Case, p: Part) -> None:
    await turn.store.record_put(case, PART, p.rid, p.body())


async def settle(turn: Turn, case: Case, inv: Invitation) -> Invitation:
    """Bring an invitation up to date, lazily (nothing runs on a timer): past its time, an open
    one expires, its drafts are deleted and the relative's chat id forgotten; a submitted one
    whose parts are all decided is closed, and the chat id forgotten too."""
    changed = False
    if inv.state in OPEN and turn.now >= inv.expires:
        for p in await parts(turn, case, inv.rid):
            await turn.store.record_delete(case, PART, p.rid)
        inv.state, inv.chat, changed = State.EXPIRED, None, True
    elif inv.state is State.SUBMITTED and not await parts(turn, case, inv.rid):
        inv.state = State.ACCEPTED if inv.accepted else State.DECLINED
        inv.chat, changed = None, True
    if changed:
        await save(turn, case, inv)
    return inv


async def links(turn: Turn) -> list[Link]:
    return [
        Link(rid, body["token"], bool(body.get("active")), body.get("account"))
        for rid, body in await turn.store.record_list(turn.case, LINK)
    ]


async def put_link(turn: Turn, link: Link) -> None:
    await turn.store.record_put(turn.case, LINK, link.rid, link.body())


# ----------------------------------------------------------------------------- guessing


async def may_try(turn: Turn) -> bool:
    """False once this chat has failed MAX_TRIES times within TRY_WINDOW: then no token is even
    looked up (a 192-bit token cannot be guessed; this only keeps a script from trying)."""
    found = await turn.store.record_get(turn.case, TRIES, 1)
    if not found:
        return True
    since = _time(found.get("since"))
    return since is None or turn.now - since >= TRY_WINDOW or int(found.get("n", 0)) < MAX_TRIES


async def failed_try(turn: Turn) -> None:
    found = await turn.store.record_get(turn.case, TRIES, 1)
    if found is None:
        await turn.store.record_add(turn.case, TRIES, {"since": _iso(turn.now), "n": 1})
        return
    since = _time(found.get("since"))
    if since is None or turn.now - since >= TRY_WINDOW:
        body = {"since": _iso(turn.now), "n": 1}
    else:
        body = {"since": found["since"], "n": int(found.get("n", 0)) + 1}
    await turn.store.record_put(turn.case, TRIES, 1, body)


# ----------------------------------------------------------------------------- how they read


def who_label(loc: Locale, inv: Invitation) -> str:
    return loc.msg(f"witness_who_{inv.who}")


def inviter_label(loc: Locale, inv: Invitation) -> str:
    """What the relative sees for the person who invited them: a name the victim chose, else a
    plain label by relation ("你的家人")."""
    return inv.name or loc.msg(f"witness_inviter_{INVITER.get(inv.who, 'other')}")


def day(loc: Locale, t: datetime) -> str:
    return local_time(loc, t, "%Y-%m-%d")


def source_line(loc: Locale, inv: Invitation) -> str:
    return loc.msg("witness_source", who=who_label(loc, inv), date=day(loc, inv.created))


def part_label(loc: Locale, p: Part) -> str:
    kind = loc.msg(f"evidence_kind_{p.file.get('kind', 'document')}") if p.kind == "file" else ""
    return loc.msg(f"witness_part_{p.kind}", no=p.no, kind=kind)


def account_fields(loc: Locale, p: Part) -> dict[str, str]:
    """An account's answers in words; what was skipped reads as 未填."""
    blank = loc.msg("witness_blank")
    when = local_time(loc, datetime.fromisoformat(p.when), "%Y-%m-%d %H:%M") if p.when else blank
    if p.when and p.approximate:
        when = loc.msg("witness_when_approximate", when=when)
    return {
        "relation": loc.msg(f"witness_rel_{p.relation}") if p.relation else blank,
        "when": when,
        "channel": loc.msg(f"witness_ch_{p.channel}") if p.channel else blank,
        "times": loc.msg(f"witness_times_{p.times}") if p.times else blank,
        "said": p.text or blank,
    }


def account_text(loc: Locale, inv: Invitation, p: Part) -> str:
    """A relative's account as the plain text that becomes the evidence item (a .txt file)."""
    if p.kind == "note":
        return loc.msg("witness_note_file", who=who_label(loc, inv), text=p.text)
    return loc.msg("witness_account_file", who=who_label(loc, inv), **account_fields(loc, p))
