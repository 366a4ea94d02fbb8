"""Fixtures for the client tests: a live server with the API, and the installed `ottoman-ocr`.

The command line runs as its own process (the console script pip installed from client/),
against pytest-django's live server, where Celery runs eagerly: an upload is read by Tesseract
before its request answers.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from tests.conftest import PASSWORD

CLI = Path(sys.executable).with_name("ottoman-ocr")


@pytest.fixture
def api_server(live_server: LiveServer) -> str:
    """The live server's address, once the API is in the tree."""
    if not (Path(__file__).resolve().parents[2] / "api" / "urls.py").exists():
        pytest.skip("the REST API (api/urls.py) is not in the tree")
    return str(live_server.url)


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest.fixture
def cli_for(tmp_path: Path, api_server: str) -> Callable[[str], Callable[..., Ran]]:
    """cli_for(person)(*args, input=None, server=None): `ottoman-ocr` with that person's own
    config folder (their token), against the live server unless told otherwise."""
    if not CLI.exists():
        pytest.skip(f"{CLI} is missing: pip install -e client[desktop]")

    def person(name: str) -> Callable[..., Ran]:
        home = tmp_path / name
        home.mkdir(exist_ok=True)

        def run(*args: str, input: str | None = None, server: str | None = None) -> Ran:
            env = {
                **os.environ,
                "XDG_CONFIG_HOME": str(home / "config"),
                "OTTOMAN_OCR_SERVER": server or api_server,
                "COLUMNS": "250",  # rich wraps at the terminal's width; keep messages whole
                "PYTHONIOENCODING": "utf-8",
            }
            done = subprocess.run(
                [str(CLI), *args],
                input=input,
                capture_output=True,
                text=True,
                encoding="utf-8",
                env=env,
                cwd=home,
                timeout=300,
            )
            return Ran(done.returncode, done.stdout, done.stderr)

        return run

    return person


@pytest.fixture
def signed_in(cli_for: Callable[[str], Callable[..., Ran]]) -> Callable[[User], Callable[..., Ran]]:
    """signed_in(user): the command line of a person who ran `ottoman-ocr login`."""

    def sign_in(user: User) -> Callable[..., Ran]:
        run = cli_for(user.email)
        ran = run("login", "--email", user.email, "--password-stdin", input=PASSWORD + "\n")
        assert ran.code == 0, ran.err
        return run

    return sign_in
