"""The supervisor (stack/supervisor.py) leaves no process behind, even when it is killed outright.

A supervisor stopped by Ctrl-C stops its children itself; one killed with SIGKILL (or by the OOM
killer) cannot, and its children, each in a process group of its own, would live on holding the
ports, so the next `make serve` fails with "address in use". These tests run a real supervisor
in a child Python with a service that only sleeps.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from knowledge.settings import PROJECT_DIR

SUPERVISOR = """
import sys
from pathlib import Path
from stack.supervisor import Service, run_services

sleeper = Service("sleeper", [sys.executable, "-c", "import time; time.sleep(120)"], health_url=None)
def ready():
    print(sleeper.process.pid, flush=True)
sys.exit(run_services([sleeper], Path("."), on_ready=ready, poll_seconds=0.1))
"""


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a parent that is gone (init reaps those quickly)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def wait_gone(pid: int, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not alive(pid):
            return True
        time.sleep(0.05)
    return False


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def start_supervisor(*, sigint_ignored: bool = False) -> tuple[subprocess.Popen[str], int]:
    """``sigint_ignored``: as a shell starts a background job, which then inherits SIGINT ignored."""
    supervisor = subprocess.Popen(
        [sys.executable, "-c", SUPERVISOR],
        cwd=PROJECT_DIR,
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    assert supervisor.stdout is not None
    child = int(supervisor.stdout.readline())
    assert alive(child)
    return supervisor, child


@pytest.mark.skipif(sys.platform != "linux", reason="the parent-death signal is Linux's")
def test_a_killed_supervisor_takes_its_children_with_it() -> None:
    supervisor, child = start_supervisor()
    try:
        supervisor.send_signal(signal.SIGKILL)
        supervisor.wait(timeout=10)
        assert wait_gone(child), "the service outlived its killed supervisor"
    finally:
        if alive(child):
            os.kill(child, signal.SIGKILL)


@pytest.mark.parametrize("sigint_ignored", [False, True])
def test_a_stopped_supervisor_stops_its_children_and_exits_cleanly(sigint_ignored: bool) -> None:
    supervisor, child = start_supervisor(sigint_ignored=sigint_ignored)
    supervisor.send_signal(signal.SIGINT)
    assert supervisor.wait(timeout=20) == 0
    assert not alive(child)
