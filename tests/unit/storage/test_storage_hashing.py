"""Tests for storage.hashing: pseudonymous subject ids."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.hashing import subject_hash
from storage.models import Participant
from storage.repository import ParticipantRepository

KEY = b"test-key-not-a-secret"
OTHER_KEY = b"another-test-key"
# Telegram user ids are positive and currently up to 52 bits; realistic ones have 9+ digits.
telegram_ids = st.integers(min_value=100_000_000, max_value=2**52)


def test_known_value() -> None:
    expected = hmac.new(KEY, b"123456789", hashlib.sha256).hexdigest()
    assert subject_hash(123456789, KEY) == expected


@given(telegram_ids)
def test_deterministic_hex_of_fixed_length(user_id: int) -> None:
    first = subject_hash(user_id, KEY)
    assert first == subject_hash(user_id, KEY)
    assert len(first) == 64
    assert int(first, 16) >= 0


@given(telegram_ids)
def test_depends_on_key(user_id: int) -> None:
    assert subject_hash(user_id, KEY) != subject_hash(user_id, OTHER_KEY)


@given(telegram_ids, telegram_ids)
def test_distinct_ids_distinct_hashes(first: int, second: int) -> None:
    if first != second:
        assert subject_hash(first, KEY) != subject_hash(second, KEY)


@given(telegram_ids)
def test_never_contains_raw_id(user_id: int) -> None:
    assert str(user_id) not in subject_hash(user_id, KEY)
    assert hex(user_id)[2:] not in subject_hash(user_id, KEY)


@pytest.mark.parametrize("bad", ["123456789", 12.0, True, None])
def test_rejects_non_int(bad: object) -> None:
    with pytest.raises(TypeError):
        subject_hash(bad, KEY)  # type: ignore[arg-type]


def test_rejects_empty_key() -> None:
    with pytest.raises(ValueError, match="empty"):
        subject_hash(123456789, b"")


def test_stored_row_never_holds_raw_id(session: Session) -> None:
    raw_id = 987_654_321_012
    participant = ParticipantRepository(session).get_or_create(subject_hash(raw_id, KEY))
    session.commit()
    row = session.execute(select(Participant.__table__).where(Participant.id == participant.id)).one()
    assert all(str(raw_id) not in str(value) for value in row)
    assert row.subject_hash == subject_hash(raw_id, KEY)
