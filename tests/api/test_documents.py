"""Documents through the API: list, upload (the site's checks and messages), status, text,
exports, delete; another person's document is a 404."""

from __future__ import annotations

import errno
import io
import zipfile
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from rest_framework.test import APIClient

from accounts.models import User
from labeling.forms import UploadForm
from labeling.models import Document, OcrStatus, Page, SourceFile, Transcription


def image_upload(name: str, size: tuple[int, int] = (300, 100)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def upload(client: APIClient, files: list[SimpleUploadedFile], **fields: str) -> Any:
    data = {"title": "Tarih-i Osmani", "visibility": "private", "scans": files, **fields}
    return client.post("/api/v1/documents/", data, format="multipart")


@pytest.fixture
def no_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("labeling.tasks.ocr_page.apply_async", lambda *args, **kwargs: None)


def test_the_list_has_my_documents_with_their_counts_and_a_cursor(
    user: User, other_user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    mine = [read_document(), read_document(predictions=("بر", "ایکی", "اوچ"))]
    read_document(owner=other_user)
    line = mine[1].pages.get().lines.first()
    Transcription.objects.create(line=line, user=user, text="بر", kept_prediction=True)
    client = api_for(user)
    first = client.get("/api/v1/documents/?page_size=1").json()
    assert [d["id"] for d in first["results"]] == [mine[1].pk]
    assert first["results"][0] == {
        "id": mine[1].pk,
        "title": "Test document",
        "visibility": "private",
        "license": "",
        "created_at": first["results"][0]["created_at"],
        "pages": 1,
        "pages_read": 1,
        "pages_failed": 0,
        "pending": 0,
        "lines": 3,
        "lines_done": 1,
    }
    assert first["previous"] is None
    second = client.get(first["next"]).json()
    assert [d["id"] for d in second["results"]] == [mine[0].pk]
    assert second["next"] is None


def test_an_upload_is_stored_and_its_status_shows_the_pages_waiting(
    user: User,
    api_for: Callable,
    no_ocr: None,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        answer = upload(api_for(user), [image_upload("a.png"), image_upload("b.png", (301, 100))])
    assert answer.status_code == 201, answer.content
    body = answer.json()
    doc = Document.objects.get(owner=user)
    assert body["id"] == doc.pk and body["title"] == "Tarih-i Osmani"
    # Answered before the files are cut into pages: both pages are still to prepare.
    assert body["pages"] == []
    assert [(s["name"], s["status"]) for s in body["sources"]] == [
        ("a.png", "queued"),
        ("b.png", "queued"),
    ]
    assert (body["page_count"], body["pending"], body["done"]) == (0, 2, False)
    assert body["duplicates"] == []
    status = api_for(user).get(f"/api/v1/documents/{doc.pk}/").json()
    assert [(p["number"], p["status"], p["width"]) for p in status["pages"]] == [
        (1, OcrStatus.QUEUED, 300),
        (2, OcrStatus.QUEUED, 301),
    ]
    assert status["pages"][0]["status_label"] == "Waiting to be read"
    assert (status["pending"], status["done"]) == (2, False)


@pytest.mark.parametrize(
    ("files", "fields", "field"),
    [
        ([], {}, "scans"),
        ([SimpleUploadedFile("bad.png", b"nope")], {}, "scans"),
        (["ok"], {"title": ""}, "title"),
        (["ok"], {"visibility": "pool"}, "license"),
        (["ok"], {"visibility": "pool", "license": "cc-by-4.0"}, "consent"),
        (["ok"], {"visibility": "everyone"}, "visibility"),
    ],
)
def test_a_bad_upload_gets_the_sites_messages_as_field_errors(
    user: User, api_for: Callable, files: list[Any], fields: dict[str, str], field: str
) -> None:
    scans = [image_upload("ok.png") if f == "ok" else f for f in files]
    answer = upload(api_for(user), scans, **fields)
    assert answer.status_code == 400
    data = {"title": "Tarih-i Osmani", "visibility": "private", **fields}
    form = UploadForm(data, {"scans": [image_upload("ok.png") if f == "ok" else f for f in files]})
    form.is_valid()
    assert answer.json()[field] == [str(m) for m in form.errors[field]]
    assert not Document.objects.exists() and not SourceFile.objects.exists()


def test_the_file_name_is_in_the_message_of_a_bad_file(user: User, api_for: Callable) -> None:
    answer = upload(api_for(user), [SimpleUploadedFile("scan-7.png", b"nope")])
    assert "scan-7.png" in answer.json()["scans"][0]


def test_too_many_files_are_refused_with_the_sites_message(
    user: User, api_for: Callable, settings: Any
) -> None:
    settings.UPLOAD_MAX_FILES = settings.DATA_UPLOAD_MAX_NUMBER_FILES = 2
    files = [image_upload(f"p{i}.png", (300 + i, 100)) for i in range(3)]
    answer = upload(api_for(user), files)
    assert answer.status_code == 400
    assert answer.json() == {"scans": ["Upload at most 2 files at a time."]}


def test_a_file_uploaded_before_is_refused_when_it_is_all_there_is(
    user: User, api_for: Callable, no_ocr: None, django_capture_on_commit_callbacks: Callable
) -> None:
    client = api_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert upload(client, [image_upload("a.png")]).status_code == 201
    again = upload(client, [image_upload("a.png")])
    assert again.status_code == 400
    assert again.json() == {"scans": ["Every file of this upload is already in your documents."]}
    with django_capture_on_commit_callbacks(execute=True):
        both = upload(client, [image_upload("a.png"), image_upload("c.png", (333, 100))])
    first_page = Page.objects.get(document__owner=user, width=300)
    assert both.json()["duplicates"] == [
        {"name": "a.png", "document": first_page.document_id, "page": first_page.pk}
    ]


def test_a_full_disk_is_a_503_and_keeps_nothing(
    user: User, api_for: Callable, monkeypatch: pytest.MonkeyPatch
) -> None:
    from django.core.files.storage import default_storage

    def full(name: str, content: object, **kwargs: object) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(default_storage, "save", full)
    answer = upload(api_for(user), [image_upload("a.png")])
    assert answer.status_code == 503
    assert "could not store your files" in answer.json()["detail"]
    assert not Document.objects.exists()


def test_upload_then_ocr_then_text(
    user: User,
    api_for: Callable,
    page_png: Callable,
    needs_tesseract: None,
    django_capture_on_commit_callbacks: Callable,
) -> None:
    client = api_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        answer = upload(client, [page_png(name="scan.png")])
    doc_id = answer.json()["id"]
    status = client.get(f"/api/v1/documents/{doc_id}/").json()
    assert status["done"] is True
    assert status["pages"][0]["status"] == OcrStatus.DONE
    assert status["pages"][0]["lines"] == status["lines"] == 3
    text = client.get(f"/api/v1/documents/{doc_id}/text")
    assert text.status_code == 200
    assert text["Content-Type"] == "text/plain; charset=utf-8"
    assert text["Content-Disposition"] == 'attachment; filename="tarih-i-osmani.txt"'
    body = text.content.decode("utf-8")
    assert body.startswith("Tarih-i Osmani\n\n--- Page 1 (scan.png) ---\n")
    predictions = list(
        Page.objects.get(document_id=doc_id).lines.values_list("prediction", flat=True)
    )
    assert all(p and p in body for p in predictions)


def test_text_is_the_persons_own_corrections(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    doc = read_document()
    line = doc.pages.get().lines.get(order=2)
    Transcription.objects.create(line=line, user=user, text="کتابلر", kept_prediction=False)
    body = api_for(user).get(f"/api/v1/documents/{doc.pk}/text").content.decode()
    assert body.splitlines()[3:5] == ["سلام", "کتابلر"]


@pytest.mark.parametrize(
    ("fmt", "xml"), [("page", "-page/page/0001.xml"), ("alto", "-alto/alto/0001.xml")]
)
def test_the_xml_exports_are_zips_of_the_pages(
    user: User, read_document: Callable[..., Document], api_for: Callable, fmt: str, xml: str
) -> None:
    doc = read_document()
    answer = api_for(user).get(f"/api/v1/documents/{doc.pk}/export/{fmt}")
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(b"".join(answer.streaming_content))).namelist()
    assert any(name.endswith(xml) for name in names)
    assert api_for(user).get(f"/api/v1/documents/{doc.pk}/export/hocr").status_code == 404


def test_delete_removes_the_document(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    doc = read_document()
    client = api_for(user)
    assert client.delete(f"/api/v1/documents/{doc.pk}/").status_code == 204
    assert not Document.objects.filter(pk=doc.pk).exists()
    assert client.get(f"/api/v1/documents/{doc.pk}/").status_code == 404


def test_a_pool_document_others_labelled_is_kept_with_a_409(
    user: User, other_user: User, pool_lines: Callable, api_for: Callable
) -> None:
    lines = pool_lines(owner=user)
    Transcription.objects.create(line=lines[0], user=other_user, text="کتاب", kept_prediction=True)
    doc = lines[0].page.document
    answer = api_for(user).delete(f"/api/v1/documents/{doc.pk}/")
    assert answer.status_code == 409
    assert "Other contributors have made 1 label" in answer.json()["detail"]
    assert Document.objects.filter(pk=doc.pk).exists()


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/v1/documents/{doc}/"),
        ("delete", "/api/v1/documents/{doc}/"),
        ("get", "/api/v1/documents/{doc}/text"),
        ("get", "/api/v1/documents/{doc}/export/page"),
        ("get", "/api/v1/pages/{page}/"),
        ("get", "/api/v1/pages/{page}/image"),
        ("post", "/api/v1/pages/{page}/boxes/undo/"),
        ("get", "/api/v1/lines/{line}/"),
        ("get", "/api/v1/lines/{line}/crop.png"),
        ("put", "/api/v1/lines/{line}/transcription/"),
        ("post", "/api/v1/lines/{line}/confirm/"),
    ],
)
def test_another_persons_private_rows_are_404(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    api_for: Callable,
    method: str,
    path: str,
) -> None:
    doc = read_document(owner=other_user)
    page = doc.pages.get()
    line = page.lines.first()
    url = path.format(doc=doc.pk, page=page.pk, line=line.pk)
    answer = getattr(api_for(user), method)(url, {"text": "x"}, format="json")
    assert answer.status_code == 404
    assert answer.json()["detail"]
    assert Document.objects.filter(pk=doc.pk).exists()
    assert not Transcription.objects.exists()
