"""Statistics of a load test: latency percentiles, throughput, errors, and the goals they meet."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any


def percentile(values: Iterable[float], share: float) -> float:
    """The `share` (0..1) quantile with linear interpolation between closest ranks (like NumPy's
    default and ``statistics.quantiles(method="inclusive")``); NaN for no values."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"share must be within 0..1, got {share}")
    ordered = sorted(values)
    if not ordered:
        return math.nan
    position = share * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


@dataclass(frozen=True)
class TurnRecord:
    """One message of a simulated person and what came back. Times are ``time.perf_counter()``.

    sent: the load generator handed the message over (pushed the update, or sent the request);
    start: where the turn latency starts (the stand-in delivered the update to the bot; for bare
    Rasa: the request was sent); end: the last reply of the turn arrived; error: None or a kind.
    """

    sent: float
    start: float
    end: float
    error: str | None = None

    @property
    def latency(self) -> float:
        return self.end - self.start


@dataclass
class Summary:
    """Figures of one path (bot or bare Rasa) in one phase."""

    turns: int
    ok: int
    errors: dict[str, int]
    throughput: float  # turns answered without error per second of the measuring window
    window_s: float
    p50: float
    p95: float
    p99: float
    mean: float
    max: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())

    def as_dict(self) -> dict[str, Any]:
        figures = {
            "turns": self.turns,
            "ok": self.ok,
            "errors": dict(self.errors),
            "error_count": self.error_count,
            "throughput_turns_per_s": _rounded(self.throughput),
            "window_s": _rounded(self.window_s),
            "latency_s": {
                name: _rounded(getattr(self, name)) for name in ("p50", "p95", "p99", "mean", "max")
            },
        }
        return figures | self.extra


def _rounded(value: float, digits: int = 4) -> float | None:
    return None if math.isnan(value) else round(value, digits)


def summarise(records: Sequence[TurnRecord], window: tuple[float, float] | None = None) -> Summary:
    """Latency over every turn sent within `window` (default: all), errors among them, and
    throughput = turns that ended without error within the window / its length.

    A turn that failed counts as an error and not in the latency percentiles (its "latency" is a
    timeout or a wrong answer); a goal on latency therefore always goes with one on errors.
    """
    if window is None:
        if not records:
            nan = math.nan
            return Summary(0, 0, {}, 0.0, 0.0, p50=nan, p95=nan, p99=nan, mean=nan, max=nan)
        window = (min(r.sent for r in records), max(r.end for r in records))
    begin, end = window
    sent = [r for r in records if begin <= r.sent <= end]
    good = [r for r in sent if r.error is None]
    errors = Counter(r.error for r in sent if r.error is not None)
    latencies = [r.latency for r in good]
    length = end - begin
    finished = sum(1 for r in records if r.error is None and begin <= r.end <= end)
    return Summary(
        turns=len(sent),
        ok=len(good),
        errors=dict(sorted(errors.items())),
        throughput=finished / length if length > 0 else math.nan,
        window_s=length,
        p50=percentile(latencies, 0.50),
        p95=percentile(latencies, 0.95),
        p99=percentile(latencies, 0.99),
        mean=sum(latencies) / len(latencies) if latencies else math.nan,
        max=max(latencies, default=math.nan),
    )


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is zero."""
    if math.isnan(numerator) or math.isnan(denominator) or denominator == 0:
        return math.nan
    return numerator / denominator


@dataclass(frozen=True)
class Step:
    """One load level of the max-throughput search."""

    users: int
    summary: Summary


def max_sustained(steps: Sequence[Step], p99_limit_s: float = 1.0) -> Step | None:
    """The step with the highest throughput whose p99 stayed within the limit without errors."""
    passing = [
        s for s in steps if s.summary.ok and s.summary.p99 <= p99_limit_s and s.summary.error_count == 0
    ]
    return max(passing, key=lambda s: s.summary.throughput, default=None)


def verdict(met: bool | None) -> str:
    return "not evaluated" if met is None else ("MET" if met else "NOT MET")
