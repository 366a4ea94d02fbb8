"""The OpenAPI 3 schema, its docs page from our own static files, and schemathesis run against
the live server: no server error, every response as the schema says."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.contrib.staticfiles import finders
from rest_framework.test import APIClient

from accounts.models import User
from api.tokens import create_token

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


def test_the_schema_is_openapi_3_with_every_endpoint(db: None) -> None:
    answer = APIClient().get("/api/v1/schema/")
    assert answer.status_code == 200
    schema = yaml.safe_load(answer.content)
    assert schema["openapi"].startswith("3.")
    for path in (
        "/api/v1/auth/token/",
        "/api/v1/documents/{id}/",
        "/api/v1/pages/{id}/boxes/{action}/",
        "/api/v1/lines/{id}/transcription/",
        "/api/v1/queue/{assignment}/submit/",
        "/api/v1/training-runs/{id}/",
    ):
        assert path in schema["paths"]
    assert schema["components"]["securitySchemes"]["tokenAuth"]["in"] == "header"


def test_the_docs_page_loads_swagger_ui_from_our_own_static_files(db: None) -> None:
    page = APIClient().get("/api/v1/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    assert "https://" not in page
    # The files are in the package, found by collectstatic like our own.
    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


@pytest.fixture
def fuzzed_data(
    make_user: Callable[..., User], read_document: Callable[..., Any], pool_lines: Callable
) -> str:
    """A superuser with a document of their own and a pool to label: their token. (A
    superuser, not the staff group: live-server tests flush the database, and with it the
    groups the migrations made, when they run after another live-server test; and a superuser
    reaches every endpoint.)"""
    person = make_user("fuzz@example.org")
    person.is_staff = person.is_superuser = True
    person.save()
    read_document(owner=person)
    pool_lines()
    return create_token(user=person, name="schemathesis")[1]


@pytest.mark.skipif(not SCHEMATHESIS.exists(), reason="schemathesis is not installed")
def test_schemathesis_finds_no_server_error_and_no_response_off_the_schema(
    live_server: Any, fuzzed_data: str, settings: Any, tmp_path: Path
) -> None:
    settings.API_THROTTLE_USER_RATE = settings.API_THROTTLE_ANON_RATE = ""
    examples = os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "10")
    started = time.monotonic()
    run = subprocess.run(
        [
            str(SCHEMATHESIS),
            "run",
            f"{live_server.url}/api/v1/schema/",
            "--header",
            f"Authorization: Token {fuzzed_data}",
            "--checks",
            CHECKS,
            "--mode",
            "positive",
            "--max-examples",
            examples,
            "--seed",
            "1",
            "--workers",
            "1",
            "--exclude-operation-id",
            "auth_token_destroy",  # revoking the run's own token would end the run
            "--report",
            "ndjson",
            "--report-ndjson-path",
            str(tmp_path / "events.ndjson"),
            "--warnings",
            "off",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,  # its .hypothesis and .schemathesis folders stay out of the tree
        env={**os.environ, "NO_COLOR": "1", "SCHEMATHESIS_HOOKS": ""},
        check=False,
    )
    seconds = time.monotonic() - started
    print(run.stdout[-4000:])
    print(f"schemathesis: {seconds:.1f} s")
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "No issues found" in run.stdout
    counts = re.search(r"(\d+) generated, (\d+) passed", run.stdout)
    assert counts is not None and counts.group(1) == counts.group(2)
    assert int(counts.group(1)) > 100
    assert re.search(r"Tested: 26\b", run.stdout)  # every operation but revoking the token
