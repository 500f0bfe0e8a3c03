"""End to end through every real process: Telegram stand-in -> bot -> Rasa -> action server -> database."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select, text

from bot.conversation import MSG_UNSUPPORTED_INPUT
from bot.i18n import translate
from core.languages import CHAT_LANGUAGES, native_name
from storage.hashing import subject_hash
from storage.models import IntakeStart, Participant, Profile
from tests.support.domain import domain_text
from tests.support.stack import Stack
from tests.support.telegram_standin import callback_update, sticker_update, text_update

pytestmark = pytest.mark.integration


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text -> callback_data of a sent message."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row}


def send_and_wait(stack: Stack, update: dict[str, Any], chat_id: int, count: int = 1) -> list[dict[str, Any]]:
    mark = stack.standin.mark()
    stack.standin.push_update(update)
    calls = stack.standin.wait_for_calls("sendMessage", count=count, chat_id=chat_id, since=mark, timeout=60)
    return [call.params for call in calls]


def consent_text(stack: Stack, lang: str) -> str:
    """The consent question, with the configured retention periods it states."""
    periods = {
        "retention_closed_days": stack.settings.retention_closed_days,
        "retention_draft_days": stack.settings.retention_draft_days,
    }
    return translate(lang, domain_text("utter_ask_consent"), periods)


def start_in(stack: Stack, user_id: int, language: str) -> dict[str, Any]:
    """/start, tap the language's button; returns the consent question."""
    [welcome] = send_and_wait(stack, text_update(user_id, "/start"), user_id)
    choice = buttons(welcome)[native_name(language)]
    [consent] = send_and_wait(stack, callback_update(user_id, choice, message_id=1), user_id)
    return consent


def test_start_offers_languages_and_answers_in_german(stack: Stack) -> None:
    user_id = 5100001
    [welcome] = send_and_wait(stack, text_update(user_id, "/start"), user_id)

    offered = buttons(welcome)
    assert list(offered) == [native_name(code) for code in CHAT_LANGUAGES]
    assert {"Deutsch", "English", "العربية", "ქართული", "Հայերեն"} <= set(offered)
    assert all(len(data.encode()) <= 64 for data in offered.values())
    assert welcome["text"] == domain_text("utter_welcome")  # no client language: English

    [consent] = send_and_wait(stack, callback_update(user_id, offered["Deutsch"], message_id=1), user_id)

    assert consent["text"] == consent_text(stack, "de") != consent_text(stack, "en")
    assert "{" not in consent["text"] and f"{stack.settings.retention_closed_days} Tage" in consent["text"]
    assert set(buttons(consent)) == {
        translate("de", "Yes, I agree"),
        translate("de", "No, thanks"),
        translate("de", "More information"),
    }
    assert stack.standin.wait_for_calls("answerCallbackQuery", timeout=10)
    assert stack.standin.violations == []


def test_client_language_is_used_before_a_choice(stack: Stack) -> None:
    user_id = 5100002
    [welcome] = send_and_wait(stack, text_update(user_id, "/start", language_code="tr"), user_id)
    assert welcome["text"] == translate("tr", domain_text("utter_welcome")) != domain_text("utter_welcome")


def test_consent_creates_pseudonymous_participant_and_draft(stack: Stack) -> None:
    user_id = 5100003
    consent = start_in(stack, user_id, "ka")
    thanks, *_question = send_and_wait(
        stack, callback_update(user_id, buttons(consent)[translate("ka", "Yes, I agree")]), user_id
    )
    assert thanks["text"] == translate("ka", domain_text("utter_consent_thanks"))

    expected_hash = subject_hash(user_id, stack.settings.hash_key())
    with stack.session() as session:
        participant = session.scalars(
            select(Participant).where(Participant.subject_hash == expected_hash)
        ).one()
        assert participant.consent_version == stack.settings.consent_version
        assert participant.consent_language == "ka"
        assert participant.consent_given_at is not None
        assert participant.chat_language == "ka"
        profile = session.scalars(select(Profile).where(Profile.participant_id == participant.id)).one()
        assert profile.status == "in_progress"
        assert profile.answers["languages"]["chat"] == "ka"
        assert str(user_id) not in (participant.id, participant.subject_hash, profile.id)
        assert participant.telegram_chat_id == str(user_id)  # decrypted by the column type
        raw = session.execute(
            text("SELECT telegram_chat_id FROM participants WHERE id = :id"), {"id": participant.id}
        ).scalar_one()
        assert str(user_id) not in raw
    # Rasa's tracker store keeps every message's metadata, where the chat id is only encrypted.
    assert str(user_id).encode() not in (stack.settings.data_dir / "rasa-tracker.db").read_bytes()


def intakes_started(stack: Stack) -> int:
    with stack.session() as session:
        return int(session.scalar(select(func.sum(IntakeStart.started))) or 0)


def test_declining_stores_nothing(stack: Stack) -> None:
    user_id = 5100004
    started_before = intakes_started(stack)
    consent = start_in(stack, user_id, "ru")
    [goodbye] = send_and_wait(
        stack, callback_update(user_id, buttons(consent)[translate("ru", "No, thanks")]), user_id
    )
    assert "/start" in goodbye["text"]
    assert stack.settings.counselling_contact in goodbye["text"]
    with stack.session() as session:
        hashed = subject_hash(user_id, stack.settings.hash_key())
        assert session.scalars(select(Participant).where(Participant.subject_hash == hashed)).first() is None
    # Only the anonymous count of intakes started (a month and a number) took note, once.
    assert intakes_started(stack) == started_before + 1


def test_typed_language_name_is_understood(stack: Stack) -> None:
    user_id = 5100005
    send_and_wait(stack, text_update(user_id, "/start"), user_id)
    [consent] = send_and_wait(stack, text_update(user_id, "Deutsch"), user_id)
    assert consent["text"] == consent_text(stack, "de")


def test_sticker_gets_a_polite_answer_in_the_chat_language(stack: Stack) -> None:
    user_id = 5100006
    start_in(stack, user_id, "uk")
    [answer] = send_and_wait(stack, sticker_update(user_id), user_id)
    assert answer["text"] == translate("uk", MSG_UNSUPPORTED_INPUT) != MSG_UNSUPPORTED_INPUT


def test_the_bot_token_is_in_no_log(stack: Stack) -> None:
    # The bot logs at DEBUG here: every Bot API call it made in the tests so far is in its log.
    private = stack.standin.token.split(":", 1)[1]
    logs = sorted((stack.settings.data_dir / "logs").glob("*.log"))
    assert [p.name for p in logs] == ["actions.log", "bot.log", "rasa.log"]
    for path in logs:
        text = path.read_text(encoding="utf-8", errors="replace")
        assert private not in text, f"the bot token is in {path.name}"
    assert "sendMessage" in (stack.settings.data_dir / "logs" / "bot.log").read_text()


def test_the_bot_counts_updates_replies_and_turn_latency(stack: Stack) -> None:
    user_id = 5100099
    consent = start_in(stack, user_id, "de")
    assert "/affirm" in buttons(consent).values()
    send_and_wait(stack, callback_update(user_id, "/affirm", message_id=2), user_id)
    body = httpx.get(f"http://127.0.0.1:{stack.settings.web_port}/metrics", timeout=10).text
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(body)
        for s in family.samples
    }
    assert samples[("intake_updates_total", (("kind", "message"),))] >= 1
    assert samples[("intake_updates_total", (("kind", "callback_query"),))] >= 1
    assert samples[("intake_replies_total", ())] >= 2
    assert samples[("intake_turn_seconds_count", ())] >= 2
    assert samples[("intake_profiles", (("status", "in_progress"),))] >= 1
