"""The school check: a Rasa form (``school_form``) and its verdict.

The form asks region, rural, fibre, mobile and an optional BIN. Typed answers are read here, not
only by the intent classifier: a region name in any language or with a typo, "жоқ"/"нет"/"no",
a BIN with spaces. A message that answers nothing and reads like something else (a question
the knowledge base can answer, "stop", "change language") is left unextracted, so the form
yields to the rules that handle it and then asks its question again. The verdict comes from
``knowledge/eligibility.yml``.
"""

from __future__ import annotations

import logging
import re
from abc import abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SharedAction, reply_texts
from actions.replies import ASKS
from actions.services import Services, services
from knowledge.eligibility import Rule, SchoolAnswers
from knowledge.identifiers import BinProblem, bin_problem, normalise_bin
from knowledge.text import fold, has_words
from texts.catalogs import N_
from texts.clean import clean_message
from texts.localized import Texts

log = logging.getLogger(__name__)

FORM = "school_form"
YES_NO_SLOTS = {"school_rural": "rural", "school_fibre": "fibre", "school_mobile": "mobile"}
SLOTS = ("school_region", *YES_NO_SLOTS, "school_bin")
SKIPPED = "skipped"

# Intents that mean "not an answer, something else": the form steps aside for their rules.
DETOURS = frozenset(
    {
        "ask_question", "out_of_scope", "stop", "check_school", "change_language", "bot_capabilities",
        "bot_challenge", "ask_human", "goodbye",
    }
)  # fmt: skip
SKIP = ("skip", "пропус", "откиз")  # "skip", "пропустить", "өткізіп жіберу" (folded)
# Intents the model gives to questions, to anything off-topic and to what it cannot read: at a
# form question such a message may just as well be an answer it has never seen ("Шиелі", a
# misspelt region), so the knowledge base, not the intent model, decides (_is_detour).
QUESTION_INTENTS = frozenset({"ask_question", "out_of_scope", "nlu_fallback"})
SHORT_ANSWER_WORDS = 3  # a question-like message this short may be an (unclear) answer
ANSWER_CHARS = 200  # a form answer is a place name, yes/no or a number; no need to read more
ECHO_CHARS = 60  # how much of an unrecognised answer is quoted back

# Typed answers, folded (Kazakh letters to their base, lowercase); matched on the first words.
YES = frozenset(
    {"yes", "yeah", "yep", "y", "иа", "ия", "ыа", "ие", "да", "ага", "есть", "бар", "конечно", "арине"}
)
NO = frozenset({"no", "nope", "n", "нет", "неа", "жок", "жогы", "нету"})
UNKNOWN = (
    "dont know", "don't know", "do not know", "not sure",
    "не знаю", "без понятия", "хз", "билмеймин", "белгисиз",
)  # fmt: skip

REGION_UNKNOWN = N_("I could not find a region or city called “{text}”. Please choose one from the list.")
REGION_WORDLESS = N_("Please type the name of the region or city, or choose one from the list.")
YES_NO_UNCLEAR = N_("Please answer “yes”, “no” or “I don't know”.")
BIN_PROBLEMS = {
    BinProblem.NOT_DIGITS: N_("A BIN consists of 12 digits only. Please check it, or press “Skip”."),
    BinProblem.LENGTH: N_("A BIN has 12 digits; this one has {count}. Please check it, or press “Skip”."),
    BinProblem.CHECK_DIGIT: N_(
        "This BIN's last (check) digit does not match the others, so there is probably a typo. "
        "Please check it against the school's documents, or press “Skip”."
    ),
}

VERDICTS = {
    "fits": N_("From your answers, the school is in the group the satellite programme targets."),
    "unlikely": N_("From your answers, the school is probably not a priority for the satellite programme."),
    "outside": N_("From your answers, the school is outside the group the satellite programme targets."),
    "unknown": N_(
        "From these answers I cannot tell whether the school is in the group the programme targets."
    ),
}
REASONS = {
    ("rural", True): N_("it is in a rural or remote settlement"),
    ("rural", False): N_("it is not in a rural or remote settlement"),
    ("fibre", True): N_("it has fixed (fibre-optic) internet"),
    ("fibre", False): N_("it has no fixed (fibre-optic) internet"),
    ("mobile", True): N_("it has usable mobile internet"),
    ("mobile", False): N_("it has no usable mobile internet"),
}
WHY = N_("Why: {reasons}.")
NEXT_STEPS = {
    "fits": N_(
        "Next step: I do not have the list of schools chosen for satellite internet or for fibre. "
        "Ask the ministry responsible (press “Official information”) whether your school is on it."
    ),
    "unlikely": N_(
        "Satellite connections are meant for places with neither fixed nor usable mobile internet. "
        "If the mobile signal at the school is too weak to use, run the check again and answer “No” "
        "to that question."
    ),
    "outside": N_(
        "Satellite connections are meant for rural and remote schools with neither fixed nor mobile "
        "internet; other schools are to get fibre. If one of your answers was not right, you can run "
        "the check again."
    ),
    "unknown": N_(
        "I need to know whether the school is rural and whether it has fixed and mobile internet. "
        "You can run the check again when you know."
    ),
}
CAVEAT = N_(
    "Please note: my sources describe what the programme targets and how far it has got, not "
    "published selection criteria, so this is guidance, not a decision about your school."
)
BASED_ON = N_("Based on: {facts}.")
FACT_CITED = N_("{label} ({publisher}, {date})")
REGISTRY_FOUND = N_("The school register ({source}, as of {as_of}): {name} ({region}) — {status}.")
REGISTRY_STATUS = {"connected": N_("already connected"), "planned": N_("planned for connection")}
REGISTRY_MISSING = N_(
    "The BIN {bin} is not in the school register I have. Please check the number; a school "
    "missing from the register may still be connected later."
)
REGISTRY_NONE = N_("I do not have a register of connected schools yet, so I cannot look up the BIN.")
OFFICIAL = N_("Official information")
CHECK_AGAIN = N_("Check another school")
STOPPED = N_("I have stopped the school check. You can start it again at any time.")


def _words(text: str) -> list[str]:
    return re.findall(r"[\w']+", fold(text).lower())


def yes_no(text: str, intent: str | None) -> str | None:
    """ "yes" / "no" / "unknown" for a typed or clicked answer, or None if it is not one.

    The intent is trusted only for a message with a real word in it: the intent model scores
    messages it cannot read at all (an emoji, an empty or invisible message, a stray "<b>")
    as "affirm", and a 🚀 would otherwise be recorded as "yes"."""
    words = _words(text)
    joined = " ".join(words)
    if any(joined.startswith(phrase) for phrase in UNKNOWN):
        return "unknown"
    if words and words[0] in YES:
        return "yes"
    if words and words[0] in NO:
        return "no"
    if not any(len(word) > 1 for word in words):
        return None
    return {"affirm": "yes", "deny": "no", "dont_know": "unknown"}.get(intent or "")


def _quoted(typed: str) -> str:
    """The user's words to quote back: already cleaned of invisible characters (a right-to-left
    override would reverse the rest of our sentence), cut to a readable length. Plain text: the
    front end escapes it (bot/render.py), so "<b>" shows as typed."""
    return typed if len(typed) <= ECHO_CHARS else typed[: ECHO_CHARS - 1].rstrip() + "…"


def _intent(tracker: Tracker) -> str | None:
    return (tracker.latest_message.get("intent") or {}).get("name")


class ValidateSchoolForm(FormValidationAction):
    """Reads the typed or clicked answer to the question the form just asked."""

    def __init__(self, shared: Services | None = None) -> None:
        self._shared = shared

    @property
    def shared(self) -> Services:
        return self._shared or services()

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
        intent = _intent(tracker)
        if not has_words(text) or (intent not in DETOURS and intent not in QUESTION_INTENTS):
            return False
        words = [word for word in _words(text) if len(word) > 1]  # not the "b" of a typed "<b>"
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
                text=texts(REGION_UNKNOWN, text=_quoted(typed)) if words else texts(REGION_WORDLESS)
            )
            return {"school_region": None}
        return {"school_region": region.id}

    async def _extract_yes_no(self, slot: str, tracker: Tracker) -> dict[str, Any]:
        text = self._asked(tracker, slot)
        if text is None:
            return {}
        answer = yes_no(text, _intent(tracker))
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
        words = _words(text)
        if (words and words[0].startswith(SKIP)) or yes_no(text, _intent(tracker)) in ("no", "unknown"):
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


def _answer(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(value)


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


class ActionSchoolVerdict(SharedAction):
    """The verdict for the completed form, worded from the matching rule's data."""

    def name(self) -> str:
        return "action_school_verdict"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        answers = SchoolAnswers(**{q: _answer(tracker.get_slot(slot)) for slot, q in YES_NO_SLOTS.items()})
        rule = self.shared.rules.assess(answers)
        parts = [texts(VERDICTS[rule.verdict])]
        reasons = [texts(REASONS[(q, v)]) for q, v in rule.when.items() if (q, v) in REASONS]
        if reasons:
            parts.append(texts(WHY, reasons="; ".join(reasons)))
        parts.append(texts(NEXT_STEPS[rule.verdict]))
        parts.append(self._based_on(rule, texts))
        parts.append(texts(CAVEAT))
        bin_value = tracker.get_slot("school_bin")
        if bin_value and bin_value != SKIPPED:
            parts.append(self._registry_line(str(bin_value), texts))
        dispatcher.utter_message(
            text="\n\n".join(parts),
            buttons=[
                {"title": texts(OFFICIAL), "payload": "/ask_human"},
                {"title": texts(CHECK_AGAIN), "payload": "/check_school"},
            ],
        )
        return []

    def _based_on(self, rule: Rule, texts: Texts) -> str:
        """The rule's facts, each with its own source and date, so the user sees how recent
        the picture of the programme is."""
        kb = self.shared.knowledge.kb
        cited = []
        for fact in (kb.facts[f] for f in rule.facts if f in kb.facts):
            source = kb.source_of(fact)
            cited.append(
                texts(
                    FACT_CITED,
                    label=fact.label.get(texts.lang),
                    publisher=source.publisher,
                    date=texts.date(fact.as_of),
                )
            )
        return texts(BASED_ON, facts="; ".join(cited))

    def _registry_line(self, school_bin: str, texts: Texts) -> str:
        registry = self.shared.registry()
        if registry is None or not registry.schools:
            return texts(REGISTRY_NONE)
        school = registry.lookup(school_bin)
        if school is None:
            return texts(REGISTRY_MISSING, bin=school_bin)
        region = next((r for r in self.shared.regions.regions.regions if r.id == school.region), None)
        return texts(
            REGISTRY_FOUND,
            source=school.source,
            as_of=texts.date(school.as_of),
            name=school.name,
            region=region.name(texts.lang) if region else school.region,
            status=texts(REGISTRY_STATUS[school.status]),
        )


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
        dispatcher.utter_message(**message)  # type: ignore[arg-type]
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
