"""The upload form: good scans are stored and split into queued pages; bad ones leave nothing."""

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from labeling.models import Document, OcrStatus, Page, SourceFile, SplitStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_ocr(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about storing and splitting uploads; OCR has its own tests.
    monkeypatch.setattr("labeling.tasks.ocr_page.apply_async", lambda *args, **kwargs: None)


@pytest.fixture(autouse=True)
def _after_commit(
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> Iterator[None]:
    # What happens once the upload commits (the split task, eager here) happens in each test.
    global _capture
    _capture = django_capture_on_commit_callbacks
    yield


_capture: Callable = None  # type: ignore[type-arg, assignment]


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(
        p for folder in ("pages", "uploads") for p in (root / folder).rglob("*") if p.is_file()
    )


def image_upload(
    name: str, fmt: str = "PNG", size: tuple[int, int] = (300, 100)
) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("L", size, 255).save(buffer, fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


def post(client: Client, files: list[SimpleUploadedFile], **fields: str):  # type: ignore[no-untyped-def]
    data = {"title": "Tarih-i Osmani", "visibility": "private", "scans": files, **fields}
    with _capture(execute=True):
        return client.post(reverse("labeling:upload"), data)


def test_it_stores_a_png_and_queues_it(user: User, client_for: Callable[[User], Client]) -> None:
    before = len(stored_files())
    response = post(client_for(user), [image_upload("page.png")])
    doc = Document.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("labeling:document", args=[doc.pk])
    source = doc.sources.get()
    assert (source.name, source.kind, source.page_count) == ("page.png", "png", 1)
    assert source.status == SplitStatus.DONE
    page = doc.pages.get()
    assert page.ocr_status == OcrStatus.QUEUED
    assert (page.width, page.height) == (300, 100)
    assert len(page.sha256) == 64
    assert len(stored_files()) == before + 2  # the file as uploaded, and its page


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
    assert not SourceFile.objects.exists()
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
    assert Document.objects.count() == 1


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
    assert "uploaded these files before" in page
    assert reverse("labeling:page", args=[first.pk]) in page


def test_another_persons_identical_page_is_not_revealed(
    user: User, other_user: User, client_for: Callable[[User], Client]
) -> None:
    post(client_for(other_user), [image_upload("page.png")])
    response = post(client_for(user), [image_upload("page.png")])
    assert response.status_code == 302
    assert Page.objects.count() == 2


def pdf_upload(name: str, pages: list[tuple[int, int]]) -> SimpleUploadedFile:
    """A PDF of blank pages of these sizes in points (its bytes differ with `name`)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for width, height in pages:
        pdf.new_page(width, height)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return SimpleUploadedFile(name, buffer.getvalue() + f"\n% {name}\n".encode())


def test_a_page_the_owner_has_inside_a_new_file_is_not_added_again(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    post(client, [pdf_upload("first.pdf", [(72, 72)])], title="First")
    response = post(client, [pdf_upload("second.pdf", [(72, 72), (72, 144)])], title="Second")
    assert response.status_code == 302
    second = Document.objects.get(title="Second")
    assert [(p.number, p.height) for p in second.pages.all()] == [(1, 600)]
    source = second.sources.get()
    assert source.duplicates == [[0, Document.objects.get(title="First").pages.get().pk]]
    body = client.get(response["Location"]).content.decode()
    assert "1 page you had already was not added again" in body


def test_more_files_than_allowed_are_refused_with_a_message(
    user: User, client_for: Callable[[User], Client], settings: object
) -> None:
    settings.UPLOAD_MAX_FILES = settings.DATA_UPLOAD_MAX_NUMBER_FILES = 3  # type: ignore[attr-defined]
    files = [image_upload(f"p{i}.png", size=(300 + i, 100)) for i in range(4)]
    response = post(client_for(user), files)
    assert response.status_code == 400
    assert "Upload at most 3 files at a time." in response.content.decode()
    assert not Document.objects.exists()


def test_a_full_disk_refuses_the_upload_clearly_and_keeps_nothing(
    user: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from django.core.files.storage import default_storage

    save = default_storage.save
    calls: list[str] = []

    def save_until_full(name: str, content: object, **kwargs: object) -> str:
        if calls:
            raise OSError(errno.ENOSPC, "No space left on device")
        calls.append(name)
        return save(name, content, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(default_storage, "save", save_until_full)
    before = len(stored_files())
    response = post(
        client_for(user), [image_upload("a.png"), image_upload("b.png", size=(301, 100))]
    )
    assert response.status_code == 503
    assert "could not store your files" in response.content.decode()
    assert calls  # the first file was written, then taken away again
    assert len(stored_files()) == before
    assert not Document.objects.exists()


def test_damage_found_only_when_the_pages_are_made_is_shown_on_the_document(
    user: User, client_for: Callable[[User], Client]
) -> None:
    # Whole to a cheap check (header and end marker intact), broken inside.
    good = image_upload("x.png", size=(400, 300)).read()
    start = good.index(b"IDAT") + 8
    broken = good[:start] + bytes(b ^ 0xFF for b in good[start : start + 40]) + good[start + 40 :]
    client = client_for(user)
    response = post(client, [SimpleUploadedFile("inside.png", broken)])
    assert response.status_code == 302
    source = SourceFile.objects.get()
    assert source.status == SplitStatus.FAILED
    assert "inside.png is damaged" in source.error
    body = client.get(response["Location"]).content.decode()
    assert "inside.png is damaged" in body
