"""How the relay's messages reach Telegram: images, long texts in parts, the keyboard last."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot.relay import Outgoing, Who
from bot.telegram import send
from stack.telegram_standin import BotApiStandIn


def test_image_then_text_in_parts_with_the_keyboard_under_the_last_part() -> None:
    long_text = "\n\n".join(f"Абзац {i}. <b>не тег</b> & " + "сөз " * 200 for i in range(6))
    messages = [
        Outgoing(image="https://example.org/map.png"),
        Outgoing(long_text, buttons=(("👍", "k1"), ("👎", "k2"))),
    ]
    with BotApiStandIn() as api:

        async def scenario() -> None:
            async with api.bot() as bot:
                await send(SimpleNamespace(bot=bot), Who(77, 77), messages, None)  # type: ignore[arg-type]

        asyncio.run(scenario())
        (photo,) = api.calls("sendPhoto")
        parts = api.calls("sendMessage")
    assert photo.params["photo"] == "https://example.org/map.png"
    assert len(parts) >= 2
    assert all(len(p.params["text"]) <= 4096 for p in parts)
    assert all(p.params["parse_mode"] == "HTML" for p in parts)
    assert "&lt;b&gt;не тег&lt;/b&gt; &amp;" in parts[0].params["text"]
    assert [("reply_markup" in p.params) for p in parts] == [False] * (len(parts) - 1) + [True]
    keys = [b["callback_data"] for row in parts[-1].params["reply_markup"]["inline_keyboard"] for b in row]
    assert keys == ["k:k1", "k:k2"]
