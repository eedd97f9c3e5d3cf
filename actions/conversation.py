"""Small conversation actions: feedback, the official-information path, the language choice."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import answer_with_fact
from actions.base import SharedAction
from actions.replies import LANGUAGE_BUTTONS
from knowledge.text import fold
from texts.catalogs import N_
from texts.languages import LANGUAGES
from texts.localized import Texts

OFFICIAL_FACT = "official-information"  # knowledge/facts/guidance.yml: which ministry, where it publishes

FEEDBACK_THANKS = N_("Thank you for the feedback!")
FEEDBACK_SORRY = N_(
    "Sorry that did not help. I have passed it on to the people who keep my sources up to date. "
    "You can rephrase the question, or ask me where to find official information."
)
OFFICIAL_MISSING = N_("Sorry, I cannot find the official-information note right now. Please try again later.")
LANGUAGE_SET = N_("Done: I will answer in English from now on.")
CHOOSE_LANGUAGE = N_("Which language should I use?")

# Language names as people type them, folded (lowercase, Kazakh letters to their base).
LANGUAGE_WORDS = {
    "kk": ("kazakh", "qazaq", "kazak", "казах", "казак", "каз"),
    "ru": ("russian", "russk", "russki", "русск", "орыс", "rus", "рус"),
    "en": ("english", "anglii", "англ", "агылшын", "eng"),
}


class ActionFeedback(SharedAction):
    """Stores "helpful" / "not helpful" with the fact it concerns (the last one answered)."""

    def name(self) -> str:
        return "action_feedback"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        self.shared.log.record_feedback(
            helpful=helpful,
            fact_id=tracker.get_slot("last_fact"),
            lang=texts.lang,
            sender_id=tracker.sender_id,
            question=tracker.get_slot("last_question"),
        )
        dispatcher.utter_message(text=texts(FEEDBACK_THANKS if helpful else FEEDBACK_SORRY))
        return []


class ActionOfficialInfo(SharedAction):
    """Which ministry is responsible and where it publishes: a fact like any other, with its source."""

    def name(self) -> str:
        return "action_official_info"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        knowledge = self.shared.knowledge
        found = knowledge.fact(OFFICIAL_FACT)
        if found is None:
            dispatcher.utter_message(text=texts(OFFICIAL_MISSING))
            return []
        answer_with_fact(dispatcher, knowledge.place(found), knowledge.kb, texts)
        return [SlotSet("last_fact", OFFICIAL_FACT)]


def requested_language(text: str) -> str | None:
    """The language a message asks for ("на русском", "english please", "қазақша"), if exactly one."""
    words = re.findall(r"\w+", fold(text).lower())
    found = {lang for lang, stems in LANGUAGE_WORDS.items() for w in words for s in stems if w.startswith(s)}
    return found.pop() if len(found) == 1 else None


class ActionChangeLanguage(SharedAction):
    """Sets the ``language`` slot (the user's explicit choice, kept for the conversation)."""

    def name(self) -> str:
        return "action_change_language"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        named = {
            e.get("value")
            for e in tracker.latest_message.get("entities") or []
            if e.get("entity") == "language" and e.get("value") in LANGUAGES
        }
        chosen = (
            named.pop() if len(named) == 1 else requested_language(tracker.latest_message.get("text") or "")
        )
        if chosen is None:
            texts = self.texts(tracker)
            dispatcher.utter_message(
                text=texts(CHOOSE_LANGUAGE),
                buttons=[{"title": texts(b.title), "payload": b.payload} for b in LANGUAGE_BUTTONS],
            )
            return []
        dispatcher.utter_message(text=Texts(chosen)(LANGUAGE_SET))
        return [SlotSet("language", chosen)]


SOURCES_HEAD = N_("My facts come from these sources:")
SOURCE_LINE = N_("• {publisher}: “{title}”, published {published}")
SOURCES_CURRENT = N_("Every answer names its source and the date the fact was true.")
SOURCES_STALE = N_(
    "Some facts are past the date they were due to be checked again; those answers say so. "
    "For the current situation, see official announcements."
)
SOURCES_NONE = N_("I have no sources loaded right now, so I cannot answer questions yet.")


class ActionSources(SharedAction):
    """Where the facts come from and how current they are: every source a fact cites (not
    every source on file), newest first, each with its date and link, and whether any current
    fact is overdue for review (history does not go stale)."""

    def name(self) -> str:
        return "action_sources"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        kb = self.shared.knowledge.kb
        if not kb.facts:
            dispatcher.utter_message(text=texts(SOURCES_NONE))
            return []
        cited = {s for f in kb.facts.values() for s in (f.source, *f.more_sources)}
        used = sorted(cited, key=lambda s: (kb.sources[s].published.first_day, s), reverse=True)
        lines = [texts(SOURCES_HEAD)]
        for source in (kb.sources[s] for s in used):
            line = texts(
                SOURCE_LINE,
                publisher=source.publisher,
                title=source.title,
                published=texts.date(source.published),
            )
            lines += [line, str(source.url)] if source.url else [line]
        lines += ["", texts(SOURCES_CURRENT)]
        if any(f.review_by.last_day < dt.date.today() for f in kb.current):
            lines.append(texts(SOURCES_STALE))
        dispatcher.utter_message(text="\n".join(lines))
        return []
