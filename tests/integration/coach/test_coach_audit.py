"""The audit log: append-only in the database (SQLite and PostgreSQL), written for every login,
logout, view, change, export and deletion, never with content; the admin page that lists it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from bot.coach.services import CoachServices
from bot.coach.telegram import record_answer
from core.settings import Settings
from storage.coach import AuditLogRepository, AuditQuery, ReviewRepository
from storage.coach_models import AuditAction, AuditEntry, DeletionReason, InterviewResponse
from storage.db import alembic_config, make_engine, upgrade
from storage.models import Profile, ProfileStatus
from storage.repository import ParticipantRepository, ProfileRepository
from storage.voice import write_voice
from tests.support.coach import SyncASGIClient, create_account, invented_profile, login, page_csrf


def _entries(session: Session) -> list[tuple[str, str, str | None, str | None]]:
    session.rollback()  # a fresh read: see what the app committed
    rows = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
    return [(e.actor, e.action.value, e.profile_id, e.detail) for e in rows]


# -- append-only in the database ---------------------------------------------------------------


def test_the_database_refuses_update_and_delete(session: Session) -> None:
    AuditLogRepository(session).add("coach.anna", AuditAction.PROFILE_VIEWED, "p" * 16)
    session.commit()
    for statement in (
        "UPDATE audit_log SET actor = 'someone.else'",
        "UPDATE audit_log SET at = at",
        "DELETE FROM audit_log",
        "DELETE FROM audit_log WHERE actor = 'coach.anna'",
    ):
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
    if session.get_bind().dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text("TRUNCATE audit_log"))
        session.rollback()
    assert _entries(session) == [("coach.anna", "profile_viewed", "p" * 16, None)]
    # Adding still works after the refusals.
    AuditLogRepository(session).add("coach.anna", AuditAction.LOGOUT)
    session.commit()
    assert len(_entries(session)) == 2


def test_the_orm_cannot_change_an_entry_either(session: Session) -> None:
    entry = AuditLogRepository(session).add("coach.anna", AuditAction.LOGIN)
    session.commit()
    entry.actor = "admin.ben"
    with pytest.raises(DBAPIError, match="append-only"):
        session.commit()
    session.rollback()
    session.delete(session.get(AuditEntry, entry.id))
    with pytest.raises(DBAPIError, match="append-only"):
        session.commit()
    session.rollback()
    assert _entries(session) == [("coach.anna", "login", None, None)]


def test_the_repository_only_adds_and_lists() -> None:
    public = {name for name in dir(AuditLogRepository) if not name.startswith("_")}
    assert public == {"add", "add_for_profiles", "count", "list", "actors"}


def _triggers(session: Session) -> set[str]:
    if session.get_bind().dialect.name == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'audit_log'"
    else:
        query = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'audit_log'::regclass AND NOT tgisinternal"
    return set(session.execute(text(query)).scalars())


def test_the_migration_downgrades_and_upgrades_again(db_url: str, session: Session) -> None:
    assert _triggers(session)
    session.close()
    command.downgrade(alembic_config(db_url), "0003_reminders")
    engine = make_engine(db_url)
    try:
        tables = set(inspect(engine).get_table_names())
        assert "audit_log" not in tables and "profile_tombstones" not in tables
        if engine.dialect.name == "postgresql":
            with engine.connect() as connection:
                functions = connection.execute(
                    text("SELECT count(*) FROM pg_proc WHERE proname = 'audit_log_append_only'")
                ).scalar()
            assert functions == 0
    finally:
        engine.dispose()
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO audit_log (at, actor, action) VALUES (:at, 'system', 'login')"),
                {"at": datetime.now(UTC).replace(tzinfo=None)},
            )
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text("DELETE FROM audit_log"))
    finally:
        engine.dispose()


# -- what the coach pages write ----------------------------------------------------------------


def _post(client: SyncASGIClient, profile_id: str, action: str, **data: str) -> None:
    token = page_csrf(client, f"/profiles/{profile_id}")
    response = client.post(f"/profiles/{profile_id}/{action}", data={"csrf_token": token, **data})
    assert response.status_code == 303, response.text[:300]


def test_every_coach_action_is_audited_without_content(
    client: SyncASGIClient, session: Session, settings: Settings
) -> None:
    secret_note = "Hat Angst vor der Rückkehr"
    profile = invented_profile(
        session,
        extra={
            "notes_for_coach": {"text": "Geheimer Freitext", "language": "de"},
            "voice_notes": [
                {"id": "vn1", "field": "/notes_for_coach", "duration_s": 3, "mime_type": "audio/ogg"}
            ],
        },
    )
    other = invented_profile(session, country="TR", chat="tr", interview="tr")
    write_voice(settings.voice_dir / profile.id / "vn1.ogg", b"OggS-invented")
    pid = profile.id

    assert login(client, "nobody.here").status_code == 401
    assert login(client, "coach.anna", "wrong-password-x").status_code == 401
    assert login(client, "coach.anna").status_code == 303
    client.get(f"/profiles/{pid}")
    client.get(f"/profiles/{pid}/voice/vn1")
    client.get(f"/profiles/{pid}/print")
    client.get(f"/profiles/{pid}/export.json")
    _post(client, pid, "status", status="in_review")
    _post(client, pid, "assign", coach="admin.ben")
    _post(client, pid, "notes", text=secret_note)
    _post(client, pid, "interview", date="2026-12-03", time="10:30", place="Beratungsstelle Raum 2")
    client.get("/export.csv")
    client.get("/export.json", params={"country": "TR"})
    client.post("/logout", data={"csrf_token": page_csrf(client)})

    got = [entry for entry in _entries(session) if entry[1] != "profile_viewed" or entry[2] == pid]
    # Each _post above first opens the profile page for its CSRF token: those are views too.
    views = [e for e in got if e[1] == "profile_viewed"]
    assert len(views) == 5
    assert [e for e in got if e[1] != "profile_viewed"] == [
        ("(unknown)", "login_failed", None, "unknown_user"),
        ("coach.anna", "login_failed", None, "wrong_password"),
        ("coach.anna", "login", None, None),
        ("coach.anna", "voice_note_played", pid, None),
        ("coach.anna", "printed", pid, None),
        ("coach.anna", "exported_json", pid, None),
        ("coach.anna", "status_changed", pid, "in_review"),
        ("coach.anna", "coach_assigned", pid, "admin.ben"),
        ("coach.anna", "note_added", pid, None),
        ("coach.anna", "interview_scheduled", pid, None),
        ("coach.anna", "exported_csv", other.id, None),
        ("coach.anna", "exported_csv", pid, None),
        ("coach.anna", "exported_json_list", other.id, None),
        ("coach.anna", "logout", None, None),
    ]
    session.rollback()
    raw = session.connection().exec_driver_sql("SELECT * FROM audit_log").all()
    dumped = repr(raw)
    for private in (secret_note, "Geheimer", "Nino", "Beratungsstelle", "wrong-password", "nobody.here"):
        assert private not in dumped
    assert all(isinstance(row.at, datetime) and row.at.tzinfo is UTC for row in _models(session))


def _models(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry)))


def test_a_refused_or_missing_export_is_not_audited(client: SyncASGIClient, session: Session) -> None:
    profile = invented_profile(session)
    answers = dict(profile.answers)
    answers["return_plan"] = {"country": "Georgia!", "timeframe": "soon"}
    profile.set_answers(answers)
    session.commit()
    login(client, "coach.anna")
    assert client.get(f"/profiles/{profile.id}/export.json").status_code == 422
    assert client.get("/export.json").json() == []
    assert [e[1] for e in _entries(session)] == ["login"]


def test_deletions_are_audited_as_participant_or_system(session: Session) -> None:
    mine = invented_profile(session)
    kept = invented_profile(session, country="TR", chat="tr")
    assert mine.participant is not None
    ParticipantRepository(session).delete(mine.participant, reason=DeletionReason.PARTICIPANT_REQUEST)
    ProfileRepository(session).erase(kept, reason=DeletionReason.RETENTION)
    session.commit()
    assert _entries(session) == [
        ("participant", "profile_deleted", mine.id, "participant_request"),
        ("participant", "participant_deleted", None, "participant_request"),
        ("system", "profile_deleted", kept.id, "retention"),
    ]


def test_the_returnees_answer_is_audited(settings: Settings, session: Session) -> None:
    profile = invented_profile(session, status=ProfileStatus.IN_REVIEW, chat_id="700800900")
    appointment = ReviewRepository(session).schedule_interview(
        profile, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "coach.anna", place="Raum 2"
    )
    session.commit()
    services = CoachServices(settings, None)
    try:
        record_answer(services, appointment.id, InterviewResponse.ACCEPTED, 111)  # not their chat
        record_answer(services, appointment.id, InterviewResponse.ANOTHER_TIME, 700800900)
    finally:
        services.engine.dispose()
    assert _entries(session) == [("participant", "interview_answered", profile.id, "another_time")]


# -- the admin page ----------------------------------------------------------------------------


@pytest.fixture
def filled_log(session: Session) -> Iterator[list[AuditEntry]]:
    """120 invented entries, one a minute, from three accounts."""
    repository = AuditLogRepository(session)
    start = datetime(2026, 11, 20, 8, 0, tzinfo=UTC)
    entries = []
    actions = [AuditAction.PROFILE_VIEWED, AuditAction.EXPORTED_CSV, AuditAction.STATUS_CHANGED]
    for minute in range(120):
        entries.append(
            repository.add(
                ["coach.anna", "coach.cleo", "admin.ben"][minute % 3],
                actions[minute % 3],
                f"profile{minute:08d}",
                "in_review" if actions[minute % 3] is AuditAction.STATUS_CHANGED else None,
                at=start + timedelta(minutes=minute),
            )
        )
    session.commit()
    yield entries


def _rows(html: str) -> list[str]:
    body = html[html.index('<table class="audit">') :]
    return [part.split("</a>")[0] for part in body.split("/profiles/")[1:]]


def test_admin_page_lists_newest_first_with_pages_and_filters(
    client: SyncASGIClient, session: Session, filled_log: list[AuditEntry]
) -> None:
    login(client, "admin.ben")
    first = client.get("/admin/audit")
    assert first.status_code == 200
    assert "Protokoll" in first.text and "Zeit (UTC)" in first.text
    rows = _rows(first.text)  # the admin's own login is the newest entry: it names no profile
    assert len(rows) == 49
    assert "Angemeldet" in first.text[first.text.index("<tbody>") :][:600]
    assert rows[0].startswith("profile00000119") and rows[-1].startswith("profile00000071")
    assert "20.11.2026 09:59:00" in first.text  # UTC, not Berlin time
    assert "Seite 1 von 3" in first.text and 'rel="next"' in first.text
    last = client.get("/admin/audit", params={"page": 3})
    assert len(_rows(last.text)) == 21 and _rows(last.text)[-1].startswith("profile00000000")
    assert "Seite 3 von 3" in last.text and 'rel="next"' not in last.text

    by_user = client.get("/admin/audit", params={"user": "coach.cleo"}).text
    assert set(r[:15] for r in _rows(by_user)) == {f"profile{m:08d}" for m in range(1, 120, 3)}
    assert "Einträge: 40," in by_user
    by_action = client.get("/admin/audit", params={"action": "status_changed"}).text
    assert "Einträge: 40," in by_action and "In Prüfung" in by_action and "Status geändert" in by_action
    both = client.get("/admin/audit", params={"user": "admin.ben", "action": "status_changed"}).text
    assert "Einträge: 40," in both
    nothing = client.get("/admin/audit", params={"user": "coach.anna", "action": "status_changed"}).text
    assert "Keine Einträge passen zu diesen Filtern." in nothing
    by_profile = client.get("/admin/audit", params={"profile": "profile00000007"}).text
    assert "Einträge: 1," in by_profile
    assert client.get("/admin/audit", params={"action": "no-such", "page": "x"}).status_code == 200


def test_coaches_cannot_read_the_audit_log(
    client: SyncASGIClient, session: Session, filled_log: list[AuditEntry]
) -> None:
    login(client, "coach.anna")
    response = client.get("/admin/audit")
    assert response.status_code == 403
    assert "profile0000" not in response.text
    assert 'href="/coach/admin/audit"' not in client.get("/").text  # not in a coach's navigation
    login(client, "admin.ben")
    assert 'href="/coach/admin/audit"' in client.get("/").text


def test_account_names_in_the_log_are_escaped(client: SyncASGIClient, session: Session) -> None:
    create_account(session, '<img src=x onerror="alert(1)">')
    login(client, '<img src=x onerror="alert(1)">')
    login(client, "admin.ben")
    page = client.get("/admin/audit").text
    assert "<img" not in page
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in page


def test_count_and_list_agree_with_the_filters(session: Session, filled_log: list[AuditEntry]) -> None:
    repository = AuditLogRepository(session)
    query = AuditQuery(actor="coach.anna", action=AuditAction.PROFILE_VIEWED, page=2, page_size=15)
    assert repository.count(query) == 40
    listed = repository.list(query)
    assert [e.profile_id for e in listed][:2] == ["profile00000072", "profile00000069"]
    assert repository.actors() == ["admin.ben", "coach.anna", "coach.cleo"]
    session.rollback()
    assert session.scalar(select(func.count()).select_from(AuditEntry)) == 120
    assert session.scalar(select(func.count()).select_from(Profile)) == 0
