"""The answers of a whole intake, in every chat language: used by the intake tests, the chaos run and
the benchmark."""

from __future__ import annotations

from actions.questions import SKIPPED
from tests.support.intake_driver import Multi, Step, Tap, Type

# Free-text answers in the person's own language (invented).
WORDS = {
    "de": ("Ich möchte als Köchin arbeiten", "Tiflis"),
    "en": ("I want to work as a cook", "Tbilisi"),
    "fr": ("Je veux travailler comme cuisinier", "Tbilissi"),
    "ar": ("أريد أن أعمل طباخا", "تبليسي"),
    "fa": ("می‌خواهم آشپز شوم", "تفلیس"),
    "tr": ("Aşçı olarak çalışmak istiyorum", "Tiflis"),
    "ru": ("Я хочу работать поваром", "Тбилиси"),
    "uk": ("Я хочу працювати кухарем", "Тбілісі"),
    "ka": ("მინდა ვიმუშაო მზარეულად", "თბილისი"),
    "hy": ("Ուզում եմ աշխատել որպես խոհարար", "Թբիլիսի"),
    "ro": ("Vreau să lucrez ca bucătar", "Tbilisi"),
    "sq": ("Dua të punoj si kuzhinier", "Tbilisi"),
    "sr": ("Желим да радим као кувар", "Тбилиси"),
    "mk": ("Сакам да работам како готвач", "Тбилиси"),
}


def full_answers(lang: str) -> dict[str, list[Step]]:
    """Every question answered, loops (two work entries) and multiple choices included."""
    description, region = WORDS[lang]
    return {
        "display_name": [Type("Nino")],
        "age_group": [Tap("25-34")],
        "return_country": [Tap("GE")],
        "return_region": [Type(region)],
        "return_timeframe": [Tap("3_6_months")],
        "interview_language": [Tap("own")],
        "german_level": [Tap("A2")],
        "other_languages": [Multi(("ru", "en"))],
        "education_level": [Tap("4")],
        "education_field": [Type(description)],
        "certificates": [Tap(SKIPPED)],
        "work_sector": [Tap("I"), Tap("Q")],
        "work_role": [Type(description), Type("Pflege")],
        "work_years": [Tap("4"), Type("2")],
        "work_where": [Tap("home_country"), Tap("germany")],
        "work_more": [Tap("yes"), Tap("no")],
        "goal": [Tap("self_employment")],
        "target_sectors": [Multi(("I", "G"))],
        "aspiration_description": [Type(description)],
        "business_idea": [Type(description)],
        "qualification_interests": [Multi(("digital_basics", "accounting_business"))],
        "skill_smartphone": [Tap("3")],
        "skill_computer": [Tap("1")],
        "skill_internet_email": [Tap("2")],
        "skill_office_software": [Tap("0")],
        "skill_social_media_business": [Tap(SKIPPED)],
        "availability": [Multi(("mon_morning", "wed_evening"))],
        "preferred_channel": [Tap("telegram")],
        "notes_for_coach": [Type(description)],
    }
