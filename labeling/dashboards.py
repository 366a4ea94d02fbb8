"""The numbers behind the dashboards: per-day series over the last 30 days, and the queue.

Counting is done by the database (`TruncDate`, `Count`, `GROUP BY`), so the number of queries
does not grow with the rows. Agreement with the consensus counts each label's stored verdict
(`review.verdicts`). Gold accuracy needs the normalization, which SQL does not have: it compares
a label with the gold text through `review.agreement.agrees` (CER after `ottoman.normalize`),
reading one person's gold answers of the window only, in one query. The staff figures cover
pool documents, as a moderator's view does (`for_moderation`): counts, never anyone's private
text.

Lines by status over time: a status's count on a past day is what `record_status_counts` (beat,
hourly) stored last that day; today's comes live from the same GROUP BY the dashboard already
runs. A day without a stored count is a gap, never a zero.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import Avg, Count, F, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    LabelVerdict,
    Line,
    LineStatus,
    LineStatusCount,
    ModerationAction,
    ModerationDecision,
    TrainingRun,
    TrainingStatus,
    Transcription,
)
from labeling.review.agreement import agrees
from labeling.review.consensus import rules_for

WINDOW_DAYS = 30
SETTLED = (LineStatus.AGREED, LineStatus.APPROVED)
# Labels per approved line: 0, 1, … up to this, the last bucket holding this many or more.
LABEL_BUCKETS = 6
TRAINING_RUNS_SHOWN = 12


@dataclass(frozen=True)
class Share:
    """Of `total` things, `hits` were right; share is None when there were none."""

    hits: int
    total: int

    @property
    def share(self) -> float | None:
        return self.hits / self.total if self.total else None


def window(today: date | None = None, days: int = WINDOW_DAYS) -> tuple[date, ...]:
    """The last `days` days up to today, in the current time zone, oldest first."""
    today = today or timezone.localdate()
    return tuple(today - timedelta(days=n) for n in range(days - 1, -1, -1))


def _start(days: tuple[date, ...]) -> datetime:
    return timezone.make_aware(datetime.combine(days[0], time.min))


def _per_day(rows: QuerySet[Any, dict[str, Any]], days: tuple[date, ...]) -> tuple[int, ...]:
    counts = {row["day"]: row["n"] for row in rows}
    return tuple(counts.get(day, 0) for day in days)


def _count_by_day(queryset: QuerySet[Any], days: tuple[date, ...]) -> tuple[int, ...]:
    rows = (
        queryset.filter(created_at__gte=_start(days))
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return _per_day(rows, days)


def _verdicts_by_day(labels: QuerySet[Transcription], days: tuple[date, ...]) -> tuple[Share, ...]:
    """Per day a label was given: how many of those with a verdict agree with the consensus."""
    rows = (
        labels.filter(created_at__gte=_start(days))
        .exclude(verdict=LabelVerdict.PENDING)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(n=Count("pk"), hits=Count("pk", filter=Q(verdict=LabelVerdict.AGREED)))
        .order_by()
    )
    shares = {row["day"]: Share(row["hits"], row["n"]) for row in rows}
    return tuple(shares.get(day, Share(0, 0)) for day in days)


def _shares_by_day(
    labels: QuerySet[Transcription], days: tuple[date, ...], *, against: str
) -> tuple[Share, ...]:
    """Per day a label was given: how many agree with the line's `against` field (consensus or
    gold text) under the line's document's threshold."""
    hits: Counter[date] = Counter()
    totals: Counter[date] = Counter()
    rows = (
        labels.filter(created_at__gte=_start(days))
        .annotate(day=TruncDate("created_at"))
        .select_related("line__page__document")
        .only(
            "text",
            "created_at",
            f"line__{against}",
            "line__page__document__labels_needed",
            "line__page__document__max_labels",
            "line__page__document__agreement_threshold",
        )
    )
    for label in rows:
        day = label.day  # type: ignore[attr-defined]
        totals[day] += 1
        hits[day] += agrees(label.text, getattr(label.line, against), rules_for(label.line))
    return tuple(Share(hits[day], totals[day]) for day in days)


@dataclass(frozen=True)
class ContributorFigures:
    days: tuple[date, ...]
    labelled: tuple[int, ...]  # the person's transcriptions per day (own documents and pool)
    agreement: tuple[Share, ...]  # their pool labels on settled lines agreeing with the consensus
    gold: tuple[Share, ...]  # their answers on gold lines that were right

    @property
    def labelled_total(self) -> int:
        return sum(self.labelled)

    @property
    def agreement_total(self) -> Share:
        return Share(sum(s.hits for s in self.agreement), sum(s.total for s in self.agreement))

    @property
    def gold_total(self) -> Share:
        return Share(sum(s.hits for s in self.gold), sum(s.total for s in self.gold))


def contributor_figures(*, user: User, today: date | None = None) -> ContributorFigures:
    days = window(today)
    mine = Transcription.objects.filter(user=user)
    settled = mine.pool().filter(line__gold_text="", line__status__in=SETTLED)
    return ContributorFigures(
        days=days,
        labelled=_count_by_day(mine, days),
        agreement=_verdicts_by_day(settled.exclude(line__consensus_text=""), days),
        gold=_shares_by_day(mine.exclude(line__gold_text=""), days, against="gold_text"),
    )


@dataclass(frozen=True)
class QueueDepth:
    open_lines: int  # pool lines open for labels
    labels_wanted: int  # labels those lines still need (beyond the ones given)
    live_leases: int  # lines handed out and not answered yet
    by_document: tuple[tuple[str, int], ...]  # (title, open lines), the deepest first


@dataclass(frozen=True)
class TrainingFigure:
    run: int
    release: str
    start_model: str
    start_cer: float | None  # normalized CER on the run's evaluation lines, 0–1
    result_model: str
    result_cer: float | None


@dataclass(frozen=True)
class StaffFigures:
    days: tuple[date, ...]
    labelled: tuple[int, ...]  # labels given on pool lines per day
    decided: dict[str, tuple[int, ...]]  # per day: approved, rejected, reopened (decisions)
    by_status: tuple[tuple[str, int], ...]  # (status value, pool lines) for every status
    # status value → pool lines in it per day (None: no count recorded that day), every status
    status_history: dict[str, tuple[int | None, ...]]
    queue: QueueDepth
    labels_per_approved: tuple[int, ...]  # approved lines with 0, 1, … LABEL_BUCKETS+ labels
    mean_labels_per_approved: float | None
    training: tuple[TrainingFigure, ...]


# Decisions that move a line into (or out of) a settled state, grouped as the chart shows them.
DECISION_GROUPS: dict[str, tuple[str, ...]] = {
    "approved": (ModerationAction.APPROVE, ModerationAction.AUTO_APPROVE),
    "rejected": (ModerationAction.REJECT,),
    "reopened": (ModerationAction.REOPEN, ModerationAction.BOX, ModerationAction.BAN),
}


def _decided_by_day(days: tuple[date, ...]) -> dict[str, tuple[int, ...]]:
    group_of = {action: group for group, actions in DECISION_GROUPS.items() for action in actions}
    rows = (
        ModerationDecision.objects.pool()
        .filter(created_at__gte=_start(days), action__in=group_of)
        .annotate(day=TruncDate("created_at"))
        .values("day", "action")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts: defaultdict[str, Counter[date]] = defaultdict(Counter)
    for row in rows:  # one row per (day, action): at most 30 × 7
        counts[group_of[row["action"]]][row["day"]] += row["n"]
    return {group: tuple(counts[group][day] for day in days) for group in DECISION_GROUPS}


def _queue_depth() -> QueueDepth:
    open_lines = Line.objects.pool().filter(in_pool=True, status=LineStatus.OPEN, gold_text="")
    wanted = open_lines.aggregate(
        n=Count("pk"),
        wanted=Sum(
            F("labels_wanted") - F("label_count"), filter=Q(label_count__lt=F("labels_wanted"))
        ),
    )
    deepest = (
        open_lines.values("page__document__title")
        .annotate(n=Count("pk"))
        .order_by("-n", "page__document__title")[:10]
    )
    leases = Assignment.objects.filter(
        line__in_pool=True, state=AssignmentState.ACTIVE, expires_at__gt=timezone.now()
    ).count()
    return QueueDepth(
        open_lines=wanted["n"],
        labels_wanted=wanted["wanted"] or 0,
        live_leases=leases,
        by_document=tuple((row["page__document__title"], row["n"]) for row in deepest),
    )


def _labels_per_approved() -> tuple[tuple[int, ...], float | None]:
    approved = Line.objects.pool().filter(status=LineStatus.APPROVED)
    buckets = [0] * (LABEL_BUCKETS + 1)
    for row in approved.values("label_count").annotate(n=Count("pk")).order_by():
        buckets[min(row["label_count"], LABEL_BUCKETS)] += row["n"]
    mean = approved.aggregate(mean=Avg("label_count"))["mean"]
    return tuple(buckets), mean


def _cer(evaluation: dict[str, Any], side: str) -> tuple[str, float | None]:
    part = evaluation.get(side) or {}
    value = (part.get("overall") or {}).get("cer_normalized")
    return str(part.get("model", "")), float(value) if isinstance(value, int | float) else None


def _training() -> tuple[TrainingFigure, ...]:
    runs = (
        TrainingRun.objects.filter(status=TrainingStatus.DONE)
        .exclude(evaluation={})
        .select_related("release")
        .order_by("-created_at")[:TRAINING_RUNS_SHOWN]
    )
    figures = []
    for run in reversed(runs):  # at most TRAINING_RUNS_SHOWN rows
        start_model, start_cer = _cer(run.evaluation, "start")
        result_model, result_cer = _cer(run.evaluation, "result")
        figures.append(
            TrainingFigure(
                run=run.pk,
                release=str(run.release),
                start_model=start_model,
                start_cer=start_cer,
                result_model=result_model,
                result_cer=result_cer,
            )
        )
    return tuple(figures)


def _status_counts() -> dict[str, int]:
    """Pool lines per status now, every status (one GROUP BY)."""
    counts = dict(Line.objects.pool().values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in LineStatus.values}


def record_status_counts(*, day: date | None = None) -> dict[str, int]:
    """Store the pool lines per status now as the counts of `day` (today by default, in the
    current time zone). One GROUP BY and one upsert: running it again that day replaces the
    day's counts, so the day keeps the last ones recorded."""
    day = day or timezone.localdate()
    counts = _status_counts()
    now = timezone.now()
    LineStatusCount.objects.bulk_create(
        [
            LineStatusCount(day=day, status=status, count=n, recorded_at=now)
            for status, n in counts.items()
        ],
        update_conflicts=True,
        unique_fields=["day", "status"],
        update_fields=["count", "recorded_at"],
    )
    return counts


def status_history(
    days: tuple[date, ...], *, today: dict[str, int]
) -> dict[str, tuple[int | None, ...]]:
    """Per status, its pool lines on each of `days`: the recorded counts, `today`'s counts for
    the last day (live), None on a day nothing was recorded (before the first record, or while
    beat did not run)."""
    recorded: dict[tuple[date, str], int] = {
        (day, status): n
        for day, status, n in LineStatusCount.objects.filter(
            day__gte=days[0], day__lt=days[-1]
        ).values_list("day", "status", "count")
    }
    return {
        status: (*(recorded.get((day, status)) for day in days[:-1]), today[status])
        for status in LineStatus.values
    }


def staff_figures(*, today: date | None = None) -> StaffFigures:
    days = window(today)
    status_counts = _status_counts()
    per_approved, mean = _labels_per_approved()
    return StaffFigures(
        days=days,
        labelled=_count_by_day(Transcription.objects.pool(), days),
        decided=_decided_by_day(days),
        by_status=tuple(status_counts.items()),
        status_history=status_history(days, today=status_counts),
        queue=_queue_depth(),
        labels_per_approved=per_approved,
        mean_labels_per_approved=mean,
        training=_training(),
    )
