"""Bar and line charts as SVG text, drawn on the server (no script, no CDN).

No Django: the caller computes the numbers and passes every word already translated. A chart
carries its numbers too, so the page renders them as a `<table>` beside the picture (for
screen readers, for copying, and for anyone who cannot see the colours). Every piece of text
is escaped here; the SVG string is safe to mark safe.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from html import escape
from itertools import count

# Colours that stay apart for the common colour blindnesses (Okabe-Ito).
PALETTE = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00")
_ids = count(1)


def integer(value: float) -> str:
    return f"{value:,.0f}"


def percent(value: float) -> str:
    return f"{100 * value:.1f}%"


@dataclass(frozen=True)
class Series:
    """One named row of values, one per label; None where there is nothing to show."""

    name: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class Chart:
    title: str
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    svg: str
    fmt: Callable[[float], str] = field(default=integer, compare=False)
    empty: str = "—"
    description: str = ""  # what the SVG's <desc> says, for a caption beside the picture

    @property
    def rows(self) -> list[tuple[str, list[str]]]:
        """The table fallback: a row per label, a cell per series, formatted as on the axis."""
        return [
            (label, [self.cell(s.values[i]) for s in self.series])
            for i, label in enumerate(self.labels)
        ]

    def cell(self, value: float | None) -> str:
        return self.empty if value is None else self.fmt(value)


@dataclass(frozen=True)
class _Frame:
    """The plot area inside the picture, and the value at its top."""

    width: int
    height: int
    left: int = 56
    right: int = 12
    top: int = 12
    bottom: int = 40
    top_value: float = 1.0

    @property
    def inner_width(self) -> float:
        return self.width - self.left - self.right

    @property
    def inner_height(self) -> float:
        return self.height - self.top - self.bottom

    def y(self, value: float) -> float:
        return self.top + self.inner_height * (1 - min(value, self.top_value) / self.top_value)


def nice_top(largest: float) -> float:
    """The smallest 1, 2, 2.5 or 5 × 10ⁿ at or above the largest value (1 for nothing)."""
    if largest <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(largest))
    for step in (1, 2, 2.5, 5, 10):
        if step * power >= largest:
            return float(step * power)
    return float(10 * power)  # pragma: no cover (10 × power always reaches it)


def tick_count(top: float, *, whole: bool) -> int:
    """Steps from 0 to the top of the axis, each a round number (1, 2, 2.5 or 5 × 10ⁿ), and a
    whole one when the values are counts."""
    for steps in (5, 4, 2):
        step = top / steps
        mantissa = step / 10 ** math.floor(math.log10(step))
        if any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5)) and (
            not whole or step.is_integer()
        ):
            return steps
    return 1


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _axes(frame: _Frame, labels: Sequence[str], fmt: Callable[[float], str]) -> str:
    parts = []
    ticks = tick_count(frame.top_value, whole=fmt is integer)
    for i in range(ticks + 1):
        value = frame.top_value * i / ticks
        y = _number(frame.y(value))
        parts.append(
            f'<line class="grid" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{y}" '
            f'y2="{y}" stroke="#ddd" stroke-width="1"/>'
            f'<text class="tick" x="{frame.left - 6}" y="{y}" text-anchor="end" '
            f'dominant-baseline="middle" font-size="11">{escape(fmt(value))}</text>'
        )
    base = _number(frame.y(0))
    parts.append(
        f'<line class="axis" x1="{frame.left}" x2="{frame.width - frame.right}" y1="{base}" '
        f'y2="{base}" stroke="#333" stroke-width="1"/>'
    )
    # At most about eight labels under the axis, counted back from the last (today); the table
    # holds every one.
    every = max(1, math.ceil(len(labels) / 8))
    slot = frame.inner_width / max(len(labels), 1)
    for i, label in enumerate(labels):
        if (len(labels) - 1 - i) % every:
            continue
        x = _number(frame.left + slot * (i + 0.5))
        parts.append(
            f'<text class="label" x="{x}" y="{frame.height - frame.bottom + 16}" '
            f'text-anchor="middle" font-size="11">{escape(label)}</text>'
        )
    return "".join(parts)


def _legend(series: Sequence[Series], frame: _Frame) -> str:
    if len(series) < 2:
        return ""
    parts = []
    x = frame.left
    for i, s in enumerate(series):
        colour = PALETTE[i % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{frame.height - 14}" width="10" height="10" fill="{colour}"/>'
            f'<text x="{x + 14}" y="{frame.height - 5}" font-size="11">{escape(s.name)}</text>'
        )
        x += 24 + 7 * len(s.name)
    return "".join(parts)


def _open(frame: _Frame, title: str, description: str) -> str:
    ident = f"chart-{next(_ids)}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {frame.width} {frame.height}" width="{frame.width}" '
        f'height="{frame.height}" aria-labelledby="{ident}-t {ident}-d">'
        f'<title id="{ident}-t">{escape(title)}</title>'
        f'<desc id="{ident}-d">{escape(description)}</desc>'
    )


def _top_value(series: Sequence[Series], top: float | None) -> float:
    if top is not None:
        return top
    largest = max((v for s in series for v in s.values if v is not None), default=0.0)
    return nice_top(largest)


def bar_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = integer,
    top: float | None = None,
    width: int = 640,
    height: int = 240,
) -> Chart:
    """Bars, one group per label and one bar per series in each group; a missing value draws
    no bar. `top` fixes the axis (1.0 for shares), otherwise it is a round number above the
    largest value."""
    frame = _Frame(width, height, top_value=_top_value(series, top))
    slot = frame.inner_width / max(len(labels), 1)
    bar = slot * 0.8 / max(len(series), 1)
    parts = [_open(frame, title, description), _axes(frame, labels, fmt)]
    base = frame.y(0)
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        for i, value in enumerate(s.values):
            if value is None:
                continue
            y = frame.y(value)
            x = frame.left + slot * i + slot * 0.1 + bar * j
            parts.append(
                f'<rect class="bar" x="{_number(x)}" y="{_number(y)}" width="{_number(bar)}" '
                f'height="{_number(base - y)}" fill="{colour}" data-label="{escape(labels[i])}" '
                f'data-value="{value}"><title>{escape(labels[i])} · {escape(s.name)}: '
                f"{escape(fmt(value))}</title></rect>"
            )
    parts += [_legend(series, frame), "</svg>"]
    return Chart(title, tuple(labels), tuple(series), "".join(parts), fmt, description=description)


def line_chart(
    *,
    title: str,
    description: str,
    labels: Sequence[str],
    series: Sequence[Series],
    fmt: Callable[[float], str] = integer,
    top: float | None = None,
    width: int = 640,
    height: int = 240,
) -> Chart:
    """A line per series through its values, broken where a value is missing, with a dot on
    every value (a single day between gaps still shows)."""
    frame = _Frame(width, height, top_value=_top_value(series, top))
    slot = frame.inner_width / max(len(labels), 1)
    parts = [_open(frame, title, description), _axes(frame, labels, fmt)]
    for j, s in enumerate(series):
        colour = PALETTE[j % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for i, value in enumerate(s.values):
            if value is None:
                runs.append([])
                continue
            x, y = _number(frame.left + slot * (i + 0.5)), _number(frame.y(value))
            runs[-1].append(f"{x},{y}")
            parts.append(
                f'<circle class="point" cx="{x}" cy="{y}" r="3" fill="{colour}" '
                f'data-label="{escape(labels[i])}" data-value="{value}"><title>'
                f"{escape(labels[i])} · {escape(s.name)}: {escape(fmt(value))}</title></circle>"
            )
        parts += [
            f'<polyline class="line" points="{" ".join(run)}" fill="none" stroke="{colour}" '
            f'stroke-width="2"/>'
            for run in runs
            if len(run) > 1
        ]
    parts += [_legend(series, frame), "</svg>"]
    return Chart(title, tuple(labels), tuple(series), "".join(parts), fmt, description=description)
