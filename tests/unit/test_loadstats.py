"""The statistics of the load benchmark (scripts/bench.py): percentiles, throughput, the search."""

from __future__ import annotations

import math
import statistics

import pytest

from tests.support.loadstats import Step, TurnRecord, max_sustained, percentile, ratio, summarise


@pytest.mark.parametrize(
    ("values", "share", "expected"),
    [
        ([5.0], 0.99, 5.0),
        ([1.0, 2.0], 0.5, 1.5),
        ([3.0, 1.0, 2.0], 0.0, 1.0),
        ([3.0, 1.0, 2.0], 1.0, 3.0),
        ([float(i) for i in range(1, 101)], 0.50, 50.5),
        ([float(i) for i in range(1, 101)], 0.95, 95.05),
        ([float(i) for i in range(1, 101)], 0.99, 99.01),
    ],
)
def test_percentile_interpolates_between_ranks(values: list[float], share: float, expected: float) -> None:
    assert percentile(values, share) == pytest.approx(expected)


def test_percentile_agrees_with_the_standard_library() -> None:
    values = [0.31, 0.12, 0.95, 0.4, 0.4, 2.5, 0.08, 0.77, 1.3, 0.6, 0.52]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    for index, share in ((49, 0.50), (94, 0.95), (98, 0.99)):
        assert percentile(values, share) == pytest.approx(cuts[index])


def test_percentile_of_nothing_is_nan_and_share_is_checked() -> None:
    assert math.isnan(percentile([], 0.5))
    with pytest.raises(ValueError):
        percentile([1.0], 99)


def test_summary_counts_errors_apart_and_throughput_within_the_window() -> None:
    records = [
        TurnRecord(sent=0.5, start=0.6, end=0.8),  # sent before the window: not counted
        TurnRecord(sent=1.0, start=1.1, end=1.3),
        TurnRecord(sent=2.0, start=2.0, end=2.5),
        TurnRecord(sent=3.0, start=3.1, end=33.1, error="timeout"),
        TurnRecord(sent=10.5, start=10.6, end=12.0),  # sent in the window, answered after it
    ]
    summary = summarise(records, window=(1.0, 11.0))
    assert (summary.turns, summary.ok, summary.errors) == (4, 3, {"timeout": 1})
    # Answered without error within 1..11 s: the turns sent at 1.0 and 2.0 (0.5 s one ended at 0.8).
    assert summary.throughput == pytest.approx(2 / 10)
    assert summary.p50 == pytest.approx(0.5)  # latencies 0.2, 0.5, 1.4: the timeout is not among them
    assert summary.max == pytest.approx(1.4)


def test_summary_without_window_spans_first_send_to_last_answer() -> None:
    records = [TurnRecord(sent=float(i), start=float(i), end=i + 0.25) for i in range(5)]
    summary = summarise(records)
    assert summary.window_s == pytest.approx(4.25)
    assert summary.throughput == pytest.approx(5 / 4.25)
    assert summary.p99 == pytest.approx(0.25)
    assert summarise([]).turns == 0


def test_max_sustained_ignores_steps_over_the_limit_or_with_errors() -> None:
    def step(users: int, turns: int, latency: float, error: str | None = None) -> Step:
        sent = [8.0 * i / turns for i in range(turns)]  # all answered within the 10 s window
        records = [TurnRecord(t, t, t + latency) for t in sent]
        if error:
            records.append(TurnRecord(0.0, 0.0, 1.0, error))
        return Step(users, summarise(records, window=(0.0, 10.0)))

    steps = [step(2, 10, 0.3), step(4, 20, 0.6), step(8, 30, 0.9, "timeout"), step(16, 40, 1.5)]
    best = max_sustained(steps, p99_limit_s=1.0)
    assert best is not None and best.users == 4
    assert max_sustained(steps[3:], p99_limit_s=1.0) is None


def test_ratio_is_nan_when_a_side_is_missing() -> None:
    assert ratio(8.0, 10.0) == pytest.approx(0.8)
    assert math.isnan(ratio(8.0, 0.0))
    assert math.isnan(ratio(math.nan, 10.0))
