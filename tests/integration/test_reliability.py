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
