"""Rasa's NLG endpoint: turns a response name into a message in the conversation's language.

Rasa posts ``{"response": "utter_greet", "tracker": {...}, "channel": {...}}`` (see
``rasa/core/nlg/callback.py``) and sends whatever we return. The language is decided by the
same function the actions use, from the same tracker state.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from actions.i18n import N_, Texts
from actions.language import conversation_language
from actions.replies import RESPONSES

log = logging.getLogger(__name__)

MISSING = N_("Sorry, something went wrong on my side. Please try again.")


def render(body: Mapping[str, Any], default_language: str) -> dict[str, object]:
    """The message for one NLG request; an unknown response name still gets a polite reply."""
    tracker = body.get("tracker") or {}
    texts = Texts(conversation_language(tracker, default_language))
    name = str(body.get("response") or "")
    reply = RESPONSES.get(name)
    if reply is None:
        log.error("NLG request for unknown response %r", name)
        return {"text": texts(MISSING)}
    return reply.render(texts)
