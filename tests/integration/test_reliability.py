"""Parts that fail: a message sent while the action server or Rasa is down gets "one moment" in the
person's language and is processed, exactly once, when the part is back."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from bot.conversation import MSG_ONE_MOMENT
from core.i18n import translate
from storage.hashing import subject_hash
from storage.models import Participant, PendingTurn, Profile
from tests.support.intake_driver import IntakeDriver
from tests.support.stack import Stack
from tests.support.telegram_standin import text_update

pytestmark = pytest.mark.integration

_user_ids = itertools.count(6400001)


def display_name(stack: Stack, user_id: int) -> str | None:
    with stack.session() as session:
        hashed = subject_hash(user_id, stack.settings.hash_key())
        participant = session.scalars(select(Participant).where(Participant.subject_hash == hashed)).one()
        profile = session.scalars(select(Profile).where(Profile.participant_id == participant.id)).one()
        return (profile.answers.get("person") or {}).get("display_name")


def waiting_turns(stack: Stack) -> int:
    with stack.session() as session:
        return len(session.scalars(select(PendingTurn)).all())


@pytest.mark.parametrize("part", ["actions", "rasa"])
def test_a_message_sent_while_a_part_is_down_is_answered_when_it_is_back(stack: Stack, part: str) -> None:
    driver = IntakeDriver(stack.standin, next(_user_ids), "uk")
    driver.start_and_consent()
    assert driver.current_question() == "display_name"
    stack.processes[part].stop()
    stack.ignore_errors_so_far()  # shutting down by SIGTERM is not what this test checks

    replies = driver.send("Оксана")
    assert [r["text"] for r in replies] == [translate("uk", MSG_ONE_MOMENT)]
    assert waiting_turns(stack) == 1
    mark = stack.standin.mark()

    stack.processes[part].start()
    stack.processes[part].wait_healthy(timeout=240)
    driver.settle(mark, "sendMessage", timeout=90, question=True)
    assert driver.current_question() == "age_group"  # the name was taken, the next question came
    assert display_name(stack, driver.user_id) == "Оксана"
    assert waiting_turns(stack) == 0


def test_flood_control_is_honoured_and_the_reply_still_arrives(stack: Stack) -> None:
    user_id = next(_user_ids)
    stack.standin.fail_next("sendMessage", count=1, error_code=429, retry_after=2)
    mark = stack.standin.mark()
    stack.standin.push_update(text_update(user_id, "/start"))
    # The refused call and the one sent again after retry_after.
    stack.standin.wait_for_calls("sendMessage", count=2, chat_id=user_id, since=mark, timeout=60)
    calls = [
        c for c in stack.standin.calls[mark:] if c.method == "sendMessage" and c.params["chat_id"] == user_id
    ]
    refused = [c for c in calls if c.status == 429]
    delivered = [c for c in calls if c.status == 200]
    assert len(refused) == 1 and len(delivered) >= 1
    # Sent again only after the retry_after Telegram asked for, and with the same text.
    assert delivered[0].time - refused[0].time >= 2
    assert delivered[0].params["text"] == refused[0].params["text"]
