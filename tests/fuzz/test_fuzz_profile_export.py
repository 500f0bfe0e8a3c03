"""Slot values -> profile answers -> export: a schema-valid document or a clear refusal, never a crash."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given

from tests.fuzz import strategies as S
from tests.fuzz.targets import Check, ci_settings

COMPLETE = {
    "return_country": "GE",
    "return_timeframe": "undecided",
    "interview_language": "own",
    "education_level": "4",
    "goal": "employment",
}


def hostile(**slots: Any) -> dict[str, Any]:
    return {"hostile": True, "slots": {**COMPLETE, **slots}, "lang": "ka", "source": None, "consented": True}


@pytest.fixture(scope="module")
def check(open_target: Any) -> Check:
    return open_target("profile_export")


@ci_settings(150)
@given(S.profile_case())
# regressions: each of these crashed answers_from_slots (values an old tracker or a bug might hold)
@example(hostile(education_level=[1]))
@example(hostile(skill_computer={"level": 2}))
@example(hostile(work_sector="C", work_years={"a": 1}))
@example(hostile(target_sectors=[{"C": 1}]))
@example(hostile(work_experience=["C"]))
@example(hostile(notes_for_coach={"voice_note_id": "v1", "text": "", "duration": "long"}))
@example({"hostile": False, "slots": COMPLETE, "lang": "ar", "source": "chosen", "consented": True})
def test_profile_export_is_valid_or_refused(check: Check, case: dict[str, Any]) -> None:
    check(case)
