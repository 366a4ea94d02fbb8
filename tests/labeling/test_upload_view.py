"""The upload form: good scans become a document with queued pages; bad ones leave nothing."""

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from labeling.models import Document, OcrStatus, Page

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about storing uploads; OCR has its own tests.
    monkeypatch.setattr("labeling.tasks.ocr_page.delay", lambda page_id: None)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT) / "pages"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def image_upload(
    name: str, fmt: str = "PNG", size: tuple[int, int] = (300, 100)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def post(client: Client, files: list[SimpleUploadedFile], **fields: str):  # type: ignore[no-untyped-def]
    data = {"title": "Tarih-i Osmani", "visibility": "private", "scans": files, **fields}
    return client.post(reverse("labeling:upload"), data)


def test_it_stores_a_png_and_queues_it(user: User, client_for: Callable[[User], Client]) -> None:
    before = len(stored_files())
    response = post(client_for(user), [image_upload("page.png")])
    doc = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("labeling:document", args=[doc.pk])
    page = doc.pages.get()
    assert page.ocr_status == OcrStatus.QUEUED
    assert (page.width, page.height) == (300, 100)
    assert len(page.sha256) == 64
    assert len(stored_files()) == before + 1


def test_it_takes_several_files_as_pages_in_order(
    user: User, client_for: Callable[[User], Client]
) -> None:
    post(
        client_for(user),
        [image_upload("a.png", size=(300, 100)), image_upload("b.jpg", "JPEG", (200, 90))],
    )
    pages = list(Document.objects.get().pages.order_by("number"))
    assert [(p.number, p.source_name) for p in pages] == [(1, "a.png"), (2, "b.jpg")]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.png", b"these are not pixels", "PNG, JPEG, TIFF"),
        ("empty.png", b"", "empty"),
        ("cut.png", None, "damaged"),
        ("photo.png", "jpeg", "JPEG"),
        ("broken.pdf", b"%PDF-1.7\n garbage garbage", "PDF"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(
    user: User, client_for: Callable[[User], Client], name: str, content: object, message: str
) -> None:
    if content is None:
        content = image_upload("x.png").read()[:60]
    elif content == "jpeg":
        content = image_upload("x.jpg", "JPEG").read()
    before = len(stored_files())
    upload = SimpleUploadedFile(name, content)  # type: ignore[arg-type]
    response = post(client_for(user), [upload])
    assert response.status_code == 200
    body = response.content.decode()
    assert message in body
    assert name in body
    assert not Document.objects.exists()
    assert not Page.objects.exists()
    assert len(stored_files()) == before


def test_one_bad_file_refuses_the_whole_upload(
    user: User, client_for: Callable[[User], Client]
) -> None:
    response = post(
        client_for(user), [image_upload("good.png"), SimpleUploadedFile("bad.png", b"nope")]
    )
    assert response.status_code == 200
    assert not Document.objects.exists()


def test_a_file_over_the_size_limit_is_refused(
    user: User, client_for: Callable[[User], Client], settings: object
) -> None:
    settings.UPLOAD_MAX_FILE_MB = 1  # type: ignore[attr-defined]
    noisy = Image.effect_noise((1200, 1200), 100)  # noise does not compress
    buffer = io.BytesIO()
    noisy.save(buffer, "PNG")
    assert buffer.tell() > 1024 * 1024
    response = post(client_for(user), [SimpleUploadedFile("big.png", buffer.getvalue())])
    assert response.status_code == 200
    assert "big.png" in response.content.decode()
    assert not Page.objects.exists()


def test_a_decompression_bomb_is_refused(
    user: User, client_for: Callable[[User], Client], settings: object
) -> None:
    settings.UPLOAD_MAX_PAGE_MEGAPIXELS = 1  # type: ignore[attr-defined]
    response = post(client_for(user), [image_upload("bomb.png", size=(2000, 1000))])
    assert response.status_code == 200
    assert "bomb.png" in response.content.decode()
    assert not Page.objects.exists()


def test_the_pool_needs_a_licence_and_consent(
    user: User, client_for: Callable[[User], Client]
) -> None:
    response = post(client_for(user), [image_upload("p.png")], visibility="pool")
    body = response.content.decode()
    assert response.status_code == 200
    assert "Choose a licence" in body
    assert "needs your consent" in body
    assert not Document.objects.exists()
    post(
        client_for(user),
        [image_upload("p.png")],
        visibility="pool",
        license="cc-by-4.0",
        consent="on",
    )
    doc = Document.objects.get()
    assert doc.visibility == "pool"
    assert doc.license == "cc-by-4.0"
    assert doc.pool_consent_at is not None


def test_the_same_page_again_is_reported_with_a_link(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    post(client, [image_upload("page.png")])
    first = Page.objects.get()
    response = post(client, [image_upload("again.png")], title="Again")
    assert response.status_code == 200
    body = response.content.decode()
    assert "already in your documents" in body
    assert reverse("labeling:page", args=[first.pk]) in body
    assert Page.objects.count() == 1


def test_a_known_page_among_new_ones_is_skipped_and_linked(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    post(client, [image_upload("page.png")])
    first = Page.objects.get()
    response = post(
        client, [image_upload("again.png"), image_upload("new.png", size=(310, 100))], title="Two"
    )
    assert response.status_code == 302
    doc = Document.objects.get(title="Two")
    assert [p.source_name for p in doc.pages.all()] == ["new.png"]
    page = client.get(response["Location"]).content.decode()
    assert "uploaded these pages before" in page
    assert reverse("labeling:page", args=[first.pk]) in page


def test_another_persons_identical_page_is_not_revealed(
    user: User, other_user: User, client_for: Callable[[User], Client]
) -> None:
    post(client_for(other_user), [image_upload("page.png")])
    response = post(client_for(user), [image_upload("page.png")])
    assert response.status_code == 302
    assert Page.objects.count() == 2
