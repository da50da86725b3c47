"""Relatives as witnesses: one link to forward; their account and files sealed into the victim's case.

The victim (/witness, or a content button with ``action: witness``) makes an invitation for one
person and forwards a message with ``https://t.me/<bot>?start=w_<token>``. The relative opens it
in their own chat with the bot, sees their rights, consents, writes an account and sends
screenshots; all of it is stored in the VICTIM's case, sealed under the victim's key. When the
relative hands it over, the victim is told and accepts each part into the evidence (亲友证言,
with a source line) or declines it (deleted at once).

The modules:
    witness_record    the stored shapes (invitation, part, link), the rules both sides share,
                      and how they read
    witness_victim    the victim's screens                         (callback prefixes w*)
    witness_relative  the relative's: link, consent, review, hand over  (callback prefixes v*)
    witness_account   the relative's words and files                (callback prefixes v*)

Safety, in one place: the token is 192 random bits, looked up only by its keyed hash, never
logged or echoed; one person per invitation (the first chat to open it); at most five open per
case; it expires (``Engine.witness_days``, 14 by default, from settings); failed attempts are
rate-limited per chat; groups never reach the engine (handlers/groups.py leaves them). The
relative's chat id is kept in the invitation only while it is needed, and each side's /delete
ends what the other side holds of theirs.
"""

from __future__ import annotations

from flows.feature import Feature, Id, Route, Turn, messages
from flows.features import witness_account as account
from flows.features import witness_relative as relative
from flows.features import witness_victim as victim
from flows.features.witness_record import CHANNELS, INVITER, LINK_PREFIX, RELATIONS, TIMES, WHO, State
from flows.model import Reply


async def on_delete(turn: Turn) -> list[Reply]:
    """A chat may be both: a victim who invited people, and a relative helping someone."""
    return [*await victim.on_delete(turn), *await relative.on_delete(turn)]


VICTIM_BUTTONS = {
    "wl": Route(victim.listing),
    "wn": Route(victim.choose_who),
    "wg": Route(victim.ask_name, (Id,)),
    "wk": Route(victim.without_name, (Id,)),
    "wo": Route(victim.open_one, (int,)),
    "wv": Route(victim.link_again, (int,)),
    "wx": Route(victim.ask_revoke, (int,)),
    "wxy": Route(victim.revoke, (int,)),
    "ws": Route(victim.arrived, (int, int)),
    "wp": Route(victim.look, (int,)),
    "wa": Route(victim.accept, (int,)),
    "wd": Route(victim.ask_decline, (int,)),
    "wdy": Route(victim.decline, (int,)),
}
RELATIVE_BUTTONS = {
    "vc": Route(relative.consent, (Id,)),
    "vn": Route(relative.no_consent, (Id,)),
    "vh": Route(relative.home, (int,)),
    "vp": Route(relative.rights, (int,)),
    "vl": Route(relative.law, (int,)),
    "vo": Route(relative.leave, (int,)),
    "vv": Route(account.review, (int, int)),
    "vx": Route(account.ask_remove, (int, int)),
    "vxy": Route(account.remove, (int, int)),
    "vu": Route(relative.ask_submit, (int,)),
    "vuy": Route(relative.submit, (int,)),
    "va": Route(account.start, (int,)),
    "vr": Route(account.relation, (int, Id)),
    "vw": Route(account.skip_when, (int,)),
    "vk": Route(account.channel, (int, Id)),
    "vt": Route(account.times, (int, Id)),
    "vs": Route(account.skip_said, (int,)),
}


FEATURE = Feature(
    name="witness",
    commands={"witness": victim.show},
    buttons={**VICTIM_BUTTONS, **RELATIVE_BUTTONS},
    texts={
        "w_name": victim.typed_name,
        "w_note": account.typed_note,
        "w_when": account.typed_when,
        "w_said": account.typed_said,
    },
    claim_uploads=account.claim,
    deep_links={LINK_PREFIX: relative.opened},
    on_delete=on_delete,
    messages=messages(
        {
            # the victim's side
            "witness_list_header": "days max",
            "witness_list_line": "who state until",
            "witness_list_empty": "",
            "witness_too_many": "max",
            "witness_choose_who": "",
            "witness_ask_name": "who default max",
            "witness_name_too_long": "max",
            "witness_made": "who inviter until",
            "witness_forward": "link name",
            "witness_one": "who inviter state made until accepted declined waiting",
            "witness_revoke_confirm": "who",
            "witness_revoked": "who",
            "witness_nothing_waiting": "who",
            "witness_arrived_header": "who count",
            "witness_look_text": "part text",
            "witness_look_file": "part who size time sha_short caption",
            "witness_accepted": "no source",
            "witness_decline_confirm": "part",
            "witness_declined": "part",
            "witness_submitted": "who texts files",
            "witness_withdrawn": "who",
            "witness_source": "who date",
            "witness_account_file": "who relation when channel times said",
            "witness_note_file": "who text",
            "witness_own_link": "",
            "sealed_unavailable": "",  # handlers/delivery.py: a SendSealed file that failed its check
            **{f"witness_who_{w}": "" for w in WHO},
            **{f"witness_inviter_{i}": "" for i in set(INVITER.values())},
            **{f"witness_state_{s.value}": "" for s in State},
            "witness_part_account": "no kind",
            "witness_part_note": "no kind",
            "witness_part_file": "no kind",
            "witness_btn_new": "",
            "witness_btn_invitations": "",
            "witness_btn_helping": "",
            "witness_btn_no_name": "",
            "witness_btn_parts": "",
            "witness_btn_link": "",
            "witness_btn_revoke": "",
            "witness_btn_revoke_yes": "",
            "witness_btn_accept": "",
            "witness_btn_decline": "",
            "witness_btn_decline_yes": "",
            "witness_btn_next": "",
            "witness_btn_all": "",
            # the relative's side
            "witness_link_refused": "",
            "witness_intro": "inviter",
            "witness_consent": "inviter",
            "witness_thanks": "",
            "witness_no_consent": "",
            "witness_home": "inviter until texts files",
            "witness_home_submitted": "inviter count",
            "witness_ended": "",
            "witness_done": "",
            "witness_submitted_already": "",
            "witness_ask_relation": "",
            "witness_ask_when": "",
            "witness_when_unclear": "",
            "witness_when_saved": "when",
            "witness_when_approximate": "when",
            "witness_ask_channel": "",
            "witness_ask_times": "",
            "witness_ask_said": "",
            "witness_account_saved": "no relation when channel times said",
            "witness_account_empty": "",
            "witness_blank": "",
            "witness_note_saved": "no",
            "witness_file_saved": "no kind size time sha_short",
            "witness_file_duplicate": "no",
            "witness_file_not_kept": "",
            "witness_quota_full": "",
            "witness_too_many_parts": "max",
            "witness_review_header": "count",
            "witness_review_line": "part size state",
            "witness_review_empty": "",
            "witness_part_draft": "",
            "witness_part_submitted": "",
            "witness_remove_confirm": "part",
            "witness_removed": "part",
            "witness_removed_all": "",
            "witness_nothing_to_submit": "",
            "witness_submit_confirm": "inviter texts files",
            "witness_handed_over": "inviter",
            **{f"witness_rel_{r}": "" for r in RELATIONS},
            **{f"witness_ch_{c}": "" for c in CHANNELS},
            **{f"witness_times_{t}": "" for t in TIMES},
            "witness_btn_consent": "",
            "witness_btn_no_consent": "",
            "witness_btn_home": "",
            "witness_btn_own_case": "",
            "witness_btn_account": "",
            "witness_btn_review": "",
            "witness_btn_submit": "",
            "witness_btn_submit_yes": "",
            "witness_btn_rights": "",
            "witness_btn_skip": "",
            "witness_btn_remove": "no",
            "witness_btn_remove_this": "",
            "witness_btn_remove_yes": "",
            # shared with other features (declared here too: this feature formats them)
            "btn_cancel": "",
            "btn_back": "",
            "btn_law": "",
            "btn_prev_page": "",
            "btn_next_page": "",
            "evidence_no_note": "",
            "evidence_duplicate": "no",
        }
    ),
    plain_messages=frozenset({"witness_account_file", "witness_note_file", "witness_source"}),
)
