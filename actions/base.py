"""The base of our actions: the shared process_resources and the reply language of the conversation."""

from __future__ import annotations

from abc import ABC, abstractmethod

from rasa_sdk import Action, Tracker

from actions.language import conversation_language
from actions.resources import ActionResources
from texts.localized import Texts


def reply_texts(tracker: Tracker, shared: ActionResources) -> Texts:
    """The texts of this conversation's reply language (actions/language.py decides it)."""
    return Texts(conversation_language(tracker.current_state(), shared.settings.default_language))


class SharedAction(Action, ABC):
    """rasa-sdk builds each action without arguments, so ``shared`` falls back to the process's
    process_resources; tests pass their own. Abstract: rasa-sdk registers every concrete Action subclass."""

    def __init__(self, shared: ActionResources | None = None) -> None:
        self._shared = shared

    @abstractmethod
    def name(self) -> str: ...

    @property
    def shared(self) -> ActionResources:
        return self._shared or process_resources()

    def texts(self, tracker: Tracker) -> Texts:
        return reply_texts(tracker, self.shared)
