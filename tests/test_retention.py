"""Retention (``stack/retention.py``): old conversations and log lines go, recent ones stay whole.

The tracker store here is SQLite, written by Rasa's own ``SQLTrackerStore`` in Rasa's
environment (so the table is exactly Rasa's), pruned through the same path ``python -m stack
prune`` takes, and read back with the standard library. PostgreSQL is covered by
``tests/integration/test_durability.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from actions.server import prune_logs_daily
from knowledge.jsonl import prune_before
from knowledge.logs import FEEDBACK_FILE, QUESTIONS_FILE, ConversationLog, prune_logs
from knowledge.settings import PROJECT_DIR
from stack.periodic import DAY_SECONDS
from stack.retention import RASA_PYTHON, TRACKER_SCRIPT, cutoff_for, prune
from stack.services import rasa_env
from stack.settings import StackSettings

NOW = time.time()
CUTOFF = dt.datetime.fromtimestamp(NOW - 30 * DAY_SECONDS, dt.UTC)


def line(days_ago: float, text: str = "q") -> str:
    moment = dt.datetime.fromtimestamp(NOW - days_ago * DAY_SECONDS, dt.UTC)
    return json.dumps({"time": moment.isoformat(), "lang": "ru", "user": "u", "text": text})


def test_old_log_lines_go_and_recent_ones_stay_in_order(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS_FILE
    lines = [line(90, "a"), '{"time": "2026-01-01T00:0', line(31, "b"), line(29, "c"), line(0, "d")]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert prune_before(path, CUTOFF) == 3  # a, b, and the half line written before b
    assert path.read_text(encoding="utf-8") == f"{lines[3]}\n{lines[4]}\n"
    assert prune_before(path, CUTOFF) == 0  # idempotent


def test_a_damaged_line_is_kept_unless_a_later_line_proves_it_old(tmp_path: Path) -> None:
    path = tmp_path / QUESTIONS_FILE
    path.write_text(f"{line(90)}\n{line(31)}\nbroken\n{line(29)}\nbroken too\n", encoding="utf-8")
    assert prune_before(path, CUTOFF) == 2  # the next readable line is recent, or there is none
    assert path.read_text(encoding="utf-8").splitlines() == ["broken", line(29), "broken too"]


def test_writers_append_after_a_prune_and_readers_see_a_valid_log(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path, salt="test")
    log.record_feedback(helpful=True, fact_id="f", lang="ru", sender_id="s", question="q")
    path = tmp_path / FEEDBACK_FILE
    recent = path.read_text(encoding="utf-8")
    path.write_text(line(60) + "\n" + recent, encoding="utf-8")
    assert prune_logs(tmp_path, CUTOFF) == {FEEDBACK_FILE: 1}
    log.record_feedback(helpful=False, fact_id="g", lang="kk", sender_id="s", question="r")
    assert [entry.fact_id for entry in log.feedback()] == ["f", "g"]
    assert prune_logs(tmp_path / "missing", CUTOFF) == {}


def test_retention_must_be_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="0 keeps everything"):
        cutoff_for(0)
    assert cutoff_for(2, now=1_000_000.0) == 1_000_000.0 - 2 * DAY_SECONDS


# Each conversation: event ages in days, oldest first (sender -> list). Written by Rasa itself.
CONVERSATIONS = {"old": [45, 40], "returning": [45, 0.5], "new": [2, 0]}
WRITE_TRACKERS = """
import asyncio, json, sys, time
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

path, now, plan = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
store = SQLTrackerStore(Domain.empty(), dialect="sqlite", db=path)
for sender, ages in plan.items():
    events = []
    for age in ages:
        at = now - age * 86400
        events += [UserUttered("hi", timestamp=at), SlotSet("language", "kk", timestamp=at)]
    asyncio.run(store.save(DialogueStateTracker.from_events(sender, events)))
"""


def event_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT sender_id, count(*) FROM events GROUP BY sender_id").fetchall())


@pytest.fixture
def tracker_settings(tmp_path: Path) -> StackSettings:
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is missing (`make setup` creates it)")
    settings = StackSettings.from_env({}).model_copy(
        update={"tracker_db": tmp_path / "tracker.db", "log_dir": tmp_path / "log"}
    )
    subprocess.run(
        [str(RASA_PYTHON), "-W", "ignore", "-c", WRITE_TRACKERS, str(settings.tracker_db), repr(NOW),
         json.dumps(CONVERSATIONS)],
        env={**os.environ, "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "RASA_TELEMETRY_ENABLED": "false"},
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    assert event_counts(settings.tracker_db) == {"old": 4, "returning": 4, "new": 4}
    return settings


def test_whole_conversations_idle_past_the_cutoff_are_deleted_from_the_sqlite_store(
    tracker_settings: StackSettings,
) -> None:
    settings = tracker_settings
    settings.log_dir.mkdir()
    (settings.log_dir / QUESTIONS_FILE).write_text(f"{line(40)}\n{line(1)}\n", encoding="utf-8")
    pruned = prune(settings, 30, rasa_env(settings), now=NOW)
    assert (pruned.conversations, pruned.events, pruned.store) == (1, 4, "sqlite")
    assert pruned.log_lines == {QUESTIONS_FILE: 1}
    # "returning" began 45 days ago but spoke today: kept whole, not cut to its recent half.
    assert event_counts(settings.tracker_db) == {"returning": 4, "new": 4}
    assert "deleted 1 conversation(s) (4 events, sqlite tracker store)" in pruned.summary()


def test_the_prune_command_follows_the_setting(tracker_settings: StackSettings) -> None:
    env = {
        **os.environ,
        "AQPARAT_TRACKER_DB": str(tracker_settings.tracker_db),
        "AQPARAT_LOG_DIR": str(tracker_settings.log_dir),
    }

    def run(*args: str, **extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "stack", "prune", *args],
            cwd=PROJECT_DIR,
            env=env | extra,
            capture_output=True,
            text=True,
            check=True,
            timeout=300,
        )
        return done.stdout

    assert "retention is off" in run(AQPARAT_RETENTION_DAYS="0")
    assert event_counts(tracker_settings.tracker_db) == {"old": 4, "returning": 4, "new": 4}
    assert "deleted 1 conversation(s)" in run(AQPARAT_RETENTION_DAYS="30")
    assert event_counts(tracker_settings.tracker_db) == {"returning": 4, "new": 4}
    # --days overrides the setting for one run; "returning" last spoke 12 h ago, "new" just now.
    assert "deleted 0 conversation(s)" in run("--days", "1", AQPARAT_RETENTION_DAYS="0")
    assert event_counts(tracker_settings.tracker_db) == {"returning": 4, "new": 4}


def test_the_containers_retention_round_deletes_by_days_and_leaves_a_heartbeat(
    tracker_settings: StackSettings, tmp_path: Path
) -> None:
    """What the compose `retention` service runs in the Rasa image, one round of it (its
    ``--every`` loop sleeps between the same rounds); 0 days deletes nothing and is still healthy."""
    heartbeat = tmp_path / "retention-round"
    env = {**os.environ, **rasa_env(tracker_settings)}

    def round_of(days: str) -> dict[str, object]:
        done = subprocess.run(
            [str(RASA_PYTHON), "-W", "ignore", str(TRACKER_SCRIPT), str(tracker_settings.endpoints),
             "--days", days, "--heartbeat", str(heartbeat)],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert round_of("0")["conversations"] == 0
    assert heartbeat.exists()
    assert event_counts(tracker_settings.tracker_db) == {"old": 4, "returning": 4, "new": 4}
    heartbeat.unlink()
    assert round_of("30")["conversations"] == 1
    assert heartbeat.exists()
    assert event_counts(tracker_settings.tracker_db) == {"returning": 4, "new": 4}


def test_the_action_server_prunes_its_logs_daily(tmp_path: Path) -> None:
    """In containers no supervisor runs: the action server keeps its own logs to the setting."""
    (tmp_path / QUESTIONS_FILE).write_text(f"{line(40)}\n{line(1)}\n", encoding="utf-8")

    async def one_round() -> None:
        task = asyncio.create_task(prune_logs_daily(tmp_path, 30, every=3600))
        while len((tmp_path / QUESTIONS_FILE).read_text(encoding="utf-8").splitlines()) > 1:
            await asyncio.sleep(0.01)
        task.cancel()

    asyncio.run(asyncio.wait_for(one_round(), 10))
    assert (tmp_path / QUESTIONS_FILE).read_text(encoding="utf-8") == f"{line(1)}\n"
