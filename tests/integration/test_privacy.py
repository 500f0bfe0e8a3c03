"""Privacy through the real processes: a raw dump of both databases shows no answer in clear, and
after /delete a scan of every table, the tracker store and the file store finds no trace of the
person; coaches keep only a tombstone without content."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from actions.privacy import MSG_DELETED
from actions.questions import SKIPPED
from core.i18n import translate
from storage.coach import ReviewRepository, tombstone
from storage.crypto import default_cipher
from storage.fieldcipher import TRACKER_EVENT_CONTEXT, DecryptionError
from storage.hashing import subject_hash
from storage.models import ANSWERS_CONTEXT, Participant, Profile, ProfileStatus
from tests.support.intake_driver import IntakeDriver, Multi, Tap, Type, Voice
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

_user_ids = itertools.count(6300001)

# Invented and unique in the whole test run, so that any trace of this person can be found.
NAME = "Quillon Vexmarkova"
REGION = "Vexmarkdorf"
PLAN = "I want to open a Vexmark bakery"
NOTE = "Vexmark prefers calls after noon"
COACH_NOTE = "Vexmark seemed well prepared"
VOICE = b"OggS-Vexmark-voice-answer"
TRACES = (NAME, REGION, PLAN, NOTE, COACH_NOTE, "Vexmark")


def answers() -> dict[str, list]:
    return {
        "display_name": [Type(NAME)],
        "age_group": [Tap("35-44")],
        "return_country": [Tap("GE")],
        "return_region": [Type(REGION)],
        "return_timeframe": [Tap("3_6_months")],
        "interview_language": [Tap("de")],
        "german_level": [Tap("B1")],
        "goal": [Tap("self_employment")],
        "target_sectors": [Multi(("I",))],
        "aspiration_description": [Voice("vexmark-voice", VOICE)],
        "business_idea": [Type(PLAN)],
        "notes_for_coach": [Type(NOTE)],
        "certificates": [Tap(SKIPPED)],
    }


def _decrypted(value: str) -> str:
    """A stored value with every encrypted part opened: a trace must not hide behind the cipher."""
    if not value.startswith("enc1:"):
        return value
    for context in (b"", ANSWERS_CONTEXT.encode(), TRACKER_EVENT_CONTEXT):
        try:
            return default_cipher().decrypt(value, context)
        except DecryptionError:
            continue
    raise AssertionError(f"a value no configured key opens: {value[:20]}...")


def intake_rows(stack: Stack) -> Iterator[tuple[str, str]]:
    path = stack.settings.data_dir / "intake.db"
    with sqlite3.connect(path) as connection:
        tables = [r[0] for r in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                yield table, " | ".join(_decrypted(str(v)) for v in row if v is not None)


def tracker_rows(stack: Stack) -> Iterator[str]:
    with sqlite3.connect(stack.settings.data_dir / "rasa-tracker.db") as connection:
        for sender_id, data in connection.execute("SELECT sender_id, data FROM events"):
            yield f"{sender_id} | {_decrypted(data)}"


def raw_bytes(*paths: Path) -> bytes:
    return b"".join(p.read_bytes() for path in paths for p in (path, Path(f"{path}-wal")) if p.exists())


def test_answers_are_encrypted_at_rest_and_delete_leaves_no_trace(stack: Stack) -> None:
    user_id = next(_user_ids)
    hashed = subject_hash(user_id, stack.settings.hash_key())
    driver = IntakeDriver(stack.standin, user_id, "en")
    driver.start_and_consent()
    driver.complete(answers())
    with stack.session() as session:
        participant = session.scalars(select(Participant).where(Participant.subject_hash == hashed)).one()
        [profile] = session.scalars(select(Profile).where(Profile.participant_id == participant.id)).all()
        assert profile.status is ProfileStatus.SUBMITTED
        assert profile.answers["person"]["display_name"] == NAME  # the app reads it back
        ReviewRepository(session).add_note(profile.id, "coach.anna", COACH_NOTE)
        session.commit()
        profile_id = profile.id
    voice_files = list((stack.settings.data_dir / "voice" / profile_id).glob("*"))
    assert voice_files, "the voice answer was filed under its profile"
    assert all(VOICE not in f.read_bytes() for f in voice_files), "voice stored in clear"

    # A raw dump of both databases: nothing of the person in clear.
    dump = raw_bytes(stack.settings.data_dir / "intake.db", stack.settings.data_dir / "rasa-tracker.db")
    assert profile_id.encode() in dump  # the dump is real
    for trace in TRACES:
        assert trace.encode() not in dump, f"{trace!r} is stored in clear"
    assert str(user_id).encode() not in dump

    driver.send("/delete", question=True)
    replies = driver.tap("/confirm_delete")
    assert replies[-1]["text"] == translate("en", MSG_DELETED)

    # Every table, decrypted: no hashed id, no Telegram id, no answer.
    for table, row in intake_rows(stack):
        for trace in (*TRACES, hashed, str(user_id)):
            assert trace not in row, f"{trace!r} left in table {table}"
    for row in tracker_rows(stack):
        for trace in (*TRACES, hashed):
            assert trace not in row, f"{trace!r} left in the tracker store"
    # The file store: no voice file of the person, nowhere.
    for path in (stack.settings.data_dir / "voice").rglob("*"):
        assert profile_id not in str(path)
        assert not path.is_file() or VOICE not in path.read_bytes()
    # The coaches keep only "withdrawn, deleted on ...".
    with stack.session() as session:
        stone = tombstone(session, profile_id)
        assert stone is not None
        assert stone.deleted_at is not None
