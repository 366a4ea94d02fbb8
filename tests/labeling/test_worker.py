"""Real Celery worker processes, on Redis and on RabbitMQ with PostgreSQL, read uploaded pages
— and lose none of them when the worker is killed or the broker forgets its messages."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, OcrStatus, Page, Transcription
from labeling.synthetic import SAMPLE_LINES
from labeling.tasks import ocr_page
from labeling.transcribing import save_transcription
from tests.processes import Worker, all_read, broker_url, empty_broker, wait_until

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=["redis", "amqp"])
def broker(request: pytest.FixtureRequest, use_broker: Callable[[str], None]) -> str:
    url = broker_url(request.param)
    empty_broker(url)
    use_broker(url)
    return url


def upload(client: Client, files: list[SimpleUploadedFile], title: str) -> Document:
    response = client.post(
        reverse("labeling:upload"), {"title": title, "visibility": "private", "scans": files}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Document.objects.get(title=title)


def test_a_real_worker_reads_an_uploaded_page(
    broker: str,
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    worker = start_worker(broker)
    document = upload(client_for(user), [page_png()], "Worker")
    wait_until(all_read(document, 1), timeout=60, what="reading the page", log=worker.log)
    assert document.pages.get().lines.count() == 3


def test_pages_a_killed_worker_was_reading_are_read_again_once_and_keep_peoples_work(
    broker: str,
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    tmp_path: Path,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    # A Tesseract that takes its time reading a page, so the worker dies while it reads.
    slow = tmp_path / "slow-tesseract"
    slow.write_text('#!/bin/sh\n[ "$1" = stdin ] && sleep 60\nexec tesseract "$@"\n')
    slow.chmod(0o755)
    first = start_worker(broker, TESSERACT_CMD=str(slow))
    files = [  # three different pages
        page_png(lines=tuple(SAMPLE_LINES[i : i + 3]), name=f"p{i}.png") for i in range(3)
    ]
    document = upload(client_for(user), files, "Killed")

    def two_running() -> bool:
        return document.pages.filter(ocr_status=OcrStatus.RUNNING).count() == 2

    wait_until(two_running, timeout=60, what="two pages running", log=first.log)
    first.kill()  # SIGKILL to the main process and its pool children
    empty_broker(broker)  # and the broker restarts without the messages
    assert document.pages.filter(ocr_status=OcrStatus.RUNNING).count() == 2

    second = start_worker(broker)
    wait_until(all_read(document, 3), timeout=90, what="reading every page", log=second.log)
    for page in document.pages.all():
        assert page.lines.count() == 3, page
        assert page.ocr_error == ""

    # A late duplicate of a page's task (the old message, redelivered) changes nothing.
    page = document.pages.order_by("number").first()
    assert page is not None
    line = page.lines.order_by("order").first()
    assert line is not None
    save_transcription(line=line, user=user, text="دوزلتلمش")
    lines_before = sorted(page.lines.values_list("pk", flat=True))
    Page.objects.filter(pk=page.pk).update(ocr_status=OcrStatus.QUEUED)  # as if never read
    ocr_page.apply_async((page.pk,))
    wait_until(
        lambda: Page.objects.get(pk=page.pk).ocr_status == OcrStatus.DONE,
        timeout=60,
        what="the duplicate run",
        log=second.log,
    )
    assert sorted(page.lines.values_list("pk", flat=True)) == lines_before
    assert Transcription.objects.get(line=line).text == "دوزلتلمش"
