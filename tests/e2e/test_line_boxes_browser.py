"""The page view's line-box editor in Debian's Chromium: a line Tesseract missed is drawn with
the mouse, read, corrected and found in place in the downloaded text; on a phone, boxes are
selected by tap, split, merged, drawn with a finger and the last change undone.

The page is built in the database: a scan of rendered Ottoman lines whose ink boxes are measured
from the image, lines for all of them but one, and that one's ink as a band in
`Page.missing_bands`, as Tesseract's reading would leave it. Celery runs eagerly in tests, so a
new or moved box is read by Tesseract within the request that changed it.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from PIL import Image, ImageOps
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling import boxes as boxes_module
from labeling import synthetic
from labeling.models import Document, Line, LineStatus, OcrModel, OcrStatus, Transcription
from labeling.models import Page as ScanPage
from labeling.reading import read_page
from tests.e2e.test_labeling_browser import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("needs_tesseract")]

TEXTS = synthetic.SAMPLE_LINES[:4]
MISSING = 2  # the third line: Tesseract "missed" it
SIZE = 40
MARGIN = 120
PITCH = round(SIZE * 1.9)  # render_page's default line spacing
PAD = 6
Box = tuple[int, int, int, int]


def ink_boxes(image: Image.Image, count: int) -> list[Box]:
    """Each rendered line's ink, padded: measured inside its own band of the page."""
    ink = ImageOps.invert(image.convert("L"))
    boxes = []
    for index in range(count):
        top = MARGIN + index * PITCH - SIZE // 2
        bottom = top + PITCH
        found = ink.crop((0, top, image.width, bottom)).getbbox()
        assert found, f"line {index + 1} has no ink"
        left, ink_top, right, ink_bottom = found
        boxes.append((left - PAD, top + ink_top - PAD, right + PAD, top + ink_bottom + PAD))
    return boxes


def build_page(owner: User) -> tuple[ScanPage, list[Box]]:
    """Page 1 of a private document: every line read but the MISSING one, which is a band."""
    # Wider than the page view's preview: the viewer starts on the scaled copy.
    image = synthetic.render_page(TEXTS, width=1600, size=SIZE, margin=MARGIN)
    boxes = ink_boxes(image, len(TEXTS))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    doc = Document.objects.create(owner=owner, title="Kitab")
    page = ScanPage(
        document=doc,
        number=1,
        sha256="f" * 64,
        width=image.width,
        height=image.height,
        source_name="scan.png",
        ocr_status=OcrStatus.DONE,
        ocr_model=OcrModel.default(),
        missing_bands=[{"box": list(boxes[MISSING]), "dismissed": False}],
    )
    page.image.save("boxes-scan.png", ContentFile(buffer.getvalue()), save=False)
    page.save()
    order = 0
    for index, (text, box) in enumerate(zip(TEXTS, boxes, strict=True)):
        if index == MISSING:
            continue
        order += 1
        Line.objects.create(
            page=page,
            order=order,
            left=box[0],
            top=box[1],
            right=box[2],
            bottom=box[3],
            prediction=text,
            confidence=80.0,
            status=LineStatus.OPEN,
            labels_wanted=1,
        )
    return page, boxes


def open_editor(page: Page, base_url: str, scan: ScanPage) -> None:
    page.goto(f"{base_url}/pages/{scan.pk}/")
    expect(page.locator("#pe-viewer[data-ready='1']")).to_be_attached()
    expect(page.locator("#static-scan")).to_have_count(0)


def on_screen(page: Page, scan: ScanPage, box: Box) -> tuple[float, float, float, float]:
    """Where a box in page pixels is on the screen now, read from the scan's own placement."""
    canvas = page.locator("#pe-viewer .openseadragon-canvas").bounding_box()
    assert canvas
    image = page.evaluate(
        """() => { const g = document.querySelector('#pe-viewer .pe-page');
                   const m = g.transform.baseVal.consolidate().matrix;
                   return [m.e, m.f, m.a]; }"""
    )
    x0, y0, k = image
    left, top = canvas["x"] + x0, canvas["y"] + y0
    return (left + box[0] * k, top + box[1] * k, left + box[2] * k, top + box[3] * k)


def centre_of(locator: Locator) -> tuple[float, float]:
    found = locator.bounding_box()
    assert found
    return found["x"] + found["width"] / 2, found["y"] + found["height"] / 2


def rows(page: Page) -> Locator:
    return page.locator("#line-list .pe-row")


def expect_read(page: Page, count: int) -> None:
    """`count` rows, none of them still waiting for Tesseract."""
    expect(rows(page)).to_have_count(count)
    expect(page.locator("#line-list .pe-reading")).to_have_count(0, timeout=60_000)


def test_a_missed_line_is_drawn_read_corrected_and_downloaded_in_place(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    owner = make_user("editor@example.org")
    scan, boxes = build_page(owner)
    page = open_page(1280, 900)
    images: list[str] = []
    page.on(
        "request", lambda request: images.append(request.url) if "/image" in request.url else None
    )
    sign_in(page, live_server.url, owner.email)
    open_editor(page, live_server.url, scan)
    # At the page's fitted size the viewer shows the scaled preview, not the full scan.
    expect(page.locator(".pe-band-rect")).to_have_count(1)
    assert any("size=preview" in url for url in images), images

    expect(page.locator("#pe-missing")).to_contain_text("Tesseract may have missed 1 line")
    expect(page.locator(".pe-band-rect")).to_have_count(1)
    expect(rows(page)).to_have_count(3)
    screenshot(page, "boxes-missing-1280")

    # Draw a box around the band's ink with the mouse.
    page.get_by_role("button", name="Draw a line").click()
    expect(page.get_by_role("button", name="Draw a line")).to_have_attribute("aria-pressed", "true")
    left, top, right, bottom = on_screen(page, scan, boxes[MISSING])
    page.mouse.move(left - 3, top - 3)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(
            left - 3 + (right - left + 6) * step / 10, top - 3 + (bottom - top + 6) * step / 10
        )
    page.mouse.up()

    expect(page.locator("#pe-message")).to_contain_text("Line 3 added")
    expect_read(page, 4)
    expect(page.locator("#pe-missing")).to_be_hidden()
    added = Line.objects.get(page=scan, order=3)
    drawn = (added.left, added.top, added.right, added.bottom)
    assert all(abs(a - b) <= 12 for a, b in zip(drawn, boxes[MISSING], strict=True)), drawn
    assert added.prediction, "Tesseract read nothing in the drawn box"
    third = rows(page).nth(2)
    expect(third.locator(".prediction")).to_have_text(added.prediction)
    expect(third.locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    screenshot(page, "boxes-drawn-1280")

    # The reading order: the new line one down, and back with Undo.
    page.get_by_role("button", name="Move down").click()
    expect(page.locator("#pe-message")).to_have_text("Reading order saved.")
    expect(rows(page).nth(3).locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    assert Line.objects.get(pk=added.pk).order == 4
    page.get_by_role("button", name=re.compile(r"^Undo: change the reading order")).click()
    expect(page.locator("#pe-message")).to_contain_text("Undone")
    expect(third.locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    assert Line.objects.get(pk=added.pk).order == 3

    # From the keyboard: the list's rows with the arrows, then the top edge up by 2 × 10 px.
    third.locator(".line-pick").focus()
    page.keyboard.press("ArrowUp")
    expect(rows(page).nth(1).locator(".line-pick")).to_be_focused()
    expect(rows(page).nth(1).locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("ArrowDown")
    expect(third.locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    page.locator("#pe-canvas").focus()
    page.keyboard.press("e")
    expect(page.locator("#pe-message")).to_have_text("Arrow keys move the top edge.")
    page.keyboard.press("Shift+ArrowUp")
    page.keyboard.press("Shift+ArrowUp")
    expect(page.locator("#pe-message")).to_contain_text("Line 3 moved")
    expect_read(page, 4)
    added.refresh_from_db()
    assert added.top == drawn[1] - 20
    assert (added.left, added.right, added.bottom) == (drawn[0], drawn[2], drawn[3])
    expect(page.get_by_role("button", name=re.compile(r"^Undo: move a box"))).to_be_enabled()

    # Open it, correct it, and find it in place in the document's text.
    page.get_by_role("link", name="Open line 3").click()
    page.wait_for_url(f"**/lines/{added.pk}/")
    text = page.locator("#id_text")
    text.fill("")
    page.keyboard.insert_text(TEXTS[MISSING])
    page.keyboard.press("Enter")
    page.wait_for_url(lambda url: f"/lines/{added.pk}/" not in url)
    page.goto(f"{live_server.url}/documents/{scan.document_id}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .txt").click()
    downloaded = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
    assert downloaded[2:] == ["--- Page 1 (scan.png) ---", *TEXTS], downloaded


def test_on_a_phone_boxes_are_tapped_split_merged_drawn_and_undone(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    owner = make_user("phone@example.org")
    scan, boxes = build_page(owner)
    page = open_page(390, 844, is_mobile=True, has_touch=True)
    sign_in(page, live_server.url, owner.email)
    open_editor(page, live_server.url, scan)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "sideways scroll"
    screenshot(page, "boxes-390")

    # Tap the first line's box: it is selected on the scan and in the list.
    first = rows(page).nth(0)
    page.touchscreen.tap(*centre_of(page.locator(".pe-box[data-line-id] .pe-box-rect").first))
    expect(first.locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    expect(page.locator(".pe-box.selected")).to_have_count(1)

    # Split it where it is tapped: a line one line high is cut into two side by side.
    page.get_by_role("button", name="Split").click()
    x0, y0, x1, y1 = on_screen(page, scan, boxes[0])
    page.touchscreen.tap(x0 + (x1 - x0) * 0.4, (y0 + y1) / 2)
    expect(page.locator("#pe-message")).to_contain_text("Line 1 split in two")
    expect_read(page, 4)
    right_part, left_part = Line.objects.filter(page=scan).order_by("order")[:2]
    assert right_part.left > left_part.left and right_part.left == left_part.right
    screenshot(page, "boxes-split-390")

    # Merge them again, from the list: tap the row, then "Merge with next".
    first.locator(".line-pick").tap()
    page.get_by_role("button", name="Merge with next").click()
    expect(page.locator("#pe-message")).to_contain_text("Lines merged into line 1")
    expect_read(page, 3)
    merged = Line.objects.get(page=scan, order=1)
    assert (merged.left, merged.right) == (boxes[0][0], boxes[0][2])

    # Undo the merge: the two halves are back.
    undo = page.get_by_role("button", name=re.compile(r"^Undo: merge two lines"))
    undo.click()
    expect(page.locator("#pe-message")).to_contain_text("Undone: merge two lines")
    expect(rows(page)).to_have_count(4)
    assert Line.objects.filter(page=scan).count() == 4

    # Draw the missed line with one finger (touch events through the DevTools protocol).
    screenshot(page, "boxes-undone-390")
    page.get_by_role("button", name="Draw a line").click()
    page.locator("#pe-viewer").scroll_into_view_if_needed()
    left, top, right, bottom = on_screen(page, scan, boxes[MISSING])
    assert 0 < top < bottom < 844, (top, bottom)
    cdp = page.context.new_cdp_session(page)
    cdp.send(
        "Input.dispatchTouchEvent",
        {"type": "touchStart", "touchPoints": [{"x": left - 2, "y": top - 2}]},
    )
    for step in range(1, 11):
        x = left - 2 + (right - left + 4) * step / 10
        y = top - 2 + (bottom - top + 4) * step / 10
        cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]}
        )
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    expect(page.locator("#pe-message")).to_contain_text("added")
    expect_read(page, 5)
    expect(page.locator("#pe-missing")).to_be_hidden()
    screenshot(page, "boxes-drawn-390")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "sideways scroll"


def test_highlighted_ink_is_dismissed_made_a_line_and_a_line_deleted(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    screenshot: Callable[[Page, str], None],
) -> None:
    owner = make_user("ink@example.org")
    scan, _boxes = build_page(owner)
    page = open_page(1280, 900)
    sign_in(page, live_server.url, owner.email)
    open_editor(page, live_server.url, scan)
    notice = page.locator("#pe-missing")

    # Zoomed in, the boxes grow with the scan and stay on their ink.
    first_box = page.locator(".pe-box .pe-box-rect").first
    before = first_box.bounding_box()
    assert before
    page.get_by_role("button", name="Zoom in").click()
    page.wait_for_function(
        "w => document.querySelector('.pe-box .pe-box-rect').getBoundingClientRect().width > w",
        arg=before["width"] * 1.45,
    )
    screenshot(page, "boxes-zoomed-1280")
    page.get_by_role("button", name="Fit").click()

    notice.get_by_role("button", name="Not text").click()
    expect(page.locator("#pe-message")).to_have_text("Marked as not text.")
    expect(notice).to_be_hidden()
    expect(page.locator(".pe-band-rect")).to_have_count(0)
    scan.refresh_from_db()
    assert scan.missing_bands[0]["dismissed"] is True

    page.get_by_role("button", name=re.compile(r"^Undo: mark ink as not text")).click()
    expect(notice).to_contain_text("Tesseract may have missed 1 line")
    notice.get_by_role("button", name="Make it a line").click()
    expect(page.locator("#pe-message")).to_contain_text("Line 3 added")
    expect_read(page, 4)
    expect(notice).to_be_hidden()
    assert Line.objects.get(page=scan, order=3).prediction

    # Delete asks first; on the scan, the Delete key does it.
    last = Line.objects.get(page=scan, order=4)
    rows(page).nth(3).locator(".line-pick").click()
    page.locator("#pe-canvas").focus()
    page.once("dialog", lambda dialog: dialog.accept())
    page.keyboard.press("Delete")
    expect(page.locator("#pe-message")).to_have_text("Line 4 deleted.")
    expect(rows(page)).to_have_count(3)
    assert not Line.objects.filter(pk=last.pk).exists()


def test_a_box_resized_by_mouse_keeps_the_owners_text_marked_for_checking(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
) -> None:
    owner = make_user("resizer@example.org")
    scan, boxes = build_page(owner)
    first = Line.objects.get(page=scan, order=1)
    Transcription.objects.create(line=first, user=owner, text=TEXTS[0], kept_prediction=True)
    page = open_page(1280, 900)
    sign_in(page, live_server.url, owner.email)
    open_editor(page, live_server.url, scan)

    rows(page).nth(0).locator(".line-pick").click()
    expect(rows(page).nth(0).locator(".line-pick")).to_have_attribute("aria-pressed", "true")
    # Drag the box's left edge to the middle of the line: the box keeps only its right half.
    left, top, right, bottom = on_screen(page, scan, boxes[0])
    middle_y = (top + bottom) / 2
    page.mouse.move(left, middle_y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(left + (right - left) / 2 * step / 10, middle_y)
    page.mouse.up()

    expect(page.locator("#pe-message")).to_contain_text("Line 1 moved")
    expect_read(page, 3)
    first.refresh_from_db()
    half = (boxes[0][0] + boxes[0][2]) / 2
    assert abs(first.left - half) <= 12 and first.right == boxes[0][2], first.bbox
    expect(rows(page).nth(0)).to_contain_text("box changed — check")

    page.goto(f"{live_server.url}/lines/{first.pk}/")
    expect(page.locator("#box-changed")).to_contain_text("Box changed — check")
    expect(page.locator("#line-crop")).to_have_attribute(
        "src", re.compile(rf"box={first.crop_key}$")
    )
    page.locator("#save-button").click()
    page.wait_for_url(lambda url: f"/lines/{first.pk}/" not in url)
    assert not Transcription.objects.get(line=first, user=owner).box_changed


def test_a_line_shows_being_read_until_the_worker_has_read_it(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With the worker not there yet, the new line waits: the editor says so and asks the
    server again until the reading is stored, then shows the text without a reload."""
    owner = make_user("waiting@example.org")
    scan, _boxes = build_page(owner)
    monkeypatch.setattr(boxes_module, "enqueue_ocr", lambda pages: None)  # nobody takes it yet
    page = open_page(1280, 900)
    sign_in(page, live_server.url, owner.email)
    open_editor(page, live_server.url, scan)

    page.get_by_role("button", name="Make it a line").click()
    expect(page.locator("#pe-message")).to_contain_text("Line 3 added")
    third = rows(page).nth(2)
    expect(third.locator(".pe-reading")).to_have_text("being read…")
    added = Line.objects.get(page=scan, order=3)
    assert added.needs_reading and not added.prediction

    read_page(page_id=scan.pk)  # the worker's turn
    added.refresh_from_db()
    assert added.prediction and not added.needs_reading
    expect(third.locator(".pe-reading")).to_have_count(0)
    expect(third.locator(".prediction")).to_have_text(added.prediction)
