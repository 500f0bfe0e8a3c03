"""Rasa's intake channel (rasa_plugins/channel.py) in the running Rasa server: a message the bot
sends again has its effect once, also while the first copy is still being processed."""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
from typing import Any

import httpx
import pytest

from bot.rendering import language_payload
from rasa_plugins.replay import MESSAGE_KEY, REPLAY_KEY
from storage.crypto import default_cipher
from storage.fieldcipher import TRACKER_EVENT_CONTEXT
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

_senders = (f"channel-test-{k}" for k in itertools.count(1))
WEBHOOK = "/webhooks/intake/webhook"
ENGLISH = language_payload("en")


def body(sender: str, text: str, update_id: int, replay: bool = False) -> dict[str, Any]:
    metadata: dict[str, Any] = {MESSAGE_KEY: update_id, "telegram_language": "en"}
    if replay:
        metadata[REPLAY_KEY] = True
    return {"sender": sender, "message": text, "metadata": metadata}


def user_events(stack: Stack, sender: str, update_id: int) -> int:
    """How often the tracker store holds the user message `update_id` of `sender`."""
    with sqlite3.connect(stack.settings.data_dir / "rasa-tracker.db") as connection:
        rows = connection.execute(
            "SELECT data FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchall()
    events = [json.loads(default_cipher().decrypt(data, TRACKER_EVENT_CONTEXT)) for (data,) in rows]
    return sum(1 for event in events if (event.get("metadata") or {}).get(MESSAGE_KEY) == update_id)


def test_a_replay_of_a_processed_message_gets_its_replies_and_is_not_processed_again(stack: Stack) -> None:
    sender = next(_senders)
    with httpx.Client(base_url=stack.settings.rasa_url, timeout=60) as rasa:
        first = rasa.post(WEBHOOK, json=body(sender, "/start", 1))
        again = rasa.post(WEBHOOK, json=body(sender, "/start", 1, replay=True))
        unseen = rasa.post(WEBHOOK, json=body(sender, "/start", 2, replay=True))
    assert first.status_code == again.status_code == unseen.status_code == 200
    assert first.json() and again.json() == first.json()
    assert user_events(stack, sender, 1) == 1
    assert user_events(stack, sender, 2) == 1  # a replay Rasa had not seen is processed as usual


def test_a_replay_sent_while_the_first_copy_is_processed_waits_for_it_and_has_no_effect(stack: Stack) -> None:
    # The bot's read timed out while Rasa still worked on the message, and it sends it again. The
    # check must wait for the first copy: a look at the tracker before that one is saved would not
    # find it, and the message would be processed twice.
    async def race(sender: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=stack.settings.rasa_url, timeout=60) as rasa:
            await rasa.post(WEBHOOK, json=body(sender, "/start", 10))
            # Choosing the language runs an action on the action server: that takes a while.
            first = asyncio.create_task(rasa.post(WEBHOOK, json=body(sender, ENGLISH, 11)))
            await asyncio.sleep(0.02)
            replay = asyncio.create_task(rasa.post(WEBHOOK, json=body(sender, ENGLISH, 11, replay=True)))
            return [await first, await replay]

    for _ in range(3):
        sender = next(_senders)
        first, replay = asyncio.run(race(sender))
        assert first.status_code == replay.status_code == 200
        assert first.json() and replay.json() == first.json()
        assert user_events(stack, sender, 11) == 1


@pytest.mark.parametrize(
    "payload",
    [b"not json", b"[]", b'{"sender": "", "message": "hi"}', b'{"sender": "x", "message": 7}',
     b'{"sender": "x", "message": "hi", "metadata": [1]}'],
)  # fmt: skip
def test_a_malformed_request_is_refused_with_400(stack: Stack, payload: bytes) -> None:
    with httpx.Client(base_url=stack.settings.rasa_url, timeout=30) as rasa:
        response = rasa.post(WEBHOOK, content=payload, headers={"content-type": "application/json"})
    assert response.status_code == 400


def test_a_turn_whose_action_failed_is_not_saved_and_is_processed_when_sent_again(stack: Stack) -> None:
    # Rasa itself would log the failed action, go on without its events and save the rest of the
    # turn: the intake channel saves nothing of it and answers 500, so that sending it again is safe.
    sender = next(_senders)
    stack.processes["actions"].stop()
    stack.ignore_errors_so_far()
    try:
        with httpx.Client(base_url=stack.settings.rasa_url, timeout=60) as rasa:
            failed = rasa.post(WEBHOOK, json=body(sender, "/start", 20))
    finally:
        stack.processes["actions"].start()
        stack.processes["actions"].wait_healthy(timeout=120)
        stack.ignore_errors_so_far()  # Rasa logs the failed action at ERROR
    assert failed.status_code == 500
    assert user_events(stack, sender, 20) == 0
    with httpx.Client(base_url=stack.settings.rasa_url, timeout=60) as rasa:
        again = rasa.post(WEBHOOK, json=body(sender, "/start", 20, replay=True))
    assert again.status_code == 200 and again.json()
    assert user_events(stack, sender, 20) == 1
