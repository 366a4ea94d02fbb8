"""Handing out pool lines to labelers: leases, lowest confidence first, never beyond a line's need.

Correct under concurrency on PostgreSQL: a claimer locks the first line with room with
`FOR UPDATE SKIP LOCKED`, then — holding the lock — counts the line's labels and live leases
again with a fresh statement before it adds a lease. Every claim and every label takes the
same row lock first, so two claimers can never both see room for the last slot. One
labeler's claims and answers take turns on their user row, so they never hold a line twice,
nor one they answered. On SQLite the IMMEDIATE transactions serialize writers, which gives the
same guarantee.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    LabelerBan,
    Line,
    LineStatus,
    Page,
    Transcription,
)
from labeling.transcribing import TranscriptionRefused

ATTEMPTS = 8  # scans per claim; each steps past a line another claimer filled meanwhile


class ClaimRefused(TranscriptionRefused):
    """The queue hands this person nothing; the message says why."""


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


def takes_gold(*, user_id: int, turn: int, share: float) -> bool:
    """Whether the labeler's next line should be a gold line (about `share` of their lines);
    `turn` is anything that changes from one claim to the next."""
    digest = hashlib.sha256(f"gold:{user_id}:{turn}".encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


# The claim scans are SQL: the ORM spent 5 ms of CPU building the open-line scan on every
# claim, forty times what PostgreSQL takes to run it (bench/queue_load.py). The constants are
# literals so that PostgreSQL can match the partial indexes line_queue_idx and line_gold_idx.
_LINES = f"""
    FROM {Line._meta.db_table} l
    JOIN {Page._meta.db_table} p ON p.id = l.page_id
    JOIN {Document._meta.db_table} d ON d.id = p.document_id
"""


def _eligible(*, user: User, document: Document | None, now: datetime) -> tuple[str, list[Any]]:
    """SQL conditions on a line `l`, its page `p` and document `d`: pool lines the labeler may
    be given — not theirs, not labelled or skipped by them, not already leased to them, and not
    waiting for Tesseract to read a new or changed box (its prediction would be of the old one)."""
    sql = f"""
        l.in_pool AND NOT l.needs_reading AND d.owner_id <> %s
        AND NOT EXISTS (
            SELECT 1 FROM {Transcription._meta.db_table} t
            WHERE t.line_id = l.id AND t.user_id = %s
        )
        AND NOT EXISTS (
            SELECT 1 FROM {Assignment._meta.db_table} a
            WHERE a.line_id = l.id AND a.user_id = %s
                AND (a.state <> '{AssignmentState.ACTIVE}' OR a.expires_at > %s)
        )
    """
    at = connection.ops.adapt_datetimefield_value(now)
    params: list[Any] = [user.pk, user.pk, user.pk, at]
    if document is not None:
        sql += " AND p.document_id = %s"
        params.append(document.pk)
    return sql, params


def take_turn(user: User) -> None:
    """Hold the labeler's row until the transaction ends, so that their claims and answers
    (two tabs, a double click) take turns. Take it before any line's lock.

    Without it, a claim whose scan predated the commit of another claim or label of the same
    labeler leased them a second line, or the line they had just leased, labelled or skipped
    (gold lines are never locked; an open line is free again once the label commits). That
    lease then kept coming back as "resumed" and was refused as a duplicate until it ran out.
    NO KEY UPDATE does not block the rows that merely reference the user (leases, labels).
    """
    list(User.objects.select_for_update(no_key=True).filter(pk=user.pk).values_list("pk"))


def room_left(line: Line, now: datetime) -> int:
    """Labels the line still needs beyond its labels and live leases (fresh from the database)."""
    return line.labels_wanted - line.label_count - _leased(line_id=line.pk, now=now)


def _leased(*, line_id: int, now: datetime) -> int:
    return Assignment.objects.filter(live_leases(now), line_id=line_id).count()


@transaction.atomic
def claim_next(*, user: User, document: Document | None = None) -> Claim | None:
    """The labeler's live lease if they have one, else a new lease on the next line they may
    label (a gold line now and then), lowest Tesseract confidence first; None when none is left.

    A live lease on a line decided meanwhile (no longer open, nor a gold line) is closed: the
    label is no longer wanted, and handing it back would only earn a refusal. A banned person
    is refused (`ClaimRefused`): a moderator stopped their labelling.
    """
    take_turn(user)
    if LabelerBan.objects.active().filter(user=user).exists():
        raise ClaimRefused(
            _(
                "A moderator has stopped your labelling, so the queue has no lines for you. "
                "Your own documents are not affected."
            ),
            code="banned",
        )
    now = timezone.now()
    current = Assignment.objects.filter(live_leases(now), user=user).order_by("-created_at")
    if document is not None:
        current = current.filter(line__page__document=document)
    stale: list[int] = []
    for lease in current.select_related("line"):
        if lease.line.status == LineStatus.OPEN or lease.line.is_gold:
            return Claim(assignment=lease, resumed=True)
        stale.append(lease.pk)
    Assignment.objects.filter(pk__in=stale).update(expires_at=now)
    # The newest lease id changes with every claim and is one index step away; counting the
    # labeler's own leases would grow with their history.
    turn = Assignment.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    if takes_gold(user_id=user.pk, turn=turn, share=settings.REVIEW_GOLD_SHARE):
        claim = _claim_gold(user=user, document=document, now=now)
        if claim is not None:
            return claim
    return _claim_open(user=user, document=document, now=now)


def _claim_open(*, user: User, document: Document | None, now: datetime) -> Claim | None:
    eligible, params = _eligible(user=user, document=document, now=now)
    lock = (
        " FOR UPDATE OF l SKIP LOCKED"
        if connection.features.has_select_for_update_skip_locked
        else ""  # SQLite: the IMMEDIATE transaction already excludes other writers
    )
    # Within one document: its open lines, sorted. Walking the whole queue's confidence index
    # until the document's lines turn up read 923,000 rows (4.9 s) on a million lines when
    # they were read well; "+ 0" keeps PostgreSQL from choosing that walk.
    order = "l.confidence + 0, l.id" if document is not None else "l.confidence, l.id"
    scan = f"""
        SELECT l.id, l.label_count, l.labels_wanted, l.blind_next, d.blind_share {_LINES}
        WHERE l.status = '{LineStatus.OPEN}' AND l.in_pool AND l.gold_text = '' AND {eligible}
            AND l.label_count + (
                SELECT COUNT(*) FROM {Assignment._meta.db_table} a
                WHERE a.line_id = l.id AND a.state = '{AssignmentState.ACTIVE}'
                    AND a.expires_at > %s
            ) < l.labels_wanted
        ORDER BY {order}
        LIMIT 1{lock}
    """
    params.append(connection.ops.adapt_datetimefield_value(now))
    # One line at a time: a locked line also holds up those submitting labels for it.
    for _attempt in range(ATTEMPTS):
        with connection.cursor() as cursor:
            cursor.execute(scan, params)
            row = cursor.fetchone()
        if row is None:
            return None
        line_id, label_count, labels_wanted, blind_next, share = row
        # The scan may predate a lease committed since; under the lock this recount is exact.
        # A line found full here stays locked by this claim, and the next scan passes it.
        if labels_wanted - label_count - _leased(line_id=line_id, now=now) > 0:
            lease = _lease(line_id=line_id, user=user, now=now, blind_next=blind_next, share=share)
            return Claim(assignment=lease, resumed=False)
    return None


def _claim_gold(*, user: User, document: Document | None, now: datetime) -> Claim | None:
    # Gold lines are never full: every labeler may be tested on each of them once.
    eligible, params = _eligible(user=user, document=document, now=now)
    scan = f"""
        SELECT l.id, l.blind_next, d.blind_share {_LINES}
        WHERE l.in_pool AND l.gold_text <> '' AND {eligible}
        ORDER BY l.id
        LIMIT 1
    """
    with connection.cursor() as cursor:
        cursor.execute(scan, params)
        row = cursor.fetchone()
    if row is None:
        return None
    line_id, blind_next, share = row
    lease = _lease(line_id=line_id, user=user, now=now, blind_next=blind_next, share=share)
    return Claim(assignment=lease, resumed=False)


def _lease(
    *, line_id: int, user: User, now: datetime, blind_next: bool, share: float
) -> Assignment:
    return Assignment.objects.create(
        line_id=line_id,
        user=user,
        blind=bool(blind_next) or is_blind(line_id=line_id, user_id=user.pk, share=share),
        expires_at=now + lease_length(),
    )
