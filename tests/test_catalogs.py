"""Every reply text lives in the gettext catalogs, and every catalog translates all of it."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from actions.nlg import render
from actions.replies import ASKS, BUILT_IN_RESPONSES, RESPONSES
from knowledge.settings import PROJECT_DIR
from texts.catalogs import LOCALES_DIR, catalog_path
from texts.languages import KAZAKH_LETTERS
from texts.languages import LANGUAGES as SUPPORTED
from texts.localized import Texts

SAME_IN_EVERY_LANGUAGE = {
    "Қазақша",
    "Русский",
    "English",
    "• {date}: {label}",  # a layout of already translated parts
    "{label} ({publisher}, {date})",
}


def _catalog(lang: str):
    with catalog_path(lang).open("rb") as fp:
        return read_po(fp, locale=lang)


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _marked_in_code() -> set[str]:
    method_map = [("actions/**.py", "python"), ("bot/**.py", "python")]
    return {msg for _, _, msg, *_ in extract_from_dir(str(PROJECT_DIR), method_map) if isinstance(msg, str)}


@pytest.mark.parametrize("lang", SUPPORTED)
def test_catalog_translates_every_string_in_the_code(lang: str) -> None:
    catalog = _catalog(lang)
    translated = {m.id: m.string for m in catalog if m.id}
    missing = sorted(_marked_in_code() - translated.keys())
    assert not missing, f"run `make messages` and translate: {missing}"
    empty = [mid for mid, text in translated.items() if not text]
    assert not empty, f"{lang}: untranslated {empty}"
    fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy (unchecked) translations {fuzzy}"


@pytest.mark.parametrize("lang", ["kk", "ru"])
def test_translations_keep_placeholders_and_are_really_translated(lang: str) -> None:
    for message in _catalog(lang):
        if not message.id:
            continue
        assert _fields(message.string) == _fields(message.id), (
            f"{lang}: placeholders differ in {message.id!r}"
        )
        if message.id in SAME_IN_EVERY_LANGUAGE:
            continue
        assert message.string != message.id, f"{lang}: copied, not translated: {message.id!r}"
        assert re.search("[а-яА-ЯёЁәғқңөұүһіӘҒҚҢӨҰҮҺІ]", message.string), (
            f"{lang}: not Cyrillic: {message.id!r}"
        )


def test_kazakh_is_kazakh_not_russian() -> None:
    """Every Kazakh sentence of some length uses Kazakh-specific letters."""
    for message in _catalog("kk"):
        if message.id and message.id not in SAME_IN_EVERY_LANGUAGE and len(message.string) > 25:
            assert KAZAKH_LETTERS & set(message.string), f"no Kazakh letters: {message.string!r}"


def _string_arguments(call: ast.Call) -> list[ast.AST]:
    return [a for a in call.args if isinstance(a, ast.Constant | ast.JoinedStr)] + [
        k.value
        for k in call.keywords
        if k.arg in {"text", "title"} and isinstance(k.value, ast.Constant | ast.JoinedStr)
    ]


def test_no_reply_text_bypasses_the_catalogs() -> None:
    """``utter_message`` never gets a literal; domain responses carry only their own names."""
    offenders = []
    for path in (PROJECT_DIR / "actions").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "utter_message":
                offenders += [f"{path.name}:{node.lineno}" for _ in _string_arguments(node)]
    assert not offenders, f"literal reply text (use N_ + Texts): {offenders}"
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in domain["responses"].items():
        assert variants == [{"text": name}], f"{name}: its text belongs in actions/replies.py"
    assert set(domain["responses"]) | BUILT_IN_RESPONSES == set(RESPONSES)


@pytest.mark.parametrize("lang", SUPPORTED)
def test_nlg_renders_every_response_in_the_conversation_language(lang: str) -> None:
    state = {"slots": {"language": lang}, "latest_message": {"text": "/greet"}, "events": []}
    for name in RESPONSES:
        message = render({"response": name, "tracker": state}, "ru")
        assert message["text"] == Texts(lang)(RESPONSES[name].text)
        for button in message.get("buttons", []):
            assert button["title"]
            assert len(button["payload"].encode()) < 200


def test_nlg_answers_an_unknown_response_politely() -> None:
    message = render({"response": "utter_nope", "tracker": {"latest_message": {"text": "сәлем"}}}, "en")
    assert message == {"text": Texts("kk")("Sorry, something went wrong on my side. Please try again.")}


def test_region_question_offers_every_region_in_the_reply_language() -> None:
    buttons = ASKS["school_region"].render(Texts("kk"))["buttons"]
    titles = [b["title"] for b in buttons]
    assert "Түркістан облысы" in titles
    assert "Алматы" in titles
    assert len(titles) == 21  # 17 regions, 3 cities, and "stop"


def test_dates_follow_the_locale() -> None:
    from knowledge.dates import PartialDate

    day = PartialDate(2023, 10, 12)
    assert Texts("kk").date(day).replace("\u202f", " ") == "2023 ж. 12 қазан"
    assert Texts("ru").date(day).replace("\u202f", " ") == "12 октября 2023 г."
    assert Texts("en").date(PartialDate(2023, 10)) == "October 2023"


def test_missing_mo_is_compiled_from_the_po(tmp_path: Path) -> None:
    from texts.catalogs import translations

    target = tmp_path / "kk" / "LC_MESSAGES"
    target.mkdir(parents=True)
    (target / "messages.po").write_bytes(catalog_path("kk", root=LOCALES_DIR).read_bytes())
    assert translations("kk", tmp_path).gettext("Yes") == "Иә"
