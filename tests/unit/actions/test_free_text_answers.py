"""At a question answered in words, the words are the answer, whatever intent NLU gave them with
whatever confidence; only a very short, very sure "skip" (or the button) skips. NLU has no intent
for answers, so a job description can come back as skip_question with 0.98."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.intake import ValidateIntakeForm
from actions.questions import SKIPPED


def typed(text: str, intent: str, confidence: float, slot: str) -> Tracker:
    return Tracker.from_dict(
        {
            "sender_id": "s" * 64,
            "slots": {"chat_language": "de", "consent_given": True, "requested_slot": slot},
            "latest_message": {"text": text, "intent": {"name": intent, "confidence": confidence}},
            "events": [],
            "active_loop": {"name": "intake_form"},
            "latest_action_name": "action_listen",
        }
    )


def validate(slot: str, text: str, intent: str, confidence: float) -> dict[str, Any]:
    return ValidateIntakeForm().validate_answer(
        slot, text, CollectingDispatcher(), typed(text, intent, confidence, slot)
    )


@pytest.mark.parametrize(
    ("slot", "text", "intent", "confidence"),
    [
        ("education_field", "Ich möchte als Köchin arbeiten", "skip_question", 0.985),  # seen from the model
        ("work_role", "Koch im Restaurant", "skip_question", 0.97),
        ("business_idea", "ein kleines Café in Tiflis eröffnen", "skip_question", 0.99),
        ("work_role", "Pflege", "help", 0.972),
        ("return_region", "Tiflis", "choose_language", 0.992),
    ],
)
def test_words_at_a_free_text_question_are_the_answer(
    slot: str, text: str, intent: str, confidence: float
) -> None:
    assert validate(slot, text, intent, confidence) == {slot: text}


@pytest.mark.parametrize("text", ["überspringen", "nicht sagen", "Möchte ich nicht sagen"])
def test_a_short_sure_skip_or_the_buttons_words_skip_a_free_text_question(text: str) -> None:
    assert validate("education_field", text, "skip_question", 0.99) == {
        "education_field": SKIPPED,
        "multi_selection": None,
    }
