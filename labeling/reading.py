"""Tesseract reads a page: the job lives on the Page (`labeling.jobs`), lines replace earlier ones.

Each run holds the page by a lease; only the run that still holds it may store its reading,
so a late duplicate (a message redelivered after the sweep gave the page to another worker)
changes nothing, and lines that people have labelled are never replaced.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from labeling import jobs, ocr
from labeling.models import (
    Line,
    LineStatus,
    OcrModel,
    Page,
    Transcription,
    Visibility,
)

logger = logging.getLogger(__name__)


def _task():  # type: ignore[no-untyped-def]
    from labeling.tasks import ocr_page  # tasks import this module

    return ocr_page


def enqueue_ocr(*, pages: list[Page]) -> None:
    """Hand the pages to the `ocr` queue once the current transaction commits."""
    jobs.send_on_commit(_task(), Page, [page.pk for page in pages])


def sweep() -> jobs.Swept:
    return jobs.sweep(Page, _task(), queue="ocr")


def can_retry(page: Page) -> bool:
    """Whether the owner is offered Retry: failed, or waiting or reading far too long."""
    return jobs.is_stuck(page)


@transaction.atomic
def retry_ocr(*, page: Page) -> bool:
    """Queue a failed or stuck page again; False when it is neither (nothing changes)."""
    locked = Page.objects.select_for_update().filter(pk=page.pk).first()
    if locked is None or not can_retry(locked):
        return False
    enqueue_ocr(pages=[Page(pk=pk) for pk in jobs.requeue(Page.objects.filter(pk=page.pk))])
    return True


def model_tessdata_dir(model: OcrModel) -> Path | None:
    """A local folder holding the model's .traineddata, or None for an installed pack.

    The web server and the workers need not share a disk, so a worker copies an uploaded
    model from storage into its own cache once. A stored file never changes under its name
    (storage gives every upload a new one), so the name is the cache key: later pages find
    the copy without reading storage at all.
    """
    if not model.traineddata:
        return Path(settings.TESSDATA_DIR) if settings.TESSDATA_DIR else None
    name = str(model.traineddata.name)
    folder = Path(settings.OCR_MODEL_CACHE_DIR) / hashlib.sha256(name.encode()).hexdigest()[:16]
    target = folder / f"{model.language}.traineddata"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = folder / f".{uuid.uuid4().hex}.partial"
        with model.traineddata.open("rb") as source, partial.open("wb") as copy:
            for chunk in source.chunks():
                copy.write(chunk)
        partial.replace(target)  # atomic: another process sees the whole file or none
    return folder


def read_page(*, page_id: int) -> None:
    """Run Tesseract on one page and store its lines. Safe to run twice; quiet if gone."""
    lease = jobs.claim(Page, page_id)
    if lease is None:
        return  # gone, done, failed, or held by a live run
    page = Page.objects.select_related("ocr_model").filter(pk=page_id).first()
    if page is None:
        return
    model = page.ocr_model or OcrModel.default()
    language = model.language if model else settings.OCR_DEFAULT_LANGUAGE
    with jobs.heartbeat(Page, page_id, lease):
        try:
            tessdata_dir = model_tessdata_dir(model) if model else None
            with page.image.open("rb") as image_file:
                image = image_file.read()
            reading = ocr.read_page(
                image,
                language=language,
                tessdata_dir=tessdata_dir,
                timeout=settings.OCR_TIMEOUT_SECONDS,
                tesseract_cmd=settings.TESSERACT_CMD,
            )
        except ocr.OcrError as exc:
            _finish(jobs.fail(Page, page_id, lease, str(exc)), page_id)
            return
        except jobs.TRANSIENT_ERRORS as exc:
            jobs.retry_later(Page, page_id, lease, exc)
            return
        except Exception as exc:  # a worker must record the failure on the row, whatever it was
            logger.exception("OCR of page %s failed", page_id)
            message = _("Unexpected error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
            _finish(jobs.fail(Page, page_id, lease, message), page_id)
            return
        store_reading(page_id=page_id, lease=lease, reading=reading, model=model)


def _finish(held: bool, page_id: int) -> None:
    if held:
        Page.objects.filter(pk=page_id).update(ocr_finished_at=timezone.now())


@transaction.atomic
def store_reading(
    *, page_id: int, lease: uuid.UUID, reading: ocr.PageReading, model: OcrModel | None
) -> bool:
    """Replace the page's lines with Tesseract's reading and mark the page done.

    Only while this run holds the page (False otherwise: another run took it over, and its
    reading stands). Lines that people have labelled are never deleted: a page that has any
    keeps its lines and is marked done.
    """
    page = jobs.holding(Page, page_id, lease).select_for_update().select_related("document").first()
    if page is None:
        logger.info("Page %s is no longer held by this run; its reading is dropped", page_id)
        return False
    if Transcription.objects.filter(line__page=page).exists():
        logger.warning("Page %s has labelled lines; they stay and this reading is dropped", page_id)
    else:
        page.lines.all().delete()
        in_pool = page.document.visibility == Visibility.POOL
        Line.objects.bulk_create(
            Line(
                page=page,
                order=order,
                left=line.bbox.left,
                top=line.bbox.top,
                right=line.bbox.right,
                bottom=line.bbox.bottom,
                prediction=line.text,
                confidence=line.confidence,
                predicted_by=model,
                status=LineStatus.OPEN,
                in_pool=in_pool,
                labels_wanted=page.document.labels_needed if in_pool else 1,
            )
            for order, line in enumerate(reading.lines, start=1)
        )
    return jobs.finish(
        Page,
        page_id,
        lease,
        ocr_error="",
        ocr_model=model,
        ocr_seconds=reading.seconds,
        ocr_finished_at=timezone.now(),
    )
