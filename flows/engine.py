"""The engine: (case, event) -> replies, over one transitions machine per loaded flow.

Pure enough to test without a network: it reads content, changes the ``Case`` it is given and
asks a ``CaseStore`` for evidence; it never talks to Telegram, never sleeps, never logs what a
victim wrote.

Callback data (<= 64 bytes, ASCII, self-describing; it survives restarts and content reloads
because it names nodes and items by their ids, never by position):

    g|<src>|<dst>   follow a content button from node src to node dst
    s|<n>           jump to step n (1..5)
    t|<node>|<item> tick or untick a checklist item shown under node
    a|<action>      an action from content (testimony, evidence, export, delete, status, help, privacy)
    h|              show where I am
    c|<no>|<cat>    set the category of evidence item no        n|<no>   write a note for it
    el|<page>       list evidence, page n                       eo|<no>  open item
    eg|<no>         send the original back                      eh|<no>  full SHA-256
    ec|<no>         choose a new category                       ed|<no>  ask to delete  edy|<no> delete
    x|ok  x|no      confirm / cancel the export                 d|ok d|no confirm / cancel deletion
"""

from __future__ import annotations

import logging
from datetime import timedelta, timezone

from transitions import Machine, MachineError

from flows.content import Content, Locale, Node
from flows.model import (
    Btn, Case, CaseStore, DeleteMessages, Event, EvidenceItem, Export, Message, Reply,
    SendOriginal, Toast,
)

log = logging.getLogger(__name__)

PUBLIC_DOWNLOAD_LIMIT_MB = 20
PAGE_SIZE = 8
NOTE_PREVIEW = 1000  # characters of a note shown in an item's view (all of it is in the export)
FAILED_SHOWN = 100  # damaged items named in one message
BEIJING = timezone(timedelta(hours=8))
COMMANDS = ("start", "help", "status", "evidence", "export", "delete", "privacy", "testimony")


class _Cursor:
    """The model a case becomes while one event is applied (then it is removed again)."""

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
    transitions.append({"trigger": "restart", "source": "*", "dest": locale.start})
    return Machine(
        model=None,
        states=list(locale.nodes),
        transitions=transitions,
        initial=locale.start,
        auto_transitions=False,
        ignore_invalid_triggers=False,
    )


def human_size(n: float) -> str:
    if n < 1024:
        return f"{n:.0f} B"
    for unit in ("KB", "MB", "GB"):
        n /= 1024
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}"


class Engine:
    def __init__(self, content: Content, *, quota_bytes: int = 1024**3, download_limit_mb: int | None = PUBLIC_DOWNLOAD_LIMIT_MB):
        self.content = content
        self.quota_bytes = quota_bytes
        self.download_limit_mb = download_limit_mb
        self.machines = {code: build_machine(loc) for code, loc in content.locales.items()}

    # ------------------------------------------------------------------ entry points

    def command_menu(self) -> dict[str, list[tuple[str, str]]]:
        """Per locale, the (command, description) pairs Telegram shows in its "/" menu."""
        return {
            code: [(c, loc.msg(f"command_{c}")) for c in COMMANDS]
            for code, loc in self.content.locales.items()
        }

    def group_reply(self, language_code: str | None) -> Message:
        return Message(self.content.for_language(language_code).msg("group_chat"))

    def error_reply(self, locale_code: str | None) -> Message:
        return Message(self.content.locale(locale_code or self.content.default).msg("error"))

    async def handle(self, case: Case, event: Event, store: CaseStore) -> list[Reply]:
        loc = self.content.locale(case.locale)
        if case.node not in loc.nodes:  # content changed under a user: take them to the start
            case.node = loc.start
        replies: list[Reply] = []
        said = event.said or (event.value if event.kind == "text" else "")
        if said and loc.is_crisis(said):
            replies.append(Message(loc.crisis_text, self._continue(loc)))
            if event.kind == "text" and not case.awaiting:
                return replies  # no "I did not expect text" after someone said they are in danger
        if event.kind == "command":
            replies += await self._command(case, loc, event.value, store)
        elif event.kind == "button":
            replies += await self._button(case, loc, event.value, store)
        elif event.kind == "text":
            replies += await self._text(case, loc, event.value, store)
        elif event.kind == "file" and event.staged:
            replies += await self._file(case, loc, event, store)
        elif event.kind == "file_error":
            replies.append(Message(self._file_error(loc, event.value).text, self._continue(loc)))
        return replies

    # ------------------------------------------------------------------ rendering

    def render(self, case: Case, loc: Locale, node: Node | None = None, *, edit: bool = False) -> Message:
        node = node or loc.nodes[case.node]
        parts = [node.text.strip()]
        if node.law:
            lines = [loc.msg("law_header")]
            for ref in node.law:
                f = loc.law[ref]
                lines.append(loc.messages["law_line"].format(text=f.text, source=f.source, as_of=f.as_of))
            lines.append(loc.msg("disclaimer"))
            parts.append("\n".join(lines))
        rows: list[tuple[Btn, ...]] = []
        if node.checklist:
            parts.append(loc.msg("checklist_hint"))
            for item in loc.checklists[node.checklist].items:
                mark = "☑" if f"{node.checklist}:{item.id}" in case.ticks else "☐"
                rows.append((Btn(f"{mark} {item.text}", f"t|{node.id}|{item.id}"),))
        for row in node.buttons:
            rows.append(tuple(
                Btn(b.label, f"g|{node.id}|{b.go}" if b.go else f"a|{b.action}") for b in row
            ))
        if node.nav:
            rows.append(tuple(Btn(st.short, f"s|{st.n}") for st in loc.steps))
        return Message("\n\n".join(parts), tuple(rows), edit)

    def _aside(self, case: Case, loc: Locale, text: str) -> Message:
        """One message for something the flow did not expect: a word, and the buttons of where
        the user is (what they can do now), without repeating the whole node."""
        return Message(text, self.render(case, loc).buttons)

    def _continue(self, loc: Locale) -> tuple[tuple[Btn, ...], ...]:
        return ((Btn(loc.msg("btn_continue"), "h|"),),)

    def status(self, case: Case, loc: Locale, evidence_count: int) -> Message:
        current = loc.nodes[case.node].step
        lines = [loc.msg("status_header")]
        for st in loc.steps:
            lists = {n.checklist for n in loc.nodes.values() if n.step == st.n and n.checklist}
            total = sum(len(loc.checklists[c].items) for c in lists)
            done = sum(1 for c in lists for it in loc.checklists[c].items if f"{c}:{it.id}" in case.ticks)
            here = loc.msg("status_here") if current == st.n else ""
            lines.append(loc.msg("status_line", n=st.n, title=st.title, done=done, total=total, here=here))
        lines.append(loc.msg("status_evidence", count=evidence_count))
        return Message("\n".join(lines), self._continue(loc))

    # ------------------------------------------------------------------ commands and actions

    async def _command(self, case: Case, loc: Locale, name: str, store: CaseStore) -> list[Reply]:
        if name == "start":
            case.awaiting = None
            self._move(case, "restart")
            return [self.render(case, loc)]
        if name in ("help", "privacy"):
            return [Message(loc.msg(name), self._continue(loc))]
        if name == "status":
            return [self.status(case, loc, await store.evidence_count(case))]
        if name == "evidence":
            return [await self._evidence_list(case, loc, store, 1)]
        if name == "testimony":
            case.awaiting = "testimony"
            return [Message(loc.msg("evidence_testimony_prompt"))]
        if name == "export":
            if not await store.evidence_count(case):
                return [Message(loc.msg("export_empty"), self._continue(loc))]
            return [Message(loc.msg("export_confirm"), ((
                Btn(loc.msg("btn_confirm_export"), "x|ok"), Btn(loc.msg("btn_cancel"), "x|no")),))]
        if name == "delete":
            return [Message(loc.msg("delete_confirm"), ((
                Btn(loc.msg("btn_confirm_delete"), "d|ok"), Btn(loc.msg("btn_cancel"), "d|no")),))]
        return [self._aside(case, loc, loc.msg("unknown_command"))]

    def _move(self, case: Case, trigger: str, source: str | None = None) -> bool:
        """Apply ``trigger`` to the case through the shared machine; False if it is not valid."""
        machine = self.machines[case.locale] if case.locale in self.machines else self.machines[self.content.default]
        cursor = _Cursor()
        start = source or case.node
        if start not in machine.states:
            return False
        machine.add_model(cursor, initial=start)
        try:
            cursor.trigger(trigger)
        except (MachineError, AttributeError, ValueError):
            return False
        finally:
            machine.remove_model(cursor)
        case.node = cursor.state
        return True

    # ------------------------------------------------------------------ buttons

    async def _button(self, case: Case, loc: Locale, data: str, store: CaseStore) -> list[Reply]:
        head, _, rest = data.partition("|")
        args = rest.split("|") if rest else []
        try:
            handler = {
                "g": self._go, "s": self._step, "t": self._tick, "a": self._action, "h": self._here,
                "c": self._set_category, "n": self._ask_note, "el": self._page, "eo": self._open,
                "eg": self._get, "eh": self._hash, "ec": self._choose_category, "ed": self._ask_delete_item,
                "edy": self._delete_item, "x": self._export, "d": self._delete,
            }[head]
            replies = await handler(case, loc, args, store)
        except (KeyError, ValueError, IndexError):
            replies = None
        if replies is None:  # stale (content changed, item gone) or forged
            return [Toast(loc.msg("stale_button")), self.render(case, loc)]
        return replies

    async def _go(self, case, loc, args, store):
        src, dst = args
        if not self._move(case, f"to:{dst}", source=src):
            return None
        case.awaiting = None
        return [Toast(""), self.render(case, loc)]

    async def _step(self, case, loc, args, store):
        if not self._move(case, f"step:{int(args[0])}"):
            return None
        case.awaiting = None
        return [Toast(""), self.render(case, loc)]

    async def _here(self, case, loc, args, store):
        return [Toast(""), self.render(case, loc)]

    async def _tick(self, case, loc, args, store):
        node = loc.nodes[args[0]]
        item = args[1]
        if not node.checklist or item not in {i.id for i in loc.checklists[node.checklist].items}:
            return None
        key = f"{node.checklist}:{item}"
        case.ticks ^= {key}
        return [Toast(""), self.render(case, loc, node, edit=True)]

    async def _action(self, case, loc, args, store):
        name = args[0]
        if name not in COMMANDS:
            return None
        return [Toast("")] + await self._command(case, loc, name, store)

    # ------------------------------------------------------------------ evidence

    def _item_text(self, loc: Locale, item: EvidenceItem) -> dict:
        cat = loc.category(item.category)
        return {
            "no": item.label,
            "kind": loc.msg(f"evidence_kind_{item.kind}"),
            "category": cat.label if cat else loc.msg("evidence_uncategorised"),
            "size": human_size(item.size),
            "time_utc": item.received_at.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S"),
            "time_beijing": item.received_at.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S"),
            "sha_short": item.sha256[:16] + "…",
        }

    def _category_buttons(self, loc: Locale, no: int) -> tuple[tuple[Btn, ...], ...]:
        cats = [Btn(c.label, f"c|{no}|{c.id}") for c in loc.categories]
        return tuple(tuple(cats[i:i + 2]) for i in range(0, len(cats), 2))

    def receipt(self, loc: Locale, item: EvidenceItem) -> Message:
        return Message(loc.msg("evidence_receipt", **self._item_text(loc, item)), self._category_buttons(loc, item.no))

    async def _file(self, case: Case, loc: Locale, event: Event, store: CaseStore) -> list[Reply]:
        staged = event.staged
        item, duplicate = await store.evidence_add(case, staged)
        if duplicate:
            return [Message(loc.msg("evidence_duplicate", no=item.label), self._continue(loc))]
        replies: list[Reply] = [self.receipt(loc, item)]
        if staged.kind == "photo":
            replies.append(Message(loc.msg("evidence_photo_hint")))
        return replies

    def _file_error(self, loc: Locale, reason: str) -> Message:
        if reason == "too_big":
            return Message(loc.msg("evidence_too_big", limit_mb=self.download_limit_mb or PUBLIC_DOWNLOAD_LIMIT_MB))
        if reason == "quota_full":
            return Message(loc.msg("evidence_quota_full", quota_mb=self.quota_bytes // (1024 * 1024)))
        if reason == "empty":
            return Message(loc.msg("evidence_empty"))
        return Message(loc.msg("evidence_download_failed"))

    async def _text(self, case: Case, loc: Locale, text: str, store: CaseStore) -> list[Reply]:
        awaiting, case.awaiting = case.awaiting, None
        if awaiting == "testimony" and text.strip():
            item, duplicate = await store.evidence_add_text(case, text)
            if duplicate:
                return [Message(loc.msg("evidence_duplicate", no=item.label), self._continue(loc))]
            return [Message(loc.msg("evidence_testimony_saved", no=item.label)), self.receipt(loc, item)]
        if awaiting and awaiting.startswith("note:") and text.strip():
            no = int(awaiting[5:])
            if not await store.evidence_set_note(case, no, text.strip()):
                return [Message(loc.msg("evidence_not_found", no=f"E-{no:03d}")), self.render(case, loc)]
            return [Message(loc.msg("evidence_note_saved", no=f"E-{no:03d}"), self._continue(loc))]
        return [self._aside(case, loc, loc.msg("unexpected_text", title=loc.nodes[case.node].title))]

    async def _item(self, case, store, args) -> EvidenceItem | None:
        return await store.evidence_get(case, int(args[0]))

    async def _set_category(self, case, loc, args, store):
        no, cat = int(args[0]), args[1]
        category = loc.category(cat)
        if category is None or not await store.evidence_set_category(case, no, cat):
            return None
        label = f"E-{no:03d}"
        return [Toast(category.label), Message(loc.msg("evidence_category_saved", no=label, category=category.label), ((
            Btn(loc.msg("btn_add_note"), f"n|{no}"), Btn(loc.msg("btn_skip_note"), "h|")),))]

    async def _ask_note(self, case, loc, args, store):
        item = await self._item(case, store, args)
        if item is None:
            return None
        case.awaiting = f"note:{item.no}"
        return [Toast(""), Message(loc.msg("evidence_note_prompt", no=item.label))]

    async def _evidence_list(self, case: Case, loc: Locale, store: CaseStore, page: int, *, edit: bool = False) -> Message:
        count = await store.evidence_count(case)
        if not count:
            return Message(loc.msg("evidence_list_empty"), self._continue(loc), edit)
        pages = (count + PAGE_SIZE - 1) // PAGE_SIZE
        page = min(max(page, 1), pages)
        items = await store.evidence_page(case, (page - 1) * PAGE_SIZE, PAGE_SIZE)
        lines = [loc.msg("evidence_list_header", count=count, page=page, pages=pages)]
        rows: list[tuple[Btn, ...]] = []
        for it in items:
            t = self._item_text(loc, it)
            lines.append(loc.msg("evidence_list_line", no=t["no"], category=t["category"], date=t["time_beijing"][:10],
                                 size=t["size"], sha_short=t["sha_short"]))
            rows.append((Btn(f"{t['no']} {t['category']}", f"eo|{it.no}"),))
        nav = []
        if page > 1:
            nav.append(Btn(loc.msg("btn_prev_page"), f"el|{page - 1}"))
        if page < pages:
            nav.append(Btn(loc.msg("btn_next_page"), f"el|{page + 1}"))
        if nav:
            rows.append(tuple(nav))
        rows.extend(self._continue(loc))
        return Message("\n".join(lines), tuple(rows), edit)

    async def _page(self, case, loc, args, store):
        return [Toast(""), await self._evidence_list(case, loc, store, int(args[0]), edit=True)]

    async def _open(self, case, loc, args, store):
        item = await self._item(case, store, args)
        if item is None:
            return [Toast(""), Message(loc.msg("evidence_not_found", no=f"E-{int(args[0]):03d}"), self._continue(loc))]
        t = self._item_text(loc, item)
        note = item.note or loc.msg("evidence_no_note")
        if len(note) > NOTE_PREVIEW:  # a long note would push the message past Telegram's limit
            note = note[:NOTE_PREVIEW] + "…"
        n = item.no
        return [Toast(""), Message(loc.msg("evidence_item", note=note, **t), (
            (Btn(loc.msg("btn_get_original"), f"eg|{n}"), Btn(loc.msg("btn_full_hash"), f"eh|{n}")),
            (Btn(loc.msg("btn_change_category"), f"ec|{n}"), Btn(loc.msg("btn_edit_note"), f"n|{n}")),
            (Btn(loc.msg("btn_delete_item"), f"ed|{n}"), Btn(loc.msg("btn_back_to_list"), "el|1")),
        ))]

    async def _get(self, case, loc, args, store):
        item = await self._item(case, store, args)
        return None if item is None else [Toast(""), SendOriginal(item.no)]

    async def _hash(self, case, loc, args, store):
        item = await self._item(case, store, args)
        return None if item is None else [Toast(""), Message(loc.msg("evidence_full_hash", no=item.label, sha=item.sha256))]

    async def _choose_category(self, case, loc, args, store):
        item = await self._item(case, store, args)
        return None if item is None else [Toast(""), self.receipt(loc, item)]

    async def _ask_delete_item(self, case, loc, args, store):
        item = await self._item(case, store, args)
        if item is None:
            return None
        return [Toast(""), Message(loc.msg("evidence_delete_item_confirm", no=item.label), ((
            Btn(loc.msg("btn_confirm_delete_item"), f"edy|{item.no}"), Btn(loc.msg("btn_cancel"), f"eo|{item.no}")),))]

    async def _delete_item(self, case, loc, args, store):
        no = int(args[0])
        if not await store.evidence_delete(case, no):
            return [Toast(""), Message(loc.msg("evidence_not_found", no=f"E-{no:03d}"), self._continue(loc))]
        return [Toast(""), Message(loc.msg("evidence_item_deleted", no=f"E-{no:03d}"), self._continue(loc))]

    async def _export(self, case, loc, args, store):
        if args[0] == "no":
            return [Toast(""), self.render(case, loc)]
        if args[0] != "ok":
            return None
        if not await store.evidence_count(case):
            return [Toast(""), Message(loc.msg("export_empty"), self._continue(loc))]
        return [Toast(""), Message(loc.msg("export_preparing")), Export()]

    async def _delete(self, case, loc, args, store):
        if args[0] == "no":
            return [Toast(""), Message(loc.msg("delete_cancelled")), self.render(case, loc)]
        if args[0] != "ok":
            return None
        ids = await store.case_delete(case)
        case.deleted = True
        return [Toast(""), Message(loc.msg("delete_done")), DeleteMessages(tuple(ids))]

    # ------------------------------------------------------------------ export summary

    def export_summary(self, locale_code: str, count: int, parts: int, failed: list[int],
                       unreadable: list[int] | tuple[int, ...] = ()) -> list[Message]:
        loc = self.content.locale(locale_code)
        out = []
        for key, nos in (("export_item_failed", failed), ("export_item_unreadable", unreadable)):
            if nos:
                shown = ", ".join(f"E-{n:03d}" for n in nos[:FAILED_SHOWN]) + ("…" if len(nos) > FAILED_SHOWN else "")
                out.append(Message(loc.msg(key, items=shown)))
        if parts:
            out.append(Message(loc.msg("export_done", count=count, parts=parts)))
        return out

    def original_unavailable(self, locale_code: str, no: int, *, found: bool, unreadable: bool = False) -> Message:
        """Why an original cannot be handed back: it is gone, it failed its hash check, or the
        disk could not give it now."""
        key = "evidence_unreadable" if unreadable else "evidence_damaged" if found else "evidence_not_found"
        return Message(self.content.locale(locale_code).msg(key, no=f"E-{no:03d}"), self._continue(self.content.locale(locale_code)))
