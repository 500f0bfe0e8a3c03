"""The fuzz targets: one property per kind of hostile input, shared by tests/fuzz and scripts/fuzz.py.

A target opens what it needs (a temporary database, a python-telegram-bot Application with a
recording Bot API, a fake Rasa) and yields a `check(value)` function. `check` raises
PropertyViolation when the code under test answered wrongly, and lets any other exception (a
crash) through.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import logging
import math
import os
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest, RequestData

import actions.intake as intake
from actions.intake import ValidateIntakeForm
from actions.parsing import (
    MAX_FREE_TEXT,
    button_value,
    countries_in,
    fold,
    parse_choice,
    parse_country,
    parse_language_list,
    parse_years,
)
from actions.profile import answers_from_slots
from actions.questions import BY_SLOT, FORM_SLOTS, QUESTIONS, SKIPPED
from bot.coach.exports import profile_document
from bot.coach.services import SERVICES_KEY, CoachServices
from bot.conversation import Conversation
from bot.inbox import UpdateInbox
from bot.language import detect, should_switch
from bot.rasa_client import RasaClient, RasaUnavailable
from bot.rendering import CALLBACK_DATA_MAX_BYTES, MESSAGE_MAX_CHARS, OutgoingMessage, render
from bot.telegram_app import CONVERSATION_KEY, TRACKER_URL_KEY, register_handlers
from core.languages import CHAT_LANGUAGES
from core.settings import Settings
from storage.crypto import default_cipher
from storage.db import make_engine, make_session_factory, session_scope, upgrade
from storage.export import IncompleteProfileError, validate_export
from storage.hashing import subject_hash
from storage.models import Participant, Profile, ProfileStatus
from storage.repository import ParticipantRepository, ProfileRepository
from tests.fuzz import strategies as S
from tests.support.telegram_standin import BotApiSpec

COUNTRY_CODE = re.compile(r"^[A-Z]{2}$")
LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z]{2,4})?$")  # the schema's language_code
ANSWER_CALLBACK_MAX_CHARS = 200  # Telegram's limit for answerCallbackQuery's text
HASH_KEY = b"fuzz-hash-key-not-secret"
FUZZ_SUBJECT = "f" * 64
TOKEN = f"{S.BOT_ID}:AAH-fuzz-token-not-secret-0000000000"


def ci_settings(max_examples: int) -> settings:
    """The normal test suite's budget: a moderate number of examples, no example database (nothing is
    written to the repository), no per-example deadline (the machine may be busy)."""
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        print_blob=True,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class PropertyViolation(AssertionError):
    """The code under test did not crash but answered something it must not."""


def require(condition: object, message: str) -> None:
    if not condition:
        raise PropertyViolation(message)


Check = Callable[[Any], None]


@dataclass(frozen=True)
class Target:
    """A property over one kind of input; `weight` is its share of the fuzz script's budget."""

    name: str
    strategy: st.SearchStrategy[Any]
    open: Callable[[Path], Any]  # workdir -> context manager yielding the check
    weight: int = 1
    about: str = ""


@contextmanager
def _plain(check: Check) -> Iterator[Check]:
    yield check


def pure(check: Check) -> Callable[[Path], Any]:
    return lambda _workdir: _plain(check)


# --- what a Telegram message may be ------------------------------------------------------------


def check_outgoing(messages: list[OutgoingMessage]) -> None:
    for message in messages:
        require(len(message.text) <= MESSAGE_MAX_CHARS, f"message of {len(message.text)} characters")
        require(message.text.strip(), f"blank text: {message.text!r}")  # Telegram: "message text is empty"
        require(message.lang in CHAT_LANGUAGES, f"unsupported language {message.lang!r}")
        for button in message.button_list():
            require(button.title.strip(), f"blank button title {button.title!r}")
            size = len(button.callback_data.encode("utf-8"))
            require(1 <= size <= CALLBACK_DATA_MAX_BYTES, f"callback_data of {size} bytes")


# --- rendering of Rasa's replies -------------------------------------------------------------


def _button_payloads(response: Mapping[str, Any]) -> list[str]:
    payload = response.get("custom") or response
    return [str(b.get("payload") or "") for b in payload.get("buttons") or []]


def check_render(case: dict[str, Any]) -> None:
    """Either refuses a button payload that cannot be callback_data, or gives sendable messages."""
    responses, fallback = case["responses"], case["fallback"]
    unfit = [p for r in responses for p in _button_payloads(r) if not 1 <= len(p.encode()) <= 64]
    try:
        messages = render(responses, fallback)
    except ValueError as error:
        require(unfit and "callback_data" in str(error), f"render refused fitting payloads: {error}")
        return
    require(not unfit, f"render accepted button payloads Telegram refuses: {unfit[:2]!r}")
    check_outgoing(messages)


RENDER = Target(
    "render",
    st.fixed_dictionaries(
        {
            "responses": st.lists(S.rasa_payload(fitting=False), max_size=4),
            "fallback": st.sampled_from(CHAT_LANGUAGES),
        }
    ),
    pure(check_render),
    weight=2,
    about="bot/rendering.py render() on fuzzed custom payloads",
)


# --- parsers -----------------------------------------------------------------------------------


def check_parse_country(text: str) -> None:
    code, confident = parse_country(text)
    require(code is not None or not confident, "confident without a code")
    require(code is None or (COUNTRY_CODE.match(code) and code in S.country_codes()), f"country {code!r}")


def check_countries_in(text: str) -> None:
    found = countries_in(text)
    require(len(found) == len(set(found)), f"repeated codes {found}")
    require(all(COUNTRY_CODE.match(c) and c in S.country_codes() for c in found), f"countries {found}")


CHOICE_QUESTIONS = tuple(q for q in QUESTIONS if q.options)


def check_parse_choice(case: tuple[int, str, str]) -> None:
    index, text, lang = case
    question = CHOICE_QUESTIONS[index]
    options = question.options + question.extra_options
    code = parse_choice(options, text, lang)
    require(code is None or code in {o.code for o in options}, f"{question.slot}: {code!r}")


def check_parse_years(text: str) -> None:
    years = parse_years(text)
    require(years is None or (math.isfinite(years) and 0 <= years <= 60), f"years {years!r}")


def check_parse_language_list(text: str) -> None:
    codes = parse_language_list(text)
    require(len(codes) == len(set(codes)), f"repeated codes {codes}")
    require(all(LANGUAGE_CODE.match(c) for c in codes), f"language codes {codes}")


def check_fold(text: str) -> None:
    folded = fold(text)
    require(isinstance(folded, str) and folded == " ".join(folded.split()), f"fold gave {folded!r}")
    require(fold(folded) == folded, f"fold is not idempotent on {text!r}: {folded!r}")


def check_button_value(message: dict[str, Any]) -> None:
    value = button_value(message)
    require(value is None or isinstance(value, str), f"button value {value!r}")
    require(value is None or (message.get("intent") or {}).get("name") == "answer", "value without answer")


def check_detect(case: tuple[str, str | None]) -> None:
    text, current = case
    detected = detect(text)
    require(detected is None or detected in CHAT_LANGUAGES, f"detected {detected!r}")
    switch = should_switch(current, text)
    require(switch is None or (switch in CHAT_LANGUAGES and switch != current), f"switch to {switch!r}")


PARSERS = [
    Target(
        "parse_country", S.user_text(), pure(check_parse_country), about="actions/parsing.py parse_country"
    ),
    Target("countries_in", S.user_text(), pure(check_countries_in), about="actions/parsing.py countries_in"),
    Target(
        "parse_choice",
        st.tuples(st.integers(0, len(CHOICE_QUESTIONS) - 1), S.user_text(), st.sampled_from(CHAT_LANGUAGES)),
        pure(check_parse_choice),
        about="actions/parsing.py parse_choice, for every question with options",
    ),
    Target("parse_years", S.user_text(), pure(check_parse_years), about="actions/parsing.py parse_years"),
    Target(
        "parse_language_list",
        S.user_text(),
        pure(check_parse_language_list),
        about="actions/parsing.py parse_language_list",
    ),
    Target("fold", S.user_text(), pure(check_fold), about="actions/parsing.py fold"),
    Target(
        "language_detect",
        st.tuples(S.user_text(), st.one_of(st.none(), st.sampled_from(CHAT_LANGUAGES))),
        pure(check_detect),
        about="bot/language.py detect and should_switch",
    ),
    Target(
        "button_value",
        st.fixed_dictionaries({"text": S.callback_data(), "intent": S.intents(), "entities": S.entities()}),
        pure(check_button_value),
        about="actions/parsing.py button_value on messages Rasa parsed from any callback data",
    ),
]


# --- slot values, the profile and its export -----------------------------------------------------


def allowed_slot_value(slot: str, value: Any) -> bool:
    """Whether the form may store `value` in `slot`: None, a code of the schema's lists, or free text."""
    question = BY_SLOT[slot]
    if value is None:
        return True
    if value == SKIPPED:
        return question.optional
    codes = {o.code for o in question.options + question.extra_options}
    if question.kind == "text":
        if isinstance(value, str):  # cut to MAX_FREE_TEXT after stripping: it may end in a space
            return 0 < len(value) <= MAX_FREE_TEXT and bool(value.strip()) and not value.startswith("/")
        if isinstance(value, dict) and value.get("voice_note_id"):
            return value.get("text") == "" and isinstance(value["voice_note_id"], str)
        return (
            isinstance(value, dict)
            and isinstance(value.get("text"), str)
            and 0 < len(value["text"]) <= MAX_FREE_TEXT
            and value.get("language") in CHAT_LANGUAGES
        )
    if question.kind == "country":
        return isinstance(value, str) and bool(COUNTRY_CODE.match(value)) and value in S.country_codes()
    if question.kind == "years":
        if value in codes:
            return True
        try:
            return 0 <= float(value) <= 60
        except (TypeError, ValueError):
            return False
    if question.kind == "multi":
        if not isinstance(value, list) or not value or len(value) != len(set(value)):
            return False
        if question.max_choices and len(value) > question.max_choices:
            return False
        if slot == "other_languages":  # typed names may give any language code
            return all(isinstance(c, str) and LANGUAGE_CODE.match(c) for c in value)
        return all(c in codes for c in value)
    if question.kind == "summary":
        return value == "confirm"
    return value in codes


def _required_defaults() -> dict[str, dict[str, Any]]:
    return {
        "languages": {"chat": "en", "interview": "en", "interpreter_needed": False},
        "return_plan": {"country": "GE", "timeframe": "undecided"},
        "education": {"isced_level": None},
        "aspirations": {"goal": "undecided", "sectors": []},
    }


def export_with(answers: dict[str, Any]) -> dict[str, Any]:
    """An export document around `answers`, with valid stand-ins only where required fields are missing,
    so that every answer that is present is checked against the schema."""
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC).isoformat()
    document: dict[str, Any] = {
        "schema_version": 1,
        "profile_id": "fuzz-profile-01",
        "status": "in_progress",
        "created_at": now,
        "updated_at": now,
        "submitted_at": None,
        "consent": {"version": "fuzz", "given_at": now},
    }
    document.update(copy.deepcopy(answers))
    for section, required in _required_defaults().items():
        if isinstance(document.get(section), dict):
            for key, value in required.items():
                document[section].setdefault(key, value)
        else:
            document.setdefault(section, required)
    return document


def _schema_problem(document: dict[str, Any]) -> str | None:
    try:
        validate_export(document)
    except ValidationError as error:
        return f"{error.message[:200]} at /{'/'.join(map(str, error.absolute_path))}"
    return None


def check_profile(case: dict[str, Any]) -> None:
    """answers_from_slots never crashes; the export is schema-valid or clearly refused.

    Reachable slot values (what the form stores) must give a valid export whenever it is complete;
    arbitrary values may also be refused by validation (the coach pages answer 422 / leave it out)."""
    answers = answers_from_slots(case["slots"], case["lang"], case["source"])
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    participant = Participant(subject_hash=FUZZ_SUBJECT, chat_language=case["lang"])
    if case["consented"]:
        participant.consent_version, participant.consent_given_at = "fuzz", now
    profile = Profile(
        id="fuzz-profile-01",
        status=ProfileStatus.SUBMITTED,
        answers=answers,
        created_at=now,
        updated_at=now,
        submitted_at=now,
    )
    profile.participant = participant
    if not case["hostile"]:
        problem = _schema_problem(export_with(answers))
        require(problem is None, f"reachable slots gave answers that break the schema: {problem}")
    try:
        document = profile_document(profile)
    except IncompleteProfileError as refusal:
        require(refusal.missing, "refused without saying what is missing")
        return
    except ValidationError:
        require(case["hostile"], "reachable slots gave an export that breaks the schema")
        return
    validate_export(document)


PROFILE = Target(
    "profile_export",
    S.profile_case(),
    pure(check_profile),
    weight=2,
    about="actions/profile.py answers_from_slots -> storage/export.py profile_to_export -> validate_export",
)


# --- the slot validators of the intake form --------------------------------------------------------


@dataclass
class ActionsHarness:
    """The intake form's validators with their database (a migrated SQLite file) and one consented person."""

    sessions: sessionmaker[Session]
    runner: asyncio.Runner
    form: ValidateIntakeForm = field(default_factory=ValidateIntakeForm)

    def check(self, case: dict[str, Any]) -> None:
        slot, value = case["slot"], case["value"]
        slots = dict(case["slots"])
        if case["submitted"]:
            slots["intake_status"] = "submitted"
        tracker = Tracker.from_dict(
            {
                "sender_id": FUZZ_SUBJECT,
                "slots": slots,
                "latest_message": case["latest_message"],
                "events": [],
                "active_loop": {"name": intake.FORM},
                "latest_action_name": "action_listen",
            }
        )
        with session_scope(self.sessions) as session:  # each case starts from an empty draft
            participant = ParticipantRepository(session).get_by_subject(FUZZ_SUBJECT)
            for profile in ProfileRepository(session).all_for(participant) if participant else []:
                profile.set_answers({})
        dispatcher = CollectingDispatcher()
        validate = getattr(self.form, f"validate_{slot}")
        updates = self.runner.run(validate(value, dispatcher, tracker, {}))
        require(isinstance(updates, dict), f"validator returned {updates!r}")
        earlier = value is not None and value != case["latest_message"]["text"]
        for key, new in updates.items():
            if key in FORM_SLOTS:
                require(earlier or allowed_slot_value(key, new), f"{key} <- {new!r:.200}")
            elif key == "multi_selection":
                codes = {o.code for o in BY_SLOT[slot].options}
                require(new is None or (isinstance(new, list) and set(new) <= codes), f"selection {new!r}")
            elif key == "country_candidate":
                require(new is None or new in S.country_codes(), f"country candidate {new!r}")
            elif key == "work_experience":
                problem = _schema_problem(export_with({"work_experience": new}))
                require(problem is None, f"work experience breaks the schema: {problem}")
            else:
                raise PropertyViolation(f"validator set an unknown slot {key!r}")
        for sent in dispatcher.messages:  # what the bot will render: within Telegram's limits
            if sent.get("custom"):
                check_outgoing(render([{"custom": sent["custom"]}], "en"))
        with self.sessions() as session:
            participant = ParticipantRepository(session).get_by_subject(FUZZ_SUBJECT)
            profile = ProfileRepository(session).latest_for(participant) if participant else None
            stored = copy.deepcopy(profile.answers) if profile is not None else {}
        problem = _schema_problem(export_with(stored))
        require(problem is None, f"the draft profile breaks the schema: {problem}")


@contextmanager
def open_actions(workdir: Path) -> Iterator[Check]:
    url = f"sqlite:///{workdir / 'actions.db'}"
    upgrade(url)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        participants = ParticipantRepository(session)
        participants.record_consent(participants.get_or_create(FUZZ_SUBJECT), "fuzz", "en")
    saved = intake.unit_of_work, intake.file_voice_notes
    intake.unit_of_work = lambda: session_scope(sessions)  # type: ignore[assignment]
    intake.file_voice_notes = lambda profile_id, note_ids: None  # the file store is not under test
    try:
        with asyncio.Runner() as runner:
            yield ActionsHarness(sessions, runner).check
    finally:
        intake.unit_of_work, intake.file_voice_notes = saved
        engine.dispose()


VALIDATORS = Target(
    "slot_validators",
    S.validator_case(),
    open_actions,
    weight=3,
    about="actions/intake.py validate_<slot> with Tracker.from_dict trackers, and the draft they save",
)


# --- Telegram update handling ------------------------------------------------------------------------


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]


class RecordingRequest(BaseRequest):
    """The Bot API without a network: records each call, checks it against the Bot API spec, and
    answers what Telegram would (optionally refusing edits, as Telegram does for unchanged texts)."""

    def __init__(self, spec: BotApiSpec) -> None:
        self.spec = spec
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.edit_fails = False
        self._message_ids = itertools.count(1)

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        if "/file/bot" in url:
            return 200, b"OggS\x00fuzz voice"
        name = url.rsplit("/", 1)[-1]
        params: dict[str, Any] = dict(request_data.parameters) if request_data else {}
        for part in request_data.multipart_data if request_data else {}:
            params.setdefault(part, f"attach://{part}")
        self.calls.append(ApiCall(name, params))
        spec_name = self.spec.resolve(name)
        if spec_name is None:
            self.violations.append(f"{name}: not a Bot API method")
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found"}'
        fields = self.spec.fields(spec_name)
        problems = [f"unknown parameter {key!r}" for key in params if key not in fields]
        problems += [f"missing {key!r}" for key, f in fields.items() if f["required"] and key not in params]
        for key, value in params.items():
            if key in fields:
                problems += self.spec.check(value, fields[key]["types"], key)
        if problems:
            self.violations += [f"{name}: {problem}" for problem in problems]
            body = {"ok": False, "error_code": 400, "description": f"Bad Request: {problems[0]}"}
            return 400, json.dumps(body).encode()
        if self.edit_fails and name.startswith("editMessage"):
            body = {"ok": False, "error_code": 400, "description": "Bad Request: message is not modified"}
            return 400, json.dumps(body).encode()
        return 200, json.dumps({"ok": True, "result": self._result(name, params)}).encode()

    def _result(self, method: str, params: dict[str, Any]) -> Any:
        bot = {"id": S.BOT_ID, "is_bot": True, "first_name": "Intake", "username": S.BOT_USERNAME}
        if method == "getMe":
            return {
                **bot,
                "can_join_groups": False,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        chat_id = params.get("chat_id", 1)
        chat = (
            {"id": chat_id, "type": "private"} if isinstance(chat_id, int) else {"id": 1, "type": "private"}
        )
        if method in ("sendMessage", "sendDocument"):
            message: dict[str, Any] = {
                "message_id": next(self._message_ids),
                "date": 1,
                "chat": chat,
                "from": bot,
            }
            if method == "sendMessage":
                message["text"] = params["text"]
            else:
                message["document"] = {"file_id": "BQACsent", "file_unique_id": "sent1"}
            return message
        if method.startswith("editMessage"):
            return {
                "message_id": params.get("message_id", 1),
                "date": 1,
                "chat": chat,
                "from": bot,
                "text": "…",
            }
        if method == "getFile":
            return {
                "file_id": params["file_id"],
                "file_unique_id": "u1",
                "file_size": 15,
                "file_path": "voice/1.oga",
            }
        return True


def _unavailable() -> RasaUnavailable:
    """Rasa did not answer (and may have got the message), for RasaUnavailable with or without `reached`."""
    try:
        return RasaUnavailable("fuzz", reached=True)  # type: ignore[call-arg]
    except TypeError:
        return RasaUnavailable("fuzz")


class FakeRasa(RasaClient):
    """Rasa's REST channel without Rasa: answers each message with the case's payloads."""

    def __init__(self) -> None:  # no HTTP client
        self.behaviour: dict[str, Any] = {"replies": [], "echo": False, "unavailable": False}
        self.requests: list[tuple[str, str, dict[str, Any]]] = []

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[dict[str, Any]]:
        self.requests.append((sender_id, text, copy.deepcopy(metadata)))
        if self.behaviour["unavailable"]:
            raise _unavailable()
        replies = copy.deepcopy(self.behaviour["replies"])
        if self.behaviour["echo"]:  # the person's own words come back, as in the summary
            lang = metadata.get("chat_language") or "en"
            replies.append(
                {
                    "custom": {
                        "lang": lang,
                        "text": "Did you mean {country}?",
                        "params": {"country": text},
                        "lines": [{"label": "Notes", "value": text}],
                        "buttons": [{"title": text[:40], "raw": True, "payload": "/affirm"}],
                    }
                }
            )
        return replies

    async def is_healthy(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _user_texts(payload: dict[str, Any]) -> list[str]:
    """The person's words in an update: what must never show up in a log line at INFO or above."""
    found = []
    for key in ("message", "edited_message", "channel_post"):
        message = payload.get(key) or {}
        found += [message.get("text"), message.get("caption")]
    found.append((payload.get("callback_query") or {}).get("data"))
    return [t.strip() for t in found if isinstance(t, str) and len(t.strip()) >= 12]


@dataclass
class TelegramHarness:
    """register_handlers() on a real Application whose Bot API is a RecordingRequest."""

    workdir: Path
    runner: asyncio.Runner
    settings: Settings
    inbox: UpdateInbox
    spec: BotApiSpec
    update_ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def check(self, case: dict[str, Any]) -> None:
        self.runner.run(self._check(case))

    async def _check(self, case: dict[str, Any]) -> None:
        request = RecordingRequest(self.spec)
        request.edit_fails = case["edit_fails"]
        rasa = FakeRasa()
        rasa.behaviour = case["rasa"]
        application = Application.builder().token(TOKEN).request(request).get_updates_request(request).build()
        register_handlers(application)
        errors: list[BaseException] = []

        async def record_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
            errors.append(context.error or RuntimeError("error handler called without an error"))

        application.add_error_handler(record_error)
        application.bot_data.update(
            {
                CONVERSATION_KEY: Conversation(rasa, HASH_KEY, self.workdir / "voice"),
                TRACKER_URL_KEY: f"sqlite:///{self.workdir / 'tracker.db'}",
                SERVICES_KEY: CoachServices(self.settings, application),
            }
        )
        records = _Records()
        root = logging.getLogger()
        level = root.level
        root.addHandler(records)
        root.setLevel(logging.INFO)
        await application.initialize()
        try:
            for position, payload in enumerate(case["updates"]):
                update = Update.de_json({"update_id": next(self.update_ids), **payload}, application.bot)
                # What the update queue does (bot/inbox.py): store, drop a repeat, then handle.
                if await self.inbox.admit(update):
                    await application.process_update(update)
                if position == 0 and case["repeat_first"]:  # Telegram delivers it again
                    calls, asked = len(request.calls), len(rasa.requests)
                    if await self.inbox.admit(update):
                        await application.process_update(update)
                    require(
                        len(request.calls) == calls and len(rasa.requests) == asked, "a repeat had an effect"
                    )
        finally:
            await application.shutdown()
            root.removeHandler(records)
            root.setLevel(level)
        if errors:
            raise errors[0]  # the handler's own exception, with its traceback
        require(not request.violations, f"Bot API calls Telegram refuses: {request.violations[:3]}")
        for call in request.calls:
            _check_call(call)
        _check_rasa_requests(case, rasa)
        words = [t for payload in case["updates"] for t in _user_texts(payload)]
        for record in records.records:
            line = record.getMessage()
            require(
                not any(w in line for w in words),
                f"the user's words logged at {record.levelname}: {line:.100}",
            )


def _check_call(call: ApiCall) -> None:
    text = call.params.get("text")
    if call.method in ("sendMessage", "editMessageText"):
        require(isinstance(text, str) and text.strip(), f"{call.method} with blank text {text!r}")
        require(len(text) <= MESSAGE_MAX_CHARS, f"{call.method} text of {len(text)} characters")
    if call.method == "answerCallbackQuery" and text is not None:
        require(len(text) <= ANSWER_CALLBACK_MAX_CHARS, f"callback answer of {len(text)} characters")
    markup = call.params.get("reply_markup")
    for row in markup.get("inline_keyboard", []) if isinstance(markup, dict) else []:
        for button in row:
            data = button.get("callback_data", "")
            size = len(data.encode("utf-8"))
            require(1 <= size <= CALLBACK_DATA_MAX_BYTES, f"callback_data of {size} bytes: {data!r:.80}")


def _check_rasa_requests(case: dict[str, Any], rasa: FakeRasa) -> None:
    """Rasa only sees the keyed hash of a person's id, and the chat id only encrypted."""
    users = {
        str(
            (p.get("message") or p.get("edited_message") or p.get("callback_query") or {})
            .get("from", {})
            .get("id")
        )
        for p in case["updates"]
    }
    hashes = {subject_hash(int(u), HASH_KEY) for u in users if u.isdigit()}
    for sender_id, _text, metadata in rasa.requests:
        require(sender_id in hashes, "Rasa got a sender id that is not the keyed hash of the user id")
        chat_ref = metadata.get("chat_ref")
        if chat_ref is not None:
            require(
                default_cipher().decrypt(chat_ref).lstrip("-").isdigit(), "chat_ref is not an encrypted id"
            )
            require(not str(chat_ref).lstrip("-").isdigit(), "chat id sent in clear")


@contextmanager
def open_telegram(workdir: Path) -> Iterator[Check]:
    saved = os.environ.get("PTB_TIMEDELTA")
    os.environ["PTB_TIMEDELTA"] = "true"  # durations as timedelta, as the bot runs them
    url = f"sqlite:///{workdir / 'bot.db'}"
    upgrade(url)
    engine = make_engine(url)
    tracker = create_engine(f"sqlite:///{workdir / 'tracker.db'}")
    with tracker.begin() as connection:  # the part of Rasa's tracker store that /delete erases
        connection.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT)"))
    tracker.dispose()
    settings = Settings(DATA_DIR=workdir, DATABASE_URL=url)  # type: ignore[call-arg]
    try:
        with asyncio.Runner() as runner:
            harness = TelegramHarness(
                workdir, runner, settings, UpdateInbox(make_session_factory(engine)), BotApiSpec()
            )
            yield harness.check
    finally:
        engine.dispose()
        if saved is None:
            os.environ.pop("PTB_TIMEDELTA", None)
        else:
            os.environ["PTB_TIMEDELTA"] = saved


UPDATES = Target(
    "telegram_updates",
    S.update_case(),
    open_telegram,
    weight=4,
    about="bot/telegram_app.py register_handlers: Application.process_update on fuzzed Update objects",
)

TARGETS: dict[str, Target] = {t.name: t for t in (UPDATES, RENDER, VALIDATORS, PROFILE, *PARSERS)}
