"""The chaos run: scripted people do whole intakes through the Telegram stand-in while the bot, the
action server and Rasa are killed with SIGKILL at random moments and restarted; then every profile
and every conversation is checked for lost and duplicated answers.

Used by scripts/chaos.py (`make chaos`, 100 people, >= 30 kills) and, small, by
tests/integration/test_chaos.py. A person here behaves like a patient real one: "one moment" is
waited out, a question the bot sends twice is answered once, and after "please send it again" the
same answer is sent again (counted: the goal is that this never happens).
"""

from __future__ import annotations

import json
import random
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from actions.questions import SKIPPED
from bot.conversation import MSG_ONE_MOMENT, MSG_TECHNICAL_PROBLEM
from core.i18n import translate
from core.languages import CHAT_LANGUAGES
from core.processes import ManagedProcess
from storage.crypto import default_cipher
from storage.fieldcipher import TRACKER_EVENT_CONTEXT
from storage.hashing import subject_hash
from storage.models import Participant, Profile
from tests.support.intake_answers import full_answers
from tests.support.intake_driver import IntakeDriver, Step, Tap, Type
from tests.support.stack import Stack

TURN_TIMEOUT_S = 600.0  # Rasa takes a while to load its model after a kill; messages wait meanwhile
ONE_MOMENT = {translate(lang, MSG_ONE_MOMENT) for lang in CHAT_LANGUAGES}
PLEASE_RESEND = {translate(lang, MSG_TECHNICAL_PROBLEM) for lang in CHAT_LANGUAGES}


class ResendNeeded(Exception):
    """The bot said it could not process the message."""


@dataclass
class PersonStats:
    turns: int = 0
    one_moment: int = 0
    resent: int = 0
    duplicate_questions: int = 0


def plan(index: int) -> tuple[str, dict[str, list[Step]], dict[str, Any]]:
    """Person `index`: chat language, the answers to give, and what the profile must then hold.
    Every free text is unique to the person, so that a lost or doubled answer shows."""
    lang = CHAT_LANGUAGES[index % len(CHAT_LANGUAGES)]
    tag = f"P{index:03d}"
    name, region = f"Chaos {tag}", f"Region {tag}"
    role_1, role_2 = f"Cook {tag}", f"Carer {tag}"
    idea, note = f"A bakery {tag}", f"Call me after noon {tag}"
    sector = ("I", "Q", "C", "F")[index % 4]
    answers: dict[str, list[Step]] = {
        **full_answers(lang),
        "display_name": [Type(name)],
        "age_group": [Tap(("18-24", "25-34", "35-44", "45-54")[index % 4])],
        "return_region": [Type(region)],
        "education_field": [Tap(SKIPPED)],
        "work_sector": [Tap(sector), Tap("Q")],
        "work_role": [Type(role_1), Type(role_2)],
        "aspiration_description": [Tap(SKIPPED)],
        "business_idea": [Type(idea)],
        "notes_for_coach": [Type(note)],
    }
    expected = {
        "person.display_name": name,
        "return_plan.country": "GE",
        "return_plan.region": region,
        "languages.other": ["ru", "en"],
        "work_experience": [
            {"sector": sector, "role": role_1, "years": 4.0, "where": "home_country"},
            {"sector": "Q", "role": role_2, "years": 2.0, "where": "germany"},
        ],
        "aspirations.sectors": ["I", "G"],
        "aspirations.business_idea": idea,
        "qualification_interests": ["digital_basics", "accounting_business"],
        "digital_skills": {"smartphone": 3, "computer": 1, "internet_email": 2, "office_software": 0},
        "contact.availability": ["mon_morning", "wed_evening"],
        "notes_for_coach": note,
    }
    return lang, answers, expected


class ChaosDriver(IntakeDriver):
    """An IntakeDriver that waits out outages: "one moment" and a repeated question are not answers."""

    def __init__(self, *args: Any, think: Callable[[], float] = lambda: 0.0, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stats = PersonStats()
        self.think = think
        self.answering: dict[str, Any] | None = None  # the question message being answered

    def _is_repeat(self, reply: dict[str, Any]) -> bool:
        """The question just answered, sent again (its update was replayed after a bot restart)."""
        return (
            self.answering is not None
            and reply.get("text") == self.answering.get("text")
            and reply.get("reply_markup") == self.answering.get("reply_markup")
        )

    def _sorted(self, mark: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        """The replies since `mark`: (notices, fresh replies, repeats of the answered question)."""
        replies = [c.params for c in self._replies_since(mark)]
        notices = [r for r in replies if r.get("text") in ONE_MOMENT | PLEASE_RESEND]
        repeats = [r for r in replies if r not in notices and self._is_repeat(r)]
        fresh = [r for r in replies if r not in notices and r not in repeats]
        return notices, fresh, len(repeats)

    def settle(
        self, mark: int, method: str, timeout: float = TURN_TIMEOUT_S, question: bool = False
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        resend_seen_at: float | None = None
        while True:
            notices, fresh, _ = self._sorted(mark)
            done = any(r.get("reply_markup") for r in fresh) if question else bool(fresh)
            if done:
                time.sleep(0.3)  # the rest of the turn's messages
                notices, fresh, repeats = self._sorted(mark)
                self.stats.duplicate_questions += repeats
                self.stats.one_moment += sum(1 for r in notices if r.get("text") in ONE_MOMENT)
                self.transcript.extend(fresh)
                return fresh
            if any(r.get("text") in PLEASE_RESEND for r in notices):
                resend_seen_at = resend_seen_at or time.monotonic()
                if time.monotonic() - resend_seen_at > 2.0:
                    raise ResendNeeded
            if time.monotonic() > deadline:
                raise TimeoutError(f"user {self.user_id}: no answer within {timeout:.0f} s")
            time.sleep(0.1)

    def _latest_question(self) -> dict[str, Any] | None:
        try:
            return self.last_keyboard()
        except AssertionError:
            return None

    def _patiently(self, act: Callable[[], list[dict[str, Any]]]) -> list[dict[str, Any]]:
        time.sleep(self.think())
        self.answering = self._latest_question()
        self.stats.turns += 1
        while True:
            try:
                return act()
            except ResendNeeded:
                self.stats.resent += 1

    def send(self, text: str, question: bool = False) -> list[dict[str, Any]]:
        return self._patiently(lambda: IntakeDriver.send(self, text, question))

    def tap(self, data: str, expect: str = "sendMessage", question: bool = False) -> list[dict[str, Any]]:
        return self._patiently(lambda: IntakeDriver.tap(self, data, expect, question))


@dataclass
class Killer:
    """Kills the stack's processes with SIGKILL at random moments and restarts them."""

    stack: Stack
    kills: int
    rng: random.Random
    gap_s: tuple[float, float] = (2.0, 8.0)
    done: dict[str, int] = field(default_factory=Counter)  # type: ignore[assignment]
    log: list[str] = field(default_factory=list)
    failure: BaseException | None = None

    def schedule(self) -> list[str]:
        # Rasa needs ~30 s to load its model after a kill; the bot and actions a few seconds.
        rasa = max(1, self.kills // 5)
        actions = (self.kills - rasa) // 2
        order = ["rasa"] * rasa + ["actions"] * actions + ["bot"] * (self.kills - rasa - actions)
        self.rng.shuffle(order)
        return order

    def run(self, finished: threading.Event) -> None:
        try:
            for name in self.schedule():
                if finished.wait(self.rng.uniform(*self.gap_s)):
                    return
                process: ManagedProcess = self.stack.processes[name]
                process.kill()
                self.done[name] += 1
                self.log.append(f"{time.strftime('%H:%M:%S')} killed {name}")
                time.sleep(self.rng.uniform(0.0, 2.0))
                process.start()
                process.wait_healthy(timeout=300)
        except BaseException as error:  # reported by the run, never swallowed
            self.failure = error


@dataclass
class ChaosResult:
    users: int
    complete: int
    lost: int
    duplicated: int
    wrong: int
    problems: list[str]
    kills: dict[str, int]
    stats: PersonStats
    processed_twice: int
    seconds: float

    @property
    def total_kills(self) -> int:
        return sum(self.kills.values())

    def lines(self) -> list[str]:
        return [
            f"people: {self.users}, complete and correct profiles: {self.complete}",
            f"lost answers: {self.lost}, duplicated answers: {self.duplicated}, wrong answers: {self.wrong}",
            f"messages Rasa processed twice: {self.processed_twice}",
            "kills (SIGKILL): "
            + ", ".join(f"{name} {count}" for name, count in sorted(self.kills.items()))
            + f" (total {self.total_kills})",
            f"turns: {self.stats.turns}, 'one moment' notices: {self.stats.one_moment}, "
            f"questions sent again after a restart: {self.stats.duplicate_questions}, "
            f"people asked to resend: {self.stats.resent}",
            f"duration: {self.seconds:.0f} s",
        ]


def _text_of(value: Any) -> Any:
    return value.get("text") if isinstance(value, dict) and "text" in value else value


def _lookup(answers: dict[str, Any], path: str) -> Any:
    value: Any = answers
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _counts(got: Any, want: Any) -> tuple[int, int, int]:
    """(lost, duplicated, wrong) of one stored field against what was answered."""
    if isinstance(want, list):
        items = list(got or [])
        lost = sum(1 for item in want if item not in items)
        duplicated = sum(max(0, items.count(item) - 1) for item in want)
        return lost, duplicated, sum(1 for item in items if item not in want)
    if got is None:
        return 1, 0, 0
    return 0, 0, int(_text_of(got) != want)


def compare(answers: dict[str, Any], expected: dict[str, Any]) -> tuple[int, int, int, list[str]]:
    """(lost, duplicated, wrong, problems) of one profile against its plan."""
    totals = [0, 0, 0]
    problems = []
    for path, want in expected.items():
        got = _lookup(answers, path)
        if path == "work_experience":  # entries compared as a whole, free texts by their text
            got = [
                {k: _text_of(v) for k, v in entry.items() if k in ("sector", "role", "years", "where")}
                for entry in (got or [])
            ]
        counts = _counts(got, want)
        if any(counts):
            problems.append(f"{path}: expected {want!r}, stored {_text_of(got)!r}")
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    return totals[0], totals[1], totals[2], problems


def processed_twice(stack: Stack, sender_ids: set[str]) -> int:
    """User messages (by Telegram update id) that Rasa answered more than once, in every tracker."""
    path = stack.settings.data_dir / "rasa-tracker.db"
    answered: Counter[tuple[str, Any]] = Counter()
    with sqlite3.connect(path) as connection:
        rows = connection.execute("SELECT sender_id, data FROM events ORDER BY id").fetchall()
    last_user: dict[str, Any] = {}
    for sender_id, data in rows:
        if sender_id not in sender_ids:
            continue
        event = json.loads(default_cipher().decrypt(data, TRACKER_EVENT_CONTEXT))
        if event.get("event") == "user":
            last_user[sender_id] = (event.get("metadata") or {}).get("update_id")
        elif event.get("event") == "bot" and last_user.get(sender_id) is not None:
            answered[(sender_id, last_user.pop(sender_id))] += 1
    return sum(1 for count in answered.values() if count > 1)


def run_chaos(
    stack: Stack,
    users: int,
    kills: int,
    seed: int = 20261125,
    think_s: tuple[float, float] = (2.0, 8.0),
    ramp_s: float = 60.0,
    first_user_id: int = 7700001,
    progress: Callable[[str], None] = lambda line: None,
) -> ChaosResult:
    rng = random.Random(seed)
    started = time.monotonic()
    finished = threading.Event()
    killer = Killer(stack, kills, random.Random(rng.random()))
    drivers: list[ChaosDriver] = []
    failures: list[str] = []
    plans = [plan(i) for i in range(users)]

    def person(index: int) -> None:
        lang, answers, _ = plans[index]
        person_rng = random.Random(seed * 1000 + index)
        driver = ChaosDriver(
            stack.standin, first_user_id + index, lang, language_code=lang,
            think=lambda: person_rng.uniform(*think_s),
        )  # fmt: skip
        drivers.append(driver)
        time.sleep(person_rng.uniform(0, ramp_s))
        try:
            driver.start_and_consent()
            driver.complete(answers, max_turns=120)
        except Exception as error:  # counted below: the profile will be incomplete
            failures.append(f"user {driver.user_id} ({lang}): {type(error).__name__}: {error}")

    threads = [threading.Thread(target=person, args=(i,), daemon=True) for i in range(users)]
    chaos = threading.Thread(target=killer.run, args=(finished,), daemon=True)
    for thread in threads:
        thread.start()
    chaos.start()
    while any(t.is_alive() for t in threads):
        time.sleep(5)
        alive = sum(t.is_alive() for t in threads)
        elapsed = time.monotonic() - started
        progress(f"{elapsed:5.0f} s: {users - alive}/{users} done, kills {dict(killer.done)}")
    finished.set()
    chaos.join()
    if killer.failure is not None:
        raise RuntimeError(f"a process did not come back: {killer.failure}") from killer.failure
    for process in stack.processes.values():  # settle: everything waiting is processed
        process.wait_healthy(timeout=300)

    lost = duplicated = wrong = complete = 0
    problems = list(failures)
    sender_ids = set()
    hash_key = stack.settings.hash_key()
    with stack.session() as session:
        for index, (lang, _, expected) in enumerate(plans):
            user_id = first_user_id + index
            hashed = subject_hash(user_id, hash_key)
            sender_ids.add(hashed)
            participant = session.scalars(
                select(Participant).where(Participant.subject_hash == hashed)
            ).first()
            profile = (
                None
                if participant is None
                else session.scalars(select(Profile).where(Profile.participant_id == participant.id)).first()
            )
            if profile is None:
                lost += len(expected)
                problems.append(f"user {user_id} ({lang}): no profile")
                continue
            p_lost, p_dup, p_wrong, p_problems = compare(profile.answers, expected)
            lost, duplicated, wrong = lost + p_lost, duplicated + p_dup, wrong + p_wrong
            problems += [f"user {user_id} ({lang}): {p}" for p in p_problems]
            submitted = str(getattr(profile.status, "value", profile.status)) == "submitted"
            if not submitted:
                problems.append(f"user {user_id} ({lang}): status {profile.status}")
            complete += submitted and not (p_lost or p_dup or p_wrong)
    stats = PersonStats()
    for driver in drivers:
        for name in ("turns", "one_moment", "resent", "duplicate_questions"):
            setattr(stats, name, getattr(stats, name) + getattr(driver.stats, name))
    return ChaosResult(
        users=users,
        complete=complete,
        lost=lost,
        duplicated=duplicated,
        wrong=wrong,
        problems=problems,
        kills=dict(killer.done),
        stats=stats,
        processed_twice=processed_twice(stack, sender_ids),
        seconds=time.monotonic() - started,
    )
