"""The gettext catalogs in ``locales/``: marking strings for them and loading them.

Texts live in ``locales/<lang>/LC_MESSAGES/messages.po``; translators touch only those files.
The English msgid is the source text. Compiled ``.mo`` files are build output (``make
catalogs``); when one is missing or older than its ``.po`` we compile it in memory, so a fresh
clone, a test run, the action server and the bot all read the same, current catalogs.
"""

from __future__ import annotations

import io
import logging
from functools import cache
from pathlib import Path

from babel.support import Translations

# Not config.PROJECT_DIR: texts/ is a leaf and imports nothing of ours.
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
DOMAIN = "messages"

log = logging.getLogger(__name__)


def N_(message: str) -> str:
    """Marks a string for extraction (``make messages``) where it is defined; it is translated
    where it is shown, in the language of that reply."""
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
    # Imported only here: a process started after `make catalogs` never needs the compiler.
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fp:
        catalog = read_po(fp, locale=lang)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    log.info("compiled %s in memory (run `make catalogs` to write the .mo)", po)
    return Translations(buffer, domain=DOMAIN)
