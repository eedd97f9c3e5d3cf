"""What the bot itself remembers: button keys, flood buckets, the last reply language, its salt.

Conversation state is Rasa's; this is only the bot's own bookkeeping, kept outside the process
so a restart forgets nothing (a button pressed after a restart still works) and so several bot
replicas in webhook mode can share it. SQLite (one file, the default) or Redis (by setting).

The package is split so nothing imports in a circle: ``base`` holds the contract, ``sqlite`` and
``redis`` each implement it, and this module only chooses between them.
"""

from __future__ import annotations

from pathlib import Path

from bot.store.base import KEY_CHARS, Store
from bot.store.sqlite import SqliteStore

__all__ = ["KEY_CHARS", "Store", "open_store"]


def open_store(spec: str) -> Store:
    """``redis://…`` opens Redis; anything else is a SQLite file path."""
    if spec.startswith(("redis://", "rediss://", "unix://")):
        from bot.store.redis import RedisStore  # only a Redis deployment needs the redis package

        return RedisStore(spec)
    return SqliteStore(Path(spec))
