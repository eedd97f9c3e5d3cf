"""A local stand-in for the Telegram Bot API, for end-to-end tests and the benchmark.

The real python-telegram-bot ``Application`` talks HTTP to it exactly as it would to
api.telegram.org, so tests exercise PTB's request encoding, long polling, error mapping and
rate limiting instead of a mock's idea of them. Point PTB at it with::

    with BotApiStandIn() as api:
        application = api.application_builder().build()
        api.push(api.text_message(42, "сәлем"))

The server runs in daemon threads, so the test's asyncio loop (where PTB runs) is never blocked
by it. The reverse is not true: the blocking helpers (``wait_for``...) must not be called from
the loop that runs the bot; use their ``*_async`` twins there.

What it deliberately does not do: parse HTML/Markdown (sent text is recorded verbatim, tags
included), enforce rate limits, or keep per-user state beyond message ids and edits.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, TypedDict, Unpack
from urllib.parse import parse_qsl, unquote

from telegram import Bot
from telegram.ext import Application, ApplicationBuilder

DEFAULT_USERNAME = "aqparat_test_bot"
DEFAULT_BOT_ID = 1000
DEFAULT_TOKEN = f"{DEFAULT_BOT_ID}:stand-in-token"
DEFAULT_GROUP_ID = -4_000_000_001
DEFAULT_SUPERGROUP_ID = -1_001_000_000_001
DEFAULT_CHANNEL_ID = -1_009_000_000_001
POLL_CAP = 1.0  # seconds; long enough to be real long polling, short enough to stop fast
MAX_TEXT = 4096
MAX_CAPTION = 1024

Json = dict[str, Any]

# Values PTB sends as raw strings; everything else it JSON-encodes (ints as "5", objects as
# "{...}"), so these must not be JSON-decoded: the text "123" has to stay a string.
TEXT_PARAMS = frozenset(
    {
        "action",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "description",
        "document",
        "emoji",
        "file_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "title",
        "url",
        "video",
        "voice",
    }
)

KNOWN_METHODS = (
    "answerCallbackQuery",
    "close",
    "deleteMyCommands",
    "deleteWebhook",
    "editMessageReplyMarkup",
    "editMessageText",
    "getFile",
    "getMe",
    "getMyCommands",
    "getUpdates",
    "getWebhookInfo",
    "logOut",
    "sendChatAction",
    "sendMessage",
    "sendPhoto",
    "setMyCommands",
    "setWebhook",
)
_CANONICAL = {name.lower(): name for name in KNOWN_METHODS}


@dataclass
class Call:
    """One request the bot made; ``error_code`` is set when the stand-in answered with an error."""

    method: str
    params: Json
    time: float  # time.monotonic(), so the benchmark can subtract it from its own clock
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request: kept whole so tests can check what was uploaded."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    remaining: int

    def body(self) -> Json:
        body: Json = {"ok": False, "error_code": self.error_code, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class ApiError(Exception):
    """Raised by a method handler to answer the way Telegram answers a refused request."""

    def __init__(self, error_code: int, description: str) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description

    def body(self) -> Json:
        return {"ok": False, "error_code": self.error_code, "description": self.description}


class MessageContext(TypedDict, total=False):
    """Who sends a built message and where; shared by all the user-message builders."""

    chat_id: int | None
    chat_type: str
    language_code: str
    first_name: str
    username: str | None
    reply_to_message: Json | None


# --- request decoding ------------------------------------------------------------------------


def utf16_len(text: str) -> int:
    """Telegram measures entity offsets in UTF-16 code units, so emoji count twice."""
    return len(text.encode("utf-16-le")) // 2


def _reject_constant(name: str) -> Any:
    raise ValueError(name)


def decode_value(key: str, raw: str) -> Any:
    """Undo PTB's per-field encoding: JSON for everything except plain strings."""
    if key in TEXT_PARAMS:
        return raw
    try:
        value = json.loads(raw, parse_constant=_reject_constant)
    except ValueError:
        return raw
    return value if isinstance(value, dict | list | int | float | bool) else raw


def decode_form(pairs: list[tuple[str, str]]) -> Json:
    return {key: decode_value(key, raw) for key, raw in pairs}


def _header_params(header: str) -> tuple[str, dict[str, str]]:
    """Split ``type/sub; a=1; b="2"`` into the value and its parameters."""
    value, *rest = header.split(";")
    params: dict[str, str] = {}
    for item in rest:
        name, _, raw = item.strip().partition("=")
        params[name.lower()] = raw.strip().strip('"')
    return value.strip().lower(), params


def _part_headers(head: bytes) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in head.decode("utf-8", "replace").split("\r\n"):
        name, _, value = line.partition(":")
        if value:
            headers[name.strip().lower()] = value.strip()
    return headers


def decode_multipart(boundary: str, body: bytes) -> Json:
    """A small parser for httpx's multipart bodies; file parts become :class:`Upload`."""
    params: Json = {}
    for chunk in body.split(b"--" + boundary.encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, data = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        headers = _part_headers(head)
        _, disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name", "")
        data = data.removesuffix(b"\r\n")
        if "filename" in disposition:
            params[name] = Upload(unquote(disposition["filename"]), headers.get("content-type"), data)
        else:
            params[name] = decode_value(name, data.decode("utf-8"))
    return params


def decode_request(content_type: str, body: bytes, query: str) -> Json:
    """Accept every encoding the Bot API accepts: query string, form, multipart or JSON."""
    params = decode_form(parse_qsl(query, keep_blank_values=True))
    kind, header = _header_params(content_type)
    if kind == "application/json" and body:
        params.update(json.loads(body))
    elif kind == "multipart/form-data":
        params.update(decode_multipart(header["boundary"], body))
    elif body:
        params.update(decode_form(parse_qsl(body.decode("utf-8"), keep_blank_values=True)))
    return params


# --- HTTP plumbing ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """Keeps connections alive (HTTP/1.1) as api.telegram.org does; httpx pools them."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes; with Nagle on, delayed ACKs add ~40 ms a call.
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request stderr line; the recorded calls say more."""

    def _dispatch(self) -> None:
        body = self._read_body()
        status, content_type, payload = self.server.standin.respond(
            self.path, self.headers.get("Content-Type", ""), body
        )
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _read_chunked(self) -> bytes:
        chunks = []
        while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
            chunks.append(self.rfile.read(size))
            self.rfile.readline()
        self.rfile.readline()
        return b"".join(chunks)


class _Server(ThreadingHTTPServer):
    """Tracks open connections so ``stop()`` can cut keep-alive clients off at once."""

    daemon_threads = True

    def __init__(self, standin: BotApiStandIn) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.standin = standin
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            connections = list(self._open)
        for connection in connections:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid long-poll (PTB does on stop) is normal, not an error."""
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


# --- the stand-in ----------------------------------------------------------------------------


class BotApiStandIn:
    """The Bot API on 127.0.0.1:<free port>; any token is accepted and every call recorded."""

    def __init__(
        self,
        *,
        username: str = DEFAULT_USERNAME,
        bot_id: int = DEFAULT_BOT_ID,
        first_name: str = "Aqparat",
        poll_cap: float = POLL_CAP,
    ) -> None:
        self.username = username
        self.bot_id = bot_id
        self.first_name = first_name
        self.poll_cap = poll_cap
        self.url = ""
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._cond = threading.Condition(threading.RLock())
        self._started_at = time.monotonic()
        self._calls: list[Call] = []
        self._updates: list[Json] = []
        self._update_ids = itertools.count(1)
        self._serials = itertools.count(1)
        self._message_ids: dict[int | str, int] = {}
        self._messages: dict[tuple[int | str, int], Json] = {}
        self._sent_messages: list[Json] = []
        self._chats: dict[int | str, Json] = {}
        self._failures: dict[str, list[_Failure]] = {}
        self._delays: dict[str, float] = {}
        self._commands: dict[tuple[str, str], list[Json]] = {}
        self._webhook_url = ""
        self._files: dict[str, bytes] = {}
        self._stopping = False
        self._handlers: dict[str, Callable[[Json], Any]] = {
            "answerCallbackQuery": self._answer_callback_query,
            "deleteMyCommands": self._delete_my_commands,
            "deleteWebhook": self._delete_webhook,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "editMessageText": self._edit_message_text,
            "getFile": self._get_file,
            "getMe": lambda _params: self.bot_user(full=True),
            "getMyCommands": self._get_my_commands,
            "getUpdates": self._get_updates,
            "getWebhookInfo": self._get_webhook_info,
            "sendChatAction": self._send_chat_action,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "setMyCommands": self._set_my_commands,
            "setWebhook": self._set_webhook,
        }

    # lifecycle

    def start(self) -> Self:
        if self._server is not None:
            return self
        self._stopping = False
        self._server = _Server(self)
        host, port = self._server.server_address[:2]
        host = host.decode() if isinstance(host, bytes) else host
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake long polls, stop accepting, and drop kept-alive connections."""
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.close_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # pointing PTB at it

    def bot(self, token: str = DEFAULT_TOKEN) -> Bot:
        return Bot(token, base_url=f"{self.url}/bot", base_file_url=f"{self.url}/file/bot")

    def application_builder(
        self, token: str = DEFAULT_TOKEN
    ) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        return (
            ApplicationBuilder()
            .token(token)
            .base_url(f"{self.url}/bot")
            .base_file_url(f"{self.url}/file/bot")
        )

    # scripting

    def fail(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        description: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an error, as Telegram would.

        A 429 always carries ``retry_after`` (1 s unless given) because Telegram's do, and PTB
        only raises ``RetryAfter`` when it is there.
        """
        if error_code == HTTPStatus.TOO_MANY_REQUESTS and retry_after is None:
            retry_after = 1
        text = description or _default_description(error_code, retry_after)
        with self._cond:
            queue = self._failures.setdefault(_canonical(method), [])
            queue.append(_Failure(error_code, text, retry_after, times))

    def delay(self, method: str, seconds: float) -> None:
        """Answer every later call of ``method`` ``seconds`` late (0 to undo)."""
        with self._cond:
            self._delays[_canonical(method)] = seconds

    def add_file(self, file_id: str, data: bytes) -> None:
        """Content served for ``getFile`` + download of ``file_id``."""
        with self._cond:
            self._files[file_id] = data

    def push(self, update: Json) -> Json:
        """Queue ``update`` for getUpdates under the next update_id; returns the queued copy."""
        queued = copy.deepcopy(update)
        with self._cond:
            queued["update_id"] = next(self._update_ids)
            self._updates.append(queued)
            self._cond.notify_all()
        return copy.deepcopy(queued)

    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    # inspection

    def calls(self, method: str | None = None) -> list[Call]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        """Forget the recorded calls (not the queued updates, chats or scripted failures)."""
        with self._cond:
            self._calls.clear()

    def sent_texts(self, chat_id: int | str | None = None) -> list[str]:
        """Texts of successful sendMessage calls, verbatim (HTML tags and all)."""
        return [call.params.get("text", "") for call in self._sent(chat_id)]

    def sent_messages(self, chat_id: int | str | None = None) -> list[Json]:
        """Messages the bot sent (sendMessage/sendPhoto) as they stand now, edits included."""
        with self._cond:
            return [
                copy.deepcopy(message)
                for message in self._sent_messages
                if chat_id is None or message["chat"]["id"] == chat_id
            ]

    def my_commands(self, language_code: str = "", scope: Json | None = None) -> list[Json]:
        with self._cond:
            return copy.deepcopy(self._commands.get(_commands_key(scope, language_code), []))

    def wait_for(self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0) -> list[Call]:
        """Block until ``predicate(calls)`` holds. Not from the loop running the bot: it would
        freeze the bot too (use :meth:`wait_for_async` there)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                snapshot = list(self._calls)
                if predicate(snapshot):
                    return snapshot
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(self._timeout_message(timeout))
                self._cond.wait(remaining)

    async def wait_for_async(
        self, predicate: Callable[[list[Call]], bool], timeout: float = 10.0
    ) -> list[Call]:
        """:meth:`wait_for` for a coroutine sharing the loop with the bot: yields while polling."""
        deadline = time.monotonic() + timeout
        while True:
            snapshot = self.calls()
            if predicate(snapshot):
                return snapshot
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(timeout))
            await asyncio.sleep(0.01)

    def wait_for_messages(self, chat_id: int | str, count: int, timeout: float = 10.0) -> list[str]:
        """Texts sent to ``chat_id`` once at least ``count`` were sent (counted since clear())."""
        self.wait_for(lambda _calls: len(self.sent_texts(chat_id)) >= count, timeout)
        return self.sent_texts(chat_id)

    async def wait_for_messages_async(
        self, chat_id: int | str, count: int, timeout: float = 10.0
    ) -> list[str]:
        await self.wait_for_async(lambda _calls: len(self.sent_texts(chat_id)) >= count, timeout)
        return self.sent_texts(chat_id)

    def dump(self) -> str:
        """Readable call log for assertion messages; getUpdates is summarised, it is noise."""
        with self._cond:
            calls = list(self._calls)
        polls = sum(call.method == "getUpdates" for call in calls)
        lines = [_describe(call, self._started_at) for call in calls if call.method != "getUpdates"]
        lines.append(f"(+ {polls} getUpdates calls)")
        return "\n".join(lines)

    def _sent(self, chat_id: int | str | None) -> list[Call]:
        return [
            call
            for call in self.calls("sendMessage")
            if call.ok and (chat_id is None or call.params.get("chat_id") == chat_id)
        ]

    def _timeout_message(self, timeout: float) -> str:
        return f"condition not met within {timeout} s; calls so far:\n{self.dump()}"

    # HTTP entry point (called from server threads)

    def respond(self, path: str, content_type: str, body: bytes) -> tuple[int, str, bytes]:
        route, _, query = path.partition("?")
        parts = route.strip("/").split("/")
        if len(parts) >= 3 and parts[0] == "file" and parts[1].startswith("bot"):
            return self._download("/".join(parts[2:]))
        if len(parts) == 2 and parts[0].startswith("bot"):
            try:
                params = decode_request(content_type, body, query)
            except (ValueError, KeyError, TypeError) as exc:
                return _json_reply(400, ApiError(400, f"Bad Request: undecodable body: {exc}").body())
            return _json_reply(*self.call(parts[1], params))
        return _json_reply(404, ApiError(404, "Not Found").body())

    def call(self, method: str, params: Json) -> tuple[int, Json]:
        """Record, apply scripted failure/delay, then run the method's handler."""
        name = _canonical(method)
        record = Call(name, params, time.monotonic())
        with self._cond:
            self._calls.append(record)
            failure = self._take_failure(name)
            pause = self._delays.get(name, 0.0)
            self._cond.notify_all()
        if pause:
            time.sleep(pause)
        status, body = self._run(name, params, failure)
        if status != HTTPStatus.OK:
            with self._cond:
                record.error_code = status
                self._cond.notify_all()
        return status, body

    def _run(self, name: str, params: Json, failure: _Failure | None) -> tuple[int, Json]:
        if failure is not None:
            return failure.error_code, failure.body()
        handler = self._handlers.get(name)
        try:
            result = handler(params) if handler else True
        except ApiError as error:
            return error.error_code, error.body()
        except Exception as exc:  # noqa: BLE001 - a stand-in bug must reach the test as an error, not a hang
            return 500, ApiError(500, f"Internal Server Error: stand-in failed: {exc!r}").body()
        return HTTPStatus.OK, {"ok": True, "result": result}

    def _take_failure(self, name: str) -> _Failure | None:
        queue = self._failures.get(name)
        if not queue:
            return None
        failure = queue[0]
        failure.remaining -= 1
        if failure.remaining <= 0:
            queue.pop(0)
        return failure

    def _download(self, file_path: str) -> tuple[int, str, bytes]:
        with self._cond:
            data = self._files.get(file_path.rpartition("/")[2])
        if data is None:
            return _json_reply(404, ApiError(404, "Not Found").body())
        return HTTPStatus.OK, "application/octet-stream", data

    # method handlers

    def bot_user(self, *, full: bool = False) -> Json:
        user: Json = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.first_name,
            "username": self.username,
        }
        if full:
            user |= {
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        return user

    def _get_updates(self, params: Json) -> list[Json]:
        wait = min(float(params.get("timeout") or 0), self.poll_cap)
        deadline = time.monotonic() + wait
        with self._cond:
            if self._webhook_url:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active")
            self._acknowledge(params.get("offset"))
            while not self._updates and not self._stopping:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            return copy.deepcopy(self._updates[: int(params.get("limit") or 100)])

    def _acknowledge(self, offset: int | None) -> None:
        if offset is None:
            return
        if offset < 0:
            del self._updates[:offset]
        else:
            self._updates[:] = [u for u in self._updates if u["update_id"] >= offset]

    def _set_webhook(self, params: Json) -> bool:
        with self._cond:
            self._webhook_url = str(_require(params, "url"))
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _delete_webhook(self, params: Json) -> bool:
        with self._cond:
            self._webhook_url = ""
            if params.get("drop_pending_updates"):
                self._updates.clear()
        return True

    def _get_webhook_info(self, _params: Json) -> Json:
        with self._cond:
            return {
                "url": self._webhook_url,
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }

    def _set_my_commands(self, params: Json) -> bool:
        commands = _require(params, "commands")
        key = _commands_key(params.get("scope"), params.get("language_code", ""))
        with self._cond:
            self._commands[key] = list(commands)
        return True

    def _get_my_commands(self, params: Json) -> list[Json]:
        return self.my_commands(params.get("language_code", ""), params.get("scope"))

    def _delete_my_commands(self, params: Json) -> bool:
        key = _commands_key(params.get("scope"), params.get("language_code", ""))
        with self._cond:
            self._commands.pop(key, None)
        return True

    def _send_chat_action(self, params: Json) -> bool:
        _require(params, "chat_id")
        _require(params, "action")
        return True

    def _answer_callback_query(self, params: Json) -> bool:
        _require(params, "callback_query_id")
        if len(params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _send_message(self, params: Json) -> Json:
        chat_id = _require(params, "chat_id")
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        content: Json = {"text": text}
        if params.get("entities"):
            content["entities"] = params["entities"]
        return self._bot_sends(chat_id, params, content)

    def _send_photo(self, params: Json) -> Json:
        chat_id = _require(params, "chat_id")
        photo = _require(params, "photo")
        caption = params.get("caption", "")
        if len(caption) > MAX_CAPTION:
            raise ApiError(400, "Bad Request: message caption is too long")
        size = len(photo.data) if isinstance(photo, Upload) else 50_000
        content: Json = {"photo": self._photo_sizes(size)}
        if caption:
            content["caption"] = caption
        return self._bot_sends(chat_id, params, content)

    def _edit_message_text(self, params: Json) -> Json | bool:
        text = params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        return self._edit(params, {"text": text, "reply_markup": _inline_markup(params)})

    def _edit_message_reply_markup(self, params: Json) -> Json | bool:
        return self._edit(params, {"reply_markup": _inline_markup(params)})

    def _edit(self, params: Json, changes: Json) -> Json | bool:
        """Telegram refuses no-op edits and drops the keyboard when an edit omits it."""
        if params.get("inline_message_id"):
            return True
        key = (_require(params, "chat_id"), _require(params, "message_id"))
        with self._cond:
            message = self._messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            if all(message.get(name) == value for name, value in changes.items()):
                raise ApiError(400, "Bad Request: message is not modified")
            for name, value in changes.items():
                if value is None:
                    message.pop(name, None)
                else:
                    message[name] = value
            message["edit_date"] = int(time.time())
            return copy.deepcopy(message)

    def _get_file(self, params: Json) -> Json:
        file_id = str(_require(params, "file_id"))
        with self._cond:
            data = self._files.get(file_id, b"")
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "file_size": len(data),
            "file_path": f"files/{file_id}",
        }

    def _bot_sends(self, chat_id: int | str, params: Json, content: Json) -> Json:
        with self._cond:
            message = self._new_message(self._chat(chat_id), self.bot_user())
            message |= content
            markup = _inline_markup(params)
            if markup is not None:
                message["reply_markup"] = markup
            reply_id = _reply_id(params)
            replied = self._messages.get((message["chat"]["id"], reply_id)) if reply_id is not None else None
            if replied is not None:
                message["reply_to_message"] = _without_reply(replied)
            self._sent_messages.append(message)
            return copy.deepcopy(message)

    # update builders

    def text_message(
        self,
        user_id: int,
        text: str,
        *,
        entities: list[Json] | None = None,
        **context: Unpack[MessageContext],
    ) -> Json:
        message = self._user_message(user_id, context)
        message["text"] = text
        if entities:
            message["entities"] = entities
        return {"message": message}

    def command(self, user_id: int, text: str, **context: Unpack[MessageContext]) -> Json:
        """``text`` like "/start" or "/start@bot payload"; the bot_command entity spans the first word."""
        text = text if text.startswith("/") else f"/{text}"
        entity = {"type": "bot_command", "offset": 0, "length": utf16_len(text.split()[0])}
        return self.text_message(user_id, text, entities=[entity], **context)

    def mention(self, user_id: int, text: str, **context: Unpack[MessageContext]) -> Json:
        """A group message addressed to the bot by @username (prepended if ``text`` lacks it)."""
        handle = f"@{self.username}"
        if handle not in text:
            text = f"{handle} {text}"
        start = text.index(handle)
        entity = {"type": "mention", "offset": utf16_len(text[:start]), "length": utf16_len(handle)}
        context.setdefault("chat_type", "group")
        return self.text_message(user_id, text, entities=[entity], **context)

    def callback_query(
        self,
        user_id: int,
        data: str,
        *,
        message: Json | None = None,
        chat_id: int | None = None,
        language_code: str = "ru",
        first_name: str = "Test",
    ) -> Json:
        """A button press; without ``message`` the button sits under a fresh bot message."""
        if message is None:
            keyboard = {"inline_keyboard": [[{"text": data, "callback_data": data}]]}
            message = self.bot_message(
                chat_id if chat_id is not None else user_id, "…", reply_markup=keyboard
            )
        query = {
            "id": str(next(self._serials)),
            "from": _user(user_id, first_name, language_code, None),
            "chat_instance": f"instance{message['chat']['id']}",
            "data": data,
            "message": _unwrap(message),
        }
        return {"callback_query": query}

    def bot_message(self, chat_id: int | str, text: str, *, reply_markup: Json | None = None) -> Json:
        """A message the bot sent earlier (a Message, not an Update): reply to it or press its button."""
        with self._cond:
            message = self._new_message(self._chat(chat_id), self.bot_user())
            message["text"] = text
            if reply_markup is not None:
                message["reply_markup"] = reply_markup
            return copy.deepcopy(message)

    def voice(self, user_id: int, *, duration: int = 3, **context: Unpack[MessageContext]) -> Json:
        message = self._user_message(user_id, context)
        message["voice"] = self._file("voice", duration=duration, mime_type="audio/ogg", file_size=9_000)
        return {"message": message}

    def photo(self, user_id: int, *, caption: str | None = None, **context: Unpack[MessageContext]) -> Json:
        message = self._user_message(user_id, context)
        message["photo"] = self._photo_sizes(60_000)
        if caption:
            message["caption"] = caption
        return {"message": message}

    def sticker(self, user_id: int, *, emoji: str = "👍", **context: Unpack[MessageContext]) -> Json:
        message = self._user_message(user_id, context)
        message["sticker"] = self._file(
            "sticker", type="regular", width=512, height=512, is_animated=False, is_video=False, emoji=emoji
        )
        return {"message": message}

    def document(
        self,
        user_id: int,
        *,
        file_name: str = "document.pdf",
        mime_type: str = "application/pdf",
        caption: str | None = None,
        **context: Unpack[MessageContext],
    ) -> Json:
        message = self._user_message(user_id, context)
        message["document"] = self._file("document", file_name=file_name, mime_type=mime_type)
        if caption:
            message["caption"] = caption
        return {"message": message}

    def location(
        self,
        user_id: int,
        latitude: float = 51.1694,
        longitude: float = 71.4491,
        **context: Unpack[MessageContext],
    ) -> Json:
        message = self._user_message(user_id, context)
        message["location"] = {"latitude": latitude, "longitude": longitude}
        return {"message": message}

    def edited_message(
        self, user_id: int, text: str, *, message_id: int | None = None, **context: Unpack[MessageContext]
    ) -> Json:
        """An edit of message ``message_id`` (a new id if omitted) to read ``text``."""
        message = self._user_message(user_id, context, message_id=message_id)
        message["text"] = text
        message["edit_date"] = message["date"]
        return {"edited_message": message}

    def channel_post(
        self, text: str, *, chat_id: int = DEFAULT_CHANNEL_ID, title: str = "Test channel"
    ) -> Json:
        chat = {"id": chat_id, "type": "channel", "title": title}
        with self._cond:
            self._chats[chat_id] = chat
            post = self._new_message(chat, None)
        post["sender_chat"] = chat
        post["text"] = text
        return {"channel_post": post}

    # builder internals

    def _user_message(self, user_id: int, context: MessageContext, *, message_id: int | None = None) -> Json:
        chat_type = context.get("chat_type", "private")
        chat_id = _chat_id_for(user_id, context.get("chat_id"), chat_type)
        first_name = context.get("first_name", "Test")
        user = _user(user_id, first_name, context.get("language_code", "ru"), context.get("username"))
        chat: Json = {"id": chat_id, "type": chat_type}
        chat |= {"first_name": first_name} if chat_type == "private" else {"title": "Test group"}
        with self._cond:
            self._chats[chat_id] = chat
            message = self._new_message(chat, user, message_id)
        replied = context.get("reply_to_message")
        if replied is not None:
            message["reply_to_message"] = _without_reply(_unwrap(replied))
        return message

    def _new_message(self, chat: Json, sender: Json | None, message_id: int | None = None) -> Json:
        """Message ids are per chat and shared by both sides, as in Telegram; an explicit id
        re-uses (overwrites) that message, for edits. Caller holds the lock."""
        if message_id is None:
            message_id = self._message_ids.get(chat["id"], 0) + 1
            self._message_ids[chat["id"]] = message_id
        message: Json = {"message_id": message_id, "date": int(time.time()), "chat": dict(chat)}
        if sender is not None:
            message["from"] = sender
        self._messages[(chat["id"], message_id)] = message
        return message

    def _chat(self, chat_id: int | str) -> Json:
        known = self._chats.get(chat_id)
        if known is not None:
            return known
        if isinstance(chat_id, str):
            return {"id": DEFAULT_CHANNEL_ID, "type": "channel", "title": chat_id, "username": chat_id[1:]}
        if chat_id > 0:
            return {"id": chat_id, "type": "private", "first_name": "Test"}
        kind = "supergroup" if str(chat_id).startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Test group"}

    def _file(self, kind: str, **fields: Any) -> Json:
        serial = next(self._serials)
        return {"file_id": f"{kind}-{serial}", "file_unique_id": f"u{kind}{serial}", **fields}

    def _photo_sizes(self, size: int) -> list[Json]:
        return [
            self._file("photo", width=90, height=60, file_size=size // 20),
            self._file("photo", width=1280, height=853, file_size=size),
        ]


# --- helpers ---------------------------------------------------------------------------------


@asynccontextmanager
async def polling(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    timeout: int = 1,
    allowed_updates: list[str] | None = None,
) -> AsyncIterator[Application[Any, Any, Any, Any, Any, Any]]:
    """Run ``application`` in polling mode for the ``async with`` body, in run_polling's order
    (initialize, post_init, start_polling, start; updater.stop, stop, post_stop, shutdown,
    post_shutdown) but without taking over the event loop or the signal handlers."""
    updater = application.updater
    assert updater is not None, "build the application with an Updater to poll"
    async with application:
        if application.post_init is not None:
            await application.post_init(application)
        await updater.start_polling(poll_interval=0.0, timeout=timeout, allowed_updates=allowed_updates)
        await application.start()
        try:
            yield application
        finally:
            await updater.stop()
            await application.stop()
            if application.post_stop is not None:
                await application.post_stop(application)
    if application.post_shutdown is not None:
        await application.post_shutdown(application)


def _canonical(method: str) -> str:
    """Telegram matches method names case-insensitively; record them as PTB spells them."""
    return _CANONICAL.get(method.lower(), method)


def _json_reply(status: int, body: Json) -> tuple[int, str, bytes]:
    return status, "application/json", json.dumps(body, ensure_ascii=False).encode("utf-8")


def _default_description(error_code: int, retry_after: int | None) -> str:
    if error_code == HTTPStatus.TOO_MANY_REQUESTS:
        return f"Too Many Requests: retry after {retry_after}"
    if error_code == HTTPStatus.FORBIDDEN:
        return "Forbidden: bot was blocked by the user"
    if error_code == HTTPStatus.BAD_REQUEST:
        return "Bad Request: scripted failure"
    return f"{HTTPStatus(error_code).phrase}: scripted failure"


def _describe(call: Call, started_at: float) -> str:
    params = json.dumps(call.params, ensure_ascii=False, default=repr)
    if len(params) > 300:
        params = params[:297] + "..."
    status = "" if call.ok else f"  -> {call.error_code}"
    return f"{call.time - started_at:8.3f}s {call.method} {params}{status}"


def _require(params: Json, key: str) -> Any:
    value = params.get(key)
    if value is None or value == "":
        raise ApiError(400, f"Bad Request: {key} is empty")
    return value


def _commands_key(scope: Json | None, language_code: str) -> tuple[str, str]:
    """Telegram keeps one command list per (scope, language) pair, with no fallback on read."""
    return json.dumps(scope or {"type": "default"}, sort_keys=True), language_code or ""


def _inline_markup(params: Json) -> Json | None:
    """Only inline keyboards are echoed in Message.reply_markup; reply keyboards are not."""
    markup = params.get("reply_markup")
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _reply_id(params: Json) -> int | None:
    reply = params.get("reply_parameters")
    if isinstance(reply, dict):
        return reply.get("message_id")
    return params.get("reply_to_message_id")


def _unwrap(message_or_update: Json) -> Json:
    """Accept an update from a builder where a message is wanted."""
    for key in ("message", "edited_message", "channel_post"):
        if key in message_or_update and "message_id" not in message_or_update:
            return message_or_update[key]
    return message_or_update


def _without_reply(message: Json) -> Json:
    """Telegram nests replies one level deep only."""
    return {key: value for key, value in copy.deepcopy(message).items() if key != "reply_to_message"}


def _user(user_id: int, first_name: str, language_code: str, username: str | None) -> Json:
    user: Json = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": language_code}
    if username:
        user["username"] = username
    return user


def _chat_id_for(user_id: int, chat_id: int | None, chat_type: str) -> int:
    if chat_type == "private":
        if chat_id not in (None, user_id):
            raise ValueError("a private chat's id is the user's id")
        return user_id
    if chat_type not in ("group", "supergroup"):
        raise ValueError(f"users write in private, group or supergroup chats, not {chat_type!r}")
    if chat_id is None:
        return DEFAULT_GROUP_ID if chat_type == "group" else DEFAULT_SUPERGROUP_ID
    if chat_id >= 0:
        raise ValueError("group chat ids are negative")
    return chat_id
