"""Bad input at every layer below Rasa (issue 5 §2): nothing crashes, nothing is lost, and the reply
is a clear message in the user's language.

The inputs: empty and whitespace-only messages, 100,000 characters, NUL bytes, lone surrogates,
right-to-left and zero-width characters, emoji only, HTML and Markdown injection, forged or stale
callback_data, a BIN with letters, a region that does not exist, and fact files that are YAML
bombs or 10 MB of text. Each layer is driven on its own: the relay with a scripted Rasa, the
python-telegram-bot handlers against the Bot API stand-in, the actions with built trackers, the
NLG renderer, the retrieval and the knowledge loader. tests/test_bad_input_e2e.py sends the same
inputs through the running stack.
"""

from __future__ import annotations

import asyncio
import html
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.answer import EMPTY, ActionAnswer
from actions.language import conversation_language, detect_language
from actions.nlg import render
from actions.resources import ActionResources
from actions.school.answers import yes_no
from actions.school.messages import BIN_PROBLEMS, REGION_UNKNOWN, REGION_WORDLESS, YES_NO_UNCLEAR
from actions.school.validation import ValidateSchoolForm
from actions.settings import ActionSettings
from bot.rasa import RasaClient
from bot.relay import Relay, Who
from bot.render import key_from_callback, split_text
from bot.settings import BotSettings
from bot.store import open_store
from bot.telegram import build_application
from bot.texts import STALE_BUTTON, TOO_LONG
from knowledge.embedder import Embedder
from knowledge.identifiers import BinProblem
from knowledge.loader import KnowledgeBaseError, load_knowledge_base
from knowledge.logs import ConversationLog
from knowledge.service import LiveKnowledge
from knowledge.settings import PROJECT_DIR
from stack.telegram_standin import DEFAULT_TOKEN, BotApiStandIn, polling
from tests.bad_inputs import ODD_QUESTIONS, QUESTION_RU, WORDLESS
from tests.dialogue import tracker
from texts.clean import clean_message
from texts.localized import Texts
from texts.localized import Texts as BotTexts

HTML_AND_MARKDOWN = "<b>Мордор</b> & [сюда](javascript:alert(1)) **жирный** `код` <a href='x'>"


# --- relay: what the bot sends Rasa --------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("сколько\x00 стоит", "сколько стоит"),
        ("\ud800сколько стоит\udfff", "сколько стоит"),
        ("\u202eсколько\u202c стоит", "сколько стоит"),
        ("ста\u200dр\u200bлинк", "старлинк"),
        ("\ufeffсәлем", "сәлем"),
        ("  a \n\n b\t", "a b"),
        ("е\u0308лка", "ёлка"),  # NFC: one letter, as the user saw it
        ("👍🏽 😀", "👍🏽 😀"),  # emoji stay: Rasa and the actions decide about them
        (HTML_AND_MARKDOWN, HTML_AND_MARKDOWN),  # plain text, escaped only on the way out
        ('/ask_question{"fact_id": "x"}', '/ask_question{"fact_id": "x"}'),
        *((text, "") for name, text in WORDLESS.items() if name in ("empty", "whitespace", "nul")),
        (WORDLESS["zero-width"], ""),
        (WORDLESS["lone surrogate"], ""),
    ],
)
def test_clean_message_keeps_what_the_user_could_see(typed: str, sent: str) -> None:
    assert clean_message(typed) == sent
    clean_message(typed).encode("utf-8")  # always encodable, so the request to Rasa can be made


class ScriptedRasa:
    """Rasa's REST channel as an httpx transport: records what reached it, answers from a script."""

    def __init__(self, answer: Callable[[dict], list[dict]] | None = None) -> None:
        self.answer = answer or (lambda body: [{"text": "Міне, жауабым."}])
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)  # strict UTF-8 JSON, as Rasa's Sanic reads it
        request.content.decode("utf-8")
        self.bodies.append(body)
        return httpx.Response(200, json=[{"recipient_id": body["sender"], **m} for m in self.answer(body)])


def _relay(tmp_path: Path, rasa: ScriptedRasa) -> Relay:
    settings = BotSettings(bot_store=str(tmp_path / "bot.sqlite3"))
    client = RasaClient("http://rasa.test", 2.0, transport=httpx.MockTransport(rasa))
    return Relay(client, open_store(settings.bot_store), settings)


def _turns(tmp_path: Path, rasa: ScriptedRasa, who: Who, messages: list[str]) -> list[list[str]]:
    async def scenario() -> list[list[str]]:
        relay = _relay(tmp_path, rasa)
        try:
            return [[o.text for o in await relay.message(who, m)] for m in messages]
        finally:
            await relay.aclose()

    return asyncio.run(scenario())


@pytest.mark.parametrize("typed", [WORDLESS[k] for k in ("empty", "whitespace", "nul", "zero-width")])
@pytest.mark.parametrize(
    ("code", "earlier_reply", "lang"),
    [("kk", None, "kk"), ("en", "Сәлеметсіз бе! Сұрағыңызды жазыңыз.", "kk"), (None, None, "ru")],
)
def test_a_message_with_nothing_readable_is_answered_by_the_bot_without_rasa(
    tmp_path: Path, typed: str, code: str | None, earlier_reply: str | None, lang: str
) -> None:
    """Telegram's language code, or the language the bot last replied in, or the default."""
    rasa = ScriptedRasa(lambda body: [{"text": earlier_reply or "?"}])
    who = Who(5, 5, language_code=code)
    messages = ["сәлем"] if earlier_reply else []
    *_, last = _turns(tmp_path, rasa, who, [*messages, typed])
    assert last == [BotTexts(lang)(EMPTY)]
    assert len(rasa.bodies) == len(messages)


def test_odd_characters_reach_rasa_cleaned_and_the_answer_comes_back(tmp_path: Path) -> None:
    """Before: a lone surrogate made httpx fail to encode the request, and the user was told the
    service was unavailable; NUL and invisible characters went to the intent model as they were."""
    rasa = ScriptedRasa(lambda body: [{"text": "Источник: Kursiv"}])
    turns = _turns(tmp_path, rasa, Who(6, 6, language_code="ru"), list(ODD_QUESTIONS.values()))
    assert turns == [["Источник: Kursiv"]] * len(ODD_QUESTIONS)
    assert {b["message"] for b in rasa.bodies} == {QUESTION_RU}


def test_emoji_only_goes_to_rasa_which_answers_it(tmp_path: Path) -> None:
    rasa = ScriptedRasa(lambda body: [{"text": "Сұрағыңызды сөзбен жазыңыз."}])
    assert _turns(tmp_path, rasa, Who(7, 7), ["😀🚀🛰️"]) == [["Сұрағыңызды сөзбен жазыңыз."]]
    assert rasa.bodies[0]["message"] == "😀🚀🛰️"


def test_100000_characters_are_declined_politely_and_rasa_never_sees_them(tmp_path: Path) -> None:
    rasa = ScriptedRasa()
    long_text = ("сколько стоит старлинк " * 4348)[:100_000]
    padded = "\u200b" * 100_000 + "сколько стоит"  # invisible padding is not "too long"
    turns = _turns(tmp_path, rasa, Who(8, 8, language_code="ru"), [long_text, padded])
    ru = BotTexts("ru")
    assert turns[0] == [ru(TOO_LONG, length=ru.number(100_000), limit=ru.number(1000))]
    assert turns[1] == ["Міне, жауабым."]
    assert [b["message"] for b in rasa.bodies] == ["сколько стоит"]


@pytest.mark.parametrize(
    "key",
    [
        "AAAAAAAAAAAAAAAAAAAAAA",  # the right shape, never issued
        "xxx",
        "",
        "../../etc/passwd",
        "x" * 5000,
        "'; DROP TABLE buttons; --",
        "\ud800" * 22,  # SQLite cannot even bind this (before: UnicodeEncodeError)
        "\x00" * 22,
    ],
)
def test_a_forged_or_stale_button_key_gets_the_stale_reply_and_rasa_is_not_asked(
    tmp_path: Path, key: str
) -> None:
    rasa = ScriptedRasa()

    async def scenario() -> list[str]:
        relay = _relay(tmp_path, rasa)
        try:
            return [o.text for o in await relay.press(Who(9, 9, language_code="en"), key)]
        finally:
            await relay.aclose()

    assert asyncio.run(scenario()) == [BotTexts("en")(STALE_BUTTON)]
    assert rasa.bodies == []


@pytest.mark.parametrize(
    ("data", "key"),
    [("k:abc", "abc"), ("k:", None), ("evil", None), ("", None), (None, None), ("K:abc", None)],
)
def test_only_our_callback_data_yields_a_key(data: str | None, key: str | None) -> None:
    assert key_from_callback(data) == key


def test_rasa_text_with_markup_is_escaped_for_telegram_and_shown_as_typed(tmp_path: Path) -> None:
    echo = f"Не нашёл области или города «{HTML_AND_MARKDOWN}». Выберите, пожалуйста, из списка."
    rasa = ScriptedRasa(lambda body: [{"text": echo, "buttons": [{"title": "<i>x</i>", "payload": "/stop"}]}])
    [[text]] = _turns(tmp_path, rasa, Who(10, 10, language_code="ru"), [HTML_AND_MARKDOWN])
    [chunk] = split_text(text)
    assert "<" not in chunk
    assert ">" not in chunk
    assert html.unescape(chunk) == echo  # Telegram shows exactly what the user typed


def test_the_terminal_chat_survives_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    """`make run` without a token chats in the terminal. Before: under a UTF-8 locale (stdin
    strict) a pasted invalid byte ended the chat with a UnicodeDecodeError; under the C locale the
    lone surrogates made the request to Rasa fail and the user was told the bot was unavailable.
    Nothing here needs Rasa: the relay answers a line with nothing readable itself."""
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8:strict",  # what a UTF-8 locale gives stdin
        "LANG": "kk_KZ.UTF-8",
        "LC_ALL": "",
        "COLUMNS": "200",
        "AQPARAT_BOT_STORE": str(tmp_path / "bot.sqlite3"),
        "AQPARAT_RASA_PORT": "9",  # nothing listens there; the line must never get that far
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat"],
        cwd=PROJECT_DIR,
        env=env,
        input=b"\xff\xfe\x00\xc3\n/quit\n",
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert Texts("kk")(EMPTY) in done.stdout.decode()


# --- through python-telegram-bot and the Bot API stand-in ----------------------------------------


def test_forged_and_stale_buttons_and_markup_through_the_telegram_handlers(tmp_path: Path) -> None:
    """The real handler path: a forged key gets the stale message, data that is not ours a
    stale alert, over-long data the stale message; typed markup is echoed escaped; an invisible
    message is answered without Rasa; a press under an inline-mode message (no chat) is only
    acknowledged. Rasa here is scripted (no stack needed)."""
    user, lang = 612, "kk"
    rasa = ScriptedRasa(lambda body: [{"text": f"«{body['message']}» қала табылмады."}])
    settings = BotSettings(
        telegram_token=DEFAULT_TOKEN, bot_store=str(tmp_path / "bot.sqlite3"), flood_burst=50
    )
    with BotApiStandIn() as api:
        settings = settings.model_copy(
            update={"telegram_base_url": f"{api.url}/bot", "telegram_base_file_url": f"{api.url}/file/bot"}
        )

        async def scenario() -> None:
            async with polling(build_application(settings)) as application:
                relay: Relay = application.bot_data.relay
                await relay.rasa.aclose()
                relay.rasa = RasaClient("http://rasa.test", 2.0, transport=httpx.MockTransport(rasa))
                api.push(api.callback_query(user, "k:AAAAAAAAAAAAAAAAAAAAAA", language_code=lang))
                api.push(api.callback_query(user, "k:" + "x" * 200, language_code=lang))
                await api.wait_for_messages_async(user, 2)
                api.push(api.callback_query(user, "evil", language_code=lang))
                await api.wait_for_async(lambda calls: len(api.calls("answerCallbackQuery")) == 3)
                api.push(api.text_message(user, HTML_AND_MARKDOWN, language_code=lang))
                await api.wait_for_messages_async(user, 3)
                api.push(api.text_message(user, "\u200b\u200d", language_code=lang))
                await api.wait_for_messages_async(user, 4)
                inline = {"id": "99", "from": {"id": user, "is_bot": False, "first_name": "T"}}
                inline |= {"chat_instance": "i", "inline_message_id": "m1", "data": "k:x"}
                api.push({"callback_query": inline})  # no chat: not one of ours, spinner stopped
                await api.wait_for_async(lambda calls: len(api.calls("answerCallbackQuery")) == 4)

        asyncio.run(scenario())
        sent = api.sent_texts(user)
        answers = [c.params for c in api.calls("answerCallbackQuery")]

    kk = BotTexts(lang)
    stale, too_long, echoed, invisible = sent
    assert stale == too_long == kk(STALE_BUTTON)
    assert {"text": kk(STALE_BUTTON), "show_alert": True}.items() <= answers[2].items()  # "evil"
    assert answers[3] == {"callback_query_id": "99"}  # the inline-mode press: acknowledged only
    assert "<" not in echoed
    assert html.unescape(echoed) == f"«{HTML_AND_MARKDOWN}» қала табылмады."
    assert invisible == kk(EMPTY)
    assert [b["message"] for b in rasa.bodies] == [HTML_AND_MARKDOWN]


# --- actions -------------------------------------------------------------------------------------


@pytest.fixture
def shared(service: LiveKnowledge, tmp_path: Path) -> ActionResources:
    settings = service.settings.model_copy(
        update={"log_dir": tmp_path / "log", "schools_file": tmp_path / "schools.json", "log_salt": "test"}
    )
    shared = ActionResources(settings)
    shared.__dict__["knowledge"] = service
    return shared


def _answer(shared: ActionResources, t: Any) -> tuple[list[dict], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = ActionAnswer(shared).run(dispatcher, t, {})
    return dispatcher.messages, events


LANGUAGE_CONTEXTS = [
    pytest.param({"earlier": ["Starlink Қазақстанда заңды ма?"]}, "kk", id="previous-kk"),
    pytest.param({"metadata": {"language_code": "en"}}, "en", id="hint-en"),
    pytest.param({}, "ru", id="default-ru"),
]


@pytest.mark.parametrize("typed", list(WORDLESS.values()), ids=list(WORDLESS))
@pytest.mark.parametrize(("context", "lang"), LANGUAGE_CONTEXTS)
def test_a_message_without_words_is_asked_for_words_in_the_conversation_language(
    shared: ActionResources, typed: str, context: dict, lang: str
) -> None:
    messages, events = _answer(shared, tracker(typed, "affirm", **context))
    assert [m["text"] for m in messages] == [Texts(lang)(EMPTY)]
    assert events == []


@pytest.mark.parametrize("typed", list(ODD_QUESTIONS.values()), ids=list(ODD_QUESTIONS))
def test_a_question_with_odd_characters_is_answered_with_its_source(
    shared: ActionResources, typed: str
) -> None:
    """Before: a lone surrogate crashed the action (lingua cannot encode it), Rasa got a 500 and
    the user got nothing; the rest were answered."""
    messages, events = _answer(shared, tracker(typed))
    assert "Источник: Vlast.kz" in messages[0]["text"]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["last_fact"] == "starlink-official-launch"
    slots["last_question"].encode("utf-8")


def test_one_lone_surrogate_does_not_break_the_rest_of_the_conversation(shared: ActionResources) -> None:
    """Before: every later message re-detected the language of the earlier ones, so one message
    with a lone surrogate made every later action (and NLG reply) fail: silence for good."""
    earlier = ["\ud800 Почему Starlink не продают? \udc00", "😀\ud83d"]
    messages, _ = _answer(shared, tracker("Starlink Қазақстанда неге ресми сатылмайды?", earlier=earlier))
    assert "Дереккөз" in messages[0]["text"]
    state = tracker("/greet", "greet", earlier=earlier).current_state()
    assert conversation_language(state, "en") == "ru"
    assert render({"response": "utter_greet", "tracker": state}, "en")["text"].startswith("Здравствуйте")


def test_an_unanswerable_question_with_a_lone_surrogate_is_logged_not_fatal(shared: ActionResources) -> None:
    """Before: the unanswered-question log could not encode it, and the user was told the service
    was unavailable instead of "I don't know"."""
    messages, _ = _answer(shared, tracker("рецепт плова \ud800 на казане \udfff пожалуйста"))
    assert "Starlink" in messages[0]["text"]
    assert "недоступ" not in messages[0]["text"]
    [entry] = shared.log.unanswered()
    assert entry.text == "рецепт плова на казане пожалуйста"


def test_the_log_writes_even_an_uncleaned_lone_surrogate(tmp_path: Path) -> None:
    log = ConversationLog(tmp_path, salt="s")
    log.record_unanswered(text="a\ud800b", lang="ru", sender_id="x", reason="low-score", scores={})
    assert [e.text for e in log.unanswered()] == ["a?b"]


def test_100000_characters_are_read_capped_and_remembered_capped(shared: ActionResources) -> None:
    long_text = ("сколько стоит старлинк в месяц " * 3300)[:100_000]
    start = time.monotonic()
    messages, events = _answer(shared, tracker(long_text))
    assert time.monotonic() - start < 5
    assert messages[0]["text"]
    slots = {e["name"]: e["value"] for e in events}
    assert len(slots.get("last_question") or "") <= shared.settings.max_query_chars


def test_markup_in_a_question_is_plain_text_to_the_action(shared: ActionResources) -> None:
    messages, _ = _answer(shared, tracker("<b>Starlink</b> [законен](javascript:alert(1)) в Казахстане?"))
    assert messages[0]["text"]
    assert "<b>" not in messages[0]["text"]  # our reply never carries the user's markup back


# --- the school form -----------------------------------------------------------------------------


def _form_turn(
    shared: ActionResources, slot: str, typed: str, intent: str = "affirm", **context: Any
) -> tuple:
    """Run the form's extraction and validation for one typed answer, as rasa-sdk does."""
    form = ValidateSchoolForm(shared)
    t = tracker(typed, intent, slots={"requested_slot": slot}, active_loop="school_form", **context)
    dispatcher = CollectingDispatcher()
    extracted = asyncio.run(getattr(form, f"extract_{slot}")(dispatcher, t, {}))
    validated = {}
    if slot in extracted:
        validated = getattr(form, f"validate_{slot}")(extracted[slot], dispatcher, t, {})
    return extracted, validated, [m["text"] for m in dispatcher.messages]


@pytest.mark.parametrize("typed", [*WORDLESS.values(), "<b>", "x"], ids=[*WORDLESS, "tag", "letter"])
def test_a_message_without_a_real_word_is_never_taken_as_yes(shared: ActionResources, typed: str) -> None:
    """Before: the intent model calls these "affirm", and the form recorded "yes"."""
    assert yes_no(typed, "affirm") is None
    _, validated, said = _form_turn(shared, "school_rural", typed, earlier=["проверить школу"])
    assert validated == {"school_rural": None}
    assert said == [Texts("ru")(YES_NO_UNCLEAR)]


@pytest.mark.parametrize("typed", list(WORDLESS.values()), ids=list(WORDLESS))
def test_a_wordless_message_is_an_answer_to_the_form_whatever_its_intent(
    shared: ActionResources, typed: str
) -> None:
    """Not a detour: a classifier's "ask_question" for "😀" must not send it to retrieval."""
    _, validated, said = _form_turn(shared, "school_region", typed, "ask_question")
    assert validated == {"school_region": None}
    assert said == [Texts("ru")(REGION_WORDLESS)]


def test_button_payloads_and_typed_answers_still_count(shared: ActionResources) -> None:
    assert yes_no("/affirm", "affirm") == "yes"
    assert (yes_no("y", None), yes_no("n", None)) == ("yes", "no")
    assert yes_no("у нас оптика", "affirm") == "yes"
    assert yes_no("иә\u200b", None) == "yes"
    _, validated, _ = _form_turn(shared, "school_fibre", "жоқ\x00", "deny")
    assert validated == {"school_fibre": "no"}


@pytest.mark.parametrize("typed", list(WORDLESS.values()), ids=list(WORDLESS))
@pytest.mark.parametrize(("context", "lang"), LANGUAGE_CONTEXTS)
def test_a_wordless_region_is_asked_for_again_in_words(
    shared: ActionResources, typed: str, context: dict, lang: str
) -> None:
    _, validated, said = _form_turn(shared, "school_region", typed, **context)
    assert validated == {"school_region": None}
    assert said == [Texts(lang)(REGION_WORDLESS)]


@pytest.mark.parametrize(
    ("typed", "quoted", "lang"),
    [
        ("Мордор", "Мордор", "ru"),
        ("<b>Мордор</b>", "<b>Мордор</b>", "ru"),  # plain text; the bot escapes it for Telegram
        ("[Мордор](javascript:alert(1))", "[Мордор](javascript:alert(1))", "ru"),  # links are not English
        ("\u202eМордор\u202c", "Мордор", "ru"),  # an RTL override would flip the rest of our sentence
        ("Мор\x00дор\ud800", "Мор дор", "ru"),
        ("Мордор " * 20_000, ("Мордор " * 9)[:59].rstrip() + "…", "ru"),
    ],
)
def test_an_unknown_region_is_quoted_back_clean_and_short(
    shared: ActionResources, typed: str, quoted: str, lang: str
) -> None:
    dispatcher = CollectingDispatcher()
    t = tracker(typed, "nlu_fallback", slots={"requested_slot": "school_region"}, earlier=["проверить школу"])
    assert ValidateSchoolForm(shared).validate_school_region(typed, dispatcher, t, {}) == {
        "school_region": None
    }
    assert [m["text"] for m in dispatcher.messages] == [Texts(lang)(REGION_UNKNOWN, text=quoted)]


@pytest.mark.parametrize(
    "typed", ["Түркістан\x00 облысы", "\u200fТүркістан облысы\u200f", "Түр\u200bкістан облысы"]
)
def test_a_real_region_with_invisible_characters_is_still_found(shared: ActionResources, typed: str) -> None:
    _, validated, said = _form_turn(shared, "school_region", typed, "nlu_fallback")
    assert validated == {"school_region": "turkistan"}
    assert said == []


@pytest.mark.parametrize(
    ("typed", "problem"),
    [
        ("12345678901a", BinProblem.NOT_DIGITS),
        ("БИН abcdefghijkl", BinProblem.NOT_DIGITS),
        ("١٢٣٤٥٦٧٨٩٠١٢", BinProblem.NOT_DIGITS),  # Arabic-Indic digits are digits to Python, not to a BIN
        ("１２３４５６７８９０１２", BinProblem.NOT_DIGITS),  # fullwidth
        ("<b>123</b>", BinProblem.NOT_DIGITS),
        ("123", BinProblem.LENGTH),
    ],
)
def test_a_bin_with_letters_is_explained_not_accepted(
    shared: ActionResources, typed: str, problem: BinProblem
) -> None:
    _, validated, said = _form_turn(shared, "school_bin", typed, "nlu_fallback", earlier=["check my school"])
    assert validated == {"school_bin": None}
    assert said == [Texts("en")(BIN_PROBLEMS[problem], count=3)]


def test_invisible_characters_inside_a_valid_bin_are_ignored(shared: ActionResources) -> None:
    _, validated, said = _form_turn(shared, "school_bin", "0000\u200b0000\x000000", "nlu_fallback")
    assert validated == {"school_bin": "000000000000"}
    assert said == []


# --- the NLG endpoint and the language decision --------------------------------------------------


@pytest.mark.parametrize("typed", list(WORDLESS.values()), ids=list(WORDLESS))
def test_nlg_asks_for_words_whatever_response_a_wordless_message_got(typed: str) -> None:
    """Before: an empty or emoji-only message was "affirm" to the intent model, and the user got
    "Is there anything else you would like to know?" to a message that said nothing."""
    state = tracker(typed, "affirm", earlier=["Starlink Қазақстанда заңды ма?"]).current_state()
    assert render({"response": "utter_anything_else", "tracker": state}, "ru") == {"text": Texts("kk")(EMPTY)}


def test_nlg_still_answers_button_payloads_and_trackers_without_a_user_message() -> None:
    pressed = tracker("/affirm", "affirm", metadata={"language_code": "en"}).current_state()
    assert render({"response": "utter_anything_else", "tracker": pressed}, "ru")["text"] == (
        "Is there anything else you would like to know?"
    )
    no_user = {"latest_message": {"text": None}, "events": [], "slots": {}}
    assert render({"response": "utter_goodbye", "tracker": no_user}, "en")["text"].startswith("Goodbye")


@pytest.mark.parametrize(
    "state",
    [
        None,
        "not a tracker",
        [],
        {"latest_message": "x", "slots": ["kk"], "events": "abc"},
        {"latest_message": {"text": 5, "metadata": "kk"}, "events": [None, 3, "x", {"event": "user"}]},
        {"latest_message": {"text": "hello there", "metadata": {"language_code": "\ud800"}}},
        {"slots": {"language": ["kk"]}, "latest_message": {"text": "/greet"}},
        {"slots": {"language": "xx"}, "latest_message": {"text": "/greet"}},
    ],
)
def test_nlg_answers_a_malformed_tracker_politely(state: object) -> None:
    message = render({"response": "utter_greet", "tracker": state}, "ru")
    assert message["text"]


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("[Мордор](javascript:alert(1))", "ru"),
        ("<a href='https://example.com/starlink'>Почему</a> не продаётся?", "ru"),
        ("Starlink заңды ма? https://example.com/about/licence &amp; <b>", "kk"),
        ("Is Starlink legal: yes or no?", "en"),
    ],
)
def test_markup_and_links_do_not_decide_the_language(text: str, lang: str) -> None:
    """Before: a Russian message with a Markdown link in it was answered in English."""
    assert detect_language(text) == lang


@pytest.mark.parametrize("text", [*WORDLESS.values(), *ODD_QUESTIONS.values(), "x" * 100_000])
def test_language_detection_never_raises(text: str) -> None:
    assert detect_language(text) in {None, "kk", "ru", "en"}


# --- retrieval -----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", list(WORDLESS.values()), ids=list(WORDLESS))
def test_retrieval_finds_nothing_in_text_without_words(service: LiveKnowledge, text: str) -> None:
    assert service.search(text, "ru") == []
    assert service.decide(text, "ru").kind == "unknown"


@pytest.mark.parametrize("text", list(ODD_QUESTIONS.values()), ids=list(ODD_QUESTIONS))
def test_retrieval_reads_through_odd_characters(service: LiveKnowledge, text: str) -> None:
    assert service.search(text, "ru")[0].fact.id == service.search(QUESTION_RU, "ru")[0].fact.id


def test_retrieval_of_100000_characters_is_capped_and_quick(service: LiveKnowledge) -> None:
    text = ("Почему Starlink официально не продаётся? 😀\u200b " * 2500)[:100_000]
    start = time.monotonic()
    decision = service.decide(text, "ru")
    assert time.monotonic() - start < 2
    assert decision.kind in {"answer", "clarify", "unknown"}


# --- fact files ----------------------------------------------------------------------------------

ALIAS_BOMB = "\n".join(
    ["a: &a ['lol','lol','lol','lol','lol','lol','lol','lol','lol']"]
    + [f"{c}: &{c} [{', '.join(['*' + chr(ord(c) - 1)] * 9)}]" for c in "bcdefghi"]
    + ["facts: []", ""]
)
BOMBS = {
    "alias bomb": (ALIAS_BOMB, "aliases (*name) are not allowed"),
    "nesting bomb": ("facts: " + "[" * 20_000 + "]" * 20_000 + "\n", "nested too deeply"),
    "mapping nesting bomb": ("facts: " + "{a: " * 20_000 + "1" + "}" * 20_000 + "\n", "nested too deeply"),
    "10 MB of text": ("facts:\n  - id: x\n    statement: " + "x" * 10_000_000 + "\n", "over the limit"),
}


@pytest.mark.parametrize(("content", "reason"), list(BOMBS.values()), ids=list(BOMBS))
def test_a_hostile_fact_file_is_refused_with_its_name(facts_dir: Path, content: str, reason: str) -> None:
    """Before: a nesting bomb (40 KB, under the size limit) escaped as RecursionError."""
    (facts_dir / "pricing.yml").write_text(content, encoding="utf-8")
    with pytest.raises(KnowledgeBaseError) as caught:
        load_knowledge_base(facts_dir)
    [problem] = [str(p) for p in caught.value.problems if p.level == "error"]
    assert problem.startswith("error: pricing.yml: ")
    assert reason in problem


@pytest.fixture
def small(facts_dir: Path, settings_for: Callable[..., ActionSettings], embedder: Embedder) -> LiveKnowledge:
    service = LiveKnowledge(settings_for(facts_dir, embedding_model=embedder.name), embedder)
    assert service.reload().ok
    return service


@pytest.mark.model
@pytest.mark.parametrize(("content", "reason"), list(BOMBS.values()), ids=list(BOMBS))
def test_a_hostile_fact_file_leaves_the_old_index_serving(
    small: LiveKnowledge, content: str, reason: str
) -> None:
    retriever = small.retriever
    (small.settings.facts_dir / "pricing.yml").write_text(content, encoding="utf-8")
    result = small.reload()
    assert not result.ok
    assert reason in result.message
    assert "pricing.yml" in result.message
    assert small.retriever is retriever
    assert small.search("connection point price", "en")[0].fact.id == "test-fact"
