"""Start and stop ``python -m stack serve`` for the end-to-end tests, on ports of their own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from knowledge.settings import PROJECT_DIR
from stack.__main__ import MODEL

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
            **os.environ,
            "AQPARAT_RASA_PORT": str(self.rasa_port),
            "AQPARAT_ACTIONS_PORT": str(self.actions_port),
            "AQPARAT_LOG_DIR": str(self.log_dir),
            "AQPARAT_LOG_SALT": "e2e",
            "AQPARAT_RASA_TOKEN": TOKEN,
            "AQPARAT_SCHOOLS_FILE": str(self.log_dir / "no-registry.json"),
            # Each stack its own conversations: the tests reuse sender ids from run to run.
            "AQPARAT_TRACKER_DB": str(self.log_dir / "tracker.db"),
        }
        self.process = subprocess.Popen(
            [sys.executable, "-m", "stack", "serve"], cwd=PROJECT_DIR, env=env, start_new_session=True
        )
        deadline = time.monotonic() + START_TIMEOUT
        while not self._ready():
            assert self.process.poll() is None, (
                f"the stack exited ({self.process.returncode}); see {self.log_dir}"
            )
            if time.monotonic() > deadline:
                self.stop()  # never leave a half-started stack holding the ports for the next test
                raise AssertionError(f"the stack did not start in {START_TIMEOUT} s; see {self.log_dir}")
            time.sleep(1)
        return self

    def _ready(self) -> bool:
        try:
            return httpx.get(f"{self.rasa_url}/status?token={TOKEN}", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        """Ctrl-C, as a developer would; the supervisor stops everything it started."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            # Never leave a stack holding the ports for the next test: its services follow a
            # killed supervisor (they ask the kernel for SIGTERM when it dies).
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
            message = f"the stack did not stop within {STOP_TIMEOUT} s; see {self.log_dir}"
            raise AssertionError(message) from None

    def ports_closed(self) -> bool:
        for port in (self.rasa_port, self.actions_port):
            try:
                httpx.get(f"http://127.0.0.1:{port}/", timeout=2)
            except httpx.ConnectError:
                continue
            return False
        return True
