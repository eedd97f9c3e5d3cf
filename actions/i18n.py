"""Translations and locale formatting: every user-facing string goes through here.

Texts live in gettext catalogs (``locales/<lang>/LC_MESSAGES/messages.po``); translators touch
only those files. The English msgid is the source text. Compiled ``.mo`` files are build output
(``make catalogs``); when one is missing or older than its ``.po`` we compile it in memory, so a
fresh clone, a test run and a running server all read the same catalogs.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from babel import Locale
from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from actions.language import SUPPORTED
from knowledge.dates import PartialDate
from knowledge.settings import PROJECT_DIR

LOCALES_DIR = PROJECT_DIR / "locales"
DOMAIN = "messages"

log = logging.getLogger(__name__)

_DOUBLE_STOP = re.compile(r"(?<!\.)\.\.(?!\.)")


def N_(message: str) -> str:
    """Marks a string for extraction where it is defined; it is translated where it is shown."""
    return message


def catalog_path(lang: str, suffix: str = ".po", root: Path = LOCALES_DIR) -> Path:
    return root / lang / "LC_MESSAGES" / f"{DOMAIN}{suffix}"


@cache
def translations(lang: str, root: Path = LOCALES_DIR) -> Translations:
    """The catalog for ``lang``, loaded once per process."""
    po, mo = catalog_path(lang, ".po", root), catalog_path(lang, ".mo", root)
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=DOMAIN)
    if not po.exists():
        raise FileNotFoundError(f"no catalog for {lang!r}: {po}")
    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    log.info("compiled %s in memory (run `make catalogs` to write the .mo)", po)
    return Translations(buffer, domain=DOMAIN)


@dataclass(frozen=True)
class Texts:
    """One reply language: translation plus Babel formatting for its locale."""

    lang: str

    def __post_init__(self) -> None:
        if self.lang not in SUPPORTED:
            raise ValueError(f"unsupported language {self.lang!r}")

    def __call__(self, message: str, /, **values: object) -> str:
        """Translate, then fill ``{name}`` placeholders (values are never translated)."""
        text = translations(self.lang).gettext(message)
        if not values:
            return text
        # A date that ends in an abbreviation ("2023 г.") at the end of a sentence: one full stop.
        return _DOUBLE_STOP.sub(".", text.format(**values))

    @property
    def locale(self) -> Locale:
        return Locale.parse(self.lang)

    def date(self, value: PartialDate | dt.date) -> str:
        """A date as the locale writes it; a month-precision date shows only month and year."""
        if isinstance(value, PartialDate):
            if value.day is None:
                return format_skeleton("yMMMM", dt.date(value.year, value.month, 1), locale=self.lang)
            value = dt.date(value.year, value.month, value.day)
        return format_date(value, "long", locale=self.lang)
