"""The intake form's validate_<slot> on hostile messages: only schema codes (or free text) are stored."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import example, given

from actions.intake import answer_payload
from tests.fuzz import strategies as S
from tests.fuzz.targets import Check, ci_settings


def tapped(slot: str, value: Any) -> dict[str, Any]:
    """A tap on an answer button whose value a modified client made up."""
    text = answer_payload(str(value))
    return {
        "slot": slot,
        "value": text,
        "submitted": False,
        "slots": {"chat_language": "de", "requested_slot": slot, "consent_given": True},
        "latest_message": {
            "text": text,
            "intent": {"name": "answer", "confidence": 1.0},
            "entities": [{"entity": "value", "value": value}],
            "metadata": {},
        },
    }


@pytest.fixture(scope="module")
def check(open_target: Any) -> Check:
    return open_target("slot_validators")


@ci_settings(150)
@given(S.validator_case())
@example(tapped("return_country", "<script>"))  # regression: any tapped value became the country
@example(tapped("return_country", "Georgia"))
@example(tapped("education_level", "9"))
@example(tapped("target_sectors", "U"))
def test_validators_store_only_codes(check: Check, case: dict[str, Any]) -> None:
    check(case)
