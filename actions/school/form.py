"""The school form's own steps: start it afresh, stop it, and ask each question.

Rasa runs the form (``school_form`` in domain.yml); these are the actions it and the rules call
around it: ``action_start_school_check``, ``action_stop_school_check`` and one
``action_ask_<slot>`` per question, whose wording and buttons are in actions/replies.py.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SharedAction
from actions.replies import ASKS
from actions.school.answers import SLOTS
from actions.school.messages import CHECK_AGAIN, STOPPED


class ActionStartSchoolCheck(SharedAction):
    """Starts (or restarts) the check with empty answers."""

    def name(self) -> str:
        return "action_start_school_check"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        filled = [slot for slot in SLOTS if tracker.get_slot(slot) is not None]
        return [SlotSet(slot, None) for slot in filled] + [SlotSet("requested_slot", None)]


class ActionStopSchoolCheck(SharedAction):
    """Leaves the form wherever it is; the answers so far are dropped."""

    def name(self) -> str:
        return "action_stop_school_check"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        dispatcher.utter_message(
            text=texts(STOPPED), buttons=[{"title": texts(CHECK_AGAIN), "payload": "/check_school"}]
        )
        return [ActiveLoop(None), *(SlotSet(slot, None) for slot in SLOTS), SlotSet("requested_slot", None)]


class _AskAction(SharedAction):
    """Asks the form's question for one slot, with its buttons (Rasa calls action_ask_<slot>).
    Abstract, so rasa-sdk registers only the subclasses that name a slot."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        message = ASKS[self.slot].render(self.texts(tracker))
        dispatcher.utter_message(**message)
        return []


class ActionAskSchoolRegion(_AskAction):
    slot = "school_region"


class ActionAskSchoolRural(_AskAction):
    slot = "school_rural"


class ActionAskSchoolFibre(_AskAction):
    slot = "school_fibre"


class ActionAskSchoolMobile(_AskAction):
    slot = "school_mobile"


class ActionAskSchoolBin(_AskAction):
    slot = "school_bin"
