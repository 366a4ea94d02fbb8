"""Documents from uploaded scans: files stored as they came, split into pages by a task.

The upload request only checks each file cheaply and stores it (`create_document`): it
answers in well under a second and holds one file's bytes at most, whatever the pages hold.
A task on the `ocr` queue splits each file into pages (`split_source`), one page at a time,
each page committed with its file and handed to Tesseract at once, so reading starts while
a long PDF is still being split. Every file in storage belongs to a committed row or is
journalled for deletion (`labeling.files`); every wait is a job the sweep recovers.
"""

from __future__ import annotations

import io
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import ngettext

from accounts.models import User
from labeling import files, jobs, reading
from labeling.models import (
    Document,
    License,
    OcrModel,
    Page,
    SourceFile,
    SplitStatus,
    Transcription,
    Visibility,
)
from labeling.uploads import (
    PageImage,
    SourceInfo,
    UploadLimits,
    UploadRejected,
    inspect_upload,
    iter_pages,
)

logger = logging.getLogger(__name__)


def upload_limits() -> UploadLimits:
    """The limits in force, from settings."""
    return UploadLimits(
        max_file_bytes=settings.UPLOAD_MAX_FILE_MB * 1024 * 1024,
        max_page_pixels=settings.UPLOAD_MAX_PAGE_MEGAPIXELS * 1_000_000,
        max_pdf_pages=settings.UPLOAD_MAX_PDF_PAGES,
    )


@dataclass(frozen=True)
class Upload:
    """An uploaded file that passed the cheap check, ready to store."""

    name: str
    file: BinaryIO
    info: SourceInfo

    @classmethod
    def check(cls, file: BinaryIO, *, name: str) -> Upload:
        """Check the file (UploadRejected, with a message naming it, when it will not do)."""
        return cls(
            name=name, file=file, info=inspect_upload(file, filename=name, limits=upload_limits())
        )

    @classmethod
    def from_bytes(cls, data: bytes, *, name: str) -> Upload:
        return cls.check(io.BytesIO(data), name=name)


@dataclass
class UploadResult:
    document: Document | None
    # Files the person uploaded before, with the page (a single image) or document holding it.
    duplicates: list[tuple[Upload, Page | Document]] = field(default_factory=list)
    waiting: bool = False  # stored, but the broker has not taken the work yet


def find_duplicates(*, owner: User, uploads: Sequence[Upload]) -> dict[str, Page | Document]:
    """The person's earlier uploads of the same files (sha256), by hash: a file kept as it came,
    or a page stored byte for byte from one (an image uploaded on its own)."""
    hashes = {upload.info.sha256 for upload in uploads}
    found: dict[str, Page | Document] = {}
    for page in Page.objects.owned_by(owner).filter(sha256__in=hashes).order_by("pk"):
        found.setdefault(page.sha256, page)
    sources = (
        SourceFile.objects.filter(document__owner=owner, sha256__in=hashes)
        .exclude(status=SplitStatus.FAILED)
        .select_related("document")
        .order_by("pk")
    )
    for source in sources:
        found.setdefault(source.sha256, source.document)
    return found


def create_document(
    *,
    owner: User,
    title: str,
    visibility: str,
    license: str,
    uploads: Sequence[Upload],
) -> UploadResult:
    """Store the files as one new document and queue their split into pages after commit.

    Files the owner uploaded before (same sha256) are not stored again; they come back in
    `duplicates`. When every file is one, no document is made. All or nothing: if anything
    fails, no row remains, and no file (what a killed process leaves, the sweep removes).
    """
    existing = find_duplicates(owner=owner, uploads=uploads)
    fresh: list[Upload] = []
    duplicates: list[tuple[Upload, Page | Document]] = []
    seen: set[str] = set()
    for upload in uploads:
        sha = upload.info.sha256
        if sha in existing:
            duplicates.append((upload, existing[sha]))
        elif sha not in seen:  # the same file twice in one upload: keep the first
            seen.add(sha)
            fresh.append(upload)
    if not fresh:
        return UploadResult(document=None, duplicates=duplicates)

    names: list[str] = []
    try:
        for upload in fresh:
            upload.file.seek(0)
            folder = f"uploads/{upload.info.sha256[:2]}"
            name = files.unique_name(folder, upload.info.sha256[:16], upload.info.extension)
            names.append(files.store(name, File(upload.file)))
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                title=title,
                visibility=visibility,
                license=license if visibility == Visibility.POOL else License.NONE,
                pool_consent_at=timezone.now() if visibility == Visibility.POOL else None,
            )
            sources = SourceFile.objects.bulk_create(
                SourceFile(
                    document=document,
                    position=position,
                    name=upload.name[:255],
                    file=name,
                    kind=upload.info.kind,
                    size=upload.info.size,
                    sha256=upload.info.sha256,
                    page_count=upload.info.page_count,
                )
                for position, (upload, name) in enumerate(zip(fresh, names, strict=True), start=1)
            )
            files.adopt(names)
            # One file at a time, in order, so pages are numbered as the files came.
            jobs.send_on_commit(_split_task(), SourceFile, [sources[0].pk])
    finally:
        files.discard(names)  # only what no committed row adopted
    waiting = SourceFile.objects.filter(
        jobs.waiting_to_send(SourceFile), document=document
    ).exists()
    return UploadResult(document=document, duplicates=duplicates, waiting=waiting)


def _split_task():  # type: ignore[no-untyped-def]
    from labeling.tasks import split_source  # tasks import this module

    return split_source


def sweep_sources() -> jobs.Swept:
    return jobs.sweep(SourceFile, _split_task(), queue="ocr")


def split_source(*, source_id: int) -> None:
    """Split one uploaded file into pages. Safe to run twice; quiet when the row is gone.

    Resumes where an earlier run stopped (`pages_done`). Works for at most
    SPLIT_BATCH_SECONDS, then hands the rest to a fresh task, so no task runs long.
    """
    source = SourceFile.objects.filter(pk=source_id).first()
    if source is None:
        return
    if _earlier_unfinished(source):
        return  # the earlier file sends this one when it is done
    lease = jobs.claim(SourceFile, source_id)
    if lease is None:
        return
    source.refresh_from_db()
    with jobs.heartbeat(SourceFile, source_id, lease):
        try:
            more = _split_some(source, lease)
        except UploadRejected as exc:
            jobs.fail(SourceFile, source_id, lease, str(exc), finished_at=timezone.now())
            _send_next(source)
            return
        except jobs.TRANSIENT_ERRORS as exc:
            jobs.retry_later(SourceFile, source_id, lease, exc)
            return
        except _Superseded:
            return
    if more:
        if jobs.release(SourceFile, source_id, lease):
            jobs.send(_split_task(), SourceFile, [source_id])
        return
    if jobs.finish(SourceFile, source_id, lease, error="", finished_at=timezone.now()):
        _send_next(source)


class _Superseded(Exception):
    """Another run holds the row now (this one's heartbeat stopped for too long)."""


def _earlier_unfinished(source: SourceFile) -> bool:
    return (
        SourceFile.objects.filter(document_id=source.document_id, position__lt=source.position)
        .exclude(status__in=[SplitStatus.DONE, SplitStatus.FAILED])
        .exists()
    )


def _send_next(source: SourceFile) -> None:
    following = (
        SourceFile.objects.filter(
            document_id=source.document_id,
            position__gt=source.position,
            status=SplitStatus.QUEUED,
        )
        .order_by("position")
        .values_list("pk", flat=True)
        .first()
    )
    if following is not None:
        jobs.send(_split_task(), SourceFile, [following])


def _split_some(source: SourceFile, lease: uuid.UUID) -> bool:
    """Store pages from `pages_done` on; True when time ran out before the last page."""
    limits = upload_limits()
    with source.file.open("rb") as stored:
        data = stored.read()
    deadline = time.monotonic() + settings.SPLIT_BATCH_SECONDS
    for image in iter_pages(data, filename=source.name, limits=limits, start=source.pages_done):
        _add_page(source, lease, image)
        if time.monotonic() > deadline and image.source_index + 1 < source.page_count:
            return True
    return False


def _add_page(source: SourceFile, lease: uuid.UUID, image: PageImage) -> None:
    """Store one page: its file, its row and the split's progress, committed together.

    A page the owner already has is not stored again; the file notes it as a duplicate.
    """
    owner_id = Document.objects.values_list("owner_id", flat=True).get(pk=source.document_id)
    known = Page.objects.filter(document__owner_id=owner_id, sha256=image.sha256).order_by("pk")
    duplicate = known.values_list("pk", flat=True).first()
    name = ""
    if duplicate is None:
        folder = f"pages/{image.sha256[:2]}"
        name = files.unique_name(folder, image.sha256[:16], image.extension)
        name = files.store(name, ContentFile(image.data))
    try:
        with transaction.atomic():
            locked = jobs.holding(SourceFile, source.pk, lease).select_for_update().first()
            if locked is None:
                raise _Superseded
            if duplicate is not None:
                locked.duplicates = [*locked.duplicates, [image.source_index, duplicate]]
            else:
                document = Document.objects.select_for_update().get(pk=source.document_id)
                number = (document.pages.aggregate(last=Max("number"))["last"] or 0) + 1
                page = Page.objects.create(
                    document=document,
                    source=locked,
                    number=number,
                    image=name,
                    sha256=image.sha256,
                    width=image.width,
                    height=image.height,
                    source_name=source.name,
                    source_index=image.source_index,
                    ocr_model=OcrModel.default(),
                )
                files.adopt([name])
                reading.enqueue_ocr(pages=[page])
            locked.pages_done = image.source_index + 1
            locked.heartbeat_at = timezone.now()
            locked.save(update_fields=["duplicates", "pages_done", "heartbeat_at"])
    finally:
        if name:
            files.discard([name])  # only if its row did not commit
    source.pages_done = image.source_index + 1


def source_progress(source: SourceFile) -> str:
    """One line for the document page: how far the split of this file is."""
    skipped = len(source.duplicates)
    parts = [
        ngettext(
            "%(done)d of %(count)d page prepared",
            "%(done)d of %(count)d pages prepared",
            source.page_count,
        )
        % {"done": source.pages_done, "count": source.page_count}
    ]
    if skipped:
        parts.append(
            ngettext(
                "%(n)d page you had already was not added again",
                "%(n)d pages you had already were not added again",
                skipped,
            )
            % {"n": skipped}
        )
    return "; ".join(parts)


@transaction.atomic
def retry_source(*, source: SourceFile) -> bool:
    """Split a failed or stuck file again from where it stopped; False if it is neither."""
    locked = SourceFile.objects.select_for_update().filter(pk=source.pk).first()
    if locked is None or not jobs.is_stuck(locked):
        return False
    jobs.send_on_commit(
        _split_task(), SourceFile, jobs.requeue(SourceFile.objects.filter(pk=source.pk))
    )
    return True


class DeletionRefused(Exception):
    """The document cannot be deleted; the message says why."""


def delete_document(*, document: Document) -> None:
    """Delete the document, its files, pages, lines and labels (the files after commit).

    A pool document that other people have labelled is kept: their work is part of the
    shared ground truth, and a moderator decides about it.
    """
    others = (
        Transcription.objects.filter(line__page__document=document)
        .exclude(user_id=document.owner_id)
        .count()
    )
    if others:
        raise DeletionRefused(
            ngettext(
                "Other contributors have made %(n)d label on this document, so it stays; "
                "ask a moderator if it must go.",
                "Other contributors have made %(n)d labels on this document, so it stays; "
                "ask a moderator if it must go.",
                others,
            )
            % {"n": others}
        )
    with transaction.atomic():
        names = [
            *document.pages.values_list("image", flat=True),
            *document.sources.values_list("file", flat=True),
        ]
        files.delete_on_commit(names)
        document.delete()
