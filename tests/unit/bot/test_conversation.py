"""The conversation service against a fake Rasa: replies, and what the person hears when Rasa fails."""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from bot.conversation import MSG_TECHNICAL_PROBLEM, Conversation, Sender
from bot.rasa_client import RasaClient
from core.i18n import translate

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
