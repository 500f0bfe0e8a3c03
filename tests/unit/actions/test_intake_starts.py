"""The funnel's first step: an anonymous monthly count of intakes started, counted once per
conversation when the bot greets someone or they choose a language before consenting."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from actions import actions, intake
from storage.db import session_scope
from storage.models import IntakeStart
from storage.repository import count_intake_start


def tracker(text: str, intent: str, entities: list[dict[str, Any]] | None = None, **slots: Any) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "s" * 64,
            "slots": slots,
            "latest_message": {"text": text, "intent": {"name": intent}, "entities": entities or []},
            "events": [],
            "active_loop": {},
            "latest_action_name": "action_listen",
        }
    )


def run(action: Action, state: Tracker) -> list[dict[str, Any]]:
    return asyncio.run(action.run(CollectingDispatcher(), state, {}))


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(sessions) as session:
        return {row.month: row.started for row in session.scalars(select(IntakeStart))}


@pytest.fixture
def sessions_for_actions(
    sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> sessionmaker[Session]:
    monkeypatch.setattr(actions, "unit_of_work", lambda: session_scope(sessions))
    return sessions


COUNTED = {"event": "slot", "timestamp": None, "name": "intake_counted", "value": True}
GERMAN = [{"entity": "language", "value": "Deutsch"}]


def test_a_greeting_is_counted_once_per_conversation(sessions_for_actions: sessionmaker[Session]) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    assert COUNTED in run(intake.ActionStart(), tracker("/start", "start"))
    assert counts(sessions_for_actions) == {month: 1}
    # The same conversation again (/start twice, then a language): the slot says it was counted.
    assert COUNTED not in run(intake.ActionStart(), tracker("/start", "start", intake_counted=True))
    events = run(
        actions.ActionSetChatLanguage(), tracker("Deutsch", "set_language", GERMAN, intake_counted=True)
    )
    assert COUNTED not in events
    assert counts(sessions_for_actions) == {month: 1}


def test_choosing_a_language_first_counts_a_start_but_not_after_consent(
    sessions_for_actions: sessionmaker[Session],
) -> None:
    month = datetime.now(UTC).strftime("%Y-%m")
    assert COUNTED in run(actions.ActionSetChatLanguage(), tracker("Deutsch", "set_language", GERMAN))
    assert counts(sessions_for_actions) == {month: 1}
    # Someone who consented before starts were counted is not counted as a new start.
    state = tracker("Deutsch", "set_language", GERMAN, consent_given=True, intake_status="submitted")
    assert COUNTED not in run(actions.ActionSetChatLanguage(), state)
    assert counts(sessions_for_actions) == {month: 1}


def test_the_count_is_per_month_and_adds_up(session: Session) -> None:
    for day in (datetime(2026, 10, 31, 23, 59, tzinfo=UTC), datetime(2026, 11, 1, 0, 0, tzinfo=UTC)):
        count_intake_start(session, day)
    count_intake_start(session, datetime(2026, 11, 30, 12, tzinfo=UTC))
    session.commit()
    rows = {row.month: row.started for row in session.scalars(select(IntakeStart))}
    assert rows == {"2026-10": 1, "2026-11": 2}
