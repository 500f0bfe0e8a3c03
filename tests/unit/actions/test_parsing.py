"""The pure parsers behind the intake form's validation."""

from __future__ import annotations

import pytest

from actions.parsing import (
    button_value,
    chat_language_from_entities,
    countries_in,
    parse_choice,
    parse_country,
    parse_free_text,
    parse_language_list,
    parse_years,
)
from actions.questions import EDUCATION_LEVELS, GERMAN_LEVELS, TIMEFRAMES, YES_NO


@pytest.mark.parametrize(
    ("text", "code", "confident"),
    [
        ("Georgia", "GE", True),
        ("Georgien", "GE", True),
        ("Грузия", "GE", True),
        ("საქართველო", "GE", True),
        ("Gürcistan", "GE", True),
        ("Géorgie", "GE", True),
        ("Sakartvelo", "GE", True),
        ("Armenien", "AM", True),
        ("Հայաստան", "AM", True),
        ("Shqipëri", "AL", True),
        ("Shqiperia", "AL", True),
        ("Северна Македонија", "MK", True),
        ("Nordmazedonien", "MK", True),
        ("Србија", "RS", True),
        ("Srbija", "RS", True),
        ("Kosovo", "XK", True),
        ("ایران", "IR", True),
        ("العراق", "IQ", True),
        ("Afghanistan", "AF", True),
        ("I want to go back to Albania", "AL", True),
        ("ge", "GE", True),
        ("armeniaa", "AM", False),
        ("Goergia", "GE", False),
        ("Albnia", "AL", False),
    ],
)
def test_country_names_in_any_language_and_misspellings(text: str, code: str, confident: bool) -> None:
    assert parse_country(text) == (code, confident)


@pytest.mark.parametrize("text", ["", "   ", "xyz", "hello there", "123"])
def test_not_a_country(text: str) -> None:
    assert parse_country(text) == (None, False)


def test_countries_in_a_correction_keep_their_order() -> None:
    assert countries_in("actually it is Armenia, not Georgia") == ["AM", "GE"]
    assert countries_in("eigentlich Armenien, nicht Georgien") == ["AM", "GE"]
    assert countries_in("nothing here") == []


@pytest.mark.parametrize(
    ("options", "text", "lang", "code"),
    [
        (GERMAN_LEVELS, "B1", "en", "B1"),
        (GERMAN_LEVELS, "b1", "de", "B1"),
        (GERMAN_LEVELS, "2", "en", "A1"),  # the option's number, as shown in the terminal chat
        (GERMAN_LEVELS, "٣", "ar", "A2"),  # Arabic-Indic digit three
        (TIMEFRAMES, "I do not know yet", "en", "undecided"),
        (YES_NO, "yes", "en", "yes"),
        (EDUCATION_LEVELS, "Primary school", "en", "1"),
    ],
)
def test_typed_choices(options: tuple, text: str, lang: str, code: str) -> None:
    assert parse_choice(options, text, lang) == code


@pytest.mark.parametrize("text", ["", "banana", "99", "0"])
def test_typed_choice_not_understood(text: str) -> None:
    assert parse_choice(GERMAN_LEVELS, text, "en") is None


@pytest.mark.parametrize(
    ("text", "years"),
    [("3", 3.0), ("2,5 Jahre", 2.5), ("about 10 years", 10.0), ("١٠ سنوات", 10.0), ("۵", 5.0), ("0", 0.0)],
)
def test_years(text: str, years: float) -> None:
    assert parse_years(text) == years


@pytest.mark.parametrize("text", ["many", "", "61", "100 years"])
def test_years_out_of_range_or_missing(text: str) -> None:
    assert parse_years(text) is None


def test_free_text_is_trimmed_capped_and_never_a_command() -> None:
    assert parse_free_text("  Koch  ") == "Koch"
    assert parse_free_text("x" * 5000) == "x" * 4096
    assert parse_free_text("   ") is None
    assert parse_free_text("/start") is None


def test_language_lists() -> None:
    assert parse_language_list("Russian, Turkish and Kurdish") == ["ru", "tr", "ku"]
    assert parse_language_list("Russisch und Englisch") == ["ru", "en"]
    assert parse_language_list("nothing") == []


def test_button_value_only_from_the_answer_intent() -> None:
    message = {"intent": {"name": "answer"}, "entities": [{"entity": "value", "value": "B1"}]}
    assert button_value(message) == "B1"
    assert button_value({"intent": {"name": "affirm"}, "entities": message["entities"]}) is None
    assert button_value({"intent": {"name": "answer"}, "entities": []}) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [("de", "de"), ("Deutsch", "de"), ("German", "de"), ("немецкий", "de"), ("Klingon", None)],
)
def test_chat_language_from_entities(value: str, code: str | None) -> None:
    assert chat_language_from_entities([{"entity": "language", "value": value}]) == code
