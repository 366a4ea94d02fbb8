"""Save → next line in place, in Debian's Chromium: no page load between lines, the keyboard
and the progress follow, Back goes back, and a lost connection keeps the text."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, Route, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling.models import Document, Line, Transcription
from tests.conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, base: str, person: User) -> None:
    page.goto(f"{base}/accounts/login/")
    page.fill("input[name=login]", person.email)
    page.fill("input[name=password]", PASSWORD)
    page.get_by_role("button", name="Sign In").click()
    page.wait_for_url("**/documents/")


def test_save_shows_the_next_line_in_place_and_a_lost_connection_keeps_the_text(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    user: User,
    read_document: Callable[..., Document],
) -> None:
    doc = read_document(predictions=("سلام", "كتاب", "قلم"))
    first, second, third = doc.pages.get().lines.order_by("order")
    page = open_page(1280, 900)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/lines/{first.pk}/")
    page.evaluate("window.stillTheSamePage = true")

    page.locator("#id_text").press("Enter")
    page.wait_for_url(f"**/lines/{second.pk}/")
    expect(page.locator("#line-progress")).to_have_text("1 / 3 lines checked by you")
    expect(page.locator("#id_text")).to_have_value("كتاب")
    assert page.evaluate("window.stillTheSamePage === true"), "the next line was a page load"
    assert page.title().startswith("Line 2, page 1")
    crop = page.locator("#line-crop")
    assert f"/lines/{second.pk}/crop.png" in (crop.get_attribute("src") or "")
    page.wait_for_function("document.getElementById('line-crop').naturalWidth > 0")

    # The keyboard is wired to the new line's text box: a key typed on screen lands in it.
    text = page.locator("#id_text")
    text.fill("")
    page.locator("#ottoman-keyboard").get_by_role("button", name="be", exact=True).click()
    expect(text).to_have_value("ب")

    # The site cannot be reached: nothing is lost, and Enter tries again.
    def refuse(route: Route) -> None:
        route.abort() if route.request.method == "POST" else route.continue_()

    page.route("**/lines/**", refuse)
    text.press("Enter")
    expect(page.locator("#line-save-status")).to_contain_text("could not be reached")
    expect(text).to_have_value("ب")
    assert page.url.endswith(f"/lines/{second.pk}/")
    assert not Transcription.objects.filter(line=second).exists()
    page.unroute("**/lines/**", refuse)
    text.press("Enter")
    page.wait_for_url(f"**/lines/{third.pk}/")
    assert Transcription.objects.get(line=second, user=user).text == "ب"
    expect(page.locator("#line-progress")).to_have_text("2 / 3 lines checked by you")
    expect(page.locator("#line-save-status")).to_have_count(0)

    # Back: the line the address names, loaded as a page.
    page.go_back()
    page.wait_for_url(f"**/lines/{second.pk}/")
    expect(page.locator("#id_text")).to_have_value("ب")

    # A refused text: the same line again with the reason; nothing moves.
    page.goto(f"{live_server.url}/lines/{third.pk}/")
    page.locator("#id_text").fill("   ")
    page.locator("#id_text").press("Enter")
    expect(page.locator(".error[role=alert]")).to_be_visible()
    assert page.url.endswith(f"/lines/{third.pk}/")
    assert not Transcription.objects.filter(line=third).exists()


def test_the_labelling_queue_shows_the_next_line_in_place(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    user: User,
    pool_lines: Callable[..., list[Line]],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0  # only the two pool lines, never a test line
    lines = pool_lines((40.0, 30.0), blind_share=0.0)
    page = open_page(1280, 900)
    sign_in(page, live_server.url, user)
    page.goto(f"{live_server.url}/label/")
    page.evaluate("window.stillTheSamePage = true")
    first_url = page.url
    page.locator("#id_text").press("Control+Enter")  # confirm Tesseract's reading
    page.wait_for_url(lambda url: url != first_url and "/label/" in url)
    expect(page.locator("#id_text")).to_be_visible()
    page.locator("#id_text").press("Control+Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Nothing to label right now")
    assert page.evaluate("window.stillTheSamePage === true"), "a line was a page load"
    assert Transcription.objects.filter(line__in=lines, user=user).count() == 2
