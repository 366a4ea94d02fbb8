"""A real Celery worker process, on Redis and PostgreSQL, reads an uploaded page."""

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, OcrStatus
from ottoman_ocr.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]
BROKER = os.environ.get("TEST_CELERY_BROKER_URL", "")


@pytest.fixture
def worker_broker() -> Iterator[str]:
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL); make test sets it when one answers on :5432")
    if not BROKER:
        pytest.skip(
            "needs Redis (TEST_CELERY_BROKER_URL); make test sets it when one answers on :6379"
        )
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)
    celery_app.conf.broker_url = BROKER
    celery_app.conf.task_always_eager = False
    forget_connections()
    yield BROKER
    forget_connections()
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved


def forget_connections() -> None:
    # The app keeps its producer pool from the first send; a new broker URL needs a new one.
    if celery_app._pool is not None:
        celery_app._pool.force_close_all()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def worker(worker_broker: str, transactional_db: None) -> Iterator[subprocess.Popen[bytes]]:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ottoman_ocr.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": worker_broker,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OTTOMAN_VAR_DIR": str(settings.VAR_DIR),  # the same media folder as this process
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ottoman_ocr",
            "worker",
            "--queues",
            "ocr,default",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    yield process
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.worker
def test_a_real_worker_reads_an_uploaded_page(
    worker: subprocess.Popen[bytes],
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    response = client_for(user).post(
        reverse("labeling:upload"),
        {"title": "Worker", "visibility": "private", "scans": [page_png()]},
    )
    assert response.status_code == 302
    page = Document.objects.get(title="Worker").pages.get()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and page.ocr_status not in (OcrStatus.DONE, OcrStatus.FAILED):
        time.sleep(0.1)
        page.refresh_from_db()
        assert worker.poll() is None, worker.stdout.read().decode() if worker.stdout else ""
    if page.ocr_status != OcrStatus.DONE:
        worker.terminate()
        output = worker.communicate(timeout=20)[0].decode(errors="replace")
        pytest.fail(f"page is {page.ocr_status} ({page.ocr_error}); worker said:\n{output[-3000:]}")
    assert page.lines.count() == 3
