"""Text normalisation shared by indexing and querying.

People type Kazakh on Russian keyboards ("канша" for "қанша") and Russian without "ё", so the
lexical signal folds those letters together; the embedding model sees the original text.
"""

from __future__ import annotations

import re
import unicodedata

_FOLD = str.maketrans("әғқңөұүһіё", "агкноуухие")
_NON_WORD = re.compile(r"[^\w]+")


def has_words(text: str) -> bool:
    """Whether ``text`` holds a letter or digit. Emoji, punctuation, invisible characters and lone
    surrogates alone are not a question: the intent model still scores them (an empty message
    comes out as "affirm" at 0.99), so callers ask for words instead of trusting that guess."""
    return bool(fold(text))


def fold(text: str) -> str:
    """Lowercase, fold Kazakh letters and ё to their plain Cyrillic look-alikes, keep letters and digits."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_FOLD)
    return " ".join(_NON_WORD.sub(" ", text).replace("_", " ").split())


def latin_share(text: str) -> float:
    """Share of Latin among the letters: tells whether an English-only model can read the text."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return 0.0
    latin = sum(1 for ch in letters if "LATIN" in unicodedata.name(ch, ""))
    return latin / len(letters)
