"""The bot's own logic, without Telegram or Rasa: flood limits, rendering, the store, the relay."""

from __future__ import annotations

import asyncio
import html
import json
import time
from collections.abc import Callable
from pathlib import Path

import fakeredis
import httpx
import pytest
from telegram import Message

from bot.flood import Bucket, FloodRule, Verdict, take
from bot.rasa import RasaClient
from bot.relay import Relay, Who
from bot.render import (
    MAX_CALLBACK_DATA,
    callback_data,
    escape,
    key_from_callback,
    keyboard,
    split_text,
    to_html,
)
from bot.settings import BotSettings
from bot.store import Store, open_store
from bot.store.base import BUCKET_TTL_SECONDS, KEY_TTL_SECONDS, LANGUAGE_TTL_SECONDS
from bot.store.redis import RedisStore
from bot.store.sqlite import SqliteStore
from bot.telegram import addressed_text
from bot.texts import language_of_reply
from texts.languages import language_from_code
from texts.localized import Texts as BotTexts

# --- flood limiter -------------------------------------------------------------------------------

RULE = FloodRule(burst=3, interval=2.0)


def test_a_burst_passes_then_one_warning_then_silence() -> None:
    bucket, verdicts = None, []
    for _ in range(6):
        verdict, bucket = take(bucket, RULE, now=100.0)
        verdicts.append(verdict)
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.WARN, Verdict.DROP, Verdict.DROP]


def test_tokens_come_back_with_time_and_a_new_streak_warns_again() -> None:
    bucket = Bucket(tokens=0.0, updated=100.0, warned=True)
    assert take(bucket, RULE, now=101.0)[0] is Verdict.DROP  # half a token
    verdict, bucket = take(bucket, RULE, now=102.1)
    assert verdict is Verdict.ALLOW
    assert not bucket.warned
    assert take(bucket, RULE, now=102.2)[0] is Verdict.WARN


def test_a_clock_that_goes_back_refills_nothing_and_a_bad_rule_is_refused() -> None:
    assert take(Bucket(0.0, 200.0), RULE, now=100.0)[0] is Verdict.WARN
    with pytest.raises(ValueError):
        FloodRule(burst=0, interval=1.0)


# --- rendering -----------------------------------------------------------------------------------


def test_everything_is_escaped() -> None:
    assert escape('<b>bold</b> & [x](javascript:alert(1)) "q"') == (
        '&lt;b&gt;bold&lt;/b&gt; &amp; [x](javascript:alert(1)) "q"'
    )
    assert split_text("a < b") == ["a &lt; b"]


def test_source_line_links_to_its_url_escaped() -> None:
    text = "\n".join(
        [
            "Starlink works.",
            "",
            "Source: A&B, “<i>Title</i>” (2025).",
            "https://example.kz/a?x=1&y=2",
            "True as of 2025.",
        ]
    )
    assert split_text(text) == [
        "Starlink works.\n\n"
        '<a href="https://example.kz/a?x=1&amp;y=2">Source: A&amp;B, “&lt;i&gt;Title&lt;/i&gt;” (2025).</a>\n'
        "True as of 2025."
    ]
    # a quote would end the attribute early: such a line stays text, escaped, and links nothing
    assert to_html('Source\nhttps://example.kz/"x') == 'Source\nhttps://example.kz/"x'


def test_only_a_line_of_nothing_but_a_url_makes_a_link() -> None:
    assert to_html("see https://example.kz for more") == "see https://example.kz for more"
    assert to_html("https://example.kz") == "https://example.kz"  # nothing above it to link
    assert to_html("javascript:alert(1)\njavascript:alert(2)") == "javascript:alert(1)\njavascript:alert(2)"
    assert (
        to_html("• Kursiv: “T”\n  https://kursiv.kz/x") == '<a href="https://kursiv.kz/x">• Kursiv: “T”</a>'
    )


def test_links_never_push_a_chunk_over_the_limit() -> None:
    block = "Source: " + "word " * 30 + "\nhttps://example.kz/" + "p" * 60
    text = "\n\n".join([block] * 60)  # ~ 6,000 characters, 60 links
    chunks = split_text(text)
    assert len(chunks) >= 2
    assert all(len(c) <= 4096 for c in chunks)
    assert sum(c.count("<a href=") for c in chunks) == 60


def test_long_text_splits_on_paragraphs_and_keeps_every_word() -> None:
    paragraphs = [f"Абзац {i}: " + "сөз " * 150 for i in range(12)]  # ~7,300 characters
    text = "\n\n".join(p.strip() for p in paragraphs)
    chunks = split_text(text)
    assert len(chunks) >= 2
    assert all(len(c) <= 4096 for c in chunks)
    assert all(c.startswith("Абзац") for c in chunks)  # each cut fell on a paragraph boundary
    assert " ".join(" ".join(chunks).split()) == " ".join(text.split())


def test_escaping_growth_is_counted_and_a_wordless_wall_is_still_cut() -> None:
    chunks = split_text("<" * 5000)
    assert all(len(c) <= 4096 for c in chunks)
    assert html.unescape("".join(chunks)) == "<" * 5000
    assert [len(c) for c in split_text("x" * 9000, limit=4096)] == [4096, 4096, 808]
    assert split_text("   \n ") == []


def test_keyboard_keys_fit_telegram_and_short_titles_pair_up() -> None:
    buttons = [(f"Region {i}", "k" * 22) for i in range(5)] + [("A much longer button title here", "z" * 22)]
    markup = keyboard(buttons)
    assert markup is not None
    rows = markup.inline_keyboard
    assert [len(r) for r in rows] == [2, 2, 1, 1]
    assert all(len(b.callback_data.encode()) <= MAX_CALLBACK_DATA for r in rows for b in r)
    assert key_from_callback(rows[0][0].callback_data) == "k" * 22
    assert key_from_callback("not ours") is None
    assert key_from_callback(None) is None
    assert keyboard([]) is None
    with pytest.raises(ValueError):
        callback_data("x" * 63)


# --- texts ---------------------------------------------------------------------------------------


def test_language_of_our_replies_and_of_telegram_codes() -> None:
    assert language_of_reply("Сәлеметсіз бе!") == "kk"
    assert language_of_reply("Здравствуйте!") == "ru"
    assert language_of_reply("Hello, Starlink!") == "en"
    assert language_of_reply("👍 200") is None
    assert [language_from_code(c) for c in ("kk", "ru-RU", "en_US", "uk", None)] == [
        "kk",
        "ru",
        "en",
        None,
        None,
    ]


def test_bot_texts_are_translated_and_numbers_follow_the_locale() -> None:
    from bot.texts import TOO_LONG

    kk, ru = BotTexts("kk"), BotTexts("ru")
    assert "таңба" in kk(TOO_LONG, length=kk.number(5000), limit=kk.number(1000))
    assert ru.number(5000) == "5\xa0000"
    assert BotTexts("en").number(5000) == "5,000"


# --- store ---------------------------------------------------------------------------------------


def _sqlite(tmp_path: Path) -> Callable[[], Store]:
    def reopen() -> Store:
        store = open_store(str(tmp_path / "bot.sqlite3"))
        assert isinstance(store, SqliteStore)
        return store

    return reopen


def _redis(_tmp_path: Path) -> Callable[[], Store]:
    server = fakeredis.FakeServer()  # one server, a new client per "process"
    return lambda: RedisStore(
        "redis://unused", fakeredis.FakeAsyncRedis(server=server, decode_responses=True)
    )


@pytest.mark.parametrize("backend", [_sqlite, _redis], ids=["sqlite", "redis"])
def test_the_store_survives_a_restart(tmp_path: Path, backend: Callable) -> None:
    reopen = backend(tmp_path)
    payload = '/ask_question{"fact_id": "starlink-status-2023"}'
    now = time.time()  # a bucket from long ago would be pruned when the store opens

    async def first() -> tuple[str, str]:
        store = reopen()
        key = await store.key_for(payload)
        assert await store.key_for(payload) == key  # the same button, the same key
        for _ in range(3):
            assert await store.take("s", RULE, now=now) is Verdict.ALLOW
        await store.remember_language("s", "kk")
        salt = await store.salt()
        await store.aclose()
        return key, salt

    async def second(key: str, salt: str) -> None:
        store = reopen()
        assert await store.payload_for(key) == payload
        assert await store.payload_for("forged-key") is None
        assert await store.take("s", RULE, now=now) is Verdict.WARN  # the bucket was kept
        assert await store.language("s") == "kk"
        assert await store.language("other") is None
        assert await store.salt() == salt
        await store.aclose()

    key, salt = asyncio.run(first())
    assert len(callback_data(key).encode()) <= MAX_CALLBACK_DATA
    asyncio.run(second(key, salt))


def test_the_sqlite_store_forgets_what_redis_would_expire(tmp_path: Path) -> None:
    """Languages unused for a year, flood buckets idle for a day (and unreadable ones) and
    buttons unused for half a year go, at open and daily; everything recent stays."""
    path = tmp_path / "bot.sqlite3"
    now = time.time()
    day = 24 * 3600

    async def fill() -> str:
        store = SqliteStore(path)
        for sender, age in (("old", LANGUAGE_TTL_SECONDS + day), ("recent", 30 * day)):
            await store.remember_language(sender, "kk")
            store._db.execute("UPDATE languages SET updated = ? WHERE sender = ?", (now - age, sender))
        await store.take("idle", RULE, now=now - BUCKET_TTL_SECONDS - 60)
        await store.take("active", RULE, now=now - 60)
        store._db.execute("INSERT INTO buckets (sender, state) VALUES ('broken', 'not json')")
        stale, fresh = await store.key_for("/stale"), await store.key_for("/fresh")
        store._db.execute("UPDATE buttons SET used = ? WHERE key = ?", (now - KEY_TTL_SECONDS - day, stale))
        await store.aclose()
        return fresh

    fresh = asyncio.run(fill())
    store = SqliteStore(path)  # opening prunes
    rows = lambda table: sorted(r[0] for r in store._db.execute(f"SELECT * FROM {table}"))  # noqa: E731
    assert rows("languages") == ["recent"]
    assert rows("buckets") == ["active"]
    assert rows("buttons") == [fresh]
    store.prune(now + 400 * day)  # a year later with no traffic: nothing of these users is left
    assert rows("languages") == rows("buckets") == rows("buttons") == []
    asyncio.run(store.aclose())


def test_the_redis_flood_count_is_atomic_across_replicas() -> None:
    """Two replicas counting one user at the same moment: exactly the burst gets through."""
    server = fakeredis.FakeServer()

    async def scenario() -> list[Verdict]:
        replicas = [RedisStore("redis://unused", fakeredis.FakeAsyncRedis(server=server)) for _ in range(2)]
        verdicts = await asyncio.gather(*(replicas[i % 2].take("s", RULE, now=10.0) for i in range(8)))
        for replica in replicas:
            await replica.aclose()
        return list(verdicts)

    verdicts = asyncio.run(scenario())
    assert verdicts.count(Verdict.ALLOW) == RULE.burst
    assert verdicts.count(Verdict.WARN) == 1


def test_a_redis_url_opens_the_redis_store() -> None:
    assert isinstance(open_store("redis://127.0.0.1:6399/0"), RedisStore)


# --- relay (with a scripted Rasa) ----------------------------------------------------------------


class FakeRasa:
    """Records what reached Rasa's REST channel and answers with a script."""

    def __init__(self, answer: Callable[[dict], httpx.Response]) -> None:
        self.answer = answer
        self.bodies: list[dict] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.bodies.append(body)
        return self.answer(body)


def _relay(tmp_path: Path, rasa: FakeRasa, **settings: object) -> Relay:
    config = BotSettings(bot_store=str(tmp_path / "bot.sqlite3"), **settings)  # type: ignore[arg-type]
    client = RasaClient("http://rasa.test", 2.0, transport=httpx.MockTransport(rasa))
    return Relay(client, open_store(config.bot_store), config)


def _ok(*messages: dict) -> Callable[[dict], httpx.Response]:
    return lambda body: httpx.Response(200, json=[{"recipient_id": body["sender"], **m} for m in messages])


WHO = Who(chat_id=-100123, user_id=4242, language_code="kk", chat_type="supergroup")


def test_rasa_sees_a_salted_hash_and_the_language_hint_never_the_ids(tmp_path: Path) -> None:
    rasa = FakeRasa(_ok({"text": "Сәлем!"}))

    async def scenario() -> None:
        relay = _relay(tmp_path, rasa)
        await relay.message(WHO, "сәлем")
        await relay.message(Who(chat_id=4242, user_id=4242, language_code="kk"), "сәлем")
        await relay.aclose()

    asyncio.run(scenario())
    first, private = rasa.bodies
    assert first["metadata"] == {"language_code": "kk", "chat_type": "supergroup"}
    assert "4242" not in first["sender"]
    assert "100123" not in first["sender"]
    assert len(first["sender"]) == 32
    assert first["sender"] != private["sender"]


def test_buttons_become_short_keys_and_a_press_sends_the_payload(tmp_path: Path) -> None:
    long_payload = '/ask_question{"fact_id": "schools-connected-by-2025-and-what-it-costs"}' * 2
    rasa = FakeRasa(_ok({"text": "Қайсысы?", "buttons": [{"title": "Мектептер", "payload": long_payload}]}))

    async def scenario() -> None:
        relay = _relay(tmp_path, rasa)
        (reply,) = await relay.message(WHO, "мектеп")
        ((title, key),) = reply.buttons
        assert title == "Мектептер"
        assert len(callback_data(key).encode()) <= MAX_CALLBACK_DATA
        await relay.press(WHO, key)
        (stale,) = await relay.press(WHO, "no-such-key")
        assert stale.text == BotTexts("kk")("This button no longer works. Please ask your question again.")
        await relay.aclose()

    asyncio.run(scenario())
    assert [b["message"] for b in rasa.bodies] == ["мектеп", long_payload]


@pytest.mark.parametrize(
    "failure",
    [
        lambda body: httpx.Response(500, text="boom"),
        lambda body: httpx.Response(200, json=[]),  # the action server was down: Rasa said nothing
        lambda body: httpx.Response(200, text="not json"),
    ],
)
def test_rasa_failing_gets_a_polite_reply_in_the_users_language(tmp_path: Path, failure: Callable) -> None:
    async def scenario() -> str:
        relay = _relay(tmp_path, FakeRasa(failure))
        (reply,) = await relay.message(Who(1, 1, language_code="en"), "hello")
        await relay.aclose()
        return reply.text

    assert "temporarily unavailable" in asyncio.run(scenario())


def test_an_unreachable_rasa_answers_within_the_timeout_in_the_last_reply_language(tmp_path: Path) -> None:
    """The user wrote in Kazakh earlier; Telegram says "en"; Rasa is then down: Kazakh it is."""
    replies = iter([httpx.Response(200, json=[{"text": "Иә, Starlink туралы білемін."}])])

    def script(body: dict) -> httpx.Response:
        if (response := next(replies, None)) is None:
            raise httpx.ConnectError("connection refused")
        return response

    async def scenario() -> str:
        relay = _relay(tmp_path, FakeRasa(script))
        who = Who(7, 7, language_code="en")
        await relay.message(who, "starlink туралы")
        (reply,) = await relay.message(who, "тағы")
        await relay.aclose()
        return reply.text

    assert asyncio.run(scenario()) == BotTexts("kk")(
        "Sorry, I cannot answer right now: my answering service is temporarily unavailable. "
        "Please try again in a minute."
    )


def test_a_flood_reaches_rasa_only_for_the_burst(tmp_path: Path) -> None:
    rasa = FakeRasa(_ok({"text": "Міне, жауабым."}))

    async def scenario() -> list[list[str]]:
        relay = _relay(tmp_path, rasa, flood_burst=5, flood_interval=60.0)
        turns = [[r.text for r in await relay.message(WHO, f"сұрақ {i}")] for i in range(20)]
        await relay.aclose()
        return turns

    turns = asyncio.run(scenario())
    assert len(rasa.bodies) == 5
    assert turns[5] == [
        BotTexts("kk")(
            "You are sending messages faster than I can answer. Please wait a few seconds, then ask again."
        )
    ]
    assert all(t == [] for t in turns[6:])  # one warning per streak, then quiet


def test_a_too_long_message_is_declined_politely_without_bothering_rasa(tmp_path: Path) -> None:
    rasa = FakeRasa(_ok({"text": "no"}))

    async def scenario() -> str:
        relay = _relay(tmp_path, rasa)
        (reply,) = await relay.message(Who(1, 1, language_code="ru"), "а" * 5000)
        await relay.aclose()
        return reply.text

    text = asyncio.run(scenario())
    assert rasa.bodies == []
    assert "5\xa0000" in text
    assert "1\xa0000" in text
    assert "символов" in text


# --- groups --------------------------------------------------------------------------------------


def _group_message(text: str, entities: list[dict] | None = None, reply_from: int | None = None) -> Message:
    data: dict = {
        "message_id": 5,
        "date": 0,
        "chat": {"id": -100, "type": "supergroup"},
        "from": {"id": 42, "is_bot": False, "first_name": "A"},
        "text": text,
        "entities": entities or [],
    }
    if reply_from is not None:
        data["reply_to_message"] = {
            "message_id": 4,
            "date": 0,
            "chat": data["chat"],
            "from": {"id": reply_from, "is_bot": True, "first_name": "B"},
            "text": "earlier",
        }
    return Message.de_json(data, None)


def test_in_a_group_only_mentions_and_replies_to_the_bot_are_ours() -> None:
    mention = [{"type": "mention", "offset": 0, "length": 12}]
    assert addressed_text(_group_message("@aqparat_bot старлинк заңды ма", mention), "Aqparat_Bot", 1) == (
        "старлинк заңды ма"
    )
    assert (
        addressed_text(
            _group_message("@another_bot hi", [{"type": "mention", "offset": 0, "length": 12}]),
            "aqparat_bot",
            1,
        )
        is None
    )
    assert addressed_text(_group_message("просто болтаем"), "aqparat_bot", 1) is None
    assert addressed_text(_group_message("а цена?", reply_from=1), "aqparat_bot", 1) == "а цена?"
    assert addressed_text(_group_message("а цена?", reply_from=99), "aqparat_bot", 1) is None


def test_a_rasa_that_accepts_but_never_answers_is_cut_off_at_the_timeout(tmp_path: Path) -> None:
    """Slow is handled like down: the user hears back within the timeout, not never."""

    async def scenario() -> tuple[str, float]:
        async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await asyncio.sleep(30)  # read nothing, answer nothing

        server = await asyncio.start_server(hold, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        config = BotSettings(
            bot_store=str(tmp_path / "bot.sqlite3"), rasa_url=f"http://127.0.0.1:{port}", rasa_timeout=1.0
        )
        relay = Relay.open(config)
        start = time.monotonic()
        (reply,) = await relay.message(Who(3, 3, language_code="en"), "hello")
        elapsed = time.monotonic() - start
        await relay.aclose()
        server.close()
        return reply.text, elapsed

    text, elapsed = asyncio.run(scenario())
    assert "temporarily unavailable" in text
    assert elapsed < 3.0
