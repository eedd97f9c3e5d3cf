"""Run several services as one: start each, wait until each is healthy, stop all if one stops.

Each child runs in its own process group, so stopping it also stops whatever it started
(Rasa's Sanic workers, for example). Ctrl-C, SIGTERM or any child exiting stops every child;
the exit status says which one failed. A supervisor that is killed outright (SIGKILL, the OOM
killer) cannot stop anyone, so on Linux each child also asks the kernel for SIGTERM when its
parent dies, instead of living on as an orphan that holds the ports.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from stack import process
from stack.process import ProcessFailed

log = logging.getLogger(__name__)

STOP_GRACE_SECONDS = 10.0


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
        self.process = process.start(
            self.command, cwd=cwd, env=self.env, log=self.log_file, user=self.user, die_with_parent=True
        )

    def is_ready(self, client: httpx.Client) -> bool:
        if self.health_url is None:
            return self.exited() is None
        return process.answers(client, self.health_url, self.ready)

    def wait_ready(self, client: httpx.Client, timeout: float, poll: float = 0.5) -> None:
        """Until it is healthy; ``ProcessFailed`` if it exits first or takes over ``timeout`` s."""
        assert self.process is not None, f"{self.name} was never started"
        process.wait_until(lambda: self.is_ready(client), self.process, self.name, timeout=timeout, poll=poll)

    def exited(self) -> int | None:
        return self.process.poll() if self.process else None

    def stop(self) -> None:
        if self.process is not None:
            process.stop(self.process, signal.SIGTERM, STOP_GRACE_SECONDS)


class _Stop(Exception):
    pass


def _raise_stop(signum: int, _frame: object) -> None:
    raise _Stop(signal.Signals(signum).name)


def _check(services: Sequence[Service]) -> None:
    for service in services:
        if (code := service.exited()) is not None:
            raise ProcessFailed(f"{service.name} stopped with status {code}")


def _watch(services: Sequence[Service], stopped: threading.Event, failed: list[str], poll: float) -> None:
    while not stopped.wait(poll):
        try:
            _check(services)
        except ProcessFailed as failure:
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
                service.wait_ready(client, start_timeout, poll_seconds)
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
    except ProcessFailed as failure:
        log.error("%s; stopping the others", failure)
        return 1
    finally:
        for service in reversed(services):
            service.stop()
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
