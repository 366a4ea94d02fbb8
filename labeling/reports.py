"""Staff reports that read every pool line or label (the staff dashboard, the anchoring
report), kept as a snapshot in the cache: at a million lines each takes seconds to compute, so
beat recomputes it every REPORT_REFRESH_SECONDS and a page view reads the snapshot, saying
how old it is. A view that finds no snapshot (beat not running, cache cleared) computes it
once and stores it."""

from __future__ import annotations

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
    anchoring_totals,
)

T = TypeVar("T")


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    value: T
    at: datetime  # when it was computed


@dataclass(frozen=True)
class AnchoringReport:
    overall: Anchoring
    rows: list[DocumentAnchoring]  # every document with labels on settled lines, most first


def _anchoring() -> AnchoringReport:
    grouped = anchoring_by_document()
    _documents, overall = anchoring_totals(grouped)
    return AnchoringReport(overall=overall, rows=anchoring_rows(grouped))


def _staff() -> StaffFigures:
    return staff_figures()


REPORTS: dict[str, Callable[[], Any]] = {"staff": _staff, "anchoring": _anchoring}


def _key(name: str) -> str:
    # The day is part of the key: the dashboard's window of days moves at midnight.
    return f"report:{name}:{timezone.localdate().isoformat()}"


def refresh(name: str) -> Snapshot[Any]:
    """Compute the report now and store it (beat does this every REPORT_REFRESH_SECONDS)."""
    snapshot = Snapshot(value=REPORTS[name](), at=timezone.now())
    # Kept for three refreshes: a missed beat run leaves the last one, not an empty page.
    cache.set(_key(name), snapshot, timeout=settings.REPORT_REFRESH_SECONDS * 3)
    return snapshot


def snapshot(name: str) -> Snapshot[Any]:
    """The stored report, or the report computed now when there is none."""
    stored = cache.get(_key(name))
    return stored if stored is not None else refresh(name)


def staff_snapshot() -> Snapshot[StaffFigures]:
    return snapshot("staff")


def anchoring_snapshot() -> Snapshot[AnchoringReport]:
    return snapshot("anchoring")
