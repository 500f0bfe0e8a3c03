"""Two Rasa replicas on one PostgreSQL tracker store and one Redis lock store: messages of the same
people sent to both replicas at once are processed one at a time per person, in order, none lost
and none twice; the bot spreads its turns over both replicas and carries on when one goes down.

TEST_SCALE_OUT_LOCK_STORE=memory runs the same test with each replica's own in-memory lock store
(what a second replica without Redis would do): it must then fail, which shows it can fail.
Without PostgreSQL (TEST_POSTGRES_URL) or Redis (TEST_REDIS_URL) the test is skipped with a reason.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.conversation import MSG_ONE_MOMENT
from core.i18n import translate
from storage.db import make_engine, make_session_factory
from storage.models import PendingTurn
from tests.support.databases import ServerUnavailable, fresh_postgres_database, redis_url
from tests.support.intake_driver import IntakeDriver, Tap
from tests.support.stack import Stack, running_stack

pytestmark = pytest.mark.integration

PEOPLE = 20
# What each person sends: the start of an intake, then questions about it. Every turn runs at
# least one custom action, so that turns last long enough to overlap.
MESSAGES = (
    "/start",
    '/set_language{"language":"en"}',
    "/affirm",
    "Nino",
    "/ask_why",
    "/help",
)
IN_FLIGHT = 2  # a person's next message goes out before the reply to the previous one came
STAGGER_S = 0.1  # between two messages of one person
TURN_TIMEOUT_S = 120.0

_user_ids = itertools.count(6500001)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    in_memory = os.environ.get("TEST_SCALE_OUT_LOCK_STORE") == "memory"
    with ExitStack() as cleanup:
        try:
            lock_store = None if in_memory else redis_url()
            database = cleanup.enter_context(fresh_postgres_database("intake_scale_app"))
            tracker = cleanup.enter_context(fresh_postgres_database("intake_scale_tracker"))
        except ServerUnavailable as error:
            pytest.skip(f"scale-out test needs PostgreSQL and Redis: {error}")
        running = cleanup.enter_context(
            running_stack(
                tmp_path_factory.mktemp("scale-data"),
                database,
                rasa_replicas=2,
                tracker_store_url=tracker,
                lock_store_url=lock_store,
            )
        )
        yield running


@pytest.fixture(autouse=True)
def no_errors_logged(scaled: Stack) -> Iterator[None]:
    scaled.ignore_errors_so_far()
    yield
    errors = scaled.errors_logged_since(scaled.error_baseline)
    assert not errors, "errors in the process logs:\n" + "\n".join(errors[:20])


# ------------------------------------------------------------------------------ straight to Rasa


@dataclass
class Turn:
    seq: int
    text: str
    url: str
    sent: float = 0.0
    answered: float = 0.0
    replies: list[dict[str, Any]] = field(default_factory=list)


async def send(client: httpx.AsyncClient, sender: str, turn: Turn) -> None:
    turn.sent = time.monotonic()
    response = await client.post(
        f"{turn.url}/webhooks/rest/webhook",
        json={
            "sender": sender,
            "message": turn.text,
            "metadata": {"seq": turn.seq, "telegram_language": "en"},
        },
    )
    response.raise_for_status()
    turn.replies = response.json()
    turn.answered = time.monotonic()


async def converse(client: httpx.AsyncClient, sender: str, urls: list[str], first: int) -> list[Turn]:
    """One person's messages, alternating replicas, up to IN_FLIGHT of them at once."""
    turns = [Turn(k, text, urls[(first + k) % len(urls)]) for k, text in enumerate(MESSAGES)]
    sending: list[asyncio.Task[None]] = []
    for turn in turns:
        if turn.seq >= IN_FLIGHT:
            await sending[turn.seq - IN_FLIGHT]
        if turn.seq:
            await asyncio.sleep(STAGGER_S)
        sending.append(asyncio.create_task(send(client, sender, turn)))
    await asyncio.gather(*sending)
    return turns


def bot_said(item: dict[str, Any]) -> tuple[Any, Any]:
    """(text, custom payload) of a REST reply or of a tracker's bot event."""
    data = item.get("data") or {}
    return item.get("text"), item.get("custom", data.get("custom"))


def problems(events: list[dict[str, Any]], turns: list[Turn]) -> list[str]:
    """What is wrong with one person's tracker, given what they sent and what they got back."""
    found = []
    sessions = sum(e["event"] == "session_started" for e in events)
    if sessions != 1:
        found.append(f"{sessions} session starts")
    starts = [i for i, e in enumerate(events) if e["event"] == "user"]
    order = [(events[i].get("metadata") or {}).get("seq") for i in starts]
    if Counter(order) != Counter(range(len(turns))):
        found.append(f"user messages in the tracker {order}, sent {list(range(len(turns)))}")
        return found
    for start, end, seq in zip(starts, [*starts[1:], len(events)], order, strict=True):
        if not turns[seq].replies:  # Rasa answers every turn; nothing means it dropped an error
            found.append(f"message {seq}: no reply")
        segment = events[start + 1 : end]
        actions = [e["name"] for e in segment if e["event"] == "action"]
        if not actions or actions[-1] != "action_listen" or actions.count("action_listen") != 1:
            found.append(f"message {seq}: its turn is not one closed run of actions: {actions}")
        recorded = [bot_said(e) for e in segment if e["event"] == "bot"]
        if recorded != [bot_said(r) for r in turns[seq].replies]:
            found.append(f"message {seq}: the bot events after it are not the replies it got")
    position = {seq: index for index, seq in enumerate(order)}
    for earlier, later in itertools.permutations(turns, 2):
        # Sent after the reply to `earlier` came: it must come after it in the tracker.
        if earlier.answered < later.sent and position[earlier.seq] > position[later.seq]:
            found.append(f"message {later.seq} is before message {earlier.seq}, answered before it was sent")
    return found


async def tracker_events(client: httpx.AsyncClient, url: str, sender: str) -> list[dict[str, Any]]:
    response = await client.get(f"{url}/conversations/{sender}/tracker", params={"include_events": "ALL"})
    response.raise_for_status()
    events: list[dict[str, Any]] = response.json()["events"]
    return events


async def concurrent_people(urls: list[str], senders: list[str]) -> dict[str, tuple[list[Turn], list[Any]]]:
    async with httpx.AsyncClient(timeout=TURN_TIMEOUT_S) as client:
        conversations = await asyncio.gather(
            *(converse(client, sender, urls, first=index % 2) for index, sender in enumerate(senders))
        )
        return {
            sender: (turns, await tracker_events(client, urls[index % 2], sender))
            for index, (sender, turns) in enumerate(zip(senders, conversations, strict=True))
        }


def test_messages_to_both_replicas_keep_order_and_are_processed_once(scaled: Stack) -> None:
    urls = scaled.settings.rasa_urls
    assert len(urls) == 2
    run = os.urandom(4).hex()
    senders = [f"scale-{run}-{person}" for person in range(PEOPLE)]
    started = time.monotonic()
    results = asyncio.run(concurrent_people(urls, senders))
    took = time.monotonic() - started

    report = {sender: problems(events, turns) for sender, (turns, events) in results.items()}
    failed = {sender: found for sender, found in report.items() if found}
    assert not failed, f"{len(failed)} of {PEOPLE} conversations went wrong:\n" + "\n".join(
        f"{sender}: {'; '.join(found)}" for sender, found in list(failed.items())[:8]
    )
    # The turns did overlap: otherwise the lock store was never put to the test.
    overlapping = sum(
        later.sent < earlier.answered
        for turns, _ in results.values()
        for earlier, later in itertools.pairwise(turns)
    )
    assert overlapping >= PEOPLE, (
        f"only {overlapping} messages were sent while the previous one was in flight"
    )
    # Two messages in flight together are taken in the order they reach the replicas, which the
    # sender cannot fix; how often that differed from the order sent, for the record.
    swapped = sum(
        order.index(k) > order.index(k + 1)
        for _, events in results.values()
        for order in [[(e.get("metadata") or {}).get("seq") for e in events if e["event"] == "user"]]
        for k in range(len(MESSAGES) - 1)
    )
    print(
        f"{PEOPLE * len(MESSAGES)} turns in {took:.1f} s, {overlapping} sent while the previous was"
        f" in flight, {swapped} taken in the other order"
    )


# ------------------------------------------------------------------------------ through the bot


def waiting_turns(stack: Stack) -> int:
    engine = make_engine(stack.settings.effective_database_url, lock_at_begin=False)
    try:
        with make_session_factory(engine)() as session:
            return len(session.scalars(select(PendingTurn)).all())
    finally:
        engine.dispose()  # the database is dropped at the end of the module


def test_the_bot_uses_both_replicas_and_carries_on_when_one_is_down(scaled: Stack) -> None:
    drivers = [IntakeDriver(scaled.standin, next(_user_ids), "en") for _ in range(3)]
    for driver in drivers:
        driver.start_and_consent()
        assert driver.current_question() == "display_name"

    scaled.processes["rasa"].stop()  # the first of RASA_URL
    scaled.ignore_errors_so_far()  # what it logs while shutting down is not what this checks
    one_moment = translate("en", MSG_ONE_MOMENT)
    for driver in drivers:
        # Two turns each: round robin sends some of them to the stopped replica first.
        replies = driver.send("Nino", question=True)
        assert one_moment not in [r["text"] for r in replies]
        assert driver.current_question() == "age_group"
        replies = driver.answer(Tap("25-34"))
        assert one_moment not in [r["text"] for r in replies]
        assert driver.current_question() == "return_country"
    assert waiting_turns(scaled) == 0
