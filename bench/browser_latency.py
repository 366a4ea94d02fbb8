"""Save → next line, as a person feels it: Debian's Chromium on the line editor, PostgreSQL with
100,000 lines, the site served as in production.

Usage, from the repository root:
    .venv/bin/python bench/browser_latency.py [--lines 100000] [--saves 60] [--keep]

It drops and recreates a PostgreSQL database of its own (`ottoman_bench_latency`, through the
maintenance database of BENCH_ADMIN_URL), migrates it and loads one person's private documents
(25 lines a page) with INSERT … SELECT. The pages the bench visits each have their own scan (a
rendered 2400 × 3400 page, as a 300 dpi A4 scan is); the others point at one shared file. The
site runs as the README's production section runs it: gunicorn (2 workers × 4 threads, one per
core), DEBUG off, static files collected and served by WhiteNoise, Redis as the cache. Chromium
signs in, opens the first line and presses Enter --saves times, each time --think-ms (1 s) after
the line was shown, as a person reads before saving (nobody saves within a second, and the wait
is the same for every variant): each time from the key press until the next line is shown with
its crop image decoded (`naturalWidth` > 0). Every variant does
the same saves on the same lines, in one run:

- `uncached_reload`: CROP_CACHE_SECONDS=0 (every crop cut from its scan) and the form sent the
  plain way, a page load per line: the site before the crop cache and the in-place save (but
  with the `<link rel=prefetch>` of the next crop, which all variants have);
- `cached_reload`: crops cut once a page and cached; still a page load per line;
- `cached_in_place`: the site as shipped: the line editor's script has fetched the next line's
  page and crop while the person typed, saves with fetch and shows that copy in place.

The first save of each variant opens a new page image, like the 24 later ones of a page that
follow it. The last line printed is one JSON object; its `save_next_p50_ms` and
`save_next_p95_ms` are the site as shipped.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.queue_load import (  # noqa: E402 (after the path)
    drop_database,
    insert_pages,
    insert_select,
    percentile,
    recreate_database,
)
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402 (the test browser's flags)

DATABASE = "ottoman_bench_latency"
LINES_PER_PAGE = 25
PAGES_PER_DOCUMENT = 40
VISITED_PAGES = 4
EMAIL = "bench@example.org"
PASSWORD = "latency-bench-2026"


def scan_png() -> bytes:
    """A page of rendered lines at the size of a 300 dpi A4 scan."""
    from labeling.synthetic import SAMPLE_LINES, render_page

    page = render_page(list(SAMPLE_LINES) * 2, width=2400).resize((2400, 3400)).convert("RGB")
    out = io.BytesIO()
    page.save(out, "PNG")
    return out.getvalue()


def load(lines: int, media: Path) -> int:
    """The person, their documents, pages and lines; returns the first visited line's id."""
    from allauth.account.models import EmailAddress
    from django.db import connection

    from accounts.models import User
    from labeling.models import Document, Line

    person = User.objects.create_user(EMAIL, PASSWORD)
    EmailAddress.objects.create(user=person, email=EMAIL, verified=True, primary=True)
    pages = -(-lines // LINES_PER_PAGE)
    documents = -(-pages // PAGES_PER_DOCUMENT)
    Document.objects.bulk_create(
        Document(owner=person, title=f"Bench {n}") for n in range(documents)
    )
    data = scan_png()
    (media / "pages" / "bench").mkdir(parents=True, exist_ok=True)
    for n in range(VISITED_PAGES):
        (media / "pages" / "bench" / f"visited-{n}.png").write_bytes(data)
    (media / "pages" / "bench" / "shared.png").write_bytes(data)
    first_page = insert_pages(
        pages=pages,
        per_document=PAGES_PER_DOCUMENT,
        image=(
            f"CASE WHEN g < {VISITED_PAGES} THEN 'pages/bench/visited-' || g || '.png' "
            "ELSE 'pages/bench/shared.png' END"
        ),
        width=2400,
        height=3400,
    )
    insert_select(
        Line,
        f"generate_series(1, {lines}) g",
        {
            "page": f"{first_page} + (g - 1) / {LINES_PER_PAGE}",
            "order": f"mod(g - 1, {LINES_PER_PAGE}) + 1",
            "left": "100",
            "top": f"200 + mod(g - 1, {LINES_PER_PAGE}) * 120",
            "right": "2300",
            "bottom": f"290 + mod(g - 1, {LINES_PER_PAGE}) * 120",
            "prediction": "'كتاب عثمانلی'",
            "confidence": "80",
            "status": "'open'",
            "labels_wanted": "1",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return int(Line.objects.filter(page_id=first_page, order=1).values_list("pk", flat=True)[0])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    """gunicorn on the port, as the README's production section runs it (one worker a core)."""
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "ottoman_ocr.wsgi",
            *("--workers", "2", "--threads", "4", "--bind", f"127.0.0.1:{port}"),
        ],
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return server
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("the site did not start within 60 s")


def measure(
    base: str, first_line: int, saves: int, *, in_place: bool, think_ms: int
) -> list[float]:
    """Milliseconds from Enter to the next line shown with its crop decoded."""
    from playwright.sync_api import sync_playwright

    timings: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        if not in_place:  # the line editor's script then sends the form the plain way
            page.add_init_script("window.ottomanFullReload = true")
        page.set_default_timeout(30_000)
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=login]", EMAIL)
        page.fill("input[name=password]", PASSWORD)
        page.get_by_role("button", name="Sign In").click()
        page.wait_for_url("**/documents/")
        page.goto(f"{base}/lines/{first_line}/")
        crop_ready = (
            "() => { const img = document.getElementById('line-crop');"
            " return img && img.complete && img.naturalWidth > 0; }"
        )
        page.wait_for_function(crop_ready)
        for _ in range(saves):
            before = page.url
            page.locator("#id_text").focus()
            page.wait_for_timeout(think_ms)
            started = time.perf_counter()
            page.keyboard.press("Enter")
            page.wait_for_url(lambda url: url != before)  # noqa: B023 - waited for at once
            page.wait_for_function(crop_ready)
            timings.append((time.perf_counter() - started) * 1000)
        browser.close()
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--saves", type=int, default=60)
    parser.add_argument("--think-ms", type=int, default=1000)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print("bench/browser_latency.py skipped: it needs Debian's chromium")
        print(json.dumps({"skipped": "no /usr/bin/chromium"}))
        return
    var_dir = Path(tempfile.mkdtemp(prefix="ottoman-latency-"))
    url = recreate_database(DATABASE)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "ottoman_ocr.settings",
        "DJANGO_DEBUG": "false",
        "DJANGO_SECURE_SSL_REDIRECT": "false",  # plain http on the loopback, no TLS proxy
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_SECRET_KEY": "bench-only-" + "x" * 50,
        "OTTOMAN_VAR_DIR": str(var_dir),
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5"),
        "CELERY_TASK_ALWAYS_EAGER": "true",
    }
    os.environ.update(env)
    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command

    figures: dict[str, Any] = {
        "lines": args.lines,
        "saves": args.saves,
        "think_ms": args.think_ms,
    }
    try:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        first_line = load(args.lines, var_dir / "media")
        print(f"{args.lines} lines loaded in {time.perf_counter() - started:.0f} s")
        call_command("collectstatic", "--no-input", verbosity=0)
        variants = (
            ("uncached_reload", "0", False),
            ("cached_reload", "86400", False),
            ("cached_in_place", "86400", True),
        )
        for variant, seconds, in_place in variants:
            cache.clear()
            port = free_port()
            server = serve({**env, "CROP_CACHE_SECONDS": seconds}, port)
            try:
                timings = measure(
                    f"http://127.0.0.1:{port}",
                    first_line,
                    args.saves,
                    in_place=in_place,
                    think_ms=args.think_ms,
                )
            finally:
                server.terminate()
                server.wait(timeout=30)
            p50, p95 = percentile(timings, 0.5), percentile(timings, 0.95)
            print(f"{variant:15} save → next line shown: p50 {p50:.0f} ms, p95 {p95:.0f} ms")
            figures[f"{variant}_p50_ms"] = round(p50, 1)
            figures[f"{variant}_p95_ms"] = round(p95, 1)
            # The same lines again for the next variant: every save made them read.
            from labeling.models import Transcription

            Transcription.objects.all().delete()
            from labeling.models import Line

            Line.objects.filter(status="agreed").update(status="open", consensus_text="")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(DATABASE)
        shutil.rmtree(var_dir, ignore_errors=True)
    figures["save_next_p50_ms"] = figures["cached_in_place_p50_ms"]
    figures["save_next_p95_ms"] = figures["cached_in_place_p95_ms"]
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
