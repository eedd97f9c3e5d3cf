"""The bot's client for the action server's maintainer routes (actions/admin.py); the paths and
the reply shape both sides use are in knowledge/admin_contract.py.

The knowledge index and the conversation logs live in the action server, so ``/reload`` and
``/stats`` are HTTP calls to it, with the token the whole stack shares. A reload embeds every
fact and may take minutes on a small machine, hence its own long timeout; statistics are a file
read and use the same short timeout as a question to Rasa.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import httpx

from bot.settings import BotSettings
from knowledge.admin_contract import RELOAD_PATH, STATS_PATH, ReloadReply
from knowledge.usage import UsageStats

log = logging.getLogger(__name__)

RELOAD_TIMEOUT = 300.0  # seconds; a rebuild of the 15 shipped facts took 12 s on one torch thread
Parsed = TypeVar("Parsed")


class AdminUnavailable(RuntimeError):
    """The action server could not be reached, refused us, or answered nonsense."""


class AdminClient:
    """One per bot process, kept in ``bot_data`` and closed on shutdown."""

    def __init__(
        self,
        base_url: str,
        token: str,
        timeout: float,
        *,
        reload_timeout: float = RELOAD_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._reload_timeout = httpx.Timeout(reload_timeout, connect=min(2.0, timeout))
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=httpx.Timeout(timeout, connect=min(2.0, timeout)),
            transport=transport or httpx.AsyncHTTPTransport(retries=1),
        )

    @classmethod
    def from_settings(cls, settings: BotSettings) -> AdminClient:
        return cls(settings.actions_base_url, settings.rasa_token, settings.rasa_timeout)

    async def reload(self) -> ReloadReply:
        """Validate the facts, rebuild the index if they changed, swap it in (or say why not)."""
        data = await self._call("POST", RELOAD_PATH, timeout=self._reload_timeout)
        return _parsed(ReloadReply.from_json, data)

    async def stats(self, days: int) -> UsageStats:
        """Usage over the last ``days`` days."""
        data = await self._call("GET", STATS_PATH, params={"days": days})
        return _parsed(UsageStats.from_json, data)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _call(self, method: str, path: str, **options: Any) -> Mapping[str, Any]:
        try:
            response = await self._client.request(method, path, **options)
        except httpx.HTTPError as error:
            log.warning("action server did not answer %s: %s: %s", path, type(error).__name__, error)
            raise AdminUnavailable(str(error)) from error
        if response.status_code == httpx.codes.FORBIDDEN:
            log.error("action server refused %s: the bot's AQPARAT_RASA_TOKEN differs from its", path)
            raise AdminUnavailable("forbidden")
        try:
            response.raise_for_status()
            data = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("action server failed %s: %s", path, error)
            raise AdminUnavailable(str(error)) from error
        if not isinstance(data, Mapping):
            raise AdminUnavailable(f"{path} answered {type(data).__name__}, not an object")
        return data


def _parsed(parse: Callable[[Mapping[str, Any]], Parsed], data: Mapping[str, Any]) -> Parsed:
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError) as error:
        log.warning("unexpected admin reply: %s", error)
        raise AdminUnavailable(f"unexpected reply: {error}") from error
