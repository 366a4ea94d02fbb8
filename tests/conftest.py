"""Fixtures shared by the suite: people, documents with read pages, and test scans."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from accounts.groups import make_contributor
from accounts.models import User
from labeling import ocr
from labeling.models import Document, Line, LineStatus, OcrModel, OcrStatus, Page

pytest_plugins = ["tests.processes"]

SHARED = Path(__file__).resolve().parents[2] / "shared"
PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def needs_tesseract() -> None:
    if shutil.which("tesseract") is None or "ara" not in ocr.installed_languages():
        pytest.skip("Tesseract with the Arabic (ara) pack is not installed (make run installs it)")


@pytest.fixture(autouse=True)
def _clear_cache() -> Iterator[None]:
    # allauth's rate limits count in the cache; each test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _mail_through_the_outbox(settings: Any) -> None:
    # pytest-django's test environment sends mail straight to locmem; the site sends it through
    # the outbox and a task (delivered to locmem in tests: EMAIL_DELIVERY_BACKEND).
    settings.EMAIL_BACKEND = "labeling.mail.OutboxBackend"


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(email: str | None = None, *, verified: bool = True) -> User:
        email = email or f"person{next(counter)}@example.org"
        user = User.objects.create_user(email=email, password=PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=verified, primary=True)
        if verified:
            make_contributor(user=user)
        return user

    return make


@pytest.fixture
def user(make_user: Callable[..., User]) -> User:
    return make_user("ayse@example.org")


@pytest.fixture
def other_user(make_user: Callable[..., User]) -> User:
    return make_user("mehmet@example.org")


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    def make(person: User) -> Client:
        client = Client()
        client.force_login(person)
        return client

    return make


def png_bytes(width: int = 400, height: int = 120, color: int = 255) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (width, height), color).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
def page_png() -> Callable[..., SimpleUploadedFile]:
    """A small rendered Ottoman page as an upload."""
    from labeling import synthetic

    def make(lines: tuple[str, ...] | None = None, name: str = "page.png") -> SimpleUploadedFile:
        image = synthetic.render_page(lines or synthetic.SAMPLE_LINES[:3], width=1200)
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")

    return make


def read_page(doc: Document, lines: list[tuple[str, float]], *, source_name: str) -> list[Line]:
    """Page 1 of the document, already read by Tesseract into these (prediction, confidence)
    lines, 60 px apart on a blank scan."""
    page = Page(
        document=doc,
        number=1,
        sha256=f"{doc.pk:064x}",
        width=400,
        height=60 * len(lines),
        source_name=source_name,
        ocr_status=OcrStatus.DONE,
        ocr_model=OcrModel.default(),
    )
    page.image.save(f"test-{doc.pk}.png", ContentFile(png_bytes(400, 60 * len(lines))), save=False)
    page.save()
    in_pool = doc.visibility == "pool"
    return [
        Line.objects.create(
            page=page,
            order=order,
            left=10,
            top=(order - 1) * 60 + 5,
            right=390,
            bottom=order * 60 - 5,
            prediction=prediction,
            confidence=confidence,
            status=LineStatus.OPEN,
            in_pool=in_pool,
            labels_wanted=doc.labels_needed if in_pool else 1,
        )
        for order, (prediction, confidence) in enumerate(lines, start=1)
    ]


@pytest.fixture
def read_document(user: User) -> Callable[..., Document]:
    """A document whose one page is already read, with the given predictions as lines."""

    def make(
        owner: User | None = None, predictions: tuple[str, ...] = ("سلام", "كتاب")
    ) -> Document:
        doc = Document.objects.create(owner=owner or user, title="Test document")
        read_page(doc, [(text, 80.0) for text in predictions], source_name="scan.png")
        return doc

    return make


@pytest.fixture
def pool_lines(make_user: Callable[..., User]) -> Callable[..., list[Line]]:
    """Pool lines with the given confidences (one page), owned by a separate uploader."""

    def make(
        confidences: tuple[float, ...] = (50.0, 20.0, 80.0),
        *,
        owner: User | None = None,
        prediction: str = "كتاب",
        **document_fields: object,
    ) -> list[Line]:
        doc = Document.objects.create(
            owner=owner or make_user(),
            title="Pool document",
            visibility="pool",
            license="cc-by-4.0",
            **document_fields,
        )
        return read_page(doc, [(prediction, c) for c in confidences], source_name="pool.png")

    return make
