"""Tests for storage.export: the schema_version 1 export of a stored profile, and its validation."""

from __future__ import annotations

import copy
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema
import pytest
from sqlalchemy.orm import Session

from storage.db import make_session_factory
from storage.export import (
    IncompleteProfileError,
    missing_required,
    profile_to_export,
    validate_export,
)
from storage.models import ANSWER_SECTIONS, Profile
from storage.repository import ParticipantRepository, ProfileRepository

# An invented person: every section of the format filled in.
FULL_ANSWERS: dict[str, Any] = {
    "person": {"display_name": "Nino", "age_group": "25-34"},
    "languages": {
        "chat": "ka",
        "chat_language_source": "chosen",
        "interview": "ka",
        "interpreter_needed": True,
        "interpreter_language": "ka",
        "german_level": "A2",
        "other": ["ru", "en"],
    },
    "return_plan": {
        "country": "GE",
        "region": {
            "text": "ქუთაისი",
            "language": "ka",
            "translation_de": {"text": "Kutaissi", "engine": "test-fixture"},
        },
        "timeframe": "3_6_months",
    },
    "education": {
        "isced_level": 4,
        "field": {"text": "Konditorei", "language": "de"},
        "certificates": {"text": "სერტიფიკატი", "language": "ka"},
    },
    "work_experience": [
        {
            "sector": "I",
            "role": {"text": "pastry cook", "language": "en"},
            "years": 3.5,
            "where": "home_country",
        },
        {"sector": "G", "years": 1, "where": "germany"},
    ],
    "aspirations": {
        "goal": "self_employment",
        "sectors": ["I", "G"],
        "description": {"text": "A small bakery", "language": "en"},
        "business_idea": {"text": "საცხობი", "language": "ka", "voice_note_id": "vn-1"},
    },
    "qualification_interests": ["digital_basics", "accounting_business", "online_marketing_selling"],
    "digital_skills": {
        "smartphone": 3,
        "computer": 1,
        "internet_email": 2,
        "office_software": 0,
        "social_media_business": 1,
    },
    "contact": {"preferred_channel": "video", "availability": ["mon_morning", "thu_afternoon"]},
    "notes_for_coach": {"text": "Prefers mornings.", "language": "en"},
    "voice_notes": [
        {"id": "vn-1", "field": "/aspirations/business_idea", "duration_s": 42.5, "mime_type": "audio/ogg"}
    ],
    "flags": [{"field": "/education/certificates", "kind": "unclear", "note": "name of certificate"}],
}

CONSENT_AT = datetime(2026, 11, 3, 9, 15, tzinfo=UTC)


def _profile(session: Session, answers: dict[str, Any], *, consent: bool = True) -> Profile:
    participants = ParticipantRepository(session)
    participant = participants.get_or_create("c" * 64)
    if consent:
        participants.record_consent(participant, "2026-11-v1", "ka", at=CONSENT_AT)
    profiles = ProfileRepository(session)
    draft = profiles.draft_for(participant)
    draft.set_answers(answers)
    session.commit()
    return draft


def _reloaded(session: Session, profile_id: str) -> tuple[Session, Profile]:
    fresh = make_session_factory(session.get_bind())()  # type: ignore[arg-type]
    stored = ProfileRepository(fresh).get(profile_id)
    assert stored is not None
    return fresh, stored


@pytest.fixture
def full_export(session: Session) -> dict[str, Any]:
    profile = _profile(session, FULL_ANSWERS)
    ProfileRepository(session).submit(profile)
    session.commit()
    fresh, stored = _reloaded(session, profile.id)
    with fresh:
        return profile_to_export(stored)


def test_full_profile_exports_and_validates(full_export: dict[str, Any]) -> None:
    validate_export(full_export)
    assert full_export["schema_version"] == 1
    assert full_export["status"] == "submitted"
    assert full_export["consent"] == {
        "version": "2026-11-v1",
        "given_at": "2026-11-03T09:15:00+00:00",
        "language": "ka",
    }
    for field in ("created_at", "updated_at", "submitted_at"):
        assert datetime.fromisoformat(full_export[field]).utcoffset() is not None
    assert set(full_export) == {
        "schema_version",
        "profile_id",
        "status",
        "created_at",
        "updated_at",
        "submitted_at",
        "consent",
        *ANSWER_SECTIONS,
    }


@pytest.mark.parametrize("section", ANSWER_SECTIONS)
def test_every_section_is_exported_unchanged(full_export: dict[str, Any], section: str) -> None:
    assert full_export[section] == FULL_ANSWERS[section]


def test_minimal_profile_exports_with_defaults_only_where_allowed(session: Session) -> None:
    minimal = {
        "languages": {"interview": "de", "interpreter_needed": False},
        "return_plan": {"country": "XK", "timeframe": "undecided"},
        "education": {"isced_level": None},
        "aspirations": {"goal": "undecided"},
    }
    participants = ParticipantRepository(session)
    participant = participants.get_or_create("c" * 64)
    participants.set_chat_language(participant, "sq", "detected")
    profile = _profile(session, minimal)

    exported = profile_to_export(profile)
    validate_export(exported)
    assert exported["status"] == "in_progress"
    assert exported["submitted_at"] is None
    assert exported["aspirations"] == {"goal": "undecided", "sectors": []}
    # The chat language comes from the participant when the draft lacks it.
    assert exported["languages"]["chat"] == "sq"
    assert exported["languages"]["chat_language_source"] == "detected"
    for optional in ("person", "work_experience", "flags", "voice_notes"):
        assert optional not in exported
    assert profile.answers == minimal  # exporting does not change the stored answers


def test_draft_without_country_cannot_be_exported(session: Session) -> None:
    answers = copy.deepcopy(FULL_ANSWERS)
    del answers["return_plan"]["country"]
    profile = _profile(session, answers)
    with pytest.raises(IncompleteProfileError) as caught:
        profile_to_export(profile)
    assert caught.value.missing == ["/return_plan/country"]
    assert "/return_plan/country" in str(caught.value)
    assert profile.id in str(caught.value)


REQUIRED_POINTERS = [
    "/languages/chat",
    "/languages/interview",
    "/languages/interpreter_needed",
    "/return_plan/country",
    "/return_plan/timeframe",
    "/education/isced_level",
    "/aspirations/goal",
]


@pytest.mark.parametrize("pointer", REQUIRED_POINTERS)
def test_each_missing_required_field_is_reported(session: Session, pointer: str) -> None:
    section, field = pointer[1:].split("/")
    answers = copy.deepcopy(FULL_ANSWERS)
    del answers[section][field]
    profile = _profile(session, answers)
    assert missing_required(profile) == [pointer]
    with pytest.raises(IncompleteProfileError) as caught:
        profile_to_export(profile)
    assert caught.value.missing == [pointer]


def test_empty_draft_without_consent_lists_everything(session: Session) -> None:
    profile = _profile(session, {}, consent=False)
    with pytest.raises(IncompleteProfileError) as caught:
        profile_to_export(profile)
    assert caught.value.missing == ["/consent/version", "/consent/given_at", *REQUIRED_POINTERS]


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = document
        for key in parents:
            target = target[key] if not isinstance(target, list) else target[int(key)]
        target[last] = value

    return change


def _delete(path: str) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split("/")
        target = document
        for key in parents:
            target = target[key]
        del target[last]

    return change


@pytest.mark.parametrize(
    "break_it",
    [
        _set("schema_version", 2),
        _set("status", "draft"),
        _set("profile_id", "short"),
        _set("created_at", "2026-11-03T09:15:00"),  # no time zone
        _set("updated_at", "3 November 2026"),
        _set("consent/given_at", "2026-11-03"),
        _delete("consent"),
        _set("telegram_user_id", 123456789),
        _set("return_plan/country", "ge"),
        _set("languages/chat", "Georgian"),
        _set("languages/other", ["ru", "ru"]),
        _set("aspirations/sectors", ["A", "B", "C", "D"]),
        _set("aspirations/goal", "rich"),
        _set("education/isced_level", 9),
        _set("digital_skills/computer", 4),
        _set("contact/availability", ["monday_morning"]),
        _set("work_experience/0/sector", "Z"),
        _set("notes_for_coach", {"text": "no language"}),
        _set("flags/0/kind", "urgent"),
        _set("voice_notes/0/duration_s", -1),
    ],
)
def test_hand_broken_export_fails_validation(
    full_export: dict[str, Any], break_it: Callable[[dict[str, Any]], None]
) -> None:
    broken = copy.deepcopy(full_export)
    break_it(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate_export(broken)
