"""Hostile values in every free-text field of invented profiles, and an HTML check that they stay
inert (shared by the coach page tests and the browser test)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from sqlalchemy.orm import Session

from storage.coach import ReviewRepository
from storage.models import Profile, ProfileStatus
from tests.support.coach import create_account, invented_profile

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
RTL = "Rechnung\u202eexe.pdf"  # shows as "Rechnungfdp.exe" where the override is not contained
LONG = (SCRIPT + IMG) * 74 + "x" * (4096 - 74 * len(SCRIPT + IMG))
FORMULAS = ('=HYPERLINK("http://x")', "+1+1", "-2", "@SUM(A1)")
HOSTILE: tuple[str, ...] = (SCRIPT, IMG, RTL, LONG, *FORMULAS)
assert len(LONG) == 4096

# Account names are at most 64 characters: every hostile value but the long one.
HOSTILE_ACCOUNTS: tuple[str, ...] = tuple(value for value in HOSTILE if len(value) <= 64)

# The answers' free-text fields, as (section path, how the value is stored).
FREE_TEXT_FIELDS = (
    "person.display_name",
    "return_plan.region",
    "education.field",
    "education.certificates",
    "work_experience.role",
    "aspirations.description",
    "aspirations.business_idea",
    "notes_for_coach",
    "flags.note",
    "translation.text",
    "translation.engine",
)
# Filled by coaches or the system: notes, appointment place and link, the assigned account.
COACH_FIELDS = ("coach_note", "place", "video_link", "assigned_coach")


def _free(text: str, language: str = "ka") -> dict[str, str]:
    return {"text": text, "language": language}


@dataclass
class HostileProfile:
    profile: Profile
    values: dict[str, str] = field(default_factory=dict)  # field -> hostile value

    @property
    def id(self) -> str:
        return self.profile.id


def make_hostile_accounts(session: Session) -> None:
    for name in HOSTILE_ACCOUNTS:
        create_account(session, name, "coach")


def make_hostile_profiles(session: Session) -> list[HostileProfile]:
    """One profile per hostile value; across them every field gets every value (rotated)."""
    made = []
    fields = FREE_TEXT_FIELDS + COACH_FIELDS
    for index in range(len(HOSTILE)):
        values = {name: HOSTILE[(index + position) % len(HOSTILE)] for position, name in enumerate(fields)}
        description = _free(values["aspirations.description"])
        description["translation_de"] = {
            "text": values["translation.text"],
            "engine": values["translation.engine"],
        }
        profile = invented_profile(
            session,
            status=ProfileStatus.IN_REVIEW,
            submitted_days_ago=index + 1,
            extra={
                "person": {"display_name": values["person.display_name"], "age_group": "25-34"},
                "return_plan": {
                    "country": "GE",
                    "timeframe": "3_6_months",
                    "region": _free(values["return_plan.region"]),
                },
                "education": {
                    "isced_level": 3,
                    "field": _free(values["education.field"], "ar"),
                    "certificates": _free(values["education.certificates"]),
                },
                "work_experience": [
                    {
                        "sector": "I",
                        "role": _free(values["work_experience.role"]),
                        "years": 2,
                        "where": "germany",
                    }
                ],
                "aspirations": {
                    "goal": "self_employment",
                    "sectors": ["I"],
                    "description": description,
                    "business_idea": _free(values["aspirations.business_idea"], "fa"),
                },
                "notes_for_coach": _free(values["notes_for_coach"]),
                "flags": [
                    {"field": "/education/isced_level", "kind": "unclear", "note": values["flags.note"]}
                ],
            },
        )
        review = ReviewRepository(session)
        review.add_note(profile.id, "coach.anna", values["coach_note"])
        review.schedule_interview(
            profile,
            datetime(2026, 12, 3, 9, 30, tzinfo=UTC),
            "coach.anna",
            place=values["place"][:300],
            video_link=values["video_link"],
            can_send=False,
        )
        profile.assigned_coach = values["assigned_coach"][:64]
        session.commit()
        made.append(HostileProfile(profile, values))
    return made


def make_hostile_codes(session: Session) -> Profile:
    """A profile whose list columns (codes) are hostile too: they reach filters and charts."""
    profile = invented_profile(session, country="GE")
    answers = dict(profile.answers)
    answers["return_plan"] = {"country": "<i", "timeframe": "soon"}
    answers["languages"] = {"chat": '"><img src=x>', "interview": "<b>x</b>", "interpreter_needed": True}
    answers["aspirations"] = {"goal": SCRIPT, "sectors": [IMG]}
    profile.set_answers(answers)
    session.commit()
    return profile


# -- the HTML check ----------------------------------------------------------------------------

VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
# Elements whose text is its own bidi paragraph or is not laid out as page text.
OWN_PARAGRAPH = {"option", "textarea", "title"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href"}


class InertCheck(HTMLParser):
    """Collects elements, attributes and text; text containing a bidi override must be isolated."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.problems: list[str] = []
        self.text: list[str] = []
        self.stack: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"event handler attribute {name} on <{tag}>")
            if (
                name in URL_ATTRIBUTES
                and value
                and value.strip().lower().startswith(("javascript:", "data:"))
            ):
                self.problems.append(f"{name}={value[:40]!r} on <{tag}>")
            if value and "\u202e" in value and name not in ("value", "title", "aria-label"):
                self.problems.append(f"bidi override in attribute {name} of <{tag}>")
        if tag not in VOID:
            self.stack.append((tag, values))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1][0] == tag:
            self.stack.pop()

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if "\u202e" in data and not any(
            name == "bdi" or "dir" in attrs or name in OWN_PARAGRAPH for name, attrs in self.stack
        ):
            path = "/".join(name for name, _ in self.stack[-4:])
            self.problems.append(f"bidi override not isolated in {path}: {data.strip()[:40]!r}")


def check_inert(html: str, shown: Iterable[str] = (), allowed_tags: Sequence[str] = ()) -> InertCheck:
    """Parse a page: no <script>, <img>, <iframe>, event handler or javascript: URL, every bidi
    override isolated, and every value in `shown` present as text (escaped, not dropped)."""
    check = InertCheck()
    check.feed(html)
    check.close()
    for tag in ("script", "img", "iframe", "object", "embed", "svg:script"):
        if tag in check.tags and tag not in allowed_tags:
            check.problems.append(f"<{tag}> in the page")
    text = "".join(check.text)
    for value in shown:
        if value not in text:
            check.problems.append(f"value not shown as text: {value[:40]!r}")
    assert check.problems == [], check.problems[:10]
    return check


def tag_names(html: str) -> list[str]:
    check = InertCheck()
    check.feed(html)
    return check.tags


def benign_twin(session: Session, hostile: HostileProfile) -> Profile:
    """The same profile with harmless words in every field: its page must have the same elements."""
    plain = {name: f"plain {name}" for name in hostile.values}
    twin = invented_profile(session, status=ProfileStatus.IN_REVIEW)
    answers: dict[str, Any] = {
        key: value for key, value in hostile.profile.answers.items() if key not in ("person",)
    }
    answers = _replace(answers, hostile.values, plain)
    answers["person"] = {"display_name": plain["person.display_name"], "age_group": "25-34"}
    twin.set_answers(answers)
    review = ReviewRepository(session)
    review.add_note(twin.id, "coach.anna", "plain note")
    review.schedule_interview(
        twin, datetime(2026, 12, 3, 9, 30, tzinfo=UTC), "coach.anna", place="plain place",
        video_link="plain link", can_send=False,
    )  # fmt: skip
    twin.assigned_coach = "coach.anna"
    session.commit()
    return twin


def _replace(value: Any, hostile: dict[str, str], plain: dict[str, str]) -> Any:
    reverse = {text: plain[name] for name, text in hostile.items()}
    if isinstance(value, dict):
        return {key: _replace(item, hostile, plain) for key, item in value.items()}
    if isinstance(value, list):
        return [_replace(item, hostile, plain) for item in value]
    if isinstance(value, str) and value in reverse:
        return reverse[value]
    return value
