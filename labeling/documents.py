"""Creating a document from uploaded scans: pages stored, duplicates reported, OCR queued."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from labeling.models import Document, License, OcrModel, Page, Transcription, Visibility
from labeling.reading import enqueue_ocr
from labeling.uploads import PageImage, UploadLimits

logger = logging.getLogger(__name__)


def upload_limits() -> UploadLimits:
    """The limits in force, from settings."""
    return UploadLimits(
        max_file_bytes=settings.UPLOAD_MAX_FILE_MB * 1024 * 1024,
        max_page_pixels=settings.UPLOAD_MAX_PAGE_MEGAPIXELS * 1_000_000,
        max_pdf_pages=settings.UPLOAD_MAX_PDF_PAGES,
    )


@dataclass(frozen=True)
class UploadedPage:
    """A page image with the name of the file it came from."""

    source_name: str
    image: PageImage


@dataclass
class UploadResult:
    document: Document | None
    duplicates: list[tuple[UploadedPage, Page]] = field(default_factory=list)


def find_duplicates(*, owner: User, pages: Sequence[UploadedPage]) -> dict[str, Page]:
    """The person's existing pages with the same content (sha256), by hash."""
    hashes = {page.image.sha256 for page in pages}
    existing = Page.objects.owned_by(owner).filter(sha256__in=hashes).select_related("document")
    found: dict[str, Page] = {}
    for page in existing.order_by("pk"):
        found.setdefault(page.sha256, page)
    return found


def create_document(
    *,
    owner: User,
    title: str,
    visibility: str,
    license: str,
    pages: Sequence[UploadedPage],
) -> UploadResult:
    """Store the new pages as one document and queue each for OCR after commit.

    Pages the owner already has (same sha256) are not stored again; they come back in
    `duplicates` with the existing page. When every page is a duplicate no document is made.
    All or nothing: if anything fails, no row and no file remains.
    """
    existing = find_duplicates(owner=owner, pages=pages)
    fresh: list[UploadedPage] = []
    duplicates: list[tuple[UploadedPage, Page]] = []
    seen: dict[str, UploadedPage] = {}
    for upload in pages:
        sha = upload.image.sha256
        if sha in existing:
            duplicates.append((upload, existing[sha]))
        elif sha in seen:
            continue  # the same page twice in one upload: keep the first
        else:
            seen[sha] = upload
            fresh.append(upload)
    if not fresh:
        return UploadResult(document=None, duplicates=duplicates)

    saved_files: list[str] = []
    try:
        with transaction.atomic():
            document = Document.objects.create(
                owner=owner,
                title=title,
                visibility=visibility,
                license=license if visibility == Visibility.POOL else License.NONE,
                pool_consent_at=timezone.now() if visibility == Visibility.POOL else None,
            )
            model = OcrModel.default()
            for number, item in enumerate(fresh, start=1):
                page = Page(
                    document=document,
                    number=number,
                    sha256=item.image.sha256,
                    width=item.image.width,
                    height=item.image.height,
                    source_name=item.source_name[:255],
                    source_index=item.image.source_index,
                    ocr_model=model,
                )
                name = f"{item.image.sha256}.{item.image.extension}"
                page.image.save(name, ContentFile(item.image.data), save=False)
                saved_files.append(str(page.image.name))
                page.save()
                enqueue_ocr(page=page)
    except BaseException:
        for name in saved_files:
            default_storage.delete(name)
        raise
    return UploadResult(document=document, duplicates=duplicates)


class DeletionRefused(Exception):
    """The document cannot be deleted; the message says why."""


def delete_document(*, document: Document) -> None:
    """Delete the document, its pages, lines and labels, and (after commit) its page files.

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
            f"Other contributors have made {others} label(s) on this document, so it stays; "
            "ask a moderator if it must go."
        )
    names = [name for name in document.pages.values_list("image", flat=True) if name]

    def delete_files() -> None:
        for name in names:
            default_storage.delete(name)

    with transaction.atomic():
        document.delete()
        transaction.on_commit(delete_files)
