"""Knowledge questions: retrieve, then answer with source and date, ask which one, or say we don't know.

Every knowledge question and every message the intent classifier is unsure of comes here, so the
retrieval's calibrated confidence, not the classifier, decides between answering and declining.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
import re
from typing import Any

import numpy as np
from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SharedAction
from knowledge.embedder import EncodedQuery
from knowledge.loader import KnowledgeBase
from knowledge.retriever import Decision
from knowledge.schema import Fact, Source
from knowledge.text import fold, has_words
from knowledge.timeline import Timeline
from texts.catalogs import N_
from texts.clean import clean_message
from texts.localized import Texts

log = logging.getLogger(__name__)

# Where Rasa's e5 featurizer hands a message's vector on: nlu/featurizer.py's HANDOVER_KEY (the
# two environments share no code, so the name is written on both sides and tested together).
HANDOVER_KEY = "e5_query"

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
HISTORY_AS_OF = N_("This was the situation as of {as_of}; it has changed since.")
NOW_HEAD = N_("Now (as of {as_of}):")
EARLIER_HEAD = N_("Earlier (as of {as_of}):")
EARLIER_BUTTON = N_("Earlier: {label}")
ALTERNATIVE_BUTTON = N_("Or did you mean: {label}?")
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


def handed_over(latest_message: Any) -> EncodedQuery | None:
    """The message's vector as Rasa's e5 featurizer handed it on (``nlu/featurizer.py``,
    ``HANDOVER_KEY``), or None when it is missing or malformed: retrieval then encodes itself."""
    found = latest_message.get(HANDOVER_KEY) if isinstance(latest_message, dict) else None
    if not isinstance(found, dict):
        return None
    try:
        vector = np.frombuffer(base64.b64decode(str(found["vector"]), validate=True), dtype="<f4")
        return EncodedQuery(str(found["model"]), str(found["text"]), vector.astype(np.float32))
    except (KeyError, ValueError, binascii.Error):
        return None


def looks_like_follow_up(text: str) -> bool:
    words = re.findall(r"\w+", fold(text).lower())
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    return (
        words[0] in FOLLOW_UP_OPENERS
        or tuple(words[:2]) in FOLLOW_UP_OPENING_PAIRS
        or bool(FOLLOW_UP_POINTERS.intersection(words))
    )


def source_lines(source: Source, texts: Texts) -> list[str]:
    """Where a fact comes from: the source line, then its public URL on a line of its own (the
    Telegram front end turns that pair into one link; REST and the terminal show the URL)."""
    line = texts(
        ANSWER_SOURCE, publisher=source.publisher, title=source.title, published=texts.date(source.published)
    )
    return [line, str(source.url)] if source.url else [line]


def render_fact(fact: Fact, source: Source, texts: Texts, today: dt.date, *, history: bool = False) -> str:
    """The statement, then where it comes from and when it was true. A history fact says that
    things have changed since; a current one carries a notice once it is due for review."""
    lines = [fact.render(texts.lang), "", *source_lines(source, texts)]
    if history:
        lines.append(texts(HISTORY_AS_OF, as_of=texts.date(fact.as_of)))
        return "\n".join(lines)
    lines.append(texts(ANSWER_AS_OF, as_of=texts.date(fact.as_of)))
    if fact.review_by.last_day < today:
        lines.append(texts(ANSWER_STALE, review_by=texts.date(fact.review_by)))
    return "\n".join(lines)


def render_timeline(timeline: Timeline, kb: KnowledgeBase, texts: Texts, today: dt.date) -> str:
    """The lead fact, and beside it the other end of its chain, each with its own source: a
    history answer is followed by what is true now, a current one by what it replaced."""
    lead, other = timeline.lead, timeline.other
    history_leads = timeline.lead_is_history
    parts = [render_fact(lead, kb.source_of(lead), texts, today, history=history_leads)]
    if other is not None:
        head = NOW_HEAD if history_leads else EARLIER_HEAD
        body = render_fact(other, kb.source_of(other), texts, today, history=not history_leads)
        parts.append(f"{texts(head, as_of=texts.date(other.as_of))}\n{body}")
    return "\n\n".join(parts)


def fact_button(fact: Fact, texts: Texts, title: str | None = None) -> dict[str, str]:
    """A button that asks for one fact by id (clarify choices, history, what's new)."""
    return {
        "title": title or fact.label.get(texts.lang),
        "payload": f'/ask_question{{"fact_id": "{fact.id}"}}',
    }


def topics_list(texts: Texts) -> str:
    return "; ".join(texts(label) for label in TOPICS.values())


def answer_with_fact(
    dispatcher: CollectingDispatcher,
    timeline: Timeline,
    kb: KnowledgeBase,
    texts: Texts,
    alternative: Fact | None = None,
) -> None:
    """The answer with its feedback buttons, the chain's earlier facts, and a close runner-up
    (``alternative``) for when the question meant something else: answering first and offering
    the other reading costs the user one tap, where asking first costs every user one."""
    earlier = [
        fact_button(f, texts, texts(EARLIER_BUTTON, label=f.label.get(texts.lang))) for f in timeline.earlier
    ]
    if alternative is not None:
        label = alternative.label.get(texts.lang)
        earlier.append(fact_button(alternative, texts, texts(ALTERNATIVE_BUTTON, label=label)))
    dispatcher.utter_message(
        text=render_timeline(timeline, kb, texts, dt.date.today()),
        buttons=[
            {"title": texts(HELPFUL), "payload": "/feedback_helpful"},
            {"title": texts(NOT_HELPFUL), "payload": "/feedback_not_helpful"},
            *earlier,
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
        text = clean_message(str(tracker.latest_message.get("text") or ""), limit)
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
        """A button names one fact: that fact leads, history or not (the user asked for it)."""
        knowledge = self.shared.knowledge
        found = knowledge.fact(fact_id)
        if found is None:  # a button from before a fact was retired
            dispatcher.utter_message(text=texts(UNKNOWN, topics=topics_list(texts)))
            return [SlotSet("last_fact", None)]
        answer_with_fact(dispatcher, knowledge.place(found, past=True), knowledge.kb, texts)
        return [SlotSet("last_fact", fact_id)]

    def _decide(
        self,
        text: str,
        previous: str | None,
        previous_fact: str | None,
        lang: str,
        encoded: EncodedQuery | None = None,
    ) -> tuple[Decision, str]:
        """A follow-up ("а для школ?") asks something new about the previous question's
        subject, so it is first joined to that question, unless the join only finds the previous
        answer again (the subject drowned the new words). Then it is tried alone, knowing the
        topic is ours (its own words often look like an off-topic price question). Any other
        message is decided alone: an unrelated new question never borrows the previous one's
        subject. Measured: alone, "а сколько стоит в месяц?" after a question on why Starlink was
        not sold took the per-school fee, and "and for schools?" after the home price took the
        fibre plan; joined, the home price and the per-school fee."""
        knowledge = self.shared.knowledge
        if not previous or not looks_like_follow_up(text):
            return knowledge.decide(text, lang, encoded=encoded), text
        joined_text = f"{previous} {text}"
        joined = knowledge.decide(joined_text, lang, on_topic=True)
        if joined.kind == "answer" and not self._same_subject(joined.hits[0].fact, previous_fact):
            return joined, joined_text
        alone = knowledge.decide(text, lang, on_topic=True, encoded=encoded)
        if alone.kind != "unknown":
            return alone, text
        if joined.kind != "unknown":
            return joined, joined_text
        return knowledge.decide(text, lang, encoded=encoded), text

    def _same_subject(self, fact: Fact, previous_fact: str | None) -> bool:
        """Whether ``fact`` is of the supersedes chain the previous answer came from."""
        kb = self.shared.knowledge.kb
        before = kb.facts.get(previous_fact) if previous_fact else None
        return before is not None and kb.newest(before).id == kb.newest(fact).id

    def _answer_question(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, text: str, texts: Texts
    ) -> list[EventType]:
        previous = tracker.get_slot("last_question")
        encoded = handed_over(tracker.latest_message)
        decision, asked = self._decide(text, previous, tracker.get_slot("last_fact"), texts.lang, encoded)
        knowledge = self.shared.knowledge
        timeline = (
            knowledge.place(decision.hits[0].fact, question=asked, ranked=[h.fact for h in decision.ranked])
            if decision.kind == "answer"
            else None
        )
        self.shared.log.record_question(
            lang=texts.lang,
            sender_id=tracker.sender_id,
            outcome=decision.kind,
            fact_id=timeline.lead.id if timeline else None,  # the fact the user read first
        )
        if timeline is not None:
            alternative = decision.alternative.fact if decision.alternative else None
            answer_with_fact(dispatcher, timeline, knowledge.kb, texts, alternative)
            return [SlotSet("last_question", asked), SlotSet("last_fact", timeline.lead.id)]
        if decision.kind == "clarify":
            dispatcher.utter_message(
                text=texts(CLARIFY), buttons=[fact_button(hit.fact, texts) for hit in decision.hits]
            )
            return [SlotSet("last_question", asked), SlotSet("last_fact", None)]
        off_topic = decision.off_topic
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
