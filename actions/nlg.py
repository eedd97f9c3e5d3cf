"""Rasa's NLG endpoint: turns a response name into a message in the conversation's language.

Rasa posts ``{"response": "utter_greet", "tracker": {...}, "channel": {...}}`` (see
``rasa/core/nlg/callback.py``) and sends whatever we return. The language is decided by the
same function the actions use, from the same tracker state.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from actions.answer import EMPTY
from actions.language import conversation_language
from actions.replies import RESPONSES
from knowledge.text import has_words
from texts.catalogs import N_
from texts.localized import Texts

log = logging.getLogger(__name__)

MISSING = N_("Sorry, something went wrong on my side. Please try again.")
_PAYLOAD = re.compile(r"/\w")  # a button's intent payload ("/affirm", '/change_language{...}')


def typed_nothing(tracker: Mapping[str, Any]) -> bool:
    """The user's latest message has no words: empty, emoji, invisible or control characters.

    The intent model never saw such messages, yet scores them confidently (an empty message is
    "affirm" at 0.99), so the response chosen for them ("anything else?") answers nothing the
    user said. Button payloads are not typed text, and a tracker without a user message (a
    response triggered through Rasa's HTTP API) has nothing typed to judge."""
    latest = tracker.get("latest_message")
    text = latest.get("text") if isinstance(latest, Mapping) else None
    return isinstance(text, str) and not _PAYLOAD.match(text) and not has_words(text)


def render(body: Mapping[str, Any], default_language: str) -> dict[str, object]:
    """The message for one NLG request; an unknown response name or a message without words
    still gets a polite reply."""
    tracker = body.get("tracker")
    tracker = tracker if isinstance(tracker, Mapping) else {}
    texts = Texts(conversation_language(tracker, default_language))
    name = str(body.get("response") or "")
    reply = RESPONSES.get(name)
    if reply is None:
        log.error("NLG request for unknown response %r", name)
        return {"text": texts(MISSING)}
    if typed_nothing(tracker):
        return {"text": texts(EMPTY)}
    return reply.render(texts)
