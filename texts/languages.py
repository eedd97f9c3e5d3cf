"""The languages we speak, and which of them a locale code asks for.

The one list for the fact schema, the action server and the bot: a fact, a catalog and a reply
exist in exactly these.
"""

from __future__ import annotations

from typing import Literal, get_args

from babel import Locale

Lang = Literal["kk", "ru", "en"]
LANGUAGES: tuple[Lang, ...] = get_args(Lang)

# Letters only Kazakh Cyrillic has: one of them decides the language of a text on its own.
KAZAKH_LETTERS = frozenset("әғқңөұүһіӘҒҚҢӨҰҮҺІ")


def language_from_code(code: str | None) -> str | None:
    """A locale code ("en-US", "kk_KZ", "uk"), such as Telegram's ``language_code``, mapped to one
    we speak, if any. Babel's negotiation, not string splitting: it knows how locale identifiers
    are built, so the bot's and the actions' answers cannot drift apart."""
    if not code:
        return None
    try:
        locale = Locale.negotiate([code.replace("_", "-")], list(LANGUAGES), sep="-")
    except (ValueError, TypeError):
        return None
    return str(locale) if locale is not None else None
