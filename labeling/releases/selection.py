"""Which lines a release exports, with their text and provenance, and the split by document."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet

from labeling import ottoman
from labeling.models import (
    Document,
    Line,
    LineStatus,
    ModerationDecision,
    OcrModel,
    Page,
    Transcription,
    Visibility,
)
from labeling.ocr import BBox

EXPORTABLE_STATUSES = (LineStatus.APPROVED, LineStatus.AGREED)
DEFAULT_STATUSES = (LineStatus.APPROVED,)
TRAIN, EVAL = "train", "eval"


class ReleaseRefused(Exception):
    """The release cannot be made as asked; the message says why, for the person who asked."""


def eligible_documents() -> QuerySet[Document]:
    """Documents a release may ever export: in the pool, licensed, with the owner's consent."""
    return (
        Document.objects.filter(visibility=Visibility.POOL, pool_consent_at__isnull=False)
        .exclude(license="")
        .order_by("pk")
    )


def exported_lines(statuses: Sequence[str]) -> Q:
    """Lines with a checked text in one of `statuses` (gold lines count as approved)."""
    chosen = Q(status__in=list(statuses)) & ~Q(consensus_text="")
    if LineStatus.APPROVED in statuses:
        chosen |= ~Q(gold_text="") & ~Q(status=LineStatus.REJECTED)
    return chosen


def line_counts(documents: Iterable[int], statuses: Sequence[str]) -> dict[int, int]:
    """Lines to export per document id (documents without any left out)."""
    rows = (
        Line.objects.filter(page__document_id__in=list(documents))
        .filter(exported_lines(statuses))
        .values("page__document_id")
        .annotate(n=Count("pk"))
    )
    return {row["page__document_id"]: row["n"] for row in rows if row["n"]}


def split_documents(documents: Sequence[int], *, eval_share: float, seed: int) -> dict[int, str]:
    """Each document id to "train" or "eval": whole documents, reproducible from the seed.

    With two documents or more and a share above 0, eval gets at least one and train keeps at
    least one.
    """
    ordered = sorted(documents)
    random.Random(seed).shuffle(ordered)
    held = round(len(ordered) * eval_share)
    if len(ordered) >= 2 and eval_share > 0:
        held = min(max(held, 1), len(ordered) - 1)
    elif len(ordered) < 2:
        held = 0
    return {pk: (EVAL if index < held else TRAIN) for index, pk in enumerate(ordered)}


@dataclass
class Pair:
    """One exported line: where it is, its text, and how it came to be."""

    document: int
    document_title: str
    page: int
    line: int
    bbox: BBox
    text: str
    split: str
    labelers: list[int]
    labels: int
    agreement: float | None
    status: str
    decision: str | None
    moderator: int | None
    provenance: str
    predicted_by: str | None
    license: str

    @property
    def name(self) -> str:
        return f"d{self.document:06d}-p{self.page:04d}-l{self.line:08d}"

    def manifest(self) -> dict[str, object]:
        return {
            "name": self.name,
            "image": f"lines/{self.name}.png",
            "document": self.document,
            "document_title": self.document_title,
            "page": self.page,
            "line": self.line,
            "box": [self.bbox.left, self.bbox.top, self.bbox.right, self.bbox.bottom],
            "text": self.text,
            "split": self.split,
            "labelers": self.labelers,
            "labels": self.labels,
            "agreement": self.agreement,
            "status": self.status,
            "decision": self.decision,
            "moderator": self.moderator,
            "provenance": self.provenance,
            "predicted_by": self.predicted_by,
            "license": self.license,
        }


@dataclass
class PagePairs:
    """A page's stored image and the pairs cut from it."""

    page: Page
    pairs: list[Pair] = field(default_factory=list)


@dataclass(frozen=True)
class TextRule:
    """How a line's exported text is chosen, and whose ids may appear with it."""

    statuses: tuple[str, ...]
    normalized: bool = False
    owner_only: int | None = None  # a person's own export: only their id, their own text


def release_text(*, gold_text: str, consensus_text: str, rule: TextRule) -> str:
    text = gold_text or consensus_text
    return ottoman.normalize(text) if rule.normalized else text


def document_pages(
    document: Document, *, split: str, rule: TextRule, own_texts: dict[int, str] | None = None
) -> Iterator[PagePairs]:
    """The document's pages that have lines to export, in order, with their pairs."""
    if own_texts is None:
        lines = Line.objects.filter(page__document=document).filter(exported_lines(rule.statuses))
    else:
        lines = Line.objects.filter(page__document=document).filter(
            Q(pk__in=list(own_texts)) | exported_lines(rule.statuses)
        )
    lines = lines.order_by("page__number", "order")
    ids = lines.values_list("pk", flat=True)
    labelers: dict[int, list[int]] = defaultdict(list)
    labels: dict[int, int] = defaultdict(int)
    for line_id, user_id, counts in Transcription.objects.filter(line__in=ids).values_list(
        "line_id", "user_id", "counts"
    ):
        if rule.owner_only is None or user_id == rule.owner_only:
            labelers[line_id].append(user_id)
        labels[line_id] += 1 if counts else 0
    decisions: dict[int, tuple[str | None, int | None]] = {}
    for line_id, decided, decided_by in (
        ModerationDecision.objects.filter(line__in=ids)
        .order_by("created_at", "pk")
        .values_list("line_id", "action", "moderator_id")
    ):
        decisions[line_id] = (decided, decided_by)
    models = dict(OcrModel.objects.values_list("pk", "name"))
    pages = {
        page.pk: page
        for page in Page.objects.filter(document=document).only("pk", "number", "image")
    }
    current: PagePairs | None = None
    for line in lines.values(
        "pk",
        "page_id",
        "left",
        "top",
        "right",
        "bottom",
        "status",
        "consensus_text",
        "gold_text",
        "agreement",
        "provenance",
        "predicted_by_id",
    ).iterator(chunk_size=2000):
        if own_texts is not None and line["pk"] in own_texts:
            text = own_texts[line["pk"]]
        else:
            text = release_text(
                gold_text=line["gold_text"], consensus_text=line["consensus_text"], rule=rule
            )
        if not text.strip():
            continue
        page = pages[line["page_id"]]
        if current is None or current.page.pk != page.pk:
            if current is not None:
                yield current
            current = PagePairs(page=page)
        decision: tuple[str | None, int | None] = decisions.get(line["pk"], (None, None))
        action, moderator = decision
        if rule.owner_only is not None and moderator != rule.owner_only:
            moderator = None
        predicted = line["predicted_by_id"]
        current.pairs.append(
            Pair(
                document=document.pk,
                document_title=document.title,
                page=page.number,
                line=line["pk"],
                bbox=BBox(line["left"], line["top"], line["right"], line["bottom"]),
                text=text,
                split=split,
                labelers=sorted(set(labelers.get(line["pk"], []))),
                labels=labels.get(line["pk"], 0),
                agreement=line["agreement"],
                status=line["status"],
                decision=action,
                moderator=moderator,
                provenance=line["provenance"],
                predicted_by=models.get(predicted) if predicted else None,
                license=document.license,
            )
        )
    if current is not None:
        yield current
