"""The SVG charts: bars and points where the numbers say, text escaped, gaps left open."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

from labeling import plots

SVG = "{http://www.w3.org/2000/svg}"


def parse(chart: plots.Chart) -> ET.Element:
    return ET.fromstring(chart.svg)


def bars(chart: plots.Chart) -> list[ET.Element]:
    return parse(chart).findall(f"{SVG}rect[@class='bar']")


@pytest.mark.parametrize(
    ("largest", "top"),
    [(0, 1.0), (3, 5.0), (7, 10.0), (10, 10.0), (11, 20.0), (0.37, 0.5), (2400, 2500.0)],
)
def test_the_axis_ends_on_a_round_number_at_or_above_the_largest_value(
    largest: float, top: float
) -> None:
    assert plots.nice_top(largest) == top


def test_bar_heights_are_proportional_to_the_values_and_labelled() -> None:
    chart = plots.bar_chart(
        title="Lines",
        description="Per day",
        labels=["1 May", "2 May", "3 May"],
        series=[plots.Series("Lines", (2, 0, 5))],
    )
    drawn = bars(chart)
    assert [b.get("data-label") for b in drawn] == ["1 May", "2 May", "3 May"]
    heights = [float(b.get("height", "")) for b in drawn]
    assert heights[1] == 0
    assert heights[2] / heights[0] == pytest.approx(2.5, rel=0.01)
    # The tallest bar reaches the top of the axis (5 is its own round top).
    base = float(drawn[2].get("y", "")) + heights[2]
    assert float(drawn[2].get("y", "")) == pytest.approx(base - 188, abs=0.1)
    assert [t.text for t in drawn[2].findall(f"{SVG}title")] == ["3 May · Lines: 5"]


def test_grouped_bars_draw_one_bar_per_series_and_skip_missing_values() -> None:
    chart = plots.bar_chart(
        title="CER",
        description="Start and result",
        labels=["Run 1", "Run 2"],
        series=[plots.Series("Start", (0.2, 0.1)), plots.Series("Result", (0.1, None))],
        fmt=plots.percent,
    )
    drawn = bars(chart)
    assert len(drawn) == 3
    assert {b.get("fill") for b in drawn} == {plots.PALETTE[0], plots.PALETTE[1]}
    assert chart.rows == [("Run 1", ["20.0%", "10.0%"]), ("Run 2", ["10.0%", "—"])]


def test_the_picture_has_a_title_and_a_description_for_screen_readers() -> None:
    chart = plots.bar_chart(
        title="Lines labelled", description="Last 30 days", labels=["a"], series=[]
    )
    root = parse(chart)
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title is not None and title.text == "Lines labelled"
    assert desc is not None and desc.text == "Last 30 days"
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"


def test_every_text_is_escaped() -> None:
    chart = plots.bar_chart(
        title="<script>alert(1)</script>",
        description='a "quote" & more',
        labels=['<b onload="x">'],
        series=[plots.Series("<i>", (1,))],
    )
    assert "<script>" not in chart.svg and "<b " not in chart.svg and "<i>" not in chart.svg
    parse(chart)  # still well-formed XML


def test_a_line_breaks_where_a_value_is_missing() -> None:
    chart = plots.line_chart(
        title="Agreement",
        description="Share per day",
        labels=["1", "2", "3", "4", "5"],
        series=[plots.Series("Agreeing", (0.5, 1.0, None, 0.25, 0.75))],
        fmt=plots.percent,
        top=1.0,
    )
    root = parse(chart)
    points = root.findall(f"{SVG}circle[@class='point']")
    assert [p.get("data-value") for p in points] == ["0.5", "1.0", "0.25", "0.75"]
    lines = root.findall(f"{SVG}polyline[@class='line']")
    assert [len(line.get("points", "").split()) for line in lines] == [2, 2]
    # A share of 1.0 sits at the top of the plot, 0.5 half-way down.
    ys = [float(p.get("cy", "")) for p in points]
    assert ys[1] == pytest.approx(12) and ys[0] == pytest.approx(12 + 188 / 2)
    assert chart.rows[2] == ("3", ["—"])


def test_many_days_get_a_few_axis_labels_and_the_table_keeps_all() -> None:
    labels = [f"d{n}" for n in range(30)]
    chart = plots.bar_chart(
        title="t", description="d", labels=labels, series=[plots.Series("n", (1,) * 30)]
    )
    axis = re.findall(r'class="label"[^>]*>([^<]*)<', chart.svg)
    assert 4 <= len(axis) <= 9 and axis[-1] == "d29"
    assert [label for label, _ in chart.rows] == labels


@pytest.mark.parametrize(
    ("top", "whole", "steps"),
    [
        (10, True, 5),
        (20, True, 4),
        (5, True, 5),
        (2, True, 2),
        (1, True, 1),
        (1.0, False, 5),
        (0.2, False, 4),
        (2500, True, 5),
    ],
)
def test_axis_steps_are_round_and_whole_for_counts(top: float, whole: bool, steps: int) -> None:
    assert plots.tick_count(top, whole=whole) == steps


def test_count_ticks_are_whole_numbers() -> None:
    chart = plots.bar_chart(
        title="t", description="d", labels=["a", "b"], series=[plots.Series("n", (7, 3))]
    )
    assert re.findall(r'class="tick"[^>]*>([^<]*)<', chart.svg) == ["0", "2", "4", "6", "8", "10"]
