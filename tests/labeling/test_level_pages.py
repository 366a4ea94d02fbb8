"""A skewed scan is turned level when it is read, and the level copy becomes the page's image:
each line's box is upright around one line, and the crop a labeler sees (and a release exports)
is the crop Tesseract read. A page whose lines people have typed keeps its image and lines."""

from __future__ import annotations

import io
from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from accounts.models import User
from labeling import ocr
from labeling.crops import PageCrops
from labeling.models import Document, Line, OcrStatus, Page, Transcription
from labeling.ottoman import cer
from labeling.reading import read_page
from labeling.synthetic import SAMPLE_LINES, render_page

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("needs_tesseract")]

TEXTS = SAMPLE_LINES[:5]


def skewed_page(owner: User, degrees: float) -> Page:
    image = render_page(TEXTS, width=1400).rotate(
        degrees, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=255
    )
    data = io.BytesIO()
    image.save(data, "PNG")
    doc = Document.objects.create(owner=owner, title="Skewed")
    page = Page(
        document=doc,
        number=1,
        sha256="b" * 64,
        width=image.width,
        height=image.height,
        source_name="skewed.png",
        ocr_status=OcrStatus.QUEUED,
    )
    page.image.save("skewed.png", ContentFile(data.getvalue()), save=False)
    page.save()
    return page


def test_a_skewed_scan_is_read_level_and_its_crops_are_what_was_read(
    user: User,
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    page = skewed_page(user, 2.0)
    original = page.image.name
    with django_capture_on_commit_callbacks(execute=True):
        read_page(page_id=page.pk)
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.DONE, page.ocr_error
    assert page.image.name != original and not default_storage.exists(original)
    assert abs(page.skew - 2.0) < 0.3
    with page.image.open("rb") as stored:
        level = Image.open(io.BytesIO(stored.read()))
        level.load()
    assert (page.width, page.height) == level.size
    lines = list(page.lines.order_by("order"))
    assert len(lines) == len(TEXTS)
    with page.image.open("rb") as stored:
        crops = PageCrops(stored.read())
    for line, text in zip(lines, TEXTS, strict=True):
        # Upright boxes around one line each: no taller than a line and a bit.
        assert line.height < 90, line.bbox
        assert cer(line.prediction, text) < 0.15, (line.prediction, text)
        shown = ocr.read_line(crops.png(line.bbox), language="ara")
        assert shown.text == line.prediction  # the crop people see is the crop that was read
    crops.close()


def test_a_straight_scan_keeps_its_image(user: User) -> None:
    page = skewed_page(user, 0.0)
    original = page.image.name
    read_page(page_id=page.pk)
    page.refresh_from_db()
    assert page.image.name == original and page.skew == 0.0
    assert page.lines.count() == len(TEXTS)


def test_a_page_whose_lines_people_typed_keeps_its_image_and_lines(
    user: User, read_document: Callable[..., Document]
) -> None:
    page = skewed_page(user, 2.0)
    kept = Line.objects.create(
        page=page, order=1, left=10, top=10, right=300, bottom=60, prediction="x", labels_wanted=1
    )
    Transcription.objects.create(line=kept, user=user, text="سلام", kept_prediction=False)
    original = page.image.name
    read_page(page_id=page.pk)
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.DONE
    assert page.image.name == original and page.skew == 0.0
    assert list(page.lines.values_list("pk", flat=True)) == [kept.pk]
    assert default_storage.exists(original)
