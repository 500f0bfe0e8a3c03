"""The conversation service against a fake Rasa: replies, and what the person hears when Rasa fails."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from bot.conversation import MAX_ATTEMPTS, MSG_ONE_MOMENT, MSG_TECHNICAL_PROBLEM, Conversation, Sender
from bot.pending import PendingTurns
from bot.rasa_client import HealthProbe, RasaClient
from bot.rendering import OutgoingMessage
from core.i18n import translate
from rasa_plugins.replay import replies_after
from storage.db import make_engine

HASH_KEY = b"k" * 32
PERSON = Sender(user_id=4242, language_code="ru")


def conversation(answer: Callable[[httpx.Request], httpx.Response]) -> Conversation:
    rasa = RasaClient("http://rasa.invalid", transport=httpx.MockTransport(answer))
    return Conversation(rasa, HASH_KEY)


@pytest.mark.asyncio
async def test_rasa_replies_are_rendered_and_the_sender_is_pseudonymous() -> None:
    seen: list[dict[str, object]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        return httpx.Response(200, json=[{"recipient_id": "x", "text": "Привет!"}])

    service = conversation(answer)
    messages = await service.handle_text(PERSON, "/start", message_id=7)
    assert [m.text for m in messages] == ["Привет!"]
    assert seen[0]["sender"] == service.sender_id(PERSON) != str(PERSON.user_id)
    assert seen[0]["metadata"]["message_id"] == 7  # type: ignore[index]
    await service.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(lambda request: httpx.Response(200, json=[]), id="empty answer"),
        pytest.param(lambda request: httpx.Response(500, text="boom"), id="server error"),
        pytest.param(lambda request: (_ for _ in ()).throw(httpx.ConnectError("down")), id="down"),
    ],
)
async def test_a_turn_rasa_did_not_process_gets_a_polite_notice(
    answer: Callable[[httpx.Request], httpx.Response],
) -> None:
    # Rasa's REST channel answers 200 with no messages when an action failed inside it: the
    # person must not be left waiting in silence.
    service = conversation(answer)
    messages = await service.handle_text(PERSON, "Ташкент")
    assert [m.text for m in messages] == [translate("ru", MSG_TECHNICAL_PROBLEM)]
    await service.aclose()


# --- messages that wait for Rasa or the action server --------------------------------------------


class FakeRasa:
    """Rasa that can be down; records what reached it."""

    def __init__(self) -> None:
        self.up = False
        self.received: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if not self.up:
            raise httpx.ConnectError("connection refused")
        text = json.loads(request.content)["message"]
        self.received.append(text)
        return httpx.Response(200, json=[{"recipient_id": "x", "text": f"got {text}"}])


@pytest.fixture
def waiting(sessions: sessionmaker[Session]) -> PendingTurns:
    return PendingTurns(sessions)


def service_with(
    rasa: FakeRasa, waiting: PendingTurns, actions_up: Callable[[], bool] = lambda: True
) -> Conversation:
    actions = HealthProbe(
        "http://actions.invalid/health",
        transport=httpx.MockTransport(lambda request: httpx.Response(200 if actions_up() else 503)),
    )
    rasa_client = RasaClient("http://rasa.invalid", transport=httpx.MockTransport(rasa))
    return Conversation(rasa_client, HASH_KEY, pending=waiting, actions=actions)


PERSON_IN_CHAT = Sender(user_id=4242, language_code="ru", chat_id=4242)


async def drain(service: Conversation) -> list[tuple[int, list[str]]]:
    delivered: list[tuple[int, list[str]]] = []

    async def deliver(chat_id: int, messages: list[OutgoingMessage]) -> None:
        delivered.append((chat_id, [m.text for m in messages]))

    await service.process_waiting(deliver)
    return delivered


@pytest.mark.asyncio
async def test_messages_wait_while_rasa_is_down_and_are_processed_in_order_later(
    waiting: PendingTurns, db_url: str
) -> None:
    rasa = FakeRasa()
    service = service_with(rasa, waiting)
    first = await service.handle_text(PERSON_IN_CHAT, "Ташкент")
    assert [m.text for m in first] == [translate("ru", MSG_ONE_MOMENT)]
    assert await drain(service) == []  # still down: nothing processed, nothing lost

    rasa.up = True
    # Rasa is back, but an earlier message still waits: this one queues behind it.
    second = await service.handle_text(PERSON_IN_CHAT, "через 3 месяца")
    assert [m.text for m in second] == [translate("ru", MSG_ONE_MOMENT)]
    assert rasa.received == []
    sender = service.sender_id(PERSON_IN_CHAT)
    assert await waiting.waiting_for(sender) == 2

    assert await drain(service) == [(4242, ["got Ташкент"]), (4242, ["got через 3 месяца"])]
    assert rasa.received == ["Ташкент", "через 3 месяца"]
    assert await waiting.waiting_for(sender) == 0
    assert [m.text for m in await service.handle_text(PERSON_IN_CHAT, "да")] == ["got да"]
    await service.aclose()


@pytest.mark.asyncio
async def test_messages_wait_while_the_action_server_is_down(waiting: PendingTurns) -> None:
    rasa, actions = FakeRasa(), {"up": False}
    rasa.up = True
    service = service_with(rasa, waiting, lambda: actions["up"])
    replies = await service.handle_text(PERSON_IN_CHAT, "Ташкент")
    assert [m.text for m in replies] == [translate("ru", MSG_ONE_MOMENT)]
    assert rasa.received == []  # Rasa would have run the form without its actions
    assert await drain(service) == []
    actions["up"] = True
    assert await drain(service) == [(4242, ["got Ташкент"])]
    await service.aclose()


@pytest.mark.asyncio
async def test_a_waiting_message_is_stored_encrypted_and_forgotten_on_delete(
    waiting: PendingTurns, db_url: str
) -> None:
    service = service_with(FakeRasa(), waiting)
    await service.handle_text(PERSON_IN_CHAT, "Мой адрес: улица Вымышленная 7")
    engine = make_engine(db_url)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT turn FROM pending_turns")).scalar_one()
    engine.dispose()
    assert "Вымышленная" not in stored and stored.startswith("enc1:")
    await service.forget(PERSON_IN_CHAT.user_id)
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    await service.aclose()


class TrackingRasa:
    """Rasa's intake channel (rasa_plugins/channel.py) with a tracker: records each processed
    message and its replies as events; a replay of a message it processed gets the recorded
    replies. It can be told to fail a turn before or after processing it."""

    def __init__(self) -> None:
        self.events: dict[str, list[dict[str, Any]]] = {}
        self.received: list[str] = []
        self.replays: list[str] = []  # the messages that came marked as replays
        self.fail: list[str] = []  # per POST, in order: "before", "after" (processed, then broke), "empty"

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        failure = self.fail.pop(0) if self.fail else None
        if failure == "before":
            raise httpx.ReadTimeout("Rasa stopped")
        if failure == "refused":
            raise httpx.ConnectError("connection refused")
        events = self.events.setdefault(body["sender"], [])
        if body["metadata"].get("replay"):
            self.replays.append(body["message"])
            known = replies_after(events, "update_id", body["metadata"]["update_id"])
            if known is not None:
                return httpx.Response(200, json=[{"recipient_id": body["sender"], **r} for r in known])
        self.received.append(body["message"])
        events.append({"event": "user", "text": body["message"], "metadata": body["metadata"]})
        if failure == "empty":  # an action failed: Rasa logged it and answered nothing
            events.append({"event": "action", "name": "action_listen"})
            return httpx.Response(200, json=[])
        reply = {"lang": "ru", "text": f"got {body['message']}"}
        events.append({"event": "bot", "text": None, "data": {"custom": reply}})
        if failure == "after":
            raise httpx.RemoteProtocolError("Rasa was killed before it answered")
        return httpx.Response(200, json=[{"recipient_id": body["sender"], "custom": reply}])


def tracking_service(rasa: TrackingRasa, waiting: PendingTurns) -> Conversation:
    return Conversation(
        RasaClient("http://rasa.invalid", transport=httpx.MockTransport(rasa)), HASH_KEY, pending=waiting
    )


@pytest.mark.asyncio
@pytest.mark.parametrize("failure", ["after", "before", "empty"])
async def test_a_message_rasa_may_have_processed_waits_and_has_its_effect_once(
    waiting: PendingTurns, failure: str
) -> None:
    # A broken connection or a 500 leaves open whether Rasa processed the message. It waits, and is
    # sent again as a replay: Rasa's intake channel answers it from its tracker if it processed it.
    rasa = TrackingRasa()
    rasa.fail = [failure]
    service = tracking_service(rasa, waiting)
    replies = await service.handle_text(PERSON_IN_CHAT, "Ташкент", message_id=5, update_id=900)
    assert [m.text for m in replies] == [translate("ru", MSG_ONE_MOMENT)]
    assert await drain(service) == [(4242, ["got Ташкент"])]
    processed = [e for e in rasa.events[service.sender_id(PERSON_IN_CHAT)] if e["event"] == "bot"]
    assert len(processed) == 1  # exactly once, whether the first attempt got there or not
    assert rasa.received == (
        ["Ташкент"] if failure == "after" else ["Ташкент"] * (failure == "empty") + ["Ташкент"]
    )
    assert rasa.replays == ["Ташкент"]  # sent again as a replay: Rasa's channel checks its tracker
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    await service.aclose()


@pytest.mark.asyncio
async def test_a_message_rasa_keeps_failing_on_is_given_up_with_a_notice(waiting: PendingTurns) -> None:
    rasa = TrackingRasa()
    rasa.fail = ["empty"] * (MAX_ATTEMPTS + 1)
    service = tracking_service(rasa, waiting)
    await service.handle_text(PERSON_IN_CHAT, "Ташкент", update_id=901)
    drained = []
    for _ in range(MAX_ATTEMPTS):
        drained += await drain(service)
    assert drained == [(4242, [translate("ru", MSG_TECHNICAL_PROBLEM)])]
    assert len(rasa.received) == MAX_ATTEMPTS + 1  # the first try, then MAX_ATTEMPTS from the queue
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    await service.aclose()


@pytest.mark.asyncio
async def test_a_recovered_update_rasa_processed_is_answered_from_the_tracker(waiting: PendingTurns) -> None:
    # The bot was killed after Rasa processed the update and before the replies went out.
    rasa = TrackingRasa()
    service = tracking_service(rasa, waiting)
    await service.handle_text(PERSON_IN_CHAT, "Ташкент", update_id=902)
    again = await service.handle_text(PERSON_IN_CHAT, "Ташкент", update_id=902, recovered=True)
    assert [m.text for m in again] == ["got Ташкент"]
    assert rasa.received == ["Ташкент"]
    # One that Rasa never saw is sent as usual.
    other = await service.handle_text(PERSON_IN_CHAT, "через год", update_id=903, recovered=True)
    assert [m.text for m in other] == ["got через год"]
    assert rasa.received == ["Ташкент", "через год"]
    assert rasa.replays == ["Ташкент", "через год"]
    await service.aclose()


async def one_waiting_message(waiting: PendingTurns, update_id: int) -> tuple[TrackingRasa, Conversation]:
    """A conversation whose message "Ташкент" waits because Rasa refused the connection."""
    rasa = TrackingRasa()
    rasa.fail = ["refused"]
    service = tracking_service(rasa, waiting)
    await service.handle_text(PERSON_IN_CHAT, "Ташкент", update_id=update_id)
    return rasa, service


@pytest.mark.asyncio
async def test_a_waiting_message_whose_replies_were_not_delivered_is_not_processed_again(
    waiting: PendingTurns,
) -> None:
    # Rasa processed the waiting message, then delivering its replies failed (or the bot was
    # killed right then). It stays waiting, and the next try gets Rasa's recorded replies.
    rasa, service = await one_waiting_message(waiting, update_id=904)

    async def broken(chat_id: int, messages: list[OutgoingMessage]) -> None:
        raise ConnectionError("the bot stopped before the replies went out")

    assert await service.process_waiting(broken) == 0
    assert rasa.received == ["Ташкент"]
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 1
    assert await drain(service) == [(4242, ["got Ташкент"])]
    assert rasa.received == ["Ташкент"]  # processed once
    assert rasa.replays == ["Ташкент", "Ташкент"]  # every waiting message goes as a replay
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    await service.aclose()


@pytest.mark.asyncio
async def test_replies_that_can_never_be_delivered_are_given_up(waiting: PendingTurns) -> None:
    rasa, service = await one_waiting_message(waiting, update_id=905)

    async def blocked(chat_id: int, messages: list[OutgoingMessage]) -> None:
        raise PermissionError("the person blocked the bot")

    for _ in range(MAX_ATTEMPTS):
        await service.process_waiting(blocked)
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    assert rasa.received == ["Ташкент"]
    await service.aclose()


@pytest.mark.asyncio
async def test_waiting_messages_of_different_people_are_processed_side_by_side_each_in_order(
    waiting: PendingTurns,
) -> None:
    people = [Sender(user_id=5000 + k, language_code="ru", chat_id=5000 + k) for k in range(6)]
    state = {"up": False, "in_flight": 0, "most": 0}
    order: list[tuple[str, str]] = []

    async def rasa(request: httpx.Request) -> httpx.Response:
        if not state["up"]:
            raise httpx.ConnectError("connection refused")
        body = json.loads(request.content)
        state["in_flight"] += 1
        state["most"] = max(state["most"], state["in_flight"])
        await asyncio.sleep(0.05)
        state["in_flight"] -= 1
        order.append((body["sender"], body["message"]))
        return httpx.Response(200, json=[{"recipient_id": "x", "text": f"got {body['message']}"}])

    service = Conversation(
        RasaClient("http://rasa.invalid", transport=httpx.MockTransport(rasa)), HASH_KEY, pending=waiting
    )
    for person in people:
        await service.handle_text(person, f"{person.user_id} first")
    for person in people:
        await service.handle_text(person, f"{person.user_id} second")
    state["up"] = True
    delivered = await drain(service)
    assert sorted(delivered) == sorted(
        (p.user_id, [f"got {p.user_id} {which}"]) for p in people for which in ("first", "second")
    )
    for person in people:
        mine = [text for sender, text in order if sender == service.sender_id(person)]
        assert mine == [f"{person.user_id} first", f"{person.user_id} second"]
    assert state["most"] == len(people)  # everyone at once, not one person after another
    await service.aclose()
