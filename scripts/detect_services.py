"""Print shell exports pointing the tests at PostgreSQL, Redis and RabbitMQ.

`make test` runs this and evals what it prints. On a developer's machine each service is
asked once, briefly; the ones that answer are used (Redis databases 14 and 15, which the
tests flush) and the tests that need a missing one skip, saying why.

In CI (CI=1, set by .ci/run) the services are required: each is asked again and again until
it answers or SERVICES_WAIT_SECONDS (120) have passed, and the script exits with status 1
naming every service that never answered, so the suite never quietly runs without them.

A service is asked at the address of its variable when that is already set (DATABASE_URL,
REDIS_URL, TEST_AMQP_BROKER_URL), else at its default address on 127.0.0.1.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

DEFAULT_WAIT_SECONDS = 120.0
ATTEMPT_SECONDS = 2.0
RETRY_SECONDS = 1.0


@dataclass(frozen=True)
class Service:
    name: str
    variable: str  # the variable the tests read the service's address from
    default_url: str
    default_port: int
    exports: tuple[tuple[str, str], ...]  # printed when it answers at its default address
    ask: Callable[[str], None]  # raises when the service does not answer at the URL

    @property
    def url(self) -> str:
        return os.environ.get(self.variable) or self.default_url

    def address(self) -> str:
        parts = urlsplit(self.url)
        return f"{parts.hostname or 'localhost'}:{parts.port or self.default_port}"


def ask_postgresql(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    # The maintenance database: the suite's own is created by the tests.
    with psycopg.connect(
        host=parts.hostname,
        port=parts.port,
        user=parts.username,
        password=parts.password,
        dbname="postgres",
        connect_timeout=int(ATTEMPT_SECONDS),
    ) as connection:
        connection.execute("SELECT 1")


def ask_redis(url: str) -> None:
    import redis

    client = redis.Redis.from_url(
        url, socket_connect_timeout=ATTEMPT_SECONDS, socket_timeout=ATTEMPT_SECONDS
    )
    try:
        client.ping()
    finally:
        client.close()


def ask_rabbitmq(url: str) -> None:
    from kombu import Connection

    with Connection(url, connect_timeout=ATTEMPT_SECONDS) as connection:
        connection.ensure_connection(max_retries=0)


SERVICES = (
    Service(
        name="PostgreSQL",
        variable="DATABASE_URL",
        default_url="postgres://postgres@127.0.0.1:5432/test",
        default_port=5432,
        exports=(("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test"),),
        ask=ask_postgresql,
    ),
    Service(
        name="Redis",
        variable="REDIS_URL",
        default_url="redis://127.0.0.1:6379/14",
        default_port=6379,
        exports=(
            ("REDIS_URL", "redis://127.0.0.1:6379/14"),
            ("TEST_CELERY_BROKER_URL", "redis://127.0.0.1:6379/15"),
        ),
        ask=ask_redis,
    ),
    Service(
        name="RabbitMQ",
        variable="TEST_AMQP_BROKER_URL",
        default_url="amqp://guest:guest@127.0.0.1:5672//",
        default_port=5672,
        exports=(("TEST_AMQP_BROKER_URL", "amqp://guest:guest@127.0.0.1:5672//"),),
        ask=ask_rabbitmq,
    ),
)


def answers(service: Service) -> str | None:
    """None when the service answers, else why not."""
    try:
        service.ask(service.url)
    except Exception as error:  # any failure to connect is "not yet"
        return " ".join(f"{type(error).__name__}: {error}".split())
    return None


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes", "on"}


def wait_seconds() -> float:
    raw = os.environ.get("SERVICES_WAIT_SECONDS", "").strip()
    try:
        return float(raw) if raw else DEFAULT_WAIT_SECONDS
    except ValueError:
        sys.exit(f"SERVICES_WAIT_SECONDS must be a number of seconds, not {raw!r}")


def wait_for(services: tuple[Service, ...], *, seconds: float) -> dict[Service, str]:
    """Ask every service until it answers or the time is up; what never answered, and why."""
    deadline = time.monotonic() + seconds
    missing = {service: "not asked yet" for service in services}
    while True:
        for service in list(missing):
            why = answers(service)
            if why is None:
                del missing[service]
            else:
                missing[service] = why
        if not missing or time.monotonic() >= deadline:
            return missing
        names = ", ".join(f"{s.name} ({s.address()})" for s in missing)
        print(f"Waiting for {names} ...", file=sys.stderr)
        time.sleep(min(RETRY_SECONDS, max(0.0, deadline - time.monotonic())))


def main() -> int:
    ci = in_ci()
    missing = wait_for(SERVICES, seconds=wait_seconds() if ci else 0.0)
    if ci and missing:
        print(
            "CI needs every service, and these never answered within "
            f"{wait_seconds():g} s (SERVICES_WAIT_SECONDS):",
            file=sys.stderr,
        )
        for service, why in missing.items():
            print(f"  {service.name} at {service.address()}: {why}", file=sys.stderr)
        return 1
    for service in SERVICES:
        if service not in missing and service.variable not in os.environ:
            for name, value in service.exports:
                print(f"export {name}={value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
