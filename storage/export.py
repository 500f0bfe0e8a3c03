"""A profile in the fixed export format of intake-profile.schema.json, and its validation."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import best_match

from storage.models import ANSWER_SECTIONS, Profile

SCHEMA_PATH = Path(__file__).resolve().parent / "intake-profile.schema.json"
SCHEMA_VERSION = 1

# Required fields inside the required answer sections, as JSON pointers (from the schema).
_REQUIRED_ANSWERS: tuple[str, ...] = (
    "/languages/chat",
    "/languages/interview",
    "/languages/interpreter_needed",
    "/return_plan/country",
    "/return_plan/timeframe",
    "/education/isced_level",
    "/aspirations/goal",
)

# RFC 3339 date-time (what JSON Schema's "date-time" format means): offset or Z is mandatory.
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


class IncompleteProfileError(ValueError):
    """The profile lacks data the export format requires."""

    def __init__(self, profile_id: str, missing: list[str]) -> None:
        self.profile_id = profile_id
        self.missing = missing
        super().__init__(f"profile {profile_id} cannot be exported yet; missing: {', '.join(missing)}")


def isoformat(moment: datetime) -> str:
    """ISO 8601 in UTC with an explicit offset, e.g. ``2026-11-03T09:15:00+00:00``."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("naive datetime cannot be exported")
    return moment.astimezone(UTC).isoformat()


def missing_required(profile: Profile) -> list[str]:
    """JSON pointers of the required export fields this profile does not have yet."""
    return _missing(profile, _answers_with_fallbacks(profile))


def profile_to_export(profile: Profile) -> dict[str, Any]:
    """The profile as a schema_version 1 document; raises IncompleteProfileError if it cannot be."""
    answers = _answers_with_fallbacks(profile)
    missing = _missing(profile, answers)
    if missing:
        raise IncompleteProfileError(profile.id, missing)
    participant = profile.participant
    assert participant.consent_version is not None and participant.consent_given_at is not None
    consent: dict[str, Any] = {
        "version": participant.consent_version,
        "given_at": isoformat(participant.consent_given_at),
    }
    if participant.consent_language:
        consent["language"] = participant.consent_language
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "profile_id": profile.id,
        "status": profile.status.value,
        "created_at": isoformat(profile.created_at),
        "updated_at": isoformat(profile.updated_at),
        "submitted_at": isoformat(profile.submitted_at) if profile.submitted_at else None,
        "consent": consent,
    }
    for section in ANSWER_SECTIONS:
        if section in answers:
            document[section] = answers[section]
    return document


def _answers_with_fallbacks(profile: Profile) -> dict[str, Any]:
    answers = copy.deepcopy(profile.answers)
    participant = profile.participant
    if participant is not None and participant.chat_language:
        # The chat language is known from the conversation even if the draft never stored it.
        languages = answers.setdefault("languages", {})
        if isinstance(languages, dict) and "chat" not in languages:
            languages["chat"] = participant.chat_language
            if participant.chat_language_source is not None:
                languages.setdefault("chat_language_source", participant.chat_language_source.value)
    aspirations = answers.get("aspirations")
    if isinstance(aspirations, dict):
        # No sector chosen is a true empty list, not a guess.
        aspirations.setdefault("sectors", [])
    return answers


def _missing(profile: Profile, answers: dict[str, Any]) -> list[str]:
    missing: list[str] = []
    participant = profile.participant
    if participant is None or participant.consent_version is None:
        missing.append("/consent/version")
    if participant is None or participant.consent_given_at is None:
        missing.append("/consent/given_at")
    for pointer in _REQUIRED_ANSWERS:
        section, field = pointer[1:].split("/")
        container = answers.get(section)
        if not isinstance(container, dict) or field not in container:
            missing.append(pointer)
    return missing


@cache
def _validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=_format_checker())


def _format_checker() -> FormatChecker:
    checker = Draft202012Validator.FORMAT_CHECKER
    if "date-time" in checker.checkers:
        return checker
    # jsonschema only checks date-time with the optional rfc3339-validator installed; do it here.
    checker = FormatChecker(formats=checker.checkers)
    checker.checks("date-time", raises=ValueError)(_is_rfc3339)
    return checker


def _is_rfc3339(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not _RFC3339.match(instance):
        return False
    datetime.fromisoformat(instance.upper().replace("Z", "+00:00"))
    return True


def validate_export(data: dict[str, Any]) -> None:
    """Raise jsonschema.ValidationError (the most relevant one) if ``data`` breaks the schema."""
    error = best_match(_validator().iter_errors(data))
    if error is not None:
        raise error
