"""``python -m bot run`` serves Telegram; ``python -m bot chat`` is the terminal chat.

Both expect Rasa's REST channel to be up (``make serve``, or ``make run``, which starts
everything). Settings come from the environment once (bot/settings.py, docs/configuration.md).
"""

from __future__ import annotations

import argparse
import logging
import sys

from bot.settings import BotSettings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__)
    parser.add_argument("command", choices=["run", "chat"])
    args = parser.parse_args(argv)
    settings = BotSettings.from_env()
    if args.command == "chat":
        logging.basicConfig(level=logging.WARNING)
        from bot.terminal import chat

        return chat(settings)
    if not settings.telegram_token:
        print("TELEGRAM_BOT_TOKEN is not set", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # its request lines carry the bot token
    from bot.telegram import run

    run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
