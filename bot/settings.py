"""The bot's settings: Telegram, where Rasa and the action server are, its store, flood limits.

Read without loading the knowledge layer: the bot process never needs faiss or the model.
"""

from __future__ import annotations

from config import PROJECT_DIR, DialogueSettings, Ids, Stripped, env


class BotSettings(DialogueSettings):
    """Read by ``python -m bot`` (and by the supervisor, which starts it)."""

    # The token's name is Telegram's convention, not ours.
    telegram_token: Stripped = env(
        "TELEGRAM_BOT_TOKEN",
        "",
        "the bot's token from @BotFather; empty: `make run` chats in the terminal",
    )
    telegram_base_url: str = env(
        "TELEGRAM_BASE_URL",
        "https://api.telegram.org/bot",
        "Bot API address (the token is appended): a local Bot API server or a test stand-in",
    )
    telegram_base_file_url: str = env(
        "TELEGRAM_BASE_FILE_URL",
        "https://api.telegram.org/file/bot",
        "the Bot API's file address, as `TELEGRAM_BASE_URL`",
    )
    rasa_url: str = env(
        "AQPARAT_RASA_URL",
        "",
        "where the bot finds Rasa's REST channel",
        default_shown="`http://127.0.0.1:<AQPARAT_RASA_PORT>`",
    )
    rasa_timeout: float = env(
        "AQPARAT_RASA_TIMEOUT",
        8.0,
        "seconds before the user is told the bot is temporarily unavailable",
    )
    # The bot reaches the action server's /admin routes (maintainers' /reload, /stats) with
    # rasa_token as the bearer token; the action server refuses them when it has no token.
    actions_url: str = env(
        "AQPARAT_ACTIONS_URL",
        "",
        "where the bot finds the action server's admin routes (`/admin/reload`, `/admin/stats`)",
        default_shown="`http://127.0.0.1:<AQPARAT_ACTIONS_PORT>`",
    )
    bot_store: str = env(
        "AQPARAT_BOT_STORE",
        str(PROJECT_DIR / "var" / "bot.sqlite3"),
        "the bot's store: a SQLite path, or `redis://host:port/db` for several replicas",
        default_shown="`var/bot.sqlite3`",
    )
    bot_salt: str = env(
        "AQPARAT_BOT_SALT",
        "",
        "salt for the Rasa sender id (HMAC of chat and user id); empty: made once in the store",
        default_shown="generated",
    )
    flood_burst: int = env("AQPARAT_FLOOD_BURST", 5, "messages a user may send at once")
    flood_interval: float = env("AQPARAT_FLOOD_INTERVAL", 3.0, "seconds per message after the burst is spent")
    max_message_chars: int = env(
        "AQPARAT_MAX_MESSAGE_CHARS", 1_000, 'longer messages get a polite "please shorten it"'
    )
    maintainers: Ids = env(
        "AQPARAT_MAINTAINERS",
        frozenset(),
        "Telegram user ids (comma- or space-separated) allowed `/reload` and `/stats`",
    )
    webhook_url: str = env(
        "AQPARAT_WEBHOOK_URL", "", "empty: long polling; else the public URL Telegram posts updates to"
    )
    webhook_listen: str = env(
        "AQPARAT_WEBHOOK_LISTEN", "127.0.0.1", "where the webhook server listens (behind a TLS proxy)"
    )
    webhook_port: int = env("AQPARAT_WEBHOOK_PORT", 8443, "the webhook server's port")
    webhook_secret: str = env(
        "AQPARAT_WEBHOOK_SECRET",
        "",
        "Telegram's `secret_token`, checked on every webhook request; required with a webhook URL",
    )

    @property
    def rasa_base_url(self) -> str:
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def actions_base_url(self) -> str:
        return (self.actions_url or f"http://127.0.0.1:{self.actions_port}").rstrip("/")
