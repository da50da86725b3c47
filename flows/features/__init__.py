"""The one table of features. Order matters only for Telegram's "/" menu (commands in the
order listed here)."""

from __future__ import annotations

from flows.feature import Feature
from flows.features import drafts, evidence, export, filings, language, listening, navigation, reminders

FEATURES: tuple[Feature, ...] = (
    navigation.FEATURE,
    listening.FEATURE,
    evidence.FEATURE,
    export.FEATURE,
    language.FEATURE,
    drafts.FEATURE,
    filings.FEATURE,
    reminders.FEATURE,
)
