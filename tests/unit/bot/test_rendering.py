"""Rendering Rasa's payloads into Telegram messages: translation, buttons, limits, right-to-left."""

from __future__ import annotations

import pytest

from bot.rendering import (
    CALLBACK_DATA_MAX_BYTES,
    MESSAGE_MAX_CHARS,
    language_payload,
    render,
    render_response,
    split_text,
)
from core.i18n import translate
from core.languages import CHAT_LANGUAGES, native_name
from core.settings import get_settings
from tests.support.domain import domain_text

CONSENT = "More information"


def test_text_and_buttons_are_translated() -> None:
    [message] = render_response(
        {
            "custom": {
                "lang": "de",
                "text": "Yes",
                "buttons": [{"title": CONSENT, "payload": "/consent_more_info"}],
            }
        },
        "en",
    )
    assert message.text == translate("de", "Yes") != "Yes"
    assert message.buttons[0][0].title == translate("de", CONSENT)
    assert message.buttons[0][0].callback_data == "/consent_more_info"


def test_unsupported_language_falls_back() -> None:
    [message] = render_response({"custom": {"lang": "None", "text": "Yes"}}, "tr")
    assert message.lang == "tr" and message.text == translate("tr", "Yes")


def test_language_keyboard_has_every_language_by_native_name() -> None:
    [message] = render_response({"custom": {"lang": "en", "text": "", "keyboard": "chat_languages"}}, "en")
    titles = [b.title for b in message.button_list()]
    assert titles == [native_name(code) for code in CHAT_LANGUAGES]
    assert all(len(b.callback_data.encode()) <= CALLBACK_DATA_MAX_BYTES for b in message.button_list())


def test_raw_selected_prefix_suffix_and_rows() -> None:
    buttons = [
        {"title": "Georgia", "payload": '/answer{"value":"GE"}', "raw": True, "selected": True},
        {"title": "Mon", "payload": '/answer{"value":"mon_morning"}', "suffix": " 🌅"},
        {"title": "Done ✔", "payload": '/answer{"value":"__done__"}', "row": True},
    ]
    [message] = render_response(
        {"custom": {"lang": "de", "text": "x", "buttons": buttons, "columns": 2}}, "en"
    )
    assert [[b.title for b in row] for row in message.buttons] == [
        ["✅ Georgia", translate("de", "Mon") + " 🌅"],
        [translate("de", "Done ✔")],
    ]


def test_progress_lines_and_footer() -> None:
    payload = {"lang": "en", "text": "Please check", "progress": "11/11", "footer": "Bye",
               "lines": [{"label": "Country", "value": "Georgia", "translate": False}]}  # fmt: skip
    [message] = render_response({"custom": payload}, "en")
    assert message.text == "11/11 · Please check\n\n• Country: Georgia\n\nBye"


@pytest.mark.parametrize("lang", ["ar", "fa"])
def test_right_to_left_languages_start_with_a_right_to_left_mark(lang: str) -> None:
    [message] = render_response({"custom": {"lang": lang, "text": "Yes"}}, "en")
    assert message.text.startswith("\u200f")


def test_too_long_callback_data_is_refused() -> None:
    with pytest.raises(ValueError, match="callback_data"):
        too_long = [{"title": "t", "payload": "/" + "a" * 64}]
        render_response({"custom": {"lang": "en", "text": "x", "buttons": too_long}}, "en")


def test_long_texts_are_split_at_boundaries_and_buttons_go_last() -> None:
    text = ("word " * 2000).strip()
    ok = [{"title": "OK", "payload": "/affirm"}]
    messages = render([{"custom": {"lang": "en", "text": text, "buttons": ok}}], "en")
    assert len(messages) == 3
    assert all(len(m.text) <= MESSAGE_MAX_CHARS for m in messages)
    assert " ".join(m.text for m in messages) == text
    assert [bool(m.buttons) for m in messages] == [False, False, True]


def test_split_text_without_spaces() -> None:
    parts = split_text("x" * 9000)
    assert [len(p) for p in parts] == [4096, 4096, 808]


def test_language_payload_fits() -> None:
    assert all(len(language_payload(c).encode()) <= CALLBACK_DATA_MAX_BYTES for c in CHAT_LANGUAGES)


def test_the_consent_question_states_the_configured_retention_periods(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    consent = "We delete your answers {retention_closed_days} days after your coaching ends."
    monkeypatch.setenv("RETENTION_CLOSED_DAYS", "90")
    monkeypatch.setenv("RETENTION_DRAFT_DAYS", "14")
    get_settings.cache_clear()
    try:
        [message] = render_response({"custom": {"lang": "en", "text": consent}}, "en")
        assert message.text == "We delete your answers 90 days after your coaching ends."
        domain_consent = domain_text("utter_ask_consent")
        for lang in CHAT_LANGUAGES:
            [message] = render_response({"custom": {"lang": lang, "text": domain_consent}}, "en")
            assert "90" in message.text and "14" in message.text and "{" not in message.text, lang
    finally:
        get_settings.cache_clear()
