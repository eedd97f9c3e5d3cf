"""The Bot API stand-in speaks PTB 22's dialect: real ``Bot`` and ``Application`` against it.

These pin down the stand-in itself, so a failing bot end-to-end test points at the bot and not at
a fake that drifted from what python-telegram-bot sends and expects.
"""

from __future__ import annotations

import asyncio
import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllGroupChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageEntity,
    Update,
)
from telegram.error import BadRequest, Conflict, RetryAfter
from telegram.ext import AIORateLimiter, ContextTypes, MessageHandler, filters

from stack.telegram_standin import (
    DEFAULT_SUPERGROUP_ID,
    BotApiStandIn,
    Call,
    Upload,
    decode_value,
    polling,
    utf16_len,
)

USER = 42
OTHER_USER = 43
GROUP = -1_001_234_567_890


@pytest.fixture
def api() -> Iterator[BotApiStandIn]:
    with BotApiStandIn(poll_cap=0.5) as standin:
        yield standin


async def _with_bot(api: BotApiStandIn, action: Any) -> Any:
    async with api.bot() as bot:
        return await action(bot)


def run_with_bot(api: BotApiStandIn, action: Any) -> Any:
    """Plain test functions drive async PTB through asyncio.run (no pytest-asyncio here)."""
    return asyncio.run(_with_bot(api, action))


def fetch_updates(api: BotApiStandIn) -> tuple[Update, ...]:
    return run_with_bot(api, lambda bot: bot.get_updates(timeout=0))


def keyboard() -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton("Бағасы", callback_data="fact:price")]])


# --- Bot methods ---------------------------------------------------------------------------------


def test_get_me_answers_with_the_configured_bot() -> None:
    with BotApiStandIn(username="other_test_bot", bot_id=777) as api:
        me = run_with_bot(api, lambda bot: bot.get_me())
    assert (me.id, me.username, me.is_bot) == (777, "other_test_bot", True)


def test_any_token_is_accepted_and_the_call_recorded(api: BotApiStandIn) -> None:
    async def action(_bot: Bot) -> None:
        async with Bot("999:another", base_url=f"{api.url}/bot") as other:
            assert other.username == "aqparat_test_bot"

    run_with_bot(api, action)
    assert [call.method for call in api.calls()] == ["getMe", "getMe"]


def test_send_message_records_decoded_params_and_returns_a_full_message(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> Any:
        first = await bot.send_message(USER, "<b>Сәлем</b>", parse_mode="HTML", reply_markup=keyboard())
        second = await bot.send_message(USER, "123")
        elsewhere = await bot.send_message(OTHER_USER, "true")
        return first, second, elsewhere

    first, second, elsewhere = run_with_bot(api, action)

    params = api.calls("sendMessage")[0].params
    assert params["chat_id"] == USER
    assert params["parse_mode"] == "HTML"
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "Бағасы", "callback_data": "fact:price"}]]
    }
    assert api.sent_texts() == ["<b>Сәлем</b>", "123", "true"]  # digits and "true" stay text
    assert api.sent_texts(USER) == ["<b>Сәлем</b>", "123"]
    assert (first.message_id, second.message_id, elsewhere.message_id) == (1, 2, 1)
    assert first.from_user.id == 1000
    assert first.chat.type == "private"
    assert first.reply_markup == keyboard()
    assert second.reply_markup is None


def test_reply_to_message_id_links_the_pushed_message(api: BotApiStandIn) -> None:
    pushed = api.push(api.text_message(USER, "сұрақ"))["message"]
    sent = run_with_bot(
        api, lambda bot: bot.send_message(USER, "жауап", reply_to_message_id=pushed["message_id"])
    )
    assert api.calls("sendMessage")[0].params["reply_parameters"] == {"message_id": 1}
    assert sent.reply_to_message.text == "сұрақ"
    assert sent.message_id == pushed["message_id"] + 1  # one id sequence per chat, both sides


def test_send_photo_upload_arrives_byte_for_byte(api: BotApiStandIn) -> None:
    image = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) + b"\r\n--boundary-like\r\n"
    sent = run_with_bot(api, lambda bot: bot.send_photo(USER, io.BytesIO(image), caption="Карта"))

    params = api.calls("sendPhoto")[0].params
    assert isinstance(params["photo"], Upload)
    assert params["photo"].data == image
    assert params["caption"] == "Карта"
    assert params["chat_id"] == USER
    assert sent.caption == "Карта"
    assert sent.photo[-1].file_size == len(image)
    assert api.sent_messages(USER)[0]["caption"] == "Карта"


def test_send_photo_by_file_id_is_form_encoded(api: BotApiStandIn) -> None:
    run_with_bot(api, lambda bot: bot.send_photo(USER, "AgACAgIAAxkBAAIB"))
    assert api.calls("sendPhoto")[0].params["photo"] == "AgACAgIAAxkBAAIB"


def test_commands_are_kept_per_language_and_scope(api: BotApiStandIn) -> None:
    group_scope = BotCommandScopeAllGroupChats()

    async def action(bot: Bot) -> Any:
        await bot.set_my_commands([BotCommand("start", "Бастау")], language_code="kk")
        await bot.set_my_commands([BotCommand("start", "Start")])
        await bot.set_my_commands([BotCommand("help", "Help")], scope=group_scope)
        kazakh = await bot.get_my_commands(language_code="kk")
        default = await bot.get_my_commands()
        groups = await bot.get_my_commands(scope=group_scope)
        await bot.delete_my_commands(language_code="kk")
        return kazakh, default, groups, await bot.get_my_commands(language_code="kk")

    kazakh, default, groups, deleted = run_with_bot(api, action)

    assert kazakh == (BotCommand("start", "Бастау"),)
    assert default == (BotCommand("start", "Start"),)
    assert groups == (BotCommand("help", "Help"),)
    assert deleted == ()
    first = api.calls("setMyCommands")[0].params
    assert first == {"commands": [{"command": "start", "description": "Бастау"}], "language_code": "kk"}
    assert api.calls("setMyCommands")[2].params["scope"] == {"type": "all_group_chats"}
    assert api.my_commands() == [{"command": "start", "description": "Start"}]


def test_chat_action_and_callback_answer_succeed(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> tuple[bool, bool]:
        typing = await bot.send_chat_action(USER, "typing")
        answered = await bot.answer_callback_query("123456789", text="Жаңартылды", show_alert=True)
        return typing, answered

    assert run_with_bot(api, action) == (True, True)
    answer = api.calls("answerCallbackQuery")[0].params
    assert answer == {"callback_query_id": "123456789", "text": "Жаңартылды", "show_alert": True}


def test_edits_change_the_stored_message_and_refuse_no_ops(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> Any:
        sent = await bot.send_message(USER, "бірінші", reply_markup=keyboard())
        edited = await bot.edit_message_text("екінші", chat_id=USER, message_id=sent.message_id)
        with pytest.raises(BadRequest, match="not modified"):
            await bot.edit_message_text("екінші", chat_id=USER, message_id=sent.message_id)
        marked = await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=keyboard())
        with pytest.raises(BadRequest, match="not found"):
            await bot.edit_message_text("жоқ", chat_id=USER, message_id=99)
        return edited, marked

    edited, marked = run_with_bot(api, action)

    assert edited.text == "екінші"
    assert edited.reply_markup is None  # an edit without a keyboard drops it, as Telegram does
    assert edited.edit_date is not None
    assert marked.reply_markup == keyboard()
    assert [call.ok for call in api.calls("editMessageText")] == [True, False, False]
    assert api.sent_messages(USER)[0]["text"] == "екінші"


def test_telegram_limits_are_enforced(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> None:
        with pytest.raises(BadRequest, match="too long"):
            await bot.send_message(USER, "а" * 4097)
        with pytest.raises(BadRequest, match="empty"):
            await bot.send_message(USER, "   ")
        await bot.send_message(USER, "а" * 4096)

    run_with_bot(api, action)
    assert [call.error_code for call in api.calls("sendMessage")] == [400, 400, None]
    assert len(api.sent_texts(USER)) == 1


def test_webhook_round_trip_and_polling_conflict(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> Any:
        await bot.set_webhook("https://example.org/hook", secret_token="s3cret")
        info = await bot.get_webhook_info()
        with pytest.raises(Conflict):
            await bot.get_updates()
        await bot.delete_webhook(drop_pending_updates=True)
        return info, await bot.get_webhook_info()

    api.push(api.text_message(USER, "dropped"))
    info, after = run_with_bot(api, action)
    assert info.url == "https://example.org/hook"
    assert info.pending_update_count == 1
    assert after.url == ""
    assert after.pending_update_count == 0


def test_unknown_methods_are_recorded_and_succeed(api: BotApiStandIn) -> None:
    result = run_with_bot(
        api, lambda bot: bot.do_api_request("setFutureThing", api_kwargs={"title": "Сипаттама", "n": 3})
    )
    assert result is True
    assert api.calls("setFutureThing")[0].params == {"title": "Сипаттама", "n": 3}


def test_close_and_log_out(api: BotApiStandIn) -> None:
    async def action(bot: Bot) -> tuple[bool, bool]:
        return await bot.close(), await bot.log_out()

    assert run_with_bot(api, action) == (True, True)


def test_file_download_through_base_file_url(api: BotApiStandIn) -> None:
    api.add_file("voice-1", b"OggS voice bytes")

    async def action(bot: Bot) -> bytes:
        file = await bot.get_file("voice-1")
        return bytes(await file.download_as_bytearray())

    assert run_with_bot(api, action) == b"OggS voice bytes"


def test_json_and_query_string_requests_are_decoded(api: BotApiStandIn) -> None:
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    reply = httpx.post(
        f"{api.url}/bot1:x/sendMessage", json={"chat_id": USER, "text": "42", "reply_markup": markup}
    )
    assert reply.json()["result"]["reply_markup"] == markup
    httpx.get(f"{api.url}/bot1:x/sendChatAction", params={"chat_id": "-100123", "action": "typing"})
    missing = httpx.post(f"{api.url}/nowhere")
    assert missing.status_code == 404
    assert api.calls("sendMessage")[0].params == {"chat_id": USER, "text": "42", "reply_markup": markup}
    assert api.calls("sendChatAction")[0].params == {"chat_id": -100123, "action": "typing"}


def test_decode_value_keeps_text_fields_as_text() -> None:
    assert decode_value("text", "123") == "123"
    assert decode_value("callback_query_id", "4382") == "4382"
    assert decode_value("chat_id", "-100123") == -100123
    assert decode_value("chat_id", "@channel") == "@channel"
    assert decode_value("disable_notification", "true") is True
    assert decode_value("reply_markup", '{"inline_keyboard": []}') == {"inline_keyboard": []}
    assert decode_value("extra", "NaN") == "NaN"


# --- scripted failures and delays ----------------------------------------------------------------


def test_fail_429_raises_retry_after_then_recovers(api: BotApiStandIn) -> None:
    api.fail("sendMessage", retry_after=3)

    async def action(bot: Bot) -> None:
        with pytest.raises(RetryAfter, match="Retry in 3"):
            await bot.send_message(USER, "бірінші")
        await bot.send_message(USER, "екінші")

    run_with_bot(api, action)
    assert [call.error_code for call in api.calls("sendMessage")] == [429, None]
    assert api.sent_texts(USER) == ["екінші"]  # failed sends are not counted as sent


def test_fail_400_several_times_raises_bad_request(api: BotApiStandIn) -> None:
    api.fail("sendMessage", times=2, error_code=400, description="Bad Request: chat not found")

    async def action(bot: Bot) -> list[str]:
        errors = []
        for _ in range(2):
            with pytest.raises(BadRequest) as caught:
                await bot.send_message(USER, "x")
            errors.append(caught.value.message)
        await bot.send_message(USER, "y")
        return errors

    assert run_with_bot(api, action) == ["Chat not found", "Chat not found"]
    assert [call.ok for call in api.calls("sendMessage")] == [False, False, True]


def test_delay_slows_only_the_named_method(api: BotApiStandIn) -> None:
    api.delay("sendMessage", 0.3)

    async def action(bot: Bot) -> tuple[float, float]:
        started = time.monotonic()
        await bot.send_chat_action(USER, "typing")
        fast = time.monotonic() - started
        await bot.send_message(USER, "slow")
        return fast, time.monotonic() - started - fast

    fast, slow = run_with_bot(api, action)
    assert fast < 0.2
    assert slow >= 0.3


# --- updates -------------------------------------------------------------------------------------


def test_text_message_and_command_parse_as_updates(api: BotApiStandIn) -> None:
    api.push(api.text_message(USER, "Қанша тұрады?", language_code="kk", first_name="Айгүл"))
    api.push(api.command(USER, "/start school-17"))
    text, command = fetch_updates(api)

    assert text.message.text == "Қанша тұрады?"
    assert text.effective_user.language_code == "kk"
    assert text.effective_user.first_name == "Айгүл"
    assert text.effective_chat.id == USER
    assert text.effective_chat.type == "private"
    assert command.update_id == text.update_id + 1
    assert command.message.message_id == text.message.message_id + 1
    assert list(command.message.parse_entities([MessageEntity.BOT_COMMAND]).values()) == ["/start"]
    assert filters.COMMAND.check_update(command)
    assert not filters.COMMAND.check_update(text)


def test_group_mention_entity_is_measured_in_utf16(api: BotApiStandIn) -> None:
    text = "🛰️ Сұрақ @aqparat_test_bot: жылдамдық қандай?"
    api.push(api.mention(USER, text, chat_id=GROUP, chat_type="supergroup"))
    api.push(api.mention(OTHER_USER, "бағасы қандай?"))
    (update, prefixed) = fetch_updates(api)

    assert update.effective_chat.id == GROUP
    assert update.effective_chat.type == "supergroup"
    assert list(update.message.parse_entities([MessageEntity.MENTION]).values()) == ["@aqparat_test_bot"]
    assert update.message.entities[0].offset == utf16_len("🛰️ Сұрақ ")
    assert utf16_len("🛰️ Сұрақ ") > len("🛰️ Сұрақ ")  # the emoji really is two units
    assert prefixed.message.text == "@aqparat_test_bot бағасы қандай?"
    assert prefixed.effective_chat.type == "group"
    assert prefixed.effective_chat.id < 0
    assert filters.Entity(MessageEntity.MENTION).check_update(prefixed)


def test_reply_to_a_bot_message(api: BotApiStandIn) -> None:
    answer = api.bot_message(GROUP, "Жауап")
    api.push(api.text_message(USER, "тағы?", chat_id=GROUP, chat_type="group", reply_to_message=answer))
    (update,) = fetch_updates(api)

    replied = update.message.reply_to_message
    assert replied.from_user.id == 1000
    assert replied.from_user.is_bot
    assert replied.text == "Жауап"
    assert update.message.message_id == replied.message_id + 1


def test_callback_query_carries_the_button_message(api: BotApiStandIn) -> None:
    api.push(api.callback_query(USER, "fact:price", language_code="en"))
    (update,) = fetch_updates(api)

    query = update.callback_query
    assert query.data == "fact:price"
    assert query.from_user.language_code == "en"
    assert query.message.from_user.id == 1000
    assert query.message.reply_markup.inline_keyboard[0][0].callback_data == "fact:price"

    async def action(bot: Bot) -> Any:
        return await bot.edit_message_text("Жаңа", chat_id=USER, message_id=query.message.message_id)

    assert run_with_bot(api, action).text == "Жаңа"  # the stand-in knows the button's message


def test_non_text_messages_match_ptb_filters(api: BotApiStandIn) -> None:
    builders = {
        filters.VOICE: api.voice(USER, duration=5),
        filters.PHOTO: api.photo(USER, caption="сурет"),
        filters.Sticker.ALL: api.sticker(USER),
        filters.Document.ALL: api.document(USER, file_name="шарт.pdf"),
        filters.LOCATION: api.location(USER),
    }
    for update in builders.values():
        api.push(update)
    updates = fetch_updates(api)

    for (wanted, _built), update in zip(builders.items(), updates, strict=True):
        assert wanted.check_update(update)
        assert not filters.TEXT.check_update(update)
    assert updates[0].message.voice.to_dict()["duration"] == 5  # int or timedelta, by PTB setting
    assert updates[1].message.caption == "сурет"
    assert updates[3].message.document.file_name == "шарт.pdf"


def test_edited_message_and_channel_post(api: BotApiStandIn) -> None:
    original = api.push(api.text_message(USER, "бастапқы"))["message"]
    api.push(api.edited_message(USER, "түзетілген", message_id=original["message_id"]))
    api.push(api.channel_post("Жаңалық"))
    _, edited, post = fetch_updates(api)

    assert edited.edited_message.text == "түзетілген"
    assert edited.edited_message.message_id == original["message_id"]
    assert edited.message is None
    assert api.text_message(USER, "x")["message"]["message_id"] == original["message_id"] + 1
    assert post.channel_post.text == "Жаңалық"
    assert post.effective_chat.type == "channel"
    assert post.effective_user is None
    assert filters.UpdateType.CHANNEL_POSTS.check_update(post)


def test_builders_reject_impossible_chats(api: BotApiStandIn) -> None:
    with pytest.raises(ValueError, match="negative"):
        api.text_message(USER, "x", chat_id=5, chat_type="group")
    with pytest.raises(ValueError, match="private"):
        api.text_message(USER, "x", chat_id=OTHER_USER)
    assert api.text_message(USER, "x", chat_type="supergroup")["message"]["chat"]["id"] == (
        DEFAULT_SUPERGROUP_ID
    )


def test_offset_acknowledges_and_long_poll_waits_then_wakes(api: BotApiStandIn) -> None:
    first = api.push(api.text_message(USER, "1"))

    async def action(bot: Bot) -> Any:
        again = await bot.get_updates(timeout=0)
        started = time.monotonic()
        empty = await bot.get_updates(offset=first["update_id"] + 1, timeout=10)
        waited = time.monotonic() - started
        threading.Timer(0.1, lambda: api.push(api.text_message(USER, "2"))).start()
        started = time.monotonic()
        woken = await bot.get_updates(offset=first["update_id"] + 1, timeout=10)
        return again, empty, waited, woken, time.monotonic() - started

    again, empty, waited, woken, wake_time = run_with_bot(api, action)

    assert [u.message.text for u in again] == ["1"]  # not acknowledged yet: delivered again
    assert empty == ()
    assert 0.4 <= waited < 1.5  # min(timeout, poll_cap=0.5)
    assert [u.message.text for u in woken] == ["2"]
    assert wake_time < 0.45
    assert api.pending_updates() == 1


# --- waiting helpers -----------------------------------------------------------------------------


def test_wait_for_messages_sees_sends_from_another_thread(api: BotApiStandIn) -> None:
    def send_later() -> None:
        time.sleep(0.1)
        run_with_bot(api, lambda bot: bot.send_message(USER, "кеш"))

    threading.Thread(target=send_later).start()
    assert api.wait_for_messages(USER, 1, timeout=5) == ["кеш"]


def test_wait_for_timeout_dumps_the_calls(api: BotApiStandIn) -> None:
    run_with_bot(api, lambda bot: bot.send_message(USER, "көрінеді"))
    with pytest.raises(AssertionError) as caught:
        api.wait_for(lambda calls: any(c.method == "sendPhoto" for c in calls), timeout=0.1)
    assert "sendMessage" in str(caught.value)
    assert "көрінеді" in str(caught.value)


# --- a real Application in polling mode ----------------------------------------------------------


async def echo(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


def echo_application(api: BotApiStandIn, *, rate_limited: bool = False) -> Any:
    builder = api.application_builder()
    if rate_limited:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=2))
    application = builder.build()
    application.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    return application


def test_application_polls_and_echoes(api: BotApiStandIn) -> None:
    application = echo_application(api)

    async def scenario() -> float:
        async with application:
            await application.start()
            assert application.updater is not None
            await application.updater.start_polling(poll_interval=0.0, timeout=1)
            api.push(api.text_message(USER, "сәлем"))
            api.push(api.text_message(USER, "топта", chat_id=GROUP, chat_type="supergroup"))
            await api.wait_for_async(lambda _calls: len(api.sent_texts()) == 2, timeout=5)
            stopping = time.monotonic()
            await application.updater.stop()
            await application.stop()
        return time.monotonic() - stopping

    shutdown = asyncio.run(scenario())

    assert api.sent_texts(USER) == ["echo: сәлем"]
    assert api.sent_texts(GROUP) == ["echo: топта"]
    # reply_text quotes the message by default outside private chats only
    assert "reply_parameters" not in api.calls("sendMessage")[0].params
    assert api.calls("sendMessage")[1].params["reply_parameters"] == {"message_id": 1}
    methods = [call.method for call in api.calls()]
    assert methods[:3] == ["getMe", "deleteWebhook", "getUpdates"]
    last_poll = api.calls("getUpdates")[-1].params
    assert last_poll["timeout"] == 0  # the acknowledging poll made on stop
    assert last_poll["offset"] == 3
    assert api.pending_updates() == 0
    assert shutdown < 1.0  # stop cancels the long poll instead of waiting it out


def test_polling_helper_survives_flood_control(api: BotApiStandIn) -> None:
    api.fail("sendMessage", retry_after=1)
    application = echo_application(api, rate_limited=True)
    started: list[Call] = []

    async def post_init(app: Any) -> None:
        await app.bot.set_my_commands([BotCommand("start", "Бастау")], language_code="kk")
        started.extend(api.calls())

    application.post_init = post_init

    async def scenario() -> list[str]:
        async with polling(application):
            api.push(api.text_message(USER, "тағы"))
            return await api.wait_for_messages_async(USER, 1, timeout=5)

    assert asyncio.run(scenario()) == ["echo: тағы"]
    assert [call.method for call in started] == ["getMe", "setMyCommands"]
    sends = api.calls("sendMessage")
    assert [call.error_code for call in sends] == [429, None]
    assert sends[1].time - sends[0].time >= 1.0  # AIORateLimiter waited out retry_after
