"""The conversation service against a fake Rasa: replies, and what the person hears when Rasa fails."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator

import httpx
import pytest
from sqlalchemy import text

from bot.conversation import MSG_ONE_MOMENT, MSG_TECHNICAL_PROBLEM, Conversation, Sender
from bot.pending import PendingTurns
from bot.rasa_client import HealthProbe, RasaClient
from core.i18n import translate
from storage.db import make_engine, make_session_factory, upgrade

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
def waiting(db_url: str) -> Iterator[PendingTurns]:
    upgrade(db_url)
    engine = make_engine(db_url)
    yield PendingTurns(make_session_factory(engine))
    engine.dispose()


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
    return [(chat, [m.text for m in messages]) async for chat, messages in service.process_waiting()]


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


@pytest.mark.asyncio
async def test_a_message_rasa_may_have_processed_is_not_kept(waiting: PendingTurns) -> None:
    # A 500 or a timeout means Rasa got the message: sending it again could apply it twice.
    service = Conversation(
        RasaClient("http://rasa.invalid", transport=httpx.MockTransport(lambda r: httpx.Response(500))),
        HASH_KEY,
        pending=waiting,
    )
    replies = await service.handle_text(PERSON_IN_CHAT, "Ташкент")
    assert [m.text for m in replies] == [translate("ru", MSG_TECHNICAL_PROBLEM)]
    assert await waiting.waiting_for(service.sender_id(PERSON_IN_CHAT)) == 0
    await service.aclose()
