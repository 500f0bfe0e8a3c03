"""Encryption at rest: a raw dump holds no name, free text or chat id in clear; old rows are
encrypted by the migration; key rotation re-encrypts everything; production refuses to start
without keys."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.orm import Session

from core.settings import PROJECT_ROOT, get_settings
from storage.__main__ import main as storage_cli
from storage.coach import ReviewRepository
from storage.crypto import default_cipher
from storage.db import alembic_config, make_engine, make_session_factory, upgrade
from storage.fieldcipher import (
    TRACKER_EVENT_CONTEXT,
    DecryptionError,
    FieldCipher,
    decode_key,
    key_id,
    new_key,
)
from storage.models import Profile
from storage.repository import ParticipantRepository, ProfileRepository
from storage.rotation import encrypted_columns
from storage.voice import read_voice, write_voice

SUBJECT = "b" * 64
CHAT_ID = 7_391_046_528_113  # invented
SECRETS = {
    "name": "Zarabanda Quillfeather",
    "region": "Ober-Wolkenheim am Nebelsee",
    "description": "Ich möchte eine Imkerei mit Honigverkauf im Netz eröffnen",
    "business": "Honigmanufaktur Sternenbiene",
    "notes": "Bitte keine Anrufe vor zehn Uhr, Nachbarin übersetzt",
    "coach_note": "Wirkt sehr motiviert, fragt nach Förderung für Bienenkästen",
}


def answers() -> dict[str, object]:
    return {
        "person": {"display_name": SECRETS["name"], "age_group": "25-34"},
        "return_plan": {"country": "GE", "region": SECRETS["region"], "timeframe": "3_6_months"},
        "aspirations": {
            "goal": "self_employment",
            "description": {"text": SECRETS["description"], "language": "de"},
            "business_idea": {"text": SECRETS["business"], "language": "de"},
        },
        "notes_for_coach": {"text": SECRETS["notes"], "language": "de"},
    }


def store_a_person(session: Session) -> Profile:
    participant = ParticipantRepository(session).get_or_create(SUBJECT)
    participant.telegram_chat_id = str(CHAT_ID)
    profiles = ProfileRepository(session)
    profile = profiles.draft_for(participant)
    profile.set_answers(answers())
    profiles.submit(profile)
    session.flush()
    ReviewRepository(session).add_note(profile.id, "coach.anna", SECRETS["coach_note"])
    session.commit()
    return profile


def raw_dump(url: str) -> str:
    """Everything in the database as text, the way a leaked backup would show it."""
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        with sqlite3.connect(path) as connection:
            dump = "\n".join(connection.iterdump())
        files = [Path(path), Path(path + "-wal")]
        raw = b"".join(f.read_bytes() for f in files if f.exists())
        return dump + raw.decode("utf-8", "replace")
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            tables = inspect(connection).get_table_names()
            rows = [
                str(row[0])
                for table in tables
                for row in connection.execute(text(f'SELECT t::text FROM "{table}" t'))
            ]
    finally:
        engine.dispose()
    return "\n".join(rows)


def test_a_raw_dump_contains_no_name_free_text_or_chat_id(session: Session, db_url: str) -> None:
    profile = store_a_person(session)
    dump = raw_dump(db_url)

    assert profile.id in dump  # the dump is real: it holds the row
    for secret in SECRETS.values():
        assert secret not in dump
        assert secret.split()[0] not in dump  # not even a word of it
    assert str(CHAT_ID) not in dump
    assert "GE" in dump  # codes for the coach lists stay readable (return_country)

    session.expire_all()
    same = ProfileRepository(session).get(profile.id)
    assert same is not None and same.answers == answers()  # and the app reads it back


def test_an_answers_value_does_not_decrypt_in_another_column(session: Session) -> None:
    store_a_person(session)
    sealed = session.execute(text("SELECT answers FROM profiles")).scalar_one()
    with pytest.raises(ValueError):
        default_cipher().decrypt(sealed)  # bound to profiles.answers, not to a plain text column


def test_every_personal_column_is_encrypted() -> None:
    encrypted = {f"{table.name}.{column.name}" for table, column, _ in encrypted_columns()}
    assert {
        "participants.telegram_chat_id",
        "profiles.answers",
        "coach_notes.text",
        "interview_appointments.place",
        "interview_appointments.video_link",
    } <= encrypted


def test_the_migration_encrypts_existing_answers_and_downgrade_restores_them(db_url: str) -> None:
    config = alembic_config(db_url)
    command.upgrade(config, "0004_audit_log")
    document = answers()
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO participants (id, subject_hash, created_at, updated_at)"
                    " VALUES ('p1', :s, :t, :t)"
                ),
                {"s": SUBJECT, "t": "2026-11-01 10:00:00+00:00"},
            )
            connection.execute(
                text(
                    "INSERT INTO profiles (id, participant_id, status, answers, created_at, updated_at)"
                    " VALUES ('f1', 'p1', 'submitted', :a, :t, :t)"
                ),
                {"a": json.dumps(document), "t": "2026-11-01 10:00:00+00:00"},
            )

        command.upgrade(config, "0005_encrypted_answers")
        with engine.connect() as connection:
            stored = connection.execute(text("SELECT answers FROM profiles")).scalar_one()
        assert stored.startswith("enc1:") and SECRETS["name"] not in stored
        with make_session_factory(engine)() as session:
            profile = session.get(Profile, "f1")
            assert profile is not None and profile.answers == document

        command.downgrade(config, "0004_audit_log")
        with engine.connect() as connection:
            plain = connection.execute(text("SELECT answers FROM profiles")).scalar_one()
        assert (plain if isinstance(plain, dict) else json.loads(plain)) == document
    finally:
        engine.dispose()


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., FieldCipher]]:
    """Switch this process's ENCRYPTION_KEYS; the cached settings and cipher follow."""

    def use(*keys: str) -> FieldCipher:
        monkeypatch.setenv("ENCRYPTION_KEYS", ",".join(keys))
        get_settings.cache_clear()
        default_cipher.cache_clear()
        return default_cipher()

    yield use
    get_settings.cache_clear()
    default_cipher.cache_clear()


def encrypted_values(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [
                value
                for table, column, _ in encrypted_columns()
                for (value,) in connection.execute(text(f'SELECT "{column.name}" FROM "{table.name}"'))
                if value is not None
            ]
    finally:
        engine.dispose()


def test_rotate_keys_re_encrypts_database_and_tracker_store(
    db_url: str, tmp_path: Path, keys: Callable[..., FieldCipher], capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = new_key(), new_key()
    keys(old)
    upgrade(db_url)
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        profile = store_a_person(session)
    engine.dispose()
    tracker_url = f"sqlite:///{tmp_path / 'tracker.db'}"
    tracker = make_engine(tracker_url)
    event = json.dumps({"event": "user", "text": SECRETS["description"]})
    with tracker.begin() as connection:
        connection.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"))
        connection.execute(
            text("INSERT INTO events (sender_id, data) VALUES ('x', :d)"),
            {"d": FieldCipher([decode_key(old)]).encrypt(event, TRACKER_EVENT_CONTEXT)},
        )
    voice = tmp_path / "voice" / profile.id / "note.ogg"
    write_voice(voice, b"OggS-invented-voice")
    assert b"OggS" not in voice.read_bytes()
    old_values = encrypted_values(db_url)
    assert len(old_values) == 3 and all(f":{key_id(decode_key(old))}:" in v for v in old_values)

    keys(new, old)
    cli = [
        "rotate-keys",
        "--url",
        db_url,
        "--tracker-url",
        tracker_url,
        "--voice-dir",
        str(tmp_path / "voice"),
    ]
    assert storage_cli(cli) == 0
    output = capsys.readouterr().out
    assert "5 of 5 values re-encrypted" in output

    keys(new)  # the old key is gone: everything must still read
    new_id = key_id(decode_key(new))
    assert all(value.startswith(f"enc1:{new_id}:") for value in encrypted_values(db_url))
    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        same = session.get(Profile, profile.id)
        assert same is not None and same.answers == answers()
        assert same.participant.telegram_chat_id == str(CHAT_ID)
    engine.dispose()
    with tracker.connect() as connection:
        sealed = connection.execute(text("SELECT data FROM events")).scalar_one()
    tracker.dispose()
    assert default_cipher().decrypt(sealed, TRACKER_EVENT_CONTEXT) == event
    assert read_voice(voice) == b"OggS-invented-voice"

    assert storage_cli(cli) == 0
    assert "0 of 5 values re-encrypted" in capsys.readouterr().out  # nothing left to do


@pytest.mark.parametrize("module", ["actions", "bot", "core.run"])
def test_production_without_keys_fails_at_start_with_one_line(module: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("ENCRYPTION_KEYS", "ID_HASH_KEY")}
    env.update(
        APP_ENV="production",
        DATA_DIR=str(tmp_path),
        ID_HASH_KEY="configured-hash-key",
        PYTHONPATH=str(PROJECT_ROOT),
    )
    result = subprocess.run(
        [sys.executable, "-m", module], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "ENCRYPTION_KEYS is not set: production needs it (see README, Configuration)."
    ]
    assert not (tmp_path / "encryption.key").exists()  # and no key was made up for it


def test_voice_answers_are_encrypted_in_the_file_store(
    tmp_path: Path, keys: Callable[..., FieldCipher]
) -> None:
    audio = b"OggS\x00\x02invented voice answer" * 50
    path = tmp_path / "voice" / "profile" / "note.ogg"
    keys(new_key())
    write_voice(path, audio)
    stored = path.read_bytes()
    assert audio[:20] not in stored and stored.startswith(b"enc1:")
    assert read_voice(path) == audio
    assert [p.name for p in path.parent.iterdir()] == ["note.ogg"]  # no partial file left behind

    path.write_bytes(stored[:-1] + bytes([stored[-1] ^ 1]))
    with pytest.raises(DecryptionError):
        read_voice(path)  # tampered
    path.write_bytes(stored)
    keys(new_key())
    with pytest.raises(DecryptionError):
        read_voice(path)  # a key that is not configured any more
