"""Start, wait for, and stop the processes the stack is made of: one way, for every caller.

The supervisor (``stack/supervisor.py``), the end-to-end benchmark (``bench/e2e.py``) and the
test harnesses (``tests/running_stack.py``, ``tests/integration/cluster.py``) all start a
command, wait until it answers, and stop it again. Doing it once here means each of them stops a
process the same way (its whole process group: Rasa's Sanic workers go with Rasa) and reports a
process that died while starting the same way (with the last lines of its log).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
_prctl = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else None


class ProcessFailed(RuntimeError):
    """A process exited while it should be running, or was not ready in time."""


def _term_when_parent_dies() -> None:
    """Runs in the child between fork and exec (after setsid and any change of user, which would
    clear the setting): one system call through a function looked up before the fork, so it
    takes no lock another thread of the parent could hold."""
    assert _prctl is not None  # only handed to Popen on Linux
    _prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def start(
    command: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    log: Path | None = None,
    user: str | None = None,
    die_with_parent: bool = False,
) -> subprocess.Popen[bytes]:
    """``command`` as the leader of a process group of its own, so that stopping it also stops
    whatever it started; ``env`` is added to ours; its output goes to ``log`` (appended) or ours.

    ``user``: run as this user (the caller must be root). ``die_with_parent``: on Linux, ask the
    kernel for SIGTERM when the parent dies, so a parent killed outright (SIGKILL, the OOM
    killer) leaves no orphan holding a port. The kernel means the parent *thread*, so only a
    caller that starts its children from a thread that lives as long as it does may ask for it
    (the supervisor's main thread, not a worker of ``asyncio.to_thread``).
    """
    preexec = _term_when_parent_dies if die_with_parent and _prctl is not None else None
    output = log.open("ab") if log else None
    try:
        return subprocess.Popen(  # noqa: S603 - our own commands, no shell
            list(command),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            stdout=output,
            stderr=subprocess.STDOUT if output else None,
            start_new_session=True,
            user=user,
            preexec_fn=preexec,  # one prctl call, see _term_when_parent_dies
        )
    finally:
        if output:
            output.close()  # the child holds its own copy


def tail(path: Path, lines: int = 15) -> str:
    """The last ``lines`` lines of a log, for an error message."""
    if not path.exists():
        return f"({path} does not exist)"
    return "\n".join(path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])


def wait_until(
    ready: Callable[[], bool],
    process: subprocess.Popen[bytes],
    what: str,
    *,
    timeout: float,
    poll: float = 0.5,
    log: Path | None = None,
) -> float:
    """Seconds until ``ready()`` holds. Raises ``ProcessFailed`` as soon as ``process`` exits, or
    once ``timeout`` has passed, with the last lines of ``log`` when one is given: a wait that
    ends in "not ready" alone sends the reader looking for the reason."""
    started = time.monotonic()
    while not ready():
        if (code := process.poll()) is not None:
            raise ProcessFailed(_with_log(f"{what} exited with status {code} while starting", log))
        if time.monotonic() - started > timeout:
            raise ProcessFailed(_with_log(f"{what} was not ready after {timeout:.0f} s", log))
        time.sleep(poll)
    return time.monotonic() - started


def _with_log(message: str, log: Path | None) -> str:
    return message if log is None else f"{message}; last lines of {log}:\n{tail(log)}"


def answers(
    client: httpx.Client, url: str, check: Callable[[httpx.Response], bool] = lambda r: r.status_code == 200
) -> bool:
    """Whether ``url`` answers and ``check`` accepts the answer; a refused or broken connection
    (the process is still starting) is a plain no."""
    try:
        return check(client.get(url))
    except httpx.HTTPError:
        return False


def stop(process: subprocess.Popen[bytes], sig: signal.Signals = signal.SIGTERM, grace: float = 10.0) -> bool:
    """``sig`` to the process group, then SIGKILL to what is left after ``grace`` seconds.
    False when it had to be killed."""
    if process.poll() is not None:
        return True
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        kill(process)
        return False
    except ProcessLookupError:
        pass
    return True


def kill(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the process group: no shutdown code runs, as in a crash or an OOM kill."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=30)


def port_free(port: int, host: str = "127.0.0.1") -> bool:
    """Nothing listens on ``port``: a server left over from another run would otherwise answer
    in place of the one we are about to start."""
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) != 0
