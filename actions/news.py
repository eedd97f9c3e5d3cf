"""What changed lately (/news, "what's new about Starlink?"): the newest current facts, dated."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import fact_button
from actions.base import SharedAction
from knowledge.timeline import recent_changes
from texts.catalogs import N_

NEWS_ITEMS = 5  # a phone screen of headlines; each is a button to the full, sourced answer
NEWS_HEAD = N_("What has changed lately, newest first:")
NEWS_LINE = N_("• {date}: {label}")
NEWS_MORE = N_("Press a button to read one of them with its source.")
NEWS_NONE = N_("I have no dated news in my sources right now.")


class ActionNews(SharedAction):
    """Lists the most recent changes from the facts' own dates (``knowledge.timeline``), the
    same data maintainers see with ``python -m knowledge changes``."""

    def name(self) -> str:
        return "action_news"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        texts = self.texts(tracker)
        changes = recent_changes(self.shared.knowledge.kb, NEWS_ITEMS)
        if not changes:
            dispatcher.utter_message(text=texts(NEWS_NONE))
            return []
        lines = [texts(NEWS_HEAD)]
        lines += [
            texts(NEWS_LINE, date=texts.date(c.fact.as_of), label=c.fact.label.get(texts.lang))
            for c in changes
        ]
        lines += ["", texts(NEWS_MORE)]
        dispatcher.utter_message(text="\n".join(lines), buttons=[fact_button(c.fact, texts) for c in changes])
        return []
