"""Evaluate the trained NLU model on held-out data, per chat language: ``make eval``.

Three parts, each printed with the command it ran:

1. Intents: Rasa's NLU evaluation (``rasa test nlu``), run once over every file in tests/nlu/
   (one file per language, never part of the training data), then over each set written later and
   independently (tests/nlu_fresh*/). The successes and errors files are mapped back to the
   language of the file each example came from, and per language the intent macro-F1 (over the
   intents in that language's file) and the accuracy are printed, per set and for all sets together.
2. Country mentions: ``actions.parsing.parse_country`` over tests/data/countries/<lang>.tsv. A
   mention counts as right when the ISO code is right, confident or not (a misspelling may be
   accepted unconfidently, and the bot then asks); a wrong code or no code counts as wrong.
3. Language identification: scripts/bench_language.py on tests/data/langid/test.tsv.

Usage:

    .venv/bin/python scripts/eval_nlu.py [--check] [--model models/intake.tar.gz] [--keep DIR]

With --check the exit status is 1 when a language misses a goal: intent macro-F1 below 0.90 on all
held-out sets together, or country mentions mapped correctly below 95 %.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NLU_TEST_DIR = ROOT / "tests" / "nlu"
# A second held-out set, written later and independently of both the training data and tests/nlu/:
# tests/nlu/ guided which kinds of examples were added to the training data, so its figures are
# somewhat optimistic; this one was never looked at while the training data was written.
FRESH_TEST_DIR = ROOT / "tests" / "nlu_fresh"
# A third, written the same way a session later, while more training data was being written blind
# in parallel (tests/nlu_fresh2/); neither it nor the fresh set guided any training example.
FRESH_TEST_DIRS = {
    "fresh": FRESH_TEST_DIR,
    "fresh2": ROOT / "tests" / "nlu_fresh2",
    "fresh3": ROOT / "tests" / "nlu_fresh3",  # and once more, a round later (see the README)
}
COUNTRY_DIR = ROOT / "tests" / "data" / "countries"
RASA = ROOT / ".venv-rasa" / "bin" / "rasa"
DEFAULT_MODEL = ROOT / "models" / "intake.tar.gz"
MIN_MACRO_F1 = 0.90
MIN_COUNTRY_ACCURACY = 0.95

# "[Georgia](country)" and "[German]{"entity": ...}" -> "Georgia" / "German", as Rasa reads them.
_ENTITY_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class Example:
    lang: str
    intent: str
    text: str  # plain text, entity markup removed


def plain_text(annotated: str) -> str:
    return _ENTITY_MARKUP.sub(r"\1", annotated).strip()


def load_nlu_examples(path: Path) -> list[Example]:
    """The examples of one Rasa NLU YAML file (intent examples only)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    examples: list[Example] = []
    for block in data.get("nlu") or []:
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            line = line.strip()
            if line.startswith("- "):
                examples.append(Example(path.stem, block["intent"], plain_text(line[2:])))
    return examples


def load_countries(path: Path) -> list[tuple[str, str]]:
    """(text, expected ISO code) rows of one country TSV (header: text, code)."""
    with path.open(encoding="utf-8", newline="") as file:
        reader = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [(row["text"], row["code"]) for row in reader if row.get("text")]


# --- figures ---------------------------------------------------------------------------------


def macro_f1(pairs: list[tuple[str, str]], labels: set[str]) -> float:
    """Macro-averaged F1 over `labels` for (gold, predicted) pairs; other predictions are misses."""
    scores = []
    for label in sorted(labels):
        tp = sum(1 for gold, got in pairs if gold == label and got == label)
        fp = sum(1 for gold, got in pairs if gold != label and got == label)
        fn = sum(1 for gold, got in pairs if gold == label and got != label)
        scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0)
    return sum(scores) / len(scores) if scores else 0.0


def accuracy(pairs: list[tuple[str, str]]) -> float:
    return sum(1 for gold, got in pairs if gold == got) / len(pairs) if pairs else 0.0


def country_results(rows: list[tuple[str, str]]) -> list[tuple[str, str, str | None, bool]]:
    """(text, expected, got, confident) for every row."""
    from actions.parsing import parse_country

    return [(text, expected, *parse_country(text)) for text, expected in rows]


# --- the three parts -------------------------------------------------------------------------


def show_command(command: list[str], env_note: str = "") -> None:
    shown = " ".join(shlex.quote(str(part).replace(str(ROOT) + os.sep, "")) for part in command)
    print(f"$ {env_note}{shown}", flush=True)


def rasa_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(RASA_TELEMETRY_ENABLED="false", TF_CPP_MIN_LOG_LEVEL="2", SQLALCHEMY_SILENCE_UBER_WARNING="1")
    env["PATH"] = f"{RASA.parent}{os.pathsep}{env.get('PATH', '')}"
    env.pop("PYTHONPATH", None)
    return env


def run_rasa_test(model: Path, out: Path, test_dir: Path = NLU_TEST_DIR) -> None:
    # Rasa 3.6 writes intent_errors.json by default (it has only --no-errors); no plots, to save time.
    command = [
        str(RASA), "test", "nlu", "--nlu", str(test_dir), "--model", str(model),
        "--out", str(out), "--successes", "--no-plot",
    ]  # fmt: skip
    show_command(command, "RASA_TELEMETRY_ENABLED=false ")
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=rasa_env(), capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        raise SystemExit(f"rasa test nlu failed with exit status {result.returncode}")
    print(f"  (rasa test nlu took {time.monotonic() - started:.0f} s; reports in {out})", flush=True)


def read_predictions(out: Path) -> list[dict]:
    rows: list[dict] = []
    for name in ("intent_successes.json", "intent_errors.json"):
        path = out / name
        if path.exists():
            rows.extend(json.loads(path.read_text(encoding="utf-8")))
    return rows


Pooled = dict[str, tuple[list[tuple[str, str]], set[str]]]  # lang -> (gold/predicted pairs, intents)


def evaluate_intents(
    model: Path,
    keep: Path | None,
    test_dir: Path = NLU_TEST_DIR,
    title: str = "1. Intents on held-out data",
    pooled: Pooled | None = None,
) -> dict[str, tuple[float, float, int]]:
    """lang -> (macro-F1, accuracy, n); prints the table and the most frequent confusions. The pairs
    and intents of each language are added to `pooled`, for figures over several sets."""
    files = sorted(test_dir.glob("*.yml"))
    examples = [example for path in files for example in load_nlu_examples(path)]
    # The same text in two languages' files (avoided, but possible) counts for both.
    langs_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for example in examples:
        langs_of[(example.text, example.intent)].append(example.lang)

    print(f"\n# {title} ({test_dir.relative_to(ROOT)}/)\n", flush=True)
    with tempfile.TemporaryDirectory(prefix="eval-nlu-") as tmp:
        out = keep or Path(tmp)
        out.mkdir(parents=True, exist_ok=True)
        run_rasa_test(model, out, test_dir)
        predictions = read_predictions(out)
        entity_report = out / "DIETClassifier_report.json"
        entities = json.loads(entity_report.read_text()) if entity_report.exists() else {}

    pairs: dict[str, list[tuple[str, str]]] = defaultdict(list)
    errors: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    unmapped = 0
    for row in predictions:
        gold, got = row["intent"], (row.get("intent_prediction") or {}).get("name") or "None"
        langs = langs_of.get((row["text"].strip(), gold))
        if not langs:
            unmapped += 1
            continue
        for lang in langs:
            pairs[lang].append((gold, got))
            if gold != got:
                errors[lang][(gold, got)] += 1
    if unmapped:
        print(f"  warning: {unmapped} predictions could not be mapped to a language file")

    labels = {lang: {e.intent for e in examples if e.lang == lang} for lang in {e.lang for e in examples}}
    results: dict[str, tuple[float, float, int]] = {}
    print(f"\n{'lang':<6} {'macro-F1':>8} {'accuracy':>8} {'n':>5}  most frequent confusions (gold -> got)")
    for lang in sorted(labels):
        lang_pairs = pairs.get(lang, [])
        f1, acc = macro_f1(lang_pairs, labels[lang]), accuracy(lang_pairs)
        results[lang] = (f1, acc, len(lang_pairs))
        if pooled is not None:
            pooled.setdefault(lang, ([], set()))[0].extend(lang_pairs)
            pooled[lang][1].update(labels[lang])
        worst = ", ".join(f"{g}->{p} x{n}" for (g, p), n in errors[lang].most_common(3))
        flag = "" if f1 >= MIN_MACRO_F1 else "  << below goal"
        print(f"{lang:<6} {f1:8.3f} {acc:8.3f} {len(lang_pairs):5d}  {worst}{flag}")
    everything = [pair for lang_pairs in pairs.values() for pair in lang_pairs]
    all_labels = set().union(*labels.values()) if labels else set()
    mean_f1 = sum(f1 for f1, _, _ in results.values()) / len(results) if results else 0.0
    overall = f"{macro_f1(everything, all_labels):8.3f} {accuracy(everything):8.3f} {len(everything):5d}"
    print(f"{'all':<6} {overall}  (mean of the per-language macro-F1: {mean_f1:.3f})")
    if entities:
        micro = entities.get("micro avg") or entities.get("weighted avg") or {}
        per_entity = ", ".join(
            f"{name} F1 {entities[name]['f1-score']:.3f} (n={entities[name]['support']})"
            for name in ("language", "country")
            if name in entities
        )
        micro_f1 = micro.get("f1-score", float("nan"))
        print(f"\nEntities (DIETClassifier, all languages): micro-F1 {micro_f1:.3f}; {per_entity}")
    return results


def evaluate_countries() -> dict[str, tuple[float, int]]:
    """lang -> (accuracy, n); prints the table and every wrong mention."""
    print("\n# 2. Country mentions (tests/data/countries/, actions.parsing.parse_country)\n")
    print("$ parse_country(text) for every row of tests/data/countries/<lang>.tsv (in-process)")
    print(f"\n{'lang':<6} {'right':>6} {'n':>4} {'accuracy':>8} {'unconfident':>11}  wrong (text -> got)")
    results: dict[str, tuple[float, int]] = {}
    total_right = total = 0
    for path in sorted(COUNTRY_DIR.glob("*.tsv")):
        rows = country_results(load_countries(path))
        right = [r for r in rows if r[2] == r[1]]
        unconfident = sum(1 for r in right if not r[3])
        wrong = [f"{text!r}->{got}{'' if confident or got is None else '?'}"
                 for text, expected, got, confident in rows if got != expected]  # fmt: skip
        acc = len(right) / len(rows) if rows else 0.0
        results[path.stem] = (acc, len(rows))
        total_right, total = total_right + len(right), total + len(rows)
        flag = "" if acc >= MIN_COUNTRY_ACCURACY else "  << below goal"
        figures = f"{len(right):6d} {len(rows):4d} {acc:8.3f} {unconfident:11d}"
        print(f"{path.stem:<6} {figures}  {'; '.join(wrong)}{flag}")
    print(f"{'all':<6} {total_right:6d} {total:4d} {total_right / max(total, 1):8.3f}")
    print("(right = correct ISO code, confident or not; '?' marks an unconfident wrong guess)")
    return results


def run_language_benchmark() -> None:
    print("\n# 3. Language identification benchmark\n")
    command = [sys.executable, str(ROOT / "scripts" / "bench_language.py")]
    show_command(command)
    subprocess.run(command, cwd=ROOT, check=True, timeout=600)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--check", action="store_true", help="exit 1 when a language misses a goal")
    parser.add_argument("--keep", type=Path, help="keep Rasa's reports in this directory")
    parser.add_argument("--skip-langid", action="store_true", help="leave out the language-ID benchmark")
    args = parser.parse_args()
    if not args.model.exists():
        raise SystemExit(f"no model at {args.model}: run 'make train' first")
    started = time.monotonic()

    pooled: Pooled = {}  # every held-out set
    independent: Pooled = {}  # the sets written without reading any NLU data
    intents = evaluate_intents(args.model, args.keep, pooled=pooled)
    fresh: dict[str, dict[str, tuple[float, float, int]]] = {}
    for number, (name, test_dir) in enumerate(FRESH_TEST_DIRS.items()):
        if test_dir.is_dir():
            keep = args.keep / name if args.keep else None
            title = f"1{'bcd'[number]}. Intents on the held-out set written independently: {test_dir.name}/"
            fresh[name] = evaluate_intents(args.model, keep, test_dir, title, pooled)
            for lang, (pairs, _labels) in pooled.items():  # this set's pairs are the last ones added
                added = pairs[len(pairs) - fresh[name].get(lang, (0.0, 0.0, 0))[2] :]
                independent.setdefault(lang, ([], set()))[0].extend(added)
                independent[lang][1].update(gold for gold, _ in added)
    countries = evaluate_countries()
    if not args.skip_langid:
        run_language_benchmark()

    print("\n# Summary per language\n")
    print(
        "| lang | intent macro-F1 | intent accuracy | "
        + "".join(f"macro-F1, {name} set | " for name in fresh)
        + "macro-F1, all held-out sets | country mentions right |"
    )
    print("|---" * (5 + len(fresh)) + "|")
    together = {
        lang: (macro_f1(pairs, labels), accuracy(pairs), len(pairs))
        for lang, (pairs, labels) in pooled.items()
    }
    independent_scores = {
        lang: (macro_f1(pairs, labels), accuracy(pairs), len(pairs))
        for lang, (pairs, labels) in independent.items()
    }
    for lang in sorted(set(intents) | set(countries)):
        f1, acc, _n = intents.get(lang, (float("nan"), float("nan"), 0))
        nan = (float("nan"), 0.0, 0)
        fresh_f1 = "".join(f"{scores.get(lang, nan)[0]:.3f} | " for scores in fresh.values())
        country = countries.get(lang, (float("nan"), 0))[0]
        pooled_f1, _, pooled_n = together.get(lang, nan)
        print(f"| {lang} | {f1:.3f} | {acc:.3f} | {fresh_f1}{pooled_f1:.3f} (n={pooled_n}) | {country:.3f} |")
    print()
    titles = {"all held-out": "all held-out sets together", "independent": "the fresh sets together"}
    rows = [
        ("tests/nlu", intents),
        *fresh.items(),
        ("independent", independent_scores),
        ("all held-out", together),
    ]
    for name, scores in rows:
        if not scores:
            continue
        mean = sum(f1 for f1, _, _ in scores.values()) / len(scores)
        low = [f"{lang} {scores[lang][0]:.3f}" for lang in sorted(scores) if scores[lang][0] < MIN_MACRO_F1]
        below = f" (below: {', '.join(low)})" if low else ""
        met = f"{len(scores) - len(low)} of {len(scores)} languages >= {MIN_MACRO_F1:.2f}"
        lowest = min(f1 for f1, _, _ in scores.values())
        title = titles.get(name, f"{name} set")
        print(f"{title}: mean macro-F1 {mean:.3f}, lowest {lowest:.3f}; {met}{below}")
    # The goal is checked on all held-out data together (about 200 examples per language): one set
    # of about 50 per language moves by 0.02 with every example.
    low_f1 = [lang for lang, (f1, _, _) in together.items() if f1 < MIN_MACRO_F1]
    low_country = [lang for lang, (acc, _) in countries.items() if acc < MIN_COUNTRY_ACCURACY]
    print(f"\nGoals: intent macro-F1 >= {MIN_MACRO_F1:.2f} in every language on all held-out data: "
          f"{'met' if not low_f1 else 'missed in ' + ', '.join(low_f1)}; "
          f"country mentions >= {MIN_COUNTRY_ACCURACY:.0%}: "
          f"{'met' if not low_country else 'missed in ' + ', '.join(low_country)}.")  # fmt: skip
    print(f"eval: done in {time.monotonic() - started:.0f} s")
    if args.check and (low_f1 or low_country):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
