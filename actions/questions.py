"""The intake questions: order, wording (English source strings), answer options and their codes.

One question per form slot. The bot translates every text with its gettext catalogs, so the
strings here are marked with `_` for extraction only. Codes are those of
intake-profile.schema.json.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from core.languages import CHAT_LANGUAGES, native_name


def _(text: str) -> str:
    """Marks an English source string for the catalogs; the bot translates it."""
    return text


Kind = Literal["text", "choice", "multi", "country", "years", "summary"]
SKIPPED = "__skipped__"
TOTAL_STEPS = 11


@dataclass(frozen=True)
class Option:
    code: str
    label: str  # English source string
    translate: bool = True  # False for labels that are the same in every language (e.g. "B1")
    suffix: str = ""  # shown after the translated label (the availability icons)


@dataclass(frozen=True)
class Question:
    slot: str
    step: int
    text: str
    why: str
    kind: Kind
    options: tuple[Option, ...] = ()
    optional: bool = True
    max_choices: int | None = None
    columns: int = 1  # buttons per row
    summary_label: str = ""
    extra_options: tuple[Option, ...] = field(default=())


AGE_GROUPS = (
    Option("18-24", "18–24", False),
    Option("25-34", "25–34", False),
    Option("35-44", "35–44", False),
    Option("45-54", "45–54", False),
    Option("55+", "55 or older"),
)

TIMEFRAMES = (
    Option("lt_3_months", "In less than 3 months"),
    Option("3_6_months", "In 3 to 6 months"),
    Option("6_12_months", "In 6 to 12 months"),
    Option("gt_12_months", "In more than a year"),
    Option("undecided", "I do not know yet"),
)

# The countries most of the programme's returnees go back to; any other can be typed.
FREQUENT_COUNTRIES = ("GE", "AM", "AL", "MK", "RS", "XK", "TR", "IQ", "AF", "IR", "SY", "UA", "MD", "NG")

INTERVIEW_LANGUAGES = (
    Option("de", "German"),
    Option("en", "English"),
    Option("own", "My language, with an interpreter"),
)

GERMAN_LEVELS = (
    Option("none", "No German"),
    Option("A1", "A1 – a few words"),
    Option("A2", "A2 – simple sentences"),
    Option("B1", "B1 – everyday talk"),
    Option("B2", "B2 – good"),
    Option("C1", "C1 – very good"),
    Option("C2", "C2 – like a native speaker"),
)

OTHER_LANGUAGE_CODES = (*CHAT_LANGUAGES, "az", "ku", "ps", "ur", "es", "it")
OTHER_LANGUAGES = tuple(Option(code, native_name(code), False) for code in OTHER_LANGUAGE_CODES)

# ISCED 2011 levels, in plain words.
EDUCATION_LEVELS = (
    Option("0", "No school, or less than primary school"),
    Option("1", "Primary school"),
    Option("2", "Middle school"),
    Option("3", "High school, secondary school"),
    Option("4", "Vocational training after school"),
    Option("5", "Short college course, technician"),
    Option("6", "Bachelor's degree"),
    Option("7", "Master's degree"),
    Option("8", "Doctorate (PhD)"),
)

# Friendly groups of work mapped to NACE Rev. 2 sections.
SECTORS = (
    Option("A", "Farming, animals, fishing"),
    Option("C", "Factory, production"),
    Option("F", "Building, construction"),
    Option("G", "Shop, sales, trade, car repair"),
    Option("H", "Driving, transport, storage"),
    Option("I", "Restaurant, hotel, kitchen"),
    Option("J", "IT, media, telecommunications"),
    Option("M", "Office, accounting, law, engineering"),
    Option("N", "Cleaning, security, office help"),
    Option("P", "School, teaching, childcare"),
    Option("Q", "Health, care, nursing"),
    Option("R", "Art, sport, entertainment"),
    Option("S", "Hairdresser, repairs, other services"),
    Option("T", "Work in private households"),
    Option("B", "Mining"),
    Option("D", "Energy, electricity"),
    Option("E", "Water, waste, recycling"),
    Option("K", "Bank, insurance"),
    Option("L", "Real estate"),
    Option("O", "Public service, administration"),
)
NO_WORK = Option("none", "I have not worked yet")

WORK_YEARS = (
    Option("0.5", "Less than 1 year"),
    Option("2", "1–2 years"),
    Option("4", "3–5 years"),
    Option("8", "6–10 years"),
    Option("15", "More than 10 years"),
)

WORK_PLACES = (
    Option("home_country", "In my home country"),
    Option("germany", "In Germany"),
    Option("other", "In another country"),
)

YES_NO = (Option("yes", "Yes"), Option("no", "No"))

GOALS = (
    Option("employment", "Find a job"),
    Option("self_employment", "Start my own business"),
    Option("further_training", "Learn or study more"),
    Option("undecided", "I do not know yet"),
)

QUALIFICATIONS = (
    Option("digital_basics", "Computer and smartphone basics"),
    Option("office_software", "Office programs (Word, Excel)"),
    Option("online_marketing_selling", "Selling and marketing online"),
    Option("programming_it", "Programming, IT"),
    Option("accounting_business", "Accounting, running a business"),
    Option("driving_licence", "Driving licence"),
    Option("language_course", "Language course"),
    Option("vocational_certificate", "A vocational certificate"),
    Option("crafts_technical", "Crafts, technical skills"),
    Option("care_health", "Care and health"),
    Option("other", "Something else"),
)

SKILL_LEVELS = (
    Option("0", "○○○ Not at all"),
    Option("1", "●○○ A little"),
    Option("2", "●●○ Well"),
    Option("3", "●●● Very well"),
)

DAYS = (("mon", _("Mon")), ("tue", _("Tue")), ("wed", _("Wed")), ("thu", _("Thu")), ("fri", _("Fri")),
        ("sat", _("Sat")), ("sun", _("Sun")))  # fmt: skip
DAY_PARTS = (("morning", "🌅"), ("afternoon", "☀️"), ("evening", "🌙"))
AVAILABILITY = tuple(
    Option(f"{day}_{part}", label, suffix=f" {icon}") for day, label in DAYS for part, icon in DAY_PARTS
)

CHANNELS = (
    Option("telegram", "Telegram"),
    Option("phone", "Phone call"),
    Option("in_person", "Meeting in person"),
    Option("video", "Video call"),
)

SUMMARY_CONFIRM = Option("confirm", "✅ Everything is correct, send it")

WHY_SKILLS = _("The programme teaches digital skills. Your answer helps to find the right course level.")

QUESTIONS: tuple[Question, ...] = (
    Question("display_name", 2, _("What should I call you? You can write your first name."),
             _("So that your coach can greet you by name. You do not have to say it."), "text",
             summary_label=_("Name")),
    Question("age_group", 2, _("How old are you?"),
             _("Courses and support are sometimes different for different ages."), "choice", AGE_GROUPS,
             columns=3, summary_label=_("Age")),
    Question("return_country", 3, _("Which country do you want to return to?"),
             _("The coaches plan your training for the job market in that country."), "country",
             optional=False, columns=2, summary_label=_("Country")),
    Question("return_region", 3, _("In which city or region will you live?"),
             _("Jobs and training are different from region to region."), "text",
             summary_label=_("City or region")),
    Question("return_timeframe", 3, _("When do you want to leave Germany?"),
             _("So that your training can be finished before you leave."), "choice", TIMEFRAMES,
             optional=False, summary_label=_("When")),
    Question("interview_language", 4, _("In which language do you want to talk with your coach?"),
             _("So that we can book an interpreter if you need one."), "choice", INTERVIEW_LANGUAGES,
             optional=False, summary_label=_("Language for the meeting")),
    Question("german_level", 4, _("How well do you speak German?"),
             _("So that your coach knows if courses in German are possible."), "choice", GERMAN_LEVELS,
             summary_label=_("German")),
    Question("other_languages", 4,
             _("Which other languages do you speak? Choose all that fit, then tap Done."),
             _("Languages can help you to find work."), "multi", OTHER_LANGUAGES, columns=3,
             summary_label=_("Other languages")),
    Question("education_level", 5, _("What is the highest school or study you finished?"),
             _("So that your coach can suggest training at the right level."), "choice", EDUCATION_LEVELS,
             summary_label=_("School and study")),
    Question("education_field", 5, _("What did you learn or study? For example: nursing, car mechanic."),
             _("Your knowledge may help you to find work at home."), "text", summary_label=_("Subject")),
    Question("certificates", 5, _("Do you have certificates or diplomas? Which ones?"),
             _("Certificates can be useful when you look for work."), "text",
             summary_label=_("Certificates")),
    Question("work_sector", 6, _("In which area have you worked?"),
             _("Your work experience helps to plan the next steps."), "choice", SECTORS, columns=2,
             extra_options=(NO_WORK,), summary_label=_("Work")),
    Question("work_role", 6, _("What was your job there? For example: cook, driver, shop assistant."),
             _("Your work experience helps to plan the next steps."), "text", summary_label=_("Job")),
    Question("work_years", 6, _("How long did you do this work?"),
             _("Your work experience helps to plan the next steps."), "years", WORK_YEARS,
             summary_label=_("Years")),
    Question("work_where", 6, _("Where did you do this work?"),
             _("Your work experience helps to plan the next steps."), "choice", WORK_PLACES,
             summary_label=_("Where")),
    Question("work_more", 6, _("Have you done other work too?"),
             _("Your work experience helps to plan the next steps."), "choice", YES_NO, columns=2),
    Question("goal", 7, _("What do you want to do after your return?"),
             _("Your coach plans your training for this goal."), "choice", GOALS, optional=False,
             summary_label=_("Goal")),
    Question("target_sectors", 7, _("In which areas do you want to work? Choose up to 3, then tap Done."),
             _("Your coach plans your training for this goal."), "multi", SECTORS, max_choices=3,
             columns=2, summary_label=_("Areas")),
    Question("aspiration_description", 7, _("Tell me in your own words what you want to do."),
             _("Your own words help your coach to understand you well."), "text",
             summary_label=_("In your words")),
    Question("business_idea", 7, _("What is your business idea?"),
             _("Your coach can look for training that helps with your business."), "text",
             summary_label=_("Business idea")),
    Question("qualification_interests", 8,
             _("What would you like to learn before you leave? Choose all that fit, then tap Done."),
             _("The programme offers courses before you return. Digital skills are its focus."), "multi",
             QUALIFICATIONS, summary_label=_("Learn")),
    Question("skill_smartphone", 8, _("How well can you use a smartphone?"), WHY_SKILLS, "choice",
             SKILL_LEVELS, summary_label=_("Smartphone")),
    Question("skill_computer", 8, _("How well can you use a computer?"), WHY_SKILLS, "choice", SKILL_LEVELS,
             summary_label=_("Computer")),
    Question("skill_internet_email", 8, _("How well can you use the internet and e-mail?"), WHY_SKILLS,
             "choice", SKILL_LEVELS, summary_label=_("Internet and e-mail")),
    Question("skill_office_software", 8, _("How well can you use office programs like Word or Excel?"),
             WHY_SKILLS, "choice", SKILL_LEVELS, summary_label=_("Office programs")),
    Question("skill_social_media_business", 8, _("How well can you use social media for work or selling?"),
             WHY_SKILLS, "choice", SKILL_LEVELS, summary_label=_("Social media for work")),
    Question("availability", 9,
             _("When can you come to the first meeting? 🌅 morning, ☀️ afternoon, 🌙 evening. "
               "Choose all that fit, then tap Done."),
             _("So that your coach can offer you a time that fits."), "multi", AVAILABILITY, columns=3,
             summary_label=_("Free times")),
    Question("preferred_channel", 9, _("How should your coach contact you?"),
             _("So that your coach contacts you the way you like."), "choice", CHANNELS, columns=2,
             summary_label=_("Contact")),
    Question("notes_for_coach", 10, _("Is there anything else your coach should know?"),
             _("Here you can tell your coach anything that is important to you."), "text",
             summary_label=_("Notes")),
    Question("summary_confirmed", 11, _("Please check your answers. Tap an answer to change it."),
             _("You can change every answer before you send it."), "summary", (SUMMARY_CONFIRM,),
             optional=False),
)  # fmt: skip

BY_SLOT: dict[str, Question] = {q.slot: q for q in QUESTIONS}
FORM_SLOTS: tuple[str, ...] = tuple(q.slot for q in QUESTIONS)
WORK_SLOTS = ("work_sector", "work_role", "work_years", "work_where", "work_more")
