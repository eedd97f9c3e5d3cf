"""``python -m stack serve|run``: the whole stack as one command, stopped as one.

``serve`` starts the action server and Rasa's REST channel on loopback. ``run`` adds the front
end: the Telegram bot when ``TELEGRAM_BOT_TOKEN`` is set, else a terminal chat in this terminal.
``make serve`` / ``make run`` call these after building what is missing (environments, index,
catalogs, Rasa model). Rasa's HTTP API needs a token (``AQPARAT_RASA_TOKEN``, or one generated once into
``var/rasa-token``); the REST webhook itself stays open on 127.0.0.1 for the bot and the tests.
The same token, passed to every child as ``AQPARAT_RASA_TOKEN``, guards the action server's
maintainer routes (``/admin/reload``, ``/admin/stats``), which the bot calls for ``/reload`` and
``/stats``.

``prune`` deletes conversations and log lines older than ``AQPARAT_RETENTION_DAYS`` days (or
``--days``) once, for cron or a maintainer; ``serve`` and ``run`` do it at start and daily while
they run when that setting is above 0 (``stack/retention.py``).

``configuration`` writes docs/configuration.md from the settings classes (``--check``: only
says whether it is stale); ``make configuration`` runs it.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from pathlib import Path

from bot.settings import BotSettings
from config import PROJECT_DIR
from stack.periodic import DAY_SECONDS
from stack.process import tail
from stack.retention import prune, prune_forever
from stack.services import MODEL, TOKEN_FILE, bot_service, dialogue_services, rasa_env, rasa_token
from stack.settings import StackSettings
from stack.supervisor import run_services


def _mode(settings: BotSettings) -> str:
    if settings.webhook_url:
        return (
            f"webhook {settings.webhook_url} (listening on {settings.webhook_listen}:{settings.webhook_port})"
        )
    return "long polling"


def _tracker_description(settings: StackSettings) -> str:
    if settings.endpoints.resolve() == (PROJECT_DIR / "endpoints.yml").resolve():
        return f"SQLite {settings.tracker_db}"
    return f"as {settings.endpoints} says"


def start_retention(settings: StackSettings, log_dir: Path) -> threading.Thread | None:
    """With retention on, prune now and daily in a thread of this process (a second Python with
    the app's imports would cost ~140 MB to wake once a day); its lines go to retention.log, not
    into the terminal chat."""
    if settings.retention_days <= 0:
        return None
    logger = logging.getLogger("stack.retention")
    handler = logging.FileHandler(log_dir / "retention.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.propagate = False
    thread = threading.Thread(
        target=prune_forever,
        args=(settings, settings.retention_days, rasa_env(settings), DAY_SECONDS),
        name="retention",
        daemon=True,  # dies with the supervisor; a round in progress is one transaction
    )
    thread.start()
    return thread


def cmd_prune(settings: StackSettings, days: int | None) -> int:
    days = settings.retention_days if days is None else days
    if days <= 0:
        print("retention is off (AQPARAT_RETENTION_DAYS=0, no --days): nothing deleted")
        return 0
    print(f"retention ({days} days): {prune(settings, days, rasa_env(settings)).summary()}")
    return 0


def cmd_serve(settings: StackSettings, bot: BotSettings, *, front_end: bool = False) -> int:
    if not MODEL.exists():
        print(f"no Rasa model at {MODEL}; run `make serve` (it trains one)", file=sys.stderr)
        return 2
    log_dir = settings.log_dir
    log_dir.mkdir(parents=True, exist_ok=True)
    token = rasa_token(settings)
    services = dialogue_services(settings, log_dir, token)
    telegram = front_end and bool(bot.telegram_token)
    if telegram:
        services.append(bot_service(log_dir, token))

    token_hint = "AQPARAT_RASA_TOKEN" if settings.rasa_token else str(TOKEN_FILE.relative_to(PROJECT_DIR))

    def ready() -> None:
        start_retention(settings, log_dir)
        retention = (
            f"{settings.retention_days} days (log: {log_dir}/retention.log)"
            if settings.retention_days > 0
            else "off (AQPARAT_RETENTION_DAYS)"
        )
        print(
            f"\nAqparat is serving on 127.0.0.1 (Ctrl-C stops everything):\n"
            f"  REST channel   POST http://127.0.0.1:{settings.rasa_port}/webhooks/rest/webhook\n"
            f'                 {{"sender": "...", "message": "...", "metadata": {{"language_code": "kk"}}}}\n'
            f"  Rasa HTTP API  http://127.0.0.1:{settings.rasa_port}/ (token: {token_hint})\n"
            f"  action server  http://127.0.0.1:{settings.actions_port}/webhook (NLG: /nlg; "
            f"maintainers: POST /admin/reload, GET /admin/stats with the same token)\n"
            f"  conversations  {_tracker_description(settings)}; retention {retention}\n"
            f"  logs           {log_dir}/actions.log, {log_dir}/rasa.log\n"
            + (f"  Telegram bot   {_mode(bot)} (log: {log_dir}/bot.log)\n" if telegram else ""),
            flush=True,
        )

    foreground = None
    if front_end and not telegram:
        from bot.terminal import chat

        print("TELEGRAM_BOT_TOKEN is not set: chatting here in the terminal instead.")

        def foreground() -> int:
            return chat(bot)

    code = run_services(services, PROJECT_DIR, on_ready=ready, foreground=foreground)
    if code:
        for service in services:
            if service.log_file and service.log_file.exists():
                print(
                    f"\n--- last lines of {service.log_file} ---\n{tail(service.log_file)}", file=sys.stderr
                )
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m stack", description=__doc__)
    parser.add_argument("command", choices=["serve", "run", "prune", "configuration"])
    parser.add_argument(
        "--days", type=int, default=None, help="prune: override AQPARAT_RETENTION_DAYS for this run"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="configuration: exit 1 if docs/configuration.md is stale, write nothing",
    )
    args = parser.parse_args(argv)
    if args.command == "configuration":
        from stack.configuration import write

        return write(check=args.check)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # health URLs carry the API token
    if args.command == "prune":
        return cmd_prune(StackSettings.from_env(), args.days)
    return cmd_serve(StackSettings.from_env(), BotSettings.from_env(), front_end=args.command == "run")


if __name__ == "__main__":
    sys.exit(main())
