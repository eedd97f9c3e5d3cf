"""Knowledge questions: retrieve, then answer with source and date, ask which one, or say we don't know.

Every knowledge question and every message the intent classifier is unsure of comes here, so the
retrieval's calibrated confidence, not the classifier, decides between answering and declining.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SharedAction
from actions.i18n import N_, Texts
from knowledge.retriever import Decision
from knowledge.schema import Fact, Source
from knowledge.text import clean_query, fold, has_words

log = logging.getLogger(__name__)

# Follow-ups lean on the previous question: they open with a connective ("and for schools?",
# "а сколько это стоит?", "ал бағасы қанша?") or point back at it ("how much is it").
FOLLOW_UP_OPENERS = frozenset({"and", "also", "а", "и", "ну", "еще", "ал", "сонда", "енди"})
FOLLOW_UP_OPENING_PAIRS = frozenset({("what", "about"), ("how", "about"), ("what", "if")})
FOLLOW_UP_POINTERS = frozenset(
    {"it", "this", "that", "they", "это", "он", "она", "они", "его", "их", "бул", "ол", "оны", "онын", "олар"}
)
FOLLOW_UP_MAX_WORDS = 6

TOPICS = {
    "availability": N_("whether Starlink is available in Kazakhstan"),
    "regulation": N_("laws, licences and frequencies"),
    "pricing": N_("what it costs"),
    "schools": N_("connecting schools to satellite internet"),
    "rural-access": N_("internet in rural and remote areas"),
    "actors": N_("who is involved: the ministry and SpaceX"),
}

ANSWER_SOURCE = N_("Source: {publisher}, “{title}” ({published}).")
ANSWER_AS_OF = N_("True as of {as_of}.")
ANSWER_STALE = N_(
    "⚠ This may be out of date: it was due to be checked again by {review_by}. "
    "For the current situation, check official announcements."
)
CLARIFY = N_("I am not sure which of these you mean. Please choose one:")
UNKNOWN = N_(
    "I don't have a reliable answer to that in my sources yet, so I won't guess. I have noted "
    "the question for the people who maintain my sources. I can tell you about: {topics}."
)
OFF_TOPIC = N_(
    "That is outside what I know: I only answer questions about satellite internet in "
    "Kazakhstan. I can tell you about: {topics}."
)
EMPTY = N_("Please type your question in words, and I will look it up.")
UNAVAILABLE = N_("Sorry, I cannot look this up right now. Please try again in a few minutes.")
HELPFUL = N_("👍 Helpful")
NOT_HELPFUL = N_("👎 Not helpful")
CHECK_SCHOOL = N_("Check a school")
OFFICIAL = N_("Official information")


def looks_like_follow_up(text: str) -> bool:
    words = re.findall(r"\w+", fold(text).lower())
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    return (
        words[0] in FOLLOW_UP_OPENERS
        or tuple(words[:2]) in FOLLOW_UP_OPENING_PAIRS
        or bool(FOLLOW_UP_POINTERS.intersection(words))
    )


def render_fact(fact: Fact, source: Source, texts: Texts, today: dt.date) -> str:
    """The statement, then where it comes from and when it was true; a notice once it is due for review."""
    lines = [
        fact.render(texts.lang),
        "",
        texts(
            ANSWER_SOURCE,
            publisher=source.publisher,
            title=source.title,
            published=texts.date(source.published),
        ),
        texts(ANSWER_AS_OF, as_of=texts.date(fact.as_of)),
    ]
    if source.url:
        lines.append(str(source.url))
    if fact.review_by.last_day < today:
        lines.append(texts(ANSWER_STALE, review_by=texts.date(fact.review_by)))
    return "\n".join(lines)


def topics_list(texts: Texts) -> str:
    return "; ".join(texts(label) for label in TOPICS.values())


def answer_with_fact(dispatcher: CollectingDispatcher, fact: Fact, source: Source, texts: Texts) -> None:
    dispatcher.utter_message(
        text=render_fact(fact, source, texts, dt.date.today()),
        buttons=[
            {"title": texts(HELPFUL), "payload": "/feedback_helpful"},
            {"title": texts(NOT_HELPFUL), "payload": "/feedback_not_helpful"},
        ],
    )


class ActionAnswer(SharedAction):
    """Answers from the knowledge base; remembers the question for follow-ups and feedback."""

    def name(self) -> str:
        return "action_answer"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        # What retrieval will read anyway (no control or invisible characters, no lone surrogates,
        # capped); cleaning here keeps the same text out of the logs and the last_question slot.
        limit = self.shared.settings.max_query_chars
        text = clean_query(str(tracker.latest_message.get("text") or ""), limit)
        chosen = next(
            (
                e.get("value")
                for e in tracker.latest_message.get("entities") or []
                if e.get("entity") == "fact_id"
            ),
            None,
        )
        try:
            if chosen:
                return self._answer_chosen(dispatcher, str(chosen), texts)
            if text.startswith("/") or not has_words(text):
                dispatcher.utter_message(text=texts(EMPTY))
                return []
            return self._answer_question(dispatcher, tracker, text, texts)
        except Exception:  # the user gets a polite reply whatever broke
            log.exception("answering %r failed", text[:100])
            dispatcher.utter_message(text=texts(UNAVAILABLE))
            return []

    def _answer_chosen(self, dispatcher: CollectingDispatcher, fact_id: str, texts: Texts) -> list[EventType]:
        found = self.shared.knowledge.fact(fact_id)
        if found is None:  # a button from before a fact was retired
            dispatcher.utter_message(text=texts(UNKNOWN, topics=topics_list(texts)))
            return [SlotSet("last_fact", None)]
        answer_with_fact(dispatcher, *found, texts)
        return [SlotSet("last_fact", fact_id)]

    def _decide(self, text: str, previous: str | None, lang: str) -> tuple[Decision, str]:
        """The message alone when it can be answered alone. A follow-up ("ал бағасы қанша?") that
        cannot is tried again knowing the topic is ours (its own words often look like an
        off-topic price question), then joined to the previous question for the subject. An
        unrelated new question never borrows the previous one's subject."""
        knowledge = self.shared.knowledge
        alone = knowledge.decide(text, lang)
        if alone.kind == "answer" or not previous or not looks_like_follow_up(text):
            return alone, text
        in_context = knowledge.decide(text, lang, on_topic=True)
        if in_context.kind != "unknown":
            return in_context, text
        joined_text = f"{previous} {text}"
        joined = knowledge.decide(joined_text, lang, on_topic=True)
        return (joined, joined_text) if joined.kind != "unknown" else (alone, text)

    def _answer_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, texts: Texts
    ) -> list[EventType]:
        previous = tracker.get_slot("last_question")
        decision, asked = self._decide(text, previous, texts.lang)
        self.shared.log.record_question(
            lang=texts.lang,
            sender_id=tracker.sender_id,
            outcome=decision.kind,
            fact_id=decision.hits[0].fact.id if decision.kind == "answer" else None,
        )
        if decision.kind == "answer":
            hit = decision.hits[0]
            answer_with_fact(dispatcher, hit.fact, hit.source, texts)
            return [SlotSet("last_question", asked), SlotSet("last_fact", hit.fact.id)]
        if decision.kind == "clarify":
            dispatcher.utter_message(
                text=texts(CLARIFY),
                buttons=[
                    {
                        "title": hit.label(texts.lang),
                        "payload": f'/ask_question{{"fact_id": "{hit.fact.id}"}}',
                    }
                    for hit in decision.hits
                ],
            )
            return [SlotSet("last_question", asked), SlotSet("last_fact", None)]
        off_topic = bool(decision.hits) and decision.confidence >= decision.threshold
        self.shared.log.record_unanswered(
            text=text,
            lang=texts.lang,
            sender_id=tracker.sender_id,
            reason="off-topic" if off_topic else "low-score",
            scores={"top": round(decision.confidence, 4), "threshold": round(decision.threshold, 4)},
        )
        dispatcher.utter_message(
            text=texts(OFF_TOPIC if off_topic else UNKNOWN, topics=topics_list(texts)),
            buttons=[
                {"title": texts(CHECK_SCHOOL), "payload": "/check_school"},
                {"title": texts(OFFICIAL), "payload": "/ask_human"},
            ],
        )
        return [SlotSet("last_fact", None)]
