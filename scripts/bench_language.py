"""Benchmark of the chat-language detector against plain langdetect and Lingua alone.

Runs every detector over tests/data/langid/test.tsv and prints, per language and per length bucket
(1-3, 4-7, 8-12 words, all): accuracy, abstain rate and confidently-wrong rate; the median time of
one detection; and the resident memory (VmRSS) of a fresh Python process after the detector is
loaded. Usage:

    .venv/bin/python scripts/bench_language.py [--split test|dev]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.languages import CHAT_LANGUAGES  # noqa: E402

DATA_DIR = ROOT / "tests" / "data" / "langid"
BUCKETS: tuple[tuple[str, int, int], ...] = (("1-3", 1, 3), ("4-7", 4, 7), ("8-12", 8, 12), ("all", 1, 10**9))
DETECTORS = ("ours", "ours-low", "langdetect", "lingua")
# langdetect and Lingua codes that stand for one of ours.
_CODE_MAP = {"hr": "sr", "bs": "sr"}

Detector = Callable[[str], "str | None"]


def load_split(split: str) -> list[tuple[str, str]]:
    with (DATA_DIR / f"{split}.tsv").open(encoding="utf-8", newline="") as file:
        reader = csv.reader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        next(reader)
        return [(lang, text) for lang, text in reader]


def make_ours() -> Detector:
    from bot.language import detect

    return detect


def make_ours_low() -> Detector:
    """Our detector with every script in Lingua's low-accuracy mode (the memory-saving variant)."""
    from bot import language

    language.HIGH_ACCURACY_SCRIPTS = frozenset()
    language._detector.cache_clear()
    return language.detect


def make_langdetect() -> Detector:
    from langdetect import DetectorFactory, LangDetectException
    from langdetect import detect as ld_detect

    DetectorFactory.seed = 0

    def detect(text: str) -> str | None:
        try:
            code = ld_detect(text)
        except LangDetectException:
            return None
        code = code.split("-")[0]
        return _CODE_MAP.get(code, code)

    return detect


def make_lingua() -> Detector:
    """Lingua on its own: the 14 languages (+ Bosnian, Croatian as sr), low-accuracy mode."""
    from lingua import IsoCode639_1, Language, LanguageDetectorBuilder

    codes = [*CHAT_LANGUAGES, "bs", "hr"]
    languages = [Language.from_iso_code_639_1(getattr(IsoCode639_1, code.upper())) for code in codes]
    detector = (
        LanguageDetectorBuilder.from_languages(*languages)
        .with_low_accuracy_mode()
        .with_preloaded_language_models()
        .build()
    )

    def detect(text: str) -> str | None:
        language = detector.detect_language_of(text)
        if language is None:
            return None
        code = language.iso_code_639_1.name.lower()
        return _CODE_MAP.get(code, code)

    return detect


FACTORIES: dict[str, Callable[[], Detector]] = {
    "ours": make_ours,
    "ours-low": make_ours_low,
    "langdetect": make_langdetect,
    "lingua": make_lingua,
}


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def measure_rss(name: str) -> tuple[float, float]:
    """(RSS after start-up, RSS with the detector loaded) of a fresh interpreter, in MiB."""
    out = subprocess.run(
        [sys.executable, __file__, "--rss-of", name], capture_output=True, text=True, check=True, timeout=300
    ).stdout.split()
    return float(out[0]), float(out[1])


def _rss_child(name: str) -> None:
    before = rss_mib()
    detect = FACTORIES[name]()
    # Our detector and langdetect load lazily: one message per language loads langdetect's
    # profiles; ours often decides without Lingua, so its three detectors are built explicitly.
    for _lang, text in _one_per_language(load_split("dev")):
        detect(text)
    if name.startswith("ours"):
        from bot import language

        for script in ("latin", "cyrillic", "arabic"):
            language._detector(script)
    print(f"{before:.1f} {rss_mib():.1f}")


def _one_per_language(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    chosen: dict[str, str] = {}
    for lang, text in rows:
        if len(text.split()) >= 8:
            chosen.setdefault(lang, text)
    return sorted(chosen.items())


def bucket_of(text: str) -> str:
    words = len(text.split())
    return next(name for name, low, high in BUCKETS[:-1] if low <= words <= high)


def run(detect: Detector, rows: list[tuple[str, str]]) -> tuple[list[str | None], float]:
    answers: list[str | None] = []
    times: list[int] = []
    for _lang, text in rows:
        start = time.perf_counter_ns()
        answers.append(detect(text))
        times.append(time.perf_counter_ns() - start)
    return answers, statistics.median(times) / 1000


def rates(pairs: list[tuple[str, str | None]]) -> tuple[float, float, float]:
    """(accuracy, abstain rate, confidently-wrong rate) in percent."""
    n = len(pairs) or 1
    right = sum(1 for gold, got in pairs if got == gold)
    abstain = sum(1 for _gold, got in pairs if got is None)
    return 100 * right / n, 100 * abstain / n, 100 * (n - right - abstain) / n


def summarise(rows: list[tuple[str, str]], answers: list[str | None]) -> dict[str, dict[str, tuple]]:
    """group ("all", "4+", a language) -> bucket -> rates."""
    table: dict[str, dict[str, tuple]] = {}
    groups = ["all", "4+", *CHAT_LANGUAGES]
    for group in groups:
        table[group] = {}
        for bucket, low, high in BUCKETS:
            pairs = [
                (gold, got)
                for (gold, text), got in zip(rows, answers, strict=True)
                if (group in ("all", "4+") or gold == group)
                and low <= len(text.split()) <= high
                and (group != "4+" or len(text.split()) >= 4)
            ]
            table[group][bucket] = (*rates(pairs), len(pairs))
    return table


def print_table(name: str, table: dict[str, dict[str, tuple]]) -> None:
    header = "".join(f" | {b:^20}" for b, _, _ in BUCKETS)
    print(f"\n## {name}: accuracy / abstain / confidently wrong, % (n = snippets)")
    print(f"{'group':<6}{header}")
    for group, buckets in table.items():
        if group == "4+":
            continue
        cells = "".join(f" | {a:5.1f} {ab:5.1f} {w:5.1f} n={n:<4}" for a, ab, w, n in buckets.values())
        print(f"{group:<6}{cells}")
    acc4, ab4, wr4, n4 = table["4+"]["all"]
    print(f"4+ words (n={n4}): accuracy {acc4:.1f}, abstain {ab4:.1f}, confidently wrong {wr4:.1f}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--split", default="test", choices=("test", "dev"))
    parser.add_argument("--rss-of", choices=DETECTORS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_of:
        _rss_child(args.rss_of)
        return
    rows = load_split(args.split)
    print(f"{args.split} split: {len(rows)} snippets, {len({lang for lang, _ in rows})} languages")
    summary = []
    for name in DETECTORS:
        detect = FACTORIES[name]()
        answers, median_us = run(detect, rows)
        table = summarise(rows, answers)
        print_table(name, table)
        start_rss, loaded_rss = measure_rss(name)
        summary.append((name, table, median_us, start_rss, loaded_rss))
    print("\n## Summary (% of snippets; RSS of a fresh process after loading the detector)")
    print(
        "| detector | all: right | all: wrong | 1-3 words: right | 4+ words: right | 4+ words: wrong "
        "| RSS loaded (MiB) | RSS python+imports at start (MiB) | median time (µs) |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name, table, median_us, start_rss, loaded_rss in summary:
        print(
            f"| {name} | {table['all']['all'][0]:.1f} | {table['all']['all'][2]:.1f} "
            f"| {table['all']['1-3'][0]:.1f} | {table['4+']['all'][0]:.1f} | {table['4+']['all'][2]:.1f} "
            f"| {loaded_rss:.0f} | {start_rss:.0f} | {median_us:.0f} |"
        )


if __name__ == "__main__":
    main()
