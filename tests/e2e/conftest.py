"""Fixtures for the browser tests: Debian's Chromium driven by Playwright.

Playwright's own browser download does not work everywhere this suite runs, so the tests
launch /usr/bin/chromium (the Debian package `make test` installs) and skip without it.

Set E2E_SCREENSHOTS to a folder to keep full-page screenshots of what the tests visit.

Every step waits by Playwright's auto-waiting (actions, `wait_for_url`, `expect(...)`), never
by a fixed sleep, and all of them up to STEP_TIMEOUT_MS: a step that answers within it on a
loaded 2-core machine passes the first time, with no rerun to hide a real failure.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# One limit for every wait. `page.set_default_timeout` covers actions and navigation only;
# `expect(...)` has its own default of 5 s, which a page load after a POST (sign-up, a refused
# label shown again, the reload once OCR is done) can exceed on a loaded machine.
STEP_TIMEOUT_MS = 15_000
expect.set_options(timeout=STEP_TIMEOUT_MS)
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium for the module; closed before the next module's tests run.

    Playwright's sync API runs an event loop in this thread, and Django refuses ORM calls from
    a thread with a running loop (SynchronousOnlyOperation): the tests' own queries and the
    database flush after each test. So the loop, and the permission, last exactly as long as
    the browser, and no other module runs with either.
    """
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed (make test installs it)")
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as p:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """open_page(width, height, **context_options): a tab in a fresh browser profile.

    Every profile is closed after the test, passed or failed.
    """
    contexts: list[BrowserContext] = []

    def open_(width: int = 1280, height: int = 900, **options: Any) -> Page:
        context = browser.new_context(viewport={"width": width, "height": height}, **options)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], None]:
    """Save a full-page screenshot as $E2E_SCREENSHOTS/e2e-<name>.png, when that is set."""
    folder = os.environ.get("E2E_SCREENSHOTS")

    def take(page: Page, name: str) -> None:
        if folder:
            page.screenshot(path=str(Path(folder) / f"e2e-{name}.png"), full_page=True)

    return take
