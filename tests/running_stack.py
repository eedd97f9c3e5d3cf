"""Start and stop ``python -m stack serve`` for the end-to-end tests, on ports of their own."""

from __future__ import annotations

import signal
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from knowledge.settings import PROJECT_DIR
from stack import process
from stack.services import MODEL

START_TIMEOUT = 240
STOP_TIMEOUT = 60
TOKEN = "e2e-token"


@dataclass
class RunningStack:
    rasa_port: int
    actions_port: int
    log_dir: Path
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    def start(self) -> RunningStack:
        assert MODEL.exists(), "no Rasa model: run `make model` (make test does)"
        # A stack left over from an earlier run would answer in this one's place, with its own
        # code and index: refuse to test it.
        busy = f"port {self.rasa_port} or {self.actions_port} is in use by another process"
        assert self.ports_closed(), busy
        env = {
            "AQPARAT_RASA_PORT": str(self.rasa_port),
            "AQPARAT_ACTIONS_PORT": str(self.actions_port),
            "AQPARAT_LOG_DIR": str(self.log_dir),
            "AQPARAT_LOG_SALT": "e2e",
            "AQPARAT_RASA_TOKEN": TOKEN,
            "AQPARAT_SCHOOLS_FILE": str(self.log_dir / "no-registry.json"),
            # Each stack its own conversations: the tests reuse sender ids from run to run.
            "AQPARAT_TRACKER_DB": str(self.log_dir / "tracker.db"),
        }
        self.process = process.start([sys.executable, "-m", "stack", "serve"], cwd=PROJECT_DIR, env=env)
        try:
            with httpx.Client(timeout=2) as client:
                status = f"{self.rasa_url}/status?token={TOKEN}"
                process.wait_until(
                    lambda: process.answers(client, status),
                    self.process,
                    f"the stack (logs in {self.log_dir})",
                    timeout=START_TIMEOUT,
                    poll=1,
                )
        except process.ProcessFailed:
            self.stop()  # never leave a half-started stack holding the ports for the next test
            raise
        return self

    def stop(self) -> None:
        """Ctrl-C, as a developer would; the supervisor stops everything it started. A stack
        that does not stop is killed (its services follow a killed supervisor: they ask the
        kernel for SIGTERM when it dies), so it never holds the ports for the next test."""
        if self.process is not None and not process.stop(self.process, signal.SIGINT, STOP_TIMEOUT):
            raise AssertionError(f"the stack did not stop within {STOP_TIMEOUT} s; see {self.log_dir}")

    def ports_closed(self) -> bool:
        return process.port_free(self.rasa_port) and process.port_free(self.actions_port)
