"""Our tracker store (``nlu/sessions.py``), run in Rasa's own environment against a SQLite file:
a conversation longer than a session is stored as several sessions, Rasa loads only the latest,
and that one still holds the language, the previous question and an open form."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[1]
RASA_PYTHON = PROJECT_DIR / ".venv-rasa" / "bin" / "python"

SCRIPT = r"""
import asyncio, json, sys
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SessionStarted
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from nlu.sessions import SessionTrackerStore

db, turns, form_from = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
domain = Domain.load("domain.yml")
store = SessionTrackerStore(domain=domain, session_turns=3, dialect="sqlite", db=db)
sizes, sessions = [], []

async def turn(n):
    tracker = await store.retrieve("resident") or DialogueStateTracker("resident", domain.slots)
    sizes.append(len(tracker.events))
    if not tracker.events:
        for e in [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]:
            tracker.update(e, domain)
    tracker.update(UserUttered(f"question {n}", {"name": "ask_question", "confidence": 1.0}), domain)
    tracker.update(ActionExecuted("action_answer"), domain)
    tracker.update(BotUttered(f"answer {n}"), domain)
    tracker.update(SlotSet("last_question", f"question {n}"), domain)
    if n == 0:
        tracker.update(SlotSet("language", "kk"), domain)
    if n == form_from:
        tracker.update(ActionExecuted("school_form"), domain)
        tracker.update(ActiveLoop("school_form"), domain)
        tracker.update(SlotSet("school_region", "almaty"), domain)
        tracker.update(SlotSet("requested_slot", "school_rural"), domain)
    tracker.update(ActionExecuted("action_listen"), domain)
    await store.save(tracker)

async def main():
    for n in range(turns):
        await turn(n)
    loaded = await store.retrieve("resident")
    everything = await store.retrieve_full_tracker("resident")
    found = {
        "sizes": sizes,
        "first": [e.type_name for e in loaded.events][:2],
        "users": [e.text for e in loaded.events if isinstance(e, UserUttered)],
        "all_users": sum(isinstance(e, UserUttered) for e in everything.events),
        "sessions": sum(isinstance(e, SessionStarted) for e in everything.events),
        "slots": {k: v for k, v in loaded.current_slot_values().items() if v is not None},
        "loop": loaded.active_loop_name,
    }
    # A turn cut short (the last event is not action_listen) never starts a session.
    loaded.update(UserUttered("unanswered", {"name": "ask_question", "confidence": 1.0}), domain)
    await store.save(loaded)
    after_cut = await store.retrieve("resident")
    found["cut_users"] = [e.text for e in after_cut.events if isinstance(e, UserUttered)]
    print(json.dumps(found))

asyncio.run(main())
"""


def run(tmp_path: Path, turns: int, form_from: int = -1) -> dict:
    if not RASA_PYTHON.exists():
        pytest.skip(".venv-rasa is missing (`make setup` creates it)")
    done = subprocess.run(
        [
            str(RASA_PYTHON),
            "-W",
            "ignore",
            "-c",
            SCRIPT,
            str(tmp_path / "tracker.db"),
            str(turns),
            str(form_from),
        ],
        cwd=PROJECT_DIR,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
        },
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def test_a_long_conversation_is_loaded_one_short_session_at_a_time(tmp_path: Path) -> None:
    found = run(tmp_path, turns=11)
    # Three user messages a session: what Rasa loads stops growing instead of adding ~6 events a turn.
    assert found["sizes"][3] < found["sizes"][2]
    assert found["sizes"][3:6] == found["sizes"][6:9]
    assert found["first"] == ["session_started", "slot"]
    assert found["users"] == ["question 9", "question 10"]  # 11 turns: sessions of 3, 3, 3, 2
    assert found["all_users"] == 11  # nothing is deleted: the earlier sessions stay stored
    assert found["sessions"] == 1 + 3
    assert found["slots"] == {"language": "kk", "last_question": "question 10"}
    assert found["loop"] is None
    assert found["cut_users"] == ["question 9", "question 10", "unanswered"]


def test_an_open_form_and_its_answers_carry_over_to_the_next_session(tmp_path: Path) -> None:
    found = run(tmp_path, turns=6, form_from=4)  # the form opens in the second session's 2nd turn
    assert found["users"] == []  # the sixth message closed the second session
    assert found["loop"] == "school_form"
    assert found["slots"]["school_region"] == "almaty"
    assert found["slots"]["requested_slot"] == "school_rural"
    assert found["slots"]["language"] == "kk"
