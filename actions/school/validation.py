"""Reading the answer to the question the school form just asked (``validate_school_form``).

Typed answers are read here, not only by the intent classifier: a region name in any language or
with a typo, "жоқ"/"нет"/"no", a BIN with spaces. A message that answers nothing and reads like
something else (a question the knowledge base can answer, "stop", "change language") is left
unextracted, so the form yields to the rules that handle it and then asks its question again.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.base import reply_texts
from actions.resources import ActionResources
from actions.school.answers import (
    ANSWER_CHARS,
    FORM,
    SKIP,
    SKIPPED,
    intent_of,
    quoted,
    words_of,
    yes_no,
)
from actions.school.messages import BIN_PROBLEMS, REGION_UNKNOWN, REGION_WORDLESS, YES_NO_UNCLEAR
from knowledge.identifiers import bin_problem, normalise_bin
from knowledge.text import has_words
from texts.clean import clean_message

log = logging.getLogger(__name__)

# Intents that mean "not an answer, something else": the form steps aside for their rules.
DETOURS = frozenset(
    {
        "ask_question", "out_of_scope", "stop", "check_school", "change_language", "bot_capabilities",
        "bot_challenge", "ask_human", "goodbye",
    }
)  # fmt: skip
# Intents the model gives to questions, to anything off-topic and to what it cannot read: at a
# form question such a message may just as well be an answer it has never seen ("Шиелі", a
# misspelt region), so the knowledge base, not the intent model, decides (_is_detour).
QUESTION_INTENTS = frozenset({"ask_question", "out_of_scope", "nlu_fallback"})
SHORT_ANSWER_WORDS = 3  # a question-like message this short may be an (unclear) answer


class ValidateSchoolForm(FormValidationAction):
    """Reads the typed or clicked answer to the question the form just asked."""

    def __init__(self, shared: ActionResources | None = None) -> None:
        self._shared = shared

    @property
    def shared(self) -> ActionResources:
        return self._shared or process_resources()

    def name(self) -> str:
        return "validate_school_form"

    def _is_detour(self, tracker: Tracker, text: str) -> bool:
        """The message is something else (a question, "stop"…), not an answer, so the form
        steps aside. Never for a message without words: its intent is the model's noise, and the
        form answers it itself. A short message without "?" that the intent model reads as a
        question or off-topic is a detour only if the knowledge base can answer it: otherwise
        an unknown place name got "I have no answer to that question" or the right "I could
        not find that region", depending on how the model happened to train. ``text`` is the
        message as ``_asked`` cleaned it."""
        intent = intent_of(tracker)
        if not has_words(text) or (intent not in DETOURS and intent not in QUESTION_INTENTS):
            return False
        words = [word for word in words_of(text) if len(word) > 1]  # not the "b" of a typed "<b>"
        if intent not in QUESTION_INTENTS or "?" in text or len(words) > SHORT_ANSWER_WORDS:
            return True
        try:
            lang = reply_texts(tracker, self.shared).lang
            return self.shared.knowledge.decide(text, lang).kind != "unknown"
        except Exception:  # action_answer then says politely that answers are unavailable
            log.exception("deciding whether %r answers the form failed", text[:100])
            return True

    def _asked(self, tracker: Tracker, slot: str) -> str | None:
        """The message text if it answers ``slot`` (the one the form asked for), else None;
        cleaned of control and invisible characters (a NUL or a zero-width space inside a BIN
        is not a typo the user can see)."""
        if tracker.get_slot("requested_slot") != slot or tracker.active_loop_name != FORM:
            return None
        return clean_message(str(tracker.latest_message.get("text") or ""), ANSWER_CHARS)

    async def extract_school_region(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = self._asked(tracker, "school_region")
        if text is None or text.startswith("/"):
            return {}
        if self.shared.regions.resolve(text) is not None or not self._is_detour(tracker, text):
            return {"school_region": text}
        return {}

    def validate_school_region(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None:  # cleared by a (re)start, not an answer
            return {"school_region": None}
        typed = clean_message(str(value), ANSWER_CHARS)
        region = self.shared.regions.resolve(typed) if has_words(typed) else None
        if region is None:
            texts = reply_texts(tracker, self.shared)
            words = has_words(typed)
            dispatcher.utter_message(
                text=texts(REGION_UNKNOWN, text=quoted(typed)) if words else texts(REGION_WORDLESS)
            )
            return {"school_region": None}
        return {"school_region": region.id}

    async def _extract_yes_no(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        text = self._asked(tracker, slot)
        if text is None:
            return {}
        answer = yes_no(text, intent_of(tracker))
        if answer is not None:
            return {slot: answer}
        return {} if self._is_detour(tracker, text) or text.startswith("/") else {slot: text}

    async def extract_school_rural(self, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return await self._extract_yes_no("school_rural", tracker)

    async def extract_school_fibre(self, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return await self._extract_yes_no("school_fibre", tracker)

    async def extract_school_mobile(self, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return await self._extract_yes_no("school_mobile", tracker)

    def _validate_yes_no(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict:
        if value is None or value in ("yes", "no", "unknown"):
            return {slot: value}
        dispatcher.utter_message(text=reply_texts(tracker, self.shared)(YES_NO_UNCLEAR))
        return {slot: None}

    def validate_school_rural(self, value, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return self._validate_yes_no("school_rural", value, dispatcher, tracker)

    def validate_school_fibre(self, value, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return self._validate_yes_no("school_fibre", value, dispatcher, tracker)

    def validate_school_mobile(self, value, dispatcher, tracker, domain) -> dict[str, Any]:  # type: ignore[no-untyped-def]
        return self._validate_yes_no("school_mobile", value, dispatcher, tracker)

    async def extract_school_bin(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        text = self._asked(tracker, "school_bin")
        if text is None:
            return {}
        if re.search(r"\d", text):
            return {"school_bin": text}
        words = words_of(text)
        if (words and words[0].startswith(SKIP)) or yes_no(text, intent_of(tracker)) in ("no", "unknown"):
            return {"school_bin": SKIPPED}
        return {} if self._is_detour(tracker, text) or text.startswith("/") else {"school_bin": text}

    def validate_school_bin(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        if value is None or value == SKIPPED:
            return {"school_bin": value}
        problem = bin_problem(str(value))
        if problem is None:
            return {"school_bin": normalise_bin(str(value))}
        count = len(re.sub(r"\D", "", str(value)))
        dispatcher.utter_message(text=reply_texts(tracker, self.shared)(BIN_PROBLEMS[problem], count=count))
        return {"school_bin": None}
