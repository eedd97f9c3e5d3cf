"""The school check's verdict (``action_school_verdict``), worded from the matching rule's data.

The rule comes from ``knowledge/eligibility.yml``; each fact behind it is cited with its own
source and date, and a BIN, if given, is looked up in the imported school registry.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import SharedAction
from actions.school.answers import SKIPPED, YES_NO_SLOTS
from actions.school.messages import (
    BASED_ON,
    CAVEAT,
    CHECK_AGAIN,
    FACT_CITED,
    NEXT_STEPS,
    OFFICIAL,
    REASONS,
    REGISTRY_FOUND,
    REGISTRY_MISSING,
    REGISTRY_NONE,
    REGISTRY_STATUS,
    VERDICTS,
    WHY,
)
from knowledge.eligibility import Rule, SchoolAnswers
from texts.localized import Texts


def _answer(value: Any) -> bool | None:
    return {"yes": True, "no": False}.get(value)


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
