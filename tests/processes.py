"""Real processes for the fault tests: Celery workers (with beat) on Redis or RabbitMQ, a web
request in a process of its own that dies at a chosen point, and an SMTP server.

Workers and the dying web process use the test database (committed data: the tests use
`transactional_db`) and the test's media folder, with job timings shortened so that recovery
shows in seconds (the same settings the test process gets through `fast_jobs`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from kombu import pools

from ottoman_ocr.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[1]

# Recovery in seconds rather than minutes, in every process of a fault test.
FAST_JOBS = {
    "JOB_HEARTBEAT_SECONDS": "0.3",
    "JOB_STALE_SECONDS": "2",
    "JOB_SEND_GRACE_SECONDS": "1",
    "JOB_RESEND_SECONDS": "3",
    "SWEEP_INTERVAL_SECONDS": "1",
    "ORPHAN_FILE_GRACE_SECONDS": "1",
    "JOB_RETRY_DELAY_SECONDS": "1",
    "EMAIL_RETRY_FIRST_SECONDS": "1",
    "EMAIL_RETRY_MAX_SECONDS": "2",
    "EMAIL_TIMEOUT": "2",
}

BROKERS = {
    "redis": os.environ.get("TEST_CELERY_BROKER_URL", ""),
    "amqp": os.environ.get("TEST_AMQP_BROKER_URL", ""),
}


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def broker_url(kind: str) -> str:
    """The broker for `kind`, or a skip saying what is missing."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL); make test sets it when one answers on :5432")
    url = BROKERS[kind]
    if kind == "amqp" and not url and answers("127.0.0.1", 5672):
        url = "amqp://guest:guest@127.0.0.1:5672//"
    if not url:
        pytest.skip(f"needs a {kind} broker (make test finds Redis on :6379, RabbitMQ on :5672)")
    return url


def empty_broker(url: str) -> None:
    """Drop every message: what a broker restart without persistence does."""
    if url.startswith("redis"):
        import redis

        redis.Redis.from_url(url).flushdb()
        return
    with celery_app.connection_for_write(url) as conn, conn.channel() as channel:
        for queue in ("ocr", "default", "exports"):
            with contextlib.suppress(Exception):  # not declared yet
                channel.queue_purge(queue)  # type: ignore[attr-defined]


def _reset_connections() -> None:
    # The app keeps its producer pool from the first send, and kombu keeps every pool in a
    # registry by connection: a new broker URL needs both emptied, or a closed pool comes back.
    pools.reset()
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def use_broker() -> Iterator[Callable[[str], None]]:
    """use_broker(url): this process sends tasks to that broker (not eagerly) until the test
    ends; then the app is as it was."""
    saved = (celery_app.conf.broker_url, celery_app.conf.task_always_eager)

    def use(url: str) -> None:
        celery_app.conf.broker_url = url
        celery_app.conf.task_always_eager = False
        _reset_connections()

    yield use
    celery_app.conf.broker_url, celery_app.conf.task_always_eager = saved
    _reset_connections()


@pytest.fixture
def fast_jobs(settings: Any) -> None:
    for name, value in FAST_JOBS.items():
        setattr(settings, name, float(value) if "." in value else int(value))


def child_env(**extra: str) -> dict[str, str]:
    """The environment of a child process sharing this test's database and media."""
    db = connection.settings_dict
    return {
        **os.environ,
        **FAST_JOBS,
        "DJANGO_SETTINGS_MODULE": "ottoman_ocr.test_settings",
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "OTTOMAN_VAR_DIR": str(settings.VAR_DIR),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


@dataclass
class Worker:
    """A Celery worker (main process and pool children in one process group)."""

    process: subprocess.Popen[bytes]
    output: list[str] = field(default_factory=list)

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and children, no goodbye."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=20)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=20)

    def log(self) -> str:
        return "".join(self.output[-200:])

    def wait_for(self, text: str, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.output):
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(f"worker never said {text!r}:\n{self.log()}")


@pytest.fixture
def start_worker(tmp_path: Path) -> Iterator[Callable[..., Worker]]:
    """start_worker(broker, queues=..., beat=True, **env): a real worker, stopped after the test."""
    workers: list[Worker] = []

    def start(broker: str, *, queues: str = "ocr,default", beat: bool = True, **env: str) -> Worker:
        command = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "ottoman_ocr",
            "worker",
            "--queues",
            queues,
            "--pool",
            "prefork",
            "--concurrency",
            "2",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--hostname",
            f"test{len(workers)}@%h",
        ]
        if beat:
            command += ["--beat", "--schedule", str(tmp_path / f"beat-{len(workers)}")]
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=child_env(CELERY_BROKER_URL=broker, **env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        worker = Worker(process)
        threading.Thread(target=_collect, args=(worker,), daemon=True).start()
        workers.append(worker)
        worker.wait_for("ready.")
        return worker

    yield start
    for worker in workers:
        worker.stop()


def _collect(worker: Worker) -> None:
    assert worker.process.stdout is not None
    for raw in worker.process.stdout:
        worker.output.append(raw.decode("utf-8", errors="replace"))


def wait_until(
    check: Callable[[], bool], *, timeout: float, what: str, log: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen within {timeout} s:\n{log()}")


def run_dying_request(script: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run tests/harness/<script> in a process of its own (it may die by SIGKILL)."""
    return subprocess.run(
        [sys.executable, str(ROOT / "tests" / "harness" / script)],
        cwd=ROOT,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def all_read(document: Any, pages: int) -> Callable[[], bool]:
    """A check for wait_until: the document has `pages` pages, all read by Tesseract."""
    from labeling.models import OcrStatus

    def check() -> bool:
        states = list(document.pages.values_list("ocr_status", flat=True))
        return len(states) == pages and set(states) == {OcrStatus.DONE}

    return check
