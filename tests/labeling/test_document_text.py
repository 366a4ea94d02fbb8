"""Getting the text back: the .txt download and the e-mail with the .txt attached."""

from collections.abc import Callable

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, OcrStatus, Page
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db


def test_the_download_has_corrections_where_made_and_tesseract_elsewhere(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document(predictions=("سلام", "كتاب", "قلم"))
    _, second, _ = doc.pages.get().lines.order_by("order")
    save_transcription(line=second, user=user, text="کتابلر")
    response = client_for(user).get(reverse("labeling:document_download", args=[doc.pk]))
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.splitlines() == [
        "Test document",
        "",
        "--- Page 1 (scan.png) ---",
        "سلام",
        "کتابلر",
        "قلم",
    ]


def test_another_persons_corrections_are_not_in_my_text(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
) -> None:
    doc = read_document()
    line = doc.pages.get().lines.first()
    save_transcription(line=line, user=other_user, text="باشقه")
    text = client_for(user).get(reverse("labeling:document_download", args=[doc.pk])).content
    assert "باشقه" not in text.decode()


def test_pages_not_read_yet_or_failed_say_so(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    Page.objects.create(
        document=doc,
        number=2,
        sha256="b" * 64,
        width=1,
        height=1,
        source_name="two.png",
        ocr_status=OcrStatus.QUEUED,
        image="x.png",
    )
    Page.objects.create(
        document=doc,
        number=3,
        sha256="c" * 64,
        width=1,
        height=1,
        source_name="three.png",
        ocr_status=OcrStatus.FAILED,
        ocr_error="Tesseract failed: boom",
        image="y.png",
    )
    text = (
        client_for(user).get(reverse("labeling:document_download", args=[doc.pk])).content.decode()
    )
    assert "--- Page 2 (two.png) ---\n[This page has not been read yet.]" in text
    assert "Tesseract failed: boom" in text


def test_email_me_sends_the_text_as_an_attachment(
    user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    doc = read_document()
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(user).post(reverse("labeling:document_email", args=[doc.pk]))
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ayse@example.org"]
    name, content, mimetype = message.attachments[0]
    assert name.endswith(".txt")
    assert "سلام" in (content.decode() if isinstance(content, bytes) else content)
    assert mimetype.startswith("text/plain")


def test_no_email_goes_to_an_unverified_address(
    make_user: Callable[..., User],
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    person = make_user("unverified@example.org", verified=False)
    doc = read_document(owner=person)
    with django_capture_on_commit_callbacks(execute=True):
        client_for(person).post(reverse("labeling:document_email", args=[doc.pk]))
    assert mail.outbox == []
