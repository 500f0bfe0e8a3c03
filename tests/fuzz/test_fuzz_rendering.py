"""Rasa's custom payloads with hostile values: rendered within Telegram's limits, or clearly refused."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from core.languages import CHAT_LANGUAGES
from tests.fuzz import strategies as S
from tests.fuzz.targets import Check, ci_settings


@pytest.fixture(scope="module")
def check(open_target: Any) -> Check:
    return open_target("render")


@ci_settings(200)
@given(
    st.fixed_dictionaries(
        {
            "responses": st.lists(S.rasa_payload(fitting=False), max_size=4),
            "fallback": st.sampled_from(CHAT_LANGUAGES),
        }
    )
)
@example(
    {
        "responses": [
            {
                "custom": {
                    "lang": "ar",
                    "text": ("كلمة " * 2000),
                    "buttons": [{"title": "x", "payload": '/answer{"value":"GE"}'}],
                }
            }
        ],
        "fallback": "en",
    }
)
@example(
    {
        "responses": [
            {
                "custom": {
                    "lang": "fa",
                    "text": "Notes",
                    "lines": [{"label": "Notes", "value": "\u202e" + "a" * 4096}] * 3,
                }
            }
        ],
        "fallback": "en",
    }
)
def test_render_fits_telegram_or_refuses(check: Check, case: dict[str, Any]) -> None:
    check(case)
