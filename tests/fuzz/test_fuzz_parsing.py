"""The parsers of typed answers and language detection on hostile text: no crash, only known codes or None."""

from __future__ import annotations

import time
from typing import Any

import pytest
from hypothesis import example, given

from actions.parsing import parse_country
from tests.fuzz.targets import PARSERS, Check, ci_settings

EXAMPLES = 80


@pytest.fixture(scope="module")
def checks(open_target: Any) -> dict[str, Check]:
    return {target.name: open_target(target.name) for target in PARSERS}


STRATEGIES = {target.name: target.strategy for target in PARSERS}


@ci_settings(EXAMPLES)
@given(STRATEGIES["parse_country"])
@example("ab " * 1365)  # regression: took 9 s (a fuzzy match per word window) before the bound
def test_parse_country(checks: dict[str, Check], text: str) -> None:
    checks["parse_country"](text)


@ci_settings(EXAMPLES)
@given(STRATEGIES["countries_in"])
def test_countries_in(checks: dict[str, Check], text: str) -> None:
    checks["countries_in"](text)


@ci_settings(EXAMPLES)
@given(STRATEGIES["parse_choice"])
@example((0, "1" * 5000, "en"))  # regression: int() of more than 4,300 digits raised ValueError
@example((3, "٠" * 4400 + "3", "ar"))
def test_parse_choice(checks: dict[str, Check], case: tuple[int, str, str]) -> None:
    checks["parse_choice"](case)


@ci_settings(EXAMPLES)
@given(STRATEGIES["parse_years"])
@example("9" * 5000)
@example("۲٫۵")
def test_parse_years(checks: dict[str, Check], text: str) -> None:
    checks["parse_years"](text)


@ci_settings(EXAMPLES)
@given(STRATEGIES["parse_language_list"])
def test_parse_language_list(checks: dict[str, Check], text: str) -> None:
    checks["parse_language_list"](text)


@ci_settings(EXAMPLES)
@given(STRATEGIES["fold"])
def test_fold(checks: dict[str, Check], text: str) -> None:
    checks["fold"](text)


@ci_settings(EXAMPLES)
@given(STRATEGIES["language_detect"])
@example(("\u202e" + "Грузия " * 900, "ru"))
def test_language_detect(checks: dict[str, Check], case: tuple[str, str | None]) -> None:
    checks["language_detect"](case)


@ci_settings(EXAMPLES)
@given(STRATEGIES["button_value"])
def test_button_value(checks: dict[str, Check], message: dict[str, Any]) -> None:
    checks["button_value"](message)


def test_a_long_text_at_the_country_question_is_answered_quickly() -> None:
    text = "ab " * 1365  # 4,095 characters, the most a Telegram message holds
    started = time.perf_counter()
    assert parse_country(text) == (None, False)
    assert time.perf_counter() - started < 3  # 9 s before the fuzzy search was bounded
