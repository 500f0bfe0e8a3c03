"""Pure parts of the coach pages: labels, search expansion, CSV cells, charts, passwords, translation."""

from __future__ import annotations

import pytest
from babel.messages.pofile import read_po

from bot.coach import auth, charts
from bot.coach import labels as L
from bot.coach.exports import neutralise
from bot.coach.i18n import LOCALE_DIR, catalog
from bot.coach.translation import CachedTranslator, load_backend
from core.settings import ConfigurationError
from storage.coach import ALLOWED_TRANSITIONS
from storage.models import ProfileStatus


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("GE", "Georgien"),
        ("AM", "Armenien"),
        ("MK", "Nordmazedonien"),
        ("XK", "Kosovo"),
        ("TR", "Türkei"),
        (None, "–"),
    ],
)
def test_country_names_come_from_cldr(code: str | None, name: str) -> None:
    assert L.country_name(code) == name


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("ka", "Georgisch"),
        ("hy", "Armenisch"),
        ("fa", "Persisch"),
        ("fa-AF", "Dari"),
        ("sr-Latn", "Serbisch (Lateinisch)"),
        ("kmr", "Kurmandschi (Nordkurdisch)"),
        ("ar", "Arabisch"),
    ],
)
def test_language_names_in_german(code: str, name: str) -> None:
    assert L.language_name(code) == name


def test_code_lists_have_german_labels() -> None:
    assert L.label(L.ISCED, 0) == "Frühkindliche Bildung (ISCED 0)"
    assert L.label(L.ISCED, 8) == "Promotion oder gleichwertig (ISCED 8)"
    assert len(L.ISCED) == 9 and len(L.NACE) == 21
    assert L.label(L.NACE, "F") == "Baugewerbe"
    assert [L.label(L.SKILL_LEVEL, i) for i in range(4)] == [
        "keine",
        "Grundkenntnisse",
        "sicher",
        "fortgeschritten",
    ]
    assert L.label(L.TIMEFRAME, "lt_3_months") == "Innerhalb von 3 Monaten"
    assert L.label(L.AGE_GROUP, "55+") == "55 Jahre oder älter"
    assert L.label(L.GOAL, "further_training") == "Weiterbildung"
    assert L.label(L.QUALIFICATION, "driving_licence") == "Führerschein"
    assert L.label(L.FLAG_KIND, "changed_after_submit") == "Nach dem Absenden geändert"
    assert L.label(L.GOAL, "unknown_code") == "unknown_code"


def test_every_coach_text_has_a_german_translation() -> None:
    with (LOCALE_DIR / "coach.pot").open("rb") as file:
        template = read_po(file)
    german = catalog("de")
    missing = [str(m.id) for m in template if m.id and str(m.id) not in german]
    assert missing == []
    with (LOCALE_DIR / "de" / "LC_MESSAGES" / "coach.po").open("rb") as file:
        for message in read_po(file, locale="de"):
            if message.id:
                assert set(_placeholders(str(message.id))) == set(_placeholders(str(message.string))), (
                    message.id
                )


def _placeholders(text: str) -> list[str]:
    import re

    return re.findall(r"\{\w+\}", text)


def test_search_expands_labels_to_codes() -> None:
    [term] = L.expand_search("Georgien", ["GE", "TR"], ["ka", "tr"], ["coach.anna"])
    assert term["country"] == {"GE"} and term["language"] == set()
    [term] = L.expand_search("ge", ["GE", "TR"], ["ka"], [])
    assert term["country"] == {"GE"}  # short terms match codes, not every label containing "ge"
    [term] = L.expand_search("georgisch", ["GE"], ["ka", "tr"], [])
    assert term["language"] == {"ka"}
    [term] = L.expand_search("Selbststandigkeit", [], [], [])
    assert term["goal"] == {"self_employment"}
    assert len(L.expand_search("Georgien  anna ", ["GE"], [], ["coach.anna"])) == 2


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("=1+1", "'=1+1"),
        ("+49 30", "'+49 30"),
        ("-5", "'-5"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Georgien", "Georgien"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_csv_cells_that_start_a_formula_are_neutralised(cell: str, expected: str) -> None:
    assert neutralise(cell) == expected


def test_bar_chart_scales_to_the_largest_value() -> None:
    chart = charts.bar_chart([("Georgien", 10), ("Türkei", 5), ("Irak", 0)], "Profile nach Rückkehrland")
    assert [bar.width for bar in chart.bars] == [charts.BAR_WIDTH, charts.BAR_WIDTH // 2, 0]
    assert chart.description == "Profile nach Rückkehrland: Georgien 10; Türkei 5; Irak 0"
    assert charts.month_label("2026-11") == "Nov. 2026"


def test_passwords_use_argon2id() -> None:
    stored = auth.hash_password("correct-horse-battery")
    assert stored.startswith("$argon2id$v=19$")
    assert auth.verify_password(stored, "correct-horse-battery")
    assert not auth.verify_password(stored, "correct-horse-batterY")
    assert not auth.verify_password("not-a-hash", "x")
    with pytest.raises(ValueError, match="at least"):
        auth.hash_password("short")
    assert auth.token_hash("abc") != "abc" and len(auth.token_hash("abc")) == 64


def test_workflow_transitions() -> None:
    assert ALLOWED_TRANSITIONS[ProfileStatus.SUBMITTED] == {ProfileStatus.IN_REVIEW, ProfileStatus.WITHDRAWN}
    assert ProfileStatus.CLOSED in ALLOWED_TRANSITIONS[ProfileStatus.INTERVIEW_SCHEDULED]
    assert ALLOWED_TRANSITIONS[ProfileStatus.CLOSED] == frozenset()
    assert ALLOWED_TRANSITIONS[ProfileStatus.WITHDRAWN] == frozenset()


class ShoutingBackend:
    """An invented test engine: 'translates' by upper-casing."""

    engine = "Test-Engine 1.0"
    calls = 0

    def translate(self, text: str, source_language: str, target_language: str) -> str:
        ShoutingBackend.calls += 1
        return f"[{source_language}->{target_language}] {text.upper()}"


def test_translation_backend_is_pluggable_and_marked() -> None:
    assert load_backend(None) is None
    backend = load_backend("tests.unit.coach.test_coach_units:ShoutingBackend")
    translator = CachedTranslator(backend)
    result = translator.to_german("hola", "es")
    assert result is not None and result.text == "[es->de] HOLA" and result.engine == "Test-Engine 1.0"
    calls = ShoutingBackend.calls
    translator.to_german("hola", "es")
    assert ShoutingBackend.calls == calls  # cached
    assert translator.to_german("Hallo", "de") is None  # German needs no translation
    with pytest.raises(ConfigurationError, match="TRANSLATION_BACKEND"):
        load_backend("no.such.module:Backend")
