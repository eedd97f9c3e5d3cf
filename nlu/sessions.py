"""Rasa's SQL tracker store, with sessions that end after a number of user messages.

Why: on every message Rasa loads and deserialises every event of the conversation's current
session, sends them to the action server and to the NLG endpoint as JSON, and featurises them
for its policies. A Telegram chat is one session until an hour of silence, so the work per
message grew with the conversation's length (about 7 times over 400 messages), and a user
writing at the flood limit could make each of their turns cost more than the last. Rasa's
``SQLTrackerStore`` already loads only the latest session (it reads from the newest
``session_started`` event on), so a conversation that starts a new session every few turns
costs the same on its 400th message as on its 10th.

The new session is opened the way Rasa's own ``action_session_start`` opens one when a session
expires (``action_session_start``, ``session_started``, the slots, ``action_listen``), and only
when a turn is over (the last event is ``action_listen``), so no turn is cut in two. Unlike the
expiry it also carries an open form (``active_loop``): a school administrator half-way through
the school check goes on where they were. The language choice, the previous question (for
follow-ups) and the fact feedback refers to are slots, so they carry over too. Every rule
(``nlu/rules.yml``) decides a turn from the latest message and the active form alone, so the
turns left behind in the earlier session change no prediction.

Runs inside Rasa (``.venv-rasa``, Python 3.10): the endpoints files name it as the tracker store's
``type`` and give it ``session_turns``; the other keys are ``SQLTrackerStore``'s.
"""

from __future__ import annotations

from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActiveLoop,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

# User messages per session when the endpoints file does not say. With ten, the p50 of messages
# 351–400 of one conversation is 1.13× that of messages 1–50 (bench/e2e.py --long, 2026-12-02;
# bare Rasa 5.8×); every turn is decided without the earlier ones.
SESSION_TURNS = 10


def user_turns_in_session(tracker: DialogueStateTracker) -> int:
    """User messages since the latest session start (the whole tracker when it has none)."""
    turns = 0
    for event in tracker.events:
        if isinstance(event, SessionStarted):
            turns = 0
        elif isinstance(event, UserUttered):
            turns += 1
    return turns


def turn_is_over(tracker: DialogueStateTracker) -> bool:
    """Whether the bot has answered and waits for the user."""
    last = tracker.events[-1] if tracker.events else None
    return isinstance(last, ActionExecuted) and last.action_name == ACTION_LISTEN_NAME


def new_session_events(tracker: DialogueStateTracker) -> list[Event]:
    """What opens the next session: the events ``action_session_start`` logs, with every slot
    that holds a value (not only those set since the last restart, as Rasa's expiry carries
    them) and the open form. Made in this order on purpose: Rasa's SQL store loads a session by
    timestamp (every event from its ``session_started`` on), so an event made before it would
    stay behind in the old session."""
    events: list[Event] = [ActionExecuted(ACTION_SESSION_START_NAME), SessionStarted()]
    events += [
        SlotSet(name, slot.value) for name, slot in tracker.slots.items() if slot.value != slot.initial_value
    ]
    if tracker.active_loop_name:
        events.append(ActiveLoop(tracker.active_loop_name))
    events.append(ActionExecuted(ACTION_LISTEN_NAME))
    return events


def roll_over(tracker: DialogueStateTracker, session_turns: int, domain: Domain | None = None) -> bool:
    """Start a new session in ``tracker`` when the current one has had ``session_turns`` user
    messages and its last turn is over; return whether it did."""
    if session_turns <= 0 or not turn_is_over(tracker) or user_turns_in_session(tracker) < session_turns:
        return False
    for event in new_session_events(tracker):
        tracker.update(event, domain)
    return True


class SessionTrackerStore(SQLTrackerStore):
    """``SQLTrackerStore`` that starts a new session every ``session_turns`` user messages
    (``0``: only when Rasa's ``session_expiration_time`` passes)."""

    def __init__(
        self, domain: Domain | None = None, session_turns: Any = SESSION_TURNS, **kwargs: Any
    ) -> None:
        super().__init__(domain=domain, **kwargs)
        self.session_turns = int(session_turns)

    async def save(self, tracker: DialogueStateTracker) -> None:
        roll_over(tracker, self.session_turns, self.domain)
        await super().save(tracker)
