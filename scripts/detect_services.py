"""Print shell exports pointing the tests at PostgreSQL and Redis when they answer here.

`make test` evals this. CI machines run both, so the suite runs on them there (Redis
databases 14 and 15, which the tests flush); on a machine without them it falls back to
SQLite and local memory, and the tests that need them skip.
"""

import os
import socket


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def main() -> None:
    if "DATABASE_URL" not in os.environ and answers("127.0.0.1", 5432):
        print("export DATABASE_URL=postgres://postgres@127.0.0.1:5432/test")
    if "REDIS_URL" not in os.environ and answers("127.0.0.1", 6379):
        print("export REDIS_URL=redis://127.0.0.1:6379/14")
        print("export TEST_CELERY_BROKER_URL=redis://127.0.0.1:6379/15")


if __name__ == "__main__":
    main()
