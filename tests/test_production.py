"""The README's production section, run as written by scripts/production_check.py: gunicorn,
an OCR worker, a mail worker and beat on PostgreSQL, Redis, S3 (moto) and SMTP (aiosmtpd),
with a person signing up, uploading, reading and mailing a document through real HTTP."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "production_check.py"
STEPS = (
    "services",
    "deploy",
    "start",
    "sign_up",
    "verification_mail",
    "verify",
    "sign_in_limits",
    "sign_in",
    "upload",
    "ocr",
    "download",
    "email_text",
    "storage",
)


def production_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location("production_check", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.mark.worker
def test_the_readme_production_section_works_from_a_clean_install() -> None:
    if reasons := production_check().missing():
        pytest.skip("the production check needs " + "; ".join(reasons))

    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=600, check=False
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["ok"] is True
    assert set(STEPS) <= set(figures["seconds"]), output
    assert figures["bucket_objects"] >= 2  # the upload as it came and its page image
    assert figures["text_lines"] >= 2
