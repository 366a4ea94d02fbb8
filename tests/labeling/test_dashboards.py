"""The dashboards: charts drawn from real rows, the staff page for staff only, and a number
of queries that does not grow with the rows."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import date, datetime, timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from labeling import dashboards
from labeling.models import (
    DatasetRelease,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrModel,
    ReleaseStatus,
    TrainingRun,
    TrainingStatus,
    Transcription,
)

SVG = "{http://www.w3.org/2000/svg}"


def days_ago(n: int) -> datetime:
    return timezone.now() - timedelta(days=n)


def label(line: Line, person: User, text: str, *, when: datetime) -> Transcription:
    made = Transcription.objects.create(line=line, user=person, text=text, kept_prediction=False)
    Transcription.objects.filter(pk=made.pk).update(created_at=when)
    return made


def chart(html: str, title: str) -> ET.Element:
    """The SVG of the figure with this title on the page."""
    for svg in re.findall(r"<svg.*?</svg>", html, flags=re.S):
        root = ET.fromstring(svg)
        found = root.find(f"{SVG}title")
        if found is not None and found.text == title:
            return root
    raise AssertionError(f"no chart titled {title!r}")


def table_rows(html: str, title: str) -> dict[str, list[str]]:
    """The fallback table of that figure: {row label: cells}."""
    figure = html[html.index(f"<h2>{title}</h2>") :]
    table = figure[: figure.index("</table>")]
    rows = re.findall(r'<tr><th scope="row"[^>]*>(.*?)</th>(.*?)</tr>', table, flags=re.S)
    return {label: re.findall(r"<td>(.*?)</td>", cells) for label, cells in rows}


def day_label(n: int) -> str:
    from django.utils.formats import date_format

    return date_format(timezone.localdate() - timedelta(days=n), "j M")


def test_the_contributor_sees_their_labels_per_day_as_bars_and_as_a_table(
    user: User,
    read_document: Callable[..., object],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    lines = pool_lines((10.0,) * 6)
    for line, n in zip(lines, (0, 0, 0, 2, 5, 5), strict=True):
        label(line, user, "كتاب", when=days_ago(n))

    html = client_for(user).get("/me/dashboard/").content.decode()

    root = chart(html, "Lines labelled per day")
    drawn = root.findall(f"{SVG}rect[@class='bar']")
    assert len(drawn) == 30
    tall = {
        b.get("data-label"): float(b.get("height", "")) for b in drawn if b.get("data-value") != "0"
    }
    assert set(tall) == {day_label(0), day_label(2), day_label(5)}
    assert tall[day_label(0)] / tall[day_label(2)] == pytest.approx(3)
    assert tall[day_label(5)] / tall[day_label(2)] == pytest.approx(2)
    rows = table_rows(html, "Lines labelled per day")
    assert (
        rows[day_label(0)] == ["3"] and rows[day_label(5)] == ["2"] and rows[day_label(1)] == ["0"]
    )


def test_it_does_not_count_labels_older_than_thirty_days(
    user: User, pool_lines: Callable[..., list[Line]]
) -> None:
    old, recent = pool_lines((10.0, 20.0))
    label(old, user, "كتاب", when=days_ago(30))
    label(recent, user, "كتاب", when=days_ago(29))
    figures = dashboards.contributor_figures(user=user)
    assert figures.labelled_total == 1 and figures.labelled[0] == 1


def test_agreement_and_gold_accuracy_are_shares_per_day(
    user: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
) -> None:
    agreeing, overturned, open_line = pool_lines((10.0, 20.0, 30.0))
    # Two others agree on each line; the person agrees on one (without harakat: still agrees).
    mine_agree = label(agreeing, user, "كتاب", when=days_ago(1))
    labelled(agreeing, ("كِتَاب", "كِتَاب"))
    label(overturned, user, "قلم", when=days_ago(1))
    labelled(overturned, ("كتاب", "كتاب"))
    label(open_line, user, "كتاب", when=days_ago(1))  # not settled: not counted
    assert Line.objects.get(pk=agreeing.pk).status == LineStatus.AGREED
    assert mine_agree.pk

    gold = pool_lines((50.0, 60.0, 70.0))
    for line in gold:
        Line.objects.filter(pk=line.pk).update(gold_text="سلام")
    label(gold[0], user, "سلام", when=days_ago(3))
    label(gold[1], user, "سلام", when=days_ago(3))
    label(gold[2], user, "کلام", when=days_ago(3))

    html = client_for(user).get("/me/dashboard/").content.decode()

    agreement = chart(html, "Agreement with the consensus")
    points = agreement.findall(f"{SVG}circle[@class='point']")
    assert [(p.get("data-label"), p.get("data-value")) for p in points] == [(day_label(1), "0.5")]
    assert table_rows(html, "Agreement with the consensus")[day_label(1)] == ["50.0%"]
    assert table_rows(html, "Agreement with the consensus")[day_label(2)] == ["—"]
    accuracy = chart(html, "Gold accuracy").findall(f"{SVG}circle[@class='point']")
    assert [p.get("data-label") for p in accuracy] == [day_label(3)]
    assert float(accuracy[0].get("data-value", "")) == pytest.approx(2 / 3)
    assert "2 of 3" in html  # gold lines right over the window
    assert "1 of 2" in html  # agreed with the consensus


def test_the_contributor_page_asks_the_same_number_of_queries_for_more_rows(
    user: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    client = client_for(user)
    few = pool_lines((10.0, 20.0))
    for n, line in enumerate(few):
        label(line, user, "كتاب", when=days_ago(n))
        labelled(line, ("كتاب",))
    with CaptureQueriesContext(connection) as first:
        client.get("/me/dashboard/")
    many = pool_lines((10.0,) * 20)
    for n, line in enumerate(many):
        label(line, user, "كتاب", when=days_ago(n % 25))
        labelled(line, ("كتاب",))
    with django_assert_max_num_queries(len(first.captured_queries)):  # type: ignore[attr-defined]
        assert client.get("/me/dashboard/").status_code == 200


def test_the_staff_dashboard_is_for_staff_only(
    user: User, make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    assert client_for(user).get("/staff/dashboard/").status_code == 403
    assert Client().get("/staff/dashboard/").status_code == 302
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    response = client_for(staff).get("/staff/dashboard/")
    assert response.status_code == 200
    assert "/staff/dashboard/" in client_for(staff).get("/me/dashboard/").content.decode()
    assert "/staff/dashboard/" not in client_for(user).get("/me/dashboard/").content.decode()


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    person = make_user("staff@example.org")
    person.is_staff = True
    person.save()
    return person


def decide(line: Line, action: str, moderator: User, *, when: datetime) -> None:
    made = ModerationDecision.objects.create(
        line=line, moderator=moderator, action=action, from_status=line.status
    )
    ModerationDecision.objects.filter(pk=made.pk).update(created_at=when)


def test_the_staff_sees_pool_lines_by_status_decisions_queue_and_labels_per_line(
    staff: User,
    user: User,
    pool_lines: Callable[..., list[Line]],
    read_document: Callable[..., object],
    client_for: Callable[[User], Client],
) -> None:
    lines = pool_lines((10.0, 20.0, 30.0, 40.0, 50.0))
    read_document()  # a private document's lines are not counted
    Line.objects.filter(pk__in=[lines[0].pk, lines[1].pk]).update(
        status=LineStatus.APPROVED, label_count=2
    )
    Line.objects.filter(pk=lines[2].pk).update(status=LineStatus.APPROVED, label_count=3)
    Line.objects.filter(pk=lines[3].pk).update(status=LineStatus.REJECTED)
    decide(lines[0], ModerationAction.APPROVE, staff, when=days_ago(1))
    decide(lines[1], ModerationAction.APPROVE, staff, when=days_ago(1))
    decide(lines[2], ModerationAction.REJECT, staff, when=days_ago(4))
    decide(lines[2], ModerationAction.REOPEN, staff, when=days_ago(3))
    decide(lines[2], ModerationAction.APPROVE, staff, when=days_ago(2))
    decide(lines[3], ModerationAction.REJECT, staff, when=days_ago(2))

    html = client_for(staff).get("/staff/dashboard/").content.decode()

    by_status = chart(html, "Pool lines by status").findall(f"{SVG}rect[@class='bar']")
    counts = {b.get("data-label"): b.get("data-value") for b in by_status}
    assert counts == {
        "New": "0",
        "Open": "1",
        "Agreed": "0",
        "Disputed": "0",
        "Approved": "3",
        "Rejected": "1",
    }
    decided = table_rows(html, "Lines decided per day")
    assert decided[day_label(1)] == ["2", "0", "0"]
    assert decided[day_label(2)] == ["1", "1", "0"]
    assert decided[day_label(3)] == ["0", "0", "1"]
    assert decided[day_label(4)] == ["0", "1", "0"]
    per_line = table_rows(html, "Labels per approved line")
    assert per_line["2"] == ["2"] and per_line["3"] == ["1"] and per_line["0"] == ["0"]
    queue = table_rows(html, "Queue depth by document")
    assert queue == {"Pool document": ["1"]}
    assert "<dd>2.33</dd>" in html  # mean labels per approved line: (2 + 2 + 3) / 3


def test_cer_per_model_comes_from_finished_training_runs(
    staff: User, client_for: Callable[[User], Client]
) -> None:
    start = OcrModel.objects.create(name="ara-best", language="ara", trainable=True)
    release = DatasetRelease.objects.create(number=1, created_by=staff, status=ReleaseStatus.DONE)
    for n, (before, after) in enumerate(((0.2, 0.08), (0.08, 0.05)), start=1):
        TrainingRun.objects.create(
            release=release,
            start_model=start,
            created_by=staff,
            status=TrainingStatus.DONE,
            evaluation={
                "start": {"model": "ara-best", "overall": {"cer_normalized": before}},
                "result": {"model": f"ota-r1-t{n}", "overall": {"cer_normalized": after}},
            },
        )
    TrainingRun.objects.create(release=release, start_model=start, created_by=staff)  # queued

    html = client_for(staff).get("/staff/dashboard/").content.decode()

    drawn = chart(html, "CER per model").findall(f"{SVG}rect[@class='bar']")
    assert [b.get("data-value") for b in drawn] == ["0.2", "0.08", "0.08", "0.05"]
    heights = [float(b.get("height", "")) for b in drawn]
    assert heights[0] / heights[3] == pytest.approx(4)
    rows = table_rows(html, "CER per model")
    assert list(rows.values()) == [["20.0%", "8.0%"], ["8.0%", "5.0%"]]


def test_the_staff_page_asks_the_same_number_of_queries_for_more_rows(
    staff: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    client = client_for(staff)
    for line in pool_lines((10.0, 20.0)):
        labelled(line, ("كتاب", "كتاب"))
    with CaptureQueriesContext(connection) as first:
        client.get("/staff/dashboard/")
    for line in pool_lines((10.0,) * 15):
        labelled(line, ("كتاب", "كتاب", "قلم"))
        decide(line, ModerationAction.APPROVE, staff, when=days_ago(line.pk % 7))
    with django_assert_max_num_queries(len(first.captured_queries)):  # type: ignore[attr-defined]
        assert client.get("/staff/dashboard/").status_code == 200


# ---------------------------------------------------------------- lines by status over time


def recorded(day: date) -> dict[str, int]:
    from labeling.models import LineStatusCount

    return dict(LineStatusCount.objects.filter(day=day).values_list("status", "count"))


def test_recording_the_days_counts_again_replaces_them(
    pool_lines: Callable[..., list[Line]], read_document: Callable[..., object]
) -> None:
    from labeling.models import LineStatusCount

    lines = pool_lines((10.0, 20.0, 30.0))
    read_document()  # a private document's lines are not counted
    today = timezone.localdate()
    dashboards.record_status_counts()
    assert recorded(today) == {s: (3 if s == LineStatus.OPEN else 0) for s in LineStatus.values}
    Line.objects.filter(pk=lines[0].pk).update(status=LineStatus.APPROVED)
    dashboards.record_status_counts()
    dashboards.record_status_counts()
    assert LineStatusCount.objects.count() == len(LineStatus.values)
    assert recorded(today)[LineStatus.OPEN] == 2 and recorded(today)[LineStatus.APPROVED] == 1


def test_the_hourly_beat_task_records_todays_counts(
    settings: object, pool_lines: Callable[..., list[Line]]
) -> None:
    from labeling import tasks

    pool_lines((10.0,))
    schedule = settings.CELERY_BEAT_SCHEDULE  # type: ignore[attr-defined]
    assert schedule["status-counts"]["task"] == "labeling.tasks.record_status_counts"
    tasks.record_status_counts()
    tasks.record_status_counts()  # safe to run twice
    assert recorded(timezone.localdate())[LineStatus.OPEN] == 1


def test_lines_by_status_are_drawn_from_recorded_days_with_gaps_where_none_was_recorded(
    staff: User, pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    from labeling.models import LineStatusCount

    today = timezone.localdate()
    stamp = timezone.now()
    for n, (open_n, approved_n) in ((4, (7, 1)), (3, (5, 3))):
        counts: dict[str, int] = {LineStatus.OPEN: open_n, LineStatus.APPROVED: approved_n}
        LineStatusCount.objects.bulk_create(
            LineStatusCount(
                day=today - timedelta(days=n),
                status=status,
                count=counts.get(status, 0),
                recorded_at=stamp,
            )
            for status in LineStatus.values
        )
    lines = pool_lines((10.0, 20.0))  # today, live: one open, one agreed
    Line.objects.filter(pk=lines[1].pk).update(status=LineStatus.AGREED)

    html = client_for(staff).get("/staff/dashboard/").content.decode()

    rows = table_rows(html, "Lines by status")
    # Columns: new, open, agreed, disputed, approved, rejected.
    assert rows[day_label(4)] == ["0", "7", "0", "0", "1", "0"]
    assert rows[day_label(3)] == ["0", "5", "0", "0", "3", "0"]
    assert rows[day_label(5)] == ["—"] * 6  # before the first record: a gap, not zeros
    assert rows[day_label(2)] == ["—"] * 6  # no record that day
    assert rows[day_label(0)] == ["0", "1", "1", "0", "0", "0"]
    root = chart(html, "Lines by status")
    open_points = [
        (p.get("data-label"), p.get("data-value"))
        for p in root.findall(f"{SVG}circle[@class='point']")
        if "Open:" in (p.findtext(f"{SVG}title") or "")
    ]
    assert open_points == [(day_label(4), "7"), (day_label(3), "5"), (day_label(0), "1")]
    # Two recorded days side by side make a line; today stands alone after the gap.
    assert len(root.findall(f"{SVG}polyline[@class='line']")) == 6
    assert "are gaps, not zeros" in html
