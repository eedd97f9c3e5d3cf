"""What every bot store promises, and the constants both backends share.

Kept apart from the backends so that each backend, and the factory in ``bot/store/__init__.py``,
depends on this module and on nothing of each other: the Redis backend (and its ``redis``
package) is imported only when a ``redis://`` store is asked for.

Button payloads map to keys derived from the payload itself, so the same button always gets the
same key and the store grows with the number of distinct buttons, not with messages sent.
"""

from __future__ import annotations

import base64
import hashlib
from abc import ABC, abstractmethod

from bot.flood import FloodRule, Verdict

KEY_CHARS = 22  # 132 bits of SHA-256 in base64url: collisions are not a practical concern
KEY_TTL_SECONDS = 180 * 24 * 3600  # buttons unused for half a year are forgotten
BUCKET_TTL_SECONDS = 24 * 3600  # an idle user's flood bucket is full again long before this
LANGUAGE_TTL_SECONDS = 365 * 24 * 3600  # a user silent for a year is asked afresh


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
