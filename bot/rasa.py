"""The one way the bot (and the terminal chat) talks to Rasa: its REST channel.

Rasa's REST webhook answers a message with the whole turn's replies at once, which is what a
Telegram chat needs. A refused connection is retried once by the transport (Rasa restarting);
anything slower than the timeout is reported as unavailable rather than left hanging, because a
user who waits in silence assumes the bot is dead.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/webhooks/rest/webhook"


class RasaUnavailable(RuntimeError):
    """Rasa (or the action server behind it) could not answer in time."""


@dataclass(frozen=True)
class RasaButton:
    title: str
    payload: str


@dataclass(frozen=True)
class RasaMessage:
    """One bot message of a turn, as Rasa's REST channel returns it."""

    text: str = ""
    buttons: tuple[RasaButton, ...] = ()
    image: str = ""

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> RasaMessage:
        buttons = tuple(
            RasaButton(str(b.get("title") or b.get("payload") or ""), str(b.get("payload") or ""))
            for b in item.get("buttons") or ()
            if isinstance(b, Mapping) and (b.get("payload") or b.get("title"))
        )
        return cls(
            text=str(item.get("text") or ""),
            buttons=buttons,
            image=str(item.get("image") or ""),
        )

    @property
    def empty(self) -> bool:
        return not (self.text or self.buttons or self.image)


class RasaClient:
    """An async client for Rasa's REST channel; one per process, closed on shutdown."""

    def __init__(
        self, base_url: str, timeout: float, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout, connect=min(2.0, timeout)),
            transport=transport or httpx.AsyncHTTPTransport(retries=1),
        )

    async def send(
        self, sender: str, text: str, metadata: Mapping[str, Any] | None = None
    ) -> list[RasaMessage]:
        """The replies to one user message. Raises RasaUnavailable instead of returning nothing:
        every path of our dialogue replies, so an empty turn means something behind Rasa failed."""
        body = {"sender": sender, "message": text, "metadata": dict(metadata or {})}
        try:
            response = await self._client.post(WEBHOOK_PATH, json=body)
            response.raise_for_status()
            items = response.json()
        except (httpx.HTTPError, ValueError) as error:
            log.warning("Rasa did not answer: %s: %s", type(error).__name__, error)
            raise RasaUnavailable(str(error)) from error
        messages = [RasaMessage.from_json(item) for item in items if isinstance(item, Mapping)]
        messages = [m for m in messages if not m.empty]
        if not messages:
            log.warning("Rasa answered with no messages (is the action server up?)")
            raise RasaUnavailable("empty reply")
        return messages

    async def aclose(self) -> None:
        await self._client.aclose()
