"""What the stack runs: the action server, Rasa and the bot as ``Service`` definitions, and what
Rasa is handed (its token, arguments and the variables its endpoints file substitutes).

``python -m stack`` runs them under the supervisor; the end-to-end tests, the integration cluster
and the benchmark build their processes from the same definitions, so they test what users run.
"""

from __future__ import annotations

import secrets
import sys
from pathlib import Path

import httpx

from config import PROJECT_DIR
from stack.settings import StackSettings
from stack.supervisor import Service

RASA = PROJECT_DIR / ".venv-rasa" / "bin" / "rasa"
MODEL = PROJECT_DIR / "models" / "aqparat.tar.gz"
TOKEN_FILE = PROJECT_DIR / "var" / "rasa-token"


def rasa_token(settings: StackSettings, path: Path = TOKEN_FILE) -> str:
    """The configured token, else one made once and kept (mode 0600) so clients can read it."""
    if settings.rasa_token:
        return settings.rasa_token
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_urlsafe(24)
    path.touch(mode=0o600)
    path.write_text(token, encoding="utf-8")
    return token


def rasa_args(settings: StackSettings) -> list[str]:
    return [
        "--interface", "127.0.0.1", "--port", str(settings.rasa_port), "--model", str(MODEL),
        "--endpoints", str(settings.endpoints.resolve()), "--credentials", "credentials.yml",
    ]  # fmt: skip


def rasa_env(settings: StackSettings) -> dict[str, str]:
    """What the endpoints file reads besides DB_*/REDIS_* (which pass through from our own
    environment untouched): Rasa refuses a file whose ${VAR} is unset, so both are always set.
    The SQLite path is made absolute, and its directory created, because SQLite creates only the
    file and Rasa's working directory need not be the caller's."""
    tracker_db = settings.tracker_db.resolve()
    tracker_db.parent.mkdir(parents=True, exist_ok=True)
    return {
        "AQPARAT_ACTIONS_PORT": str(settings.actions_port),
        "AQPARAT_TRACKER_DB": str(tracker_db),
        "TF_CPP_MIN_LOG_LEVEL": "2",
        "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
    }


def rasa_loaded(response: httpx.Response) -> bool:
    """Rasa's ``/status`` once it has loaded its model: before that its port already answers."""
    return response.status_code == 200 and bool(response.json().get("model_id"))


def dialogue_services(settings: StackSettings, log_dir: Path, token: str) -> list[Service]:
    base = f"http://127.0.0.1:{settings.rasa_port}"
    return [
        Service(
            name="action server",
            command=[sys.executable, "-m", "actions.server", "--port", str(settings.actions_port)],
            health_url=f"http://127.0.0.1:{settings.actions_port}/health",
            env={"AQPARAT_RASA_TOKEN": token},
            log_file=log_dir / "actions.log",
        ),
        Service(
            name="rasa",
            command=[str(RASA), "run", "--enable-api", "--auth-token", token, *rasa_args(settings)],
            health_url=f"{base}/status?token={token}",
            ready=rasa_loaded,
            env=rasa_env(settings),
            log_file=log_dir / "rasa.log",
        ),
    ]


def bot_service(log_dir: Path, token: str) -> Service:
    return Service(
        name="telegram bot",
        command=[sys.executable, "-m", "bot", "run"],
        health_url=None,
        env={"AQPARAT_RASA_TOKEN": token},
        log_file=log_dir / "bot.log",
    )
