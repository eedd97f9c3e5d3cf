"""One user message in, the messages to show out: the part of the bot that is not Telegram.

Both front ends (Telegram in ``bot/telegram.py``, the terminal chat in ``bot/terminal.py``) go
through here, so flood protection, length limits, button keys, the unavailable message and the
language mirror behave the same in both, and the tests can drive them without Telegram.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass, field

from bot.flood import FloodRule, Verdict
from bot.rasa import RasaClient, RasaMessage, RasaUnavailable
from bot.settings import BotSettings
from bot.store import KEY_CHARS, Store, open_store
from bot.texts import (
    EMPTY,
    NON_TEXT,
    SLOW_DOWN,
    STALE_BUTTON,
    TOO_LONG,
    UNAVAILABLE,
    language_of_reply,
)
from texts.clean import clean_message
from texts.languages import language_from_code
from texts.localized import Texts

log = logging.getLogger(__name__)

# Each command is a Rasa intent payload, so the dialogue (and its language) stays in Rasa.
COMMAND_PAYLOADS = {
    "start": "/greet",
    "help": "/bot_capabilities",
    "school": "/check_school",
    "sources": "/ask_sources",
    "news": "/ask_news",
    "language": "/change_language",
    "reset": "/restart",
}


_KEY = re.compile(rf"[A-Za-z0-9_-]{{{KEY_CHARS}}}")  # what Store.key_for makes (base64url)


@dataclass(frozen=True)
class Outgoing:
    """A message to show: plain text (the front end escapes it), an image, buttons as (title, key)."""

    text: str = ""
    buttons: tuple[tuple[str, str], ...] = ()
    image: str = ""


@dataclass(frozen=True)
class Who:
    """Where a message came from, as the front end knows it; never sent to Rasa as such."""

    chat_id: int
    user_id: int
    language_code: str | None = None
    chat_type: str = "private"


@dataclass
class Relay:
    rasa: RasaClient
    store: Store
    settings: BotSettings
    _salt: str = field(default="", init=False)

    @classmethod
    def open(cls, settings: BotSettings) -> Relay:
        return cls(
            RasaClient(settings.rasa_base_url, settings.rasa_timeout),
            open_store(settings.bot_store),
            settings,
        )

    async def aclose(self) -> None:
        await self.rasa.aclose()
        await self.store.aclose()

    @property
    def flood_rule(self) -> FloodRule:
        return FloodRule(self.settings.flood_burst, self.settings.flood_interval)

    async def sender(self, who: Who) -> str:
        """Rasa's conversation id: one per user per chat, a salted HMAC of both ids, so neither
        Rasa's tracker nor any log holds a Telegram id."""
        if not self._salt:
            self._salt = self.settings.bot_salt or await self.store.salt()
        message = f"{who.chat_id}:{who.user_id}".encode()
        return hmac.new(self._salt.encode(), message, hashlib.sha256).hexdigest()[:32]

    async def texts(self, who: Who, sender: str | None = None) -> Texts:
        sender = sender or await self.sender(who)
        lang = (
            await self.store.language(sender)
            or language_from_code(who.language_code)
            or self.settings.default_language
        )
        return Texts(lang)

    async def message(self, who: Who, text: str) -> list[Outgoing]:
        """A typed message (or a command's payload)."""
        sender = await self.sender(who)
        if (refused := await self._flooded(who, sender)) is not None:
            return refused
        cleaned = clean_message(text)
        if not cleaned:
            return [Outgoing((await self.texts(who, sender))(EMPTY))]
        if len(cleaned) > self.settings.max_message_chars:  # the length the user is told is theirs
            texts = await self.texts(who, sender)
            return [
                Outgoing(
                    texts(
                        TOO_LONG,
                        length=texts.number(len(text)),
                        limit=texts.number(self.settings.max_message_chars),
                    )
                )
            ]
        return await self._ask(who, sender, cleaned)

    async def press(self, who: Who, key: str) -> list[Outgoing]:
        """A pressed button: its key maps back to the payload Rasa gave it. A key of another shape
        (a forged callback) is not looked up: the store need not cope with any string."""
        sender = await self.sender(who)
        payload = await self.store.payload_for(key) if _KEY.fullmatch(key) else None
        if payload is None:
            log.info("unknown button key pressed")
            return [Outgoing((await self.texts(who, sender))(STALE_BUTTON))]
        if (refused := await self._flooded(who, sender)) is not None:
            return refused
        return await self._ask(who, sender, payload)

    async def unreadable(self, who: Who) -> list[Outgoing]:
        """A voice note, photo, sticker…: say what we can read instead of staying silent."""
        sender = await self.sender(who)
        if (refused := await self._flooded(who, sender)) is not None:
            return refused
        return [Outgoing((await self.texts(who, sender))(NON_TEXT))]

    async def say(self, who: Who, message: str, **values: object) -> Outgoing:
        """One of the bot's own texts in this user's language."""
        return Outgoing((await self.texts(who))(message, **values))

    async def say_all(self, who: Who, message: str, **values: object) -> list[Outgoing]:
        return [await self.say(who, message, **values)]

    async def _flooded(self, who: Who, sender: str) -> list[Outgoing] | None:
        verdict = await self.store.take(sender, self.flood_rule)
        if verdict is Verdict.ALLOW:
            return None
        if verdict is Verdict.WARN:
            return [Outgoing((await self.texts(who, sender))(SLOW_DOWN))]
        return []

    async def _ask(self, who: Who, sender: str, text: str) -> list[Outgoing]:
        metadata = {"language_code": who.language_code, "chat_type": who.chat_type}
        try:
            replies = await self.rasa.send(sender, text, {k: v for k, v in metadata.items() if v})
        except RasaUnavailable:
            return [Outgoing((await self.texts(who, sender))(UNAVAILABLE))]
        lang = language_of_reply(" ".join(r.text for r in replies))
        if lang:
            await self.store.remember_language(sender, lang)
        return [await self._outgoing(reply) for reply in replies]

    async def _outgoing(self, reply: RasaMessage) -> Outgoing:
        buttons = tuple([(b.title, await self.store.key_for(b.payload)) for b in reply.buttons])
        return Outgoing(reply.text, buttons, reply.image)
