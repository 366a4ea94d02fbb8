"""Making a release: `create_release` checks and numbers the row; `build_release` (the job on
the `exports` queue) writes the zip to a temporary file, stores it and publishes it at once."""

from __future__ import annotations

import errno
import hashlib
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files import File
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from labeling import files, jobs
from labeling.models import DatasetRelease, Document, ReleaseStatus
from labeling.releases import describe
from labeling.releases.layout import ReleaseZip
from labeling.releases.selection import (
    DEFAULT_STATUSES,
    EXPORTABLE_STATUSES,
    ReleaseRefused,
    TextRule,
    document_pages,
    eligible_documents,
    line_counts,
    split_documents,
)

logger = logging.getLogger(__name__)

PROGRESS_EVERY_LINES = 500
PROGRESS_EVERY_SECONDS = 2.0
_READ_CHUNK = 1024 * 1024


def _task():  # type: ignore[no-untyped-def]
    from labeling.tasks import build_release  # tasks import this module

    return build_release


def sweep() -> jobs.Swept:
    return jobs.sweep(DatasetRelease, _task(), queue="exports")


def _refuse_documents(documents: Sequence[Document]) -> None:
    problems = []
    for doc in documents:
        if doc.visibility != "pool":
            problems.append(_("“%(title)s” (#%(id)d) is not in the pool."))
        elif not doc.license:
            problems.append(_("“%(title)s” (#%(id)d) has no licence."))
        elif doc.pool_consent_at is None:
            problems.append(_("“%(title)s” (#%(id)d) lacks its owner's consent to share it."))
        else:
            continue
        problems[-1] = problems[-1] % {"title": doc.title, "id": doc.pk}
    if problems:
        raise ReleaseRefused(
            " ".join([_("Only licensed pool documents can be released."), *problems])
        )


def check_request(
    *,
    created_by: User,
    documents: Sequence[Document] | None = None,
    statuses: Sequence[str] | None = None,
    eval_share: float = 0.1,
    seed: int = 0,
) -> tuple[str, ...]:
    """What `create_release` checks before it writes anything: the statuses to export, or
    ReleaseRefused with a message for the person (the admin form shows it in place)."""
    if not (created_by.is_active and created_by.is_staff):
        raise ReleaseRefused(_("Only staff can make a dataset release."))
    if not created_by.has_perm("labeling.add_datasetrelease"):
        raise ReleaseRefused(_("You may not make dataset releases."))
    chosen = tuple(dict.fromkeys(statuses or DEFAULT_STATUSES))
    unknown = [value for value in chosen if value not in EXPORTABLE_STATUSES]
    if unknown:
        raise ReleaseRefused(
            _("Only approved and agreed lines can be released, not: %(statuses)s.")
            % {"statuses": ", ".join(unknown)}
        )
    if not 0 <= eval_share <= 0.5:
        raise ReleaseRefused(_("The eval share must be between 0 and 0.5."))
    if seed < 0:
        raise ReleaseRefused(_("The seed must be 0 or more."))
    named = list(documents or [])
    _refuse_documents(named)
    candidates = (
        [doc.pk for doc in named]
        if named
        else list(eligible_documents().values_list("pk", flat=True))
    )
    if not line_counts(candidates, chosen):
        raise ReleaseRefused(
            _("Nothing to release: the chosen documents have no %(statuses)s lines.")
            % {"statuses": _(" or ").join(chosen)}
        )
    return chosen


def create_release(
    *,
    created_by: User,
    documents: Sequence[Document] | None = None,
    statuses: Sequence[str] | None = None,
    eval_share: float = 0.1,
    seed: int = 0,
    normalized: bool = False,
    notes: str = "",
) -> DatasetRelease:
    """Check the request, number the release and queue its build (after commit).

    Raises ReleaseRefused with a message for the person when it cannot be made.
    """
    chosen = check_request(
        created_by=created_by,
        documents=documents,
        statuses=statuses,
        eval_share=eval_share,
        seed=seed,
    )
    named = list(documents or [])
    for _try in range(5):
        try:
            with transaction.atomic():
                last = DatasetRelease.objects.aggregate(last=Max("number"))["last"] or 0
                release = DatasetRelease.objects.create(
                    number=last + 1,
                    created_by=created_by,
                    statuses=list(chosen),
                    eval_share=eval_share,
                    seed=seed,
                    normalized=normalized,
                    notes=notes,
                )
                release.documents.set(named)
                jobs.send_on_commit(_task(), DatasetRelease, [release.pk])
                return release
        except IntegrityError:  # another release took the number meanwhile: take the next
            continue
    raise ReleaseRefused(_("Another release is being numbered; try again."))


@dataclass(frozen=True)
class Built:
    path: Path
    sha256: str
    size: int
    summary: dict[str, int]


class _Superseded(Exception):
    """Another run holds the row now."""


def release_folder(number: int) -> str:
    return f"release-{number}"


def _stamp(release: DatasetRelease) -> tuple[int, ...]:
    moment = timezone.localtime(release.created_at)
    return (moment.year, moment.month, moment.day, moment.hour, moment.minute, moment.second)


def write_release(
    release: DatasetRelease, target: Path, *, lease: uuid.UUID | None = None
) -> dict[str, int]:
    """Write the release's zip to `target`; returns the summary. Re-checks at build time that
    every document is still eligible (an owner may have withdrawn one meanwhile)."""
    statuses = tuple(release.statuses or DEFAULT_STATUSES)
    eligible = eligible_documents()
    named = list(release.documents.values_list("pk", flat=True))
    if named:
        withdrawn = release.documents.exclude(pk__in=eligible.values("pk"))
        _refuse_documents(list(withdrawn))
        eligible = eligible.filter(pk__in=named)
    counts = line_counts(eligible.values_list("pk", flat=True), statuses)
    if not counts:
        raise ReleaseRefused(_("Nothing to release: no line is left to export."))
    split = split_documents(list(counts), eval_share=release.eval_share, seed=release.seed)
    total = sum(counts.values())
    if lease is not None:
        jobs.holding(DatasetRelease, release.pk, lease).update(lines_total=total, lines_done=0)
    rule = TextRule(statuses=statuses, normalized=release.normalized)
    done = 0
    reported = (0, time.monotonic())
    with target.open("wb") as out:
        archive = ReleaseZip(out, folder=release_folder(release.number), stamp=_stamp(release))
        try:
            for document in eligible.filter(pk__in=list(counts)).order_by("pk"):
                for page_pairs in document_pages(document, split=split[document.pk], rule=rule):
                    archive.add_page(page_pairs)
                    done += len(page_pairs.pairs)
                    if lease is not None and (
                        done - reported[0] >= PROGRESS_EVERY_LINES
                        or time.monotonic() - reported[1] >= PROGRESS_EVERY_SECONDS
                    ):
                        if not jobs.holding(DatasetRelease, release.pk, lease).update(
                            lines_done=done, heartbeat_at=timezone.now()
                        ):
                            raise _Superseded
                        reported = (done, time.monotonic())
            title = _("Ottoman OCR ground truth, release %(n)d") % {"n": release.number}
            archive.finish(
                readme=describe.readme(
                    title=title,
                    stats=archive.stats,
                    notes=release.notes,
                    normalized=release.normalized,
                    seed=release.seed,
                    eval_share=release.eval_share,
                    statuses=statuses,
                ),
                catalogue=describe.catalogue(
                    title=title, stats=archive.stats, number=release.number
                ),
            )
        except BaseException:
            archive.close()
            raise
    return archive.stats.summary()


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(_READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, SoftTimeLimitExceeded):
        return _(
            "The build took longer than %(seconds)d seconds (RELEASE_TIME_LIMIT_SECONDS) and was "
            "stopped. Nothing was published."
        ) % {"seconds": settings.RELEASE_TIME_LIMIT_SECONDS}
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
        return _("The disk is full: the release could not be written. Nothing was published.")
    if isinstance(exc, ReleaseRefused):
        return str(exc)
    if isinstance(exc, OSError):
        return _("The release could not be written (%(error)s). Nothing was published.") % {
            "error": exc.strerror or exc
        }
    return _("The build failed (%(error)s). Nothing was published.") % {"error": exc}


def build_release(*, release_id: int) -> None:
    """Build and publish the release (the `build_release` task). Safe to run twice; quiet when
    the row is gone. Any failure fails the row with its reason; nothing is half-published."""
    release = DatasetRelease.objects.filter(pk=release_id).first()
    if release is None:
        return
    lease = jobs.claim(DatasetRelease, release_id)
    if lease is None:
        return
    release.refresh_from_db()
    folder = Path(tempfile.mkdtemp(prefix=f"release-{release.number}-"))
    name = ""
    try:
        with jobs.heartbeat(DatasetRelease, release_id, lease):
            target = folder / f"{release_folder(release.number)}.zip"
            summary = write_release(release, target, lease=lease)
            sha256 = _digest(target)
            size = target.stat().st_size
            stored_name = files.unique_name("releases", release_folder(release.number), "zip")
            with target.open("rb") as zipped:
                name = files.store(stored_name, File(zipped))
        with transaction.atomic():
            if jobs.holding(DatasetRelease, release_id, lease).select_for_update().first() is None:
                raise _Superseded
            files.adopt([name])
            jobs.finish(
                DatasetRelease,
                release_id,
                lease,
                file=name,
                sha256=sha256,
                size=size,
                summary=summary,
                lines_done=summary["lines"],
                error="",
                finished_at=timezone.now(),
            )
    except _Superseded:
        logger.warning("Release %s was taken over by another run", release_id)
        return
    except Exception as exc:  # SoftTimeLimitExceeded is an Exception too
        logger.exception("Release %s failed", release_id)
        if jobs.fail(
            DatasetRelease, release_id, lease, _failure_message(exc), finished_at=timezone.now()
        ):
            _tell(release_id)
        return
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if name:
            files.discard([name])  # only if the row did not adopt it
    _tell(release_id)


def _tell(release_id: int) -> None:
    """E-mail the person who asked for the release how it ended (through the outbox)."""
    release = DatasetRelease.objects.select_related("created_by").get(pk=release_id)
    if release.status == ReleaseStatus.DONE:
        subject = _("Release %(n)d is ready") % {"n": release.number}
        summary = release.summary
        body = _(
            "Release %(n)d is published: %(lines)d lines from %(documents)d documents "
            "(%(train)d train, %(eval)d eval), %(size)d bytes, SHA-256 %(sha)s.\n\n"
            "Download it from the admin: %(url)s\n"
        ) % {
            "n": release.number,
            "lines": summary.get("lines", 0),
            "documents": summary.get("documents", 0),
            "train": summary.get("train_lines", 0),
            "eval": summary.get("eval_lines", 0),
            "size": release.size,
            "sha": release.sha256,
            "url": settings.SITE_URL.rstrip("/")
            + reverse("admin:labeling_datasetrelease_change", args=[release.pk]),
        }
    else:
        subject = _("Release %(n)d failed") % {"n": release.number}
        body = _("Release %(n)d could not be built: %(error)s\n") % {
            "n": release.number,
            "error": release.error,
        }
    EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{subject}",
        body=body,
        to=[release.created_by.email],
    ).send()
