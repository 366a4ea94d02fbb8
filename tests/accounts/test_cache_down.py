"""Signing in while the Redis cache is down: it works, and the rate limits still count."""

import logging
import time
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from tests.conftest import PASSWORD
from tests.processes import free_port

pytestmark = pytest.mark.django_db


@pytest.fixture
def redis_down(settings: object) -> None:
    settings.CACHES = {  # type: ignore[attr-defined]
        "default": {
            "BACKEND": "ottoman_ocr.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",  # nothing listens there
        }
    }


def test_signing_in_works_while_the_redis_cache_is_down(
    redis_down: None, make_user: Callable[..., User], caplog: pytest.LogCaptureFixture
) -> None:
    user = make_user("giris@example.org")
    started = time.perf_counter()
    with caplog.at_level(logging.WARNING):
        response = Client().post(
            reverse("account_login"), {"login": user.email, "password": PASSWORD}
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("labeling:documents")
    assert time.perf_counter() - started < 3
    assert "Redis cache unreachable" in caplog.text


def test_the_sign_in_rate_limit_still_counts_while_the_redis_cache_is_down(
    redis_down: None, make_user: Callable[..., User]
) -> None:
    user = make_user("tahmin@example.org")
    client = Client()
    pages = [
        client.post(
            reverse("account_login"), {"login": user.email, "password": "wrong guess"}
        ).content.decode()
        for _ in range(6)
    ]
    assert "Too many failed login attempts" not in pages[0]
    assert "Too many failed login attempts" in pages[-1]


def test_the_site_uses_the_resilient_cache_whenever_redis_is_configured() -> None:
    import os
    import subprocess
    import sys

    env = {**os.environ, "REDIS_URL": "redis://127.0.0.1:6379/0", "DJANGO_SECRET_KEY": "x" * 50}
    code = "from ottoman_ocr import settings; print(settings.CACHES['default']['BACKEND'])"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "ottoman_ocr.cache.ResilientRedisCache"
