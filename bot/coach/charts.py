"""Horizontal bar charts as inline SVG (server-rendered, with a text alternative for screen readers)."""

from __future__ import annotations

from dataclasses import dataclass

from babel.dates import format_date

from bot.coach.i18n import UI_LANGUAGE, N_c

FUNNEL_STEPS = {
    "started": N_c("Started"),
    "consented": N_c("Consented"),
    "submitted": N_c("Submitted"),
    "interview_scheduled": N_c("Interview scheduled"),
    "interviewed": N_c("Interviewed"),
}

BAR_HEIGHT = 22
GAP = 8
LABEL_WIDTH = 300
BAR_WIDTH = 380
VALUE_WIDTH = 60


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: int


@dataclass(frozen=True)
class BarChart:
    title: str
    bars: list[Bar]
    width: int
    height: int
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def description(self) -> str:
        """The chart as one sentence, for aria and for readers without graphics."""
        return f"{self.title}: " + "; ".join(f"{bar.label} {bar.value}" for bar in self.bars)


def bar_chart(items: list[tuple[str, int]], title: str) -> BarChart:
    """Bars scaled to the largest value; the template draws them (autoescaped labels)."""
    largest = max((value for _, value in items), default=0) or 1
    bars = [
        Bar(
            label=label,
            value=value,
            y=index * (BAR_HEIGHT + GAP),
            width=max(1 if value else 0, round(BAR_WIDTH * value / largest)),
        )
        for index, (label, value) in enumerate(items)
    ]
    height = max(len(bars), 1) * (BAR_HEIGHT + GAP)
    return BarChart(title=title, bars=bars, width=LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH, height=height)


def month_label(key: str) -> str:
    """ "2026-11" → "Nov. 2026"."""
    from datetime import date

    year, month = (int(part) for part in key.split("-"))
    return format_date(date(year, month, 1), "MMM yyyy", locale=UI_LANGUAGE)
