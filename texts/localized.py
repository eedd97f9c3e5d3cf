"""``Texts``: what one reply language says, and how its locale writes numbers and dates.

Every user-facing string goes through it, in the action server and in the bot alike, so a
message reads the same whichever process says it.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Protocol

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.numbers import format_decimal, format_percent

from texts.catalogs import translations
from texts.languages import LANGUAGES

_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


class CalendarDate(Protocol):
    """A ``datetime.date``, or a date known only to the month (``knowledge.dates.PartialDate``,
    not imported: the bot must not load the knowledge stack to write a date)."""

    @property
    def year(self) -> int: ...

    @property
    def month(self) -> int: ...

    @property
    def day(self) -> int | None: ...


@dataclass(frozen=True)
class Texts:
    """One reply language: translation plus Babel formatting for its locale."""

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in LANGUAGES:
            raise ValueError(f"unsupported language {self.lang!r}")

    def __call__(self, message: str, /, **values: object) -> str:
        """Translate, then fill ``{name}`` placeholders (values are never translated)."""
        text = translations(self.lang).gettext(message)
        if not values:
            return text
        # A date that ends in an abbreviation ("2023 г.") at the end of a sentence: one full stop.
        return _DOUBLE_STOP.sub(".", text.format(**values))

    def number(self, value: int) -> str:
        return format_decimal(value, locale=self.lang)

    def percent(self, share: float) -> str:
        return format_percent(share, locale=self.lang)

    def date(self, value: CalendarDate) -> str:
        """A date as the locale writes it; a month-precision date shows only month and year."""
        if value.day is None:
            return format_skeleton("yMMMM", dt.date(value.year, value.month, 1), locale=self.lang)
        return format_date(dt.date(value.year, value.month, value.day), "long", locale=self.lang)

    def language_name(self, code: str) -> str:
        """A language's name in this one ("Қазақ тілі", "Казахский", "Kazakh"), capitalised as a label."""
        try:
            name = Locale.parse(code).get_display_name(self.lang) or code
        except (ValueError, UnknownLocaleError):
            name = code
        return name[:1].upper() + name[1:]
