"""Invented profiles with realistic distributions, for demos, the benchmark and browser tests.

Everyone here is made up: random ids, no names of real people, free texts written for this file.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from storage.coach_models import ProfileStatusChange
from storage.models import Participant, Profile, ProfileStatus, new_profile_id

# Return countries of the programme with rough weights, and the language people chat in.
COUNTRIES: dict[str, tuple[int, str]] = {
    "GE": (14, "ka"), "AM": (6, "hy"), "AL": (8, "sq"), "MK": (6, "mk"), "RS": (6, "sr"),
    "TR": (12, "tr"), "IQ": (10, "ar"), "AF": (8, "fa"), "IR": (5, "fa"), "SY": (6, "ar"),
    "UA": (5, "uk"), "RU": (4, "ru"), "MD": (4, "ro"), "XK": (4, "sq"), "NG": (2, "en"),
}  # fmt: skip
STATUS_WEIGHTS: dict[ProfileStatus, int] = {
    ProfileStatus.SUBMITTED: 30,
    ProfileStatus.IN_REVIEW: 20,
    ProfileStatus.INTERVIEW_SCHEDULED: 15,
    ProfileStatus.CLOSED: 25,
    ProfileStatus.WITHDRAWN: 10,
}
GOALS = {"employment": 45, "self_employment": 30, "further_training": 15, "undecided": 10}
SECTORS = {"C": 10, "F": 12, "G": 14, "H": 8, "I": 12, "J": 6, "A": 8, "Q": 8, "S": 8, "N": 5, "P": 4, "M": 5}
TIMEFRAMES = {"lt_3_months": 25, "3_6_months": 30, "6_12_months": 20, "gt_12_months": 10, "undecided": 15}
AGE_GROUPS = {"18-24": 20, "25-34": 35, "35-44": 25, "45-54": 12, "55+": 5, "not_said": 3}
QUALIFICATIONS = (
    "digital_basics", "office_software", "online_marketing_selling", "programming_it",
    "accounting_business", "driving_licence", "language_course", "vocational_certificate",
    "crafts_technical", "care_health",
)  # fmt: skip
DAYS, PARTS = ("mon", "tue", "wed", "thu", "fri", "sat"), ("morning", "afternoon", "evening")
# Invented plans in the person's own words, one per chat language.
PLANS: dict[str, str] = {
    "ka": "მინდა ჩემი პატარა საცხობი გავხსნა ქუთაისში.",
    "hy": "Ուզում եմ Գյումրիում փոքր արհեստանոց բացել։",
    "sq": "Dua të hap një punishte të vogël për riparime në Durrës.",
    "mk": "Сакам да отворам мала столарска работилница во Битола.",
    "sr": "Желим да радим као електричар у Крагујевцу.",
    "tr": "Mersin'de küçük bir kafe açmak istiyorum.",
    "ar": "أريد أن أفتح محلاً صغيراً لتصليح الهواتف في الموصل.",
    "fa": "می‌خواهم در مشهد یک مغازه کوچک خیاطی باز کنم.",
    "uk": "Хочу працювати бухгалтеркою в Полтаві.",
    "ru": "Хочу открыть небольшую автомастерскую в Казани.",
    "ro": "Vreau să lucrez ca bucătar într-un restaurant din Bălți.",
    "en": "I want to start a small tailoring business in Ibadan.",
}
NOTES: dict[str, str] = {
    "ka": "საღამოობით ვმუშაობ, დილით უკეთესია.",
    "tr": "Akşamları çalışıyorum, sabahları daha iyi.",
    "ar": "أعمل في المساء، الصباح أفضل لي.",
    "ru": "По вечерам я работаю, утром удобнее.",
    "en": "I work in the evenings, mornings are better.",
}


def _pick(rng: random.Random, weights: dict[Any, int]) -> Any:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def invented_answers(rng: random.Random, country: str, chat: str) -> dict[str, Any]:
    """A complete set of answers (valid against the export schema) for an invented person."""
    interview_choice = rng.random()
    if interview_choice < 0.55:
        interview, interpreter = chat, chat != "de"
    elif interview_choice < 0.9:
        interview, interpreter = "de", False
    else:
        interview, interpreter = "en", False
    goal = _pick(rng, GOALS)
    sectors = sorted({_pick(rng, SECTORS) for _ in range(rng.randint(0, 3))})
    answers: dict[str, Any] = {
        "person": {"age_group": _pick(rng, AGE_GROUPS)},
        "languages": {
            "chat": chat,
            "chat_language_source": rng.choice(["chosen", "chosen", "detected", "telegram_client"]),
            "interview": interview,
            "interpreter_needed": interpreter,
            "german_level": rng.choice(["none", "A1", "A1", "A2", "B1", "B2"]),
        },
        "return_plan": {"country": country, "timeframe": _pick(rng, TIMEFRAMES)},
        "education": {"isced_level": rng.choice([None, 1, 2, 2, 3, 3, 3, 4, 5, 6, 6, 7])},
        "aspirations": {"goal": goal, "sectors": sectors},
        "qualification_interests": rng.sample(QUALIFICATIONS, rng.randint(0, 3)),
        "digital_skills": {
            key: rng.choice([0, 1, 1, 2, 2, 3])
            for key in (
                "smartphone",
                "computer",
                "internet_email",
                "office_software",
                "social_media_business",
            )
        },
        "contact": {
            "preferred_channel": rng.choice(["telegram", "telegram", "phone", "in_person", "video"]),
            "availability": sorted(
                {f"{rng.choice(DAYS)}_{rng.choice(PARTS)}" for _ in range(rng.randint(1, 5))}
            ),
        },
        "work_experience": [
            {
                "sector": _pick(rng, SECTORS),
                "years": rng.randint(1, 15),
                "where": rng.choice(["home_country", "germany"]),
            }
            for _ in range(rng.randint(0, 2))
        ],
    }
    if rng.random() < 0.7 and chat in PLANS:
        answers["aspirations"]["description"] = {"text": PLANS[chat], "language": chat}
    if rng.random() < 0.3 and chat in NOTES:
        answers["notes_for_coach"] = {"text": NOTES[chat], "language": chat}
    flags = []
    if rng.random() < 0.15:
        flags.append({"field": "/education/isced_level", "kind": "unclear"})
    if rng.random() < 0.1:
        flags.append({"field": "/person/age_group", "kind": "skipped"})
    if rng.random() < 0.03:
        flags.append({"field": "/aspirations/description", "kind": "sensitive"})
    if rng.random() < 0.05:
        flags.append({"field": "/return_plan/timeframe", "kind": "changed_after_submit"})
    if flags:
        answers["flags"] = flags
    return answers


def _path_to(status: ProfileStatus) -> list[ProfileStatus]:
    if status is ProfileStatus.SUBMITTED:
        return []
    if status is ProfileStatus.IN_REVIEW:
        return [ProfileStatus.IN_REVIEW]
    if status is ProfileStatus.INTERVIEW_SCHEDULED:
        return [ProfileStatus.IN_REVIEW, ProfileStatus.INTERVIEW_SCHEDULED]
    if status is ProfileStatus.CLOSED:
        return [ProfileStatus.IN_REVIEW, ProfileStatus.INTERVIEW_SCHEDULED, ProfileStatus.CLOSED]
    return [ProfileStatus.WITHDRAWN]


def seed_profiles(
    session: Session,
    count: int,
    *,
    seed: int = 4,
    coaches: Sequence[str] = ("coach.a", "coach.b", "coach.c"),
    now: datetime | None = None,
    drafts_ratio: float = 0.08,
    batch: int = 1000,
) -> list[str]:
    """Add ``count`` submitted profiles (plus some consented drafts); commits in batches.

    Returns the ids of the submitted profiles.
    """
    rng = random.Random(seed)  # noqa: S311 - invented demo data, reproducible on purpose
    now = now or datetime.now(UTC)
    ids: list[str] = []
    # Status changes have no ORM relationship to profiles, so they go in after the profiles' flush.
    changes: list[ProfileStatusChange] = []
    for index in range(count):
        country = _pick(rng, {code: weight for code, (weight, _) in COUNTRIES.items()})
        chat = COUNTRIES[country][1] if rng.random() < 0.8 else rng.choice(["de", "en", "ru", "tr"])
        submitted = now - timedelta(days=rng.randint(0, 360), minutes=rng.randint(0, 1440))
        consented = submitted - timedelta(minutes=rng.randint(8, 90))
        participant = Participant(
            subject_hash=f"seed{seed}-{index:08d}-{rng.getrandbits(64):016x}",
            chat_language=chat,
            telegram_chat_id=str(rng.randint(10**8, 10**10)),
            consent_version="2026-11-v1",
            consent_given_at=consented,
            consent_language=chat,
            created_at=consented,
        )
        status = _pick(rng, STATUS_WEIGHTS)
        profile = Profile(
            id=new_profile_id(),
            status=status,
            answers=invented_answers(rng, country, chat),
            created_at=consented,
            submitted_at=submitted,
            assigned_coach=rng.choice(coaches) if status is not ProfileStatus.SUBMITTED and coaches else None,
        )
        profile.participant = participant
        session.add(participant)
        previous, moment = ProfileStatus.SUBMITTED, submitted
        for step in _path_to(status):
            moment += timedelta(days=rng.randint(1, 10))
            changes.append(_change(profile, previous, step, min(moment, now)))
            previous = step
        ids.append(profile.id)
        if rng.random() < drafts_ratio:
            draft_owner = Participant(
                subject_hash=f"seed{seed}-draft-{index:08d}-{rng.getrandbits(32):08x}",
                chat_language=chat,
                consent_version="2026-11-v1",
                consent_given_at=consented,
                created_at=consented,
            )
            draft = Profile(status=ProfileStatus.IN_PROGRESS, answers={"languages": {"chat": chat}})
            draft.participant = draft_owner
            session.add(draft_owner)
        if (index + 1) % batch == 0 or index == count - 1:
            session.flush()
            session.add_all(changes)
            session.commit()
            changes = []
    return ids


def _change(
    profile: Profile, previous: ProfileStatus, step: ProfileStatus, at: datetime
) -> ProfileStatusChange:
    return ProfileStatusChange(
        profile_id=profile.id,
        from_status=previous,
        to_status=step,
        changed_by=profile.assigned_coach or "coach.a",
        changed_at=at,
    )
