"""Maintainers' /reload and /stats in the bot: who may use them, and what they show.

The Telegram part runs the real python-telegram-bot Application against the Bot API stand-in;
the action server behind it is an httpx MockTransport (or nothing at all, for "down").
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from pathlib import Path

import httpx
import pytest

from bot.admin import AdminClient
from bot.maintainer import SHOWN_PROBLEMS, is_maintainer, reload_text, requested_days, stats_text
from bot.relay import Who
from bot.render import split_text
from bot.settings import BotSettings
from bot.telegram import build_application
from bot.texts import RELOAD_STARTED, UNAVAILABLE, UNKNOWN_COMMAND
from knowledge.admin_contract import ReloadReply
from knowledge.admin_contract import ReloadReply as ReloadReport  # the bot's former name for it
from knowledge.usage import LanguageUsage, UnansweredQuestion, UsageStats
from stack.telegram_standin import DEFAULT_TOKEN, DEFAULT_USERNAME, BotApiStandIn, polling
from texts.localized import Texts as BotTexts

MAINTAINER, STRANGER = 4242, 777
UNTIL = dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC)
STATS = UsageStats(
    since=UNTIL - dt.timedelta(days=7),
    until=UNTIL,
    languages=(
        LanguageUsage("kk", 1200, 900, 100),
        LanguageUsage("ru", 34, 17, 0),
        LanguageUsage("en", 0, 0, 0),
    ),
    top_unanswered=tuple(
        UnansweredQuestion(f"вопрос {i} <script>", "ru", 10 - i, UNTIL) for i in range(1, 8)
    ),
)


def test_only_listed_users_in_a_private_chat_are_maintainers() -> None:
    settings = BotSettings(maintainers=frozenset({MAINTAINER}))
    assert is_maintainer(Who(MAINTAINER, MAINTAINER), settings)
    assert not is_maintainer(Who(STRANGER, STRANGER), settings)
    assert not is_maintainer(Who(-100, MAINTAINER, chat_type="supergroup"), settings)  # would leak questions
    assert not is_maintainer(Who(MAINTAINER, MAINTAINER), BotSettings())
    assert BotSettings.from_env({"AQPARAT_MAINTAINERS": "4242, 77"}).maintainers == {4242, 77}


@pytest.mark.parametrize(
    ("args", "days"),
    [([], 7), (["30"], 30), (["1"], 1), (["0"], None), (["-3"], None), (["week"], None), (["1", "2"], None)],
)
def test_stats_period_argument(args: list[str], days: int | None) -> None:
    assert requested_days(args) == days


def test_stats_text_in_russian_uses_the_locale_and_shows_five_questions() -> None:
    text = stats_text(STATS, BotTexts("ru"))
    assert text.splitlines()[0] == "📊 Вопросы с 8 марта 2026\u202fг. по 15 марта 2026\u202fг. (UTC)"
    assert "Все языки — вопросов: 1\xa0234, с ответом: 74\xa0%, с уточнением: 8\xa0%" in text
    assert "Казахский — вопросов: 1\xa0200, с ответом: 75\xa0%" in text
    assert "Русский — вопросов: 34, с ответом: 50\xa0%, с уточнением: 0\xa0%" in text
    assert "Английский" not in text  # nobody asked in English: no line of zeros
    assert "1. вопрос 1 <script> (×9)" in text
    assert "5. вопрос 5" in text
    assert "6. вопрос" not in text


def test_stats_text_in_kazakh_and_for_an_empty_period() -> None:
    text = stats_text(STATS, BotTexts("kk"))
    assert "Қазақ тілі — сұрақтар: 1\xa0200, жауап берілді: 75%" in text
    empty = UsageStats(UNTIL, UNTIL, (LanguageUsage("kk", 0, 0, 0),), ())
    assert stats_text(empty, BotTexts("en")).endswith("No questions were asked in this period.")
    no_misses = UsageStats(UNTIL, UNTIL, (LanguageUsage("en", 2, 2, 0),), ())
    assert stats_text(no_misses, BotTexts("en")).endswith("No unanswered questions in this period.")


def test_reload_text_for_each_outcome() -> None:
    en = BotTexts("en")
    assert reload_text(ReloadReport(True, True, "rebuilt", (), 1234), en) == (
        "✅ The knowledge index was rebuilt and is now in use. Facts: 1,234."
    )
    unchanged = reload_text(
        ReloadReport(True, False, "loaded", ("warning: a.yml [x]: due",), 12), BotTexts("kk")
    )
    assert unchanged.startswith("✅ Деректер өзгермеген")
    assert unchanged.endswith("Ескертулер:\n• warning: a.yml [x]: due")
    failed = reload_text(ReloadReport(False, False, "index build failed: out of memory", (), 12), en)
    assert failed.endswith("(facts: 12). What went wrong:\nindex build failed: out of memory")


def test_a_long_list_of_problems_is_cut_escaped_and_fits_telegram() -> None:
    problems = tuple(f"error: facts/x.yml [fact-{i}]: <bad> & " + "word " * 200 for i in range(25))
    text = reload_text(
        ReloadReport(False, False, "25 error(s) in the fact files:", problems, 30), BotTexts("ru")
    )
    lines = text.splitlines()
    assert lines[0] == "❌ Индекс не заменён, по-прежнему работает предыдущий (фактов: 30). Что не так:"
    assert sum(line.startswith("• error:") for line in lines) == SHOWN_PROBLEMS
    assert lines[-1] == "Не показано ещё: 15. Полный список выводит `make validate`."
    chunks = split_text(text)
    assert len(chunks) == 1
    assert len(chunks[0]) <= 4096
    assert "&lt;bad&gt; &amp;" in chunks[0]
    assert "fact-10]" not in text


# --- through python-telegram-bot and the stand-in ------------------------------------------------


def scripted_admin(reload: ReloadReply, stats: UsageStats, seen: list[httpx.Request]) -> AdminClient:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.url.path == "/admin/reload":
            return httpx.Response(200, json=asdict(reload))
        return httpx.Response(200, json=stats.to_json())

    return AdminClient("http://actions.test", "t", 2.0, transport=httpx.MockTransport(handler))


def run_bot(
    api: BotApiStandIn, tmp_path: Path, scenario: Callable[[], Awaitable[None]], admin: AdminClient | None
) -> None:
    settings = BotSettings(
        telegram_token=DEFAULT_TOKEN,
        telegram_base_url=f"{api.url}/bot",
        telegram_base_file_url=f"{api.url}/file/bot",
        bot_store=str(tmp_path / "bot.sqlite3"),
        rasa_url="http://127.0.0.1:9",  # nothing listens: no test here may need Rasa
        actions_url="http://127.0.0.1:9",  # nor the action server, unless ``admin`` stands in
        rasa_timeout=1.0,
        maintainers=frozenset({MAINTAINER}),
    )

    async def main() -> None:
        async with polling(build_application(settings)) as application:
            if admin is not None:
                await application.bot_data.admin.aclose()
                application.bot_data.admin = admin
            await scenario()

    asyncio.run(main())


def test_strangers_get_the_unknown_command_reply_and_maintainers_their_figures(tmp_path: Path) -> None:
    seen: list[httpx.Request] = []
    admin = scripted_admin(ReloadReply(True, False, "loaded", [], 14), STATS, seen)
    group = -100_555
    with BotApiStandIn() as api:

        async def scenario() -> None:
            api.push(api.command(STRANGER, "/stats", language_code="ru"))
            api.push(api.command(STRANGER, "/reload", language_code="kk"))
            await api.wait_for_messages_async(STRANGER, 2)
            api.push(api.command(MAINTAINER, "/stats 30", language_code="en"))
            await api.wait_for_messages_async(MAINTAINER, 1)
            api.push(api.command(MAINTAINER, "/reload", language_code="en"))
            await api.wait_for_messages_async(MAINTAINER, 3)
            api.push(api.command(MAINTAINER, "/stats soon", language_code="en"))
            await api.wait_for_messages_async(MAINTAINER, 4)
            api.push(
                api.command(MAINTAINER, f"/stats@{DEFAULT_USERNAME}", chat_id=group, chat_type="supergroup")
            )
            await api.wait_for_messages_async(group, 1)

        run_bot(api, tmp_path, scenario, admin)
        stranger = api.sent_texts(STRANGER)
        maintainer = [html.unescape(text) for text in api.sent_texts(MAINTAINER)]
        in_group = api.sent_texts(group)
        menus = [api.my_commands(lang) for lang in ("", "kk", "ru", "en")]

    assert stranger == [BotTexts("ru")(UNKNOWN_COMMAND), BotTexts("kk")(UNKNOWN_COMMAND)]
    stats, started, reloaded, usage = maintainer
    assert "All languages — questions: 1,234, answered: 74%, asked to choose: 8%" in stats
    assert "1. вопрос 1 <script> (×9)" in stats
    assert "&lt;script&gt;" in api.sent_texts(MAINTAINER)[0]  # escaped for Telegram's HTML mode
    assert started == BotTexts("en")(RELOAD_STARTED)
    assert reloaded.endswith("the current index was reloaded. Facts: 14.")
    assert usage.startswith("Usage: /stats for the last 7 days")
    assert in_group == [BotTexts("ru")(UNKNOWN_COMMAND)]  # figures are never posted into a group
    assert [(r.method, r.url.path, r.url.params.get("days")) for r in seen] == [
        ("GET", "/admin/stats", "30"),
        ("POST", "/admin/reload", None),
    ]
    for menu in menus:
        assert menu
        assert not {"reload", "stats"} & {command["command"] for command in menu}


def test_a_maintainer_is_told_politely_when_the_action_server_is_down(tmp_path: Path) -> None:
    with BotApiStandIn() as api:

        async def scenario() -> None:
            api.push(api.command(MAINTAINER, "/reload", language_code="kk"))
            await api.wait_for_messages_async(MAINTAINER, 2)
            api.push(api.command(MAINTAINER, "/stats", language_code="kk"))
            await api.wait_for_messages_async(MAINTAINER, 3)

        run_bot(api, tmp_path, scenario, admin=None)
        sent = api.sent_texts(MAINTAINER)

    kk = BotTexts("kk")
    assert sent == [kk(RELOAD_STARTED), kk(UNAVAILABLE), kk(UNAVAILABLE)]
