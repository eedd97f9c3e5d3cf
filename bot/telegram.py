"""The Telegram side: python-telegram-bot handlers and the ``Application`` that runs them.

Handlers only translate: a Telegram update becomes a call on the ``Relay`` (bot/relay.py), and
the relay's ``Outgoing`` messages become Telegram messages. The relay lives in ``bot_data``
(PTB's place for shared objects; no module globals; typed as ``BotData`` in bot/context.py),
created in ``post_init`` and closed in ``post_shutdown``, so the same code runs under polling,
webhooks and the tests' stand-in API. The maintainers' ``/reload`` and ``/stats``
(bot/maintainer.py) talk to the action server through an ``AdminClient`` kept there too; they are
left out of the command menu on purpose.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import BotCommand, Message, MessageEntity, Update
from telegram.constants import ChatType, ParseMode
from telegram.ext import (
    AIORateLimiter,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot.admin import AdminClient
from bot.context import CONTEXT_TYPES, BotApplication, CustomContext
from bot.maintainer import is_maintainer, reload_reply, stats_reply
from bot.relay import COMMAND_PAYLOADS, Outgoing, Relay, Who
from bot.render import key_from_callback, keyboard, split_text
from bot.settings import BotSettings
from bot.texts import (
    COMMANDS,
    RELOAD_STARTED,
    STALE_BUTTON,
    UNAVAILABLE,
    UNKNOWN_COMMAND,
)
from texts.languages import LANGUAGES
from texts.localized import Texts

log = logging.getLogger(__name__)

CONCURRENT_UPDATES = 64  # one slow answer must not hold up everyone else's
NON_TEXT = (
    filters.VOICE
    | filters.AUDIO
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.PHOTO
    | filters.Sticker.ALL
    | filters.Document.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.ANIMATION
    | filters.POLL
    | filters.Dice.ALL
)


def who_of(update: Update) -> Who | None:
    chat, user = update.effective_chat, update.effective_user
    if chat is None:
        return None
    sender_chat = update.effective_message.sender_chat if update.effective_message else None
    user_id = user.id if user else (sender_chat.id if sender_chat else chat.id)
    return Who(chat.id, user_id, user.language_code if user else None, chat.type)


def is_group(who: Who) -> bool:
    return who.chat_type in (ChatType.GROUP, ChatType.SUPERGROUP)


def addressed_text(message: Message, bot_username: str, bot_id: int) -> str | None:
    """In a group, the text meant for us (our @mention removed), or None when the message is not
    for us: it neither mentions the bot nor replies to one of its messages."""
    text = message.text or message.caption or ""
    mentions = [
        (entity, value)
        for entity, value in message.parse_entities(
            [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
        ).items()
        if value.lstrip("@").lower() == bot_username.lower() or (entity.user and entity.user.id == bot_id)
    ]
    replied = message.reply_to_message
    if not mentions and not (replied and replied.from_user and replied.from_user.id == bot_id):
        return None
    for _, value in mentions:
        text = text.replace(value, " ")
    return " ".join(text.split())


async def send(context: CustomContext, who: Who, messages: Sequence[Outgoing], quote: Message | None) -> None:
    """Send the relay's messages in order; the keyboard goes under the last chunk of its text."""
    for outgoing in messages:
        if outgoing.image:
            await context.bot.send_photo(who.chat_id, outgoing.image)
        chunks = split_text(outgoing.text)
        markup = keyboard(outgoing.buttons)
        if not chunks and markup is not None:
            chunks = ["…"]
        for position, chunk in enumerate(chunks):
            await context.bot.send_message(
                who.chat_id,
                chunk,
                parse_mode=ParseMode.HTML,
                reply_markup=markup if position == len(chunks) - 1 else None,
                reply_to_message_id=quote.message_id if quote is not None and is_group(who) else None,
                allow_sending_without_reply=True,
            )
            quote = None  # quote the user's message once, not under every chunk


async def on_text(update: Update, context: CustomContext) -> None:
    message, who = update.effective_message, who_of(update)
    if message is None or who is None:
        return
    text = message.text or ""
    if is_group(who):
        addressed = addressed_text(message, context.bot.username, context.bot.id)
        if addressed is None:
            return
        text = addressed or COMMAND_PAYLOADS["help"]  # a bare mention: say what we can do
    await send(context, who, await context.relay.message(who, text), message)


def command(name: str) -> Callable[[Update, CustomContext], Coroutine[Any, Any, None]]:
    payload = COMMAND_PAYLOADS[name]

    async def on_command(update: Update, context: CustomContext) -> None:
        who = who_of(update)
        if who is not None:
            await send(context, who, await context.relay.message(who, payload), update.effective_message)

    return on_command


async def on_unknown_command(update: Update, context: CustomContext) -> None:
    who, message = who_of(update), update.effective_message
    if who is None or message is None:
        return
    if is_group(who) and not (message.text or "").split()[0].lower().endswith(
        "@" + context.bot.username.lower()
    ):
        return  # "/foo" in a group is for some other bot
    await send(context, who, [await context.relay.say(who, UNKNOWN_COMMAND)], update.effective_message)


async def maintainer(update: Update, context: CustomContext) -> Who | None:
    """The maintainer behind a maintainer command; anyone else is answered as for an unknown
    command (so the commands' existence is not revealed) and gets None."""
    who = who_of(update)
    if who is None or not is_maintainer(who, context.settings):
        await on_unknown_command(update, context)
        return None
    return who


async def on_reload(update: Update, context: CustomContext) -> None:
    """A maintainer's /reload: say it started (it takes a while), then how it went."""
    if (who := await maintainer(update, context)) is None:
        return
    texts = await context.relay.texts(who)
    await send(context, who, [Outgoing(texts(RELOAD_STARTED))], None)
    await send(context, who, [Outgoing(await reload_reply(context.admin, texts))], None)


async def on_stats(update: Update, context: CustomContext) -> None:
    """A maintainer's /stats [days]: usage figures and the top unanswered questions."""
    if (who := await maintainer(update, context)) is None:
        return
    texts = await context.relay.texts(who)
    reply = await stats_reply(context.admin, texts, context.args or [])
    await send(context, who, [Outgoing(reply)], None)


async def on_button(update: Update, context: CustomContext) -> None:
    query, who = update.callback_query, who_of(update)
    if query is None:
        return
    if who is None:  # a button under an inline-mode message: not one of ours; stop its spinner
        await query.answer()
        return
    key = key_from_callback(query.data)
    relay = context.relay
    if key is None:
        await query.answer((await relay.say(who, STALE_BUTTON)).text, show_alert=True)
        return
    await query.answer()  # stop the button's spinner at once; the answer follows as messages
    await send(context, who, await relay.press(who, key), None)


async def on_unreadable(update: Update, context: CustomContext) -> None:
    message, who = update.effective_message, who_of(update)
    if message is None or who is None:
        return
    if is_group(who) and addressed_text(message, context.bot.username, context.bot.id) is None:
        return
    await send(context, who, await context.relay.unreadable(who), message)


async def on_channel_post(update: Update, _context: CustomContext) -> None:
    """Channel posts have no asker to answer; we read none of them."""
    log.debug("ignored a channel post")


async def on_error(update: object, context: CustomContext) -> None:
    """Log the failure (never the update: it holds user ids) and tell the user, if there is one."""
    log.error("handler failed: %s", context.error, exc_info=context.error)
    if not isinstance(update, Update) or (who := who_of(update)) is None:
        return
    try:
        await send(context, who, [await context.relay.say(who, UNAVAILABLE)], None)
    except Exception:  # the error handler must not fail itself
        log.exception("could not tell the user about the failure")


async def post_init(application: BotApplication) -> None:
    data = application.bot_data
    settings = data.settings
    if settings is None:
        raise RuntimeError("build the application with build_application(settings)")
    data.relay = Relay.open(settings)
    data.admin = AdminClient.from_settings(settings)
    for lang in (None, *LANGUAGES):
        texts = Texts(lang or settings.default_language)
        commands = [BotCommand(name, texts(description)) for name, description in COMMANDS]
        await application.bot.set_my_commands(commands, language_code=lang)
    log.info("bot @%s ready", application.bot.username)


async def post_shutdown(application: BotApplication) -> None:
    data = application.bot_data
    if data.relay is not None:
        await data.relay.aclose()
    if data.admin is not None:
        await data.admin.aclose()


def build_application(settings: BotSettings) -> BotApplication:
    application = (
        ApplicationBuilder()
        .context_types(CONTEXT_TYPES)
        .token(settings.telegram_token)
        .base_url(settings.telegram_base_url)
        .base_file_url(settings.telegram_base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .concurrent_updates(CONCURRENT_UPDATES)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data.settings = settings
    for name in COMMAND_PAYLOADS:
        application.add_handler(CommandHandler(name, command(name)))
    application.add_handler(CommandHandler("reload", on_reload))
    application.add_handler(CommandHandler("stats", on_stats))
    application.add_handler(MessageHandler(filters.UpdateType.CHANNEL_POSTS, on_channel_post))
    application.add_handler(MessageHandler(filters.COMMAND, on_unknown_command))
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(MessageHandler(NON_TEXT, on_unreadable))
    application.add_handler(CallbackQueryHandler(on_button))
    application.add_error_handler(on_error)
    return application


def webhook_options(settings: BotSettings) -> dict[str, object]:
    """Where PTB listens and what it tells Telegram; the secret is required, because without it
    anyone who finds the URL could post fake updates as any user."""
    if not settings.webhook_secret:
        raise SystemExit("AQPARAT_WEBHOOK_SECRET is required with AQPARAT_WEBHOOK_URL")
    return {
        "listen": settings.webhook_listen,
        "port": settings.webhook_port,
        "url_path": urlsplit(settings.webhook_url).path.lstrip("/"),
        "webhook_url": settings.webhook_url,
        "secret_token": settings.webhook_secret,
        "allowed_updates": Update.ALL_TYPES,
    }


def run(settings: BotSettings) -> None:
    """Serve until SIGINT/SIGTERM: long polling by default, a webhook when its URL is set."""
    application = build_application(settings)
    if not settings.webhook_url:
        log.info("polling Telegram for updates")
        application.run_polling(allowed_updates=Update.ALL_TYPES)
        return
    options = webhook_options(settings)
    log.info("webhook: listening on %s:%s/%s", options["listen"], options["port"], options["url_path"])
    application.run_webhook(**options)  # type: ignore[arg-type]
