"""The typed context every handler receives, instead of string keys in PTB's ``bot_data`` dict.

python-telegram-bot lets an application choose the class of ``context`` and of
``context.bot_data`` (``ContextTypes``). The bot keeps three shared objects there: the settings
(set when the application is built), the relay and the admin client (opened in ``post_init``, once
the event loop runs, and closed in ``post_shutdown``). Naming them as attributes lets a type
checker see what a handler uses and turns a misspelt key into an error at once, not a KeyError
on some user's message.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.admin import AdminClient
from bot.relay import Relay
from bot.settings import BotSettings

_T = TypeVar("_T")


@dataclass
class BotData:
    """The objects every handler shares. PTB makes ``bot_data`` by calling the class with no
    arguments, before settings exist, so each field starts empty; ``CustomContext`` reads them."""

    settings: BotSettings | None = None
    relay: Relay | None = None
    admin: AdminClient | None = None


def _present(value: _T | None, name: str) -> _T:
    """A field of ``BotData`` that must be set by now: a handler runs only after ``post_init``."""
    if value is None:
        raise RuntimeError(f"bot_data.{name} is not set: the application was not initialized")
    return value


# ExtBot[int]: the bot's requests go through AIORateLimiter, whose per-request argument is an int.
class CustomContext(CallbackContext[ExtBot[int], dict[Any, Any], dict[Any, Any], BotData]):
    """``CallbackContext`` with the shared objects as typed properties."""

    @property
    def settings(self) -> BotSettings:
        return _present(self.bot_data.settings, "settings")

    @property
    def relay(self) -> Relay:
        return _present(self.bot_data.relay, "relay")

    @property
    def admin(self) -> AdminClient:
        return _present(self.bot_data.admin, "admin")


CONTEXT_TYPES = ContextTypes(context=CustomContext, bot_data=BotData)
BotApplication = Application[ExtBot[int], CustomContext, dict[Any, Any], dict[Any, Any], BotData, Any]
"""The application ``build_application`` returns: the type ``post_init`` and the tests receive."""
