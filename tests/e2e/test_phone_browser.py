"""The line editor and the labelling queue on a phone, in Debian's Chromium: the whole line image
at 390 px, kept on screen beside the Ottoman keyboard, enlarged by a tap (panned from its right
end, pinched, closed by Escape or a tap outside); text alternatives for every image; a visible
focus ring for keyboard users; and the upload form and page view at 390 px.

The scans are rendered Ottoman lines cut by their measured ink boxes, so each line image is as
long and thin as a real one (about 11 times wider than high, and wider than the phone).

With -s, the line editor's test prints what it measured at 390 × 844 (sizes in CSS px).
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.base import ContentFile
from django.test import Client
from playwright.sync_api import Locator, Page, ViewportSize, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling import synthetic
from labeling.models import Document, Line, LineStatus, OcrModel, OcrStatus
from labeling.models import Page as ScanPage
from tests.e2e.test_line_boxes_browser import ink_boxes
from tests.test_translations import turkish_catalogue

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("naskh_font", "turkish_catalogue")]
__all__ = ["turkish_catalogue"]  # the fixture, imported for this module's tests

PHONE: ViewportSize = {"width": 390, "height": 844}
LANDSCAPE: ViewportSize = {"width": 844, "height": 390}
TEXTS = synthetic.SAMPLE_LINES[:3]


@pytest.fixture
def naskh_font() -> None:
    try:
        synthetic.default_font()
    except FileNotFoundError as missing:
        pytest.skip(f"the line images are rendered with a naskh font: {missing}")


def rendered_document(owner: User, **fields: object) -> list[Line]:
    """A one-page document of rendered lines, read: one Line per line's ink box."""
    image = synthetic.render_page(TEXTS, width=1200)
    boxes = ink_boxes(image, len(TEXTS))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    doc = Document.objects.create(owner=owner, title="Defter", **fields)
    page = ScanPage(
        document=doc,
        number=1,
        sha256=f"{doc.pk:064x}",
        width=image.width,
        height=image.height,
        source_name="scan.png",
        ocr_status=OcrStatus.DONE,
        ocr_model=OcrModel.default(),
    )
    page.image.save(f"phone-{doc.pk}.png", ContentFile(buffer.getvalue()), save=False)
    page.save()
    in_pool = doc.visibility == "pool"
    return [
        Line.objects.create(
            page=page,
            order=order,
            left=box[0],
            top=box[1],
            right=box[2],
            bottom=box[3],
            prediction=text,
            confidence=70.0,
            status=LineStatus.OPEN,
            in_pool=in_pool,
            labels_wanted=doc.labels_needed if in_pool else 1,
        )
        for order, (text, box) in enumerate(zip(TEXTS, boxes, strict=True), start=1)
    ]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height


def viewport_shot(page: Page, name: str) -> None:
    """What the phone's screen shows now (the `screenshot` fixture takes the whole page)."""
    folder = os.environ.get("E2E_SCREENSHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"e2e-{name}.png"))


def rect(locator: Locator) -> Rect:
    """Where the element is in the viewport now (Playwright's bounding box is that too)."""
    found = locator.bounding_box()
    assert found, f"{locator} is not rendered"
    return Rect(found["x"], found["y"], found["width"], found["height"])


def session_cookie(person: User) -> str:
    client = Client()
    client.force_login(person)
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


def signed_in_phone(
    open_page: Callable[..., Page], live_server: LiveServer, person: User, size: ViewportSize
) -> Page:
    page = open_page(size["width"], size["height"], is_mobile=True, has_touch=True)
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": session_cookie(person),
                "url": live_server.url,
            }
        ]
    )
    return page


def open_line(page: Page, base_url: str, line: Line) -> None:
    page.goto(f"{base_url}/lines/{line.pk}/")
    expect(page.locator("#ottoman-keyboard .ok-key").first).to_be_visible()
    expect(page.locator("button.crop-open #line-crop")).to_be_visible()
    page.wait_for_function("document.getElementById('line-crop').complete")


def open_queue(page: Page, base_url: str) -> None:
    page.goto(f"{base_url}/label/")
    page.wait_for_url("**/label/*/")
    expect(page.locator("#ottoman-keyboard .ok-key").first).to_be_visible()
    expect(page.locator("button.crop-open #line-crop")).to_be_visible()
    page.wait_for_function("document.getElementById('line-crop').complete")


def natural_ratio(page: Page, selector: str) -> float:
    width, height = page.eval_on_selector(selector, "i => [i.naturalWidth, i.naturalHeight]")
    assert width and height, f"{selector} has not loaded"
    return float(width) / float(height)


def expect_whole_line(page: Page) -> None:
    """The line image lies inside the phone's width, scaled as the image is (nothing cut)."""
    crop = rect(page.locator("#line-crop"))
    viewport = page.viewport_size
    assert viewport
    assert crop.x >= 0 and crop.right <= viewport["width"], crop
    ratio = natural_ratio(page, "#line-crop")
    assert ratio > 8, f"the test line is not long and thin ({ratio:.1f}:1)"
    assert crop.width / crop.height == pytest.approx(ratio, rel=0.03)
    assert page.evaluate("document.documentElement.scrollWidth") <= viewport["width"]


def expect_image_beside_keyboard(page: Page) -> None:
    """With the text field focused and the keys scrolled to, the image is on screen too."""
    text = page.locator("#id_text")
    # The text field scrolled to the top of the screen, under the image: focusing it brings it
    # out from under the image.
    card = page.locator(".crop-open")
    text.evaluate("t => { t.blur(); window.scrollBy(0, t.getBoundingClientRect().top); }")
    assert rect(text).y < rect(card).bottom, "the field is not under the image"
    text.focus()
    # The browser shows the caret's line: the text inside the field, below its padding.
    inside = text.evaluate(
        "t => t.getBoundingClientRect().top + parseFloat(getComputedStyle(t).paddingTop)"
        " + parseFloat(getComputedStyle(t).borderTopWidth)"
    )
    assert inside >= rect(card).bottom - 1, "the text is under the image"
    first_row = page.locator("#ottoman-keyboard .ok-row").first
    first_row.evaluate("row => row.scrollIntoView({block: 'start'})")
    viewport = page.viewport_size
    assert viewport
    crop = rect(page.locator("#line-crop"))
    row = rect(first_row)
    caption = rect(page.locator(".crop figcaption"))
    assert page.evaluate("window.scrollY") > 0, "the page did not need scrolling"
    # The caption follows the image on the page: starting above it now, the image has stayed
    # behind while the page scrolled.
    assert caption.y < crop.y, "the image scrolled away with the page"
    assert crop.y >= 0 and crop.bottom <= viewport["height"], crop
    assert row.y >= 0 and row.bottom <= viewport["height"], row
    assert crop.bottom <= row.y, "the image covers the keys"


def tap_open_zoom(page: Page) -> Locator:
    page.locator("#line-crop").tap()
    dialog = page.locator("dialog.crop-zoom")
    expect(dialog).to_be_visible()
    return dialog


def expect_zoom_from_the_right_end(page: Page) -> None:
    viewport = page.viewport_size
    assert viewport
    image = rect(page.locator(".crop-zoom-view img"))
    view = rect(page.locator(".crop-zoom-view"))
    assert image.width > viewport["width"], "the enlarged line fits the screen: not enlarged"
    assert image.width / image.height == pytest.approx(natural_ratio(page, "#line-crop"), rel=0.03)
    # The right end, where a right-to-left line begins, is on screen; the left end is not.
    assert image.right == pytest.approx(view.right, abs=2)
    assert image.x < 0
    assert page.eval_on_selector(".crop-zoom-view", "v => v.scrollLeft") > 0


def pinch(page: Page, target: Locator, *, start: float, end: float) -> None:
    """Two fingers on the target, from `start` px apart to `end` px apart, horizontally."""
    box = rect(target)
    cx, cy = box.x + box.width / 2, box.y + box.height / 2
    cdp = page.context.new_cdp_session(page)

    def fingers(gap: float) -> list[dict[str, float]]:
        return [
            {"x": cx - gap / 2, "y": cy, "id": 0},
            {"x": cx + gap / 2, "y": cy, "id": 1},
        ]

    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": fingers(start)})
    for step in range(1, 9):
        gap = start + (end - start) * step / 8
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": fingers(gap)})
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    cdp.detach()


def expect_zoom_closes_back_to_the_image(page: Page) -> None:
    page.keyboard.press("Escape")
    expect(page.locator("dialog.crop-zoom")).to_be_hidden()
    focused = page.evaluate(
        "() => document.activeElement.contains(document.getElementById('line-crop'))"
    )
    assert focused, "the focus is not back on the line image"


def expect_alternatives(page: Page, *, images_expected: bool = True) -> None:
    """Every image says what it shows, or is marked as decoration."""
    images = page.eval_on_selector_all(
        "img",
        "all => all.map(i => [i.outerHTML.slice(0, 120), i.getAttribute('alt'),"
        " i.getAttribute('role')])",
    )
    assert images or not images_expected, "no image on the page"
    for html, alt, role in images:
        assert alt is not None, f"no alt: {html}"
        assert alt.strip() or role in ("presentation", "none"), f"empty alt, not decoration: {html}"


def expect_touch_targets(page: Page, selector: str, *, least: int = 44) -> None:
    """Every visible element the selector finds is at least `least` px high and wide."""
    sizes = page.eval_on_selector_all(
        selector,
        """all => all.filter(e => e.getClientRects().length && getComputedStyle(e).visibility
                                  !== 'hidden')
                     .map(e => { const r = e.getBoundingClientRect();
                                 return [e.outerHTML.slice(0, 90), r.width, r.height]; })""",
    )
    assert sizes, f"nothing matches {selector}"
    small = [
        (html, round(w), round(h)) for html, w, h in sizes if w < least - 0.5 or h < least - 0.5
    ]
    assert not small, f"touch targets under {least} px: {small}"


def tab_through(page: Page, presses: int) -> list[str]:
    """Press Tab that many times; every element the focus lands on shows a ring. Returns them
    as TAG#id.classes."""
    seen = []
    for _ in range(presses):
        tag, classes, element_id, style, width = page.evaluate(
            """() => { const e = document.activeElement; const s = getComputedStyle(e);
                       return [e.tagName, String(e.className.baseVal ?? e.className), e.id,
                               s.outlineStyle, s.outlineWidth]; }"""
        )
        if tag not in ("BODY", "HTML"):
            key = f"{tag}#{element_id}.{classes}"
            seen.append(key)
            assert style != "none" and width != "0px", f"no focus ring on {key}"
        page.keyboard.press("Tab")
    return seen


# --- The line editor -------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["tr", "en"])
def test_the_line_editor_shows_the_whole_line_beside_the_keyboard_on_a_phone(
    language: str,
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    person = make_user("nesrin@example.org")
    person.language = language
    person.save()
    lines = rendered_document(person)
    page = signed_in_phone(open_page, live_server, person, PHONE)

    open_line(page, live_server.url, lines[0])
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect_whole_line(page)
    expect_alternatives(page)
    expect_touch_targets(page, "#ottoman-keyboard .ok-key")
    expect_touch_targets(page, "main button, main .pager a, .topbar nav a, .topbar nav button")
    screenshot(page, f"phone-line-{language}-390")

    shown = rect(page.locator("#line-crop"))
    expect_image_beside_keyboard(page)
    viewport_shot(page, f"phone-line-keys-{language}-390")
    card = rect(page.locator(".crop-open"))

    tap_open_zoom(page)
    expect_zoom_from_the_right_end(page)
    expect_alternatives(page)
    viewport_shot(page, f"phone-line-zoom-{language}-390")
    zoomed = rect(page.locator(".crop-zoom-view img"))
    view = rect(page.locator(".crop-zoom-view"))
    expect_zoom_closes_back_to_the_image(page)
    width, height = page.eval_on_selector("#line-crop", "i => [i.naturalWidth, i.naturalHeight]")
    print(
        f"\n[{language}] line image {width} x {height}: shown {shown.width:.0f} x"
        f" {shown.height:.0f} (100% of it; 3.5rem high before: {56 * width / height:.0f} wide"
        f" in a {shown.width:.0f} box, {100 * shown.width / (56 * width / height):.0f}% seen);"
        f" sticky while typing: {card.height:.0f} high ({100 * card.height / PHONE['height']:.0f}%"
        f" of the screen); zoomed: {zoomed.width:.0f} x {zoomed.height:.0f}, the first"
        f" {100 * view.width / zoomed.width:.0f}% from the right end on screen"
    )


def test_the_zoom_view_pinches_zooms_by_button_and_closes_by_a_tap_outside(
    live_server: LiveServer, open_page: Callable[..., Page], make_user: Callable[..., User]
) -> None:
    person = make_user("nesrin@example.org")
    lines = rendered_document(person)
    page = signed_in_phone(open_page, live_server, person, PHONE)
    open_line(page, live_server.url, lines[1])
    dialog = tap_open_zoom(page)
    image = page.locator(".crop-zoom-view img")
    first = rect(image).width

    pinch(page, page.locator(".crop-zoom-view"), start=60, end=180)
    pinched = rect(image).width
    assert pinched > first * 2, (first, pinched)
    # Only the image grew: the page under the view was not zoomed, Close is still on screen.
    assert page.evaluate("window.visualViewport.scale") == pytest.approx(1)
    close = dialog.get_by_role("button", name="Close")
    assert rect(close).right <= PHONE["width"]

    dialog.get_by_role("button", name="Zoom out").tap()
    smaller = rect(image).width
    assert smaller < pinched
    dialog.get_by_role("button", name="Zoom in").tap()
    assert rect(image).width > smaller

    # A tap on the dark space below the image, outside it, closes the view.
    view = rect(page.locator(".crop-zoom-view"))
    page.touchscreen.tap(PHONE["width"] / 2, view.bottom + (PHONE["height"] - view.bottom) * 0.8)
    expect(dialog).to_be_hidden()
    page.wait_for_function("document.activeElement.contains(document.getElementById('line-crop'))")

    # Opened again, its Close button closes it too.
    tap_open_zoom(page)
    close.tap()
    expect(dialog).to_be_hidden()


def test_the_next_line_after_a_save_is_zoomed_too(
    live_server: LiveServer, open_page: Callable[..., Page], make_user: Callable[..., User]
) -> None:
    person = make_user("nesrin@example.org")
    lines = rendered_document(person)
    page = signed_in_phone(open_page, live_server, person, PHONE)
    open_line(page, live_server.url, lines[0])

    # Saved, the next line comes: in place of the first without a page load (line-editor.js),
    # and its image is made a zoom button again.
    page.locator("#id_text").press("Enter")
    page.wait_for_url(f"**/lines/{lines[1].pk}/")
    expect(page.locator("button.crop-open #line-crop")).to_have_attribute(
        "src", re.compile(rf"/lines/{lines[1].pk}/crop\.png")
    )
    page.wait_for_function("document.getElementById('line-crop').complete")
    expect_whole_line(page)
    tap_open_zoom(page)
    expect(page.locator(".crop-zoom-view img")).to_have_count(1)
    zoomed = page.locator(".crop-zoom-view img").get_attribute("src") or ""
    assert f"/lines/{lines[1].pk}/crop.png" in zoomed
    expect_zoom_from_the_right_end(page)
    expect_zoom_closes_back_to_the_image(page)


def test_the_line_editor_keeps_the_image_and_keys_on_screen_on_its_side(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
) -> None:
    person = make_user("nesrin@example.org")
    lines = rendered_document(person)
    page = signed_in_phone(open_page, live_server, person, LANDSCAPE)
    open_line(page, live_server.url, lines[0])
    expect_whole_line(page)
    expect_image_beside_keyboard(page)
    viewport_shot(page, "phone-line-keys-844x390")
    tap_open_zoom(page)
    expect_zoom_from_the_right_end(page)
    viewport_shot(page, "phone-line-zoom-844x390")
    expect_zoom_closes_back_to_the_image(page)


def test_a_keyboard_user_sees_where_the_focus_is_in_the_line_editor(
    live_server: LiveServer, open_page: Callable[..., Page], make_user: Callable[..., User]
) -> None:
    person = make_user("nesrin@example.org")
    lines = rendered_document(person)
    page = open_page(PHONE["width"], PHONE["height"])  # a narrow window, Tab and Enter
    page.context.add_cookies(
        [
            {
                "name": django_settings.SESSION_COOKIE_NAME,
                "value": session_cookie(person),
                "url": live_server.url,
            }
        ]
    )
    open_line(page, live_server.url, lines[0])
    page.locator("#line-crop").evaluate("i => i.closest('button').focus()")  # start at the image
    seen = tab_through(page, 80)
    assert any("crop-open" in key for key in seen), seen
    assert any("ok-key" in key for key in seen), seen
    assert any(key.startswith("BUTTON#save-button") for key in seen), seen
    assert any(key.startswith("TEXTAREA#id_text") for key in seen), seen

    # Enter on the focused image opens the view; Escape brings the focus back to it.
    page.locator("#line-crop").evaluate("i => i.closest('button').focus()")
    page.keyboard.press("Enter")
    expect(page.locator("dialog.crop-zoom")).to_be_visible()
    expect_zoom_from_the_right_end(page)
    expect_zoom_closes_back_to_the_image(page)


# --- The labelling queue ---------------------------------------------------------------------


@pytest.mark.parametrize("language", ["tr", "en"])
def test_the_queue_shows_the_whole_line_beside_the_keyboard_on_a_phone(
    language: str,
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0  # the queue hands out the pool line, never a test line
    person = make_user("nesrin@example.org")
    person.language = language
    person.save()
    rendered_document(
        make_user("uploader@example.org"), visibility="pool", license="cc-by-4.0", blind_share=0.0
    )
    page = signed_in_phone(open_page, live_server, person, PHONE)

    open_queue(page, live_server.url)
    expect_whole_line(page)
    expect_alternatives(page)
    screenshot(page, f"phone-label-{language}-390")
    expect_image_beside_keyboard(page)
    viewport_shot(page, f"phone-label-keys-{language}-390")
    tap_open_zoom(page)
    expect_zoom_from_the_right_end(page)
    viewport_shot(page, f"phone-label-zoom-{language}-390")
    expect_zoom_closes_back_to_the_image(page)

    page.set_viewport_size(LANDSCAPE)
    expect_whole_line(page)
    expect_image_beside_keyboard(page)
    viewport_shot(page, f"phone-label-keys-{language}-844x390")


# --- Upload and the page view ----------------------------------------------------------------


@pytest.mark.parametrize("language", ["tr", "en"])
def test_the_upload_form_and_the_page_view_work_by_touch_on_a_phone(
    language: str,
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    person = make_user("nesrin@example.org")
    person.language = language
    person.save()
    lines = rendered_document(person)
    page = signed_in_phone(open_page, live_server, person, PHONE)

    page.goto(f"{live_server.url}/documents/new/")
    expect(page.locator("html")).to_have_attribute("lang", language)
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect_touch_targets(
        page,
        "main form .choice, main select, main button,"
        " main input:not([type=hidden]):not([type=radio]):not([type=checkbox])",
    )
    # The whole form is within the phone's width, the file field included.
    for field in ("input[name=title]", "input[name=scans]", "main form button[type=submit]"):
        box = rect(page.locator(field))
        assert box.x >= 0 and box.right <= PHONE["width"], (field, box)
    screenshot(page, f"phone-upload-{language}-390")
    page.locator("input[name=title]").focus()
    seen = tab_through(page, 8)
    assert any(key.startswith("INPUT#id_scans") for key in seen), seen

    page.goto(f"{live_server.url}/documents/{lines[0].page.document_id}/")
    expect_alternatives(page)
    page.goto(f"{live_server.url}/pages/{lines[0].page_id}/")
    viewer = page.locator("#pe-viewer[data-ready='1']")
    expect(viewer).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    box = rect(viewer)
    assert box.x >= 0 and box.right <= PHONE["width"], box
    label = page.locator("#pe-viewer .openseadragon-canvas").get_attribute("aria-label")
    assert label and label.strip(), "the scan has no text alternative"
    expect_alternatives(page, images_expected=False)
    expect_touch_targets(page, ".pe-toolbar button, #line-list .line-pick, #line-list .line-open")
    screenshot(page, f"phone-page-{language}-390")
    page.locator(".pe-toolbar button[data-act='zoom-in']").focus()
    seen = tab_through(page, 16)
    assert any("openseadragon-canvas" in key for key in seen), seen
    assert any("line-pick" in key for key in seen), seen

    # Two fingers spread on the scan zoom it (OpenSeadragon's pinch), not the page.
    def scale() -> float:
        return float(
            page.evaluate(
                """() => document.querySelector('#pe-viewer .pe-page')
                                 .transform.baseVal.consolidate().matrix.a"""
            )
        )

    before = scale()
    pinch(page, viewer, start=40, end=200)
    page.wait_for_function(
        f"""() => document.querySelector('#pe-viewer .pe-page')
                          .transform.baseVal.consolidate().matrix.a > {before * 1.5}"""
    )
    assert page.evaluate("window.visualViewport.scale") == pytest.approx(1)
    # The zoom buttons stay reachable on the phone's screen.
    pinched = scale()
    page.locator(".pe-toolbar button[data-act='zoom-out']").tap()
    page.wait_for_function(
        f"""() => document.querySelector('#pe-viewer .pe-page')
                          .transform.baseVal.consolidate().matrix.a < {pinched * 0.95}"""
    )
