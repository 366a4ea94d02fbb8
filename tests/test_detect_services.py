"""scripts/detect_services.py: in CI the services are waited for and required; elsewhere the
suite falls back to what answers. Run as `make test` runs it: a separate process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "detect_services.py"
VARIABLES = ("DATABASE_URL", "REDIS_URL", "TEST_CELERY_BROKER_URL", "TEST_AMQP_BROKER_URL", "CI")
DEFAULT_PORTS = {"PostgreSQL": 5432, "Redis": 6379, "RabbitMQ": 5672}


def clean_env(**env: str) -> dict[str, str]:
    """This process's environment without the service variables, plus the given ones."""
    return {**{k: v for k, v in os.environ.items() if k not in VARIABLES}, **env}


def detect(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT)],
        env=clean_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


@contextmanager
def closed_ports(count: int) -> Iterator[list[int]]:
    """Ports bound here but never listening: connecting is refused, and nobody else gets them."""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        yield [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def needs_live_services() -> None:
    missing = [name for name, port in DEFAULT_PORTS.items() if not listening(port)]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} on 127.0.0.1 at the default ports")


@contextmanager
def late_forwarder(*, to_port: int, after: float) -> Iterator[int]:
    """A port that starts listening only after `after` seconds, then relays to `to_port`."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        port = reserved.getsockname()[1]
    stop = threading.Event()

    def pipe(source: socket.socket, target: socket.socket) -> None:
        with closing(source), closing(target):
            while data := source.recv(65536):
                target.sendall(data)

    def serve() -> None:
        if stop.wait(after):
            return
        with socket.socket() as server:
            server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            server.bind(("127.0.0.1", port))
            server.listen()
            server.settimeout(0.2)
            while not stop.is_set():
                try:
                    client, _ = server.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(("127.0.0.1", to_port))
                for source, target in ((client, upstream), (upstream, client)):
                    threading.Thread(target=pipe, args=(source, target), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        thread.join()


def test_in_ci_it_fails_naming_every_service_that_never_answered() -> None:
    with closed_ports(3) as (pg, redis, amqp):
        started = time.monotonic()
        done = detect(
            CI="1",
            SERVICES_WAIT_SECONDS="2",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg}/test",
            REDIS_URL=f"redis://127.0.0.1:{redis}/14",
            TEST_AMQP_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{amqp}//",
        )
        waited = time.monotonic() - started
    assert done.returncode == 1
    assert done.stdout == ""
    assert "never answered within 2 s" in done.stderr
    for name, port in (("PostgreSQL", pg), ("Redis", redis), ("RabbitMQ", amqp)):
        assert f"{name} at 127.0.0.1:{port}:" in done.stderr
    assert waited >= 2, "it gave up without waiting"
    assert done.stderr.count("Waiting for PostgreSQL") >= 2, "it asked only once"


def test_in_ci_it_waits_for_a_service_that_answers_late() -> None:
    needs_live_services()
    with late_forwarder(to_port=6379, after=2.5) as port:
        started = time.monotonic()
        done = detect(CI="1", SERVICES_WAIT_SECONDS="30", REDIS_URL=f"redis://127.0.0.1:{port}/14")
        waited = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert waited >= 2.5
    assert f"Waiting for Redis (127.0.0.1:{port})" in done.stderr
    assert "REDIS_URL" not in done.stdout  # already set: the tests use that one


def test_in_ci_it_exports_every_live_service_including_rabbitmq() -> None:
    needs_live_services()
    done = detect(CI="1", SERVICES_WAIT_SECONDS="10")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test",
        "export REDIS_URL=redis://127.0.0.1:6379/14",
        "export TEST_CELERY_BROKER_URL=redis://127.0.0.1:6379/15",
        "export TEST_AMQP_BROKER_URL=amqp://guest:guest@127.0.0.1:5672//",
    ]


def test_on_a_developer_machine_it_falls_back_at_once_to_what_answers() -> None:
    with closed_ports(3) as (pg, redis, amqp):
        started = time.monotonic()
        done = detect(
            DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg}/test",
            REDIS_URL=f"redis://127.0.0.1:{redis}/14",
            TEST_AMQP_BROKER_URL=f"amqp://guest:guest@127.0.0.1:{amqp}//",
        )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""
    assert time.monotonic() - started < 10


def test_make_test_fails_when_a_service_never_answers_in_ci() -> None:
    with closed_ports(1) as (pg,):
        done = subprocess.run(
            # Only the test recipe: the packages, the venv and the lints are taken as done.
            [
                *("make", "--no-print-directory", "-o", "system-packages-test", "-o", "check"),
                *("-o", ".venv/.installed", "-o", ".venv/.installed-dev", "test"),
            ],
            cwd=ROOT,
            env=clean_env(
                CI="1",
                SERVICES_WAIT_SECONDS="1",
                DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg}/test",
                PYTEST_ARGS="--collect-only -q tests/test_env.py",
            ),
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert done.returncode != 0
    assert f"PostgreSQL at 127.0.0.1:{pg}:" in done.stderr
    assert "test_env.py::" not in done.stdout, "pytest ran without the services"
