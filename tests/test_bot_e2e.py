"""End to end through Telegram: the real python-telegram-bot Application, polling a local
stand-in of the Bot API (stack/telegram_standin.py), in front of the real Rasa and action server.

Assertions are on what the bot sent to the stand-in, i.e. what a Telegram user would see.
One stack serves the module; the last test stops it and starts it again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import time
from collections.abc import Awaitable, Callable, Iterator

import pytest

from bot.settings import BotSettings
from bot.telegram import build_application
from knowledge.loader import load_knowledge_base
from stack.telegram_standin import DEFAULT_TOKEN, BotApiStandIn, Call, polling
from tests.conftest import REAL_FACTS
from tests.running_stack import TOKEN, RunningStack

pytestmark = pytest.mark.e2e

RASA_PORT = 5305
ACTIONS_PORT = 5355
RASA_TIMEOUT = 5.0
BURST = 5
MAINTAINER, STRANGER = 510, 511


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    running = RunningStack(RASA_PORT, ACTIONS_PORT, tmp_path_factory.mktemp("log")).start()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def api() -> Iterator[BotApiStandIn]:
    with BotApiStandIn() as standin:
        yield standin


@pytest.fixture(scope="module")
def settings(api: BotApiStandIn, tmp_path_factory: pytest.TempPathFactory) -> BotSettings:
    return BotSettings(
        telegram_token=DEFAULT_TOKEN,
        telegram_base_url=f"{api.url}/bot",
        telegram_base_file_url=f"{api.url}/file/bot",
        rasa_port=RASA_PORT,
        rasa_timeout=RASA_TIMEOUT,
        bot_store=str(tmp_path_factory.mktemp("bot") / "bot.sqlite3"),
        flood_burst=BURST,
        flood_interval=30.0,
        actions_port=ACTIONS_PORT,
        rasa_token=TOKEN,  # what the stack hands its action server: the admin routes' token
        maintainers=frozenset({MAINTAINER}),
    )


def run_bot(settings: BotSettings, scenario: Callable[[], Awaitable[None]]) -> None:
    """One bot process's life: build, poll, run the scenario, shut down."""

    async def main() -> None:
        async with polling(build_application(settings)):
            await scenario()

    asyncio.run(main())


def texts_to(api: BotApiStandIn, chat_id: int) -> list[str]:
    return api.sent_texts(chat_id)


async def reply_containing(api: BotApiStandIn, chat_id: int, needle: str, timeout: float = 30.0) -> str:
    def found(_calls: list[Call]) -> bool:
        return any(needle in text for text in api.sent_texts(chat_id))

    await api.wait_for_async(found, timeout)
    return next(text for text in api.sent_texts(chat_id) if needle in text)


def button(api: BotApiStandIn, chat_id: int, title: str) -> str:
    """The callback_data of the newest button called ``title`` sent to ``chat_id``."""
    for message in reversed(api.sent_messages(chat_id)):
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", []):
            for key in row:
                if key["text"] == title:
                    return key["callback_data"]
    raise AssertionError(f"no button {title!r} in chat {chat_id}")


def test_start_language_button_and_a_question_in_each_language(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    async def scenario() -> None:
        api.push(api.command(501, "/start", language_code="ru"))
        await reply_containing(api, 501, "Здравствуйте")
        data = button(api, 501, "Қазақша")
        assert len(data.encode()) <= 64
        api.push(api.callback_query(501, data, language_code="ru"))
        await reply_containing(api, 501, "қазақша жауап")
        api.push(api.text_message(501, "Starlink неге ресми сатылмайды?", language_code="ru"))
        assert "Дереккөз: Kursiv" in await reply_containing(api, 501, "Дереккөз")
        api.push(
            api.text_message(502, "Why is Starlink not sold officially in Kazakhstan?", language_code="en")
        )
        assert "Source: Kursiv" in await reply_containing(api, 502, "Source:")
        api.push(api.text_message(503, "Почему Starlink официально не продаётся?", language_code="kk"))
        assert "Источник: Kursiv" in await reply_containing(api, 503, "Источник:")

    run_bot(settings, scenario)
    assert api.calls("answerCallbackQuery"), "the button's spinner was never stopped"
    kazakh_menu = {c["command"]: c["description"] for c in api.my_commands("kk")}
    assert set(kazakh_menu) == {"start", "help", "school", "news", "sources", "language", "reset"}
    assert kazakh_menu["school"].startswith("Мектептің")
    for lang in ("en", "ru", ""):
        assert api.my_commands(lang), f"no command menu for {lang or 'the default'}"


def test_a_button_pressed_after_a_bot_restart_still_works(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    async def ask() -> None:
        api.push(api.text_message(504, "сколько стоит starlink в месяц", language_code="ru"))
        await reply_containing(api, 504, "Источник")

    run_bot(settings, ask)
    helpful = button(api, 504, "👍 Помогло")

    async def press_after_restart() -> None:
        api.push(api.callback_query(504, helpful, language_code="ru"))
        await reply_containing(api, 504, "Спасибо за отзыв")

    run_bot(settings, press_after_restart)  # a new Application: only the store remembers the key


def test_non_text_long_and_group_messages(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    group = -700

    async def scenario() -> None:
        api.push(api.voice(505, language_code="ru"))
        await reply_containing(api, 505, "только текстовые")
        api.push(api.sticker(505, language_code="ru"))
        await api.wait_for_messages_async(505, 2)
        api.push(api.text_message(505, "как подключить starlink " * 209, language_code="ru"))  # 5,016 chars
        assert "5\xa0016" in await reply_containing(api, 505, "слишком длинное")
        api.push(api.text_message(506, "просто болтаем о погоде", chat_id=group, chat_type="supergroup"))
        mention = api.push(api.mention(507, "сколько стоит starlink?", chat_id=group, chat_type="supergroup"))
        await reply_containing(api, group, "Источник")
        await asyncio.sleep(1.0)  # room for a wrong answer to the unaddressed message to arrive

        (answer,) = [c for c in api.calls("sendMessage") if c.params["chat_id"] == group]
        assert answer.params["reply_parameters"]["message_id"] == mention["message"]["message_id"]

    run_bot(settings, scenario)
    assert len(texts_to(api, 505)) == 3  # each non-text message got exactly one reply


def test_a_burst_of_twenty_gets_the_burst_answered_and_one_please_wait(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    async def scenario() -> None:
        for _ in range(20):
            api.push(api.text_message(508, "сәлем", language_code="kk"))
        await api.wait_for_messages_async(508, BURST + 1, timeout=60)
        await asyncio.sleep(2.0)  # nothing more may follow

    run_bot(settings, scenario)
    sent = texts_to(api, 508)
    assert len(sent) == BURST + 1
    assert sum("Сәлеметсіз бе" in t for t in sent) == BURST
    assert sum("күтіп" in t for t in sent) == 1


def test_a_maintainer_sees_stats_and_reloads_and_anyone_else_gets_the_unknown_command_reply(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    replies: dict[str, str] = {}

    async def scenario() -> None:
        api.push(api.text_message(MAINTAINER, "Why is Starlink not sold officially?", language_code="en"))
        await reply_containing(api, MAINTAINER, "Source:")
        api.push(api.text_message(MAINTAINER, "Who won the football world cup in 2022?", language_code="en"))
        await reply_containing(api, MAINTAINER, "I can tell you about")
        api.push(api.command(MAINTAINER, "/stats", language_code="en"))
        replies["stats"] = await reply_containing(api, MAINTAINER, "📊")
        api.push(api.command(MAINTAINER, "/reload", language_code="en"))
        await reply_containing(api, MAINTAINER, "Rebuilding the knowledge index")
        start = time.monotonic()
        replies["reload"] = await reply_containing(api, MAINTAINER, "✅", timeout=120)
        replies["reload_seconds"] = f"{time.monotonic() - start:.1f}"
        api.push(api.text_message(MAINTAINER, "Is Kazakhstan covered by Starlink?", language_code="en"))
        await api.wait_for_async(lambda _: sum("Source:" in t for t in api.sent_texts(MAINTAINER)) == 2, 30)
        api.push(api.command(STRANGER, "/reload", language_code="ru"))
        api.push(api.command(STRANGER, "/stats", language_code="ru"))
        await api.wait_for_messages_async(STRANGER, 2)

    run_bot(settings, scenario)
    stats = html.unescape(replies["stats"])
    asked = re.search(r"All languages — questions: (\d+), answered: (\d+)%", stats)
    assert asked is not None, stats
    assert int(asked[1]) >= 2  # this test's two questions, and those of the tests before it
    assert 0 < int(asked[2]) < 100
    assert re.search(r"English — questions: \d+, answered: \d+%", stats)
    assert "Who won the football world cup in 2022? (×1)" in stats.split("Most frequent unanswered")[1]
    reloaded = html.unescape(replies["reload"]).splitlines()
    assert re.fullmatch(r"✅ The facts have not changed, .* reloaded\. Facts: \d+\.", reloaded[0]), reloaded
    kb = load_knowledge_base(REAL_FACTS)
    overdue = any(f.review_by.last_day < dt.date.today() for f in kb.current)  # history never is
    assert ("Warnings:" in reloaded) is overdue
    print(f"/reload with an up-to-date index answered in {replies['reload_seconds']} s")
    unknown = "Я не знаю такой команды"
    assert [text.startswith(unknown) for text in texts_to(api, STRANGER)] == [True, True]


def test_rasa_down_gets_a_polite_reply_and_the_bot_recovers_when_it_is_back(
    stack: RunningStack, api: BotApiStandIn, settings: BotSettings
) -> None:
    stack.stop()
    elapsed: list[float] = []

    async def while_down() -> None:
        start = time.monotonic()
        api.push(api.text_message(509, "Starlink заңды ма?", language_code="kk"))
        await reply_containing(api, 509, "уақытша қолжетімсіз")
        elapsed.append(time.monotonic() - start)

    run_bot(settings, while_down)
    assert elapsed[0] < RASA_TIMEOUT + 3  # "within a few seconds"
    stack.start()

    async def when_back() -> None:
        api.push(api.text_message(509, "Starlink заңды ма?", language_code="kk"))
        await reply_containing(api, 509, "Дереккөз", timeout=60)

    run_bot(settings, when_back)


@pytest.fixture(autouse=True)
def _no_leftover_updates(api: BotApiStandIn) -> Iterator[None]:
    yield
    assert api.pending_updates() == 0, "the bot left updates unread"
