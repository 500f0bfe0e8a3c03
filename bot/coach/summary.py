"""The pre-interview summary of one profile, as plain data for the templates (German labels)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.coach import labels as L
from bot.coach.i18n import _c
from bot.coach.translation import CachedTranslator, MachineTranslation
from core.languages import RTL_LANGUAGES
from storage.models import Profile

VOICE_NOTE_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass
class FreeText:
    label: str
    text: str
    language: str  # BCP 47 code, for lang=""
    language_label: str  # "auf Georgisch"
    rtl: bool
    translation: MachineTranslation | None = None
    voice_note_id: str | None = None


@dataclass
class Flag:
    field: str
    kind: str
    kind_label: str
    note: str | None


@dataclass
class Summary:
    profile_id: str
    prepare: list[tuple[str, str]]
    skills: list[tuple[str, int | None, str]]
    facts: list[tuple[str, list[tuple[str, str]]]]
    sectors: list[str]
    work: list[dict[str, str]]
    free_texts: list[FreeText]
    availability: dict[str, dict[str, bool]]
    voice_notes: list[dict[str, Any]]
    flags: list[Flag]
    flag_kinds: set[str] = field(default_factory=set)


def _section(answers: dict[str, Any], name: str) -> dict[str, Any]:
    value = answers.get(name)
    return value if isinstance(value, dict) else {}


def _yes_no(value: Any) -> str:
    if value is None:
        return "–"
    return _c("yes") if value else _c("no")


def _free_text(label_text: str, value: Any, translator: CachedTranslator) -> FreeText | None:
    if not isinstance(value, dict) or not isinstance(value.get("text"), str) or not value["text"].strip():
        return None
    language = str(value.get("language") or "und")
    stored = value.get("translation_de")
    translation: MachineTranslation | None = None
    if isinstance(stored, dict) and stored.get("text") and stored.get("engine"):
        translation = MachineTranslation(text=str(stored["text"]), engine=str(stored["engine"]))
    else:
        translation = translator.to_german(value["text"], language)
    voice = value.get("voice_note_id")
    return FreeText(
        label=label_text,
        text=value["text"],
        language=language,
        language_label=_c("in {language}").format(language=L.language_name(language)),
        rtl=language.split("-")[0] in RTL_LANGUAGES,
        translation=translation,
        voice_note_id=str(voice) if isinstance(voice, str) and VOICE_NOTE_ID.match(voice) else None,
    )


def build_summary(profile: Profile, translator: CachedTranslator) -> Summary:
    answers = profile.answers or {}
    person = _section(answers, "person")
    languages = _section(answers, "languages")
    plan = _section(answers, "return_plan")
    education = _section(answers, "education")
    aspirations = _section(answers, "aspirations")
    skills_answer = _section(answers, "digital_skills")
    contact = _section(answers, "contact")

    interpreter = languages.get("interpreter_needed")
    interview_language = languages.get("interview")
    if interpreter:
        interpreter_language = languages.get("interpreter_language") or interview_language
        interpreter_text = _c("yes, {language}").format(language=L.language_name(interpreter_language))
    else:
        interpreter_text = _yes_no(interpreter)
    sectors = [s for s in aspirations.get("sectors") or [] if isinstance(s, str)]
    prepare = [
        (_c("Interpreter needed"), interpreter_text),
        (_c("Interview language"), L.language_name(interview_language)),
        (_c("German level"), L.label(L.GERMAN_LEVEL, languages.get("german_level"))),
        (_c("Goal"), L.label(L.GOAL, aspirations.get("goal"))),
        (_c("Return country"), L.country_name(plan.get("country"))),
        (_c("Timeframe"), L.label(L.TIMEFRAME, plan.get("timeframe"))),
    ]
    skills = []
    for key, text in L.DIGITAL_SKILL.items():
        level = skills_answer.get(key)
        level = level if isinstance(level, int) and 0 <= level <= 3 else None
        skills.append((_c(text), level, L.label(L.SKILL_LEVEL, level) if level is not None else "–"))

    other_languages = ", ".join(
        L.language_name(c) for c in languages.get("other") or [] if isinstance(c, str)
    )
    chat_language = languages.get("chat") or (
        profile.participant.chat_language if profile.participant else None
    )
    source = languages.get("chat_language_source")
    isced = education.get("isced_level")
    facts = [
        (
            _c("Person"),
            [
                (_c("Name (as given)"), str(person.get("display_name") or "–")),
                (_c("Age group"), L.label(L.AGE_GROUP, person.get("age_group"))),
            ],
        ),
        (
            _c("Languages"),
            [
                (
                    _c("Chat language"),
                    L.language_name(chat_language)
                    + (f" ({L.label(L.LANGUAGE_SOURCE, source)})" if source else ""),
                ),
                (_c("Interview language"), L.language_name(interview_language)),
                (_c("Interpreter needed"), interpreter_text),
                (_c("German level"), L.label(L.GERMAN_LEVEL, languages.get("german_level"))),
                (_c("Other languages"), other_languages or "–"),
            ],
        ),
        (
            _c("Return plan"),
            [
                (_c("Return country"), L.country_name(plan.get("country"))),
                (_c("Timeframe"), L.label(L.TIMEFRAME, plan.get("timeframe"))),
            ],
        ),
        (
            _c("Education"),
            [
                (
                    _c("Highest completed education"),
                    L.label(L.ISCED, isced) if isced is not None else _c("Preferred not to say"),
                ),
            ],
        ),
        (
            _c("Aspirations"),
            [
                (_c("Goal"), L.label(L.GOAL, aspirations.get("goal"))),
                (
                    _c("Qualification interests"),
                    ", ".join(
                        L.label(L.QUALIFICATION, q) for q in answers.get("qualification_interests") or []
                    )
                    or "–",
                ),
                (_c("Preferred contact"), L.label(L.CHANNEL, contact.get("preferred_channel"))),
            ],
        ),
    ]
    work = []
    for item in answers.get("work_experience") or []:
        if not isinstance(item, dict):
            continue
        role: dict[str, Any] = item["role"] if isinstance(item.get("role"), dict) else {}
        years = item.get("years")
        work.append(
            {
                "sector": f"{item.get('sector', '–')} – {L.label(L.NACE, item.get('sector'))}",
                "role": str(role.get("text") or "–"),
                "role_language": str(role.get("language") or ""),
                "years": f"{years:g}" if isinstance(years, int | float) else "–",
                "where": L.label(L.WORK_WHERE, item.get("where")) if item.get("where") else "–",
            }
        )
    translator_texts = [
        ("/return_plan/region", plan.get("region")),
        ("/education/field", education.get("field")),
        ("/education/certificates", education.get("certificates")),
        ("/aspirations/description", aspirations.get("description")),
        ("/aspirations/business_idea", aspirations.get("business_idea")),
        ("/notes_for_coach", answers.get("notes_for_coach")),
    ]
    free_texts = [
        found
        for pointer, value in translator_texts
        if (found := _free_text(L.field_label(pointer), value, translator)) is not None
    ]
    for index, item in enumerate(answers.get("work_experience") or []):
        if isinstance(item, dict):
            role_text = _free_text(
                _c("Work experience {number}: role").format(number=index + 1), item.get("role"), translator
            )
            if role_text is not None:
                free_texts.append(role_text)
    chosen = {slot for slot in contact.get("availability") or [] if isinstance(slot, str)}
    availability = {day: {part: f"{day}_{part}" in chosen for part in L.DAY_PARTS} for day in L.WEEKDAYS}
    voice_notes = []
    for note in answers.get("voice_notes") or []:
        if isinstance(note, dict) and isinstance(note.get("id"), str) and VOICE_NOTE_ID.match(note["id"]):
            duration = note.get("duration_s")
            voice_notes.append(
                {
                    "id": note["id"],
                    "field": L.field_label(str(note.get("field", ""))),
                    "duration": f"{duration:.0f}" if isinstance(duration, int | float) else "?",
                    "mime_type": str(note.get("mime_type") or "audio/ogg"),
                }
            )
    flags = [
        Flag(
            field=L.field_label(str(flag.get("field", ""))),
            kind=str(flag.get("kind")),
            kind_label=L.label(L.FLAG_KIND, flag.get("kind")),
            note=str(flag["note"]) if flag.get("note") else None,
        )
        for flag in answers.get("flags") or []
        if isinstance(flag, dict)
    ]
    return Summary(
        profile_id=profile.id,
        prepare=prepare,
        skills=skills,
        facts=facts,
        sectors=[f"{s} – {L.label(L.NACE, s)}" for s in sectors],
        work=work,
        free_texts=free_texts,
        availability=availability,
        voice_notes=voice_notes,
        flags=flags,
        flag_kinds={f.kind for f in flags},
    )
