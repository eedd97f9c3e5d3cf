"""Rasa's replies as Telegram messages: escaped HTML, split to Telegram's size, buttons as keys.

We send HTML parse mode so a later change can add formatting safely, and escape everything Rasa
gives us: a fact or a user's echoed words containing ``<b>`` or ``&`` must show as typed, never as
markup (and never make Telegram refuse the message). Telegram counts the limit after entity
parsing, but we count the escaped text, which is never shorter, so a chunk is never refused.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

MAX_MESSAGE = 4096  # Telegram's limit for one message's text
MAX_CALLBACK_DATA = 64  # bytes, Telegram's limit for a button's callback_data
CALLBACK_PREFIX = "k:"  # callback_data is "k:<key>"; anything else is not ours
WIDE_BUTTON_CHARS = 18  # longer titles get a row of their own
_BREAKS = ("\n\n", "\n", ". ", " ")
_WS = re.compile(r"\s+")
_URL = re.compile(r"https?://[^\s<>\"']+")
LINK_MARKUP = 16  # '<a href="">' and '</a>' around a title, less the URL's own line break


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def to_html(text: str) -> str:
    """Escaped text in which a line holding only a web address turns the line above it into a
    link to that address: the actions write a source as its title line and then its URL, which
    REST clients and the terminal show as text, and Telegram shows as one tappable title."""
    lines = text.split("\n")
    out: list[str] = []
    for i, line in enumerate(lines):
        above = lines[i - 1] if i else ""
        if _URL.fullmatch(line.strip()) and above.strip() and not _URL.fullmatch(above.strip()):
            indent = above[: len(above) - len(above.lstrip())]
            href = html.escape(line.strip(), quote=True)
            out[-1] = f'{escape(indent)}<a href="{href}">{escape(above.strip())}</a>'
        else:
            out.append(escape(line))
    return "\n".join(out)


def split_text(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """HTML chunks (see ``to_html``) of at most ``limit`` characters, cut at the largest natural
    boundary: paragraph, then line, then sentence, then word, and only inside a word as a last
    resort. Cutting measures the escaped text, less room for each link's markup."""
    text = text.strip()
    if not text:
        return []
    if len(to_html(text)) <= limit:
        return [to_html(text)]
    room = limit - LINK_MARKUP * sum(1 for line in text.split("\n") if _URL.fullmatch(line.strip()))
    return [to_html(chunk) for chunk in _chunks(text, max(room, limit // 2))]


def _chunks(text: str, limit: int) -> Iterator[str]:
    while text:
        if len(escape(text)) <= limit:
            yield text
            return
        cut = _cut(text, limit)
        head, text = text[:cut].rstrip(), text[cut:].lstrip()
        if head:
            yield head


def _cut(text: str, limit: int) -> int:
    """The end of the longest prefix that fits escaped, preferring the biggest boundary."""
    fits = _longest_fitting_prefix(text, limit)
    for mark in _BREAKS:
        at = text.rfind(mark, 0, fits)
        if at > 0:
            return at + len(mark)
    return max(fits, 1)


def _longest_fitting_prefix(text: str, limit: int) -> int:
    size = 0
    for position, ch in enumerate(text):
        size += len(escape(ch))
        if size > limit:
            return position
    return len(text)


def callback_data(key: str) -> str:
    data = CALLBACK_PREFIX + key
    if len(data.encode()) > MAX_CALLBACK_DATA:
        raise ValueError("button key too long for Telegram's callback_data")
    return data


def key_from_callback(data: str | None) -> str | None:
    if not data or not data.startswith(CALLBACK_PREFIX):
        return None
    return data[len(CALLBACK_PREFIX) :] or None


def keyboard(buttons: Sequence[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from (title, key) pairs: short titles two to a row (the region list would
    otherwise be a 20-row wall), long ones alone so Telegram does not cut them."""
    if not buttons:
        return None
    rows: list[list[InlineKeyboardButton]] = []
    for title, key in buttons:
        title = _WS.sub(" ", title).strip() or "…"
        button = InlineKeyboardButton(title, callback_data=callback_data(key))
        last = rows[-1] if rows else None
        if (
            len(buttons) > 3
            and last is not None
            and len(last) == 1
            and len(title) <= WIDE_BUTTON_CHARS
            and len(last[0].text) <= WIDE_BUTTON_CHARS
        ):
            last.append(button)
        else:
            rows.append([button])
    return InlineKeyboardMarkup(rows)
