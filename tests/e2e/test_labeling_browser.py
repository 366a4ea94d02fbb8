"""The review queue in Debian's Chromium: two contributors label the same pool line at once,
their readings agree after Ottoman normalization, and the uploader sees the line agreed.

The pool lines are built in the database (no Tesseract needed) with blind_share=0.0, so every
lease shows Tesseract's reading and the Confirm button, and with no gold share, so the queue
hands out the lines in confidence order and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling.models import Assignment, AssignmentState, Line, LineStatus, Transcription
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

PREDICTION = "كتاب"  # Tesseract's reading, with the Arabic kaf (U+0643)
PERSIAN_KAF = "کتاب"  # the same word with the Persian keheh (U+06A9): agrees once normalized
LABEL = re.compile(r"/label/(\d+)/(\?.*)?$")


def sign_in(page: Page, base_url: str, email: str) -> None:
    """Through allauth's own sign-in form, as a returning contributor does."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/documents/")
    expect(page.get_by_role("button", name="Sign out")).to_be_attached()


def leased_line(page: Page) -> Line:
    """The line of the lease the page shows (its URL names the assignment)."""
    match = LABEL.search(page.url)
    assert match, page.url
    return Assignment.objects.select_related("line").get(pk=match.group(1)).line


def press_for_next_lease(page: Page, key: str) -> Line:
    """Send/Confirm with a key: wait for the redirect to a different lease, loaded with its
    deferred scripts (so Enter, Ctrl+Enter and Alt+S are wired up), and return its line."""
    before = page.url  # read before the key is pressed, so the redirect cannot race the read
    page.keyboard.press(key)
    page.wait_for_url(lambda url: url != before and LABEL.search(url) is not None)
    return leased_line(page)


def open_label_from_the_top_bar(page: Page) -> Line:
    top_bar = page.get_by_role("navigation", name="Main")
    top_bar.get_by_role("link", name="Label", exact=True).click()
    page.wait_for_url(LABEL)
    return leased_line(page)


def expect_crop_loaded(page: Page, line: Line) -> None:
    crop = page.locator("#line-crop")
    expect(crop).to_have_attribute(
        "src", f"{reverse('labeling:line_crop', args=[line.pk])}?box={line.crop_key}"
    )
    page.wait_for_function(
        "() => { const img = document.getElementById('line-crop');"
        " return img.complete && img.naturalWidth > 0; }"
    )


def expect_nothing_left(page: Page) -> None:
    page.wait_for_url("**/label/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing to label right now")


def test_two_contributors_agree_on_a_pool_line_and_the_uploader_sees_it(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    settings: Settings,
    screenshot: Callable[[Page, str], None],
) -> None:
    settings.REVIEW_GOLD_SHARE = 0
    owner = make_user("uploader@example.org")
    first, second = pool_lines((10.0, 60.0), owner=owner, prediction=PREDICTION, blind_share=0.0)
    alice = make_user("alice@example.org")
    bora = make_user("bora@example.org")

    desk = open_page(1280, 900)  # Alice, at a desk
    phone = open_page(375, 740, is_mobile=True, has_touch=True)  # Bora, on a phone
    sign_in(desk, live_server.url, alice.email)
    sign_in(phone, live_server.url, bora.email)

    # Both take the lowest-confidence line: it needs two labels, so both may hold it at once.
    assert open_label_from_the_top_bar(desk) == first
    assert open_label_from_the_top_bar(phone) == first
    for page in (desk, phone):
        expect_crop_loaded(page, first)
        expect(page.locator("#id_text")).to_have_value(PREDICTION)
        expect(page.locator("#confirm-button")).to_be_visible()
    screenshot(desk, "label-1280")
    screenshot(phone, "label-375")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375 + 1, "sideways scroll"

    # Alice keeps Tesseract's reading with Ctrl+Enter (the text box has the focus on a desk),
    # then skips the next line with Alt+S, Enter ("Illegible" is the first reason).
    text = desk.locator("#id_text")
    expect(text).to_be_focused()
    assert press_for_next_lease(desk, "Control+Enter") == second
    expect_crop_loaded(desk, second)
    desk.keyboard.press("Alt+S")
    expect(desk.locator("#skip-reason")).to_be_focused()
    expect(desk.locator("#skip-reason")).to_have_value("illegible")
    desk.keyboard.press("Enter")
    expect_nothing_left(desk)
    expect(desk.get_by_role("status")).to_contain_text(re.compile("skipped", re.IGNORECASE))

    # Bora types the word with the Persian kaf and sends it with Enter.
    text = phone.locator("#id_text")
    text.fill("")
    phone.keyboard.insert_text(PERSIAN_KAF)
    assert press_for_next_lease(phone, "Enter") == second

    first.refresh_from_db()
    assert (first.status, first.consensus_text, first.label_count) == (
        LineStatus.AGREED,
        PREDICTION,
        2,
    )
    assert set(Transcription.objects.filter(line=first).values_list("text", flat=True)) == {
        PREDICTION,
        PERSIAN_KAF,
    }
    assert Assignment.objects.get(line=second, user=alice).state == AssignmentState.SKIPPED

    # Latin letters are refused with the text kept, until Bora says the line really is Latin.
    text.fill("")
    phone.keyboard.insert_text("kitab")
    phone.keyboard.press("Enter")
    refusal = phone.locator("#refusal")
    expect(refusal).to_contain_text("Latin letters")
    expect(refusal).to_have_attribute("data-code", "latin")
    expect(text).to_have_value("kitab")
    screenshot(phone, "label-refused-375")
    assert not Transcription.objects.filter(line=second).exists()
    phone.get_by_label("Send it anyway").check()
    phone.locator("#save-button").click()
    expect_nothing_left(phone)
    assert Transcription.objects.get(line=second, user=bora).text == "kitab"

    # The uploader sees the agreement on the document page and on the page view.
    office = open_page(1280, 900)
    sign_in(office, live_server.url, owner.email)
    office.get_by_role("link", name="Pool document").click()
    office.wait_for_url(f"**/documents/{first.page.document_id}/")
    expect(office.locator(".line-states")).to_contain_text("In the pool: 1 agreed · 1 open")
    office.get_by_role("link", name="Page 1", exact=True).click()
    office.wait_for_url(f"**/pages/{first.page_id}/")
    rows = office.locator(".line-list li")
    expect(rows.nth(0).locator(".status")).to_have_text("Agreed")
    expect(rows.nth(1).locator(".status")).to_have_text("Open")
    screenshot(office, "page-pool-1280")
