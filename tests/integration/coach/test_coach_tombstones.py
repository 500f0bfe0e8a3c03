"""After /delete (or a retention deletion) coaches see only "withdrawn, deleted on <date>": the
tombstone keeps no content, the coach data of the profile is gone, the programme figures keep
counting, exports leave it out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from actions import privacy
from core.settings import Settings
from storage.coach import ProfileFilter, ReviewRepository, count_profiles, list_profiles, programme_overview
from storage.coach_models import (
    AuditEntry,
    CoachNote,
    DeletionReason,
    InterviewAppointment,
    OutboxMessage,
    ProfileStatusChange,
    ProfileTombstone,
)
from storage.db import session_scope
from storage.models import Participant, Profile, ProfileStatus
from storage.repository import ParticipantRepository, ProfileRepository
from storage.voice import write_voice
from tests.support.coach import SyncASGIClient, invented_profile, login, shown

PRIVATE = ("Nino", "საცხობი", "Georgien", "Georgisch", "GE", "Kinderbetreuung", "Raum 2", "test-GE-")


def _reviewed(session: Session) -> Profile:
    """A profile coaches worked on: history, a note, an appointment with its queued invitation."""
    profile = invented_profile(session, submitted_days_ago=40, coach="coach.anna")
    review = ReviewRepository(session)
    review.change_status(profile, ProfileStatus.IN_REVIEW, "coach.anna")
    review.add_note(profile.id, "coach.anna", "Fragt nach Kinderbetreuung.")
    review.schedule_interview(
        profile, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "coach.anna", place="Beratungsstelle, Raum 2"
    )
    review.change_status(profile, ProfileStatus.CLOSED, "coach.anna")
    session.commit()
    return profile


def _count(session: Session, model: type[Any], profile_id: str) -> int:
    column = model.profile_id
    return int(session.scalar(select(func.count()).where(column == profile_id)) or 0)


def test_deleting_a_participant_leaves_only_a_tombstone(session: Session) -> None:
    profile = _reviewed(session)
    participant = profile.participant
    draft = ProfileRepository(session).draft_for(participant)  # a second, unsubmitted intake
    session.commit()
    pid, draft_id, submitted_at = profile.id, draft.id, profile.submitted_at
    assert _count(session, OutboxMessage, pid) == 1

    ParticipantRepository(session).delete(participant, reason=DeletionReason.PARTICIPANT_REQUEST)
    session.commit()

    session.expire_all()
    assert session.get(Participant, participant.id) is None
    assert session.get(Profile, pid) is None and session.get(Profile, draft_id) is None
    for model in (CoachNote, ProfileStatusChange, InterviewAppointment, OutboxMessage):
        assert _count(session, model, pid) == 0, model.__name__
    [tombstone] = session.scalars(select(ProfileTombstone)).all()  # none for the draft
    assert tombstone.profile_id == pid
    assert tombstone.status_before is ProfileStatus.CLOSED
    assert submitted_at is not None
    assert tombstone.submitted_month == datetime(submitted_at.year, submitted_at.month, 1, tzinfo=UTC)
    assert tombstone.reason is DeletionReason.PARTICIPANT_REQUEST
    assert abs(tombstone.deleted_at - datetime.now(UTC)) < timedelta(minutes=1)
    assert tombstone.counts_as_participant and tombstone.interview_scheduled and tombstone.interviewed
    # Nothing personal in any column of the tombstone table.
    raw = repr(session.connection().exec_driver_sql("SELECT * FROM profile_tombstones").all())
    for private in (*PRIVATE, participant.subject_hash, participant.id):
        assert not shown(private, raw)


def test_a_draft_only_participant_leaves_no_tombstone(session: Session) -> None:
    draft = invented_profile(session, status=ProfileStatus.IN_PROGRESS)
    draft_id = draft.id
    ParticipantRepository(session).delete(draft.participant)
    session.commit()
    assert session.scalar(select(func.count()).select_from(ProfileTombstone)) == 0
    entries = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    assert [(e.action.value, e.profile_id) for e in entries] == [
        ("profile_deleted", draft_id),
        ("participant_deleted", None),
    ]


def test_retention_erases_one_profile_and_keeps_the_participant(session: Session) -> None:
    first = invented_profile(session, submitted_days_ago=400)
    participant = first.participant
    second = Profile(
        status=ProfileStatus.SUBMITTED, answers=dict(first.answers), submitted_at=datetime.now(UTC)
    )
    second.participant = participant
    session.add(second)
    session.commit()
    before = programme_overview(session)

    ProfileRepository(session).erase(first, reason=DeletionReason.RETENTION)
    session.commit()
    assert session.get(Participant, participant.id) is not None
    assert session.get(Profile, second.id) is not None
    tombstone = session.get(ProfileTombstone, first.id)
    assert tombstone is not None and tombstone.reason is DeletionReason.RETENTION
    assert not tombstone.counts_as_participant  # the person is still counted through `second`
    assert programme_overview(session).participants == before.participants == 1

    ProfileRepository(session).erase(second, reason="retention")
    session.commit()
    last = session.get(ProfileTombstone, second.id)
    assert last is not None and last.counts_as_participant
    assert programme_overview(session).participants == 1


def test_the_overview_keeps_counting_deleted_profiles(session: Session) -> None:
    profile = _reviewed(session)
    invented_profile(session, country="TR", chat="tr", interview="tr", status=ProfileStatus.WITHDRAWN)
    invented_profile(session, country="IQ", chat="ar", status=ProfileStatus.IN_PROGRESS)
    before = programme_overview(session)

    ParticipantRepository(session).delete(profile.participant)
    session.commit()
    after = programme_overview(session)

    assert after.participants == before.participants == 2
    assert after.funnel == before.funnel
    assert after.by_month == before.by_month
    assert before.by_status["closed"] == 1 and after.by_status["closed"] == 0
    assert after.by_status["withdrawn"] == before.by_status["withdrawn"] + 1 == 2
    assert sum(after.by_status.values()) == sum(before.by_status.values())
    assert after.deleted == 1
    # A tombstone keeps neither country nor language: those charts lose the profile.
    assert before.by_country == {"GE": 1, "TR": 1} and after.by_country == {"TR": 1}


def test_coaches_see_only_withdrawn_deleted_on(client: SyncASGIClient, session: Session) -> None:
    profile = _reviewed(session)
    kept = invented_profile(session, country="TR", chat="tr", interview="tr")
    pid = profile.id
    ParticipantRepository(session).delete(profile.participant)
    session.commit()
    today = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y")
    login(client, "coach.anna")

    listing = client.get("/").text
    row = listing[listing.index(f'href="/coach/profiles/{pid}"') :]
    row = row[: row.index("</tr>")].replace(pid, "").replace(pid[:8], "")
    assert f"Zurückgezogen, gelöscht am {today}" in row
    for private in (*PRIVATE, "coach.anna", "ja", "nein", "Selbstständigkeit"):
        assert not shown(private, row), private
    assert kept.id in listing

    for path in (f"/profiles/{pid}", f"/profiles/{pid}/print", f"/profiles/{pid}/export.json",
                 f"/profiles/{pid}/voice/vn1"):  # fmt: skip
        page = client.get(path)
        assert page.status_code == 410, path
        assert f"Zurückgezogen, gelöscht am {today}" in page.text
        for private in PRIVATE:
            assert not shown(private, page.text.replace(pid, "")), (path, private)
    token = listing.split('name="csrf_token" value="')[1].split('"')[0]
    for action in ("status", "assign", "notes", "interview"):
        response = client.post(f"/profiles/{pid}/{action}", data={"csrf_token": token, "status": "closed"})
        assert response.status_code == 410
    session.rollback()
    assert session.scalar(select(func.count()).select_from(ProfileStatusChange)) == 0


def test_tombstones_in_filters_search_and_sorting(client: SyncASGIClient, session: Session) -> None:
    gone = invented_profile(session, submitted_days_ago=5)
    pid = gone.id
    ParticipantRepository(session).delete(gone.participant)
    live = invented_profile(session, country="TR", chat="tr", interview="tr", submitted_days_ago=1)
    session.commit()

    def listed(**query: Any) -> list[str]:
        return [row.id for row in list_profiles(session, ProfileFilter(**query))]

    assert listed() == [live.id, pid]
    assert count_profiles(session, ProfileFilter()) == 2
    assert listed(statuses=["withdrawn"]) == [pid]
    assert listed(statuses=["submitted"]) == [live.id]
    assert listed(country="TR") == [live.id] and listed(country="GE") == []
    assert listed(coach="-") == [live.id]
    assert listed(terms=[{"status": {"withdrawn"}}]) == [pid]
    assert listed(terms=[{"id": {pid}}]) == [pid]
    assert listed(terms=[{"country": {"TR"}}]) == [live.id]
    assert listed(sort="submitted", descending=False) == [pid, live.id]
    assert listed(sort="country", descending=False)[-1] == pid  # no country: last
    login(client, "coach.anna")
    assert pid in client.get("/", params={"q": "zurückgezogen"}).text
    assert pid in client.get("/", params={"status": "withdrawn"}).text
    assert pid not in client.get("/", params={"country": "TR"}).text


def test_exports_leave_tombstones_out(client: SyncASGIClient, session: Session) -> None:
    gone = invented_profile(session)
    live = invented_profile(session, country="TR", chat="tr", interview="tr")
    ParticipantRepository(session).delete(gone.participant)
    session.commit()
    login(client, "coach.anna")
    documents = client.get("/export.json").json()
    assert [d["profile_id"] for d in documents] == [live.id]
    csv = client.get("/export.csv").content.decode("utf-8-sig")
    assert live.id in csv and gone.id not in csv
    assert client.get("/export.json", params={"status": "withdrawn"}).json() == []


@contextmanager
def _action_database(session: Session) -> Iterator[None]:
    """Point the action server's unit of work at the test database."""
    factory = _factory(session)

    @contextmanager
    def unit_of_work() -> Iterator[Session]:
        with session_scope(factory) as unit:
            yield unit

    original = privacy.unit_of_work
    privacy.unit_of_work = unit_of_work  # type: ignore[assignment]
    try:
        yield
    finally:
        privacy.unit_of_work = original  # type: ignore[assignment]


def _factory(session: Session) -> Any:
    from storage.db import make_session_factory

    return make_session_factory(session.get_bind())  # type: ignore[arg-type]


def test_the_chat_delete_action_leaves_a_tombstone(
    session: Session, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    profile = _reviewed(session)
    pid = profile.id
    voice = settings.voice_dir / pid
    write_voice(voice / "vn1.ogg", b"OggS-invented")
    monkeypatch.setattr(privacy, "get_settings", lambda: settings)
    tracker = Tracker.from_dict(
        {"sender_id": profile.participant.subject_hash, "slots": {"chat_language": "ka"}, "events": []}
    )
    dispatcher = CollectingDispatcher()
    session.rollback()
    with _action_database(session):
        events = asyncio.run(privacy.ActionDeleteMyData().run(dispatcher, tracker, {}))
    assert events and dispatcher.messages[0]["custom"]["erase_conversation"] is True
    session.expire_all()
    assert session.get(Profile, pid) is None and not voice.exists()
    tombstone = session.get(ProfileTombstone, pid)
    assert tombstone is not None and tombstone.reason is DeletionReason.PARTICIPANT_REQUEST
