"""The one table of features. Order matters only for Telegram's "/" menu (commands in the
order listed here)."""

from __future__ import annotations

from flows.feature import Feature
from flows.features import (
    admin,
    drafts,
    evidence,
    export,
    facts,
    filings,
    handoff,
    interest_check,
    language,
    listening,
    log,
    navigation,
    reminders,
    witness,
)

FEATURES: tuple[Feature, ...] = (
    navigation.FEATURE,
    listening.FEATURE,
    evidence.FEATURE,
    log.FEATURE,
    facts.FEATURE,
    interest_check.FEATURE,
    export.FEATURE,
    language.FEATURE,
    handoff.FEATURE,  # only in the engine when the clinic has a staff chat (handlers/core.build_engine)
    admin.FEATURE,
    witness.FEATURE,
    drafts.FEATURE,
    filings.FEATURE,
    reminders.FEATURE,
)
