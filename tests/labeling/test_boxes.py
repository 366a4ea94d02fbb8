"""Fixing a page's line boxes: each change is recorded, undoable, read again by Tesseract in
the worker, keeps people's texts (marked for checking) and sends a labelled pool line back for
labels. The page editor's JSON endpoints are thin over the same functions."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import boxes, ocr
from labeling.models import (
    BoxAction,
    BoxEdit,
    Document,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrStatus,
    Page,
    Transcription,
)
from labeling.ocr import BBox
from labeling.ottoman import cer
from labeling.review.moderation import approve_line
from labeling.review.queue import claim_next
from labeling.synthetic import SAMPLE_LINES, render_page
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db

Commit = Callable[..., Any]


def lines_of(page: Page) -> list[Line]:
    return list(page.lines.order_by("order"))


def boxes_of(page: Page) -> list[tuple[int, int, int, int]]:
    return [(ln.left, ln.top, ln.right, ln.bottom) for ln in lines_of(page)]


# ------------------------------------------------------------------ on the real thing


@pytest.fixture
def scanned(user: User, needs_tesseract: None) -> Callable[[int], tuple[Page, list[BBox]]]:
    """A private page of four rendered lines whose lines Tesseract found, then one taken away
    (as if missed): the page and the true boxes Tesseract gave, the missed one included."""

    def make(missing: int) -> tuple[Page, list[BBox]]:
        image = render_page(SAMPLE_LINES[:4], width=1400)
        data = io.BytesIO()
        image.save(data, "PNG")
        reading = ocr.read_page(data.getvalue(), language="ara")
        assert len(reading.lines) == 4, [ln.text for ln in reading.lines]
        doc = Document.objects.create(owner=user, title="Scanned")
        page = Page(
            document=doc,
            number=1,
            sha256="a" * 64,
            width=image.width,
            height=image.height,
            source_name="scan.png",
            ocr_status=OcrStatus.DONE,
        )
        page.image.save("scan.png", ContentFile(data.getvalue()), save=False)
        page.save()
        kept = [ln for i, ln in enumerate(reading.lines) if i != missing]
        Line.objects.bulk_create(
            Line(
                page=page,
                order=order,
                left=ln.bbox.left,
                top=ln.bbox.top,
                right=ln.bbox.right,
                bottom=ln.bbox.bottom,
                prediction=ln.text,
                confidence=ln.confidence,
                labels_wanted=1,
            )
            for order, ln in enumerate(kept, start=1)
        )
        return page, [ln.bbox for ln in reading.lines]

    return make


def test_a_box_drawn_for_a_missed_line_is_placed_in_reading_order_and_read(
    scanned: Callable[[int], tuple[Page, list[BBox]]],
    user: User,
    django_capture_on_commit_callbacks: Commit,
) -> None:
    page, truth = scanned(1)
    with django_capture_on_commit_callbacks(execute=True):
        added = boxes.add_line(page=page, user=user, box=truth[1])
    added.refresh_from_db()
    page.refresh_from_db()
    assert added.order == 2
    assert [ln.order for ln in lines_of(page)] == [1, 2, 3, 4]
    assert page.ocr_status == OcrStatus.DONE and not page.reread
    assert not added.needs_reading
    assert cer(added.prediction, SAMPLE_LINES[1]) < 0.2, added.prediction
    edit = BoxEdit.objects.get(page=page)
    assert (edit.action, edit.user, edit.line_number) == (BoxAction.ADD, user, 2)


def test_a_moved_box_is_read_again_and_the_owners_text_is_kept_for_checking(
    scanned: Callable[[int], tuple[Page, list[BBox]]],
    user: User,
    django_capture_on_commit_callbacks: Commit,
) -> None:
    page, truth = scanned(3)
    first = lines_of(page)[0]
    save_transcription(line=first, user=user, text="متن من")
    # A box that holds only the right half of the line: Tesseract reads less of it.
    half = BBox(
        (truth[0].left + truth[0].right) // 2, truth[0].top, truth[0].right, truth[0].bottom
    )
    with django_capture_on_commit_callbacks(execute=True):
        boxes.move_box(line=first, user=user, box=half)
    first.refresh_from_db()
    assert first.bbox == half and not first.needs_reading
    assert len(first.prediction) < len(SAMPLE_LINES[0]) * 0.8, first.prediction
    label = Transcription.objects.get(line=first, user=user)
    assert (label.text, label.box_changed) == ("متن من", True)
    assert first.status == LineStatus.AGREED  # a private document: the owner's text stands
    save_transcription(line=first, user=user, text="متن من")
    label.refresh_from_db()
    assert not label.box_changed


def test_a_box_changed_while_tesseract_reads_it_is_read_again(
    scanned: Callable[[int], tuple[Page, list[BBox]]],
    user: User,
    django_capture_on_commit_callbacks: Commit,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The person moves the box after the worker cropped it: that reading is dropped, the
    line keeps needing one and the page goes straight back to the queue."""
    page, truth = scanned(3)
    first = lines_of(page)[0]
    from labeling import reading

    real_read_line = reading.ocr.read_line
    moved = BBox(truth[0].left + 10, truth[0].top, truth[0].right, truth[0].bottom)

    def read_then_move(image: bytes, **kwargs: Any) -> ocr.LineReading:
        result = real_read_line(image, **kwargs)
        Line.objects.filter(pk=first.pk).update(left=moved.left)  # meanwhile, in the page view
        return result

    monkeypatch.setattr(reading.ocr, "read_line", read_then_move)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        boxes.move_box(line=first, user=user, box=moved)
    Line.objects.filter(pk=first.pk).update(left=truth[0].left)  # the box the worker reads
    for callback in callbacks:
        callback()
    first.refresh_from_db()
    page.refresh_from_db()
    assert first.needs_reading
    assert page.ocr_status == OcrStatus.QUEUED and page.reread


# ------------------------------------------------------------------ the changes themselves


def test_split_makes_two_lines_in_order_and_refuses_the_edge(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    second = lines_of(page)[1]
    with pytest.raises(boxes.EditRefused):
        boxes.split_line(line=second, user=user, at=second.top + 1)
    upper, lower = boxes.split_line(line=second, user=user, at=second.top + 20)
    assert (upper.pk, upper.bbox.bottom, lower.bbox.top) == (
        second.pk,
        second.top + 20,
        second.top + 20,
    )
    assert [ln.pk for ln in lines_of(page)][1:3] == [second.pk, lower.pk]
    assert [ln.order for ln in lines_of(page)] == [1, 2, 3, 4]
    assert lower.needs_reading and lower.status == LineStatus.OPEN
    right, left = boxes.split_line(line=upper, user=user, at=200, axis="x")
    assert right.bbox.left == 200 and left.bbox.right == 200  # right part first: RTL


def test_merge_joins_neighbours_and_each_persons_texts(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    one, two, three = lines_of(page)
    save_transcription(line=one, user=user, text="الف")
    save_transcription(line=two, user=user, text="بى")
    with pytest.raises(boxes.EditRefused, match="neighbours"):
        boxes.merge_lines(line=one, other=three, user=user)
    merged = boxes.merge_lines(line=two, other=one, user=user)
    assert merged.pk == one.pk
    assert merged.bbox == BBox(one.left, one.top, two.right, two.bottom)
    assert merged.prediction == "الف بى" and merged.needs_reading
    label = Transcription.objects.get(line=merged, user=user)
    assert (label.text, label.box_changed) == ("الف بى", True)
    assert not Line.objects.filter(pk=two.pk).exists()
    assert [ln.order for ln in lines_of(page)] == [1, 2]


def test_a_labelled_pool_line_whose_box_changes_goes_back_for_labels(
    pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]
) -> None:
    line = labelled(pool_lines((50.0,))[0], ("كتاب", "كتاب"))
    assert line.status == LineStatus.AGREED
    owner = line.page.document.owner
    boxes.move_box(line=line, user=owner, box=BBox(12, 5, 390, 55))
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN and line.consensus_text == ""
    assert line.labels_wanted == 2 + line.page.document.labels_needed
    assert not line.transcriptions.filter(counts=True).exists()
    assert set(line.transcriptions.values_list("box_changed", flat=True)) == {True}
    decision = ModerationDecision.objects.get(line=line)
    assert (decision.action, decision.from_status, decision.moderator) == (
        ModerationAction.BOX,
        LineStatus.AGREED,
        owner,
    )


def test_a_line_with_a_moderators_decision_cannot_be_deleted_or_merged_away(
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    make_moderator: Callable[..., User],
) -> None:
    first, second = pool_lines((50.0, 60.0))
    approve_line(line=labelled(second, ("كتاب", "كتاب")), moderator=make_moderator())
    owner = first.page.document.owner
    with pytest.raises(boxes.EditRefused, match="moderator"):
        boxes.delete_line(line=second, user=owner)
    with pytest.raises(boxes.EditRefused, match="moderator"):
        boxes.merge_lines(line=first, other=second, user=owner)
    assert Line.objects.filter(pk=second.pk, status=LineStatus.APPROVED).exists()


def test_undo_brings_a_deleted_line_back_with_its_texts(
    read_document: Callable[..., Document], user: User, other_user: User
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    before = boxes_of(page)
    two = lines_of(page)[1]
    save_transcription(line=two, user=user, text="بى بى")
    created = Transcription.objects.get(line=two).created_at
    boxes.delete_line(line=two, user=user)
    assert boxes_of(page) == [before[0], before[2]]
    assert [ln.order for ln in lines_of(page)] == [1, 2]
    assert boxes.undoable(page) is not None
    edit = boxes.undo(page=page, user=user)
    assert edit.undone_by == user
    assert boxes_of(page) == before
    back = Line.objects.get(pk=two.pk)
    assert back.order == 2 and back.status == LineStatus.AGREED
    label = Transcription.objects.get(line=back)
    assert (label.user, label.text, label.created_at) == (user, "بى بى", created)
    with pytest.raises(boxes.EditRefused, match="nothing to undo"):
        boxes.undo(page=page, user=user)


def test_undo_is_refused_when_someone_typed_since(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document(predictions=("الف", "بى")).pages.get()
    one, two = lines_of(page)
    boxes.split_line(line=one, user=user, at=one.top + 20)
    save_transcription(line=two, user=user, text="بى")
    with pytest.raises(boxes.EditRefused, match="lose their work"):
        boxes.undo(page=page, user=user)
    assert len(lines_of(page)) == 3


def test_undo_takes_back_only_the_latest_change_each_time(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    original = boxes_of(page)
    one, two, three = lines_of(page)
    boxes.set_order(page=page, user=user, line_ids=[three.pk, one.pk, two.pk])
    boxes.move_box(line=one, user=user, box=BBox(20, 5, 380, 55))
    assert [ln.pk for ln in lines_of(page)] == [three.pk, one.pk, two.pk]
    boxes.undo(page=page, user=user)
    assert [ln.pk for ln in lines_of(page)] == [three.pk, one.pk, two.pk]
    assert Line.objects.get(pk=one.pk).bbox == BBox(10, 5, 390, 55)
    boxes.undo(page=page, user=user)
    assert boxes_of(page) == original


def test_the_reading_order_names_every_line_once(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document(predictions=("الف", "بى")).pages.get()
    one, two = lines_of(page)
    for wrong in ([one.pk], [one.pk, one.pk], [one.pk, two.pk, 999999]):
        with pytest.raises(boxes.EditRefused):
            boxes.set_order(page=page, user=user, line_ids=wrong)
    with pytest.raises(boxes.EditRefused, match="already"):
        boxes.set_order(page=page, user=user, line_ids=[one.pk, two.pk])
    boxes.set_order(page=page, user=user, line_ids=[two.pk, one.pk])
    assert [ln.pk for ln in lines_of(page)] == [two.pk, one.pk]


def test_boxes_are_clamped_to_the_page_and_must_hold_something(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document().pages.get()
    added = boxes.add_line(page=page, user=user, box=BBox(390, 100, -50, 130))
    assert added.bbox == BBox(0, 100, 390, 120)  # the page is 120 px high
    with pytest.raises(boxes.EditRefused, match="at least"):
        boxes.add_line(page=page, user=user, box=BBox(10, 10, 12, 40))


def test_nothing_changes_while_tesseract_finds_the_pages_lines(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document().pages.get()
    Page.objects.filter(pk=page.pk).update(ocr_status=OcrStatus.RUNNING, reread=False)
    with pytest.raises(boxes.EditRefused, match="right now"):
        boxes.delete_line(line=lines_of(page)[0], user=user)
    Page.objects.filter(pk=page.pk).update(reread=True)  # only re-reading lines: fine
    boxes.delete_line(line=lines_of(page)[0], user=user)


def test_replacing_the_boxes_is_refused_once_someone_typed(
    read_document: Callable[..., Document], user: User
) -> None:
    page = read_document().pages.get()
    save_transcription(line=lines_of(page)[0], user=user, text="سلام")
    with pytest.raises(boxes.EditRefused, match="lose"):
        boxes.reread_page(page=page, user=user, model=None, psm=6, keep_boxes=False)
    assert len(lines_of(page)) == 2


def test_reading_afresh_with_another_psm_replaces_the_lines_and_can_be_undone(
    scanned: Callable[[int], tuple[Page, list[BBox]]],
    user: User,
    django_capture_on_commit_callbacks: Commit,
) -> None:
    page, _truth = scanned(2)
    before = boxes_of(page)
    with django_capture_on_commit_callbacks(execute=True):
        boxes.reread_page(page=page, user=user, model=None, psm=6, keep_boxes=False)
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.DONE and page.ocr_psm == 6
    assert len(lines_of(page)) == 4  # the missed line is found
    with django_capture_on_commit_callbacks(execute=True):
        boxes.undo(page=page, user=user)
    assert boxes_of(page) == before


# ------------------------------------------------------------------ ink no box covers


def band_page(read_document: Callable[..., Document]) -> Page:
    page = read_document(predictions=("الف", "بى")).pages.get()
    page.missing_bands = [
        {"box": [10, 125, 390, 170], "dismissed": False},
        {"box": [10, 180, 200, 220], "dismissed": False},
    ]
    page.height = 240
    page.save()
    return page


def test_bands_are_unresolved_until_a_box_covers_them_or_someone_dismisses_them(
    read_document: Callable[..., Document], user: User
) -> None:
    page = band_page(read_document)
    assert [b.index for b in boxes.unresolved_bands(page)] == [0, 1]
    line = boxes.add_line_from_band(page=page, user=user, band=0)
    assert line.bbox == BBox(10, 125, 390, 170) and line.order == 3
    boxes.dismiss_band(page=page, user=user, band=1)
    page.refresh_from_db()
    assert boxes.unresolved_bands(page) == []
    with pytest.raises(boxes.EditRefused):
        boxes.dismiss_band(page=page, user=user, band=1)
    boxes.undo(page=page, user=user)
    page.refresh_from_db()
    assert [b.index for b in boxes.unresolved_bands(page)] == [1]


def test_the_editor_never_says_every_line_is_read_while_ink_is_uncovered(
    read_document: Callable[..., Document], user: User, client_for: Callable[[User], Client]
) -> None:
    page = band_page(read_document)
    client = client_for(user)
    one, two = lines_of(page)
    save_transcription(line=one, user=user, text="الف")
    response = client.post(reverse("labeling:line", args=[two.pk]), {"action": "confirm"})
    assert response.status_code == 302 and response["Location"] == reverse(
        "labeling:page", args=[page.pk]
    )
    shown = client.get(response["Location"]).content.decode()
    assert "may have missed 2 lines" in shown and "Well done" not in shown
    document_page = client.get(reverse("labeling:document", args=[page.document_id]))
    assert "2 lines may be missing" in document_page.content.decode()
    text = client.get(reverse("labeling:document_download", args=[page.document_id]))
    assert "[Tesseract may have missed 2 lines on this page" in text.content.decode()


def test_the_text_keeps_a_pages_lines_while_a_person_fixes_its_boxes(
    read_document: Callable[..., Document], user: User, client_for: Callable[[User], Client]
) -> None:
    page = read_document(predictions=("الف", "بى")).pages.get()
    boxes.add_line(page=page, user=user, box=BBox(10, 116, 390, 120))  # queued to be read
    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.QUEUED
    text = client_for(user).get(reverse("labeling:document_download", args=[page.document_id]))
    assert "الف\nبى\n" in text.content.decode()


# ------------------------------------------------------------------ the page editor's endpoints


def post(client: Client, page: Page, action: str, body: object) -> Any:
    return client.post(
        reverse("labeling:page_box_edit", args=[page.pk, action]),
        data=json.dumps(body),
        content_type="application/json",
    )


def test_the_state_and_the_edit_endpoints(
    read_document: Callable[..., Document], user: User, client_for: Callable[[User], Client]
) -> None:
    page = band_page(read_document)
    client = client_for(user)
    state = client.get(reverse("labeling:page_boxes", args=[page.pk])).json()
    assert [ln["box"] for ln in state["lines"]] == [[10, 5, 390, 55], [10, 65, 390, 115]]
    assert [b["id"] for b in state["bands"]] == [0, 1]
    assert state["missing_label"].startswith("Tesseract may have missed 2 lines")
    assert state["page"]["editable"] and state["page"]["undo"] is None

    answer = post(client, page, "add", {"band": 0})
    assert answer.status_code == 200, answer.content
    body = answer.json()
    new = Line.objects.get(pk=body["selected"])
    assert new.order == 3 and body["message"] == "Line 3 added; Tesseract reads it."
    assert [ln["reading"] for ln in body["lines"]] == [False, False, True]
    assert body["page"]["undo"]["label"] == "Undo: add a line (line 3)"

    moved = post(client, page, "move", {"line": new.pk, "box": [10.4, 120, 300, 171.6]})
    assert moved.status_code == 200
    assert Line.objects.get(pk=new.pk).bbox == BBox(10, 120, 300, 172)

    ids = [ln["id"] for ln in body["lines"]]
    assert post(client, page, "order", {"lines": ids[::-1]}).status_code == 200
    assert [ln.pk for ln in lines_of(page)] == ids[::-1]

    assert post(client, page, "split", {"line": ids[0], "at": 30}).status_code == 200
    assert len(lines_of(page)) == 4
    assert post(client, page, "undo", {}).status_code == 200
    assert len(lines_of(page)) == 3

    refused = post(client, page, "merge", {"line": ids[0], "with": ids[0]})
    assert refused.status_code == 400 and "two different lines" in refused.json()["error"]
    for bad in ('{"line": "x"}', "[1]", "not json"):
        answer = client.post(
            reverse("labeling:page_box_edit", args=[page.pk, "delete"]),
            data=bad,
            content_type="application/json",
        )
        assert answer.status_code == 400 and answer.json()["error"]
    assert post(client, page, "frobnicate", {}).status_code == 404


def test_a_line_of_another_page_is_not_reachable_through_this_one(
    read_document: Callable[..., Document], user: User, client_for: Callable[[User], Client]
) -> None:
    mine = read_document().pages.get()
    other = read_document().pages.get()
    foreign = lines_of(other)[0]
    answer = post(client_for(user), mine, "delete", {"line": foreign.pk})
    assert answer.status_code == 400
    assert Line.objects.filter(pk=foreign.pk).exists()


def test_the_page_reread_form(
    read_document: Callable[..., Document],
    user: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Commit,
) -> None:
    page = read_document().pages.get()
    save_transcription(line=lines_of(page)[0], user=user, text="سلام")
    client = client_for(user)
    url = reverse("labeling:page_reread", args=[page.pk])
    refused = client.post(url, {"boxes": "replace", "psm": "6"}, follow=True)
    assert "would lose" in refused.content.decode()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        answer = client.post(url, {"boxes": "keep", "psm": ""})
    assert answer.status_code == 302 and len(callbacks) == 1
    page.refresh_from_db()
    assert page.reread and page.ocr_status == OcrStatus.QUEUED
    assert all(ln.needs_reading for ln in lines_of(page))


def test_a_pool_line_is_not_handed_out_while_its_new_box_waits_to_be_read(
    pool_lines: Callable[..., list[Line]], make_user: Callable[..., User]
) -> None:
    line = pool_lines((50.0,))[0]
    boxes.move_box(line=line, user=line.page.document.owner, box=BBox(12, 5, 390, 55))
    labeler = make_user()
    assert claim_next(user=labeler) is None
    Line.objects.filter(pk=line.pk).update(needs_reading=False)  # the worker has read it
    claim = claim_next(user=labeler)
    assert claim is not None and claim.assignment.line_id == line.pk
