"""The paths off the straight line: why, skip, corrections, the summary, pause and resume after a
restart, start again, voice answers and a table of bad inputs."""

from __future__ import annotations

import itertools
import json
import sqlite3
from typing import Any

import pytest
from sqlalchemy import select

from actions.intake import (
    MSG_CHANGED,
    MSG_CHOOSE,
    MSG_DID_YOU_MEAN,
    MSG_PAUSED,
    MSG_RESTARTED,
    MSG_WELCOME_BACK,
    answer_payload,
    edit_payload,
)
from actions.privacy import MSG_ASK_DELETE, MSG_DELETED, MSG_NOT_DELETED
from actions.questions import BY_SLOT, SKIPPED, SUMMARY_CONFIRM
from bot.conversation import MSG_EDITED, MSG_OLD_BUTTON, MSG_UNSUPPORTED_INPUT
from bot.rendering import notice
from core.i18n import translate
from storage.hashing import subject_hash
from storage.models import Participant, Profile
from storage.voice import read_voice
from tests.support.domain import domain_text
from tests.support.intake_answers import full_answers
from tests.support.intake_driver import IntakeDriver, Tap, Type, Voice, buttons
from tests.support.stack import Stack
from tests.support.telegram_standin import (
    callback_update,
    document_update,
    edited_text_update,
    location_update,
    photo_update,
    sticker_update,
    text_update,
)

pytestmark = pytest.mark.integration

_user_ids = itertools.count(6200001)


def draft(stack: Stack, user_id: int) -> Profile:
    with stack.session() as session:
        hashed = subject_hash(user_id, stack.settings.hash_key())
        participant = session.scalars(select(Participant).where(Participant.subject_hash == hashed)).one()
        return session.scalars(
            select(Profile)
            .where(Profile.participant_id == participant.id)
            .order_by(Profile.created_at.desc())
        ).first()


def question_text(lang: str, slot: str) -> str:
    return translate(lang, BY_SLOT[slot].text)


def started(stack: Stack, lang: str = "en") -> IntakeDriver:
    driver = IntakeDriver(stack.standin, next(_user_ids), lang)
    driver.start_and_consent()
    return driver


def reach(driver: IntakeDriver, slot: str, answers: dict[str, Any] | None = None) -> None:
    """Answer (or skip) the questions until `slot` is asked."""
    answers = answers or {}
    for _ in range(60):
        current = driver.current_question()
        if current == slot:
            return
        assert current is not None
        driver.answer(
            answers.get(current, Tap(SKIPPED))
            if current != "return_country"
            else answers.get(current, Tap("GE"))
        )
    raise AssertionError(f"{slot} was never asked")


def test_why_do_you_ask_explains_and_asks_again(stack: Stack) -> None:
    driver = started(stack, "de")
    replies = driver.send("Warum fragen Sie das?", question=True)
    texts = [r["text"] for r in replies]
    assert translate("de", BY_SLOT["display_name"].why) in texts
    assert question_text("de", "display_name") in texts[-1]


def test_why_button(stack: Stack) -> None:
    driver = started(stack, "ka")
    replies = driver.tap("/ask_why", question=True)
    assert replies[0]["text"] == translate("ka", BY_SLOT["display_name"].why)
    assert driver.current_question() == "display_name"


@pytest.mark.parametrize(
    ("lang", "text", "response"),
    [
        ("en", "I need help", "utter_help"),
        ("de", "wer sieht meine Antworten?", "utter_data_use"),
        ("ru", "расскажи анекдот", "utter_out_of_scope"),
        ("ar", "احكيلي نكتة", "utter_out_of_scope"),
    ],
)
def test_a_digression_gets_a_short_answer_then_the_open_question_again(
    stack: Stack, lang: str, text: str, response: str
) -> None:
    driver = started(stack, lang)
    driver.answer(Tap(SKIPPED))
    assert driver.current_question() == "age_group"
    replies = driver.send(text, question=True)
    texts = [r["text"].lstrip("\u200f") for r in replies]
    assert texts[0] == translate(lang, domain_text(response))
    assert question_text(lang, "age_group") in texts[-1]
    assert driver.current_question() == "age_group"
    assert "age_group" not in draft(stack, driver.user_id).answers.get("person", {})


@pytest.mark.parametrize(
    ("lang", "slot", "text"),
    [
        ("de", "education_field", "Landwirtschaft"),
        ("ar", "return_region", "بغداد"),
        ("de", "work_role", "Schneiderin"),
    ],
)
def test_a_one_word_answer_is_the_answer_not_a_command(stack: Stack, lang: str, slot: str, text: str) -> None:
    # The NLU once took each of these for "stop" with a confidence of 1.0, and the intake paused.
    driver = started(stack, lang)
    reach(driver, slot, {question: steps[0] for question, steps in full_answers(lang).items()})
    driver.send(text, question=True)
    assert driver.current_question() != slot
    answers = draft(stack, driver.user_id).answers
    stored = {
        "education_field": lambda: answers["education"]["field"],
        "return_region": lambda: answers["return_plan"]["region"],
        "work_role": lambda: answers["work_experience"][0]["role"],
    }[slot]()
    assert stored == text or stored == {"text": text, "language": lang}


def test_a_word_that_is_no_choice_at_a_choice_question_asks_for_a_choice(stack: Stack) -> None:
    driver = started(stack, "de")
    driver.send("Schneiderin", question=True)  # at "what should I call you?": the name
    assert driver.current_question() == "age_group"
    replies = driver.send("Landwirtschaft", question=True)
    assert translate("de", MSG_CHOOSE) in [r["text"] for r in replies]
    assert driver.current_question() == "age_group"


def test_skip_by_button_and_by_words(stack: Stack) -> None:
    driver = started(stack)
    driver.answer(Tap(SKIPPED))
    assert driver.current_question() == "age_group"
    driver.send("I prefer not to say", question=True)
    assert driver.current_question() == "return_country"
    flags = {f["field"] for f in draft(stack, driver.user_id).answers["flags"] if f["kind"] == "skipped"}
    assert flags == {"/person/display_name", "/person/age_group"}


def test_required_question_cannot_be_skipped(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_country")
    driver.send("skip", question=True)
    assert driver.current_question() == "return_country"


def test_misspelt_country_is_confirmed(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_country")
    replies = driver.send("Armeniaa", question=True)
    assert replies[-1]["text"].endswith(translate("en", MSG_DID_YOU_MEAN, {"country": "Armenia"}))
    driver.tap(answer_payload("AM"), question=True)
    assert driver.current_question() == "return_region"
    assert draft(stack, driver.user_id).return_country == "AM"


def test_correction_by_text(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_region")
    assert draft(stack, driver.user_id).return_country == "GE"
    replies = driver.send("actually it is Armenia, not Georgia", question=True)
    assert translate("en", MSG_CHANGED) in [r["text"] for r in replies]
    assert driver.current_question() == "return_region"
    assert draft(stack, driver.user_id).return_country == "AM"


def test_change_from_the_summary_then_submit(stack: Stack) -> None:
    driver = started(stack, "fr")
    reach(driver, "summary_confirmed", {"return_timeframe": Tap("undecided"), "interview_language": Tap("en"),
                                        "goal": Tap("employment")})  # fmt: skip
    summary = driver.last_keyboard()
    assert "Géorgie" in summary["text"]
    driver.tap(edit_payload("return_country"), question=True)
    assert driver.current_question() == "return_country"
    driver.answer(Tap("AL"))
    assert driver.current_question() == "summary_confirmed"
    assert "Albanie" in driver.last_keyboard()["text"]
    driver.tap(answer_payload(SUMMARY_CONFIRM.code))
    profile = draft(stack, driver.user_id)
    assert (profile.status, profile.return_country) == ("submitted", "AL")


def test_pause_and_resume_after_every_process_restarted(stack: Stack) -> None:
    driver = started(stack, "ru")
    reach(driver, "return_timeframe")
    replies = driver.send("/stop")
    assert replies[-1]["text"] == translate("ru", MSG_PAUSED)
    for name in ("bot", "rasa", "actions"):
        stack.processes[name].stop()
    for name in ("actions", "rasa", "bot"):
        stack.processes[name].start()
    for name in ("actions", "rasa", "bot"):
        stack.processes[name].wait_healthy(timeout=240)
    stack.ignore_errors_so_far()  # shutting down by SIGTERM is not what this test checks
    replies = driver.send("/start", question=True)
    assert replies[0]["text"] == translate("ru", MSG_WELCOME_BACK), replies
    assert driver.current_question() == "return_timeframe", replies
    driver.answer(Tap("lt_3_months"))
    assert driver.current_question() == "interview_language"


def test_start_again(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_timeframe")  # at a free-text question the words would be the answer
    replies = driver.send("start again", question=True)
    assert translate("en", MSG_RESTARTED) in [r["text"] for r in replies]
    assert driver.current_question() == "display_name"
    assert draft(stack, driver.user_id).return_country is None


def test_voice_answer_is_stored_with_the_profile(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_region")
    driver.answer(Voice("voice-file-1", b"OggS-invented-audio"))
    assert driver.current_question() == "return_timeframe"
    profile = draft(stack, driver.user_id)
    region = profile.answers["return_plan"]["region"]
    note = profile.answers["voice_notes"][0]
    assert region["voice_note_id"] == note["id"] and note["field"] == "/return_plan/region"
    stored = stack.settings.data_dir / "voice" / profile.id / f"{note['id']}.ogg"
    assert read_voice(stored) == b"OggS-invented-audio"
    assert b"OggS" not in stored.read_bytes()  # encrypted at rest


BAD_INPUTS = {
    "sticker": sticker_update,
    "photo": photo_update,
    "document": document_update,
    "location": location_update,
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_unsupported_input_gets_a_polite_answer_and_changes_nothing(stack: Stack, kind: str) -> None:
    driver = started(stack, "ar")
    reach(driver, "return_region")
    before = draft(stack, driver.user_id).answers
    mark = stack.standin.mark()
    stack.standin.push_update(BAD_INPUTS[kind](driver.user_id))
    [answer] = [
        c.params for c in stack.standin.wait_for_calls("sendMessage", chat_id=driver.user_id, since=mark)
    ]
    assert answer["text"] == notice("ar", MSG_UNSUPPORTED_INPUT).text
    assert draft(stack, driver.user_id).answers == before
    assert driver.current_question() == "return_region"


def test_edited_message_is_answered_and_changes_nothing(stack: Stack) -> None:
    driver = started(stack, "tr")
    reach(driver, "return_region")
    driver.answer(Type("Ankara"))
    before = draft(stack, driver.user_id).answers
    mark = stack.standin.mark()
    stack.standin.push_update(edited_text_update(driver.user_id, "İzmir", message_id=driver.message_ids))
    [answer] = [
        c.params for c in stack.standin.wait_for_calls("sendMessage", chat_id=driver.user_id, since=mark)
    ]
    assert answer["text"] == translate("tr", MSG_EDITED)
    assert draft(stack, driver.user_id).answers == before


def test_repeated_update_has_its_effect_once(stack: Stack) -> None:
    driver = started(stack)
    reach(driver, "return_region")
    update = text_update(driver.user_id, "Gyumri", message_id=99)
    update["update_id"] = 987650001
    mark = stack.standin.mark()
    stack.standin.push_update(update)
    stack.standin.push_update(dict(update))
    driver.settle(mark, "sendMessage")
    driver.answer(Tap("lt_3_months"))  # a later message is processed as usual
    assert driver.current_question() == "interview_language"
    sent = [c for c in stack.standin.calls[mark:] if c.method == "sendMessage"]
    asked = [c for c in sent if question_text("en", "return_timeframe") in c.params["text"]]
    assert len(asked) == 1, "the repeated update was processed twice"


def test_a_button_of_an_older_question_does_not_answer_the_open_one(stack: Stack) -> None:
    driver = started(stack)
    consent = next(m for m in driver.transcript if "/affirm" in buttons(m))
    reach(driver, "age_group", {"display_name": Type("Ana")})
    before = draft(stack, driver.user_id).answers
    mark = stack.standin.mark()
    stack.standin.push_update(
        callback_update(driver.user_id, answer_payload(SKIPPED), message_id=driver._message_id_of(consent),
                        text=consent["text"])
    )  # fmt: skip
    alert = stack.standin.wait_for_calls("answerCallbackQuery", since=mark, timeout=30)[-1]
    assert alert.params["text"] == translate("en", MSG_OLD_BUTTON)
    assert [c for c in stack.standin.calls[mark:] if c.method == "sendMessage"] == []
    assert draft(stack, driver.user_id).answers == before
    # An older copy of the open question (the bot sends one again after a restart) is that question.
    question = driver.last_keyboard()
    mark = stack.standin.mark()
    stack.standin.push_update(
        callback_update(driver.user_id, answer_payload("25-34"), message_id=1, text=question["text"])
    )
    driver.settle(mark, "sendMessage", question=True)
    assert driver.current_question() == "return_country"
    assert draft(stack, driver.user_id).answers["person"]["age_group"] == "25-34"


@pytest.mark.parametrize(
    "text",
    ["x" * 5000, "🙂🙂🙂", "‮evil‬ <b>bold</b> <script>alert(1)</script>", "ქართული ტექსტი", "   \n  "],
)
def test_any_text_at_an_open_question(stack: Stack, text: str) -> None:
    driver = started(stack)
    reach(driver, "return_region")
    replies = driver.send(text, question=True)
    assert replies, "no answer"
    region = draft(stack, driver.user_id).answers.get("return_plan", {}).get("region")
    if text.strip():
        assert region is not None and len(region["text"]) <= 4096
        assert driver.current_question() == "return_timeframe"
    else:
        assert region is None
        assert driver.current_question() == "return_region"


def test_mydata_sends_a_summary_and_a_json_file(stack: Stack) -> None:
    driver = started(stack, "sq")
    reach(driver, "return_timeframe")
    mark = stack.standin.mark()
    driver.send("/mydata", question=True)
    [document] = stack.standin.wait_for_calls("sendDocument", chat_id=driver.user_id, since=mark)
    upload = document.params["document"]
    data = json.loads(upload.data)
    assert data["profiles"][0]["return_plan"]["country"] == "GE"
    assert data["consent"]["language"] == "sq"
    assert driver.current_question() == "return_timeframe"  # the intake goes on


def test_delete_during_the_questions_asks_once_and_no_brings_the_question_back(stack: Stack) -> None:
    driver = started(stack, "en")
    reach(driver, "return_timeframe")
    asked = driver.send("/delete", question=True)
    assert [r["text"] for r in asked] == [translate("en", MSG_ASK_DELETE)]  # and nothing else
    driver.tap("/deny", question=True)
    assert driver.current_question() == "return_timeframe"
    assert translate("en", MSG_NOT_DELETED) in [r.get("text") for r in driver.transcript]


def test_delete_erases_everything_about_the_person(stack: Stack) -> None:
    driver = started(stack, "en")
    reach(driver, "return_timeframe", {"return_region": Voice("voice-file-del", b"OggS-to-be-deleted")})
    profile = draft(stack, driver.user_id)
    hashed = subject_hash(driver.user_id, stack.settings.hash_key())
    driver.send("/delete", question=True)
    replies = driver.tap("/confirm_delete")
    assert replies[-1]["text"] == translate("en", MSG_DELETED)
    with stack.session() as session:
        assert session.scalars(select(Participant).where(Participant.subject_hash == hashed)).first() is None
        assert session.get(Profile, profile.id) is None
    assert not (stack.settings.data_dir / "voice" / profile.id).exists()
    tracker_db = stack.settings.data_dir / "rasa-tracker.db"
    with sqlite3.connect(tracker_db) as connection:
        rows = connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = ?", (hashed,)).fetchone()[0]
    assert rows == 0
    # Starting again is possible, as a newcomer.
    replies = driver.send("/start", question=True)
    assert buttons_of(replies[-1]), "the language buttons are offered again"


def buttons_of(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in (message.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
