"""Builds the profile's answers (intake-profile.schema.json sections) from the intake's slot values."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from actions.questions import BY_SLOT, SKIPPED

# Slot -> JSON pointer of the answer in the profile.
POINTERS: dict[str, str] = {
    "display_name": "/person/display_name",
    "age_group": "/person/age_group",
    "return_country": "/return_plan/country",
    "return_region": "/return_plan/region",
    "return_timeframe": "/return_plan/timeframe",
    "interview_language": "/languages/interview",
    "german_level": "/languages/german_level",
    "other_languages": "/languages/other",
    "education_level": "/education/isced_level",
    "education_field": "/education/field",
    "certificates": "/education/certificates",
    "work_sector": "/work_experience",
    "goal": "/aspirations/goal",
    "target_sectors": "/aspirations/sectors",
    "aspiration_description": "/aspirations/description",
    "business_idea": "/aspirations/business_idea",
    "qualification_interests": "/qualification_interests",
    "skill_smartphone": "/digital_skills/smartphone",
    "skill_computer": "/digital_skills/computer",
    "skill_internet_email": "/digital_skills/internet_email",
    "skill_office_software": "/digital_skills/office_software",
    "skill_social_media_business": "/digital_skills/social_media_business",
    "availability": "/contact/availability",
    "preferred_channel": "/contact/preferred_channel",
    "notes_for_coach": "/notes_for_coach",
}

# Words that may point to a sensitive disclosure (health, persecution, violence, legal trouble) in
# free text; a coach should read such answers with care. Lower case, any supported language.
_SENSITIVE = re.compile(
    r"\b(ill|illness|sick|disease|hiv|cancer|trauma|depress\w*|pregnan\w*|violence|prison|jail|police|"
    r"persecut\w*|threat\w*|krank\w*|schwanger\w*|gewalt|gefängnis|polizei|verfolg\w*|bedroh\w*|"
    r"malad\w*|enceinte|prison|болезн\w*|болен|тюрьм\w*|полици\w*|угроз\w*|насили\w*|"
    r"hasta\w*|hapis\w*|polis|şiddet|tehdit\w*|مريض\w*|سجن|شرطة|عنف|تهديد|بیمار\w*|زندان|پلیس|خشونت)\b",
    re.IGNORECASE,
)


def _is_answered(value: Any) -> bool:
    return value is not None and value != SKIPPED


def free_text(value: Any, language: str) -> dict[str, Any] | None:
    """A free-text answer in the schema's form; a voice answer carries its voice note id."""
    if isinstance(value, Mapping) and value.get("voice_note_id"):
        return {"text": str(value.get("text") or ""), "language": language,
                "voice_note_id": str(value["voice_note_id"])}  # fmt: skip
    if isinstance(value, Mapping) and value.get("text"):  # written in another language than the chat's
        return {"text": str(value["text"])[:4096], "language": str(value.get("language") or language)}
    if isinstance(value, str) and value and value != SKIPPED:
        return {"text": value[:4096], "language": language}
    return None


def _number(value: Any, convert: Callable[[Any], Any]) -> Any:
    """A stored code as a number ("3" -> 3); anything else (never stored by the form, but possible in an
    old tracker) is kept as it is, so that export validation refuses it instead of the form crashing."""
    try:
        return convert(value)
    except (TypeError, ValueError):
        return value


def _set(answers: dict[str, Any], pointer: str, value: Any) -> None:
    section, *rest = pointer.strip("/").split("/")
    if not rest:
        answers[section] = value
        return
    answers.setdefault(section, {})[rest[0]] = value


def work_entry(slots: Mapping[str, Any], language: str) -> dict[str, Any] | None:
    """The work experience being asked about, as a schema entry (None if no sector yet)."""
    sector = slots.get("work_sector")
    if not _is_answered(sector) or sector == "none":
        return None
    entry: dict[str, Any] = {"sector": sector}
    role = free_text(slots.get("work_role"), language)
    if role:
        entry["role"] = role
    years = slots.get("work_years")
    if years is not None and years != SKIPPED:
        entry["years"] = _number(years, float)
    where = slots.get("work_where")
    if _is_answered(where):
        entry["where"] = where
    return entry


def answers_from_slots(
    slots: Mapping[str, Any], chat_language: str, chat_language_source: str | None = None
) -> dict[str, Any]:
    """The profile answers for every slot answered so far, plus flags for skipped questions."""
    lang = chat_language
    answers: dict[str, Any] = {"languages": {"chat": lang}}
    if chat_language_source:
        answers["languages"]["chat_language_source"] = chat_language_source
    flags: list[dict[str, Any]] = []
    voice_notes: list[dict[str, Any]] = []

    for slot, pointer in POINTERS.items():
        value = slots.get(slot)
        if value == SKIPPED:
            flags.append({"field": pointer, "kind": "skipped"})
            if slot == "age_group":
                _set(answers, pointer, "not_said")
            elif slot == "education_level":
                _set(answers, pointer, None)
            continue
        if value is None or slot == "work_sector":
            continue
        question = BY_SLOT[slot]
        if question.kind == "text":
            text = free_text(value, lang)
            if text is None:
                continue
            if slot == "display_name":
                _set(answers, pointer, text["text"][:120])
                continue
            if not text["text"] and not text.get("voice_note_id"):
                continue
            _set(answers, pointer, text)
            if text.get("voice_note_id"):
                duration = _number(value.get("duration") or 0, float)
                voice_notes.append({"id": text["voice_note_id"], "field": pointer, "duration_s": duration,
                                    "mime_type": str(value.get("mime_type") or "audio/ogg")})  # fmt: skip
            if _SENSITIVE.search(text["text"]):
                flags.append({"field": pointer, "kind": "sensitive", "note": "possible sensitive disclosure"})
        elif slot == "education_level" or slot.startswith("skill_"):
            _set(answers, pointer, _number(value, int))
        elif slot == "interview_language":
            if value == "own":
                answers["languages"].update(interview=lang, interpreter_needed=lang not in ("de", "en"))
                if lang not in ("de", "en"):
                    answers["languages"]["interpreter_language"] = lang
            else:
                answers["languages"].update(interview=value, interpreter_needed=False)
        elif question.kind == "multi":
            unique = [v for i, v in enumerate(value) if v not in value[:i]] if isinstance(value, list) else []
            _set(answers, pointer, unique)
        else:
            _set(answers, pointer, value)

    stored = slots.get("work_experience")
    work = [dict(e) if isinstance(e, Mapping) else e for e in stored] if isinstance(stored, list) else []
    current = work_entry(slots, lang)
    if current and slots.get("work_more") is None:
        work.append(current)
    if work or slots.get("work_sector") == "none":
        answers["work_experience"] = work
    if "aspirations" in answers:
        answers["aspirations"].setdefault("sectors", [])
    if voice_notes:
        answers["voice_notes"] = voice_notes
    if flags:
        answers["flags"] = flags
    return answers
