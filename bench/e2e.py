"""End-to-end load benchmark: the whole stack, as users reach it, from 1 to 200 users at once.

Why this exists: the retrieval and NLU benchmarks time parts; this one times what a user waits
for. It starts ``python -m stack serve`` (action server + Rasa) on ports of its own, timing the
cold start, and the real bot (``python -m bot run``, as in production) polling a local stand-in
of the Bot API (stack/telegram_standin.py). Simulated users then hold conversations (all three
languages; knowledge questions, a follow-up, small talk, a school check) over Rasa's REST
channel and through the bot. Per level it prints p50/p95/p99 latency (request to the full
reply), messages per second, errors, and the CPU each process spent per message (the figure a
busy machine distorts least), then the peak resident memory of each process tree. A bare Rasa
(the same ``config.yml`` pipeline and policies and the same NLU examples, replies written in the
domain, no custom action, no NLG endpoint, in-memory tracker) is then timed alone on the same
machine, in the same way: its start, the same levels, the same long conversation. Our figures
are printed as multiples of its own: the price of everything we add to Rasa. Like the other
benchmarks it prints figures and asserts nothing; the targets get ✓/✗.

- A simulated user sends one message, waits for the whole reply, then sends the next. Each
  conversation is one script (10 messages, fresh sender); a user with more messages to send
  starts a new conversation with the next script. Levels below ``--min-messages`` in total are
  given more conversations per user, so p99 at one user rests on more than 10 samples. Each
  level starts once the stack is idle again.
- Errors: a non-200 answer, a failed request, an empty reply, or no reply within ``--timeout``
  (8 s, the bot's own Rasa timeout, after which it would tell the user it is unavailable);
  through the bot, its "temporarily unavailable" and "please wait" texts (it is given 5 s more,
  so that its own timeout answers first). A bot user whose reply never comes gives up on that
  conversation, since a late reply could not be told from the next one.
- Long conversation (``--long N``, 400 by default; 0 skips it): one sender, N messages in one
  conversation, one after another over REST: the scripts in turn, each followed by an "ок",
  round and round. The p50 of its first and last 50 messages says whether a turn costs more as
  the conversation grows (Rasa reloads the whole conversation at every turn).
- REST path: one HTTP client with httpx's default pool (100 connections), like the bot's own
  Rasa client, so 200 users queue as they would behind the bot. This is the throughput figure.
- Bot path: latency from pushing the update to the stand-in to the last ``sendMessage`` of the
  reply, so it includes long polling, the bot's store and its rate limiter. The benchmark raises
  ``AQPARAT_FLOOD_BURST`` to 10000 so the per-user flood limiter lets its traffic through.
  PTB's ``AIORateLimiter`` keeps the bot within Telegram's 30 messages a second on purpose, so
  the bot path's messages per second are capped by design: it measures our added latency. By
  default it runs the levels below 200 (200 users would time the send limit and Rasa's backlog
  for about two minutes); ``--bot-levels 1,10,50,200`` asks for all.
- Memory: VmRSS summed over each process tree, sampled every second; the peak is reported.
- Ports 5905 (Rasa), 5955 (action server) and 5906 (bare Rasa) unless told otherwise. The bare
  model is trained once (2–4 min) and cached under ``var/bench/bare/<hash of its inputs>/``.

    python bench/e2e.py                               # everything, about 10 minutes on 2 cores
    python bench/e2e.py --levels 1,10 --long 100 --json   # a short run; JSON as the last line
    python bench/e2e.py --skip-bot --skip-bare        # the REST path only
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import hashlib
import html
import itertools
import json
import math
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import AsyncIterator, Awaitable, Iterator, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages

import httpx
import yaml

from bot.render import split_text
from bot.texts import SLOW_DOWN, UNAVAILABLE
from stack import process
from stack.services import rasa_loaded
from stack.telegram_standin import DEFAULT_TOKEN, BotApiStandIn, Json
from texts.languages import LANGUAGES
from texts.localized import Texts

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
MODEL = ROOT / "models" / "aqparat.tar.gz"
BARE_CACHE = ROOT / "var" / "bench" / "bare"
RASA_ENV = {"TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1", "PYTHONWARNINGS": "ignore"}
# config.yml names our own Rasa components (nlu/), which Rasa imports from its working directory;
# bare Rasa trains and runs in directories of its own, so it is told where they are.
BARE_ENV = {**RASA_ENV, "PYTHONPATH": str(ROOT)}
TOKEN = "bench-token"
FLOOD_BURST = 10_000
START_TIMEOUT = 300.0
SAMPLE_SECONDS = 1.0
# Through the bot, wait this much longer than --timeout: the bot's own Rasa timeout is the same
# 8 s, and its "temporarily unavailable" reply should be seen (and counted) as such.
BOT_SLACK_S = 5.0
# 200 users through the bot would time the 30 messages/s send limit and Rasa's backlog for about
# two minutes, not our latency; ask for it with --bot-levels.
DEFAULT_BOT_MAX_USERS = 200
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
WEBHOOK = "/webhooks/rest/webhook"
# The entity an example annotates: `[russian]{"entity": "language", "value": "ru"}` or
# `[russian](language)` -> `language`
ENTITY = re.compile(r'\]\((\w+)\)|\]\{"entity": *"(\w+)"')

TARGETS = {
    "ratio_p50": 1.5,  # full-stack p50 at one user, as a multiple of bare Rasa's
    "p95_ms_at_10": 150.0,
    "msgs_per_s": 60.0,  # sustained over REST with zero errors
    "msgs_per_s_at_50_vs_bare": 0.7,  # ours at 50 users (with zero errors) / bare Rasa's at 50
    "long_last_first": 1.2,  # the long conversation's last-50 p50 / its first-50 p50 (ours)
    "cold_start_vs_bare": 1.3,  # our cold start / bare Rasa's start
    "rss_mb_total": 2500.0,
    "cold_start_s": 40.0,
}
AT_LEAST = frozenset({"msgs_per_s", "msgs_per_s_at_50_vs_bare"})  # the others are upper limits
LONG_WINDOW = 50  # messages at each end of the long conversation
LONG_FILLER = "ок"  # typed between scripts in the long conversation, as users acknowledge a reply


@dataclasses.dataclass(frozen=True)
class Script:
    """One conversation: what a user types, in order, and the language hint Telegram would send."""

    name: str
    language_code: str
    messages: tuple[str, ...]


# Each: small talk, two knowledge questions (the second a follow-up or a second topic), a school
# check answered by typing (region, rural yes, fibre no, mobile no, BIN skipped), thanks.
SCRIPTS = (
    Script(
        "kk",
        "kk",
        (
            "сәлем",
            "Starlink Қазақстанда заңды ма?",
            "ал бағасы қанша?",
            "мектебімді тексергім келеді",
            "Түркістан облысы",
            "иә",
            "жоқ",
            "жоқ",
            "өткізіп жіберу",
            "рақмет",
        ),
    ),
    Script(
        "ru",
        "ru",
        (
            "привет",
            "сколько стоит starlink",
            "почему старлинк официально не продаётся?",
            "проверить школу",
            "туркестанская обл",
            "да",
            "нет",
            "нет",
            "пропустить",
            "спасибо",
        ),
    ),
    Script(
        "en",
        "en",
        (
            "hi",
            "why is Starlink not sold officially",
            "is starlink legal in kazakhstan?",
            "check my school",
            "Almaty region",
            "yes",
            "no",
            "no",
            "skip",
            "thanks",
        ),
    ),
)


# --- measurements ------------------------------------------------------------------------------


def percentile(values: Sequence[float], share: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default), rounded to 0.1; None
    when nothing was answered (JSON has no NaN)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * share
    low, high = math.floor(position), math.ceil(position)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (position - low), 1)


@dataclasses.dataclass
class Level:
    """What one concurrency level produced: latencies of answered messages, errors by kind."""

    channel: str
    users: int
    latencies: list[float] = dataclasses.field(default_factory=list)
    errors: Counter[str] = dataclasses.field(default_factory=Counter)
    wall_s: float = 0.0
    cpu_s: dict[str, float] = dataclasses.field(default_factory=dict)  # used during the level

    def summary(self) -> dict[str, Any]:
        ms = [value * 1000 for value in self.latencies]
        return {
            "users": self.users,
            "messages": len(self.latencies) + sum(self.errors.values()),
            "p50_ms": percentile(ms, 0.50),
            "p95_ms": percentile(ms, 0.95),
            "p99_ms": percentile(ms, 0.99),
            "msgs_per_s": round(len(self.latencies) / self.wall_s, 1) if self.wall_s else 0.0,
            "errors": sum(self.errors.values()),
            "error_kinds": dict(self.errors),
            "cpu_ms_per_msg": {
                name: round(seconds * 1000 / len(self.latencies), 1) if self.latencies else None
                for name, seconds in self.cpu_s.items()
            },
        }


def conversations(user: int, messages: int) -> Iterator[tuple[int, Script, list[str]]]:
    """The user's conversations: (number, script, messages), rotating scripts so that even a
    single user speaks all three languages."""
    for number in itertools.count():
        start = number * len(SCRIPTS[0].messages)
        if start >= messages:
            return
        script = SCRIPTS[(user + number) % len(SCRIPTS)]
        yield number, script, list(script.messages[: messages - start])


def per_user(users: int, args: argparse.Namespace) -> int:
    return max(args.messages_per_user, math.ceil(args.min_messages / users))


def long_conversation(messages: int) -> list[tuple[Script, str]]:
    """What the one sender of the long conversation types: every script in turn, each followed by
    an "ок", round and round, cut at ``messages``."""
    material = [(script, text) for script in SCRIPTS for text in (*script.messages, LONG_FILLER)]
    return list(itertools.islice(itertools.cycle(material), messages))


def long_summary(latencies: Sequence[float | None]) -> dict[str, Any]:
    """p50 of the first and of the last ``LONG_WINDOW`` messages (by position; an error, None,
    counts in no p50) and the errors."""

    def p50(window: Sequence[float | None]) -> float | None:
        return percentile([value * 1000 for value in window if value is not None], 0.50)

    return {
        "messages": len(latencies),
        "first_p50_ms": p50(latencies[:LONG_WINDOW]),
        "last_p50_ms": p50(latencies[-LONG_WINDOW:]),
        "errors": sum(value is None for value in latencies),
    }


# --- processes and memory ----------------------------------------------------------------------


def _parents() -> dict[int, int]:
    """pid -> parent pid for every process we may read (/proc; psutil is not installed)."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rpartition(")")[2].split()[1])
    return parents


def _tree(root: int, children: dict[int, list[int]]) -> list[int]:
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _rss_mb(pids: Sequence[int]) -> float:
    total_kb = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kb += int(line.split()[1])
                    break
    return total_kb / 1024


def _cpu_s(pids: Sequence[int]) -> float:
    """User + system CPU seconds the processes have used so far (/proc/<pid>/stat)."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


@dataclasses.dataclass(frozen=True)
class Processes:
    """The processes measured: the supervisor, its children (the action server and Rasa, each
    with whatever it started) and the bot; or bare Rasa alone (``root="rasa"``)."""

    stack_pid: int
    bot_pid: int | None = None
    root: str = "supervisor"  # what the process at stack_pid is

    def trees(self) -> dict[str, list[int]]:
        children: dict[int, list[int]] = defaultdict(list)
        for pid, parent in _parents().items():
            children[parent].append(pid)
        trees = {self.root: [self.stack_pid]}
        for child in children.get(self.stack_pid, ()):
            command = _cmdline(child)
            name = (
                "action server" if "actions.server" in command else "rasa" if "rasa" in command else "other"
            )
            trees.setdefault(name, []).extend(_tree(child, children))
        if self.bot_pid is not None:
            trees["bot"] = _tree(self.bot_pid, children)
        return trees

    def memory_mb(self) -> dict[str, float]:
        return {name: _rss_mb(pids) for name, pids in self.trees().items()}

    def cpu_s(self) -> dict[str, float]:
        """CPU seconds per process tree, and the benchmark's own (client and Bot API stand-in),
        which competes with the stack for the same cores."""
        used = {name: _cpu_s(pids) for name, pids in self.trees().items()}
        used["benchmark"] = time.process_time()
        return used

    def stack_cpu_s(self) -> float:
        return sum(seconds for name, seconds in self.cpu_s().items() if name != "benchmark")


@dataclasses.dataclass
class MemoryPeaks:
    """The highest total seen, and each process's own highest (they need not coincide)."""

    processes: Processes
    per_process: dict[str, float] = dataclasses.field(default_factory=dict)
    total: float = 0.0

    def sample(self) -> None:
        memory = self.processes.memory_mb()
        self.total = max(self.total, sum(memory.values()))
        for name, value in memory.items():
            self.per_process[name] = max(self.per_process.get(name, 0.0), value)

    @contextlib.asynccontextmanager
    async def sampling(self) -> AsyncIterator[None]:
        """Sample every second while the body runs (reading /proc off the event loop)."""

        async def loop() -> None:
            while True:
                await asyncio.to_thread(self.sample)
                await asyncio.sleep(SAMPLE_SECONDS)

        task = asyncio.create_task(loop())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            self.sample()


def start_stack(args: argparse.Namespace, work: Path) -> tuple[subprocess.Popen[bytes], float]:
    """``python -m stack serve`` with the trained model; returns it and its cold start: launch
    until Rasa's /status shows a model and the action server's /health answers."""
    log_dir = work / "log"
    log_dir.mkdir()
    env = {
        "AQPARAT_RASA_PORT": str(args.rasa_port),
        "AQPARAT_ACTIONS_PORT": str(args.actions_port),
        "AQPARAT_RASA_TOKEN": TOKEN,
        "AQPARAT_LOG_DIR": str(log_dir),
        "AQPARAT_LOG_SALT": "bench",
        "AQPARAT_TRACKER_DB": str(work / "tracker.db"),  # fresh conversations, not var/tracker.db
    }
    started = time.monotonic()
    stack = process.start([PYTHON, "-m", "stack", "serve"], cwd=ROOT, env=env, log=work / "stack.log")
    rasa, health = f"http://127.0.0.1:{args.rasa_port}", f"http://127.0.0.1:{args.actions_port}/health"
    try:
        with httpx.Client(timeout=2.0) as client:
            process.wait_until(
                lambda: rasa_up(client, rasa) and process.answers(client, health),
                stack,
                "the stack",
                timeout=START_TIMEOUT,
                poll=0.1,
            )
    except process.ProcessFailed:
        process.stop(stack, signal.SIGINT, 60)
        for name in ("stack.log", "log/actions.log", "log/rasa.log"):
            print(f"--- last lines of {work / name} ---\n{process.tail(work / name)}", file=sys.stderr)
        raise
    return stack, time.monotonic() - started


def rasa_up(client: httpx.Client, base: str) -> bool:
    """Rasa at ``base`` has loaded its model (ours and bare Rasa alike)."""
    return process.answers(client, f"{base}/status?token={TOKEN}", rasa_loaded)


# --- the REST path -----------------------------------------------------------------------------


async def say(client: httpx.AsyncClient, sender: str, text: str, script: Script, timeout: float) -> Any:
    """One message over the REST channel, with the metadata our bot sends; returns the replies,
    or an error kind as a string."""
    body = {
        "sender": sender,
        "message": text,
        "metadata": {"language_code": script.language_code, "chat_type": "private"},
    }
    try:
        async with asyncio.timeout(timeout):  # all of it: waiting for a pooled connection too
            response = await client.post(WEBHOOK, json=body, timeout=None)
    except TimeoutError:
        return "timeout"
    except httpx.HTTPError as error:
        return type(error).__name__
    if response.status_code != 200:
        return f"HTTP {response.status_code}"
    try:
        replies = response.json()
    except ValueError:
        return "not JSON"
    return replies if replies else "empty reply"


async def rest_user(
    client: httpx.AsyncClient, run: str, user: int, messages: int, timeout: float, level: Level
) -> None:
    for number, script, texts in conversations(user, messages):
        sender = f"{run}-u{user}-c{number}"
        for text in texts:
            started = time.perf_counter()
            replies = await say(client, sender, text, script, timeout)
            if isinstance(replies, str):
                level.errors[replies] += 1
            else:
                level.latencies.append(time.perf_counter() - started)


async def rest_level(base: str, users: int, messages: int, timeout: float, run: str) -> Level:
    level = Level("rest", users)
    async with httpx.AsyncClient(base_url=base) as client:
        started = time.perf_counter()
        await asyncio.gather(
            *(rest_user(client, run, user, messages, timeout, level) for user in range(users))
        )
        level.wall_s = time.perf_counter() - started
    return level


async def long_run(base: str, messages: int, timeout: float, sender: str) -> dict[str, Any]:
    """The long conversation over the REST channel at ``base``, one message after another."""
    latencies: list[float | None] = []
    async with httpx.AsyncClient(base_url=base) as client:
        for script, text in long_conversation(messages):
            started = time.perf_counter()
            replies = await say(client, sender, text, script, timeout)
            latencies.append(None if isinstance(replies, str) else time.perf_counter() - started)
    summary = long_summary(latencies)
    print(_long_row(summary), file=sys.stderr, flush=True)
    return summary


def telegram_sends(replies: list[Json]) -> int:
    """How many messages the bot sends for these Rasa replies (bot/telegram.py's ``send``)."""
    count = 0
    for reply in replies:
        count += bool(reply.get("image"))
        count += len(split_text(reply.get("text") or "")) or bool(reply.get("buttons"))
    return count


async def warm_up(base: str, timeout: float, run: str) -> tuple[dict[str, list[int]], float]:
    """One conversation per script, not measured: the first messages load lazy parts (TF graphs,
    the language detector). Returns the bot's expected messages per step, and the first reply's
    latency. Replies are deterministic, so what REST returned here is what the bot will send."""
    expected: dict[str, list[int]] = {}
    first = math.nan
    async with httpx.AsyncClient(base_url=base) as client:
        for script in SCRIPTS:
            counts = []
            for text in script.messages:
                started = time.perf_counter()
                replies = await say(client, f"{run}-warm-{script.name}", text, script, 60.0)
                if math.isnan(first):
                    first = time.perf_counter() - started
                if isinstance(replies, str):
                    raise RuntimeError(f"warm-up: {text!r} got {replies}")
                counts.append(telegram_sends(replies))
            expected[script.name] = counts
    return expected, first


# --- the bot path ------------------------------------------------------------------------------


class WatchedStandIn(BotApiStandIn):
    """The Bot API stand-in, handing each message the bot sends to the simulated user waiting for
    it at once (a per-chat queue on the benchmark's loop), instead of every user polling the call
    log, which would cost the benchmark more CPU than the bot it measures."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self.loop = loop
        self.inboxes: dict[int, asyncio.Queue[tuple[float, str]]] = {}

    def call(self, method: str, params: Json) -> tuple[int, Json]:
        arrived = time.monotonic()
        status, body = super().call(method, params)
        if method in ("sendMessage", "sendPhoto") and status == 200:
            text = str(params.get("text") or params.get("caption") or "")
            self.loop.call_soon_threadsafe(self._deliver, params.get("chat_id"), arrived, text)
        return status, body

    def inbox(self, chat_id: int) -> asyncio.Queue[tuple[float, str]]:
        return self.inboxes.setdefault(chat_id, asyncio.Queue())

    def _deliver(self, chat_id: Any, arrived: float, text: str) -> None:
        if isinstance(chat_id, int):
            self.inbox(chat_id).put_nowait((arrived, text))


def bot_failure_texts() -> frozenset[str]:
    """What the bot says instead of an answer, in every language: these are errors here."""
    return frozenset(Texts(lang)(text) for lang in LANGUAGES for text in (UNAVAILABLE, SLOW_DOWN))


def start_bot(args: argparse.Namespace, api: BotApiStandIn, work: Path) -> subprocess.Popen[bytes]:
    """The bot as it runs in production (``python -m bot run``), pointed at the stand-in."""
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_BASE_URL": f"{api.url}/bot",
        "TELEGRAM_BASE_FILE_URL": f"{api.url}/file/bot",
        "AQPARAT_RASA_PORT": str(args.rasa_port),
        "AQPARAT_ACTIONS_PORT": str(args.actions_port),
        "AQPARAT_RASA_TOKEN": TOKEN,
        "AQPARAT_BOT_STORE": str(work / "bot.sqlite3"),
        "AQPARAT_FLOOD_BURST": str(FLOOD_BURST),
        "AQPARAT_LOG_DIR": str(work / "log"),
    }
    return process.start([PYTHON, "-m", "bot", "run"], cwd=ROOT, env=env, log=work / "bot.log")


async def bot_ready(api: BotApiStandIn, bot: subprocess.Popen[bytes], work: Path) -> None:
    """Polling has begun once the bot's first getUpdates arrives."""

    def ready() -> bool:
        return bool(api.calls("getUpdates"))

    await asyncio.to_thread(
        process.wait_until, ready, bot, "the bot", timeout=120, poll=0.1, log=work / "bot.log"
    )


@dataclasses.dataclass
class BotRun:
    api: WatchedStandIn
    expected: dict[str, list[int]]
    failures: frozenset[str]
    timeout: float
    chat_ids: Iterator[int] = dataclasses.field(default_factory=lambda: itertools.count(100_000))

    async def user(self, user: int, messages: int, level: Level, chats: list[int]) -> None:
        for _, script, texts in conversations(user, messages):
            chat_id = next(self.chat_ids)
            chats.append(chat_id)
            inbox = self.api.inbox(chat_id)
            for step, text in enumerate(texts):
                started = time.monotonic()
                self.api.push(self.api.text_message(chat_id, text, language_code=script.language_code))
                got: list[tuple[float, str]] = []
                try:
                    async with asyncio.timeout(self.timeout):
                        while len(got) < self.expected[script.name][step]:
                            got.append(await inbox.get())
                except TimeoutError:
                    # A late reply would be taken for the next one's: this user gives up here.
                    level.errors["timeout" if not got else "reply incomplete"] += 1
                    break
                if any(html.unescape(sent) in self.failures for _, sent in got):
                    level.errors["bot said unavailable / please wait"] += 1
                else:
                    level.latencies.append(got[-1][0] - started)

    async def level(self, users: int, messages: int) -> Level:
        level = Level("bot", users)
        chats: list[int] = []
        started = time.monotonic()
        await asyncio.gather(*(self.user(user, messages, level, chats) for user in range(users)))
        level.wall_s = time.monotonic() - started
        await asyncio.sleep(0.5)  # anything beyond the expected replies would have come by now
        level.errors["more messages than expected"] += sum(not self.api.inbox(chat).empty() for chat in chats)
        level.errors += Counter()  # drop a zero count
        self.api.clear()  # the stand-in keeps every call; a long run need not hold them all
        return level


# --- the bare Rasa baseline --------------------------------------------------------------------


def bare_training_files(nlu_dir: Path, config: Path) -> dict[str, str]:
    """A model with our pipeline, policies and NLU examples (so DIET, the featurizers and TED cost
    the same) but no custom action and no NLG server: each intent gets one reply in the domain.
    The examples keep their entity annotations: our DIET only extracts entities, and with none to
    learn it has nothing to train (TensorFlow then fails)."""
    examples: dict[str, list[str]] = defaultdict(list)
    entities: set[str] = set()
    for lang in LANGUAGES:
        data = yaml.safe_load((nlu_dir / f"{lang}.yml").read_text(encoding="utf-8")) or {}
        for item in data.get("nlu", []):
            for line in (item.get("examples") or "").splitlines():
                text = line.strip().removeprefix("- ").strip()
                if "intent" in item and text and text not in examples[item["intent"]]:
                    examples[item["intent"]].append(text)
                    entities.update(a or b for a, b in ENTITY.findall(text))
    intents = sorted(examples)
    nlu = {
        "version": "3.1",
        "nlu": [{"intent": i, "examples": "".join(f"- {t}\n" for t in examples[i])} for i in intents],
    }
    rules = [{"rule": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    rules.append({"rule": "fallback", "steps": [{"intent": "nlu_fallback"}, {"action": "utter_default"}]})
    # The same turns as stories, so TEDPolicy is trained and runs at every prediction, as in ours
    # (with no stories Rasa skips it, and the baseline would be cheaper by one TF model).
    stories = [{"story": i, "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    responses = {f"utter_{i}": [{"text": f"A reply for {i.replace('_', ' ')}."}] for i in intents}
    responses["utter_default"] = [{"text": "Sorry, I did not understand that."}]
    domain = {"version": "3.1", "intents": intents, "entities": sorted(entities), "responses": responses}
    return {
        "config.yml": config.read_text(encoding="utf-8"),
        "domain.yml": dump(domain),
        "data/nlu.yml": dump(nlu),
        "data/rules.yml": dump({"version": "3.1", "rules": rules}),
        "data/stories.yml": dump({"version": "3.1", "stories": stories}),
    }


def dump(value: object) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def bare_model(rasa: Path) -> Path:
    """The bare model, trained once per distinct input (config, NLU, our components, Rasa's pins)
    and cached."""
    files = bare_training_files(ROOT / "nlu", ROOT / "config.yml")
    digest = hashlib.sha256((ROOT / "requirements" / "rasa.txt").read_bytes())
    for component in sorted((ROOT / "nlu").glob("*.py")):  # what config.yml's own components run
        digest.update(component.read_bytes())
    for name, text in sorted(files.items()):
        digest.update(f"\0{name}\0{text}".encode())
    target = BARE_CACHE / digest.hexdigest()[:16] / "bare.tar.gz"
    if target.exists():
        return target
    BARE_CACHE.mkdir(parents=True, exist_ok=True)
    print(
        f"training the bare Rasa model once (1–2 min; cached as {target.relative_to(ROOT)}) ...",
        file=sys.stderr,
    )
    with tempfile.TemporaryDirectory(dir=BARE_CACHE, prefix="train-") as tmp:
        work = Path(tmp)
        for name, text in files.items():
            (work / name).parent.mkdir(parents=True, exist_ok=True)
            (work / name).write_text(text, encoding="utf-8")
        log = BARE_CACHE / "train.log"
        with log.open("wb") as output:
            trained = subprocess.run(
                [str(rasa), "train", "--data", "data", "--domain", "domain.yml", "--config", "config.yml",
                 "--out", "models", "--fixed-model-name", "bare", "--quiet"],
                cwd=work,  # Rasa's training cache (.rasa/) goes here, not into the project
                env={**os.environ, **BARE_ENV},
                stdout=output,
                stderr=subprocess.STDOUT,
                check=False,
            )  # fmt: skip
        if trained.returncode:
            raise RuntimeError(f"training the bare model failed; {log}:\n{process.tail(log)}")
        target.parent.mkdir(parents=True, exist_ok=True)
        (work / "models" / "bare.tar.gz").replace(target)
    return target


def start_bare(rasa: Path, model: Path, port: int, work: Path) -> subprocess.Popen[bytes]:
    """``rasa run`` with no endpoints and no credentials file: in-memory tracker, REST channel,
    started in an empty directory so Rasa finds no endpoints.yml to read by default."""
    home = work / "bare"
    home.mkdir()
    command = [
        str(rasa), "run", "--model", str(model), "--interface", "127.0.0.1", "--port", str(port),
        "--connector", "rest", "--enable-api", "--auth-token", TOKEN,
    ]  # fmt: skip
    return process.start(command, cwd=home, env=BARE_ENV, log=work / "bare.log")


# --- the run -----------------------------------------------------------------------------------


class Phases:
    """Wall time of each phase, so a reader can tell what a full run will cost."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    @contextlib.contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        print(f"{name} ...", file=sys.stderr, flush=True)
        started = time.monotonic()
        try:
            yield
        finally:
            self.seconds[name] = round(time.monotonic() - started, 1)


async def settle(processes: Processes, limit: float = 120.0) -> None:
    """Wait until the stack is idle (under 10% of a core for half a second): requests whose
    client gave up at a timeout are still being worked on, and would slow the next level."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        before = processes.stack_cpu_s()
        await asyncio.sleep(0.5)
        if processes.stack_cpu_s() - before < 0.05:
            return


async def measured(level: Awaitable[Level], processes: Processes) -> Level:
    """Run a level (once the stack is idle) and charge it the CPU each process used meanwhile."""
    await settle(processes)
    before = processes.cpu_s()
    done = await level
    after = processes.cpu_s()
    done.cpu_s = {name: after[name] - before.get(name, 0.0) for name in after}
    print(_row(done.summary()), file=sys.stderr, flush=True)
    return done


async def rest_runs(
    base: str, args: argparse.Namespace, run: str, processes: Processes, phase: Phases, who: str = ""
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The levels over the REST channel at ``base``, then the long conversation (with ``--long``):
    ours and bare Rasa are measured by this one function, so they are measured alike."""
    levels = []
    for users in args.levels:
        with phase(f"{who}REST, {users} users"):
            level = rest_level(base, users, per_user(users, args), args.timeout, f"{run}-L{users}")
            levels.append((await measured(level, processes)).summary())
    long = None
    if args.long:
        with phase(f"{who}REST, one conversation of {args.long} messages"):
            await settle(processes)
            long = await long_run(base, args.long, args.timeout, f"{run}-long")
    return levels, long


async def benchmark(args: argparse.Namespace) -> dict[str, Any]:
    ports = [args.rasa_port, args.actions_port] + ([] if args.skip_bare else [args.bare_port])
    if busy := [port for port in ports if not process.port_free(port)]:
        raise RuntimeError(f"port(s) {busy} already in use (another benchmark running?)")
    phase = Phases()
    model = None
    if not args.skip_bare:
        with phase("bare Rasa model (trained only if its inputs changed)"):
            model = await asyncio.to_thread(bare_model, args.rasa)
    run = f"bench-{os.getpid()}-{int(time.time())}"
    result: dict[str, Any] = {"cores": os.cpu_count(), "load_avg_start": round(os.getloadavg()[0], 2)}
    base = f"http://127.0.0.1:{args.rasa_port}"
    bot_levels: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="aqparat-bench-") as tmp, contextlib.ExitStack() as cleanup:
        work = Path(tmp)
        with phase(f"cold start of the stack on ports {args.rasa_port}/{args.actions_port}"):
            stack, cold_start = await asyncio.to_thread(start_stack, args, work)
            cleanup.callback(process.stop, stack, signal.SIGINT, 60)  # Ctrl-C, as a developer would
        result["cold_start_s"] = round(cold_start, 1)

        bot, api = None, None
        if not args.skip_bot:
            with phase("bot start"):
                api = cleanup.enter_context(WatchedStandIn(asyncio.get_running_loop()))
                bot = start_bot(args, api, work)
                cleanup.callback(process.stop, bot, signal.SIGTERM, 30)
                await bot_ready(api, bot, work)
        processes = Processes(stack.pid, bot.pid if bot else None)
        memory = MemoryPeaks(processes)
        memory.sample()
        result["rss_mb_idle"] = {name: round(mb) for name, mb in memory.per_process.items()}

        with phase("warm-up"):
            expected, first = await warm_up(base, args.timeout, run)
        result["first_reply_ms"] = round(first * 1000, 1)
        async with memory.sampling():
            levels, long = await rest_runs(base, args, run, processes, phase)
            if api is not None:
                bot_run = BotRun(api, expected, bot_failure_texts(), args.timeout + BOT_SLACK_S)
                with phase("bot warm-up"):
                    warm = await bot_run.level(len(SCRIPTS), len(SCRIPTS[0].messages))
                if warm.errors:
                    print(f"bot warm-up errors: {dict(warm.errors)}", file=sys.stderr)
                for users in args.bot_levels:
                    with phase(f"bot, {users} users"):
                        level = bot_run.level(users, per_user(users, args))
                        bot_levels.append((await measured(level, processes)).summary())
        result |= {
            "levels": levels,
            "bot_levels": bot_levels,
            "flood_burst": None if args.skip_bot else FLOOD_BURST,
            "rss_mb": {name: round(mb) for name, mb in sorted(memory.per_process.items())},
            "rss_mb_total": round(memory.total),
        }
        with phase("stopping"):
            cleanup.close()  # bare Rasa is timed alone

        bare: dict[str, Any] = {"bare_cold_start_s": None, "bare_levels": [], "long": None}
        if model is not None:
            bare = await bare_run(args, model, work, run, phase)
    result["bare_cold_start_s"] = bare["bare_cold_start_s"]
    result["bare_levels"] = bare["bare_levels"]
    bare_one = next((level for level in bare["bare_levels"] if level["users"] == 1), None)
    result["bare_rasa_p50_ms"] = bare_one["p50_ms"] if bare_one else None
    one_user = next((level for level in levels if level["users"] == 1), None)
    result["ratio_p50"] = _ratio(one_user["p50_ms"] if one_user else None, result["bare_rasa_p50_ms"])
    result["long_conversation"] = None
    if args.long:
        bare_long = bare["long"] or {}
        result["long_conversation"] = (long or {}) | {
            "bare_first_p50_ms": bare_long.get("first_p50_ms"),
            "bare_last_p50_ms": bare_long.get("last_p50_ms"),
            "bare_errors": bare_long.get("errors"),
        }
    result["load_avg_end"] = round(os.getloadavg()[0], 2)
    result["phases_s"] = phase.seconds
    result["targets"] = targets(result)
    return result


async def bare_run(
    args: argparse.Namespace, model: Path, work: Path, run: str, phase: Phases
) -> dict[str, Any]:
    """Bare Rasa alone, measured as ours is: its start (launch until /status shows the model), the
    same warm-up, the same levels over REST, the same long conversation."""
    started = time.monotonic()
    bare = start_bare(args.rasa, model, args.bare_port, work)
    base = f"http://127.0.0.1:{args.bare_port}"
    processes = Processes(bare.pid, root="rasa")
    try:
        with phase(f"bare Rasa start on port {args.bare_port}"), httpx.Client(timeout=2.0) as client:
            await asyncio.to_thread(
                process.wait_until,
                lambda: rasa_up(client, base),
                bare,
                "bare Rasa",
                timeout=START_TIMEOUT,
                poll=0.1,
            )
        cold_start = time.monotonic() - started
        with phase("bare Rasa warm-up"):
            await warm_up(base, args.timeout, f"{run}-bare")
        levels, long = await rest_runs(base, args, f"{run}-bare", processes, phase, "bare Rasa, ")
    except RuntimeError:
        log = work / "bare.log"
        print(f"--- last lines of {log} ---\n{process.tail(log)}", file=sys.stderr)
        raise
    finally:
        process.stop(bare, signal.SIGTERM, 30)
    return {"bare_cold_start_s": round(cold_start, 1), "bare_levels": levels, "long": long}


def _ratio(value: float | None, base: float | None) -> float | None:
    return round(value / base, 2) if value and base else None


def targets(result: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each target with the figure it is judged on; None where this run did not measure it."""
    ours = {level["users"]: level for level in result["levels"]}
    bare = {level["users"]: level for level in result["bare_levels"]}
    clean = [level["msgs_per_s"] for level in result["levels"] if level["errors"] == 0]
    long = result["long_conversation"] or {}
    at_50 = ours.get(50)
    values = {
        "ratio_p50": result["ratio_p50"],
        "p95_ms_at_10": ours[10]["p95_ms"] if 10 in ours else None,
        "msgs_per_s": max(clean) if clean else None,
        "msgs_per_s_at_50_vs_bare": _ratio(
            at_50 and at_50["msgs_per_s"], bare[50]["msgs_per_s"] if 50 in bare else None
        ),
        "long_last_first": _ratio(long.get("last_p50_ms"), long.get("first_p50_ms")),
        "cold_start_vs_bare": _ratio(result["cold_start_s"], result["bare_cold_start_s"]),
        "rss_mb_total": result["rss_mb_total"],
        "cold_start_s": result["cold_start_s"],
    }
    judged = {}
    for name, limit in TARGETS.items():
        value = values[name]
        ok = None if value is None else value >= limit if name in AT_LEAST else value <= limit
        if name == "msgs_per_s_at_50_vs_bare" and ok and at_50 and at_50["errors"]:
            ok = False  # throughput bought with dropped messages does not count
        judged[name] = {"value": value, "limit": limit, "ok": ok}
    return judged


# --- output ------------------------------------------------------------------------------------


def _ms(value: float | None) -> str:
    return f"{value:>8.1f}" if value is not None else f"{'–':>8}"


def _row(level: dict[str, Any]) -> str:
    kinds = ", ".join(f"{kind} {count}" for kind, count in level["error_kinds"].items())
    p50, p95, p99 = (_ms(level[key]) for key in ("p50_ms", "p95_ms", "p99_ms"))
    return (
        f"{level['users']:>5} | {level['messages']:>8} | {p50} | {p95} | "
        f"{p99} | {level['msgs_per_s']:>7.1f} | {level['errors']:>6}" + (f" ({kinds})" if kinds else "")
    )


def _long_row(long: dict[str, Any], prefix: str = "") -> str:
    first, last = long[f"{prefix}first_p50_ms"], long[f"{prefix}last_p50_ms"]
    growth = _ratio(last, first)
    window = min(LONG_WINDOW, long["messages"])  # a short run's two ends overlap
    return (
        f"p50 of the first {window} messages {first} ms, of the last {window} {last} ms"
        + (f" ({growth}×)" if growth else "")
        + f", errors {long[f'{prefix}errors']}"
    )


HEADER = "users | messages |   p50 ms |   p95 ms |   p99 ms |  msgs/s | errors"
TARGET_TEXT = {
    "ratio_p50": ("full-stack p50 at 1 user / bare Rasa p50", "≤ {limit}×", "{value}×"),
    "p95_ms_at_10": ("REST p95 at 10 users", "< {limit:.0f} ms", "{value} ms"),
    "msgs_per_s": ("messages per second over REST with zero errors", "≥ {limit:.0f}", "{value}"),
    "msgs_per_s_at_50_vs_bare": (
        "messages per second over REST at 50 users with zero errors / bare Rasa's at 50",
        "≥ {limit}×",
        "{value}×",
    ),
    "long_last_first": (
        f"one long conversation, p50 of the last {LONG_WINDOW} messages / of the first {LONG_WINDOW}",
        "≤ {limit}×",
        "{value}×",
    ),
    "cold_start_vs_bare": ("cold start of the stack / bare Rasa's start", "≤ {limit}×", "{value}×"),
    "rss_mb_total": ("resident memory, all processes (peak)", "< {limit:.0f} MB", "{value} MB"),
    "cold_start_s": ("cold start of the stack with a trained model", "< {limit:.0f} s", "{value} s"),
}


def _print_cpu(levels: list[dict[str, Any]]) -> None:
    """Where the time goes: CPU per answered message is what a busy machine distorts least."""
    names = sorted({name for level in levels for name in level["cpu_ms_per_msg"]})
    if not names:
        return
    print("CPU ms per answered message: users | " + " | ".join(names))
    for level in levels:
        cells = " | ".join(f"{level['cpu_ms_per_msg'].get(name) or 0:.1f}" for name in names)
        print(f"  {level['users']:>5} | {cells}")


def print_report(result: dict[str, Any], args: argparse.Namespace) -> None:
    load = f"load average {result['load_avg_start']} at start, {result['load_avg_end']} at the end"
    print(f"\nAqparat end to end: {result['cores']} cores, {load}")
    print(
        f"cold start (python -m stack serve until Rasa has its model and the action server is healthy): "
        f"{result['cold_start_s']} s; first reply after it {result['first_reply_ms']} ms"
        + (f"; bare Rasa's start {result['bare_cold_start_s']} s" if result["bare_cold_start_s"] else "")
    )
    print(
        f"\nREST channel (POST {WEBHOOK}; conversations of {len(SCRIPTS[0].messages)} messages in kk/ru/en; "
        f"at least {args.messages_per_user} messages per user and {args.min_messages} per level; "
        f"timeout {args.timeout:g} s)"
    )
    print(HEADER)
    for level in result["levels"]:
        print(_row(level))
    _print_cpu(result["levels"])
    if long := result["long_conversation"]:
        print(
            f"\none conversation of {long['messages']} messages over REST (one sender, one message after "
            f'another: the scripts in turn, each followed by "{LONG_FILLER}"):'
        )
        print(f"  ours       {_long_row(long)}")
        if long["bare_first_p50_ms"] is not None:
            print(f"  bare Rasa  {_long_row(long, 'bare_')}")
    if result["bot_levels"]:
        print(
            f"\nTelegram bot (python -m bot run polling the Bot API stand-in; push -> last sendMessage of "
            f"the reply; flood limit raised to AQPARAT_FLOOD_BURST={FLOOD_BURST} for the benchmark; PTB's "
            "AIORateLimiter caps sending at 30 messages/s by design, so this is latency, not throughput)"
        )
        print(HEADER)
        for level in result["bot_levels"]:
            print(_row(level))
        _print_cpu(result["bot_levels"])
    if result["bare_levels"]:
        print(
            "\nbare Rasa over REST, alone on the machine (same config and NLU examples, replies in the "
            "domain, no actions, no NLG, in-memory tracker); "
            f"ours / bare at p50, 1 user: {result['ratio_p50']}×"
        )
        print(HEADER)
        for level in result["bare_levels"]:
            print(_row(level))
        _print_cpu(result["bare_levels"])
    memory = ", ".join(f"{name} {mb} MB" for name, mb in result["rss_mb"].items())
    idle = ", ".join(f"{name} {mb} MB" for name, mb in result["rss_mb_idle"].items())
    print(f"\nresident memory, peak per process tree: {memory}; peak total {result['rss_mb_total']} MB")
    print(f"                  idle, before the first message: {idle}")
    print("phases: " + ", ".join(f"{name} {seconds:.0f} s" for name, seconds in result["phases_s"].items()))
    print("\ntargets:")
    for name, target in result["targets"].items():
        label, limit, value = TARGET_TEXT[name]
        mark = {True: "✓", False: "✗", None: "–"}[target["ok"]]
        shown = "not measured" if target["value"] is None else value.format(value=target["value"])
        if name == "rss_mb_total" and "bot" not in result["rss_mb"]:
            shown += " (without the bot: --skip-bot)"
        print(f"  {mark} {label}: {shown} (target {limit.format(limit=target['limit'])})")


def _levels(text: str) -> list[int]:
    levels = [int(part) for part in text.split(",") if part.strip()]
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError("a comma-separated list of user counts, each at least 1")
    return levels


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--levels", type=_levels, default=[1, 10, 50, 200], help="concurrent users over REST (1,10,50,200)"
    )
    parser.add_argument(
        "--bot-levels",
        type=_levels,
        default=None,
        help="concurrent users through the bot (default: --levels)",
    )
    parser.add_argument(
        "--messages-per-user", type=int, default=10, help="messages each user sends (10: one conversation)"
    )
    parser.add_argument(
        "--min-messages",
        type=int,
        default=60,
        help="messages per level at least (more per user at low levels)",
    )
    parser.add_argument(
        "--long",
        type=int,
        default=400,
        help="messages in one long conversation, ours and bare Rasa's (400; 0 skips it)",
    )
    parser.add_argument(
        "--timeout", type=float, default=8.0, help="seconds before a reply counts as an error (8, the bot's)"
    )
    parser.add_argument("--skip-bot", action="store_true", help="no Telegram bot path")
    parser.add_argument("--skip-bare", action="store_true", help="no bare Rasa baseline (and no ratio)")
    parser.add_argument("--rasa-port", type=int, default=5905)
    parser.add_argument("--actions-port", type=int, default=5955)
    parser.add_argument("--bare-port", type=int, default=5906)
    parser.add_argument("--rasa", type=Path, default=RASA, help="rasa executable (.venv-rasa)")
    parser.add_argument("--json", action="store_true", help="print one JSON object as the last line")
    args = parser.parse_args(argv)
    if args.bot_levels is None:
        args.bot_levels = [users for users in args.levels if users < DEFAULT_BOT_MAX_USERS] or args.levels[:1]
    if args.messages_per_user < 1 or args.min_messages < 1:
        parser.error("--messages-per-user and --min-messages must be at least 1")
    if args.long < 0:
        parser.error("--long must be 0 (skip) or more")
    if not MODEL.exists():
        parser.error(f"no Rasa model at {MODEL}: run `make model` (make bench does)")
    if not args.skip_bare and not args.rasa.exists():
        parser.error(f"{args.rasa} not found (make venv-rasa), or pass --skip-bare")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        result = asyncio.run(benchmark(args))
    except (RuntimeError, subprocess.CalledProcessError) as error:
        print(f"benchmark failed: {error}", file=sys.stderr)
        return 1
    print_report(result, args)
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
