"""The reply language: explicit choice, then the message, then the conversation, hint, default."""

from __future__ import annotations

import pytest

from actions.language import LanguageSignals, detect_language, reply_language
from texts.languages import language_from_code as language_from_hint


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("старлинк заңды ма", "kk"),  # ң decides
        ("Starlink Қазақстанда сатыла ма", "kk"),
        ("мектебимизге старлинк косыла ма", "kk"),  # Kazakh typed with Russian letters
        ("сколько стоит старлинк для дома", "ru"),
        ("спасибо большое", "ru"),
        ("is starlink legal in kazakhstan", "en"),
    ],
)
def test_detects_the_message_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", ["ок", "да", "ok", "👍", "", "123456", "?!"])
def test_short_or_wordless_messages_are_not_guessed(text: str) -> None:
    assert detect_language(text) is None


@pytest.mark.parametrize(
    ("code", "lang"),
    [
        ("en-US", "en"),
        ("kk", "kk"),
        ("kk-KZ", "kk"),
        ("ru", "ru"),
        ("ru_RU", "ru"),
        ("uk", None),
        ("de", None),
        ("", None),
        (None, None),
    ],
)
def test_channel_hints(code: str | None, lang: str | None) -> None:
    assert language_from_hint(code) == lang


@pytest.mark.parametrize(
    ("signals", "expected"),
    [
        (LanguageSignals(text="сколько стоит старлинк", chosen="kk"), "kk"),  # explicit choice wins
        (
            LanguageSignals(text="сколько стоит старлинк", previous="kk", channel_hint="en"),
            "ru",
        ),  # then the message
        (
            LanguageSignals(text="ок", previous="kk", channel_hint="ru"),
            "kk",
        ),  # short: keep the conversation's
        (LanguageSignals(text="ок", channel_hint="en-US"), "en"),  # then the channel's hint
        (LanguageSignals(text="👍", channel_hint="de"), "ru"),  # then the default
        (LanguageSignals(text="hello there friend", chosen="fr"), "en"),  # an unsupported choice is ignored
    ],
)
def test_reply_language_order(signals: LanguageSignals, expected: str) -> None:
    assert reply_language(signals, default="ru") == expected


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("старлинк мектептерге подключить етіле ме", "kk"),  # Kazakh with a Russian verb: answered in Kazakh
        ("старлинк казахстанда разрешен ба", "ru"),  # Russian words with a Kazakh particle: mostly Russian
        ("salem, is starlink legal here", "en"),
    ],
)
def test_mixed_messages_follow_their_main_language(text: str, lang: str) -> None:
    assert detect_language(text) == lang
