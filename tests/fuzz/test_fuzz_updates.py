"""Hostile Telegram updates through the bot's real handlers: nothing escapes, every call fits Telegram."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given

import bot.telegram_app
from bot.rendering import OutgoingMessage
from tests.fuzz import strategies as S
from tests.fuzz.targets import Check, PropertyViolation, ci_settings

PRIVATE_USER = {"id": 4242001, "is_bot": False, "first_name": "Invented", "language_code": "ar"}


def text_update(text: str, **message: Any) -> dict[str, Any]:
    chat = {"id": PRIVATE_USER["id"], "type": "private", "first_name": "Invented"}
    return {
        "message": {"message_id": 7, "date": 1, "chat": chat, "from": PRIVATE_USER, "text": text, **message}
    }


def case(*updates: dict[str, Any], **rasa: Any) -> dict[str, Any]:
    behaviour = {"replies": [], "echo": False, "unavailable": False, **rasa}
    return {"updates": list(updates), "rasa": behaviour, "edit_fails": False, "repeat_first": False}


@pytest.fixture(scope="module")
def check(open_target: Any) -> Check:
    return open_target("telegram_updates")


@ci_settings(120)
@given(S.update_case())
@example(case(text_update("\u202e" + "ش" * 5000), echo=True))  # an over-long RTL text echoed in a summary
@example(
    case(
        text_update(
            "/start@intake_fuzz_bot " + "{0}" * 50,
            entities=[{"type": "bot_command", "offset": 0, "length": 22}],
        )
    )
)
def test_no_update_escapes_or_breaks_telegrams_limits(check: Check, update_case: dict[str, Any]) -> None:
    check(update_case)


def test_the_harness_sees_an_over_long_message(check: Check, monkeypatch: pytest.MonkeyPatch) -> None:
    """The property can fail: a handler that sends more than 4,096 characters is caught."""
    monkeypatch.setattr(
        bot.telegram_app.Conversation,
        "unsupported_input",
        lambda self, sender: [OutgoingMessage("x" * 4097, "en")],
    )
    sticker = {
        "file_id": "CAACsticker",
        "file_unique_id": "s1",
        "type": "regular",
        "width": 1,
        "height": 1,
        "is_animated": False,
        "is_video": False,
    }
    update = text_update("")
    del update["message"]["text"]
    update["message"]["sticker"] = sticker
    with pytest.raises(PropertyViolation, match="4097 characters"):
        check(case(update))


def test_the_harness_reports_what_the_error_handler_got(
    check: Check, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An exception inside a handler is not hidden by PTB's error handler."""

    def broken(self: object, sender: object) -> list[OutgoingMessage]:
        raise LookupError("invented failure")

    monkeypatch.setattr(bot.telegram_app.Conversation, "edited_message", broken)
    update = text_update("edited")
    update["edited_message"] = {**update.pop("message"), "edit_date": 2}
    with pytest.raises(LookupError, match="invented failure"):
        check(case(update))


def test_a_repeated_update_has_its_effect_once(check: Check) -> None:
    repeated = case(
        text_update("Hallo, ich möchte nach Georgien zurück"), replies=[{"custom": {"text": "Yes"}}]
    )
    repeated["repeat_first"] = True
    check(repeated)  # raises if the second delivery called Telegram or Rasa again
