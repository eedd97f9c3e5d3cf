"""Append-only JSON-lines files that several processes write at once, and the salt file beside them.

Several action-server workers append at once, so each record is one ``write`` of one complete
line on a file opened in append mode, under an exclusive ``flock``; readers take a shared lock
and skip (with a warning) any line they cannot parse, so one damaged line never hides the rest.
Every line carries its UTC ``time``, stamped under the lock, which is what retention prunes by.
Kept apart from ``knowledge/logs.py``, which decides what the maintainers' logs record.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol, TypeVar

log = logging.getLogger(__name__)


class _Timed(Protocol):
    @property
    def time(self) -> dt.datetime: ...


Entry = TypeVar("Entry", bound=_Timed)


def make_private_dir(directory: Path) -> None:
    """Questions are personal data: a new log directory is readable by its owner only."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)


def append_record(path: Path, fields: dict[str, Any]) -> None:
    """Append ``fields`` as one line, stamped with the time; a failure is logged, not raised."""
    try:
        fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    except OSError:
        log.exception("cannot write to the conversation log %s", path)
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        # Stamped under the lock, so the file's order is the order of time.
        stamped = {"time": dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"), **fields}
        line = json.dumps(stamped, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
        # A lone surrogate (a broken emoji half from some client) cannot be UTF-8: write "?".
        data = (line + "\n").encode("utf-8", "replace")
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # a crashed writer left half a line: keep ours separate
        written = os.write(fd, data)
        while written < len(data):  # only on a full disk or a signal; still under the lock
            written += os.write(fd, data[written:])
    except (OSError, ValueError):
        log.exception("cannot write to the conversation log %s", path)
    finally:
        os.close(fd)  # closing releases the lock


def read_records(path: Path, parse: Callable[[dict[str, Any]], Entry]) -> list[Entry]:
    """Every line ``parse`` accepts, oldest first; the others are skipped with a warning."""
    entries: list[Entry] = []
    for number, raw in _lines(path):
        try:
            record = json.loads(raw.decode("utf-8"))
            if not isinstance(record, dict):
                raise TypeError("not a JSON object")
            entry = parse(record)
        except (ValueError, TypeError, KeyError) as exc:
            reason = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
            log.warning("%s line %d skipped (unreadable: %s)", path, number, reason[:200])
            continue
        entries.append(entry)
    entries.sort(key=lambda entry: entry.time)  # stable: equal times keep the file's order
    return entries


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbered non-empty lines, read under a shared lock so no half-written line is seen."""
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return
    with handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_SH)
        data = handle.read()
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if raw.strip():
            yield number, raw


def _line_time(line: bytes) -> dt.datetime | None:
    try:
        record = json.loads(line)
        moment = dt.datetime.fromisoformat(record["time"])
    except (ValueError, TypeError, KeyError):
        return None
    return moment if moment.tzinfo is not None else None


def prune_before(path: Path, before: dt.datetime) -> int:
    """Drop the lines of one file written before ``before``; returns how many.

    A line goes when it is provably old: its own ``time``, or, for a damaged line (a crashed
    writer's half line has no readable time), the time of the next readable line, since it was
    written before that one. The file is rewritten in place under the same exclusive ``flock``
    the writers take: each writer opens the file per line and waits for the lock, then appends
    after our rewrite. (Writing a new file and renaming it over the old one would lose the line
    of a writer already waiting on the old file's lock.)
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return 0
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        size = os.fstat(fd).st_size
        data = os.pread(fd, size, 0)
        lines = [line for line in data.split(b"\n") if line.strip()]
        kept: list[bytes] = []
        newer: dt.datetime | None = None  # time of the nearest readable line after this one
        for line in reversed(lines):
            newer = _line_time(line) or newer
            if newer is None or newer >= before:
                kept.append(line)
        dropped = len(lines) - len(kept)
        if dropped:
            text = b"".join(line + b"\n" for line in reversed(kept))
            os.pwrite(fd, text, 0)
            os.ftruncate(fd, len(text))
            os.fsync(fd)
        return dropped
    finally:
        os.close(fd)  # releases the lock


def stored_salt(path: Path) -> str:
    """Read the salt, creating it first if absent. A new salt appears complete or not at all
    (written aside, then hard-linked into place), so two processes starting together agree."""
    if not path.exists():
        make_private_dir(path.parent)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secrets.token_hex(32) + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process won; use its salt
        finally:
            tmp.unlink()
    salt = path.read_text(encoding="utf-8").strip()
    if not salt:
        raise ValueError(
            f"{path} is empty: delete it to make a new salt (earlier user hashes will not match)"
        )
    return salt
