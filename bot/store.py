"""What the bot itself remembers: button keys, flood buckets, the last reply language, its salt.

Conversation state is Rasa's; this is only the bot's own bookkeeping, kept outside the process
so a restart forgets nothing (a button pressed after a restart still works) and so several bot
replicas in webhook mode can share it. SQLite (one file, the default) or Redis (by setting).

Button payloads map to keys derived from the payload itself, so the same button always gets the
same key and the table grows with the number of distinct buttons, not with messages sent.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import secrets
import sqlite3
import time
from abc import ABC, abstractmethod
from pathlib import Path

from bot.flood import Bucket, FloodRule, Verdict, take

KEY_CHARS = 22  # 132 bits of SHA-256 in base64url: collisions are not a practical concern
KEY_TTL_SECONDS = 180 * 24 * 3600  # buttons unused for half a year are forgotten
BUCKET_TTL_SECONDS = 24 * 3600  # an idle user's flood bucket is full again long before this
LANGUAGE_TTL_SECONDS = 365 * 24 * 3600  # a user silent for a year is asked afresh
PRUNE_EVERY_SECONDS = 24 * 3600


def payload_key(payload: str) -> str:
    digest = hashlib.sha256(payload.encode("utf-8", "surrogatepass")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:KEY_CHARS]


class Store(ABC):
    @abstractmethod
    async def key_for(self, payload: str) -> str:
        """A short key for a button payload, remembered until unused for KEY_TTL_SECONDS."""

    @abstractmethod
    async def payload_for(self, key: str) -> str | None:
        """The payload behind a key; None for a forged or forgotten key."""

    @abstractmethod
    async def take(self, sender: str, rule: FloodRule, now: float | None = None) -> Verdict:
        """Count one message from ``sender`` against the flood rule, atomically."""

    @abstractmethod
    async def language(self, sender: str) -> str | None:
        """The language the bot last replied to ``sender`` in (for the bot's own few texts)."""

    @abstractmethod
    async def remember_language(self, sender: str, lang: str) -> None: ...

    @abstractmethod
    async def salt(self) -> str:
        """A random salt made once and kept, for hashing Telegram ids into Rasa sender ids."""

    async def aclose(self) -> None:
        return None


def open_store(spec: str) -> Store:
    """``redis://…`` opens Redis; anything else is a SQLite file path."""
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from bot.redis_store import RedisStore

        return RedisStore(spec)
    return SqliteStore(Path(spec))


_SCHEMA = """
CREATE TABLE IF NOT EXISTS buttons (key TEXT PRIMARY KEY, payload TEXT NOT NULL, used REAL NOT NULL);
CREATE TABLE IF NOT EXISTS buckets (sender TEXT PRIMARY KEY, state TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS languages (sender TEXT PRIMARY KEY, lang TEXT NOT NULL, updated REAL NOT NULL);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class SqliteStore(Store):
    """One SQLite file in WAL mode. Each call is one short transaction (well under a millisecond),
    so it runs on the event loop; a lock keeps concurrent handlers from interleaving them."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, timeout=5.0, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._pruned = 0.0
        self.prune()
        self._lock = asyncio.Lock()

    def prune(self, now: float | None = None) -> None:
        """Forget what has expired, as Redis does by itself with the same TTLs: at open and then
        daily, so a bot running for months keeps no trace of users long gone (the flood
        bucket's second field is its last update; an unreadable bucket would start afresh)."""
        now = time.time() if now is None else now
        self._db.execute("DELETE FROM buttons WHERE used < ?", (now - KEY_TTL_SECONDS,))
        self._db.execute("DELETE FROM languages WHERE updated < ?", (now - LANGUAGE_TTL_SECONDS,))
        self._db.execute(
            "DELETE FROM buckets WHERE NOT json_valid(state) OR json_extract(state, '$[1]') < ?",
            (now - BUCKET_TTL_SECONDS,),
        )
        self._pruned = now

    async def key_for(self, payload: str) -> str:
        key = payload_key(payload)
        async with self._lock:
            self._db.execute(
                "INSERT INTO buttons (key, payload, used) VALUES (?, ?, ?) "
                "ON CONFLICT(key) DO UPDATE SET used = excluded.used",
                (key, payload, time.time()),
            )
        return key

    async def payload_for(self, key: str) -> str | None:
        async with self._lock:
            row = self._db.execute("SELECT payload FROM buttons WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    async def take(self, sender: str, rule: FloodRule, now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        async with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # other bot processes on the same file wait here
            try:
                row = self._db.execute("SELECT state FROM buckets WHERE sender = ?", (sender,)).fetchone()
                verdict, bucket = take(Bucket.loads(row[0] if row else None), rule, now)
                self._db.execute(
                    "INSERT OR REPLACE INTO buckets (sender, state) VALUES (?, ?)",
                    (sender, bucket.dumps()),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return verdict

    async def language(self, sender: str) -> str | None:
        async with self._lock:
            row = self._db.execute("SELECT lang FROM languages WHERE sender = ?", (sender,)).fetchone()
        return row[0] if row else None

    async def remember_language(self, sender: str, lang: str) -> None:
        now = time.time()
        async with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO languages (sender, lang, updated) VALUES (?, ?, ?)",
                (sender, lang, now),
            )
            if now - self._pruned >= PRUNE_EVERY_SECONDS:
                self.prune(now)

    async def salt(self) -> str:
        async with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO meta (name, value) VALUES ('salt', ?)", (secrets.token_hex(32),)
            )
            return self._db.execute("SELECT value FROM meta WHERE name = 'salt'").fetchone()[0]

    async def aclose(self) -> None:
        self._db.close()
