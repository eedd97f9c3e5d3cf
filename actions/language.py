"""Which language to reply in: decided here, once, for every channel.

The order: the user's explicit choice (the ``language`` slot); else the language of the message;
a short or ambiguous message ("ok", "да") keeps the previous reply language; else the channel's
hint (Telegram's ``language_code``); else the configured default. Kazakh-specific letters are
decisive on their own; otherwise lingua, restricted to our three languages, must be confident.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from lingua import Language, LanguageDetector, LanguageDetectorBuilder

from texts.clean import clean_message
from texts.languages import KAZAKH_LETTERS, LANGUAGES, language_from_code

MIN_LETTERS = 5
MIN_CONFIDENCE = 0.75
MAX_DETECT_CHARS = 1_000  # retrieval reads no more of a question either; keeps each call cheap
# Markup, links and HTML entities are Latin whatever language their writer speaks: a Russian
# message with "<b>" or "](javascript:…)" in it must not be answered in English.
_NOT_LANGUAGE = re.compile(
    r"<[^<>]{0,200}>|&#?\w{1,10};|\b[a-z][a-z0-9+.-]{1,20}:(?://)?[^\s)\]]+", re.IGNORECASE
)
_CODES = {Language.KAZAKH: "kk", Language.RUSSIAN: "ru", Language.ENGLISH: "en"}


@cache
def _detector() -> LanguageDetector:
    """Built on first use (its models load lazily, ~0.2 s), then shared by every request."""
    return LanguageDetectorBuilder.from_languages(*_CODES).build()


def detect_language(text: str) -> str | None:
    """The message's language, or None when it is too short or too mixed to tell.

    Cleaned first: lingua (Rust) raises UnicodeEncodeError on a lone surrogate, and this runs on
    every earlier message of the conversation too, so one such message would otherwise break
    every later reply. Invisible and control characters, markup and links say nothing about the
    language."""
    text = _NOT_LANGUAGE.sub(" ", clean_message(text, MAX_DETECT_CHARS))
    if any(ch in KAZAKH_LETTERS for ch in text):
        return "kk"
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return None
    best = _detector().compute_language_confidence_values(text)[0]
    return _CODES[best.language] if best.value >= MIN_CONFIDENCE else None


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
        language_from_code(signals.channel_hint),
    ):
        if candidate in LANGUAGES:
            return candidate
    return default


HINT_KEY = "language_code"  # the metadata key channels use for their locale (Telegram's name for it)
LOOKBACK = 5  # earlier user messages searched for the previous language; older ones rarely matter


def _is_command(text: str) -> bool:
    """Button payloads ("/affirm", '/ask_question{"fact_id": ...}') say nothing about language."""
    return text.startswith("/")


def _mapping(value: object) -> Mapping[str, Any]:
    """``value`` if it is a mapping, else an empty one: a malformed tracker (an NLG request is
    whatever was posted) must still get a reply in some language, not a 500."""
    return value if isinstance(value, Mapping) else {}


def _user_events(state: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    events = state.get("events")
    if not isinstance(events, Sequence) or isinstance(events, str):
        return []
    return [e for e in events if isinstance(e, Mapping) and e.get("event") == "user"]


def _user_texts_before_latest(events: Sequence[Mapping[str, Any]]) -> list[str]:
    texts = [str(e.get("text") or "") for e in events]
    return [t for t in reversed(texts[:-1]) if t and not _is_command(t)][:LOOKBACK]


def _hint(state: Mapping[str, Any]) -> str | None:
    latest = _mapping(state.get("latest_message"))
    for metadata in [latest.get("metadata")] + [e.get("metadata") for e in reversed(_user_events(state))]:
        if isinstance(metadata, Mapping) and isinstance(metadata.get(HINT_KEY), str):
            return metadata[HINT_KEY]
    return None


def conversation_language(state: Mapping[str, Any], default: str) -> str:
    """The reply language for a tracker state, as both the actions and the NLG endpoint see it.

    Works on the plain state dict (``Tracker.current_state()`` in rasa-sdk, the ``tracker`` of an
    NLG request) so both decide identically. "Previous" is the latest earlier message whose
    language could be told; that is the language the bot last replied in unless the user chose one.
    """
    state = _mapping(state)
    slots = _mapping(state.get("slots"))
    text = str(_mapping(state.get("latest_message")).get("text") or "")
    signals = LanguageSignals(
        text="" if _is_command(text) else text,
        chosen=slots.get("language"),
        previous=next(
            (lang for lang in map(detect_language, _user_texts_before_latest(_user_events(state))) if lang),
            None,
        ),
        channel_hint=_hint(state),
    )
    return reply_language(signals, default)
