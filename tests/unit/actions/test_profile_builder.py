"""Slot values to the profile's answers: every combination stays valid against the export schema."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from actions.profile import answers_from_slots
from actions.questions import BY_SLOT, FORM_SLOTS, SKIPPED
from storage.export import validate_export

COMPLETE = {
    "display_name": "Ana",
    "age_group": "35-44",
    "return_country": "AL",
    "return_region": "Tirana",
    "return_timeframe": "lt_3_months",
    "interview_language": "de",
    "german_level": "B1",
    "other_languages": ["sq", "it"],
    "education_level": "3",
    "education_field": "Schneiderei",
    "certificates": SKIPPED,
    "work_sector": "C",
    "work_role": "Näherin",
    "work_years": "8",
    "work_where": "germany",
    "work_more": "no",
    "work_experience": [{"sector": "C", "role": {"text": "Näherin", "language": "de"}, "years": 8.0,
                         "where": "germany"}],
    "goal": "employment",
    "target_sectors": ["C"],
    "aspiration_description": "In einer Fabrik arbeiten",
    "qualification_interests": ["office_software"],
    "skill_smartphone": "2",
    "skill_computer": "1",
    "availability": ["tue_afternoon"],
    "preferred_channel": "phone",
    "notes_for_coach": "Ich habe zwei Kinder",
}  # fmt: skip


def export_of(answers: dict[str, Any]) -> dict[str, Any]:
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).isoformat()
    return {
        "schema_version": 1, "profile_id": "invented-profile-1", "status": "submitted",
        "created_at": now, "updated_at": now, "submitted_at": now,
        "consent": {"version": "test", "given_at": now, "language": "de"},
        **answers,
    }  # fmt: skip


def test_complete_intake_gives_a_valid_export() -> None:
    answers = answers_from_slots(COMPLETE, "de", "chosen")
    validate_export(export_of(answers))
    assert answers["languages"] == {
        "chat": "de", "chat_language_source": "chosen", "interview": "de",
        "interpreter_needed": False, "german_level": "B1", "other": ["sq", "it"],
    }  # fmt: skip
    assert answers["education"] == {"isced_level": 3, "field": {"text": "Schneiderei", "language": "de"}}
    assert answers["work_experience"] == COMPLETE["work_experience"]
    assert answers["flags"] == [{"field": "/education/certificates", "kind": "skipped"}]


def test_interpreter_for_own_language() -> None:
    answers = answers_from_slots({**COMPLETE, "interview_language": "own"}, "ka")
    assert answers["languages"]["interview"] == "ka"
    assert answers["languages"]["interpreter_needed"] is True
    assert answers["languages"]["interpreter_language"] == "ka"


def test_skipped_education_is_null_and_flagged() -> None:
    answers = answers_from_slots({**COMPLETE, "education_level": SKIPPED, "age_group": SKIPPED}, "de")
    assert answers["education"]["isced_level"] is None
    assert answers["person"]["age_group"] == "not_said"
    validate_export(export_of(answers))


def test_voice_answer_becomes_a_voice_note() -> None:
    voice = {"voice_note_id": "v1", "text": "", "duration": 4.0, "mime_type": "audio/ogg"}
    answers = answers_from_slots({**COMPLETE, "aspiration_description": voice}, "ar")
    assert answers["aspirations"]["description"] == {"text": "", "language": "ar", "voice_note_id": "v1"}
    assert answers["voice_notes"] == [
        {"id": "v1", "field": "/aspirations/description", "duration_s": 4.0, "mime_type": "audio/ogg"}
    ]
    validate_export(export_of(answers))


def test_sensitive_words_are_flagged_for_the_coach() -> None:
    answers = answers_from_slots({**COMPLETE, "notes_for_coach": "Ich bin krank und war im Gefängnis"}, "de")
    assert {
        "field": "/notes_for_coach",
        "kind": "sensitive",
        "note": "possible sensitive disclosure",
    } in answers["flags"]


def test_no_work_experience() -> None:
    slots = {**COMPLETE, "work_sector": "none", "work_experience": None, "work_role": SKIPPED,
             "work_years": SKIPPED, "work_where": SKIPPED, "work_more": SKIPPED}  # fmt: skip
    answers = answers_from_slots(slots, "de")
    assert answers["work_experience"] == []


def _value_for(slot: str) -> st.SearchStrategy[Any]:
    question = BY_SLOT[slot]
    codes = [o.code for o in question.options + question.extra_options]
    if question.kind == "text":
        return st.one_of(st.just(SKIPPED), st.text(min_size=1, max_size=5000))
    if question.kind == "country":
        return st.sampled_from(["GE", "AM", "AL", "XK"])
    if question.kind == "multi":
        return st.one_of(
            st.just(SKIPPED), st.lists(st.sampled_from(codes), unique=True, max_size=3, min_size=1)
        )
    if not codes:
        return st.just(None)
    return (
        st.one_of(st.just(SKIPPED), st.sampled_from(codes)) if question.optional else st.sampled_from(codes)
    )


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({s: _value_for(s) for s in FORM_SLOTS if s not in ("summary_confirmed",)}),
       st.sampled_from(["de", "ar", "ka", "sr"]))  # fmt: skip
def test_any_answers_give_a_valid_export(slots: dict[str, Any], lang: str) -> None:
    if slots["work_sector"] in (SKIPPED, "none"):
        slots.update(work_role=SKIPPED, work_years=SKIPPED, work_where=SKIPPED, work_more=SKIPPED)
    answers = answers_from_slots(slots, lang)
    answers.setdefault("education", {"isced_level": None})
    answers.setdefault("aspirations", {"goal": "undecided", "sectors": []})
    validate_export(export_of(answers))


@pytest.mark.parametrize("slot", [s for s in FORM_SLOTS if BY_SLOT[s].kind == "text" and s != "display_name"])
def test_every_free_text_keeps_the_persons_words(slot: str) -> None:
    answers = answers_from_slots({"work_sector": "C", slot: "<script>alert(1)</script>"}, "fa")
    flat = str(answers)
    assert "<script>alert(1)</script>" in flat
