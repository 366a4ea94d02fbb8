"""Tesseract reads a page: the status lives on the Page, the lines replace any earlier ones."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from labeling import ocr
from labeling.models import Line, LineStatus, OcrModel, OcrStatus, Page, Visibility

logger = logging.getLogger(__name__)


def enqueue_ocr(*, page: Page) -> None:
    """Send the page to the `ocr` queue once the current transaction commits."""
    from labeling.tasks import ocr_page  # tasks import this module

    page_id = page.pk
    transaction.on_commit(lambda: ocr_page.delay(page_id))


def retry_ocr(*, page: Page) -> bool:
    """Queue a failed page again; False when the page is not in a failed state."""
    updated = Page.objects.filter(pk=page.pk, ocr_status=OcrStatus.FAILED).update(
        ocr_status=OcrStatus.QUEUED, ocr_error=""
    )
    if updated:
        enqueue_ocr(page=page)
    return bool(updated)


def model_tessdata_dir(model: OcrModel) -> Path | None:
    """A local folder holding the model's .traineddata, or None for an installed pack.

    The web server and the workers need not share a disk, so a worker copies an uploaded
    model from storage into its own cache, keyed by the file's content.
    """
    if not model.traineddata:
        return Path(settings.TESSDATA_DIR) if settings.TESSDATA_DIR else None
    with model.traineddata.open("rb") as source:
        data = source.read()
    folder = Path(settings.OCR_MODEL_CACHE_DIR) / hashlib.sha256(data).hexdigest()[:16]
    target = folder / f"{model.language}.traineddata"
    if not target.exists():
        folder.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(data)
        partial.replace(target)
    return folder


def read_page(*, page_id: int) -> None:
    """Run Tesseract on one page and store its lines. Safe to run twice; quiet if gone.

    A page already `done` is left alone (a redelivered task must not wipe people's work).
    """
    claimed = (
        Page.objects.filter(pk=page_id)
        .exclude(ocr_status=OcrStatus.DONE)
        .update(ocr_status=OcrStatus.RUNNING, ocr_error="")
    )
    if not claimed:
        return
    page = Page.objects.select_related("ocr_model").get(pk=page_id)
    model = page.ocr_model or OcrModel.default()
    language = model.language if model else settings.OCR_DEFAULT_LANGUAGE
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
        _fail(page_id, str(exc))
        return
    except Exception as exc:  # a worker must record the failure on the row, whatever it was
        logger.exception("OCR of page %s failed", page_id)
        _fail(page_id, f"Unexpected error: {type(exc).__name__}: {exc}")
        return
    store_reading(page=page, reading=reading, model=model)


@transaction.atomic
def store_reading(*, page: Page, reading: ocr.PageReading, model: OcrModel | None) -> None:
    """Replace the page's lines with Tesseract's reading and mark the page done."""
    page = Page.objects.select_for_update().select_related("document").get(pk=page.pk)
    in_pool = page.document.visibility == Visibility.POOL
    page.lines.all().delete()
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
    page.ocr_status = OcrStatus.DONE
    page.ocr_error = ""
    page.ocr_model = model
    page.ocr_seconds = reading.seconds
    page.ocr_finished_at = timezone.now()
    page.save(
        update_fields=["ocr_status", "ocr_error", "ocr_model", "ocr_seconds", "ocr_finished_at"]
    )


def _fail(page_id: int, message: str) -> None:
    Page.objects.filter(pk=page_id).update(
        ocr_status=OcrStatus.FAILED, ocr_error=message[:2000], ocr_finished_at=timezone.now()
    )
