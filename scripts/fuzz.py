"""Runs the properties of tests/fuzz with a large budget and reports, per target, inputs run and crashes.

    .venv/bin/python scripts/fuzz.py                     # 12,000 hostile inputs in all (make fuzz)
    .venv/bin/python scripts/fuzz.py --total 100000 --seed 7
    .venv/bin/python scripts/fuzz.py --targets telegram_updates render --examples 5000

The budget is shared out by each target's weight. Every input is run to the end, so the counts are
of inputs, not of first failures: a crash is an exception escaping the code under test (in the bot,
one that reached the error handler), a violation a wrong answer (a message over 4,096 characters, a
slot value outside the schema's code lists ...). For the first failure of each target the same seed
is then run again under Hypothesis's normal rules, which shrinks it to a minimal example to paste into
an @example in tests/fuzz. Exits with 1 if anything failed. Nothing is written to the repository: the
work files and Hypothesis's caches live in a temporary directory, and there is no example database.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import traceback
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# Test keys, as tests/conftest.py sets them: the developer's key files are neither read nor made.
os.environ.setdefault("ENCRYPTION_KEYS", "dGVzdC1lbmNyeXB0aW9uLWtleS0zMi1ieXRlcy0hISE")
os.environ.setdefault("ID_HASH_KEY", "test-id-hash-key-not-secret")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.errors import HypothesisWarning

from tests.fuzz.targets import TARGETS, PropertyViolation, Target

DEFAULT_TOTAL = 12_000


@dataclass
class Result:
    name: str
    inputs: int = 0
    crashes: int = 0
    violations: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    kinds: Counter[str] = field(default_factory=Counter)
    first: dict[str, str] = field(default_factory=dict)  # kind -> a short example and traceback


def budget(targets: list[Target], total: int, per_target: int | None) -> dict[str, int]:
    if per_target is not None:
        return {t.name: per_target for t in targets}
    weights = sum(t.weight for t in targets)
    return {t.name: max(1, round(total * t.weight / weights)) for t in targets}


def _kind(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    ours = [f for f in frames if "/site-packages/" not in f.filename] or frames
    where = f"{Path(ours[-1].filename).name}:{ours[-1].lineno}" if ours else "?"
    if isinstance(error, PropertyViolation):  # one kind per property, whatever the values
        return f"violation at {where}: {str(error).split(' <- ')[0].split(':')[0][:50]}"
    return f"{type(error).__name__} at {where}"


def _settings(examples: int, phases: list[Phase]) -> settings:
    return settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=phases,
        suppress_health_check=list(HealthCheck),
        print_blob=True,
    )


def run_target(target: Target, examples: int, run_seed: int, workdir: Path) -> Result:
    result = Result(target.name)
    started = time.perf_counter()
    with target.open(workdir) as check:

        @_settings(examples, [Phase.generate])
        @given(target.strategy)
        def count(value: Any) -> None:
            result.inputs += 1
            begun = time.perf_counter()
            try:
                check(value)
            except PropertyViolation as violation:
                result.violations += 1
                _remember(result, violation, value)
            except Exception as crash:
                result.crashes += 1
                _remember(result, crash, value)
            finally:
                result.slowest = max(result.slowest, time.perf_counter() - begun)

        seed(run_seed)(count)()
        result.seconds = time.perf_counter() - started
    return result


def _remember(result: Result, error: BaseException, value: Any) -> None:
    kind = _kind(error)
    result.kinds[kind] += 1
    if kind not in result.first:
        shown = repr(value)
        shown = shown if len(shown) < 600 else shown[:600] + f"... ({len(shown)} characters)"
        trace = "".join(traceback.format_exception(error)[-6:])
        result.first[kind] = f"      input: {shown}\n{trace}"


def shrink(target: Target, examples: int, run_seed: int, workdir: Path) -> None:
    """The same seed under Hypothesis's rules: stops at the first failure and shrinks it."""
    with target.open(workdir) as check:

        @_settings(examples, [Phase.generate, Phase.shrink])
        @given(target.strategy)
        def failing(value: Any) -> None:
            check(value)

        try:
            seed(run_seed)(failing)()
        except Exception as error:
            found = error.exceptions if isinstance(error, BaseExceptionGroup) else (error,)
            for failure in found:  # Hypothesis reports distinct failures as a group
                print(f"    shrunk: {type(failure).__name__}: {str(failure)[:300]}")
                for note in getattr(failure, "__notes__", []):  # "Falsifying example: ..."
                    print("    " + note.replace("\n", "\n    "))
        else:
            print("    (the failure did not repeat under shrinking: it depends on earlier inputs)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--total", type=int, default=DEFAULT_TOTAL, help="inputs in all, shared by weight")
    parser.add_argument("--examples", type=int, help="inputs per target instead of --total")
    parser.add_argument("--seed", type=int, help="random seed (default: a new one, printed)")
    parser.add_argument("--targets", nargs="+", choices=sorted(TARGETS), help="only these targets")
    parser.add_argument("--no-shrink", action="store_true", help="do not minimise the first failure")
    parser.add_argument("--list", action="store_true", help="list the targets and what they cover")
    args = parser.parse_args(argv)
    if args.list:
        for target in TARGETS.values():
            print(f"{target.name:<22}weight {target.weight}  {target.about}")
        return 0

    warnings.simplefilter("ignore", HypothesisWarning)  # e.g. "overly large repr" of a 6,000-character text
    targets = [TARGETS[name] for name in args.targets] if args.targets else list(TARGETS.values())
    shares = budget(targets, args.total, args.examples)
    run_seed = args.seed if args.seed is not None else random.randrange(2**32)  # noqa: S311 (a test seed)
    print(f"fuzz: seed {run_seed}, {sum(shares.values()):,} inputs planned over {len(targets)} targets")
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="intake-fuzz-") as tmp:
        set_hypothesis_home_dir(Path(tmp) / "hypothesis")  # Hypothesis's caches too, not ./.hypothesis
        for target in targets:
            workdir = Path(tmp) / target.name
            workdir.mkdir()
            print(f"  {target.name}: {shares[target.name]:,} inputs ... ", end="", flush=True)
            result = run_target(target, shares[target.name], run_seed, workdir)
            results.append(result)
            print(
                f"{result.inputs:,} run, {result.crashes} crashes, {result.violations} violations, "
                f"{result.seconds:.1f} s"
            )
            for kind, number in result.kinds.most_common():
                print(f"    {number} x {kind}\n{result.first[kind]}")
            if result.kinds and not args.no_shrink:
                shrink_dir = Path(tmp) / f"{target.name}-shrink"
                shrink_dir.mkdir()
                shrink(target, shares[target.name], run_seed, shrink_dir)

    print()
    print(f"{'target':<22}{'inputs':>9}{'crashes':>9}{'violations':>12}{'time s':>9}{'slowest ms':>12}")
    for r in results:
        slowest_ms = r.slowest * 1000
        print(
            f"{r.name:<22}{r.inputs:>9,}{r.crashes:>9}{r.violations:>12}{r.seconds:>9.1f}{slowest_ms:>12.0f}"
        )
    total = Result(
        "total",
        sum(r.inputs for r in results),
        sum(r.crashes for r in results),
        sum(r.violations for r in results),
        sum(r.seconds for r in results),
    )
    print(f"{'total':<22}{total.inputs:>9,}{total.crashes:>9}{total.violations:>12}{total.seconds:>9.1f}")
    print(f"(seed {run_seed}; again with: .venv/bin/python scripts/fuzz.py --seed {run_seed})")
    return 1 if total.crashes or total.violations else 0


if __name__ == "__main__":
    sys.exit(main())
