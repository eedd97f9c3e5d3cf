"""Retention: forget conversations and log lines older than ``AQPARAT_RETENTION_DAYS`` days.

Two places hold what users wrote:
- **Rasa's tracker store** (SQLite by default, PostgreSQL in production). A conversation is
  deleted whole when its last event is older than the cutoff, by ``stack/tracker_retention.py``
  run in Rasa's environment: SQLAlchemy and psycopg2 live there, and it reads the endpoints file
  exactly as Rasa does, so the app environment needs no database driver.
- **The conversation logs** (``knowledge/logs.py``: unanswered questions, feedback, question
  outcomes). Each line carries its own time; lines older than the cutoff are dropped.

``python -m stack prune`` runs both once (for cron, or a maintainer). When retention is on,
``make serve``/``make run`` prune the tracker store at start and then daily, in a thread of the
supervisor, and the action server prunes its own logs the same way (so it does in containers,
where the ``retention`` service runs ``tracker_retention.py`` in the Rasa image). A failed round
is logged and retried next day: a database down for a minute must not stop the stack.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import os
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from config import PROJECT_DIR
from knowledge.logs import prune_logs
from stack.periodic import DAY_SECONDS, repeat
from stack.settings import StackSettings

log = logging.getLogger(__name__)

RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"
TRACKER_SCRIPT = Path(__file__).with_name("tracker_retention.py")
TRACKER_TIMEOUT_SECONDS = 600.0


@dataclass(frozen=True)
class Pruned:
    """What one round deleted."""

    cutoff: dt.datetime
    conversations: int = 0
    events: int = 0
    store: str = ""
    log_lines: dict[str, int] | None = field(default_factory=dict)  # None: logs not pruned

    def summary(self) -> str:
        lines = ", ".join(f"{name}: {count}" for name, count in (self.log_lines or {}).items())
        logs = "" if self.log_lines is None else f" and old log lines ({lines or 'no log files'})"
        return (
            f"before {self.cutoff.isoformat(timespec='seconds')}: deleted {self.conversations} "
            f"conversation(s) ({self.events} events, {self.store or 'no'} tracker store){logs}"
        )


def cutoff_for(days: int, now: float | None = None) -> float:
    """Unix time ``days`` days before ``now``; retention must be switched on (days ≥ 1)."""
    if days < 1:
        raise ValueError(f"retention days must be 1 or more, not {days} (0 keeps everything)")
    return (time.time() if now is None else now) - days * DAY_SECONDS


def prune_tracker(endpoints: Path, before: float, env: Mapping[str, str]) -> dict[str, object]:
    """Delete old conversations from the tracker store ``endpoints`` names (Rasa's environment;
    ``env`` is what Rasa itself gets, so the file's ``${VAR}`` resolve to the same database)."""
    if not RASA_PYTHON.exists():
        raise RuntimeError(f"{RASA_PYTHON} is missing: `make setup` creates Rasa's environment")
    done = subprocess.run(  # noqa: S603 - our own script and arguments, no shell
        [str(RASA_PYTHON), "-W", "ignore", str(TRACKER_SCRIPT), str(endpoints), "--before", repr(before)],
        cwd=PROJECT_DIR,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=TRACKER_TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise RuntimeError(f"pruning the tracker store failed ({done.returncode}): {tail}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def prune(
    settings: StackSettings, days: int, env: Mapping[str, str], now: float | None = None, *, logs: bool = True
) -> Pruned:
    """One round: the tracker store of ``settings.endpoints`` and, with ``logs``, the logs in
    ``settings.log_dir``."""
    before = cutoff_for(days, now)
    cutoff = dt.datetime.fromtimestamp(before, dt.UTC)
    lines = prune_logs(settings.log_dir, cutoff) if logs else None
    tracker = prune_tracker(settings.endpoints.resolve(), before, env)
    return Pruned(
        cutoff=cutoff,
        conversations=int(tracker["conversations"]),  # type: ignore[call-overload]
        events=int(tracker["events"]),  # type: ignore[call-overload]
        store=str(tracker["store"]),
        log_lines=lines,
    )


def prune_forever(settings: StackSettings, days: int, env: Mapping[str, str], every: float) -> None:
    """A round of the tracker store now and one every ``every`` seconds, until the process is
    stopped (in the thread that calls it). The logs are the action server's to prune
    (actions/server.py), also in containers."""

    def one_round() -> None:
        log.info("retention (%d days): %s", days, prune(settings, days, env, logs=False).summary())

    asyncio.run(repeat(one_round, every, "retention round", first_now=True, log=log))
