"""German labels for the profile's codes (CLDR names via Babel, code lists via the coach catalog),
and the search that finds a code by its label ("Georgien" finds GE)."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from functools import cache
from typing import Any

from babel import Locale, UnknownLocaleError

from bot.coach.i18n import UI_LANGUAGE, N_c, _c

STATUS = {
    "in_progress": N_c("Draft"),
    "submitted": N_c("Submitted"),
    "in_review": N_c("In review"),
    "interview_scheduled": N_c("Interview scheduled"),
    "closed": N_c("Closed"),
    "withdrawn": N_c("Withdrawn"),
}
GOAL = {
    "employment": N_c("Find employment"),
    "self_employment": N_c("Self-employment / own business"),
    "further_training": N_c("Further training"),
    "undecided": N_c("Undecided"),
}
TIMEFRAME = {
    "lt_3_months": N_c("Within 3 months"),
    "3_6_months": N_c("In 3 to 6 months"),
    "6_12_months": N_c("In 6 to 12 months"),
    "gt_12_months": N_c("In more than 12 months"),
    "undecided": N_c("Not decided yet"),
}
AGE_GROUP = {
    "18-24": N_c("18 to 24 years"),
    "25-34": N_c("25 to 34 years"),
    "35-44": N_c("35 to 44 years"),
    "45-54": N_c("45 to 54 years"),
    "55+": N_c("55 years or older"),
    "not_said": N_c("Preferred not to say"),
}
# ISCED 2011 levels of education.
ISCED = {
    0: N_c("Early childhood education (ISCED 0)"),
    1: N_c("Primary education (ISCED 1)"),
    2: N_c("Lower secondary education (ISCED 2)"),
    3: N_c("Upper secondary education (ISCED 3)"),
    4: N_c("Post-secondary non-tertiary education (ISCED 4)"),
    5: N_c("Short-cycle tertiary education (ISCED 5)"),
    6: N_c("Bachelor's or equivalent level (ISCED 6)"),
    7: N_c("Master's or equivalent level (ISCED 7)"),
    8: N_c("Doctoral or equivalent level (ISCED 8)"),
}
# NACE Rev. 2 sections.
NACE = {
    "A": N_c("Agriculture, forestry and fishing"),
    "B": N_c("Mining and quarrying"),
    "C": N_c("Manufacturing"),
    "D": N_c("Electricity, gas, steam and air conditioning supply"),
    "E": N_c("Water supply; sewerage, waste management and remediation"),
    "F": N_c("Construction"),
    "G": N_c("Wholesale and retail trade; repair of motor vehicles"),
    "H": N_c("Transportation and storage"),
    "I": N_c("Accommodation and food service activities"),
    "J": N_c("Information and communication"),
    "K": N_c("Financial and insurance activities"),
    "L": N_c("Real estate activities"),
    "M": N_c("Professional, scientific and technical activities"),
    "N": N_c("Administrative and support service activities"),
    "O": N_c("Public administration and defence; compulsory social security"),
    "P": N_c("Education"),
    "Q": N_c("Human health and social work activities"),
    "R": N_c("Arts, entertainment and recreation"),
    "S": N_c("Other service activities"),
    "T": N_c("Activities of households as employers"),
    "U": N_c("Activities of extraterritorial organisations and bodies"),
}
DIGITAL_SKILL = {
    "smartphone": N_c("Smartphone"),
    "computer": N_c("Computer"),
    "internet_email": N_c("Internet and e-mail"),
    "office_software": N_c("Office software"),
    "social_media_business": N_c("Social media for business"),
}
SKILL_LEVEL = {0: N_c("none"), 1: N_c("basic"), 2: N_c("confident"), 3: N_c("advanced")}
QUALIFICATION = {
    "digital_basics": N_c("Digital basics"),
    "office_software": N_c("Office software"),
    "online_marketing_selling": N_c("Online marketing and selling"),
    "programming_it": N_c("Programming / IT"),
    "accounting_business": N_c("Accounting and business"),
    "driving_licence": N_c("Driving licence"),
    "language_course": N_c("Language course"),
    "vocational_certificate": N_c("Vocational certificate"),
    "crafts_technical": N_c("Crafts and technical skills"),
    "care_health": N_c("Care and health"),
    "other": N_c("Other"),
}
CHANNEL = {
    "telegram": N_c("Telegram"),
    "phone": N_c("Phone"),
    "in_person": N_c("In person"),
    "video": N_c("Video call"),
}
WEEKDAYS = {
    "mon": N_c("Mon"),
    "tue": N_c("Tue"),
    "wed": N_c("Wed"),
    "thu": N_c("Thu"),
    "fri": N_c("Fri"),
    "sat": N_c("Sat"),
    "sun": N_c("Sun"),
}
DAY_PARTS = {"morning": N_c("Morning"), "afternoon": N_c("Afternoon"), "evening": N_c("Evening")}
GERMAN_LEVEL = {"none": N_c("No German"), **{level: level for level in ("A1", "A2", "B1", "B2", "C1", "C2")}}
WORK_WHERE = {
    "home_country": N_c("in the home country"),
    "germany": N_c("in Germany"),
    "other": N_c("elsewhere"),
}
FLAG_KIND = {
    "unclear": N_c("Unclear answer"),
    "skipped": N_c("Question skipped"),
    "sensitive": N_c("Possibly sensitive"),
    "changed_after_submit": N_c("Changed after submission"),
}
LANGUAGE_SOURCE = {
    "chosen": N_c("chosen by the person"),
    "detected": N_c("detected from the messages"),
    "telegram_client": N_c("from the Telegram app"),
}
AUDIT_ACTION = {
    "login": N_c("Logged in"),
    "login_failed": N_c("Login failed"),
    "logout": N_c("Logged out"),
    "profile_viewed": N_c("Profile viewed"),
    "voice_note_played": N_c("Voice message played"),
    "status_changed": N_c("Status changed"),
    "coach_assigned": N_c("Coach assigned"),
    "note_added": N_c("Note added"),
    "interview_scheduled": N_c("Interview scheduled"),
    "interview_answered": N_c("Interview invitation answered"),
    "exported_json": N_c("Exported as JSON"),
    "exported_json_list": N_c("Exported in a JSON list"),
    "exported_csv": N_c("Exported in a CSV list"),
    "printed": N_c("Printable summary opened"),
    "profile_deleted": N_c("Profile deleted"),
    "participant_deleted": N_c("Participant deleted"),
}
DELETION_REASON = {
    "participant_request": N_c("at the person's request"),
    "retention": N_c("retention period ended"),
}
INTERVIEW_RESPONSE = {
    "accepted": N_c("Yes, the time works"),
    "another_time": N_c("Asks for another time"),
}
LOGIN_FAILURE = {
    "unknown_user": N_c("unknown username"),
    "wrong_password": N_c("wrong password"),
    "inactive": N_c("account deactivated"),
    "throttled": N_c("blocked after too many failed attempts"),
}
# Which question a JSON pointer in flags or voice notes refers to.
FIELD = {
    "/person/age_group": N_c("Age group"),
    "/languages/interview": N_c("Interview language"),
    "/languages/german_level": N_c("German level"),
    "/return_plan/country": N_c("Return country"),
    "/return_plan/region": N_c("Region or town"),
    "/return_plan/timeframe": N_c("Timeframe"),
    "/education/isced_level": N_c("Education"),
    "/education/field": N_c("Field of education"),
    "/education/certificates": N_c("Certificates"),
    "/work_experience": N_c("Work experience"),
    "/aspirations/goal": N_c("Goal"),
    "/aspirations/sectors": N_c("Target sectors"),
    "/aspirations/description": N_c("Plans in own words"),
    "/aspirations/business_idea": N_c("Business idea"),
    "/qualification_interests": N_c("Qualification interests"),
    "/digital_skills": N_c("Digital skills"),
    "/contact/availability": N_c("Availability"),
    "/notes_for_coach": N_c("Note for the coach"),
}


def label(table: Mapping[Any, str], code: object) -> str:
    """The German label of a code in one of the tables above; the code itself if unknown."""
    if code is None:
        return "–"
    text = table.get(code)
    return _c(text) if text else str(code)


def audit_detail(action: object, detail: str | None) -> str:
    """The code an audit entry carries, in German (a status, a deletion reason, a failure kind)."""
    code = getattr(action, "value", action)
    if code == "status_changed":
        return label(STATUS, detail)
    if code in ("profile_deleted", "participant_deleted"):
        return label(DELETION_REASON, detail)
    if code == "login_failed":
        return label(LOGIN_FAILURE, detail)
    if code == "interview_answered":
        return label(INTERVIEW_RESPONSE, detail)
    if code == "coach_assigned":
        return detail or _c("not assigned")
    return detail or ""


@cache
def _german() -> Locale:
    return Locale.parse(UI_LANGUAGE)


def country_name(code: str | None) -> str:
    """ "Georgien" for GE (CLDR via Babel)."""
    if not code:
        return "–"
    return str(_german().territories.get(code.upper(), code))


# CLDR aliases kmr to Kurdish of Turkey; Kurmanji speakers come from Iraq and Syria as well.
_LANGUAGE_OVERRIDES = {"kmr": "Kurmandschi (Nordkurdisch)"}


def language_name(code: str | None) -> str:
    """ "Georgisch" for ka, "Serbisch (Lateinisch)" for sr-Latn, "Dari" for fa-AF (CLDR via Babel)."""
    if not code:
        return "–"
    if code in _LANGUAGE_OVERRIDES:
        return _LANGUAGE_OVERRIDES[code]
    key = code.replace("-", "_")
    name = _german().languages.get(key)
    if name:
        return str(name)
    try:
        display = Locale.parse(key).get_display_name(UI_LANGUAGE)
    except (ValueError, UnknownLocaleError):
        display = None
    return str(display) if display else code


def field_label(pointer: str) -> str:
    """The question a JSON pointer refers to, e.g. /aspirations/description → "Pläne in eigenen Worten"."""
    if pointer in FIELD:
        return _c(FIELD[pointer])
    for prefix, text in FIELD.items():
        if pointer.startswith(prefix + "/"):
            return _c(text)
    return pointer


def fold(text: str) -> str:
    """Lower case without accents, for search: "Türkei" → "turkei"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold().strip())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _matches(term: str, code: str, label_text: str) -> bool:
    if fold(code) == term:
        return True
    return len(term) >= 3 and term in fold(label_text)


def expand_search(
    text: str, countries: Iterable[str], languages: Iterable[str], coaches: Iterable[str]
) -> list[dict[str, set[str]]]:
    """For each word of the search, the codes per field whose code or German label matches.

    ``countries``, ``languages`` and ``coaches`` are the values that occur in the list, so the
    search never has to look at the rows themselves.
    """
    countries, languages, coaches = list(countries), list(languages), list(coaches)
    expanded: list[dict[str, set[str]]] = []
    for raw in text.split():
        term = fold(raw)
        if not term:
            continue
        expanded.append(
            {
                "country": {c for c in countries if _matches(term, c, country_name(c))},
                "language": {c for c in languages if _matches(term, c, language_name(c))},
                "goal": {c for c, t in GOAL.items() if _matches(term, c, _c(t))},
                "status": {c for c, t in STATUS.items() if c != "in_progress" and _matches(term, c, _c(t))},
                "coach": {c for c in coaches if len(term) >= 2 and term in fold(c)},
                "id": {raw} if len(raw) >= 8 else set(),
            }
        )
    return expanded
