"""The held-out evaluation data (tests/nlu/, tests/nlu_fresh*/, tests/data/countries/) is well-formed
and unseen.

Fast: no Rasa. The country mentions are checked against ``actions.parsing.parse_country`` with the
goal from the issue (>= 95 % mapped to the right ISO code per language, confident or not).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest
import yaml

from actions.parsing import parse_country
from core.languages import CHAT_LANGUAGES

ROOT = Path(__file__).resolve().parents[2]
NLU_TEST_DIR = ROOT / "tests" / "nlu"
# Written later, independently of the training data and of each other (scripts/eval_nlu.py).
FRESH_TEST_DIRS = [ROOT / "tests" / "nlu_fresh", ROOT / "tests" / "nlu_fresh2", ROOT / "tests" / "nlu_fresh3"]
HELD_OUT_DIRS = [NLU_TEST_DIR, *FRESH_TEST_DIRS]
NLU_TRAIN_DIR = ROOT / "nlu" / "data"
COUNTRY_DIR = ROOT / "tests" / "data" / "countries"
TYPED_INTENTS = (
    "greet", "affirm", "deny", "choose_language", "skip_question", "ask_why",
    "help", "ask_data_use", "stop_intake", "resume_intake", "restart_intake", "correct_answer",
    "out_of_scope",
)  # fmt: skip
MIN_COUNTRY_ACCURACY = 0.95
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](\([^)]*\)|\{[^}]*\})")


def examples(path: Path) -> list[tuple[str, str, str]]:
    """(intent, annotated example, plain text) for every example of a Rasa NLU YAML file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = []
    for block in data["nlu"]:
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                annotated = line[2:]
                found.append((block["intent"], annotated, _ENTITY_MARKUP.sub(r"\1", annotated).strip()))
    return found


def domain_intents() -> set[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return {next(iter(i)) if isinstance(i, dict) else i for i in domain["intents"]}


def country_rows(lang: str) -> list[tuple[str, str]]:
    with (COUNTRY_DIR / f"{lang}.tsv").open(encoding="utf-8", newline="") as file:
        return [
            (row["text"], row["code"]) for row in csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        ]


@pytest.mark.parametrize("held_out", HELD_OUT_DIRS, ids=lambda d: d.name)
@pytest.mark.parametrize("lang", CHAT_LANGUAGES)
def test_held_out_file_is_rasa_nlu_yaml_with_every_typed_intent(lang: str, held_out: Path) -> None:
    path = held_out / f"{lang}.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert str(data["version"]) == "3.1"
    found = examples(path)
    unknown = {intent for intent, _, _ in found} - domain_intents()
    assert not unknown, f"{lang}: intents not in domain.yml: {unknown}"
    # The fresh sets lost the examples that were also in the training data: fewer, never more.
    least = 4 if held_out == NLU_TEST_DIR else 0
    assert len(found) >= (60 if held_out == NLU_TEST_DIR else 35), f"{lang}: {len(found)} examples"
    for intent in TYPED_INTENTS:
        count = sum(1 for i, _, _ in found if i == intent)
        assert least <= count <= 12, f"{lang}: {count} examples of {intent}"  # ask_data_use has 2 blocks
    annotated = {
        intent: [a for i, a, _ in found if i == intent] for intent in ("choose_language", "correct_answer")
    }
    assert all('"language"' in a or "(language)" in a for a in annotated["choose_language"]), lang
    assert any("(country)" in a or '"country"' in a for a in annotated["correct_answer"]), lang


@pytest.mark.parametrize("held_out", HELD_OUT_DIRS, ids=lambda d: d.name)
def test_no_held_out_example_is_in_the_training_data(held_out: Path) -> None:
    trained = {text.casefold() for path in NLU_TRAIN_DIR.glob("*.yml") for _, _, text in examples(path)}
    leaked = [
        f"{path.stem}: {text}"
        for path in sorted(held_out.glob("*.yml"))
        for _, _, text in examples(path)
        if text.casefold() in trained
    ]
    assert not leaked, f"held-out examples also in nlu/data: {leaked}"


@pytest.mark.parametrize("held_out", HELD_OUT_DIRS, ids=lambda d: d.name)
def test_held_out_texts_are_unique_so_each_maps_to_one_language(held_out: Path) -> None:
    seen: dict[str, str] = {}
    for path in sorted(held_out.glob("*.yml")):
        for _, _, text in examples(path):
            assert text.casefold() not in seen, f"{text!r} in {seen.get(text.casefold())} and {path.stem}"
            seen[text.casefold()] = path.stem


@pytest.mark.parametrize("lang", CHAT_LANGUAGES)
def test_country_mentions_map_to_the_right_code(lang: str) -> None:
    rows = country_rows(lang)
    assert len(rows) >= 20, f"{lang}: only {len(rows)} country mentions"
    wrong = [(text, code, parse_country(text)) for text, code in rows if parse_country(text)[0] != code]
    accuracy = 1 - len(wrong) / len(rows)
    assert accuracy >= MIN_COUNTRY_ACCURACY, (
        f"{lang}: {accuracy:.1%} of {len(rows)} country mentions mapped right; wrong: "
        + "; ".join(f"{text!r} (want {code}, got {got})" for text, code, got in wrong)
    )
