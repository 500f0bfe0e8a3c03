"""Tests for storage.repository and storage.models on a migrated database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.db import make_session_factory, session_scope
from storage.models import ChatLanguageSource, Participant, Profile, ProfileStatus, utcnow
from storage.repository import ParticipantRepository, ProfileRepository

SUBJECT_A = "a" * 64
SUBJECT_B = "b" * 64


def _fresh_session(session: Session) -> Session:
    """A second session on the same engine, to see only what was committed."""
    bind = session.get_bind()
    return make_session_factory(bind)()  # type: ignore[arg-type]


def _count(session: Session, model: type[Any]) -> int:
    return session.scalar(select(func.count()).select_from(model)) or 0


# participants ---------------------------------------------------------------------------------


def test_get_or_create_is_idempotent(session: Session) -> None:
    participants = ParticipantRepository(session)
    first = participants.get_or_create(SUBJECT_A)
    second = participants.get_or_create(SUBJECT_A)
    other = participants.get_or_create(SUBJECT_B)
    session.commit()

    assert first is second
    assert other.id != first.id
    assert len(first.id) == 32 and int(first.id, 16) >= 0
    with _fresh_session(session) as fresh:
        again = ParticipantRepository(fresh).get_or_create(SUBJECT_A)
        assert again.id == first.id
        assert _count(fresh, Participant) == 2


def test_get_or_create_survives_a_concurrent_insert(
    session: Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    with _fresh_session(session) as other:
        existing_id = ParticipantRepository(other).get_or_create(SUBJECT_A).id
        other.commit()

    participants = ParticipantRepository(session)
    real_lookup = participants.get_by_subject
    calls: list[str] = []

    def miss_once(subject: str) -> Participant | None:
        calls.append(subject)
        return None if len(calls) == 1 else real_lookup(subject)

    monkeypatch.setattr(participants, "get_by_subject", miss_once)
    participant = participants.get_or_create(SUBJECT_A)
    session.commit()  # the failed insert was confined to a savepoint

    assert participant.id == existing_id
    assert len(calls) == 2
    assert _count(session, Participant) == 1


def test_get_by_subject_unknown_is_none(session: Session) -> None:
    assert ParticipantRepository(session).get_by_subject(SUBJECT_A) is None


def test_record_consent_keeps_version_time_and_language(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    given_at = datetime(2026, 11, 3, 10, 15, 30, 123000, tzinfo=timezone(timedelta(hours=1)))
    participants.record_consent(participant, "2026-11-v1", "ka", at=given_at)
    session.commit()

    with _fresh_session(session) as fresh:
        stored = ParticipantRepository(fresh).get_by_subject(SUBJECT_A)
        assert stored is not None
        assert stored.consent_version == "2026-11-v1"
        assert stored.consent_language == "ka"
        assert stored.consent_given_at == given_at
        assert stored.consent_given_at is not None
        assert stored.consent_given_at.utcoffset() == timedelta(0)
        assert stored.created_at.tzinfo is not None


def test_record_consent_defaults_to_now(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    before = utcnow()
    participants.record_consent(participant, "v2", None)
    assert participant.consent_given_at is not None
    assert before <= participant.consent_given_at <= utcnow()
    assert participant.consent_language is None


def test_record_consent_rejects_naive_time(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    with pytest.raises(ValueError, match="timezone"):
        participants.record_consent(participant, "v1", "de", at=datetime(2026, 11, 3, 10, 0))


def test_naive_timestamps_are_refused_by_the_column(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    participant.consent_given_at = datetime(2026, 11, 3, 10, 0)
    with pytest.raises(Exception, match="naive datetime"):
        session.flush()


def test_set_chat_language_updates_participant_and_draft(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    draft = ProfileRepository(session).draft_for(participant)

    participants.set_chat_language(participant, "fa-AF", "chosen")
    session.commit()

    assert participant.chat_language == "fa-AF"
    assert participant.chat_language_source is ChatLanguageSource.CHOSEN
    assert draft.answers["languages"] == {"chat": "fa-AF", "chat_language_source": "chosen"}
    assert draft.chat_language == "fa-AF"
    with pytest.raises(ValueError):
        participants.set_chat_language(participant, "de", "guessed")


def test_repositories_never_commit(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    participants.record_consent(participant, "v1", "de")
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    profiles.set_answer(draft, "/return_plan/country", "GE")
    profiles.submit(draft)
    session.rollback()

    with _fresh_session(session) as fresh:
        assert _count(fresh, Participant) == 0
        assert _count(fresh, Profile) == 0


def test_session_scope_commits_or_rolls_back(session: Session) -> None:
    factory = make_session_factory(session.get_bind())  # type: ignore[arg-type]
    with session_scope(factory) as scoped:
        ParticipantRepository(scoped).get_or_create(SUBJECT_A)
    with pytest.raises(RuntimeError), session_scope(factory) as scoped:
        ParticipantRepository(scoped).get_or_create(SUBJECT_B)
        raise RuntimeError("abort")

    subjects = set(session.scalars(select(Participant.subject_hash)))
    assert subjects == {SUBJECT_A}


def test_deleting_a_participant_deletes_their_profiles(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    ProfileRepository(session).draft_for(participant)
    session.commit()
    # A bulk delete bypasses the ORM cascade: only the database's ON DELETE CASCADE acts.
    session.execute(delete(Participant).where(Participant.id == participant.id))
    session.commit()
    assert _count(session, Profile) == 0


def test_foreign_key_is_enforced(session: Session) -> None:
    session.add(Profile(participant_id="0" * 32, status=ProfileStatus.IN_PROGRESS))
    with pytest.raises(IntegrityError):
        session.flush()


# profiles: drafts ------------------------------------------------------------------------------


def test_draft_for_reuses_the_in_progress_profile(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    session.commit()

    assert draft.status is ProfileStatus.IN_PROGRESS
    assert len(draft.id) >= 16
    assert profiles.draft_for(participant).id == draft.id
    session.commit()  # on SQLite every transaction holds the write lock until it ends
    with _fresh_session(session) as fresh:
        same = ParticipantRepository(fresh).get_or_create(SUBJECT_A)
        assert ProfileRepository(fresh).draft_for(same).id == draft.id
    assert profiles.get(draft.id) is draft
    assert profiles.get("no-such-profile") is None


def test_draft_for_after_submit_starts_a_new_profile(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    first = profiles.draft_for(participant)
    profiles.submit(first)
    second = profiles.draft_for(participant)
    assert second.id != first.id
    assert second.status is ProfileStatus.IN_PROGRESS


def test_draft_for_seeds_the_chat_language(session: Session) -> None:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create(SUBJECT_A)
    participants.set_chat_language(participant, "uk", ChatLanguageSource.TELEGRAM_CLIENT)
    draft = ProfileRepository(session).draft_for(participant)
    assert draft.answers == {"languages": {"chat": "uk", "chat_language_source": "telegram_client"}}
    assert draft.chat_language == "uk"


def test_database_allows_only_one_draft_per_participant(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    ProfileRepository(session).draft_for(participant)
    session.add(Profile(participant=participant, status=ProfileStatus.IN_PROGRESS))
    with pytest.raises(IntegrityError):
        session.flush()


def test_draft_for_survives_a_concurrent_draft(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    existing = profiles.draft_for(participant)
    session.commit()

    real_find = profiles._find_draft
    calls: list[Participant] = []

    def miss_once(who: Participant) -> Profile | None:
        calls.append(who)
        return None if len(calls) == 1 else real_find(who)

    monkeypatch.setattr(profiles, "_find_draft", miss_once)
    assert profiles.draft_for(participant).id == existing.id
    session.commit()
    assert _count(session, Profile) == 1
    assert [profile.id for profile in participant.profiles] == [existing.id]


# profiles: answers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "pointer", "value", "expected"),
    [
        ({}, "/return_plan/country", "GE", {"return_plan": {"country": "GE"}}),
        (
            {"languages": {"chat": "ar"}},
            "/languages/interview",
            "ar",
            {"languages": {"chat": "ar", "interview": "ar"}},
        ),
        (
            {},
            "/aspirations/description",
            {"text": "ein Café", "language": "de"},
            {"aspirations": {"description": {"text": "ein Café", "language": "de"}}},
        ),
        ({}, "/education/isced_level", None, {"education": {"isced_level": None}}),
        (
            {"return_plan": "not an object"},
            "/return_plan/timeframe",
            "undecided",
            {"return_plan": {"timeframe": "undecided"}},
        ),
        ({}, "/work_experience", [], {"work_experience": []}),
        (
            {"work_experience": []},
            "/work_experience/-",
            {"sector": "F"},
            {"work_experience": [{"sector": "F"}]},
        ),
        (
            {"work_experience": [{"sector": "F"}]},
            "/work_experience/0/years",
            2,
            {"work_experience": [{"sector": "F", "years": 2}]},
        ),
        (
            {"work_experience": [{"sector": "F"}]},
            "/work_experience/1/sector",
            "C",
            {"work_experience": [{"sector": "F"}, {"sector": "C"}]},
        ),
        (
            {},
            "/flags/-",
            {"field": "/a", "kind": "skipped"},
            {"flags": [{"field": "/a", "kind": "skipped"}]},
        ),
        ({}, "/work_experience/0/sector", "A", {"work_experience": [{"sector": "A"}]}),
        ({}, "/person/a~1b~0c", "x", {"person": {"a/b~c": "x"}}),
    ],
)
def test_set_answer_paths(
    session: Session, start: dict[str, Any], pointer: str, value: Any, expected: dict[str, Any]
) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    draft.set_answers(start)
    profiles.set_answer(draft, pointer, value)
    assert draft.answers == expected


@pytest.mark.parametrize(
    "pointer",
    [
        "",
        "/",
        "return_plan/country",
        "/unknown/field",
        "/work_experience/3",
        "/work_experience/x",
        "/work_experience/01",
    ],
)
def test_set_answer_rejects_bad_pointers(session: Session, pointer: str) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    draft.set_answers({"work_experience": [{"sector": "A"}]})
    with pytest.raises(ValueError):
        profiles.set_answer(draft, pointer, "x")
    assert draft.answers == {"work_experience": [{"sector": "A"}]}


def test_set_answer_is_persisted_and_does_not_alias_the_value(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    profiles.set_answer(draft, "/languages/interview", "ar")
    session.commit()
    other = ["en"]
    profiles.set_answer(draft, "/languages/other", other)
    other.append("fr")  # changing the caller's list afterwards must not change the profile
    session.commit()

    with _fresh_session(session) as fresh:
        stored = ProfileRepository(fresh).get(draft.id)
        assert stored is not None
        assert stored.answers == {"languages": {"interview": "ar", "other": ["en"]}}


def test_denormalised_columns_follow_answers(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    profiles.set_answer(draft, "/return_plan/country", "GE")
    profiles.set_answer(draft, "/languages", {"chat": "ka", "interview": "ru"})
    profiles.set_answer(draft, "/languages/interpreter_needed", True)
    profiles.set_answer(draft, "/aspirations/goal", "self_employment")
    session.commit()

    with _fresh_session(session) as fresh:
        row = fresh.execute(
            select(
                Profile.return_country,
                Profile.chat_language,
                Profile.interview_language,
                Profile.interpreter_needed,
                Profile.goal,
            ).where(Profile.id == draft.id)
        ).one()
        assert tuple(row) == ("GE", "ka", "ru", True, "self_employment")

    profiles.set_answer(draft, "/return_plan/country", "AM")
    profiles.set_answer(draft, "/languages/interpreter_needed", False)
    profiles.set_answer(draft, "/languages", {})
    profiles.set_answer(draft, "/aspirations/goal", "x" * 40)  # not a code: kept out of the list
    session.commit()
    found = session.scalars(select(Profile.id).where(Profile.return_country == "AM")).all()
    assert found == [draft.id]
    assert draft.chat_language is None
    assert draft.interview_language is None
    assert draft.interpreter_needed is None
    assert draft.goal is None


def test_set_answers_rejects_unknown_sections(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    draft = ProfileRepository(session).draft_for(participant)
    with pytest.raises(ValueError, match="unknown profile sections: telegram_id"):
        draft.set_answers({"telegram_id": 123})


# profiles: submit and list ---------------------------------------------------------------------


def test_submit_sets_status_and_time(session: Session) -> None:
    participant = ParticipantRepository(session).get_or_create(SUBJECT_A)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    before = utcnow()
    profiles.submit(draft)
    session.commit()

    with _fresh_session(session) as fresh:
        stored = ProfileRepository(fresh).get(draft.id)
        assert stored is not None
        assert stored.status is ProfileStatus.SUBMITTED
        assert stored.submitted_at is not None
        assert before - timedelta(seconds=1) <= stored.submitted_at <= utcnow()
    with pytest.raises(ValueError, match="in-progress"):
        profiles.submit(draft)


def test_list_filters_by_status_and_orders_by_submission(session: Session) -> None:
    participants = ParticipantRepository(session)
    profiles = ProfileRepository(session)
    base = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    submitted: list[str] = []
    for number in range(3):
        participant = participants.get_or_create(f"{number:064d}")
        draft = profiles.draft_for(participant)
        profiles.submit(draft, at=base + timedelta(days=number))
        submitted.append(draft.id)
    open_draft = profiles.draft_for(participants.get_or_create(SUBJECT_B))
    session.commit()

    newest_first = list(reversed(submitted))
    assert [p.id for p in profiles.list("submitted")] == newest_first
    assert [p.id for p in profiles.list([ProfileStatus.IN_PROGRESS])] == [open_draft.id]
    assert [p.id for p in profiles.list()] == [*newest_first, open_draft.id]
    assert [p.id for p in profiles.list(limit=1, offset=1)] == newest_first[1:2]
    assert profiles.list(ProfileStatus.CLOSED) == []
    with pytest.raises(ValueError):
        profiles.list("draft")
