"""Staff reports that read every pool line or label (the staff dashboard, the anchoring
report), kept as a snapshot in the cache: at a million lines each takes seconds to compute, so
beat recomputes it every REPORT_REFRESH_SECONDS and a page view reads the snapshot, saying
how old it is. A view that finds no snapshot (beat not running, cache cleared) computes it
once and stores it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from labeling.dashboards import StaffFigures, staff_figures
from labeling.review.stats import (
    Anchoring,
    DocumentAnchoring,
    anchoring_by_document,
    anchoring_rows,
    anchoring_total,
)

T = TypeVar("T")
PAGE_SIZE = 20  # rows of the anchoring report a page, as the site's other lists


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    value: T
    at: datetime  # when it was computed


@dataclass(frozen=True)
class AnchoringReport:
    overall: Anchoring
    documents: int  # documents with labels on settled lines: the report's rows
    pages_key: str  # where its pages of rows are kept (`anchoring_page`)


def _anchoring(key: str) -> AnchoringReport:
    """The overall report, and its rows in pages of PAGE_SIZE, each kept under its own key:
    a page view then reads 20 rows, not every document's."""
    rows = anchoring_rows(anchoring_by_document())
    pages_key = f"{key}:{uuid.uuid4().hex}"
    cache.set_many(
        {
            f"{pages_key}:{number}": rows[start : start + PAGE_SIZE]
            for number, start in enumerate(range(0, len(rows), PAGE_SIZE), start=1)
        },
        timeout=_kept_seconds(),
    )
    return AnchoringReport(overall=anchoring_total(rows), documents=len(rows), pages_key=pages_key)


def _staff(key: str) -> StaffFigures:
    return staff_figures()


REPORTS: dict[str, Callable[[str], Any]] = {"staff": _staff, "anchoring": _anchoring}


def _key(name: str) -> str:
    # The day is part of the key: the dashboard's window of days moves at midnight.
    return f"report:{name}:{timezone.localdate().isoformat()}"


def _kept_seconds() -> int:
    # Kept for three refreshes: a missed beat run leaves the last one, not an empty page.
    return int(settings.REPORT_REFRESH_SECONDS) * 3


def refresh(name: str) -> Snapshot[Any]:
    """Compute the report now and store it (beat does this every REPORT_REFRESH_SECONDS)."""
    key = _key(name)
    snapshot = Snapshot(value=REPORTS[name](key), at=timezone.now())
    cache.set(key, snapshot, timeout=_kept_seconds())
    return snapshot


def snapshot(name: str) -> Snapshot[Any]:
    """The stored report, or the report computed now when there is none."""
    stored = cache.get(_key(name))
    return stored if stored is not None else refresh(name)


def staff_snapshot() -> Snapshot[StaffFigures]:
    return snapshot("staff")


def anchoring_snapshot() -> Snapshot[AnchoringReport]:
    return snapshot("anchoring")


def anchoring_page(
    report: Snapshot[AnchoringReport], number: int
) -> tuple[Snapshot[AnchoringReport], list[DocumentAnchoring]]:
    """The report's rows on page `number` (from 1), with the report they come from: another one
    if the page had left the cache alone and the report was worked out again."""
    rows = cache.get(f"{report.value.pages_key}:{number}")
    if rows is None and report.value.documents:  # a page evicted alone: all again
        report = refresh("anchoring")
        rows = cache.get(f"{report.value.pages_key}:{number}")
    return report, rows or []
