"""Uploads survive a web process that dies, a broker that is down and a failing commit hook;
storage never keeps a file that no row references."""

import io
import json
import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import files, recovery
from labeling.models import Document, Page, PendingFile, SourceFile, SplitStatus
from tests.processes import (
    Worker,
    all_read,
    broker_url,
    empty_broker,
    free_port,
    run_dying_request,
    wait_until,
)

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def stored() -> set[str]:
    root = Path(settings.MEDIA_ROOT)
    return {
        str(path.relative_to(root))
        for folder in ("pages", "uploads")
        for path in (root / folder).rglob("*")
        if path.is_file()
    }


def referenced() -> set[str]:
    return {
        *(str(name) for name in Page.objects.values_list("image", flat=True)),
        *(str(name) for name in SourceFile.objects.values_list("file", flat=True)),
    }


def write_pages(tmp_path: Path, page_png: Callable[..., SimpleUploadedFile], n: int) -> str:
    from labeling.synthetic import SAMPLE_LINES

    paths = []
    for i in range(n):
        upload = page_png(lines=tuple(SAMPLE_LINES[i : i + 3]), name=f"scan{i}.png")
        path = tmp_path / upload.name
        path.write_bytes(upload.read())
        paths.append(str(path))
    return ":".join(paths)


def test_pages_of_an_upload_whose_web_process_died_after_commit_are_read_without_retry(
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    tmp_path: Path,
    user: User,
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    broker = broker_url("redis")
    empty_broker(broker)
    died = run_dying_request(
        "upload.py",
        UPLOAD_USER=user.email,
        UPLOAD_FILES=write_pages(tmp_path, page_png, 2),
        UPLOAD_TITLE="Died after commit",
        DIE_AT="after_commit",
        CELERY_BROKER_URL=broker,
    )
    assert died.returncode == -9, died.stderr[-2000:]
    document = Document.objects.get(title="Died after commit")
    assert [s.enqueued_at for s in document.sources.all()] == [None, None]  # nothing sent

    worker = start_worker(broker)  # with beat: nobody presses Retry
    wait_until(all_read(document, 2), timeout=120, what="reading both pages", log=worker.log)
    assert all(page.lines.exists() for page in document.pages.all())


def test_an_upload_while_the_broker_is_down_is_stored_and_read_once_it_is_back(
    use_broker: Callable[[str], None],
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    broker = broker_url("redis")
    empty_broker(broker)
    use_broker(f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    client = client_for(user)
    response = client.post(
        reverse("labeling:upload"),
        {"title": "Broker down", "visibility": "private", "scans": [page_png()]},
        follow=True,
    )
    assert response.status_code == 200
    assert "reading starts by itself as soon as it is back" in response.content.decode()
    document = Document.objects.get(title="Broker down")
    source = document.sources.get()
    assert source.status == SplitStatus.QUEUED and source.enqueued_at is None
    assert Path(settings.MEDIA_ROOT, source.file.name).exists()

    # The same scan again points at the stored document, which is not broken.
    again = client.post(
        reverse("labeling:upload"),
        {"title": "Again", "visibility": "private", "scans": [page_png()]},
    )
    assert reverse("labeling:document", args=[document.pk]) in again.content.decode()

    use_broker(broker)
    worker = start_worker(broker)
    wait_until(all_read(document, 1), timeout=120, what="reading the page", log=worker.log)


def test_a_web_process_killed_mid_upload_leaves_no_file_for_long(
    fast_jobs: None,
    tmp_path: Path,
    user: User,
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    broker_url("redis")  # PostgreSQL for the child process
    before = stored()
    died = run_dying_request(
        "upload.py",
        UPLOAD_USER=user.email,
        UPLOAD_FILES=write_pages(tmp_path, page_png, 3),
        DIE_AT="second_file",
    )
    assert died.returncode == -9, died.stderr[-2000:]
    left = stored() - before
    assert len(left) == 2  # two files written, no row refers to them
    assert not Document.objects.exists()
    assert {p.name for p in PendingFile.objects.all()} == left

    import time

    time.sleep(1.1)  # the grace period (ORPHAN_FILE_GRACE_SECONDS) in fast_jobs
    recovery.sweep_everything()
    assert stored() - before == set()
    assert not PendingFile.objects.exists()


def test_a_failing_commit_hook_never_deletes_the_files_of_committed_rows(
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a hook that fails")

    monkeypatch.setattr("labeling.jobs.send", broken)
    before = stored()
    with caplog.at_level(logging.ERROR):
        response = client_for(user).post(
            reverse("labeling:upload"),
            {"title": "Hook", "visibility": "private", "scans": [page_png()]},
        )
    assert response.status_code == 302
    source = Document.objects.get(title="Hook").sources.get()
    assert source.file.name in stored()
    assert "a hook that fails" in caplog.text
    files.sweep_orphans(grace_seconds=0)
    assert stored() - before == {source.file.name} == referenced()


def blank_pdf(pages: int, width_pt: float, height_pt: float) -> bytes:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument.new()
    for _ in range(pages):
        pdf.new_page(width_pt, height_pt)
    buffer = io.BytesIO()
    pdf.save(buffer)
    pdf.close()
    return buffer.getvalue()


def test_a_pdf_of_four_59_megapixel_pages_costs_the_web_process_little_memory(
    tmp_path: Path, user: User
) -> None:
    broker_url("redis")  # PostgreSQL for the child process
    # 6600 × 8940 px at 300 dpi: 59 MP a page. Rendering them in the request cost 500+ MB.
    path = tmp_path / "big.pdf"
    path.write_bytes(blank_pdf(4, 6600 * 72 / 300, 8940 * 72 / 300))
    result = run_dying_request(
        "upload.py", UPLOAD_USER=user.email, UPLOAD_FILES=str(path), UPLOAD_TITLE="Big"
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["status"] == 302
    assert figures["peak_growth_mb"] < 60, figures
    source = Document.objects.get(title="Big").sources.get()
    assert (source.kind, source.page_count) == ("pdf", 4)
