"""Tesseract reads uploaded pages through the task: statuses on the page, lines stored."""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import reading
from labeling.models import Document, OcrModel, OcrStatus, Page
from labeling.tasks import ocr_page
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db


def upload(client: Client, file: SimpleUploadedFile, capture: Callable) -> Document:  # type: ignore[type-arg]
    with capture(execute=True):
        response = client.post(
            reverse("labeling:upload"),
            {"title": "Okunacak", "visibility": "private", "scans": [file]},
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Document.objects.get(title="Okunacak")


def test_an_uploaded_page_is_read_into_lines(
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    client = client_for(user)
    doc = upload(client, page_png(), django_capture_on_commit_callbacks)
    page = doc.pages.get()
    assert page.ocr_status == OcrStatus.DONE, page.ocr_error
    assert page.ocr_model == OcrModel.default()
    lines = list(page.lines.order_by("order"))
    assert len(lines) == 3
    assert all(line.prediction and 0 <= line.confidence <= 100 for line in lines)
    assert [line.top for line in lines] == sorted(line.top for line in lines)
    status = client.get(reverse("labeling:document_status", args=[doc.pk])).json()
    assert status["pages_read"] == 1 and status["pending"] == 0 and status["lines"] == 3


def test_a_failed_page_shows_the_error_and_can_be_retried(
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    OcrModel.objects.update(is_default=False)
    OcrModel.objects.create(name="Missing", language="xyz_missing", is_default=True)
    client = client_for(user)
    doc = upload(client, page_png(), django_capture_on_commit_callbacks)
    page = doc.pages.get()
    assert page.ocr_status == OcrStatus.FAILED
    assert "xyz_missing" in page.ocr_error
    body = client.get(reverse("labeling:document", args=[doc.pk])).content.decode()
    assert "xyz_missing" in body and "Retry" in body

    Page.objects.filter(pk=page.pk).update(ocr_model=OcrModel.objects.get(language="ara"))
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("labeling:page_retry", args=[page.pk]))
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.DONE
    assert page.lines.count() == 3


def test_running_the_task_again_keeps_peoples_work(
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    doc = upload(client_for(user), page_png(), django_capture_on_commit_callbacks)
    line = doc.pages.get().lines.first()
    save_transcription(line=line, user=user, text="دوزلتلمش")
    ocr_page(doc.pages.get().pk)
    assert doc.pages.get().lines.first().transcriptions.get().text == "دوزلتلمش"


def test_the_task_is_quiet_when_the_page_is_gone() -> None:
    ocr_page(987654)  # no exception, nothing to do


def test_an_uploaded_model_file_is_copied_to_the_worker_cache(tmp_path, settings) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.base import ContentFile

    settings.OCR_MODEL_CACHE_DIR = tmp_path
    model = OcrModel(name="Uploaded", language="ota_test")
    model.traineddata.save("ota_test.traineddata", ContentFile(b"model bytes"), save=True)
    folder = reading.model_tessdata_dir(model)
    assert folder is not None
    assert (folder / "ota_test.traineddata").read_bytes() == b"model bytes"


def test_a_worker_reads_an_uploaded_model_from_storage_once(  # type: ignore[no-untyped-def]
    tmp_path, settings, monkeypatch
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    settings.OCR_MODEL_CACHE_DIR = tmp_path
    model = OcrModel(name="Big model", language="ota_big")
    model.traineddata.save("ota_big.traineddata", ContentFile(b"x" * 100_000), save=True)
    opened: list[str] = []
    real_open = default_storage._open

    def counting_open(name: str, mode: str = "rb"):  # type: ignore[no-untyped-def]
        opened.append(name)
        return real_open(name, mode)

    monkeypatch.setattr(default_storage, "_open", counting_open)
    first = reading.model_tessdata_dir(OcrModel.objects.get(pk=model.pk))
    for _ in range(5):  # five more pages read with it
        assert reading.model_tessdata_dir(OcrModel.objects.get(pk=model.pk)) == first
    assert opened == [model.traineddata.name]
