"""The one table of features. Order matters only for Telegram's "/" menu (commands in the
order listed here)."""

from __future__ import annotations

from flows.feature import Feature
from flows.features import evidence, export, facts, interest_check, language, listening, log, navigation

FEATURES: tuple[Feature, ...] = (
    navigation.FEATURE,
    listening.FEATURE,
    evidence.FEATURE,
    log.FEATURE,
    facts.FEATURE,
    interest_check.FEATURE,
    export.FEATURE,
    language.FEATURE,
)
