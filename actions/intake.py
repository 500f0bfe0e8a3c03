"""The intake form: asking each question, validating answers, digressions, corrections, submission."""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.actions import chat_language, count_start_once, detected_language, reply
from actions.parsing import (
    button_value,
    countries_in,
    fold,
    is_country_code,
    parse_choice,
    parse_country,
    parse_free_text,
    parse_language_list,
    parse_years,
)
from actions.profile import answers_from_slots, work_entry
from actions.questions import (
    BY_SLOT,
    FORM_SLOTS,
    FREQUENT_COUNTRIES,
    QUESTIONS,
    SKIPPED,
    SUMMARY_CONFIRM,
    TOTAL_STEPS,
    WORK_SLOTS,
    YES_NO,
    Option,
    Question,
    _,
)
from actions.store import file_voice_notes, unit_of_work
from core.i18n import translate
from core.languages import country_name
from storage.coach import enqueue_submission_notice
from storage.repository import ParticipantRepository, ProfileRepository

logger = logging.getLogger(__name__)

DONE = "__done__"
NO = "__no__"
FORM = "intake_form"

MSG_WELCOME = _(
    "Hello! I help you prepare your first meeting with a coach of the return counselling programme. "
    "Which language do you want to use?"
)
MSG_CHOOSE = _("Please tap one of the buttons, or write the answer in other words.")
MSG_REQUIRED = _("I need this answer to prepare your meeting. Please answer this question.")
MSG_TEXT_EMPTY = _("Please write your answer as text, or send a voice message.")
MSG_COUNTRY_UNKNOWN = _("I do not know this country. Please write its name again, or tap a button.")
MSG_DID_YOU_MEAN = _("Did you mean {country}?")
MSG_TOO_MANY = _("You can choose up to {count}. Tap a chosen one to remove it.")
MSG_YEARS = _("Please write a number of years, for example 3, or tap a button.")
MSG_PAUSED = _("OK, we stop here. Your answers are saved. Send /start when you want to continue.")
MSG_WELCOME_BACK = _("Welcome back! We continue where you stopped.")
MSG_RESTARTED = _("OK, we start the questions again from the beginning.")
MSG_CHANGED = _("Thank you, I changed your answer.")
MSG_WHICH_ANSWER = _("Which answer do you want to change?")
MSG_SUBMITTED = _(
    "Thank you! Your answers are now with the coaches. A coach will contact you to arrange your first "
    "meeting. You can see your data with /mydata and delete it with /delete."
)
MSG_ALREADY_SUBMITTED = _(
    "You have already sent your answers. A coach will contact you. To change an answer, "
    "tap it in the list below."
)
MSG_SKIP = _("I prefer not to say")
MSG_DONE = _("Done ✔")
MSG_WHY = _("❓ Why do you ask?")
MSG_NO_CORRECT = _("No, that is not correct")
MSG_OTHER_COUNTRY = _("Another country: please write its name.")
MSG_NOT_ANSWERED = _("not answered")


def answer_payload(value: str) -> str:
    return "/answer" + json.dumps({"value": value}, separators=(",", ":"), ensure_ascii=False)


def edit_payload(slot: str) -> str:
    return "/edit_answer" + json.dumps({"slot": slot}, separators=(",", ":"))


def _button(title: str, value: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "payload": answer_payload(value), **extra}


def intake_finished(tracker: Tracker) -> bool:
    return tracker.get_slot("intake_status") == "submitted"


# --- asking ---------------------------------------------------------------------------------


def question_payload(
    question: Question, tracker: Tracker, lang: str, replace: bool = False
) -> dict[str, Any]:
    """The custom payload that asks one question (see bot/rendering.py for the format)."""
    payload: dict[str, Any] = {
        "lang": lang,
        "text": question.text,
        "progress": f"{question.step}/{TOTAL_STEPS}",
    }
    buttons: list[dict[str, Any]] = []
    if question.kind == "country":
        candidate = tracker.get_slot("country_candidate")
        if candidate:
            payload.update(text=MSG_DID_YOU_MEAN, params={"country": country_name(candidate, lang)})
            buttons = [_button(YES_NO[0].label, candidate), _button(MSG_NO_CORRECT, NO)]
            payload.update(buttons=buttons, columns=2)
            return payload
        buttons = [_button(country_name(code, lang), code, raw=True) for code in FREQUENT_COUNTRIES]
        payload["footer"] = MSG_OTHER_COUNTRY
    elif question.kind == "multi":
        chosen = tracker.get_slot("multi_selection") or []
        buttons = [
            _button(o.label, o.code, raw=not o.translate, selected=o.code in chosen, suffix=o.suffix)
            for o in question.options
        ]
        buttons.append(_button(MSG_DONE, DONE, row=True))
        payload["replace"] = replace
    elif question.kind == "summary":
        payload.update(summary_payload(tracker, lang))
        buttons = [_button(SUMMARY_CONFIRM.label, SUMMARY_CONFIRM.code, row=True)]
        buttons.extend(payload.pop("edit_buttons"))
    else:
        options: tuple[Option, ...] = question.options + question.extra_options
        buttons = [_button(o.label, o.code, raw=not o.translate) for o in options]
    if question.optional and question.kind != "summary":
        buttons.append(_button(MSG_SKIP, SKIPPED, row=True))
    if question.kind != "summary":
        buttons.append({"title": MSG_WHY, "payload": "/ask_why", "row": True})
    payload.update(buttons=buttons, columns=question.columns)
    return payload


def display_value(question: Question, value: Any, lang: str) -> tuple[str, bool]:
    """(text, translate?) of an answer for the summary."""
    if value is None or value == SKIPPED:
        return MSG_NOT_ANSWERED, True
    if question.kind == "country":
        return country_name(str(value), lang), False
    if question.kind == "text":
        if isinstance(value, dict):
            prefix = "🎤 " if value.get("voice_note_id") else ""
            return prefix + str(value.get("text") or "…"), False
        return str(value), False
    options = {o.code: o for o in question.options + question.extra_options}
    if question.kind == "multi":
        labels = [
            (translate(lang, options[c].label) if options[c].translate else options[c].label)
            + options[c].suffix
            for c in value
            if c in options
        ]
        return (", ".join(labels), False) if labels else (MSG_NOT_ANSWERED, True)
    option = options.get(str(value))
    if question.kind == "years" and option is None:
        return str(value), False
    return (option.label, option.translate) if option else (str(value), False)


def summary_payload(tracker: Tracker, lang: str) -> dict[str, Any]:
    """The summary lines and one edit button per answered question."""
    lines: list[dict[str, Any]] = []
    edit_buttons: list[dict[str, Any]] = []
    work = list(tracker.get_slot("work_experience") or [])
    for question in QUESTIONS:
        if not question.summary_label or question.slot in WORK_SLOTS:
            if question.slot == "work_sector":
                sector_labels = {o.code: o.label for o in BY_SLOT["work_sector"].options}
                if work:
                    for entry in work:
                        value = sector_labels.get(entry["sector"], "")
                        lines.append({"label": question.summary_label, "value": value, "translate": True})
                else:
                    lines.append(
                        {"label": question.summary_label, "value": MSG_NOT_ANSWERED, "translate": True}
                    )
                edit_buttons.append({"title": question.summary_label, "payload": edit_payload(question.slot),
                                     "prefix": "✏️ "})  # fmt: skip
            continue
        if question.slot not in required_slots_for(tracker.slots):
            continue
        text, translate = display_value(question, tracker.get_slot(question.slot), lang)
        lines.append({"label": question.summary_label, "value": text, "translate": translate})
        edit_buttons.append(
            {"title": question.summary_label, "payload": edit_payload(question.slot), "prefix": "✏️ "}
        )
    return {"lines": lines, "edit_buttons": edit_buttons}


def toggled_this_turn(tracker: Tracker) -> bool:
    """Whether the user's last message ticked or unticked a choice (so the question is redrawn in place)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == "multi_selection":
            return isinstance(event.get("value"), list)
    return False


class AskQuestion(Action):
    """action_ask_<slot>: asks one question with its buttons and progress."""

    slot = ""

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        question = BY_SLOT[self.slot]
        replace = question.kind == "multi" and toggled_this_turn(tracker)
        dispatcher.utter_message(
            json_message=question_payload(question, tracker, chat_language(tracker), replace)
        )
        return []


# One ask action per question, registered with rasa-sdk like any other Action subclass. They are
# module attributes so that Sanic's worker process can unpickle them by name.
ASK_ACTIONS = [
    type(f"Ask_{slot}", (AskQuestion,), {"slot": slot, "__module__": __name__}) for slot in FORM_SLOTS
]
globals().update({action.__name__: action for action in ASK_ACTIONS})


# --- validating -----------------------------------------------------------------------------


DIGRESSION_RESPONSES = {
    "help": "utter_help",
    "ask_data_use": "utter_data_use",
    "consent_more_info": "utter_data_use",
}


QUESTION_MARKS = ("?", "؟", ";", "՞")


def asked_about_the_question(message: dict[str, Any], text: str, free_text: bool) -> str | None:
    """The digression intent of a message when it is one for sure: a button, or a short, confident text.
    Anything else is taken as an answer ("Pflege" is a job, even if it sounds like "Hilfe")."""
    intent = message.get("intent") or {}
    name = str(intent.get("name") or "")
    if name not in (*DIGRESSION_RESPONSES, "ask_why"):
        return None
    if text.startswith("/"):
        return name
    sure = float(intent.get("confidence") or 0) >= 0.9
    if free_text:  # any words may be the answer ("Pflege" is a job, not "Hilfe"): only a question asks
        return name if sure and text.rstrip().endswith(QUESTION_MARKS) else None
    return name if sure and len(text.split()) <= 6 else None


def is_off_topic(message: dict[str, Any]) -> bool:
    """A message the NLU is sure is about something else ("tell me a joke")."""
    intent = message.get("intent") or {}
    return intent.get("name") == "out_of_scope" and float(intent.get("confidence") or 0) >= 0.8


def is_off_topic_question(message: dict[str, Any], text: str) -> bool:
    """A confident out-of-scope question, not an answer (any other text answers an open question)."""
    return is_off_topic(message) and text.rstrip().endswith(QUESTION_MARKS)


def not_an_answer(dispatcher: CollectingDispatcher, lang: str, message: dict[str, Any], hint: str) -> None:
    """Typed text that answers none of the choices: the short honest answer when it is about something
    else, else how to answer. The question is asked again after either."""
    if is_off_topic(message):
        dispatcher.utter_message(response="utter_out_of_scope")
    else:
        reply(dispatcher, lang, hint)


def required_slots_for(slots: dict[str, Any]) -> list[str]:
    """The questions that apply, given the answers so far."""
    required = list(FORM_SLOTS)
    if slots.get("goal") != "self_employment":
        required.remove("business_idea")
    if slots.get("work_sector") == "none":
        for slot in WORK_SLOTS[1:]:
            required.remove(slot)
    return required


def save_draft(tracker: Tracker, updates: dict[str, Any]) -> None:
    """Write the answers so far to the draft profile, so nothing is lost and coaches see progress."""
    slots = {**tracker.slots, **updates}
    lang = chat_language(tracker)
    answers = answers_from_slots(slots, lang, tracker.get_slot("chat_language_source"))
    with unit_of_work() as session:
        participant = ParticipantRepository(session).get_by_subject(tracker.sender_id)
        if participant is None:  # no consent, nothing is stored
            return
        profiles = ProfileRepository(session)
        if not intake_finished(tracker) and profiles.submitted_with(participant, answers):
            return  # the submitted answers, sent again after a restart: no new draft of them
        profile = (
            profiles.draft_for(participant)
            if not intake_finished(tracker)
            else profiles.latest_for(participant)
        )
        if profile is None:
            return
        if intake_finished(tracker):
            answers.setdefault("flags", []).extend(
                {"field": f, "kind": "changed_after_submit"}
                for f in _changed_pointers(profile.answers, answers)
            )
        profile.set_answers(answers)
        file_voice_notes(profile.id, [note["id"] for note in answers.get("voice_notes", [])])


def _changed_pointers(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    old_flags = {(f["field"], f["kind"]) for f in before.get("flags", [])}
    changed = []
    for section in set(before) | set(after):
        unchanged = section == "flags" or before.get(section) == after.get(section)
        if not unchanged and (f"/{section}", "changed_after_submit") not in old_flags:
            changed.append(f"/{section}")
    kept = [{"field": f, "kind": k} for f, k in old_flags if k == "changed_after_submit"]
    return [*[k["field"] for k in kept], *changed]


class ValidateIntakeForm(FormValidationAction):
    """Delegates each answer to the pure parsers in actions/parsing.py."""

    def name(self) -> str:
        return "validate_intake_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        return required_slots_for(tracker.slots)

    def validate_answer(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        question = BY_SLOT[slot]
        lang = chat_language(tracker)
        message = tracker.latest_message
        if value is not None and value != message.get("text"):
            # Not this message's answer: an earlier one that Rasa re-validates when the form is
            # activated again (after a pause, a digression or an edit). It stays as it was.
            return {slot: value}
        tapped = button_value(message)
        text = str(value) if isinstance(value, str) else ""

        if tapped == SKIPPED or (tapped is None and self._typed_skip(question, message, text, lang)):
            if question.optional:
                updates: dict[str, Any] = {slot: SKIPPED, "multi_selection": None}
                if slot == "work_sector":
                    updates.update(dict.fromkeys(WORK_SLOTS[1:], SKIPPED))
                return updates
            reply(dispatcher, lang, MSG_REQUIRED)
            return {slot: None}

        digression = asked_about_the_question(message, text, question.kind == "text")
        if digression is not None:
            # "Why do you ask?", "help", "who sees this?": answered, then the question again.
            if digression == "ask_why":
                reply(dispatcher, lang, question.why)
            else:
                dispatcher.utter_message(response=DIGRESSION_RESPONSES[digression])
            return {slot: None}

        if is_off_topic_question(message, text):
            # "What is the weather tomorrow?": a short honest answer, then the question again.
            dispatcher.utter_message(response="utter_out_of_scope")
            return {slot: None}

        if question.kind == "text":
            voice = (message.get("metadata") or {}).get("voice")
            if isinstance(voice, dict) and voice.get("voice_note_id"):
                note = {"voice_note_id": str(voice["voice_note_id"]), "text": ""}
                return {
                    slot: {**note, "duration": voice.get("duration"), "mime_type": voice.get("mime_type")}
                }
            answer = parse_free_text(text)
            if answer is None:
                reply(dispatcher, lang, MSG_TEXT_EMPTY)
                return {slot: None}
            written_in = detected_language(tracker)
            if written_in and written_in != lang and slot != "display_name":
                return {slot: {"text": answer, "language": written_in}}
            return {slot: answer}

        if question.kind == "country":
            if tapped == NO:
                return {slot: None, "country_candidate": None}
            if tapped:  # our buttons only carry country codes; other data was made up by the client
                if is_country_code(tapped):
                    return {slot: tapped, "country_candidate": None}
                reply(dispatcher, lang, MSG_COUNTRY_UNKNOWN)
                return {slot: None, "country_candidate": None}
            code, confident = parse_country(text)
            if code and confident:
                return {slot: code, "country_candidate": None}
            if code:
                return {slot: None, "country_candidate": code}  # the ask action asks "Did you mean ...?"
            not_an_answer(dispatcher, lang, message, MSG_COUNTRY_UNKNOWN)
            return {slot: None, "country_candidate": None}

        if question.kind == "multi":
            return self._toggle(question, tapped, text, dispatcher, tracker, lang)

        if question.kind == "summary":
            return {slot: SUMMARY_CONFIRM.code if tapped == SUMMARY_CONFIRM.code else None}

        options = question.options + question.extra_options
        code = tapped if tapped in {o.code for o in options} else None
        if code is None and question.kind == "years":
            years = parse_years(text)
            if years is not None:
                return {slot: str(years)}
        if code is None and not tapped:
            code = parse_choice(options, text, lang)
        if code is None:
            not_an_answer(dispatcher, lang, message, MSG_YEARS if question.kind == "years" else MSG_CHOOSE)
            return {slot: None}
        return self._after_choice(slot, code, tracker)

    @staticmethod
    def _typed_skip(question: Question, message: dict[str, Any], text: str, lang: str) -> bool:
        """ "I prefer not to say" in words: a confident skip intent that is not itself an answer ("2")."""
        if fold(text) in (fold(MSG_SKIP), fold(translate(lang, MSG_SKIP))):  # the button's words, typed
            return True
        intent = message.get("intent") or {}
        if intent.get("name") != "skip_question" or float(intent.get("confidence") or 0) < 0.6:
            return False
        if question.kind == "years":
            return parse_years(text) is None
        if question.kind == "country":
            return parse_country(text)[0] is None
        if question.kind in ("choice", "multi"):
            return parse_choice(question.options + question.extra_options, text, lang) is None
        # A free-text question: any text may be the answer ("Ich möchte als Köchin arbeiten" was taken
        # for a skip with 0.98), so only a very sure "skip" of one or two words skips ("überspringen",
        # "nicht sagen"); the button, or its words typed, always does. A longer refusal is kept as the
        # answer, where the coach reads it.
        return float(intent.get("confidence") or 0) >= 0.95 and len(text.split()) <= 2

    @staticmethod
    def _after_choice(slot: str, code: str, tracker: Tracker) -> dict[str, Any]:
        if slot == "work_sector" and code == "none":
            return {slot: code, **dict.fromkeys(WORK_SLOTS[1:], SKIPPED)}
        if slot == "work_more":
            entries = list(tracker.get_slot("work_experience") or [])
            entry = work_entry(tracker.slots, chat_language(tracker))
            if entry:
                entries.append(entry)
            if code == "yes":  # ask the work questions again for the next job
                return {"work_experience": entries, **dict.fromkeys(WORK_SLOTS, None)}
            return {"work_experience": entries, slot: code}
        return {slot: code}

    @staticmethod
    def _toggle(
        question: Question, tapped: str | None, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
        lang: str,
    ) -> dict[str, Any]:  # fmt: skip
        chosen = list(tracker.get_slot("multi_selection") or [])
        codes = {o.code for o in question.options}
        if tapped == DONE:
            return {question.slot: chosen or SKIPPED, "multi_selection": None}
        if tapped in codes:
            if tapped in chosen:
                chosen.remove(tapped)
            elif question.max_choices and len(chosen) >= question.max_choices:
                reply(dispatcher, lang, MSG_TOO_MANY, count=question.max_choices)
            else:
                chosen.append(tapped)
            return {question.slot: None, "multi_selection": chosen}
        # Typed: a list of names; taken as the whole answer when it names something.
        if question.slot == "other_languages":
            typed = [c for c in parse_language_list(text) if c != lang]
        else:
            parts = [p for p in text.replace(";", ",").split(",") if p.strip()]
            typed = [c for c in (parse_choice(question.options, p, lang) for p in parts) if c]
        typed = list(dict.fromkeys(chosen + typed))[: question.max_choices or None]
        if typed:
            return {question.slot: typed, "multi_selection": None}
        not_an_answer(dispatcher, lang, tracker.latest_message, MSG_CHOOSE)
        return {question.slot: None, "multi_selection": chosen}


def _make_validator(slot: str) -> Any:
    async def validate(
        self: ValidateIntakeForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        updates = self.validate_answer(slot, value, dispatcher, tracker)
        if any(v is not None for k, v in updates.items() if k in FORM_SLOTS or k == "work_experience"):
            save_draft(tracker, updates)
        return updates

    return validate


for _slot in FORM_SLOTS:
    setattr(ValidateIntakeForm, f"validate_{_slot}", _make_validator(_slot))


# --- digressions, pausing, corrections, submission ----------------------------------------------


class ActionExplainQuestion(Action):
    """'Why do you ask?': the reason for the open question, then the question again."""

    def name(self) -> str:
        return "action_explain_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        question = BY_SLOT.get(str(tracker.get_slot("requested_slot") or ""))
        if question is None:
            dispatcher.utter_message(response="utter_why_general")
        else:
            reply(dispatcher, lang, question.why)
        return []


def typed_answer(question: Question, text: str, lang: str) -> str | None:
    """What a typed text answers to a choice, years or country question, if it clearly does."""
    if question.kind == "years":
        years = parse_years(text)
        return str(years) if years is not None else None
    if question.kind == "country":
        code, confident = parse_country(text)
        return code if confident else None
    if question.kind == "choice":
        return parse_choice(question.options + question.extra_options, text, lang)
    return None


def answer_instead(
    dispatcher: CollectingDispatcher, tracker: Tracker, trust_short: bool = True
) -> list[EventType] | None:
    """An open question's answer that NLU took for "stop", "start again" or a correction.

    At a free-text question a typed message is the answer unless it is short and NLU is very sure
    ("Ich möchte als Köchin arbeiten" is not a wish to stop). The commands (/stop ...) always act.
    Returns the events that file it as the answer, or None when it really is the digression.
    """
    slot = str(tracker.get_slot("requested_slot") or "")
    question = BY_SLOT.get(slot)
    message = tracker.latest_message
    text = str(message.get("text") or "")
    confidence = float((message.get("intent") or {}).get("confidence") or 0)
    if question is None or tracker.active_loop.get("name") != FORM or text.startswith("/"):
        return None
    if question.kind != "text" and slot not in ("work_sector", "work_more"):  # "2" at "how many years?"
        code = typed_answer(question, text, chat_language(tracker))  # is an answer, whatever NLU thought
        if code is None:
            return None
        save_draft(tracker, {slot: code})
        return [SlotSet(slot, code), FollowupAction(FORM)]
    if question.kind != "text":
        return None
    if trust_short and confidence >= 0.95 and len(text.split()) <= 3:
        return None
    answer = parse_free_text(text)
    if answer is None:
        return None
    save_draft(tracker, {slot: answer})
    return [SlotSet(slot, answer), FollowupAction(FORM)]


class ActionPauseIntake(Action):
    def name(self) -> str:
        return "action_pause_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        instead = answer_instead(dispatcher, tracker)
        if instead is not None:
            return instead
        reply(dispatcher, chat_language(tracker), MSG_PAUSED)
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionStart(Action):
    """/start: language choice for a newcomer, or back into the intake for someone who consented."""

    def name(self) -> str:
        return "action_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot("consent_given"):
            return welcome(dispatcher, tracker)
        # Typed during a question, "Тбилиси" is an answer, not "continue" (/start always continues).
        instead = answer_instead(dispatcher, tracker, trust_short=False)
        if instead is not None:
            return instead
        lang = chat_language(tracker)
        if intake_finished(tracker):
            reply(dispatcher, lang, MSG_ALREADY_SUBMITTED)
            return [FollowupAction("action_show_summary")]
        reply(dispatcher, lang, MSG_WELCOME_BACK)
        return [FollowupAction(FORM)]


def welcome(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """The greeting with the language buttons, in the language of the first typed message if known."""
    counted = count_start_once(tracker)
    detected = detected_language(tracker) if not tracker.get_slot("chat_language") else None
    if detected is None:
        dispatcher.utter_message(response="utter_welcome")
        return counted
    dispatcher.utter_message(
        json_message={"lang": detected, "text": MSG_WELCOME, "keyboard": "chat_languages"}
    )
    return [*counted, SlotSet("chat_language", detected), SlotSet("chat_language_source", "detected")]


class ActionFallback(Action):
    """Not understood: a newcomer gets the greeting (in the language they wrote), others a rephrase."""

    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot("consent_given") and not tracker.get_slot("chat_language"):
            return welcome(dispatcher, tracker)
        dispatcher.utter_message(response="utter_default")
        return []


class ActionRestartIntake(Action):
    """'Start again': clears the answers (keeps language and consent) and asks from the first question."""

    def name(self) -> str:
        return "action_restart_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if not tracker.get_slot("consent_given"):
            dispatcher.utter_message(response="utter_welcome")
            return []
        instead = answer_instead(dispatcher, tracker)
        if instead is not None:
            return instead
        reply(dispatcher, chat_language(tracker), MSG_RESTARTED)
        cleared = {
            slot: None for slot in (*FORM_SLOTS, "work_experience", "multi_selection", "country_candidate")
        }
        save_draft(tracker, cleared)
        return [*(SlotSet(k, v) for k, v in cleared.items()), FollowupAction(FORM)]


def reopen(slot: str) -> list[EventType]:
    """Ask `slot` again: the form asks the first unanswered question, which is now this one."""
    events: list[EventType] = [
        SlotSet(slot, None),
        SlotSet("summary_confirmed", None),
        SlotSet("multi_selection", None),
    ]
    if slot == "work_sector":
        events += [SlotSet(s, None) for s in WORK_SLOTS] + [SlotSet("work_experience", [])]
    return [*events, FollowupAction(FORM)]


class ActionEditAnswer(Action):
    """A tap on an answer in the summary (or the list of answers): that question is asked again."""

    def name(self) -> str:
        return "action_edit_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        entities = tracker.latest_message.get("entities", [])
        slot = next((e.get("value") for e in entities if e.get("entity") == "slot"), None)
        if slot not in FORM_SLOTS or not tracker.get_slot("consent_given"):
            return [FollowupAction("action_correct_answer")]
        return reopen(str(slot))


class ActionCorrectAnswer(Action):
    """'Actually it is Armenia, not Georgia': change the answer it names, else ask which one."""

    def name(self) -> str:
        return "action_correct_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        if not tracker.get_slot("consent_given"):
            dispatcher.utter_message(response="utter_welcome")
            return []
        text = tracker.latest_message.get("text") or ""
        current = tracker.get_slot("return_country")
        if tracker.get_slot("requested_slot") == "return_country" and tracker.active_loop.get("name") == FORM:
            # Just a country, taken for a correction: it answers the open question.
            code, confident = parse_country(text)
            if code:
                updates = (
                    {"return_country": code, "country_candidate": None}
                    if confident
                    else {"country_candidate": code}
                )
                if confident:
                    save_draft(tracker, updates)
                return [*(SlotSet(k, v) for k, v in updates.items()), FollowupAction(FORM)]
        named = [code for code in countries_in(text) if code != current]
        if not named:
            instead = answer_instead(dispatcher, tracker)
            if instead is not None:
                return instead
        if named and len(named) == 1:
            reply(dispatcher, lang, MSG_CHANGED)
            updates = {"return_country": named[0], "country_candidate": None}
            save_draft(tracker, updates)
            return [*(SlotSet(k, v) for k, v in updates.items()), FollowupAction(FORM)]
        answered = [q for q in QUESTIONS if q.summary_label and tracker.get_slot(q.slot) is not None]
        buttons = [
            {"title": q.summary_label, "payload": edit_payload(q.slot), "prefix": "✏️ "} for q in answered
        ]
        dispatcher.utter_message(
            json_message={"lang": lang, "text": MSG_WHICH_ANSWER, "buttons": buttons, "columns": 2}
        )
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionShowSummary(Action):
    def name(self) -> str:
        return "action_show_summary"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        payload = {"lang": lang, "text": BY_SLOT["summary_confirmed"].text, **summary_payload(tracker, lang)}
        payload["buttons"] = payload.pop("edit_buttons")
        payload["columns"] = 2
        dispatcher.utter_message(json_message=payload)
        return []


class ActionSubmitIntake(Action):
    """The person confirmed the summary: the profile is submitted and the coaches are told."""

    def name(self) -> str:
        return "action_submit_intake"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        lang = chat_language(tracker)
        if intake_finished(tracker):  # a correction after submission: saved, flagged, no new submission
            save_draft(tracker, {})
            reply(dispatcher, lang, MSG_CHANGED)
            return []
        answers = answers_from_slots(tracker.slots, lang, tracker.get_slot("chat_language_source"))
        with unit_of_work() as session:
            participant = ParticipantRepository(session).get_by_subject(tracker.sender_id)
            if participant is None:
                dispatcher.utter_message(response="utter_welcome")
                return []
            profiles = ProfileRepository(session)
            if profiles.submitted_with(participant, answers) is not None:
                # Submitted before a process stopped and the turn was lost: once is enough.
                logger.info("intake submitted already; the confirmation came again")
                reply(dispatcher, lang, MSG_SUBMITTED)
                return [SlotSet("intake_status", "submitted")]
            profile = profiles.draft_for(participant)
            profile.set_answers(answers)
            profiles.submit(profile)
            enqueue_submission_notice(session, profile.id)  # sent by the bot process (outbox)
        logger.info("intake submitted")
        reply(dispatcher, lang, MSG_SUBMITTED)
        return [SlotSet("intake_status", "submitted")]
