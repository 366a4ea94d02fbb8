"""The tutorial in Debian's Chromium: a new contributor finds it from the empty queue, sends
Tesseract's reading unchanged and is told "Not quite", fixes the letter with the on-screen
Ottoman keyboard and is told "Right"; then the same on a 390 px phone, by touch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling import tutorial
from tests.conftest import PASSWORD

pytestmark = pytest.mark.e2e

STEP_1 = tutorial.STEPS[0]


def sign_in(page: Page, base_url: str, email: str) -> None:
    """Through allauth's own sign-in form."""
    page.goto(f"{base_url}/accounts/login/")
    page.fill("input[name=login]", email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/documents/")


def expect_line_image_loaded(page: Page) -> None:
    page.wait_for_function(
        "() => { const img = document.getElementById('tutorial-line');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )


def key(page: Page, char: str):  # type: ignore[no-untyped-def]
    """A key of the on-screen Ottoman keyboard, by the character it types."""
    return page.locator(f'#ottoman-keyboard button[data-char="{char}"]')


def test_a_newcomer_fixes_the_first_practice_line_with_the_on_screen_keyboard(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    person = make_user("newcomer@example.org")
    page = open_page(1280, 900)
    sign_in(page, live_server.url, person.email)

    # The empty queue offers the tutorial; it is not in the way.
    page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Label", exact=True
    ).click()
    page.wait_for_url("**/label/")
    page.get_by_role("link", name="Try three practice lines (2 minutes)").click()
    page.wait_for_url("**/tutorial/")
    page.get_by_role("link", name="Start with line 1").click()
    page.wait_for_url("**/tutorial/1/")
    expect_line_image_loaded(page)
    text = page.locator("#id_text")
    expect(text).to_have_value(STEP_1.reading)
    expect(text).to_be_focused()

    # Sent as Tesseract read it (Enter): not quite, with the wrong letter shown.
    page.keyboard.press("Enter")
    expect(page.locator("#grade")).to_have_text("Not quite")
    expect(page.locator("#difference mark")).to_have_text("ف")
    expect(page.locator("#difference del")).to_have_text("ق")
    screenshot(page, "tutorial-not-quite-1280")

    # The last letter is the wrong one: ⌫ and ق on the on-screen keyboard, then Save.
    expect(text).to_have_value(STEP_1.reading)
    page.locator('#ottoman-keyboard button[data-action="backspace"]').click()
    key(page, "ق").click()
    expect(text).to_have_value(STEP_1.answer)
    page.locator("#save-button").click()
    expect(page.locator("#grade")).to_have_text("Right")
    screenshot(page, "tutorial-right-1280")
    page.locator("#next-step").click()
    page.wait_for_url("**/tutorial/2/")
    expect_line_image_loaded(page)
    person.refresh_from_db()
    assert person.tutorial_done_at is None  # only the third line finishes it


def test_the_practice_line_works_by_touch_on_a_390_px_phone(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    person = make_user("phone@example.org")
    page = open_page(390, 844, is_mobile=True, has_touch=True)
    sign_in(page, live_server.url, person.email)
    page.goto(f"{live_server.url}/tutorial/1/")  # goto waits for the load event
    expect_line_image_loaded(page)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "sideways scroll"

    page.locator('#ottoman-keyboard button[data-action="backspace"]').tap()
    key(page, "ق").tap()
    expect(page.locator("#id_text")).to_have_value(STEP_1.answer)
    page.locator("#save-button").tap()
    expect(page.locator("#grade")).to_have_text("Right")
    page.wait_for_load_state("load")  # measured with the stylesheets and the image in place
    assert page.evaluate("document.documentElement.scrollWidth") <= 390 + 1, "sideways scroll"
    screenshot(page, "tutorial-right-390")
