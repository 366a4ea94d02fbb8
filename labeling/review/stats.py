"""What the crowd's work shows: a labeler's history, and how prefilling biases labels.

Counted by the database from each label's stored verdict (`review.verdicts`) and its
`kept_prediction` / `as_predicted` flags, so a history or a report is one aggregate query
whatever the number of labels; no text is compared per request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Q, QuerySet

from accounts.models import User
from labeling.models import (
    Document,
    GoldScore,
    LabelerBan,
    LabelVerdict,
    LineStatus,
    Transcription,
    Visibility,
)

SETTLED = (LineStatus.AGREED, LineStatus.APPROVED)


class Median(Aggregate):
    """PostgreSQL's `percentile_cont(0.5)`: the middle value, or the mean of the middle two
    (as `statistics.median`). SQLite has no such aggregate: see `median_of`."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()


def median_of(values: QuerySet[Any], field: str, *, count: int) -> float | None:
    """The median of `field` over `count` rows by ordering and taking the middle one or two:
    for databases without `percentile_cont`."""
    if count == 0:
        return None
    middle = list(
        values.order_by(field).values_list(field, flat=True)[(count - 1) // 2 : count // 2 + 1]
    )
    return sum(middle) / len(middle)


def _has_percentile() -> bool:
    return connection.vendor == "postgresql"


@dataclass(frozen=True)
class History:
    labelled: int  # pool lines labelled (gold lines not included)
    agreed: int  # of those now settled, labels that agree with the consensus
    overturned: int  # of those now settled, labels that do not
    pending: int  # labels on lines not settled yet
    gold_seen: int
    gold_correct: int
    held_back: bool
    banned: bool = False
    median_seconds: float | None = None  # time spent per labelled line (the median)

    @property
    def gold_accuracy(self) -> float | None:
        return self.gold_correct / self.gold_seen if self.gold_seen else None

    @property
    def agreement(self) -> float | None:
        """Share of their labels on settled lines that agree with the consensus."""
        settled = self.agreed + self.overturned
        return self.agreed / settled if settled else None


def labels_of(user: User) -> QuerySet[Transcription]:
    """The person's labels of pool documents, withdrawn ones included (the labels were given
    while they were shared); never gold lines, which are hidden tests."""
    return Transcription.objects.filter(
        user=user, line__page__document__visibility=Visibility.POOL, line__gold_text=""
    )


def labeler_history(*, user: User) -> History:
    labels = labels_of(user)
    counts: dict[str, Any] = {
        verdict: Count("pk", filter=Q(verdict=verdict)) for verdict in LabelVerdict.values
    }
    if _has_percentile():
        counts["median"] = Median("seconds_spent")
    row = labels.aggregate(**counts)
    labelled = sum(row[verdict] for verdict in LabelVerdict.values)
    median = (
        row["median"] if _has_percentile() else median_of(labels, "seconds_spent", count=labelled)
    )
    score = GoldScore.objects.filter(user=user).first()
    return History(
        labelled=labelled,
        agreed=row[LabelVerdict.AGREED],
        overturned=row[LabelVerdict.OVERTURNED],
        pending=row[LabelVerdict.PENDING],
        gold_seen=score.seen if score else 0,
        gold_correct=score.correct if score else 0,
        held_back=bool(score and score.held_back),
        banned=LabelerBan.objects.active().filter(user=user).exists(),
        median_seconds=median,
    )


@dataclass(frozen=True)
class Anchoring:
    """Blind labels (no prediction shown) against prefilled ones, on settled lines."""

    blind_labels: int
    blind_agree: int
    prefilled_labels: int
    prefilled_agree: int
    prefilled_kept: int  # prefilled labels that kept Tesseract's reading unchanged
    blind_as_predicted: int  # blind labels that typed exactly what Tesseract read

    @staticmethod
    def _share(part: int, whole: int) -> float | None:
        return part / whole if whole else None

    @property
    def blind_agreement(self) -> float | None:
        return self._share(self.blind_agree, self.blind_labels)

    @property
    def prefilled_agreement(self) -> float | None:
        return self._share(self.prefilled_agree, self.prefilled_labels)

    @property
    def kept_share(self) -> float | None:
        return self._share(self.prefilled_kept, self.prefilled_labels)

    @property
    def blind_as_predicted_share(self) -> float | None:
        """The baseline for kept_share: how often the reading is right for someone who did not
        see it. kept_share far above this is anchoring (the simulation showed this gap tracks
        anchoring, while the agreement gap barely moves)."""
        return self._share(self.blind_as_predicted, self.blind_labels)


_AGREED = Q(verdict=LabelVerdict.AGREED)
# Anchoring's figures as aggregates, by the names of its fields.
_ANCHORING = {
    "blind_labels": Count("pk", filter=Q(blind=True)),
    "blind_agree": Count("pk", filter=Q(blind=True) & _AGREED),
    "prefilled_labels": Count("pk", filter=Q(blind=False)),
    "prefilled_agree": Count("pk", filter=Q(blind=False) & _AGREED),
    "prefilled_kept": Count("pk", filter=Q(blind=False, kept_prediction=True)),
    # Compared with the reading when the label was saved (`as_predicted`): a prediction is not
    # stored cleaned, and SQL cannot clean it as `ottoman.clean_input` does.
    "blind_as_predicted": Count("pk", filter=Q(blind=True, as_predicted=True)),
}


def _settled_pool_labels() -> QuerySet[Transcription]:
    return Transcription.objects.filter(
        line__in_pool=True, line__gold_text="", line__status__in=SETTLED
    ).exclude(line__consensus_text="")


@dataclass(frozen=True)
class DocumentAnchoring:
    document_id: int
    title: str
    labels: int
    anchoring: Anchoring


def anchoring_by_document() -> QuerySet[Any, Any]:
    """How often blind and prefilled labels agree with the consensus, per pool document, in one
    grouped query, the documents with the most labels on settled lines first (documents
    without any are not rows). Turn its rows into `DocumentAnchoring` with `anchoring_rows`;
    `anchoring_total` adds them up. Grouped by the document's id alone (its title comes with
    `anchoring_rows`): a narrower key groups in memory instead of sorting every label. No join
    to the document either: a line in the pool is a pool document's (visibility is chosen
    once, on upload)."""
    return (
        _settled_pool_labels()
        .values(document_id=F("line__page__document"))
        .annotate(labels=Count("pk"), **_ANCHORING)
        .order_by("-labels", "document_id")
    )


def anchoring_rows(rows: Any) -> list[DocumentAnchoring]:
    """Rows of `anchoring_by_document()` (a page of them), with their documents' titles."""
    rows = list(rows)
    titles = dict(
        Document.objects.filter(pk__in=[row["document_id"] for row in rows]).values_list(
            "pk", "title"
        )
    )
    return [
        DocumentAnchoring(
            document_id=row["document_id"],
            title=titles[row["document_id"]],
            labels=row["labels"],
            anchoring=Anchoring(**{name: row[name] for name in _ANCHORING}),
        )
        for row in rows
    ]


def anchoring_total(rows: list[DocumentAnchoring]) -> Anchoring:
    """The report over every pool document: the sum of its documents' rows."""
    return Anchoring(
        **{name: sum(getattr(row.anchoring, name) for row in rows) for name in _ANCHORING}
    )
