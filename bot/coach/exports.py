"""Exports of the coach review: JSON in the fixed schema (validated), CSV for German Excel."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from jsonschema import ValidationError
from sqlalchemy.orm import Session

from bot.coach import labels as L
from bot.coach.i18n import _c
from storage.coach import ProfileFilter, filtered_profiles
from storage.export import IncompleteProfileError, profile_to_export, validate_export
from storage.models import Profile

__all__ = [
    "IncompleteProfileError",
    "ValidationError",
    "profile_json",
    "profiles_csv",
    "profiles_for_export",
    "profiles_json",
]

# Spreadsheet programs run a cell that starts with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n")


def profile_document(profile: Profile) -> dict[str, Any]:
    """The profile in the export format; raises if it breaks the schema (never hand out a bad file)."""
    document = profile_to_export(profile)
    validate_export(document)
    return document


def profile_json(profile: Profile) -> str:
    return json.dumps(profile_document(profile), ensure_ascii=False, indent=2)


def profiles_for_export(session: Session, query: ProfileFilter) -> Sequence[Profile]:
    return filtered_profiles(session, query)


def profiles_json(profiles: Iterable[Profile]) -> tuple[str, int, list[str]]:
    """A JSON array of export documents, each validated; incomplete or invalid ones are left out.

    Returns the JSON, how many were left out and the ids of those exported (for the audit log).
    """
    documents, skipped, exported = [], 0, []
    for profile in profiles:
        try:
            documents.append(profile_document(profile))
        except (IncompleteProfileError, ValidationError):
            skipped += 1
        else:
            exported.append(profile.id)
    return json.dumps(documents, ensure_ascii=False, indent=2), skipped, exported


def neutralise(value: str) -> str:
    """Prefix an apostrophe to a cell a spreadsheet would otherwise evaluate."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def profiles_csv(profiles: Iterable[Profile], format_when: Callable[[datetime | None, str], str]) -> bytes:
    """Semicolon-separated, CRLF, UTF-8 with BOM: what German Excel opens correctly by double-click."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(
        [
            _c("Profile ID"),
            _c("Status"),
            _c("Submitted"),
            _c("Return country (code)"),
            _c("Return country"),
            _c("Chat language"),
            _c("Interview language"),
            _c("Interpreter needed"),
            _c("Goal"),
            _c("Target sectors"),
            _c("Assigned coach"),
        ]
    )
    for profile in profiles:
        sectors = (profile.answers.get("aspirations") or {}).get("sectors") or []
        row = [
            profile.id,
            L.label(L.STATUS, profile.status.value),
            format_when(profile.submitted_at, "dd.MM.yyyy HH:mm") if profile.submitted_at else "",
            profile.return_country or "",
            L.country_name(profile.return_country) if profile.return_country else "",
            L.language_name(profile.chat_language) if profile.chat_language else "",
            L.language_name(profile.interview_language) if profile.interview_language else "",
            ""
            if profile.interpreter_needed is None
            else (_c("yes") if profile.interpreter_needed else _c("no")),
            L.label(L.GOAL, profile.goal) if profile.goal else "",
            ", ".join(f"{s} {L.label(L.NACE, s)}" for s in sectors if isinstance(s, str)),
            profile.assigned_coach or "",
        ]
        writer.writerow([neutralise(str(cell)) for cell in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
