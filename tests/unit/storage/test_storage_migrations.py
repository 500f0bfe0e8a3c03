"""Tests for the Alembic migrations and storage.db (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.__main__ import main as storage_cli
from storage.db import (
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    resolve_url,
    upgrade,
)
from storage.models import Base

TABLES = {"participants", "profiles", "telegram_updates", "pending_turns", "intake_starts"}
# Added by 0002_coach_review (storage/coach_models.py).
COACH_TABLES = {
    "coach_users",
    "coach_sessions",
    "coach_login_failures",
    "profile_status_changes",
    "coach_notes",
    "interview_appointments",
    "coach_outbox",
}
# Added by 0004_audit_log (storage/coach_models.py).
AUDIT_TABLES = {"audit_log", "profile_tombstones"}
HEAD = "0008_intake_starts"


def test_upgrade_creates_the_tables_on_an_empty_database(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == set()
        assert current_revision(db_url) is None

        upgrade(db_url)

        expected = TABLES | COACH_TABLES | AUDIT_TABLES | {"alembic_version"}
        assert set(inspect(engine).get_table_names()) == expected
        assert current_revision(db_url) == head_revision() == HEAD
        upgrade(db_url)  # a second run changes nothing
        assert current_revision(db_url) == HEAD
    finally:
        engine.dispose()


def test_models_and_migration_agree(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
    finally:
        engine.dispose()


def test_migration_names_constraints_as_the_models_do(db_url: str) -> None:
    upgrade(db_url)
    engine = make_engine(db_url)
    try:
        inspector = inspect(engine)
        assert inspector.get_pk_constraint("profiles")["name"] in ("pk_profiles", None)
        foreign_keys = inspector.get_foreign_keys("profiles")
        assert [fk["name"] for fk in foreign_keys] == ["fk_profiles_participant_id_participants"]
        assert foreign_keys[0]["options"].get("ondelete") == "CASCADE"
        checks = {check["name"] for check in inspector.get_check_constraints("profiles")}
        assert checks == {"ck_profiles_profile_status"}
        indexes = {index["name"]: index for index in inspector.get_indexes("participants")}
        assert indexes["ix_participants_subject_hash"]["unique"]
    finally:
        engine.dispose()


def test_downgrade_removes_the_tables(db_url: str) -> None:
    upgrade(db_url)
    command.downgrade(alembic_config(db_url), "base")
    engine = make_engine(db_url)
    try:
        assert set(inspect(engine).get_table_names()) == {"alembic_version"}
        assert current_revision(db_url) is None
    finally:
        engine.dispose()


def test_cli_upgrade_and_current(db_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert storage_cli(["current", "--url", db_url]) == 0
    assert "not migrated" in capsys.readouterr().out

    assert storage_cli(["upgrade", "--url", db_url]) == 0
    output = capsys.readouterr().out
    assert output.count("\n") == 1
    assert HEAD in output

    assert storage_cli(["current", "--url", db_url]) == 0
    assert capsys.readouterr().out.strip().endswith(f"{HEAD} (head)")


def test_cli_reports_an_unreachable_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'missing-dir' / 'is-a-file'}"
    (tmp_path / "missing-dir").write_text("not a directory")
    with pytest.raises(FileExistsError):
        storage_cli(["current", "--url", url])
    url = "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1"
    assert storage_cli(["current", "--url", url]) == 1
    assert "cannot reach the database" in capsys.readouterr().err


def test_sqlite_engine_enables_foreign_keys_and_wal(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'intake.db'}")
    try:
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert (tmp_path / "sub" / "intake.db").exists()
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u:pw@db:5432/intake", "postgresql+psycopg://u:pw@db:5432/intake"),
        ("postgres://u@db/intake", "postgresql+psycopg://u@db/intake"),
        ("postgresql+psycopg://u@db/intake", "postgresql+psycopg://u@db/intake"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_resolve_url_pins_psycopg(given: str, expected: str) -> None:
    assert resolve_url(given) == expected
    if expected.startswith("postgresql"):
        engine = make_engine(given)
        assert engine.dialect.driver == "psycopg"
        engine.dispose()
