"""What the school form collects, and how a typed or clicked answer is read.

Functions of the message alone (its text and the intent Rasa gave it), without services: the
validation action (validation.py), the form's own actions (form.py) and the verdict (verdict.py)
share these names, and the rules for "is this a yes?" can be read and tested on their own.
"""

from __future__ import annotations

import re

from rasa_sdk import Tracker

from knowledge.text import fold

FORM = "school_form"
YES_NO_SLOTS = {"school_rural": "rural", "school_fibre": "fibre", "school_mobile": "mobile"}
SLOTS = ("school_region", *YES_NO_SLOTS, "school_bin")
SKIPPED = "skipped"
SKIP = ("skip", "пропус", "откиз")  # "skip", "пропустить", "өткізіп жіберу" (folded)
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


def words_of(text: str) -> list[str]:
    """The folded, lowercased words of a message, as the answer lists above are written."""
    return re.findall(r"[\w']+", fold(text).lower())


def yes_no(text: str, intent: str | None) -> str | None:
    """ "yes" / "no" / "unknown" for a typed or clicked answer, or None if it is not one.

    The intent is trusted only for a message with a real word in it: the intent model scores
    messages it cannot read at all (an emoji, an empty or invisible message, a stray "<b>")
    as "affirm", and a 🚀 would otherwise be recorded as "yes"."""
    words = words_of(text)
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


def quoted(typed: str) -> str:
    """The user's words to quote back: already cleaned of invisible characters (a right-to-left
    override would reverse the rest of our sentence), cut to a readable length. Plain text: the
    front end escapes it (bot/render.py), so "<b>" shows as typed."""
    return typed if len(typed) <= ECHO_CHARS else typed[: ECHO_CHARS - 1].rstrip() + "…"


def intent_of(tracker: Tracker) -> str | None:
    """The intent Rasa gave the latest message, if any."""
    return (tracker.latest_message.get("intent") or {}).get("name")
