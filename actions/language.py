"""Which language to reply in: decided here, once, for every channel.

The order: the user's explicit choice (the ``language`` slot); else the language of the message;
a short or ambiguous message ("ok", "да") keeps the previous reply language; else the channel's
hint (Telegram's ``language_code``); else the configured default. Kazakh-specific letters are
decisive on their own; otherwise lingua, restricted to our three languages, must be confident.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from babel import Locale
from lingua import Language, LanguageDetector, LanguageDetectorBuilder

SUPPORTED = ("kk", "ru", "en")
KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")
MIN_LETTERS = 5
MIN_CONFIDENCE = 0.75
_CODES = {Language.KAZAKH: "kk", Language.RUSSIAN: "ru", Language.ENGLISH: "en"}


@cache
def _detector() -> LanguageDetector:
    """Built on first use (its models load lazily, ~0.2 s), then shared by every request."""
    return LanguageDetectorBuilder.from_languages(*_CODES).build()


def detect_language(text: str) -> str | None:
    """The message's language, or None when it is too short or too mixed to tell."""
    if any(ch in KAZAKH_LETTERS for ch in text):
        return "kk"
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    best = _detector().compute_language_confidence_values(text)[0]
    return _CODES[best.language] if best.value >= MIN_CONFIDENCE else None


def language_from_hint(code: str | None) -> str | None:
    """A channel's locale code ("en-US", "kk-KZ", "uk") mapped to one we speak, if any."""
    if not code:
        return None
    try:
        locale = Locale.negotiate([code.replace("_", "-")], list(SUPPORTED), sep="-")
    except (ValueError, TypeError):
        return None
    return str(locale) if locale is not None else None


@dataclass(frozen=True)
class LanguageSignals:
    """Everything that may say which language a reply should be in."""

    text: str = ""
    chosen: str | None = None  # the language slot: the user's explicit choice
    previous: str | None = None  # the language of the last reply in this conversation
    channel_hint: str | None = None  # e.g. Telegram's language_code, from the message metadata


def reply_language(signals: LanguageSignals, default: str) -> str:
    """Explicit choice > message language > previous language > channel hint > default."""
    for candidate in (
        signals.chosen,
        detect_language(signals.text),
        signals.previous,
        language_from_hint(signals.channel_hint),
    ):
        if candidate in SUPPORTED:
            return candidate
    return default
