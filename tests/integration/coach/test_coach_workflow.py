"""Workflow on the summary page: German summary, status changes with history, assignment, notes,
scheduling without Telegram, voice notes for logged-in coaches only."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.settings import Settings
from storage.coach_models import CoachNote, InterviewAppointment, OutboxMessage, ProfileStatusChange
from storage.models import Profile, ProfileStatus
from storage.voice import write_voice
from tests.support.coach import SyncASGIClient, invented_profile, login, page_csrf


def _post(client: SyncASGIClient, profile_id: str, action: str, **data: str):  # type: ignore[no-untyped-def]
    token = page_csrf(client, f"/profiles/{profile_id}")
    return client.post(f"/profiles/{profile_id}/{action}", data={"csrf_token": token, **data})


def test_summary_shows_german_labels_flags_and_own_words(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    page = client.get(f"/profiles/{profile.id}").text
    prepare = page[page.index('id="prepare-title"') : page.index('id="words-title"')]
    for text in ("ja, Georgisch", "Selbstständigkeit / eigenes Geschäft", "Georgien", "In 3 bis 6 Monaten",
                 "I – Gastgewerbe", "G – Handel; Instandhaltung und Reparatur von Kraftfahrzeugen",
                 "fortgeschritten (3/3)", "Grundkenntnisse (1/3)", "Unklare Antwort: Bildung"):  # fmt: skip
        assert text in prepare, text
    assert "(auf Georgisch)" in page
    assert 'lang="ka"' in page and "მინდა ჩემი პატარა საცხობი" in page
    assert "Sekundarbereich II (ISCED 3)" in page
    assert "Digitale Grundlagen, Buchhaltung und Betriebsführung" in page
    assert "Maschinelle Übersetzung" not in page  # no backend configured


def test_status_transitions_are_enforced_and_recorded(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    refused = _post(client, profile.id, "status", status="closed")
    assert "notice=transition_not_allowed" in refused.headers["location"]
    assert "Dieser Statuswechsel ist nicht erlaubt." in client.get(refused.headers["location"]).text
    assert _post(client, profile.id, "status", status="in_review").status_code == 303
    assert _post(client, profile.id, "status", status="closed").status_code == 303
    assert (
        "notice=transition_not_allowed"
        in _post(client, profile.id, "status", status="in_review").headers["location"]
    )
    session.expire_all()
    assert session.get(Profile, profile.id).status is ProfileStatus.CLOSED
    changes = session.scalars(select(ProfileStatusChange).order_by(ProfileStatusChange.id)).all()
    assert [(c.from_status, c.to_status, c.changed_by) for c in changes] == [
        (ProfileStatus.SUBMITTED, ProfileStatus.IN_REVIEW, "coach.anna"),
        (ProfileStatus.IN_REVIEW, ProfileStatus.CLOSED, "coach.anna"),
    ]
    page = client.get(f"/profiles/{profile.id}").text
    assert "Eingereicht → In Prüfung – <bdi>coach.anna</bdi>" in page


def test_assignment_and_private_notes(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    _post(client, profile.id, "assign", coach="admin.ben")
    assert "unknown_coach" in _post(client, profile.id, "assign", coach="nobody").headers["location"]
    _post(client, profile.id, "notes", text="Fragt nach Kinderbetreuung.")
    _post(client, profile.id, "notes", text="   ")
    session.expire_all()
    assert session.get(Profile, profile.id).assigned_coach == "admin.ben"
    notes = session.scalars(select(CoachNote)).all()
    assert [(n.author, n.text) for n in notes] == [("coach.anna", "Fragt nach Kinderbetreuung.")]
    raw = session.connection().exec_driver_sql("SELECT text FROM coach_notes").scalar_one()
    assert "Kinderbetreuung" not in raw  # encrypted at rest
    page = client.get(f"/profiles/{profile.id}").text
    assert "Fragt nach Kinderbetreuung." in page and "<bdi>coach.anna</bdi>," in page


def test_scheduling_without_telegram_records_the_appointment(
    client: SyncASGIClient, session: Session
) -> None:
    profile = invented_profile(session, status=ProfileStatus.IN_REVIEW)
    login(client, "coach.anna")
    invalid = _post(client, profile.id, "interview", date="2026-12-03", time="10:30")
    assert "interview_invalid" in invalid.headers["location"]
    bad_link = _post(
        client, profile.id, "interview", date="2026-12-03", time="10:30", video_link="javascript:x"
    )
    assert "interview_invalid" in bad_link.headers["location"]
    response = _post(
        client, profile.id, "interview", date="2026-12-03", time="10:30", place="Beratungsstelle, Raum 2"
    )
    page = client.get(response.headers["location"]).text
    assert "Die Nachricht konnte nicht gesendet werden: der Bot läuft ohne Telegram (lokaler Modus)." in page
    assert "Donnerstag, 03.12.2026, 10:30" in page
    session.expire_all()
    appointment = session.scalars(select(InterviewAppointment)).one()
    assert appointment.message_error == "no_telegram"
    assert appointment.starts_at.isoformat() == "2026-12-03T09:30:00+00:00"  # 10:30 in Berlin (CET)
    assert session.get(Profile, profile.id).status is ProfileStatus.INTERVIEW_SCHEDULED
    assert session.scalars(select(OutboxMessage)).all() == []


def test_scheduling_needs_a_profile_in_review(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    login(client, "coach.anna")
    response = _post(client, profile.id, "interview", date="2026-12-03", time="10:30", place="Raum 2")
    assert "interview_not_possible" in response.headers["location"]


def test_voice_notes_only_for_logged_in_coaches(
    client: SyncASGIClient, session: Session, settings: Settings
) -> None:
    profile = invented_profile(
        session,
        extra={
            "voice_notes": [
                {"id": "vn1", "field": "/aspirations/description", "duration_s": 7, "mime_type": "audio/ogg"}
            ]
        },
    )
    folder: Path = settings.voice_dir / profile.id
    write_voice(folder / "vn1.ogg", b"OggS-invented-audio")
    write_voice(folder / "other.ogg", b"OggS-not-listed")
    assert client.get(f"/profiles/{profile.id}/voice/vn1").status_code == 303
    login(client, "coach.anna")
    audio = client.get(f"/profiles/{profile.id}/voice/vn1")
    assert audio.status_code == 200 and audio.content == b"OggS-invented-audio"
    assert audio.headers["content-type"] == "audio/ogg"
    assert client.get(f"/profiles/{profile.id}/voice/other").status_code == 404
    assert client.get(f"/profiles/{profile.id}/voice/..%2F..%2Fintake").status_code == 404
    page = client.get(f"/profiles/{profile.id}").text
    assert f'<audio controls preload="none" src="/coach/profiles/{profile.id}/voice/vn1"' in page
