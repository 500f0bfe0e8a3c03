"""Retention with a shifted clock: abandoned intakes and closed profiles go when their time is up,
with the people, voice files and Rasa conversations they leave behind; active profiles stay."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bot.retention import apply_retention
from storage.coach import tombstone
from storage.coach_models import DeletionReason
from storage.db import make_engine, make_session_factory, upgrade
from storage.models import Participant, Profile, ProfileStatus, utcnow
from storage.repository import ParticipantRepository, ProfileRepository
from storage.retention import erase_expired

CLOSED_AFTER, DRAFT_AFTER = timedelta(days=180), timedelta(days=30)


def person(session: Session, subject: str, status: ProfileStatus) -> Profile:
    participant = ParticipantRepository(session).get_or_create(subject * 64)
    profiles = ProfileRepository(session)
    profile = profiles.draft_for(participant)
    profile.set_answers({"person": {"display_name": f"Invented {subject}"}})
    if status is not ProfileStatus.IN_PROGRESS:
        profiles.submit(profile)
        profile.status = status
    session.commit()
    return profile


@pytest.fixture
def people(session: Session) -> dict[str, Profile]:
    return {
        "closed": person(session, "a", ProfileStatus.CLOSED),
        "draft": person(session, "b", ProfileStatus.IN_PROGRESS),
        "active": person(session, "c", ProfileStatus.IN_REVIEW),
        "withdrawn": person(session, "d", ProfileStatus.WITHDRAWN),
    }


def remaining(session: Session) -> set[str]:
    session.expire_all()
    return set(session.scalars(select(Profile.id)))


def test_nothing_goes_before_its_time(session: Session, people: dict[str, Profile]) -> None:
    result = erase_expired(
        session, CLOSED_AFTER, DRAFT_AFTER, now=utcnow() + DRAFT_AFTER - timedelta(hours=1)
    )
    session.commit()
    assert result.profile_ids == [] and result.subject_hashes == []
    assert remaining(session) == {p.id for p in people.values()}


def test_abandoned_intakes_go_after_the_draft_period(session: Session, people: dict[str, Profile]) -> None:
    draft = people["draft"]
    result = erase_expired(
        session, CLOSED_AFTER, DRAFT_AFTER, now=utcnow() + DRAFT_AFTER + timedelta(hours=1)
    )
    session.commit()

    assert (result.abandoned_drafts, result.closed_profiles) == (1, 0)
    assert result.profile_ids == [draft.id]
    assert result.subject_hashes == ["b" * 64]  # nothing left of this person
    assert remaining(session) == {people[k].id for k in ("closed", "active", "withdrawn")}
    assert ParticipantRepository(session).get_by_subject("b" * 64) is None
    assert tombstone(session, draft.id) is None  # never submitted: no trace for the coaches


def test_closed_and_withdrawn_profiles_go_after_the_closed_period(
    session: Session, people: dict[str, Profile]
) -> None:
    result = erase_expired(
        session, CLOSED_AFTER, DRAFT_AFTER, now=utcnow() + CLOSED_AFTER + timedelta(hours=1)
    )
    session.commit()

    assert (result.abandoned_drafts, result.closed_profiles) == (1, 2)
    assert remaining(session) == {people["active"].id}  # in review: kept, however old
    assert sorted(result.subject_hashes) == ["a" * 64, "b" * 64, "d" * 64]
    assert session.scalar(select(func.count()).select_from(Participant)) == 1
    for key in ("closed", "withdrawn"):
        stone = tombstone(session, people[key].id)
        assert stone is not None and stone.reason == DeletionReason.RETENTION


def test_a_person_keeps_their_submitted_profile_when_a_later_draft_expires(session: Session) -> None:
    submitted = person(session, "e", ProfileStatus.SUBMITTED)
    participant = ParticipantRepository(session).get_or_create("e" * 64)
    draft = ProfileRepository(session).draft_for(participant)
    session.commit()

    result = erase_expired(session, CLOSED_AFTER, DRAFT_AFTER, now=utcnow() + DRAFT_AFTER + timedelta(days=1))
    session.commit()
    assert result.profile_ids == [draft.id] and result.subject_hashes == []
    assert remaining(session) == {submitted.id}


def test_the_job_also_erases_voice_files_and_conversations(tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'intake.db'}"  # files and tracker: the same on PostgreSQL
    upgrade(db_url)
    engine = make_engine(db_url, lock_at_begin=False)
    session = make_session_factory(engine)()
    people = {
        "draft": person(session, "b", ProfileStatus.IN_PROGRESS),
        "active": person(session, "c", ProfileStatus.SUBMITTED),
    }
    voice_dir = tmp_path / "voice"
    for profile in people.values():
        (voice_dir / profile.id).mkdir(parents=True)
        (voice_dir / profile.id / "note.ogg").write_bytes(b"OggS-invented")
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"))
        for subject in ("b", "c"):
            connection.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, 'x')"), {"s": subject * 64}
            )

    apply_retention(
        make_session_factory(engine), tracker_url, voice_dir, CLOSED_AFTER, DRAFT_AFTER,
        now=utcnow() + DRAFT_AFTER + timedelta(days=1),
    )  # fmt: skip

    assert not (voice_dir / people["draft"].id).exists()
    assert (voice_dir / people["active"].id / "note.ogg").exists()
    with tracker.connect() as connection:
        senders = connection.execute(text("SELECT sender_id FROM events")).scalars().all()
    tracker.dispose()
    assert senders == ["c" * 64]
    assert remaining(session) == {people["active"].id}
    session.close()
    engine.dispose()
