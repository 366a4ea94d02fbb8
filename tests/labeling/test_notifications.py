""" "Your document has been read": once per reading, when its last page is read or failed,
with the text attached; never for lines re-read after box edits."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from email.header import decode_header, make_header
from typing import Any

import pytest
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from accounts.models import DocumentReadNotice, User
from labeling import jobs, ocr, reading
from labeling.models import Document, Line, OcrStatus, Page, SourceFile, SplitStatus
from labeling.notifications import document_read_if_finished, sweep_read_notices
from tests.labeling.test_mail import Inbox, smtp_port, smtp_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


def make_pages(document: Document, count: int) -> list[Page]:
    return [
        Page.objects.create(
            document=document,
            number=number,
            sha256=f"{document.pk:032x}{number:032x}",
            width=400,
            height=120,
            source_name=f"scan-{number}.png",
            image=f"pages/test-{number}.png",
        )
        for number in range(1, count + 1)
    ]


def reading_of(*texts: str) -> ocr.PageReading:
    return ocr.PageReading(
        width=400,
        height=120,
        lines=tuple(
            ocr.LineReading(ocr.BBox(10, 10 + 40 * i, 390, 45 + 40 * i), text, 90.0)
            for i, text in enumerate(texts)
        ),
        language="ara",
        seconds=0.1,
    )


@contextmanager
def committed(capture: Capture) -> Iterator[None]:
    """Run what waits for the commit (the notice, then the mail's task) as a real commit would."""
    with capture(execute=True):
        yield


def read(page: Page, *texts: str) -> None:
    lease = jobs.claim(Page, page.pk)
    assert lease is not None
    assert reading.store_reading(
        page_id=page.pk, lease=lease, reading=reading_of(*texts), model=None
    )


def fail(page: Page, message: str) -> None:
    lease = jobs.claim(Page, page.pk)
    assert lease is not None

    def broken() -> None:
        raise ocr.OcrError(message)

    reading._attempt(page.pk, lease, broken)


def notices_to(address: str) -> list[EmailMultiAlternatives]:
    return [m for m in mail.outbox if address in m.to]  # type: ignore[misc]


@pytest.fixture
def document(user: User) -> Document:
    return Document.objects.create(owner=user, title="Defter <i>1</i>")


def test_the_owner_is_told_once_when_the_last_page_is_read_or_failed(
    user: User, document: Document, django_capture_on_commit_callbacks: Capture
) -> None:
    first, second = make_pages(document, 2)
    with committed(django_capture_on_commit_callbacks):
        read(first, "سلام", "كتاب")
    assert mail.outbox == []  # page 2 still waits

    with committed(django_capture_on_commit_callbacks):
        fail(second, "Tesseract failed: boom")
    (notice,) = notices_to(user.email)
    assert notice.subject == "[Ottoman OCR] “Defter <i>1</i>” has been read"
    assert "2 pages" in notice.body and "2 lines" in notice.body
    assert "page 2 (scan-2.png): Tesseract failed: boom" in notice.body
    html, mimetype = notice.alternatives[0]
    assert mimetype == "text/html"
    assert "Defter &lt;i&gt;1&lt;/i&gt;" in html and "<i>1</i>" not in html
    assert 'dir="auto"' in html
    assert f"/documents/{document.pk}/" in notice.body
    (attachment,) = notice.attachments
    name, content, kind = attachment  # type: ignore[misc]
    assert isinstance(content, str)
    assert name.endswith(".txt") and kind.startswith("text/plain")
    assert "سلام\nكتاب" in content and "Tesseract could not read this page" in content

    # Called again (a duplicate hook, the sweep): nothing more.
    with committed(django_capture_on_commit_callbacks):
        assert document_read_if_finished(document.pk) is None
        assert sweep_read_notices() == 0
    assert len(notices_to(user.email)) == 1


def test_box_edits_tell_no_one_and_a_fresh_reading_of_the_whole_document_does(
    user: User, document: Document, django_capture_on_commit_callbacks: Capture
) -> None:
    first, second = make_pages(document, 2)
    with committed(django_capture_on_commit_callbacks):
        read(first, "سلام")
        read(second, "كتاب")
    assert len(notices_to(user.email)) == 1

    # A box edit: the page's lines are read again in their boxes, and the re-reading fails.
    Page.objects.filter(pk=first.pk).update(reread=True)
    Line.objects.filter(page=first).update(needs_reading=True)
    jobs.requeue(Page.objects.filter(pk=first.pk))
    with committed(django_capture_on_commit_callbacks):
        fail(first, "Tesseract failed once")
    jobs.requeue(Page.objects.filter(pk=first.pk))
    lease = jobs.claim(Page, first.pk)
    assert lease is not None
    line = Line.objects.get(page=first)
    lines = reading.LinesRead(
        boxes={line.pk: line.bbox},
        readings={line.pk: (line.bbox, ocr.LineReading(line.bbox, "سلام!", 95.0))},
        bands=[],
    )
    with committed(django_capture_on_commit_callbacks):
        assert reading.store_rereading(
            page_id=first.pk, lease=lease, lines=lines, model=None, seconds=0.1
        )
    # A fresh reading of one page of two is not a reading of the document either.
    Page.objects.filter(pk=first.pk).update(reread=False)
    jobs.requeue(Page.objects.filter(pk=first.pk))
    with committed(django_capture_on_commit_callbacks):
        read(first, "سلام")
    assert len(notices_to(user.email)) == 1

    # The whole document read afresh: told again, once, when its last page is done.
    jobs.requeue(Page.objects.filter(document=document))
    with committed(django_capture_on_commit_callbacks):
        read(first, "سلام")
        assert len(notices_to(user.email)) == 1
        read(second, "كتاب")
    assert len(notices_to(user.email)) == 2


def test_the_sweep_tells_the_owner_when_the_split_ended_after_the_last_page_was_read(
    user: User, document: Document, django_capture_on_commit_callbacks: Capture
) -> None:
    source = SourceFile.objects.create(
        document=document,
        position=1,
        name="scan.pdf",
        file="uploads/scan.pdf",
        kind="pdf",
        size=10,
        sha256="a" * 64,
        page_count=1,
        status=SplitStatus.RUNNING,
    )
    (page,) = make_pages(document, 1)
    with committed(django_capture_on_commit_callbacks):
        read(page, "سلام")
    assert mail.outbox == []  # the file was still being split: more pages might come

    SourceFile.objects.filter(pk=source.pk).update(status=SplitStatus.DONE)
    with committed(django_capture_on_commit_callbacks):
        assert sweep_read_notices() == 1
        assert sweep_read_notices() == 0
    assert len(notices_to(user.email)) == 1


def test_an_owner_without_a_verified_address_gets_nothing_now_or_later(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Capture
) -> None:
    owner = make_user("unverified@example.org", verified=False)
    document = Document.objects.create(owner=owner, title="Mektub")
    (page,) = make_pages(document, 1)
    with committed(django_capture_on_commit_callbacks):
        read(page, "سلام")
        sweep_read_notices()
    assert mail.outbox == []
    assert DocumentReadNotice.objects.get(document=document).sent_to == ""


def test_a_document_whose_every_page_failed_says_it_could_not_be_read(
    user: User, document: Document, django_capture_on_commit_callbacks: Capture
) -> None:
    (page,) = make_pages(document, 1)
    with committed(django_capture_on_commit_callbacks):
        fail(page, "Tesseract failed: no text")
    (notice,) = mail.outbox
    assert notice.subject == "[Ottoman OCR] “Defter <i>1</i>” could not be read"
    assert Page.objects.get(pk=page.pk).ocr_status == OcrStatus.FAILED


@pytest.fixture
def smtp_delivery(settings: Any, smtp_port: int) -> None:  # noqa: F811
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_USE_TLS = False


def test_the_notice_arrives_by_smtp_with_both_bodies_and_the_text_attached(
    user: User,
    document: Document,
    smtp_server: Callable[[], Inbox],  # noqa: F811
    smtp_delivery: None,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    inbox = smtp_server()
    (page,) = make_pages(document, 1)
    with committed(django_capture_on_commit_callbacks):
        read(page, "سلام")
    ((recipients, message),) = inbox.messages
    assert recipients == [user.email]
    assert str(make_header(decode_header(str(message["Subject"])))) == (
        "[Ottoman OCR] “Defter <i>1</i>” has been read"
    )
    found: dict[str, str] = {}
    for part in message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            kind = "attachment" if part.get_filename() else part.get_content_type()
            found[kind] = payload.decode(part.get_content_charset() or "utf-8")
    assert "1 page" in found["text/plain"] and "1 line" in found["text/plain"]
    assert "Defter &lt;i&gt;1&lt;/i&gt;" in found["text/html"]
    assert "سلام" in found["attachment"]
