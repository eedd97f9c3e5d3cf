"""The bot's store in one SQLite file: the default, for a single bot process (or several on one
host sharing the file).

Same contract as the Redis store (bot/store/redis.py); expired rows are pruned here, as Redis
expires its keys by itself.
"""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
import time
from pathlib import Path

from bot.flood import Bucket, FloodRule, Verdict, take
from bot.store.base import (
    BUCKET_TTL_SECONDS,
    KEY_TTL_SECONDS,
    LANGUAGE_TTL_SECONDS,
    Store,
    payload_key,
)

PRUNE_EVERY_SECONDS = 24 * 3600


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
