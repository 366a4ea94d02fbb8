"""The main visit in Turkish and in English, on a 390 px phone, in Debian's Chromium: the
switcher, sign in, upload, the page, the line editor and the labelling queue.

Each run starts in a browser that asks for the other language and switches with the top
bar's switcher; switching while signed in is kept on the account.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling import synthetic
from labeling.models import Line, Transcription
from tests.conftest import PASSWORD
from tests.test_translations import turkish_catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("needs_tesseract", "turkish_catalogue")]
__all__ = ["turkish_catalogue"]  # the fixture, imported for this module's tests

WIDTH = 390
OCR_TIMEOUT_MS = 60_000


@dataclass(frozen=True)
class Words:
    """What a person sees in one language, as the tests look for it."""

    code: str
    browser_asks: str  # the browser's own language: the other one
    switch: str  # the switcher's button to this language
    sign_in: str
    sign_out: str
    upload_link: str
    private: str
    upload_button: str
    pages_read: str
    page_1: str
    correct_lines: str
    no_lines_checked: str
    one_line_checked: str
    label_link: str
    label_heading: str
    confirm: str
    nothing_left: str


TURKISH = Words(
    code="tr",
    browser_asks="en-US",
    switch="Türkçe",
    sign_in="Giriş Yap",
    sign_out="Çıkış yap",
    upload_link="Yükle",
    private="Özel (yalnızca ben)",
    upload_button="Yükle ve okut",
    pages_read="Tesseract'ın okuduğu sayfalar: 1 / 1",
    page_1="Sayfa 1",
    correct_lines="Satırları düzelt →",
    no_lines_checked="Kontrol ettiğiniz satırlar: 0 / 3",
    one_line_checked="Kontrol ettiğiniz satırlar: 1 / 3",
    label_link="Etiketle",
    label_heading="Bir satır etiketle",
    confirm="Tesseract'ın okumasını onayla",
    nothing_left="Şu anda etiketlenecek satır yok",
)
ENGLISH = Words(
    code="en",
    browser_asks="tr-TR",
    switch="English",
    sign_in="Sign In",
    sign_out="Sign out",
    upload_link="Upload",
    private="Private (only me)",
    upload_button="Upload and read",
    pages_read="Pages read by Tesseract: 1 of 1",
    page_1="Page 1",
    correct_lines="Correct lines →",
    no_lines_checked="0 / 3 lines checked by you",
    one_line_checked="1 / 3 lines checked by you",
    label_link="Label",
    label_heading="Label a line",
    confirm="Confirm Tesseract's reading",
    nothing_left="Nothing to label right now",
)


def scan_png() -> bytes:
    buffer = io.BytesIO()
    synthetic.render_page(synthetic.SAMPLE_LINES[:3], width=1200).save(buffer, "PNG")
    return buffer.getvalue()


def expect_language(page: Page, code: str) -> None:
    """The page is in that language, and fits the phone's width (longer words included)."""
    expect(page.locator("html")).to_have_attribute("lang", code)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, "sideways scroll"


def switch_language(page: Page, words: Words) -> None:
    page.get_by_role("navigation").get_by_role("button", name=words.switch, exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", words.code)


@pytest.mark.parametrize("words", [TURKISH, ENGLISH], ids=["turkish", "english"])
def test_the_main_visit_on_a_phone_in_each_language(
    words: Words,
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    tmp_path: Path,
    screenshot: Callable[[Page, str], None],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0  # the queue hands out the pool line, never a test line
    person = make_user("selim@example.org")
    (pool_line,) = pool_lines((40.0,), blind_share=0.0)  # shown with Tesseract's reading
    page = open_page(WIDTH, 844, is_mobile=True, has_touch=True, locale=words.browser_asks)

    # Signed out, the browser's language, then the switcher (a cookie).
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.locator("html")).to_have_attribute("lang", words.browser_asks[:2])
    switch_language(page, words)
    expect_language(page, words.code)
    page.fill("input[name=login]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name=words.sign_in).click()
    page.wait_for_url("**/documents/")
    expect(page.get_by_role("button", name=words.sign_out)).to_be_attached()
    expect_language(page, words.code)

    # Signed in, the switcher's choice is kept on the account: away and back again.
    other = ENGLISH if words is TURKISH else TURKISH
    switch_language(page, other)
    person.refresh_from_db()
    assert person.language == other.code
    switch_language(page, words)
    person.refresh_from_db()
    assert person.language == words.code

    # Upload: Tesseract reads the page.
    page.get_by_role("link", name=words.upload_link, exact=True).click()
    expect_language(page, words.code)
    page.fill("input[name=title]", f"Defter {words.code}")
    scan = tmp_path / "page.png"
    scan.write_bytes(scan_png())
    page.set_input_files("input[name=scans]", scan)
    page.get_by_label(words.private).check()
    page.get_by_role("button", name=words.upload_button).click()
    expect(page.locator("#ocr-progress")).to_contain_text(words.pages_read, timeout=OCR_TIMEOUT_MS)
    expect_language(page, words.code)
    screenshot(page, f"document-{words.code}-390")
    lines = list(Line.objects.filter(page__document__owner=person).order_by("order"))
    assert len(lines) == 3

    # The page, with its line boxes.
    page.get_by_role("link", name=words.page_1, exact=True).click()
    expect(page.locator("svg .line-box")).to_have_count(3)
    expect_language(page, words.code)
    screenshot(page, f"page-{words.code}-390")
    page.go_back()

    # The line editor: the Ottoman text stays right to left inside the page's language.
    page.get_by_role("link", name=words.correct_lines).click()
    page.wait_for_url(f"**/lines/{lines[0].pk}/")
    expect(page.locator("#line-progress")).to_have_text(words.no_lines_checked)
    text = page.locator("#id_text")
    expect(text).to_have_attribute("lang", "ota")
    expect(text).to_have_attribute("dir", "rtl")
    expect_language(page, words.code)
    screenshot(page, f"line-{words.code}-390")
    text.press("Enter")
    page.wait_for_url(f"**/lines/{lines[1].pk}/")
    expect(page.locator("#line-progress")).to_have_text(words.one_line_checked)
    assert Transcription.objects.filter(line=lines[0], user=person).exists()

    # The labelling queue: the pool line, confirmed; then nothing is left.
    page.get_by_role("navigation").get_by_role("link", name=words.label_link, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words.label_heading)
    expect_language(page, words.code)
    screenshot(page, f"label-{words.code}-390")
    page.get_by_role("button", name=words.confirm).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words.nothing_left)
    expect_language(page, words.code)
    assert Transcription.objects.filter(line=pool_line, user=person).exists()
