"""Tesseract reads a page: the job lives on the Page (`labeling.jobs`), lines replace earlier ones.

Each run holds the page by a lease; only the run that still holds it may store its reading,
so a late duplicate (a message redelivered after the sweep gave the page to another worker)
changes nothing, and lines that people have labelled are never replaced.

Re-reading a document with another model (`reread_document`) is the same job with
`Page.reread` set: the run reads each existing line's crop again and updates only its
prediction, so boxes, statuses, consensus and transcriptions stay.
"""

from __future__ import annotations

import hashlib
import io
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image

from labeling import charset, files, jobs, ocr, segmentation
from labeling.models import (
    Document,
    Line,
    LineStatus,
    OcrModel,
    OcrStatus,
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


def model_file(model: OcrModel) -> Path:
    """The model's .traineddata on this machine: the cached copy of an uploaded model, or the
    installed pack (in TESSDATA_DIR, else Tesseract's own folder).

    Raises OSError when storage has lost an uploaded model's file, and
    charset.UnicharsetError when Tesseract names no folder.
    """
    folder = model_tessdata_dir(model) or charset.tessdata_dir()
    return folder / f"{model.language}.traineddata"


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
    """Run Tesseract on one page and store its lines (or, for a page queued to be re-read, the
    new readings of its lines that need one), and the ink no line box covers. Safe to run
    twice; quiet if gone."""
    lease = jobs.claim(Page, page_id)
    if lease is None:
        return  # gone, done, failed, or held by a live run
    page = Page.objects.select_related("ocr_model").filter(pk=page_id).first()
    if page is None:
        return
    model = page.ocr_model or OcrModel.default()
    with jobs.heartbeat(Page, page_id, lease):
        if page.reread:
            started = time.perf_counter()
            lines = _attempt(page_id, lease, lambda: _read_lines(page, model))
            if lines is not None:
                store_rereading(
                    page_id=page_id,
                    lease=lease,
                    lines=lines,
                    model=model,
                    seconds=time.perf_counter() - started,
                )
        else:
            whole = _attempt(page_id, lease, lambda: _read_whole(page, model))
            if whole is not None:
                try:
                    store_reading(
                        page_id=page_id,
                        lease=lease,
                        reading=whole.reading,
                        model=model,
                        bands=whole.bands,
                        level=whole.level,
                    )
                finally:
                    if whole.level is not None:
                        files.discard([whole.level.name])  # nothing once the page adopted it


_T = TypeVar("_T")


def _attempt(page_id: int, lease: uuid.UUID, work: Callable[[], _T]) -> _T | None:
    """The work's result; None when it failed, after saying why on the page (or giving the
    page back to be tried again later, for a worker's own trouble)."""
    try:
        return work()
    except ocr.OcrError as exc:
        _finish(jobs.fail(Page, page_id, lease, str(exc)), page_id)
    except jobs.TRANSIENT_ERRORS as exc:
        jobs.retry_later(Page, page_id, lease, exc)
    except Exception as exc:  # a worker must record the failure on the row, whatever it was
        logger.exception("OCR of page %s failed", page_id)
        message = _("Unexpected error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        _finish(jobs.fail(Page, page_id, lease, message), page_id)
    return None


def _language(model: OcrModel | None) -> str:
    return model.language if model else settings.OCR_DEFAULT_LANGUAGE


@dataclass(frozen=True)
class StoredLevel:
    """A skewed page's level copy, stored (journalled) and waiting for the page to adopt it."""

    name: str
    skew: float
    width: int
    height: int


@dataclass(frozen=True)
class WholeReading:
    reading: ocr.PageReading
    bands: list[ocr.BBox]
    level: StoredLevel | None


def _read_whole(page: Page, model: OcrModel | None) -> WholeReading:
    """The page's lines as the platform finds them, and the bands of ink they leave uncovered.

    A skewed scan is turned level first and the lines are found and read on that copy, which
    is stored to become the page's image: then the crop a labeler sees, and a release exports,
    is the crop Tesseract read, one upright line (`segmentation.level_image`).
    """
    tessdata_dir = model_tessdata_dir(model) if model else None
    with page.image.open("rb") as image_file:
        image = image_file.read()
    level = segmentation.level_image(image)
    if level is not None:
        image = level.data
    reading = segmentation.read_page(
        image,
        language=_language(model),
        tessdata_dir=tessdata_dir,
        psm=page.ocr_psm,
        timeout=settings.OCR_TIMEOUT_SECONDS,
        tesseract_cmd=settings.TESSERACT_CMD,
    )
    bands = segmentation.uncovered_bands(image, [line.bbox for line in reading.lines])
    stored = None
    if level is not None:
        name = files.unique_name(
            f"pages/{page.sha256[:2]}", f"{page.sha256[:16]}-level", level.extension
        )
        stored = StoredLevel(
            name=files.store(name, ContentFile(level.data)),
            skew=level.skew,
            width=level.width,
            height=level.height,
        )
    return WholeReading(reading=reading, bands=bands, level=stored)


@dataclass(frozen=True)
class LinesRead:
    """What a re-reading run saw and read: the boxes of all the page's lines, the lines that
    needed reading with the box each was read in, and the ink those boxes leave uncovered."""

    boxes: dict[int, ocr.BBox]
    readings: dict[int, tuple[ocr.BBox, ocr.LineReading]]
    bands: list[ocr.BBox]


def _read_lines(page: Page, model: OcrModel | None) -> LinesRead:
    """Each line that needs it read in its crop (the one labelers see) as one raw line."""
    tessdata_dir = model_tessdata_dir(model) if model else None
    lines = list(page.lines.order_by("order"))
    readings: dict[int, tuple[ocr.BBox, ocr.LineReading]] = {}
    with page.image.open("rb") as image_file:
        data = image_file.read()
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        for line in lines:
            if not line.needs_reading:
                continue
            crop = io.BytesIO()
            ocr.crop_line(image, line.bbox).save(crop, "PNG")
            readings[line.pk] = (
                line.bbox,
                ocr.read_line(
                    crop.getvalue(),
                    language=_language(model),
                    tessdata_dir=tessdata_dir,
                    timeout=settings.OCR_TIMEOUT_SECONDS,
                    tesseract_cmd=settings.TESSERACT_CMD,
                ),
            )
    boxes = {line.pk: line.bbox for line in lines}
    return LinesRead(
        boxes=boxes,
        readings=readings,
        bands=segmentation.uncovered_bands(data, list(boxes.values())),
    )


def _finish(held: bool, page_id: int) -> None:
    if held:
        Page.objects.filter(pk=page_id).update(ocr_finished_at=timezone.now())
        _notify_if_read(page_id)


def _notify_if_read(page_id: int) -> None:
    """After the commit, tell the owner if this fresh reading (read or failed) was the last
    page of their document's reading; re-reading lines after box edits never does."""
    from labeling import notifications  # notifications → texts → boxes import this module

    document_id = (
        Page.objects.filter(pk=page_id, reread=False).values_list("document_id", flat=True).first()
    )
    if document_id is not None:
        transaction.on_commit(
            lambda: notifications.document_read_if_finished(document_id), robust=True
        )


@transaction.atomic
def store_reading(
    *,
    page_id: int,
    lease: uuid.UUID,
    reading: ocr.PageReading,
    model: OcrModel | None,
    bands: list[ocr.BBox] | None = None,
    level: StoredLevel | None = None,
) -> bool:
    """Replace the page's lines with Tesseract's reading and mark the page done.

    Only while this run holds the page (False otherwise: another run took it over, and its
    reading stands). Lines that people have labelled are never deleted: a page that has any
    keeps its lines (and its image) and is marked done. With `level`, the lines were found on
    the skewed page's level copy, which becomes the page's image; the old file goes after the
    commit (the upload it came from is kept as it came).
    """
    page = jobs.holding(Page, page_id, lease).select_for_update().select_related("document").first()
    if page is None:
        logger.info("Page %s is no longer held by this run; its reading is dropped", page_id)
        return False
    fields: dict[str, object] = {}
    if Transcription.objects.filter(line__page=page).exists():
        logger.warning("Page %s has labelled lines; they stay and this reading is dropped", page_id)
        bands = None
    else:
        if level is not None:  # the lines are on the level copy: it becomes the page's image
            files.adopt([level.name])
            files.delete_on_commit([str(page.image.name)])
            fields.update(
                image=level.name,
                skew=page.skew + level.skew,
                width=level.width,
                height=level.height,
            )
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
    if bands is not None:
        fields["missing_bands"] = _bands(bands, page.missing_bands)
    done = jobs.finish(
        Page,
        page_id,
        lease,
        ocr_error="",
        ocr_model=model,
        ocr_seconds=reading.seconds,
        ocr_finished_at=timezone.now(),
        **fields,
    )
    if done:
        _notify_if_read(page_id)
    return done


@transaction.atomic
def store_rereading(
    *,
    page_id: int,
    lease: uuid.UUID,
    lines: LinesRead,
    model: OcrModel | None,
    seconds: float,
) -> bool:
    """Give the lines their new readings and the page its uncovered ink, and mark the page
    done, while this run holds it (False otherwise). Only a line's prediction, its confidence
    and `predicted_by` change: boxes, statuses, consensus and people's texts stay. A line
    whose box changed while it was read keeps needing a reading, and the page goes straight
    back to the queue: a person may move boxes while Tesseract reads."""
    page = jobs.holding(Page, page_id, lease).select_for_update().first()
    if page is None:
        logger.info("Page %s is no longer held by this run; its re-reading is dropped", page_id)
        return False
    current = list(Line.objects.filter(page_id=page_id))
    read = []
    for line in current:
        box_read, reading = lines.readings.get(line.pk, (None, None))
        if reading is not None and box_read == line.bbox:
            line.prediction = reading.text
            line.confidence = reading.confidence
            line.predicted_by = model
            line.needs_reading = False
            read.append(line)
    Line.objects.bulk_update(read, ["prediction", "confidence", "predicted_by", "needs_reading"])
    changed = {line.pk: line.bbox for line in current} != lines.boxes
    again = changed or any(line.needs_reading for line in current)
    done = jobs.finish(
        Page,
        page_id,
        lease,
        ocr_error="",
        ocr_model=model,
        reread=again,
        missing_bands=_bands(lines.bands, page.missing_bands),
        ocr_seconds=seconds,
        ocr_finished_at=timezone.now(),
    )
    if again:
        enqueue_ocr(pages=[Page(pk=pk) for pk in jobs.requeue(Page.objects.filter(pk=page_id))])
    return done


def _bands(found: list[ocr.BBox], before: list[dict[str, object]]) -> list[dict[str, object]]:
    """Bands as stored on the page: the ones just found, each still dismissed when a person
    dismissed a band it mostly overlaps."""
    dismissed = [ocr.BBox(*b["box"]) for b in before if b.get("dismissed")]  # type: ignore[misc]
    return [
        {
            "box": [band.left, band.top, band.right, band.bottom],
            "dismissed": any(segmentation.band_resolved(band, [d]) for d in dismissed),
        }
        for band in found
    ]


@dataclass(frozen=True)
class Reread:
    queued: int  # pages queued to be read with the model
    busy: int  # pages left alone: they wait for Tesseract or are being read


@transaction.atomic
def reread_document(*, document: Document, model: OcrModel) -> Reread:
    """Queue the document's pages to be read again with `model`.

    A page with lines keeps them: each line is read again in its box (`read_line` on the
    crop labelers see), and only its prediction, confidence and `predicted_by` change, never
    a person's transcription, the line's status or its consensus. A page without lines (none
    found, or its reading failed) is read afresh. Pages waiting for Tesseract or being read
    are left alone. Each page is a job like any other: the lease, heartbeat, sweep and Retry
    all apply, and a page whose re-reading fails keeps its lines and can be retried.
    """
    pages = Page.objects.select_for_update().filter(document=document)
    # Lock the rows first (in a stable order), then decide on what they hold now.
    locked = list(pages.order_by("pk").values_list("pk", "ocr_status"))
    idle = [pk for pk, status in locked if status in (OcrStatus.DONE, OcrStatus.FAILED)]
    with_lines = set(
        Line.objects.filter(page_id__in=idle).values_list("page_id", flat=True).distinct()
    )
    Page.objects.filter(pk__in=with_lines).update(ocr_model=model, reread=True)
    Line.objects.filter(page_id__in=with_lines).update(needs_reading=True)
    Page.objects.filter(pk__in=set(idle) - with_lines).update(ocr_model=model, reread=False)
    queued = jobs.requeue(Page.objects.filter(pk__in=idle))
    enqueue_ocr(pages=[Page(pk=pk) for pk in queued])
    return Reread(queued=len(queued), busy=len(locked) - len(idle))
