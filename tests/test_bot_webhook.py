"""Webhook mode: PTB's own web server behind our settings, Telegram's secret token enforced.

Rasa is deliberately absent (a closed port), which also shows that a user whose update came
through the webhook still gets the polite "temporarily unavailable" reply instead of silence.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import httpx
import pytest

from bot.settings import BotSettings
from bot.telegram import build_application, webhook_options
from stack.telegram_standin import DEFAULT_TOKEN, BotApiStandIn

SECRET = "s3cret-token_for-tests"
HEADER = "X-Telegram-Bot-Api-Secret-Token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_webhook_without_a_secret_is_refused_at_start() -> None:
    with pytest.raises(SystemExit, match="AQPARAT_WEBHOOK_SECRET"):
        webhook_options(BotSettings(webhook_url="https://bot.example/hook"))


def test_webhook_mode_checks_the_secret_on_every_request(tmp_path: Path) -> None:
    port = _free_port()
    with BotApiStandIn() as api:
        settings = BotSettings(
            telegram_token=DEFAULT_TOKEN,
            telegram_base_url=f"{api.url}/bot",
            telegram_base_file_url=f"{api.url}/file/bot",
            rasa_url=f"http://127.0.0.1:{_free_port()}",  # nobody listens: Rasa is "down"
            rasa_timeout=2.0,
            bot_store=str(tmp_path / "bot.sqlite3"),
            webhook_url="https://bot.example/telegram/hook",
            webhook_port=port,
            webhook_secret=SECRET,
        )
        statuses: list[int] = []

        async def scenario() -> None:
            application = build_application(settings)
            async with application:
                await application.post_init(application)
                await application.updater.start_webhook(**webhook_options(settings))
                await application.start()
                try:
                    url = f"http://127.0.0.1:{port}/telegram/hook"
                    update = {"update_id": 1, **api.text_message(811, "привет", language_code="ru")}
                    async with httpx.AsyncClient() as client:
                        for headers in ({}, {HEADER: "wrong"}, {HEADER: SECRET}):
                            statuses.append(
                                (await client.post(url, json=update, headers=headers)).status_code
                            )
                    await api.wait_for_messages_async(811, 1, timeout=15)
                finally:
                    await application.updater.stop()
                    await application.stop()
            await application.post_shutdown(application)

        asyncio.run(scenario())
        (registered,) = api.calls("setWebhook")
        assert registered.params["url"] == "https://bot.example/telegram/hook"
        assert registered.params["secret_token"] == SECRET
        assert statuses[:2] == [403, 403]
        assert statuses[2] == 200
        (reply,) = api.sent_texts(811)  # one update passed the check, and it got one reply
        assert "временно недоступна" in reply
