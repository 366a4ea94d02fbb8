"""A contributor's whole visit, in Debian's Chromium: sign up, upload, correct, download.

Celery runs eagerly in tests and OCR is queued on commit, so the upload request returns after
Tesseract has read the page; the document page may still show "Waiting to be read" for one poll.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling import synthetic
from labeling.documents import Upload, create_document
from labeling.models import Line, Transcription
from labeling.ottoman import latin_to_ottoman

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("needs_tesseract")]

EMAIL = "zeynep@example.org"
PASSWORD = "a long enough passphrase 2026"
TITLE = "Tarih-i Osmani"
OCR_TIMEOUT_MS = 60_000

# Clicked on the on-screen keyboard, by each key's accessible name: یڭی كتاب ("new book").
CLICKED_KEYS = ("ye", "nef (sağır kef)", "ye", "space", "kef", "te", "elif", "be")
CLICKED_TEXT = "یڭی كتاب"
# Typed on the physical keyboard with the Latin toggle on: p q → پك, Q v z l → گوزل.
LATIN_KEYS = "pq Qvzl"
LATIN_TEXT = "پك گوزل"


def scan_png() -> bytes:
    """A printed page of three known Ottoman lines, as Tesseract would get it from a scanner."""
    buffer = io.BytesIO()
    synthetic.render_page(synthetic.SAMPLE_LINES[:3], width=1200).save(buffer, "PNG")
    return buffer.getvalue()


def line_url(line: Line) -> str:
    # wait_for_url waits for the page's load event: by then the deferred keyboard.js and
    # line-editor.js have run, so Enter, Alt+K and the on-screen keys are wired up.
    return f"**/lines/{line.pk}/"


def sign_up_and_verify(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/accounts/signup/")
    page.fill("input[name=email]", EMAIL)
    page.fill("input[name=password1]", PASSWORD)
    page.fill("input[name=password2]", PASSWORD)
    page.get_by_role("button", name="Sign Up").click()
    expect(page.get_by_role("heading", name="Verify Your Email Address")).to_be_visible()
    assert len(mail.outbox) == 1, "no verification e-mail was sent"
    assert mail.outbox[0].to == [EMAIL]
    # The link names the site's scheme and host (https in production settings); the path is
    # what the test can follow on the live server.
    link = re.search(r"/accounts/confirm-email/[^/\s]+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    page.goto(base_url + link.group(0))
    page.get_by_role("button", name="Confirm").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_a_contributor_signs_up_uploads_corrects_and_downloads_the_text(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    tmp_path: Path,
    screenshot: Callable[[Page, str], None],
) -> None:
    page = open_page(1280, 900)
    sign_up_and_verify(page, live_server.url)

    page.get_by_role("link", name="Upload", exact=True).click()
    page.fill("input[name=title]", TITLE)
    scan = tmp_path / "page.png"
    scan.write_bytes(scan_png())
    page.set_input_files("input[name=scans]", scan)
    page.get_by_label("Private").check()
    page.get_by_role("button", name="Upload and read").click()

    expect(page.locator("#ocr-progress")).to_contain_text(
        "Pages read by Tesseract: 1 of 1", timeout=OCR_TIMEOUT_MS
    )
    expect(page.locator(".page-item .status")).to_have_text("Read by Tesseract")
    expect(page.locator(".page-item")).to_contain_text("3 lines")
    screenshot(page, "document-1280")
    lines = list(Line.objects.filter(page__document__title=TITLE).order_by("order"))
    assert [line.order for line in lines] == [1, 2, 3]

    page.get_by_role("link", name="Page 1", exact=True).click()
    expect(page.locator("svg .line-box")).to_have_count(3)
    screenshot(page, "page-1280")
    page.go_back()

    # Line 1: the on-screen keyboard.
    page.get_by_role("link", name="Correct lines →").click()
    page.wait_for_url(line_url(lines[0]))
    expect(page.locator("#line-progress")).to_have_text("0 / 3 lines checked by you")
    expect(page.locator("#line-crop")).to_be_visible()
    text = page.locator("#id_text")
    expect(text).to_have_value(lines[0].prediction)
    screenshot(page, "line-1280")
    text.fill("")
    keyboard = page.locator("#ottoman-keyboard")
    for name in CLICKED_KEYS:
        keyboard.get_by_role("button", name=name, exact=True).click()
    expect(text).to_have_value(CLICKED_TEXT)
    page.keyboard.press("Enter")

    # Line 2: Latin keys typing Ottoman letters.
    page.wait_for_url(line_url(lines[1]))
    expect(page.locator("#line-progress")).to_have_text("1 / 3 lines checked by you")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Line 2")
    expect(text).to_have_value(lines[1].prediction)
    text.fill("")
    page.keyboard.press("Alt+K")
    expect(page.locator("#latin-toggle")).to_be_checked()
    page.keyboard.type(LATIN_KEYS)
    assert latin_to_ottoman(LATIN_KEYS) == LATIN_TEXT
    expect(text).to_have_value(LATIN_TEXT)
    page.keyboard.press("Enter")

    # Line 3: an edit, then Ctrl+Enter by mistake: the page asks instead of dropping the edit;
    # discarding it keeps Tesseract's reading.
    page.wait_for_url(line_url(lines[2]))
    expect(page.locator("#line-progress")).to_have_text("2 / 3 lines checked by you")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Line 3")
    page.keyboard.insert_text(" ب")
    page.keyboard.press("Control+Enter")
    expect(page.locator("#edit-pending")).to_contain_text("would throw your edit away")
    expect(text).to_have_value(f"{lines[2].prediction} ب")
    assert not Transcription.objects.filter(line=lines[2]).exists()
    page.get_by_role("button", name="Discard my edit and confirm Tesseract's reading").click()
    page.wait_for_url(f"**/documents/{lines[0].page.document_id}/")

    expect(page.get_by_role("status")).to_contain_text(
        "You have checked every line of this document"
    )
    expect(page.locator("#ocr-progress")).to_contain_text("Lines checked by you: 3 of 3")

    with page.expect_download() as download:
        page.get_by_role("link", name="Download .txt").click()
    assert download.value.suggested_filename == "tarih-i-osmani.txt"
    downloaded = Path(download.value.path()).read_text(encoding="utf-8")
    assert downloaded.splitlines() == [
        TITLE,
        "",
        "--- Page 1 (page.png) ---",
        CLICKED_TEXT,
        LATIN_TEXT,
        lines[2].prediction,
    ]

    saved = Transcription.objects.filter(user__email=EMAIL).order_by("line__order")
    assert [(t.text, t.kept_prediction) for t in saved] == [
        (CLICKED_TEXT, False),
        (LATIN_TEXT, False),
        (lines[2].prediction, True),
    ]


def fits_the_width(page: Page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width + 1


def test_a_phone_shows_the_line_editor_and_its_keyboard_without_sideways_scrolling(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    person = make_user(EMAIL)
    document = create_document(
        owner=person,
        title=TITLE,
        visibility="private",
        license="",
        uploads=[Upload.from_bytes(scan_png(), name="page.png")],
    ).document
    assert document is not None
    first = Line.objects.filter(page__document=document).order_by("order").first()
    assert first is not None, "Tesseract found no line on the rendered page"
    client = Client()
    client.force_login(person)

    page = open_page(375, 740, is_mobile=True, has_touch=True)
    page.context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )

    page.goto(f"{live_server.url}/documents/{document.pk}/")
    expect(page.locator(".page-item .status")).to_have_text(
        "Read by Tesseract", timeout=OCR_TIMEOUT_MS
    )
    screenshot(page, "document-375")
    assert fits_the_width(page, 375)

    page.goto(f"{live_server.url}/pages/{first.page_id}/")
    expect(page.locator("svg .line-box").first).to_be_visible()
    screenshot(page, "page-375")
    assert fits_the_width(page, 375)

    page.goto(f"{live_server.url}/lines/{first.pk}/")
    expect(page.locator("#id_text")).to_be_in_viewport()
    keyboard = page.locator("#ottoman-keyboard")
    expect(keyboard.get_by_role("button", name="elif", exact=True)).to_be_visible()
    expect(keyboard.get_by_role("button", name="backspace")).to_be_visible()
    screenshot(page, "line-375")
    assert fits_the_width(page, 375)
