"""Run several services as one: start each, wait until each is healthy, stop all if one stops.

Each child runs in its own process group, so stopping it also stops whatever it started
(Rasa's Sanic workers, for example). Ctrl-C, SIGTERM or any child exiting stops every child;
the exit status says which one failed. A supervisor that is killed outright (SIGKILL, the OOM
killer) cannot stop anyone, so on Linux each child also asks the kernel for SIGTERM when its
parent dies, instead of living on as an orphan that holds the ports.
"""

from __future__ import annotations

import ctypes
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0
_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


def _term_when_parent_dies() -> None:
    """Runs in the child between fork and exec (after setsid and any change of user, which would
    clear the setting): one system call through a function looked up before the fork, so it
    takes no lock another thread of the supervisor could hold."""
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


_PREEXEC = _term_when_parent_dies if _prctl is not None else None


@dataclass
class Service:
    name: str
    command: Sequence[str]
    health_url: str | None  # None: ready once started (the Telegram bot polls; it serves no port)
    ready: Callable[[httpx.Response], bool] = lambda response: response.status_code == 200
    env: Mapping[str, str] = field(default_factory=dict)
    log_file: Path | None = None
    # Run as this user (the caller must be root). The integration tests start PostgreSQL, which
    # refuses to run as root, this way rather than through runuser, so that the server is our
    # own child and is reaped at once when killed (its pid file then names no living process).
    user: str | None = None
    process: subprocess.Popen[bytes] | None = None

    def start(self, cwd: Path) -> None:
        output = self.log_file.open("ab") if self.log_file else None
        self.process = subprocess.Popen(  # noqa: S603 - our own commands, no shell
            list(self.command),
            cwd=cwd,
            env={**os.environ, **self.env},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
            user=self.user,
            preexec_fn=_PREEXEC,  # one prctl call, see _term_when_parent_dies
        )

    def is_ready(self, client: httpx.Client) -> bool:
        if self.health_url is None:
            return self.exited() is None
        try:
            return self.ready(client.get(self.health_url))
        except httpx.HTTPError:
            return False

    def exited(self) -> int | None:
        return self.process.poll() if self.process else None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=STOP_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        except ProcessLookupError:
            pass


class ServiceFailed(RuntimeError):
    pass


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _check(services: Sequence[Service]) -> None:
    for service in services:
        if (code := service.exited()) is not None:
            raise ServiceFailed(f"{service.name} stopped with status {code}")


def _watch(services: Sequence[Service], stopped: threading.Event, failed: list[str], poll: float) -> None:
    while not stopped.wait(poll):
        try:
            _check(services)
        except ServiceFailed as failure:
            log.error("%s; stopping the others", failure)
            failed.append(str(failure))
            os.kill(os.getpid(), signal.SIGTERM)
            return


def run_services(
    services: Sequence[Service],
    cwd: Path,
    *,
    start_timeout: float = 300.0,
    on_ready: Callable[[], None] = lambda: None,
    foreground: Callable[[], int] | None = None,
    poll_seconds: float = 0.5,
) -> int:
    """Start ``services`` in order (each healthy before the next starts), then watch them.

    With ``foreground`` (the terminal chat), that runs in this thread once all are ready and its
    return ends the run; a watcher thread turns a service's death into SIGTERM for this process,
    so a dead Rasa ends the chat instead of leaving it talking to nothing.
    Returns 0 after Ctrl-C/SIGTERM or when ``foreground`` returns 0, 1 when a service failed to
    start or stopped by itself.
    """
    previous = signal.signal(signal.SIGTERM, _raise_stop)
    # Ctrl-C must stop us even when we were started with SIGINT ignored (a shell's background
    # job, nohup): Python then keeps it ignored, and the services would outlive every stop.
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    failed: list[str] = []
    try:
        with httpx.Client(timeout=2.0) as client:
            for service in services:
                log.info("starting %s", service.name)
                service.start(cwd)
                deadline = time.monotonic() + start_timeout
                while not service.is_ready(client):
                    if (code := service.exited()) is not None:
                        raise ServiceFailed(f"{service.name} exited with status {code} while starting")
                    if time.monotonic() > deadline:
                        raise ServiceFailed(f"{service.name} was not healthy after {start_timeout:.0f} s")
                    time.sleep(poll_seconds)
                log.info("%s is ready", service.name)
            on_ready()
            if foreground is not None:
                stopped = threading.Event()
                watcher = threading.Thread(
                    target=_watch, args=(services, stopped, failed, poll_seconds), daemon=True
                )
                watcher.start()
                try:
                    return foreground()
                finally:
                    stopped.set()
            while True:
                _check(services)
                time.sleep(poll_seconds)
    except (KeyboardInterrupt, _Stop):
        log.info("stopping")
        return 1 if failed else 0
    except ServiceFailed as failure:
        log.error("%s; stopping the others", failure)
        return 1
    finally:
        for service in reversed(services):
            service.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
