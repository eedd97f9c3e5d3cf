"""`make run` without a Telegram token: the whole stack with a terminal chat, as a newcomer sees it.

Runs `python -m stack run` with the chat's input piped in; end of input ends the chat, and that
must stop every process the command started.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from knowledge.settings import PROJECT_DIR
from stack.services import MODEL

pytestmark = pytest.mark.e2e

RASA_PORT = 5405
ACTIONS_PORT = 5455


def test_make_run_without_a_token_chats_in_the_terminal_and_stops_everything(tmp_path: Path) -> None:
    assert MODEL.exists(), "no Rasa model: run `make model` (make test does)"
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    env |= {
        "AQPARAT_RASA_PORT": str(RASA_PORT),
        "AQPARAT_ACTIONS_PORT": str(ACTIONS_PORT),
        "AQPARAT_LOG_DIR": str(tmp_path / "log"),
        "AQPARAT_BOT_STORE": str(tmp_path / "bot.sqlite3"),
        "AQPARAT_TRACKER_DB": str(tmp_path / "tracker.db"),
        "AQPARAT_RASA_TOKEN": "run-test",
        "LANG": "kk_KZ.UTF-8",  # the terminal's locale is the language hint
        "COLUMNS": "200",
    }
    chat = "Starlink заңды ма?\n/help\n1\n/nonsense\n"
    done = subprocess.run(
        [sys.executable, "-m", "stack", "run"],
        cwd=PROJECT_DIR,
        env=env,
        input=chat,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, done.stderr[-2000:]
    assert "TELEGRAM_BOT_TOKEN is not set" in out
    assert "Дереккөз: Vlast.kz" in out  # the question, answered in Kazakh with its source…
    assert "https://vlast.kz/english/" in out  # …whose link the terminal shows as text
    assert "[1] 👍" in out  # buttons are numbered choices
    assert "[1] Мектепті тексеру" in out  # /help offers the school check first…
    assert "Мектеп қай облыста" in out  # …and typing "1" pressed it
    assert "Мен бұл пәрменді білмеймін" in out  # an unknown command, answered in Kazakh
    for port in (RASA_PORT, ACTIONS_PORT):  # end of input stopped everything `run` started
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
