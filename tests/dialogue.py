"""Builders for rasa-sdk trackers, so action tests read like conversations."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker


def tracker(
    text: str,
    intent: str = "ask_question",
    *,
    slots: dict[str, Any] | None = None,
    entities: list[dict[str, Any]] | None = None,
    earlier: list[str] = (),  # type: ignore[assignment]
    metadata: dict[str, Any] | None = None,
    active_loop: str | None = None,
    sender: str = "telegram-user-1",
) -> Tracker:
    """A conversation whose latest user message is ``text``; ``earlier`` are previous user messages."""
    meta = metadata or {}
    events = [{"event": "user", "text": t, "metadata": meta} for t in earlier]
    events.append({"event": "user", "text": text, "metadata": meta})
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9},
        "entities": entities or [],
        "metadata": meta,
    }
    loop = {"name": active_loop} if active_loop else {}
    return Tracker(sender, dict(slots or {}), latest, events, False, None, loop, "action_listen")
