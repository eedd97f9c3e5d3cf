"""A terminal chat through the whole stack, for a machine without a Telegram token.

It goes through the same relay as Telegram (flood limits, button keys, the unavailable message),
so what a newcomer sees here is what a Telegram user would see. Buttons are numbered: type the
number to press one. The conversation's language hint comes from the terminal's locale
(``LANG=kk_KZ.UTF-8`` starts in Kazakh), exactly as Telegram's language code would.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import locale
import os
import secrets
import sys

from rich.console import Console
from rich.text import Text

from bot.relay import COMMAND_PAYLOADS, Outgoing, Relay, Who
from bot.settings import BotSettings
from bot.texts import UNKNOWN_COMMAND

with contextlib.suppress(ImportError):
    import readline  # noqa: F401 - line editing and history for input()

HELP = (
    "Type a question in Kazakh, Russian or English. Commands: "
    + ", ".join(f"/{name}" for name in COMMAND_PAYLOADS)
    + ". A number presses a button. Ctrl-D or /quit leaves."
)


def terminal_language_code() -> str | None:
    """``kk_KZ.UTF-8`` → ``kk``; the C/POSIX locale says nothing."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return value.split(".")[0].replace("_", "-")
    code = locale.getlocale()[0]
    return code.replace("_", "-") if code else None


def show(console: Console, messages: list[Outgoing]) -> list[str]:
    """Print the bot's messages; returns the button keys in the order they were numbered."""
    keys: list[str] = []
    for message in messages:
        if message.image:
            console.print(Text(f"[image: {message.image}]", style="dim"))
        if message.text:
            console.print(Text.assemble(("bot> ", "bold cyan"), message.text))
        for title, key in message.buttons:
            keys.append(key)
            console.print(Text(f"   [{len(keys)}] {title}"))
    return keys


def tolerate_undecodable_input() -> None:
    """Bytes that are not UTF-8 (a paste from a legacy-encoded file) become lone surrogates, which
    the relay drops (``clean_message``), instead of a UnicodeDecodeError that ends the chat.
    Python already does this under the C locale; under a UTF-8 locale stdin is strict."""
    if isinstance(sys.stdin, io.TextIOWrapper):
        sys.stdin.reconfigure(errors="surrogateescape")


def chat(settings: BotSettings, console: Console | None = None) -> int:
    """Read lines until EOF or /quit. Input is read on the main thread (so Ctrl-C and the
    supervisor's SIGTERM interrupt it at once); each turn runs on one long-lived event loop."""
    console = console or Console()
    tolerate_undecodable_input()
    who = Who(chat_id=0, user_id=secrets.randbelow(2**31), language_code=terminal_language_code())
    console.print(f"[dim]{HELP}[/]")
    keys: list[str] = []
    with asyncio.Runner() as runner:
        relay = Relay.open(settings)
        try:
            while True:
                try:
                    line = input("you> ").strip()
                except EOFError:
                    console.print()
                    return 0
                if not line:
                    continue
                if line in ("/quit", "/exit"):
                    return 0
                if line.isdigit() and 1 <= int(line) <= len(keys):
                    replies = runner.run(relay.press(who, keys[int(line) - 1]))
                elif line.startswith("/"):
                    payload = COMMAND_PAYLOADS.get(line[1:].split()[0].lower())
                    turn = relay.message(who, payload) if payload else relay.say_all(who, UNKNOWN_COMMAND)
                    replies = runner.run(turn)
                else:
                    replies = runner.run(relay.message(who, line))
                keys = show(console, replies) or keys
        finally:
            runner.run(relay.aclose())
