"""Handing out pool lines to labelers: leases, lowest confidence first, never beyond a line's need.

Correct under concurrency on PostgreSQL: a claimer locks candidate lines with
`FOR UPDATE SKIP LOCKED`, then — holding the lock — counts the line's labels and live leases
again with a fresh statement before it adds a lease. Every claim and every label takes the
same row lock first, so two claimers can never both see room for the last slot. One
labeler's own claims take turns on their user row, so they never hold a line twice. On SQLite
the IMMEDIATE transactions serialize writers, which gives the same guarantee.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    Line,
    LineStatus,
    Transcription,
)

CANDIDATES = 8  # lines locked per attempt; enough to step past lines another claimer just filled


@dataclass(frozen=True)
class Claim:
    assignment: Assignment
    resumed: bool  # the labeler's own live lease, handed back


def lease_length() -> timedelta:
    return timedelta(minutes=settings.REVIEW_LEASE_MINUTES)


def live_leases(now: datetime) -> Q:
    return Q(state=AssignmentState.ACTIVE, expires_at__gt=now)


def is_blind(*, line_id: int, user_id: int, share: float) -> bool:
    """A stable, uniform draw: the same labeler always gets the same line the same way."""
    digest = hashlib.sha256(f"blind:{line_id}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def takes_gold(*, user_id: int, handed_out: int, share: float) -> bool:
    """Whether the labeler's next line should be a gold line (about `share` of their lines)."""
    digest = hashlib.sha256(f"gold:{user_id}:{handed_out}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def pool_lines_for(*, user: User, document: Document | None, now: datetime) -> QuerySet[Line]:
    """Pool lines the labeler may be given: not theirs, not labelled or skipped by them, and
    not already leased to them."""
    lines = Line.objects.filter(in_pool=True).exclude(page__document__owner=user)
    if document is not None:
        lines = lines.filter(page__document=document)
    mine = Transcription.objects.filter(line=OuterRef("pk"), user=user)
    my_leases = Assignment.objects.filter(line=OuterRef("pk"), user=user).exclude(
        state=AssignmentState.ACTIVE, expires_at__lte=now
    )
    return lines.filter(~Exists(mine), ~Exists(my_leases))


def room_left(line: Line, now: datetime) -> int:
    """Labels the line still needs beyond its labels and live leases (fresh from the database)."""
    leased = Assignment.objects.filter(live_leases(now), line=line).count()
    return line.labels_wanted - line.label_count - leased


@transaction.atomic
def claim_next(*, user: User, document: Document | None = None) -> Claim | None:
    """The labeler's live lease if they have one, else a new lease on the next line they may
    label (a gold line now and then), lowest Tesseract confidence first; None when none is left."""
    # One labeler's claims take turns (two tabs, a double click). Without this, two claims
    # that both found no live lease leased two lines, or the same line twice: gold lines are
    # never locked, and a claim whose scan predates the other's commit still saw the line as
    # not leased to this labeler. A second lease on a labelled line then kept coming back as
    # "resumed" and was refused as a duplicate until it ran out. NO KEY UPDATE does not block
    # the rows that merely reference the user (their leases and labels).
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk"))
    now = timezone.now()
    current = (
        Assignment.objects.filter(live_leases(now), user=user)
        .select_related("line__page__document")
        .order_by("-created_at")
    )
    if document is not None:
        current = current.filter(line__page__document=document)
    resumed = current.first()
    if resumed is not None:
        return Claim(assignment=resumed, resumed=True)
    handed_out = Assignment.objects.filter(user=user).count()
    if takes_gold(user_id=user.pk, handed_out=handed_out, share=settings.REVIEW_GOLD_SHARE):
        claim = _claim_gold(user=user, document=document, now=now)
        if claim is not None:
            return claim
    return _claim_open(user=user, document=document, now=now)


def _claim_open(*, user: User, document: Document | None, now: datetime) -> Claim | None:
    leases = (
        Assignment.objects.filter(live_leases(now), line=OuterRef("pk"))
        .order_by()
        .values("line")
        .annotate(n=Count("pk"))
        .values("n")
    )
    locked = (
        pool_lines_for(user=user, document=document, now=now)
        .filter(status=LineStatus.OPEN, gold_text="")
        .annotate(leased=Coalesce(Subquery(leases, output_field=IntegerField()), 0))
        .filter(label_count__lt=F("labels_wanted") - F("leased"))
        .select_related("page__document")
        .order_by("confidence", "pk")
        .select_for_update(skip_locked=True, of=("self",))
    )
    for line in locked[:CANDIDATES]:
        # The scan may predate a lease committed since; under the lock this recount is exact.
        if room_left(line, now) > 0:
            return Claim(assignment=_lease(line=line, user=user, now=now), resumed=False)
    return None


def _claim_gold(*, user: User, document: Document | None, now: datetime) -> Claim | None:
    # Gold lines are never full: every labeler may be tested on each of them once.
    line = (
        pool_lines_for(user=user, document=document, now=now)
        .exclude(gold_text="")
        .select_related("page__document")
        .order_by("pk")
        .first()
    )
    return Claim(assignment=_lease(line=line, user=user, now=now), resumed=False) if line else None


def _lease(*, line: Line, user: User, now: datetime) -> Assignment:
    share = line.page.document.blind_share
    return Assignment.objects.create(
        line=line,
        user=user,
        blind=line.blind_next or is_blind(line_id=line.pk, user_id=user.pk, share=share),
        expires_at=now + lease_length(),
    )
