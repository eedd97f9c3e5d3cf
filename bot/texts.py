"""The few texts the bot says by itself, in the user's language, from the shared gettext catalogs.

Everything else the user reads comes from Rasa. These are for the moments Rasa cannot speak:
it is down or slow, the user floods, or the message is not something Rasa can read (a voice
note, a 5,000-character paste, a message of nothing but invisible characters). The catalogs
are the same ``locales/`` files the actions use, read and formatted by the same ``Texts`` (``texts/``),
so translators still edit one place.

Which language: the one the bot last replied in to this user (the tracker's language, mirrored
by the store from Rasa's replies), else Telegram's language code, else the configured default.
"""

from __future__ import annotations

from texts.catalogs import N_
from texts.languages import KAZAKH_LETTERS

UNAVAILABLE = N_(
    "Sorry, I cannot answer right now: my answering service is temporarily unavailable. "
    "Please try again in a minute."
)
SLOW_DOWN = N_(
    "You are sending messages faster than I can answer. Please wait a few seconds, then ask again."
)
NON_TEXT = N_("I can read only text messages. Please type your question.")
EMPTY = N_("Please type your question in words, and I will look it up.")  # as actions/answer.py
TOO_LONG = N_(
    "Your message is too long for me ({length} characters). Please ask a shorter question, "
    "up to {limit} characters."
)
UNKNOWN_COMMAND = N_("I do not know that command. Send /help to see what I can do.")
STALE_BUTTON = N_("This button no longer works. Please ask your question again.")

# Maintainers' /reload and /stats (bot/maintainer.py). Counts follow a label ("Facts: 12") so
# that no language needs plural forms. STATS_USAGE's 7 is knowledge.usage.DEFAULT_DAYS.
RELOAD_STARTED = N_("Rebuilding the knowledge index. This can take a few minutes…")
RELOAD_REBUILT = N_("✅ The knowledge index was rebuilt and is now in use. Facts: {facts}.")
RELOAD_UNCHANGED = N_(
    "✅ The facts have not changed, so nothing needed rebuilding; the current index was "
    "reloaded. Facts: {facts}."
)
RELOAD_FAILED = N_(
    "❌ The index was not replaced; the previous one is still in use (facts: {facts}). What went wrong:"
)
RELOAD_WARNINGS = N_("Warnings:")
RELOAD_MORE = N_("Not shown: {count} more. Run `make validate` to see them all.")
STATS_HEADER = N_("📊 Questions from {start} to {end} (UTC)")
STATS_ALL_LANGUAGES = N_("All languages")
STATS_LINE = N_("{language} — questions: {asked}, answered: {answered}, asked to choose: {clarified}")
STATS_TOP = N_("Most frequent unanswered questions:")
STATS_NO_UNANSWERED = N_("No unanswered questions in this period.")
STATS_EMPTY = N_("No questions were asked in this period.")
STATS_USAGE = N_("Usage: /stats for the last 7 days, or /stats 30 for the last 30 days (up to {max} days).")

# Command menu, registered per language with set_my_commands (name, description msgid).
COMMANDS = (
    ("start", N_("Start and choose a language")),
    ("help", N_("What I can answer")),
    ("school", N_("Check whether a school fits the programme")),
    ("news", N_("What changed lately")),
    ("sources", N_("Where my facts come from")),
    ("language", N_("Change the language")),
    ("reset", N_("Start the conversation over")),
)


def language_of_reply(text: str) -> str | None:
    """The language of one of OUR replies. Our catalogs guarantee every Kazakh text carries a
    Kazakh-specific letter (tests/test_catalogs.py), so the script is enough: no detector."""
    if any(ch in KAZAKH_LETTERS for ch in text):
        return "kk"
    if any("\u0400" <= ch <= "\u04ff" for ch in text):
        return "ru"
    if any("a" <= ch.lower() <= "z" for ch in text):
        return "en"
    return None
