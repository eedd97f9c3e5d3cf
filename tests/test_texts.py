"""The text layer (texts/) stays a leaf, and the bot gets it without the action server's stack."""

from __future__ import annotations

import pytest

from tests.imports import loaded_packages as _loaded
from texts.clean import clean_message

OURS = ("actions", "bot", "knowledge", "stack", "nlu")


def test_the_text_layer_imports_nothing_of_ours() -> None:
    """So knowledge/ may import it without a cycle."""
    loaded = _loaded("texts.catalogs", "texts.clean", "texts.languages", "texts.localized")
    assert not loaded & set(OURS), loaded & set(OURS)


def test_the_bot_loads_neither_rasa_sdk_nor_the_language_detector() -> None:
    loaded = _loaded("bot.telegram", "bot.terminal")
    assert "texts" in loaded
    assert not loaded & {"actions", "rasa_sdk", "lingua"}, loaded & {"actions", "rasa_sdk", "lingua"}


@pytest.mark.parametrize(
    ("typed", "limit", "cleaned"),
    [
        ("  сколько\u200b стоит  старлинк ", 13, "сколько стоит"),
        ("ста\u200dр\u00adлинк", None, "старлинк"),  # one word for retrieval too, not "ста р линк"
        ("\ue000 \U0001fae8", None, "\ue000 \U0001fae8"),  # private use; an emoji newer than Python's tables
    ],
)
def test_the_cleaner_caps_after_collapsing_and_keeps_what_the_user_could_see(
    typed: str, limit: int | None, cleaned: str
) -> None:
    assert clean_message(typed, limit) == cleaned
