"""A web request in a process of its own: upload files as a person, maybe dying on the way.

Run by tests/processes.py `run_dying_request` with the test's database and media folder.
Environment: UPLOAD_USER (e-mail), UPLOAD_FILES (paths, os.pathsep-separated), UPLOAD_TITLE,
DIE_AT ("" | "after_commit": SIGKILL once the upload's transaction has committed, before its
work reaches the broker | "second_file": SIGKILL once the second file is in storage, before
any row is written). Prints one JSON line: status, seconds, peak memory growth.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import sys
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ottoman_ocr.test_settings")
os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
django.setup()

from django.core.files.storage import default_storage  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from accounts.models import User  # noqa: E402
from labeling import jobs  # noqa: E402


def die() -> None:
    sys.stdout.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    die_at = os.environ.get("DIE_AT", "")
    if die_at == "after_commit":
        jobs.send = lambda *args, **kwargs: die()  # type: ignore[assignment]
    elif die_at == "second_file":
        save = default_storage.save
        calls = []

        def save_then_die(name: str, content: object, **kwargs: object) -> str:
            stored = save(name, content, **kwargs)  # type: ignore[arg-type]
            calls.append(stored)
            if len(calls) == 2:
                die()
            return stored

        default_storage.save = save_then_die  # type: ignore[method-assign]

    client = Client()
    client.force_login(User.objects.get(email=os.environ["UPLOAD_USER"]))
    files = [
        SimpleUploadedFile(Path(path).name, Path(path).read_bytes())
        for path in os.environ["UPLOAD_FILES"].split(os.pathsep)
    ]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    response = client.post(
        reverse("labeling:upload"),
        {
            "title": os.environ.get("UPLOAD_TITLE", "Upload"),
            "visibility": "private",
            "scans": files,
        },
    )
    seconds = time.perf_counter() - started
    grown_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    print(
        json.dumps(
            {"status": response.status_code, "seconds": seconds, "peak_growth_mb": grown_kb / 1024}
        )
    )


if __name__ == "__main__":
    main()
