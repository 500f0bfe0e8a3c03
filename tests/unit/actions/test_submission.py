"""A submission that comes again (a process stopped after it was stored and before Rasa recorded
the turn, and the message was sent again) is one submission, and leaves no draft behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions import intake
from storage.db import session_scope
from storage.models import Profile, ProfileStatus
from storage.repository import ParticipantRepository, ProfileRepository

SUBJECT = "s" * 64
SLOTS = {"chat_language": "en", "display_name": "Testperson", "return_country": "GE"}


def tracker(**slots: Any) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": SUBJECT,
            "slots": {**SLOTS, **slots},
            "latest_message": {"text": "/confirm", "intent": {"name": "confirm"}},
            "events": [],
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


@pytest.fixture
def profiles(sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> sessionmaker[Session]:
    with session_scope(sessions) as session:
        participants = ParticipantRepository(session)
        participants.record_consent(participants.get_or_create(SUBJECT), "test", "en")
    monkeypatch.setattr(intake, "unit_of_work", lambda: session_scope(sessions))
    monkeypatch.setattr(intake, "file_voice_notes", lambda profile_id, note_ids: None)
    return sessions


def statuses(sessions: sessionmaker[Session]) -> list[ProfileStatus]:
    with session_scope(sessions) as session:
        participant = ParticipantRepository(session).get_by_subject(SUBJECT)
        assert participant is not None
        return sorted(p.status for p in ProfileRepository(session).all_for(participant))


def submit(state: Tracker) -> list[dict[str, Any]]:
    dispatcher = CollectingDispatcher()
    events = asyncio.run(intake.ActionSubmitIntake().run(dispatcher, state, {}))
    assert events == [{"event": "slot", "timestamp": None, "name": "intake_status", "value": "submitted"}]
    return dispatcher.messages


def test_the_same_submission_twice_is_one_submission(profiles: sessionmaker[Session]) -> None:
    intake.save_draft(tracker(), {})
    first = submit(tracker())
    # The turn was lost: Rasa's tracker does not know of the submission, and the message comes
    # again: its validation saves the draft (not a new one), and the submission is not repeated.
    intake.save_draft(tracker(), {})
    again = submit(tracker())
    assert statuses(profiles) == [ProfileStatus.SUBMITTED]
    assert again == first  # the person hears the same confirmation


def test_other_answers_after_a_submission_are_a_new_draft_and_a_new_submission(
    profiles: sessionmaker[Session],
) -> None:
    intake.save_draft(tracker(), {})
    submit(tracker())
    intake.save_draft(tracker(), {"display_name": "Another"})  # "start again", a different answer
    assert statuses(profiles) == sorted([ProfileStatus.SUBMITTED, ProfileStatus.IN_PROGRESS])
    submit(tracker(display_name="Another"))
    assert statuses(profiles) == [ProfileStatus.SUBMITTED, ProfileStatus.SUBMITTED]


def test_submitted_with_needs_the_same_answers_and_no_newer_draft(session: Session) -> None:
    participants, repository = ParticipantRepository(session), ProfileRepository(session)
    participant = participants.get_or_create(SUBJECT)
    assert repository.submitted_with(participant, {}) is None
    draft = repository.draft_for(participant)
    draft.set_answers({"person": {"display_name": "X"}})
    repository.submit(draft)
    assert repository.submitted_with(participant, {"person": {"display_name": "X"}}) is draft
    assert repository.submitted_with(participant, {"person": {"display_name": "Y"}}) is None
    repository.draft_for(participant)  # a new intake was started
    assert repository.submitted_with(participant, {"person": {"display_name": "X"}}) is None
    assert isinstance(draft, Profile)
