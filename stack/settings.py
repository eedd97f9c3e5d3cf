"""The supervisor's settings: Rasa's endpoints and tracker store, on top of the action server's.

``python -m stack`` starts the action server and prunes what it logs, so it reads the action
server's settings too; the bot's it reads separately (``bot.settings``) when it starts the bot.
"""

from __future__ import annotations

from pathlib import Path

from actions.settings import ActionSettings
from config import PROJECT_DIR, env


class StackSettings(ActionSettings):
    """Read by ``python -m stack`` (``make serve``, ``make run``, ``python -m stack prune``)."""

    endpoints: Path = env(
        "AQPARAT_ENDPOINTS",
        PROJECT_DIR / "endpoints.yml",
        "Rasa's endpoints file: `endpoints.yml` (SQLite tracker store, in-memory lock store, one "
        "Rasa) or `endpoints.production.yml` (PostgreSQL and Redis from `DB_*`/`REDIS_*`, any number "
        "of Rasa replicas)",
    )
    tracker_db: Path = env(
        "AQPARAT_TRACKER_DB",
        PROJECT_DIR / "var" / "tracker.db",
        "the SQLite file that holds conversations with `endpoints.yml`",
    )
