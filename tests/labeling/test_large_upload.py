"""A long PDF: the request only checks and stores it; a task splits it in short runs, with
progress on the document, pages numbered in order, each handed to Tesseract as it comes."""

import io
import time
from collections.abc import Callable

import pypdfium2 as pdfium
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image, ImageDraw

from accounts.models import User
from labeling.documents import split_source
from labeling.models import Document, OcrStatus, SplitStatus

pytestmark = pytest.mark.django_db
PAGES = 80


def a4_pdf(pages: int) -> bytes:
    """A PDF of blank A4 pages (2480 × 3508 px at 300 dpi): heavy to render, light to read."""
    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(595, 842).close()
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def test_a_200_page_a4_pdf_is_accepted_in_under_a_second(
    user: User,
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    # Rendering these 200 pages in the request took 23 s (gunicorn gives up at 30).
    monkeypatch.setattr("labeling.tasks.split_source.apply_async", lambda *a, **kw: None)
    upload = SimpleUploadedFile("book.pdf", a4_pdf(200))
    started = time.perf_counter()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(
            reverse("labeling:upload"),
            {"title": "A4 book", "visibility": "private", "scans": [upload]},
        )
    assert time.perf_counter() - started < 1.0
    assert response.status_code == 302
    source = Document.objects.get(title="A4 book").sources.get()
    assert (source.page_count, source.status) == (200, "queued")


def pdf_of(pages: int) -> bytes:
    """A PDF of small pages (one inch, 300 × 300 px at 300 dpi), each with its own mark."""
    images = []
    for number in range(pages):
        image = Image.new("L", (300, 300), 255)
        ImageDraw.Draw(image).rectangle((number, 10, number + 50, 60), fill=0)
        images.append(image)
    buffer = io.BytesIO()
    images[0].save(buffer, "PDF", resolution=300, save_all=True, append_images=images[1:])
    return buffer.getvalue()


def test_a_long_pdf_is_split_in_short_runs_with_progress_and_pages_in_order(
    user: User,
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    settings: object,
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    sent: dict[str, list[int]] = {"split": [], "ocr": []}
    monkeypatch.setattr(
        "labeling.tasks.split_source.apply_async", lambda args, **kw: sent["split"].append(args[0])
    )
    monkeypatch.setattr(
        "labeling.tasks.ocr_page.apply_async", lambda args, **kw: sent["ocr"].append(args[0])
    )
    client = client_for(user)
    upload = SimpleUploadedFile("book.pdf", pdf_of(PAGES))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("labeling:upload"),
            {"title": "Book", "visibility": "private", "scans": [upload]},
        )
    assert response.status_code == 302
    document = Document.objects.get(title="Book")
    source = document.sources.get()
    assert (source.page_count, source.status, document.pages.count()) == (PAGES, "queued", 0)
    assert sent["split"] == [source.pk]

    settings.SPLIT_BATCH_SECONDS = 0.2  # type: ignore[attr-defined]
    runs = 0
    while sent["split"]:
        with django_capture_on_commit_callbacks(execute=True):
            split_source(source_id=sent["split"].pop())
        runs += 1
        source.refresh_from_db()
        if source.status != SplitStatus.DONE:
            page = client.get(reverse("labeling:document", args=[document.pk])).content.decode()
            assert f"{source.pages_done} of {PAGES} pages prepared" in page
            status = client.get(reverse("labeling:document_status", args=[document.pk])).json()
            assert status["pages_to_split"] == PAGES - source.pages_done
    assert runs > 1  # it handed the rest on rather than running long
    assert source.status == SplitStatus.DONE
    pages = list(document.pages.order_by("number"))
    assert [p.number for p in pages] == list(range(1, PAGES + 1))
    assert [p.source_index for p in pages] == list(range(PAGES))
    assert {p.ocr_status for p in pages} == {OcrStatus.QUEUED}
    assert sorted(sent["ocr"]) == sorted(p.pk for p in pages)
