"""Whole intakes through every real process, in every supported language; the stored profile is checked
field by field and its export validates against the schema."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from actions.intake import MSG_SUBMITTED
from core.i18n import translate
from core.languages import CHAT_LANGUAGES
from storage.export import profile_to_export, validate_export
from storage.hashing import subject_hash
from storage.models import Participant, Profile
from tests.support.intake_answers import WORDS, full_answers
from tests.support.intake_driver import IntakeDriver
from tests.support.stack import Stack

pytestmark = pytest.mark.integration

_user_ids = itertools.count(6100001)


def stored_profile(stack: Stack, user_id: int) -> tuple[Participant, Profile]:
    with stack.session() as session:
        hashed = subject_hash(user_id, stack.settings.hash_key())
        participant = session.scalars(select(Participant).where(Participant.subject_hash == hashed)).one()
        profile = session.scalars(select(Profile).where(Profile.participant_id == participant.id)).one()
        session.expunge_all()
        return participant, profile


@pytest.mark.parametrize("lang", CHAT_LANGUAGES)
def test_whole_intake_in_every_language(stack: Stack, lang: str) -> None:
    user_id = next(_user_ids)
    driver = IntakeDriver(stack.standin, user_id, lang)
    driver.start_and_consent()
    replies = driver.complete(full_answers(lang))

    assert replies[-1]["text"].lstrip("\u200f") == translate(lang, MSG_SUBMITTED)  # RTL mark for ar, fa
    participant, profile = stored_profile(stack, user_id)
    description, region = WORDS[lang]
    assert profile.status == "submitted" and profile.submitted_at is not None
    answers = profile.answers
    assert answers["person"] == {"display_name": "Nino", "age_group": "25-34"}
    assert answers["return_plan"] == {
        "country": "GE", "region": {"text": region, "language": lang}, "timeframe": "3_6_months"
    }  # fmt: skip
    interpreter = lang not in ("de", "en")
    assert answers["languages"]["interview"] == lang
    assert answers["languages"]["interpreter_needed"] is interpreter
    assert answers["languages"]["german_level"] == "A2"
    assert answers["languages"]["other"] == ["ru", "en"]
    assert answers["education"]["isced_level"] == 4
    assert answers["education"]["field"] == {"text": description, "language": lang}
    assert "certificates" not in answers["education"]
    assert answers["work_experience"] == [
        {
            "sector": "I",
            "role": {"text": description, "language": lang},
            "years": 4.0,
            "where": "home_country",
        },
        {"sector": "Q", "role": {"text": "Pflege", "language": lang}, "years": 2.0, "where": "germany"},
    ]
    assert answers["aspirations"]["goal"] == "self_employment"
    assert answers["aspirations"]["sectors"] == ["I", "G"]
    assert answers["aspirations"]["business_idea"]["text"] == description
    assert answers["qualification_interests"] == ["digital_basics", "accounting_business"]
    assert answers["digital_skills"] == {
        "smartphone": 3,
        "computer": 1,
        "internet_email": 2,
        "office_software": 0,
    }
    assert answers["contact"] == {
        "availability": ["mon_morning", "wed_evening"],
        "preferred_channel": "telegram",
    }
    assert answers["notes_for_coach"]["text"] == description
    skipped = {f["field"] for f in answers["flags"] if f["kind"] == "skipped"}
    assert skipped == {"/education/certificates", "/digital_skills/social_media_business"}

    profile.participant = participant
    export = profile_to_export(profile)
    validate_export(export)
    assert export["consent"]["language"] == lang
    assert stack.standin.violations == []
