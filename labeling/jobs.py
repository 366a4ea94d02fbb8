"""Background work that no killed process, lost message or stopped broker can lose.

A row that waits for a task — a page to read, an uploaded file to split, an e-mail to send —
carries its own job state (`labeling.models.Job`): its status, when it started waiting, when
its task was handed to the broker, the lease and heartbeat of the run that holds it, and how
many runs started. So the database, not the broker, knows what is left to do:

- `send` hands tasks to the broker after commit and notes when; a broker that is down leaves
  the row waiting (nothing fails, nobody is kept waiting).
- `claim` lets exactly one run hold a row: a late duplicate message finds it taken or done
  and does nothing.
- `heartbeat` shows the holder is alive; a run whose heartbeat stops (its worker was killed)
  is taken over.
- `sweep`, every minute, hands the broker again what waits too long: rows never handed over
  (the web process died after its commit, the broker was down), rows whose message was lost
  (a broker restart emptied the queue), and rows whose run stopped beating. After
  JOB_MAX_ATTEMPTS lost runs a row fails with a message, so one poisonous page cannot kill
  workers forever.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from django.conf import settings
from django.db import DatabaseError, close_old_connections, connection, transaction
from django.db.models import Case, F, PositiveIntegerField, Q, QuerySet, When
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from kombu.exceptions import OperationalError

from labeling.models import Job, JobStatus

logger = logging.getLogger(__name__)

J = TypeVar("J", bound=Job)

# What a broker that is down or unreachable raises on publish (kombu wraps most of these).
BROKER_ERRORS = (OperationalError, ConnectionError, TimeoutError)

# Bounds one sweep's work, so a backlog is handed over over several sweeps, not at once.
SWEEP_BATCH = 500


class Sendable(Protocol):
    """A Celery task taking the row's id."""

    name: str

    def apply_async(self, args: tuple[int], **options: Any) -> Any: ...


def _status(model: type[Job], value: str) -> dict[str, str]:
    return {model.STATUS_FIELD: value}


def _rows(model: type[J]) -> QuerySet[J]:
    return model._default_manager.all()


def ready(model: type[Job], now: datetime) -> Q:
    """Rows waiting for a run whose back-off, if any, is over."""
    return Q(**_status(model, JobStatus.QUEUED)) & (
        Q(not_before__isnull=True) | Q(not_before__lte=now)
    )


def stale_before(now: datetime) -> datetime:
    return now - timedelta(seconds=settings.JOB_STALE_SECONDS)


def lost(model: type[Job], now: datetime) -> Q:
    """Rows held by a run that stopped beating: its worker died or was killed."""
    # No heartbeat at all: running since before heartbeats existed.
    beats = Q(heartbeat_at__lt=stale_before(now)) | Q(heartbeat_at__isnull=True)
    return Q(**_status(model, JobStatus.RUNNING)) & beats


def max_lost_runs(model: type[Job]) -> int:
    """Lost runs after which a row fails (the model's own, or JOB_MAX_ATTEMPTS)."""
    return model.MAX_LOST_RUNS or settings.JOB_MAX_ATTEMPTS


def too_often_lost(model: type[Job]) -> Q:
    """Rows whose run now stopped would be their last lost one allowed: fail, don't retry."""
    return Q(lost_runs__gte=max_lost_runs(model) - 1)


def claim(model: type[Job], pk: int) -> uuid.UUID | None:
    """Hold the row for this run and return the lease; None when it is not this run's to do
    (gone, done, failed, held by a live run, or waiting out a back-off)."""
    now = timezone.now()
    lease = uuid.uuid4()
    taken = (
        _rows(model)
        .filter(ready(model, now) | (lost(model, now) & ~too_often_lost(model)))
        .filter(pk=pk)
        .update(
            # Taking over a run that stopped counts it as lost.
            lost_runs=Case(
                When(**_status(model, JobStatus.RUNNING), then=F("lost_runs") + 1),
                default=F("lost_runs"),
                output_field=PositiveIntegerField(),
            ),
            **_status(model, JobStatus.RUNNING),
            lease=lease,
            heartbeat_at=now,
            attempts=F("attempts") + 1,
        )
    )
    return lease if taken else None


def holding(model: type[J], pk: int, lease: uuid.UUID) -> QuerySet[J]:
    """The row, if this run still holds it (filter further, or lock it, before writing)."""
    return _rows(model).filter(pk=pk, lease=lease, **_status(model, JobStatus.RUNNING))


def beat(model: type[Job], pk: int, lease: uuid.UUID) -> bool:
    """Show the run is alive; False when it no longer holds the row."""
    return bool(holding(model, pk, lease).update(heartbeat_at=timezone.now()))


@contextmanager
def heartbeat(model: type[Job], pk: int, lease: uuid.UUID) -> Iterator[None]:
    """Beat from a thread while the body runs (Tesseract may take minutes on one page).

    Inside an outer transaction (tasks run eagerly in tests) nobody else could see a beat,
    and the row lock the outer transaction holds would block the thread: no thread then.
    """
    if connection.in_atomic_block:
        yield
        return
    stop = threading.Event()

    def run() -> None:
        try:
            while not stop.wait(settings.JOB_HEARTBEAT_SECONDS):
                beat(model, pk, lease)
        except Exception:  # a missed beat only lets the sweep take over; never crash the run
            logger.exception("Heartbeat of %s %s failed", model.__name__, pk)
        finally:
            close_old_connections()
            connection.close()

    thread = threading.Thread(target=run, name=f"heartbeat-{model.__name__}-{pk}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=30)


def finish(model: type[Job], pk: int, lease: uuid.UUID, **fields: Any) -> bool:
    """The run is over and did its work: mark the row done (with `fields`) if still held."""
    return bool(
        holding(model, pk, lease).update(**_status(model, JobStatus.DONE), lease=None, **fields)
    )


def fail(model: type[Job], pk: int, lease: uuid.UUID, message: str, **fields: Any) -> bool:
    """The work cannot be done (a damaged file, a missing language): say why on the row."""
    return bool(
        holding(model, pk, lease).update(
            **_status(model, JobStatus.FAILED),
            **{model.ERROR_FIELD: message[:2000]},
            lease=None,
            **fields,
        )
    )


def release(
    model: type[Job], pk: int, lease: uuid.UUID, *, delay: float = 0.0, message: str = ""
) -> bool:
    """Give the row back to wait for another run, not before `delay` seconds (a mail server
    that is down, a full disk); the sweep hands it over again when that time comes."""
    now = timezone.now()
    return bool(
        holding(model, pk, lease).update(
            **_status(model, JobStatus.QUEUED),
            **{model.ERROR_FIELD: message[:2000]},
            lease=None,
            enqueued_at=None,
            not_before=now + timedelta(seconds=delay) if delay else None,
        )
    )


# A worker's own trouble (storage unreachable, a full disk, the database away): the work
# waits and is tried again, unlike a page Tesseract cannot read or a damaged file.
TRANSIENT_ERRORS = (OSError, DatabaseError)
TRANSIENT_TRIES = 20  # with pauses growing by JOB_RETRY_DELAY_SECONDS: 3.5 hours at 60 s


def retry_later(model: type[Job], pk: int, lease: uuid.UUID, error: Exception) -> bool:
    """Give the row back after a transient error, to be tried again after a pause that grows
    with each try, and fail it after TRANSIENT_TRIES; its owner sees why it waits."""
    attempts = holding(model, pk, lease).values_list("attempts", flat=True).first() or 0
    if attempts >= TRANSIENT_TRIES:
        logger.error("%s %s gave up after %d tries: %s", model.__name__, pk, attempts, error)
        message = _("Gave up after %(n)d tries: %(error)s") % {"n": attempts, "error": error}
        return fail(model, pk, lease, message)
    logger.warning("%s %s waits for a later try: %s", model.__name__, pk, error)
    return release(
        model,
        pk,
        lease,
        delay=settings.JOB_RETRY_DELAY_SECONDS * attempts,
        message=_("Waiting to try again: %(error)s") % {"error": error},
    )


def requeue(rows: QuerySet[J]) -> list[int]:
    """Put rows back to wait for a fresh run (a person pressed Retry); returns their ids.

    The caller has chosen which rows may be retried; their attempts start again.
    """
    model: type[Job] = rows.model
    pks = list(rows.values_list("pk", flat=True))
    _rows(model).filter(pk__in=pks).update(
        **_status(model, JobStatus.QUEUED),
        **{model.ERROR_FIELD: ""},
        queued_at=timezone.now(),
        enqueued_at=None,
        not_before=None,
        lease=None,
        heartbeat_at=None,
        attempts=0,
        lost_runs=0,
    )
    return pks


def is_stuck(row: Job, now: datetime | None = None) -> bool:
    """Whether the row's owner should be offered Retry: failed, or waiting or running far
    longer than work takes (JOB_RETRY_AFTER_SECONDS), or held by a run that stopped beating."""
    now = now or timezone.now()
    status = getattr(row, row.STATUS_FIELD)
    if status == JobStatus.FAILED:
        return True
    if status == JobStatus.QUEUED:
        return row.queued_at < now - timedelta(seconds=settings.JOB_RETRY_AFTER_SECONDS)
    if status == JobStatus.RUNNING:
        return row.heartbeat_at is None or row.heartbeat_at < stale_before(now)
    return False


def send(task: Sendable, model: type[Job], pks: Sequence[int]) -> int:
    """Hand the rows' tasks to the broker now and note when; returns how many it took.

    Stops at the first refusal: a broker that is down would refuse the rest too, and the
    sweep hands them over once it is back. Never raises for a broker that is down.
    """
    sent: list[int] = []
    for pk in pks:
        try:
            task.apply_async((pk,), **settings.JOB_PUBLISH_OPTIONS)
        except BROKER_ERRORS as exc:
            logger.warning(
                "The broker did not take %s(%s); it stays queued for the sweep: %s",
                task.name,
                pk,
                exc,
            )
            break
        sent.append(pk)
    if sent:
        _rows(model).filter(pk__in=sent, **_status(model, JobStatus.QUEUED)).update(
            enqueued_at=timezone.now()
        )
    return len(sent)


def send_on_commit(task: Sendable, model: type[Job], pks: Sequence[int]) -> None:
    """`send` once the current transaction commits. If this process dies before it runs, or
    it raises, the committed rows still wait and the sweep sends them."""
    pks = list(pks)

    def send_committed() -> None:
        send(task, model, pks)

    transaction.on_commit(send_committed, robust=True)


def waiting_to_send(model: type[Job]) -> Q:
    """Rows waiting for a task the broker has not taken."""
    return Q(**_status(model, JobStatus.QUEUED), enqueued_at__isnull=True)


@dataclass(frozen=True)
class Swept:
    returned: int  # lost runs given back to wait
    failed: int  # lost too many runs: failed with a message
    sent: int  # handed to the broker


def sweep(model: type[Job], task: Sendable, *, queue: str) -> Swept:
    """Recover the model's rows that wait too long (see the module's docstring)."""
    now = timezone.now()
    rows = _rows(model)
    too_often = lost(model, now) & too_often_lost(model)
    limit = max_lost_runs(model)
    failed = rows.filter(too_often).update(
        **_status(model, JobStatus.FAILED),
        **{
            model.ERROR_FIELD: ngettext(
                "The work stopped without finishing (its worker was stopped or ran out of memory).",
                "The work stopped %(n)d times without finishing (the worker was stopped or ran "
                "out of memory).",
                limit,
            )
            % {"n": limit}
        },
        lease=None,
    )
    back = list(
        rows.filter(lost(model, now) & ~too_often).values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    returned = rows.filter(lost(model, now), pk__in=back).update(
        **_status(model, JobStatus.QUEUED),
        lease=None,
        enqueued_at=None,
        lost_runs=F("lost_runs") + 1,
    )
    grace = now - timedelta(seconds=settings.JOB_SEND_GRACE_SECONDS)
    due = ready(model, now)
    todo = list(
        rows.filter(due, enqueued_at__isnull=True)
        .filter(Q(queued_at__lt=grace) | Q(pk__in=back))
        .order_by("queued_at", "pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    resend_before = now - timedelta(seconds=settings.JOB_RESEND_SECONDS)
    handed_long_ago = rows.filter(due, enqueued_at__lt=resend_before)
    if len(todo) < SWEEP_BATCH and handed_long_ago.exists() and queue_is_empty(queue):
        # The broker took these long ago, yet its queue is empty and they still wait: it lost
        # them (a restart without persistence). While the queue holds messages they are just
        # waiting their turn, and sending them again would only add duplicates.
        todo += list(
            handed_long_ago.order_by("enqueued_at", "pk").values_list("pk", flat=True)[
                : SWEEP_BATCH - len(todo)
            ]
        )
    sent = send(task, model, todo) if todo else 0
    if failed or returned or sent:
        logger.info(
            "Sweep of %s: %d lost runs given back, %d failed, %d handed to the broker",
            model.__name__,
            returned,
            failed,
            sent,
        )
    return Swept(returned=returned, failed=failed, sent=sent)


def queue_is_empty(queue: str) -> bool:
    """Whether the broker holds no message for `queue` (True when it cannot tell: the rows
    were handed over long ago, and a duplicate costs only a quick look at the row)."""
    from ottoman_ocr.celery import app

    try:
        with app.connection_for_write() as conn, conn.channel() as channel:
            _, count, _ = channel.queue_declare(queue=queue, passive=True)  # type: ignore[attr-defined]
            return int(count) == 0
    except BROKER_ERRORS:
        return False  # the broker is down: nothing can be handed over now anyway
    except Exception:  # a transport that cannot count, or no such queue yet
        return True
