"""The moderator's workbench in Debian's Chromium: a moderator filters the disputed lines,
reads the character diff of each label, edits the text and approves it by keyboard; and the
line page fits a phone's width.

The lines and labels are built in the database (no Tesseract needed); the crops are cut from
the blank test scan.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling.digests import send_contributor_digests
from labeling.models import Line, LineStatus, ModerationAction, OutgoingEmail, Transcription
from labeling.review.consensus import recompute_line
from tests.e2e.test_labeling_browser import sign_in

pytestmark = pytest.mark.e2e

DISPUTING = ("كتاب", "کتب", "کتابی", "قتاب")  # four readings, no two agree


def moderator(make_user: Callable[..., User]) -> User:
    person = make_user("moderator@example.org")
    person.is_staff = True
    person.save()
    # A live server's tests flush the database, and with it the groups the migrations made.
    group, _ = Group.objects.get_or_create(name="moderator")
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="labeling",
            codename__in=["moderate_line", "view_line", "view_labeler"],
        )
    )
    person.groups.add(group)
    return person


def label(line: Line, people: list[User], texts: tuple[str, ...]) -> Line:
    for person, text in zip(people, texts, strict=True):
        Transcription.objects.create(line=line, user=person, text=text, kept_prediction=False)
    recompute_line(line=Line.objects.select_related("page__document").get(pk=line.pk))
    line.refresh_from_db()
    return line


def test_a_moderator_filters_disputed_lines_reads_the_diff_and_edits_and_approves(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    screenshot: Callable[[Page, str], None],
) -> None:
    mod = moderator(make_user)
    people = [make_user(f"labeler{i}@example.org") for i in range(4)]
    agreed, disputed = pool_lines((10.0, 20.0))
    label(agreed, people[:2], ("وطن", "وطن"))
    disputed = label(disputed, people, DISPUTING)
    assert disputed.status == LineStatus.DISPUTED

    page = open_page(1280, 900)
    sign_in(page, live_server.url, mod.email)
    page.goto(f"{live_server.url}/admin/labeling/line/")
    page.get_by_role("link", name="Disputed (1)").click()
    page.wait_for_url("**review=disputed**")
    results = page.locator("#result_list")
    expect(results.get_by_role("link", name=str(agreed))).to_have_count(0)
    results.get_by_role("link", name=str(disputed)).click()
    page.wait_for_url(f"**/admin/labeling/line/{disputed.pk}/change/**")
    screenshot(page, "moderation-line")

    # No consensus: each label is compared with Tesseract's reading, كتاب.
    expect(
        page.get_by_text("No consensus yet: each label against Tesseract's reading")
    ).to_be_visible()
    rows = page.locator("#labels tbody tr")
    expect(rows).to_have_count(4)
    keheh = rows.nth(1)  # کتب: keheh for kaf (as typed only) and no alef (both)
    expect(keheh.locator(".diff-raw mark")).to_have_text("ک")
    expect(keheh.locator(".diff-raw del").first).to_have_text("ك")
    expect(keheh.locator(".diff-normalized del")).to_have_text("ا")
    expect(keheh.locator(".diff-normalized mark")).to_have_count(0)
    expect(rows.nth(2).locator(".diff-normalized ins")).to_have_text("ی")
    expect(page.locator("#keys")).to_be_visible()

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("e")
    text = page.locator("#id_text")
    expect(text).to_be_focused()
    text.fill("كتاب")
    page.keyboard.press("Enter")
    page.wait_for_url("**/admin/labeling/line/?review=disputed")
    expect(page.locator(".messagelist")).to_contain_text("with the text you typed")
    screenshot(page, "moderation-approved")

    disputed.refresh_from_db()
    assert (disputed.status, disputed.consensus_text) == (LineStatus.APPROVED, "كتاب")
    decision = disputed.decisions.get()
    assert (decision.action, decision.moderator, decision.text) == (
        ModerationAction.APPROVE,
        mod,
        "كتاب",
    )
    agreed.refresh_from_db()
    assert agreed.status == LineStatus.AGREED

    # The next day's digests: whoever typed كتاب (Tesseract's kaf) sees their reading agreed
    # with, the keheh and the extra yeh see theirs overturned.
    assert send_contributor_digests(now=timezone.now() + timedelta(days=1)) == 4
    bodies = {mail.to[0]: mail.body for mail in OutgoingEmail.objects.all()}
    assert "1 line was approved with your reading (agreed with)." in bodies[people[0].email]
    for person in people[1:]:
        assert "(overturned)" in bodies[person.email], bodies[person.email]
        assert "page 1, line 2" in bodies[person.email]


def test_the_line_page_fits_a_phone_and_its_keys_reject_with_a_reason(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    screenshot: Callable[[Page, str], None],
) -> None:
    mod = moderator(make_user)
    people = [make_user(f"labeler{i}@example.org") for i in range(2)]
    first, second = pool_lines((10.0, 20.0))
    first = label(first, people, ("وطن", "وطن"))
    second = label(second, people, ("سلطان", "سلطان"))

    page = open_page(390, 844, is_mobile=True, has_touch=True)
    sign_in(page, live_server.url, mod.email)
    page.goto(f"{live_server.url}/admin/labeling/line/?review=agreed")
    page.locator("#result_list").get_by_role("link", name=str(first)).click()
    page.wait_for_url(f"**/admin/labeling/line/{first.pk}/change/**")
    page.wait_for_function(
        "() => { const img = document.getElementById('line-crop');"
        " return img.complete && img.naturalWidth > 0; }"
    )
    screenshot(page, "moderation-phone")
    overflow = page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than the phone"
    crop_width = page.locator("#line-crop").bounding_box()
    assert crop_width is not None and crop_width["width"] <= 390

    page.locator("body").click(position={"x": 5, "y": 5})
    page.keyboard.press("r")
    reason = page.locator("#id_reason")
    expect(reason).to_be_focused()
    reason.fill("Two lines in one crop")
    page.locator("#reject-button").click()
    page.wait_for_url(f"**/admin/labeling/line/{second.pk}/change/**")  # on to the next one
    first.refresh_from_db()
    assert first.status == LineStatus.REJECTED
    page.keyboard.press("a")
    page.wait_for_url("**/admin/labeling/line/?review=agreed")
    second.refresh_from_db()
    assert second.status == LineStatus.APPROVED
