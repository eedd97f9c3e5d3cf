"""The bot's store in Redis, for several bot replicas behind one webhook.

Same contract as the SQLite store (bot/store/sqlite.py). The flood bucket is updated with an optimistic
transaction (WATCH/MULTI): two replicas counting the same user at once retry instead of both
letting a message through on the same token. Keys expire, so Redis needs no cleanup job.
"""

from __future__ import annotations

import secrets
import time

from redis import asyncio as aioredis
from redis.exceptions import WatchError

from bot.flood import Bucket, FloodRule, Verdict, take
from bot.store.base import BUCKET_TTL_SECONDS, KEY_TTL_SECONDS, LANGUAGE_TTL_SECONDS, Store, payload_key

PREFIX = "aqparat:bot:"


class RedisStore(Store):
    def __init__(self, url: str, client: aioredis.Redis | None = None) -> None:
        self._redis = client or aioredis.Redis.from_url(url, decode_responses=True)

    async def key_for(self, payload: str) -> str:
        key = payload_key(payload)
        await self._redis.set(f"{PREFIX}button:{key}", payload, ex=KEY_TTL_SECONDS)
        return key

    async def payload_for(self, key: str) -> str | None:
        return _text(await self._redis.get(f"{PREFIX}button:{key}"))

    async def take(self, sender: str, rule: FloodRule, now: float | None = None) -> Verdict:
        now = time.time() if now is None else now
        name = f"{PREFIX}flood:{sender}"
        async with self._redis.pipeline(transaction=True) as pipe:
            while True:
                try:
                    await pipe.watch(name)
                    stored = await pipe.get(name)
                    verdict, bucket = take(Bucket.loads(_text(stored)), rule, now)
                    pipe.multi()
                    pipe.set(
                        name,
                        bucket.dumps(),
                        ex=BUCKET_TTL_SECONDS,
                    )
                    await pipe.execute()
                    return verdict
                except WatchError:
                    continue  # another replica counted this user in between: count again

    async def language(self, sender: str) -> str | None:
        return _text(await self._redis.get(f"{PREFIX}lang:{sender}"))

    async def remember_language(self, sender: str, lang: str) -> None:
        await self._redis.set(f"{PREFIX}lang:{sender}", lang, ex=LANGUAGE_TTL_SECONDS)

    async def salt(self) -> str:
        await self._redis.set(f"{PREFIX}salt", secrets.token_hex(32), nx=True)
        salt = _text(await self._redis.get(f"{PREFIX}salt"))
        if salt is None:  # deleted between the two commands: the next call sets a new one
            raise RuntimeError("the bot's salt vanished from Redis")
        return salt

    async def aclose(self) -> None:
        await self._redis.aclose()


def _text(value: bytes | str | None) -> str | None:
    """Our client decodes replies; one a caller passed in may return bytes."""
    return value.decode("utf-8") if isinstance(value, bytes) else value
