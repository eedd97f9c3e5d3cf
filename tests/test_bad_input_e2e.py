"""Bad input end to end (issue 5 §2): the running stack (Rasa + action server) over the REST
channel, and the bot's relay in front of it. Every bad input gets a 200 with a clear reply in the
user's language, never a 500 or an empty list, and the conversation goes on afterwards: the next
question is answered, a half-filled school form continues where it was.

"The user's language" for a message that says nothing (empty, emoji only, invisible characters):
the conversation's earlier language, else the channel's ``language_code``, else the default (ru),
as actions/language.py decides for every reply.

Two inputs never reach our code over REST, so the bot is the layer that handles them:
- invalid UTF-8: Rasa's HTTP server refuses the body (400) before any of our code runs; the bot
  sends only text it got from Telegram, which is always valid UTF-8;
- 100,000 characters: Rasa's intent model takes 10-40 s on that much text (and holds its event
  loop meanwhile), so the relay declines anything over AQPARAT_MAX_MESSAGE_CHARS before Rasa;
  here 10,000 characters go over REST, and 100,000 through the relay.
"""

from __future__ import annotations

import asyncio
import html
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from actions.answer import EMPTY, UNKNOWN, topics_list
from actions.replies import ASKS
from actions.school.messages import BIN_PROBLEMS, REGION_UNKNOWN, REGION_WORDLESS, YES_NO_UNCLEAR
from bot.relay import Relay, Who
from bot.render import split_text
from bot.settings import BotSettings
from bot.texts import TOO_LONG
from knowledge.identifiers import BinProblem
from tests.bad_inputs import ODD_QUESTIONS, WORDLESS
from tests.running_stack import RunningStack
from texts.localized import Texts
from texts.localized import Texts as BotTexts

pytestmark = pytest.mark.e2e

RASA_PORT = 5605
ACTIONS_PORT = 5655
WEBHOOK = f"http://127.0.0.1:{RASA_PORT}/webhooks/rest/webhook"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(RASA_PORT, ACTIONS_PORT, tmp_path_factory.mktemp("log"))
    try:
        running.start()
    except BaseException:  # a stack too slow to start must not be left running on our ports
        running.stop()
        raise
    yield running
    running.stop()


def post(body: bytes) -> httpx.Response:
    return httpx.post(WEBHOOK, content=body, headers={"Content-Type": "application/json"}, timeout=60)


class Chat:
    """One conversation over the REST channel. Bodies are JSON with ASCII escapes, so a lone
    surrogate travels as the escape "\\ud800", exactly as a client would send one."""

    def __init__(self, sender: str, language_code: str | None = None) -> None:
        self.sender = sender
        self.metadata = {"language_code": language_code} if language_code else {}

    def say(self, message: str) -> list[dict]:
        body = {"sender": self.sender, "message": message, "metadata": self.metadata}
        response = post(json.dumps(body).encode("ascii"))
        assert response.status_code == 200, (message, response.text)
        replies = response.json()
        assert replies, f"no reply to {message!r}"
        assert all(r.get("text") for r in replies), replies
        return replies

    def texts(self, message: str) -> list[str]:
        return [r["text"].replace("\u202f", " ") for r in self.say(message)]

    def text(self, message: str) -> str:
        return "\n".join(self.texts(message))


def answered(text: str, lang: str = "ru") -> bool:
    return {"ru": "Источник:", "kk": "Дереккөз:", "en": "Source:"}[lang] in text


LANGUAGE_CONTEXTS = [
    pytest.param(None, "Starlink Қазақстанда заңды ма?", "kk", id="previous-kk"),
    pytest.param("en", None, "en", id="hint-en"),
    pytest.param(None, None, "ru", id="default-ru"),
]


@pytest.mark.parametrize(("code", "earlier", "lang"), LANGUAGE_CONTEXTS)
def test_messages_without_words_are_asked_for_words_and_the_conversation_goes_on(
    stack: RunningStack, code: str | None, earlier: str | None, lang: str
) -> None:
    """Before: each got "Is there anything else you would like to know?" (the intent model calls
    them "affirm"); a lone surrogate got nothing at all once the conversation had text."""
    for name, typed in WORDLESS.items():
        chat = Chat(f"bad-wordless-{name}-{lang}", code)
        if earlier:
            assert answered(chat.text(earlier), "kk")
        assert chat.texts(typed) == [Texts(lang)(EMPTY)], name
        assert answered(chat.text("Почему Starlink официально не продаётся?")), name


def test_questions_with_odd_characters_are_answered_and_nothing_is_lost(stack: RunningStack) -> None:
    """Before: a lone surrogate crashed every action of that conversation from then on, so the
    user got an empty reply to it and to every later question."""
    for name, typed in ODD_QUESTIONS.items():
        chat = Chat(f"bad-odd-{name}", "ru")
        assert answered(chat.text(typed)), name
        follow_up = chat.text("а сколько стоит старлинк в месяц?")
        assert "23 000 тенге" in follow_up.replace("\xa0", " "), name  # the reported home price


def test_bodies_our_code_never_sees(stack: RunningStack) -> None:
    """Invalid UTF-8 is refused by Rasa's HTTP server (400, not 500) and the conversation is not
    touched; surrogate escapes in raw JSON reach us and are answered."""
    chat = Chat("bad-raw", "kk")
    assert answered(chat.text("Starlink Қазақстанда заңды ма?"), "kk")
    invalid = b'{"sender": "bad-raw", "message": "\xff\xfe\xc3( Starlink?", "metadata": {}}'
    assert post(invalid).status_code == 400
    escaped = post(b'{"sender": "bad-raw", "message": "\\ud800\\udfff", "metadata": {}}')
    assert escaped.status_code == 200
    assert [r["text"] for r in escaped.json()] == [Texts("kk")(EMPTY)]
    assert answered(chat.text("Starlink Қазақстанда неге ресми сатылмайды?"), "kk")


def test_markup_comes_back_as_plain_text_that_the_bot_escapes(stack: RunningStack) -> None:
    """Typed markup is quoted back verbatim (the exact echo is pinned in tests/test_bad_input.py),
    and every reply survives the bot's escaping unchanged; the form still asks its question.
    Before: a CI run's model read "Мордор <b>x</b>" as a question and it got "I have no reliable
    answer"; now only the knowledge base can make a short message a question (actions/school.py)."""
    chat = Chat("bad-markup", "ru")
    region_question = Texts("ru")(ASKS["school_region"].text)
    assert chat.texts("проверить школу") == [region_question]
    for typed in ("Мордор <b>x</b>", "Мордор](javascript:alert(1))", "<a href='x'>Мордор</a> &amp;"):
        replies = chat.texts(typed)
        assert replies[-1] == region_question, typed
        for reply in replies:
            if "Мордор" in reply:
                assert typed in reply
            chunks = split_text(reply)
            assert "<" not in "".join(chunks)
            assert html.unescape("".join(chunks)) == reply.strip()
    assert "Мордор <b>x</b>" in chat.text("Мордор <b>x</b>")


def test_a_half_filled_school_form_survives_every_bad_answer(stack: RunningStack) -> None:
    """Before: an empty message at the region question got "anything else?"; 🚀 at a yes/no
    question was recorded as "yes"."""
    ru = Texts("ru")
    chat = Chat("bad-form", "ru")
    region_question = ru(ASKS["school_region"].text)
    assert chat.texts("проверить школу") == [region_question]
    for typed in ("", "😀", "\u200b", "\ud800"):
        assert chat.texts(typed) == [ru(REGION_WORDLESS), region_question], repr(typed)
    assert chat.texts("\u202eМордор\u202c") == [ru(REGION_UNKNOWN, text="Мордор"), region_question]
    rural_question = ru(ASKS["school_rural"].text)
    assert chat.texts("туркестанская\x00 обл") == [rural_question]
    for typed in ("🚀", "", "\x00"):
        assert chat.texts(typed) == [ru(YES_NO_UNCLEAR), rural_question], repr(typed)
    assert chat.texts("<b>")[-1] == rural_question  # before: the model's "affirm" was taken as "yes"
    assert chat.texts("да") == [ru(ASKS["school_fibre"].text)]
    assert chat.texts("нет") == [ru(ASKS["school_mobile"].text)]
    bin_question = ru(ASKS["school_bin"].text)
    assert chat.texts("нет") == [bin_question]
    not_digits = ru(BIN_PROBLEMS[BinProblem.NOT_DIGITS])
    for typed in ("12345678901a", "0000 0000 000O", "\ud800"):
        assert chat.texts(typed) == [not_digits, bin_question], repr(typed)
    verdict = chat.text("0000\u200b0000 0000")
    assert "входит в группу, на которую нацелена" in verdict  # rural, no fibre, no mobile: the answers kept


def test_forged_button_payloads_are_answered_politely(stack: RunningStack) -> None:
    en = Texts("en")
    chat = Chat("bad-payloads", "en")
    assert chat.texts('/ask_question{"fact_id": "no-such-fact"}') == [en(UNKNOWN, topics=topics_list(en))]
    assert chat.texts("/ask_question{not json") == [en(EMPTY)]
    assert chat.texts('/change_language{"language": "<b>"}')  # asks which language, with buttons
    assert answered(chat.text("Why is Starlink not sold officially in Kazakhstan?"), "en")


def test_long_text_over_rest_and_through_the_relay(stack: RunningStack, tmp_path: Path) -> None:
    assert Chat("bad-10k", "ru").texts(("сколько стоит старлинк " * 500)[:10_000])
    settings = BotSettings(bot_store=str(tmp_path / "bot.sqlite3"), rasa_port=RASA_PORT, rasa_timeout=20)
    who = Who(77, 77, language_code="ru")

    async def scenario() -> list[list[str]]:
        relay = Relay.open(settings)
        try:
            messages = [
                ("сколько стоит старлинк " * 4348)[:100_000],
                "\x00\u200b",
                ODD_QUESTIONS["lone surrogate"],
                "а сколько стоит в месяц?",
            ]
            return [[o.text for o in await relay.message(who, m)] for m in messages]
        finally:
            await relay.aclose()

    too_long, invisible, question, follow_up = asyncio.run(scenario())
    ru = BotTexts("ru")
    assert too_long == [ru(TOO_LONG, length=ru.number(100_000), limit=ru.number(1000))]
    assert invisible == [ru(EMPTY)]
    assert answered(question[0])
    assert "23 000 тенге" in follow_up[0].replace("\xa0", " ")
