"""Durability with PostgreSQL and Redis behind two Rasa replicas (issue 5 §2), and retention (§3).

One cluster (``cluster.py``) serves the module: PostgreSQL (tracker store), Redis (lock store,
and the bot's store in database 1), one action server, two Rasa replicas with
``endpoints.production.yml``. Users reach Rasa through the bot's relay (``bot.relay.Relay`` with
a ``RasaClient`` pointed at one replica), which is where "a polite error, not silence" is decided;
a few checks speak to the REST channel directly to record what Rasa itself answers.

Processes are killed with SIGKILL (no shutdown code runs), between two messages of a
conversation.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis

from bot.rasa import RasaClient
from bot.relay import Outgoing, Relay, Who
from bot.settings import BotSettings
from bot.store import open_store
from bot.texts import UNAVAILABLE
from knowledge.settings import PROJECT_DIR
from tests.integration.cluster import REDIS_PORT, Cluster
from texts.languages import KAZAKH_LETTERS
from texts.localized import Texts as BotTexts

pytestmark = pytest.mark.integration

SCHOOL_CHECK = "проверить школу"
REGION, RURAL, FIBRE, MOBILE, BIN = (
    "В какой области",
    "сельском",
    "проводной",
    "мобильный",
    "БИН",
)
UNAVAILABLE_RU = BotTexts("ru")(UNAVAILABLE)


def relay_turn(cluster: Cluster, replica: int, who: Who, text: str, timeout: float = 20.0) -> list[Outgoing]:
    """One message through the bot's relay to one replica, as a bot replica would send it."""
    settings = BotSettings.from_env({}).model_copy(
        update={
            "bot_store": cluster.bot_store,
            "flood_burst": 1_000,  # the tests type faster than any user
            "rasa_timeout": timeout,
            "default_language": "ru",
        }
    )

    async def turn() -> list[Outgoing]:
        relay = Relay(
            RasaClient(cluster.rasa_url(replica), settings.rasa_timeout),
            open_store(settings.bot_store),
            settings,
        )
        try:
            return await relay.message(who, text)
        finally:
            await relay.aclose()

    return asyncio.run(turn())


def said(replies: list[Outgoing]) -> str:
    assert replies, "silence: the user got no reply at all"
    return "\n".join(reply.text for reply in replies)


def test_a_school_check_alternating_between_replicas_keeps_its_state(full_cluster: Cluster) -> None:
    sender = "alternating"
    steps = [
        (SCHOOL_CHECK, REGION),
        ("туркестанская обл", RURAL),
        ("нет", FIBRE),
        ("нет", MOBILE),
        ("нет", BIN),
        ("000000000000", "не входит в группу"),
    ]
    for turn, (message, expected) in enumerate(steps):
        replica = turn % 2  # 0, 1, 0, 1…: every answer lands on the other replica
        assert expected in full_cluster.text(replica, sender, message), (turn, message)
    # Both replicas read the same finished form from PostgreSQL.
    for replica in (0, 1):
        slots = full_cluster.slots(replica, sender)
        assert (slots["school_region"], slots["school_rural"], slots["school_fibre"]) == (
            "turkistan",
            "no",
            "no",
        )


def test_the_action_server_dying_mid_form_costs_one_polite_reply_and_no_state(
    full_cluster: Cluster,
) -> None:
    who = Who(chat_id=101, user_id=101, language_code="ru")
    assert REGION in said(relay_turn(full_cluster, 0, who, SCHOOL_CHECK))
    assert RURAL in said(relay_turn(full_cluster, 1, who, "туркестанская обл"))

    full_cluster.kill(full_cluster.actions)
    # What Rasa itself does: HTTP 200 with no messages (it logs "Failed to execute custom
    # action"; every utter_* comes from the same server's /nlg). The bot turns that into words.
    raw = full_cluster.say(0, "raw-actions-down", "привет")
    assert (raw.status_code, raw.json()) == (200, [])
    assert said(relay_turn(full_cluster, 0, who, "нет")) == UNAVAILABLE_RU
    assert said(relay_turn(full_cluster, 1, who, "нет")) == UNAVAILABLE_RU

    full_cluster.start(full_cluster.actions)
    full_cluster.wait_ready([full_cluster.actions])
    # The form is where it was: the region is kept and the rural question is still open, so the
    # user's repeated answer moves it on.
    assert FIBRE in said(relay_turn(full_cluster, 0, who, "нет"))
    assert MOBILE in said(relay_turn(full_cluster, 1, who, "нет"))
    assert BIN in said(relay_turn(full_cluster, 0, who, "нет"))
    assert "не входит в группу" in said(relay_turn(full_cluster, 1, who, "000000000000"))


def test_a_rasa_replica_dying_mid_form_leaves_the_conversation_to_the_other(
    full_cluster: Cluster,
) -> None:
    who = Who(chat_id=202, user_id=202, language_code="ru")
    assert REGION in said(relay_turn(full_cluster, 0, who, SCHOOL_CHECK))
    assert RURAL in said(relay_turn(full_cluster, 0, who, "туркестанская обл"))

    full_cluster.kill(full_cluster.replicas[0])
    # A bot still sending to the dead replica (no load balancer in front) tells the user so…
    assert said(relay_turn(full_cluster, 0, who, "нет")) == UNAVAILABLE_RU
    # …and the surviving replica continues the same conversation from PostgreSQL.
    assert FIBRE in said(relay_turn(full_cluster, 1, who, "нет"))
    assert MOBILE in said(relay_turn(full_cluster, 1, who, "нет"))
    assert BIN in said(relay_turn(full_cluster, 1, who, "нет"))
    assert "не входит в группу" in said(relay_turn(full_cluster, 1, who, "000000000000"))


def test_a_rasa_replica_dying_while_it_holds_the_conversation_lock(full_cluster: Cluster) -> None:
    """The replica dies mid-message, holding the conversation's ticket in Redis. Until Rasa's
    lock lifetime (TICKET_LOCK_LIFETIME, 60 s by default) expires that ticket, the other
    replica waits, and the bot tells the user, after its own timeout, that it is temporarily
    unavailable and to try again in a minute. What the user sent in that minute is not acted on
    later behind their back (Rasa drops a request whose client has gone), so their retry is
    read as the answer to the question they can see, and the form state is intact."""
    who = Who(chat_id=303, user_id=303, language_code="ru")
    assert REGION in said(relay_turn(full_cluster, 0, who, SCHOOL_CHECK))
    assert RURAL in said(relay_turn(full_cluster, 0, who, "туркестанская обл"))
    locks = redis.Redis(port=REDIS_PORT, password=full_cluster.redis_password, socket_timeout=5)
    assert not locks.keys("aqparat:lock:*")  # nothing in flight

    # Freeze the action server so that replica 0 is caught inside the message, lock held.
    os.killpg(full_cluster.actions.process.pid, signal.SIGSTOP)  # type: ignore[union-attr]
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            in_flight = pool.submit(relay_turn, full_cluster, 0, who, "нет")
            deadline = time.monotonic() + 30
            while not locks.keys("aqparat:lock:*"):
                assert time.monotonic() < deadline, "replica 0 never took the conversation's lock"
                time.sleep(0.2)
            full_cluster.kill(full_cluster.replicas[0])
            assert said(in_flight.result(timeout=60)) == UNAVAILABLE_RU
    finally:
        os.killpg(full_cluster.actions.process.pid, signal.SIGCONT)  # type: ignore[union-attr]

    # The bot's production timeout (8 s) runs out while replica 1 waits for the dead ticket.
    killed_at = time.monotonic()
    production_timeout = BotSettings.from_env({}).rasa_timeout
    retries = 0
    while (reply := said(relay_turn(full_cluster, 1, who, "нет", production_timeout))) == UNAVAILABLE_RU:
        retries += 1
        assert time.monotonic() - killed_at < 90, "the conversation stayed locked past the lifetime"
    assert retries >= 1  # the dead replica's ticket did hold the conversation
    # One "нет" answered the rural question, not one per attempt: the form asks about fibre.
    assert FIBRE in reply, reply
    assert MOBILE in said(relay_turn(full_cluster, 1, who, "нет"))


def test_the_language_choice_survives_restarting_every_process(full_cluster: Cluster) -> None:
    sender = "language-choice"
    english = {"language_code": "en"}
    chosen = full_cluster.text(0, sender, '/change_language{"language": "kk"}', english)
    assert KAZAKH_LETTERS & set(chosen), chosen
    before = full_cluster.text(1, sender, "Is Starlink legal in Kazakhstan?", english)
    assert "Дереккөз" in before, before  # an English question, answered in the chosen Kazakh

    full_cluster.kill_all()  # PostgreSQL, Redis, the action server and both replicas
    full_cluster.start_all()

    after = full_cluster.text(1, sender, "How much does Starlink cost per month?", english)
    assert "Дереккөз" in after, after
    assert full_cluster.slots(0, sender)["language"] == "kk"


def test_retention_deletes_whole_conversations_idle_longer_than_the_setting(full_cluster: Cluster) -> None:
    full_cluster.text(0, "retention-old", "привет")
    full_cluster.text(1, "retention-new", "привет")
    # Age one conversation by 40 days, as if its user had left then.
    full_cluster.psql(
        "UPDATE events SET timestamp = timestamp - 40 * 86400 WHERE sender_id = 'retention-old'"
    )
    env = {**os.environ, **full_cluster.env(), "AQPARAT_RETENTION_DAYS": "30"}
    done = subprocess.run(
        [sys.executable, "-m", "stack", "prune"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    assert "deleted 1 conversation(s)" in done.stdout, done.stdout
    assert "postgresql tracker store" in done.stdout
    count = "SELECT count(*) FROM events WHERE sender_id = '{}'"
    assert full_cluster.psql(count.format("retention-old")) == "0"
    assert int(full_cluster.psql(count.format("retention-new"))) > 0
    # The user who comes back starts afresh, on either replica.
    assert full_cluster.text(1, "retention-old", "привет")


def test_a_conversation_longer_than_a_session_keeps_its_form_across_replicas_and_retention(
    full_cluster: Cluster,
) -> None:
    """Rasa starts a new session every 10 user messages (nlu/sessions.py) and loads only the
    latest from PostgreSQL. The school check opens in the first session and ends in the second,
    every message on the other replica; retention still treats all sessions as one conversation."""
    sender = "long-sessions"
    for turn, message in enumerate(["привет", "спасибо"] * 4):
        full_cluster.text(turn % 2, sender, message)
    steps = [
        (SCHOOL_CHECK, REGION),
        ("туркестанская обл", RURAL),  # the 10th message: the next session starts after it
        ("нет", FIBRE),
        ("нет", MOBILE),
        ("нет", BIN),
        ("000000000000", "не входит в группу"),
    ]
    for turn, (message, expected) in enumerate(steps):
        assert expected in full_cluster.text(turn % 2, sender, message), (turn, message)
    count = "SELECT count(*) FROM events WHERE sender_id = 'long-sessions'"
    starts = count + " AND type_name = 'session_started'"
    assert full_cluster.psql(starts) == "2"
    stored = full_cluster.psql(count)
    # The first session is 40 days old, the second is not: the conversation is not idle, and
    # pruning must leave every session of it.
    full_cluster.psql(
        "UPDATE events SET timestamp = timestamp - 40 * 86400 WHERE sender_id = 'long-sessions' AND id < "
        "(SELECT max(id) FROM events WHERE sender_id = 'long-sessions' AND type_name = 'session_started')"
    )
    env = {**os.environ, **full_cluster.env(), "AQPARAT_RETENTION_DAYS": "30"}
    subprocess.run(
        [sys.executable, "-m", "stack", "prune"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        timeout=300,
        check=True,
    )
    assert full_cluster.psql(count) == stored
    assert full_cluster.slots(1, sender)["school_rural"] == "no"
