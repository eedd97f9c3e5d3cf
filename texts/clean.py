"""The one cleaning of what a user typed, wherever it is read: the bot before it goes to Rasa,
the actions before they read a form answer or detect a language, retrieval before it searches.
"""

from __future__ import annotations

import unicodedata

_DROPPED = frozenset({"Cs", "Cf"})  # lone surrogates; zero-width and direction marks, BOM


def clean_message(text: str, max_chars: int | None = None) -> str:
    """What a user typed, made safe to pass on: NFC-normalised, lone surrogates and invisible
    format characters (zero-width spaces and joiners, direction marks, BOM) dropped, control
    characters (NUL, …) turned into spaces, whitespace collapsed, cut to ``max_chars``.

    Why: a lone surrogate cannot be encoded as UTF-8, so a request to Rasa would fail before it
    was sent, and lingua (Rust) raises on one; a NUL splits a word for the intent model as the
    user never saw; an invisible character inside a word hides it from the search, so it is
    dropped, not spaced. What is left is exactly what the user could see (private-use characters
    and emoji newer than Python's Unicode tables too); an empty result means nothing readable was
    typed."""
    text = unicodedata.normalize("NFC", text)
    kept = []
    for ch in text:
        category = unicodedata.category(ch)
        if category in _DROPPED:
            continue
        kept.append(" " if category == "Cc" else ch)
    return " ".join("".join(kept).split())[:max_chars]
