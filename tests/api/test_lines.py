"""Pages and lines through the API: geometry, crops, box edits as on the page view, and the
person's transcriptions."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

from PIL import Image

from accounts.models import User
from labeling.models import Assignment, Document, Line, Transcription
from labeling.review.queue import claim_next


def test_a_page_has_its_lines_in_order_with_my_texts(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    doc = read_document()
    page = doc.pages.get()
    first, second = page.lines.order_by("order")
    Transcription.objects.create(line=second, user=user, text="کتابلر", kept_prediction=False)
    body = api_for(user).get(f"/api/v1/pages/{page.pk}/").json()
    assert (body["id"], body["number"], body["width"], body["height"]) == (page.pk, 1, 400, 120)
    assert body["status"] == "done" and body["bands"] == []
    assert [line["id"] for line in body["lines"]] == [first.pk, second.pk]
    assert body["lines"][0] == {
        "id": first.pk,
        "page": page.pk,
        "order": 1,
        "box": [10, 5, 390, 55],
        "prediction": "سلام",
        "confidence": 80.0,
        "status": "open",
        "needs_reading": False,
        "crop": f"http://testserver/api/v1/lines/{first.pk}/crop.png?box=10-5-390-55",
        "my_text": None,
    }
    assert body["lines"][1]["my_text"] == "کتابلر"


def test_the_page_image_and_a_lines_crop_are_pngs(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    page = read_document().pages.get()
    client = api_for(user)
    image = client.get(f"/api/v1/pages/{page.pk}/image")
    assert image["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(b"".join(image.streaming_content))).size == (400, 120)
    line = page.lines.get(order=1)
    crop = client.get(client.get(f"/api/v1/lines/{line.pk}/").json()["crop"])
    assert crop.status_code == 200 and crop["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(crop.content)).height >= line.height


def test_box_edits_answer_as_the_page_editor_does(
    user: User,
    read_document: Callable[..., Document],
    api_for: Callable,
    client_for: Callable[[User], Any],
) -> None:
    page = read_document().pages.get()
    line = page.lines.get(order=1)
    client = api_for(user)
    moved = client.post(
        f"/api/v1/pages/{page.pk}/boxes/move/",
        {"line": line.pk, "box": [12, 6, 380, 50]},
        format="json",
    )
    assert moved.status_code == 200
    assert moved.json()["message"] == "Line 1 moved; Tesseract reads it again."
    assert moved.json()["selected"] == line.pk
    line.refresh_from_db()
    assert (line.left, line.top, line.right, line.bottom, line.needs_reading) == (
        12,
        6,
        380,
        50,
        True,
    )
    refused = client.post(
        f"/api/v1/pages/{page.pk}/boxes/move/", {"line": line.pk, "box": [1, 2]}, format="json"
    )
    site = client_for(user).post(
        f"/pages/{page.pk}/boxes/move/",
        {"line": line.pk, "box": [1, 2]},
        content_type="application/json",
    )
    assert refused.status_code == site.status_code == 400
    assert (
        refused.json()
        == site.json()
        == {"error": "“box” must be [left, top, right, bottom] in page pixels."}
    )
    undone = client.post(f"/api/v1/pages/{page.pk}/boxes/undo/", {}, format="json")
    assert undone.status_code == 200 and undone.json()["message"].startswith("Undone: ")
    line.refresh_from_db()
    assert (line.left, line.top, line.right, line.bottom) == (10, 5, 390, 55)
    assert client.post(f"/api/v1/pages/{page.pk}/boxes/fly/", {}, format="json").status_code == 404


def test_i_save_and_confirm_my_transcriptions(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    first, second = read_document().pages.get().lines.order_by("order")
    client = api_for(user)
    saved = client.put(
        f"/api/v1/lines/{first.pk}/transcription/", {"text": "سلام‌لر", "seconds": 4}, format="json"
    )
    assert saved.status_code == 200
    assert saved.json() == {
        "line": first.pk,
        "text": "سلام‌لر",
        "kept_prediction": False,
        "box_changed": False,
    }
    confirmed = client.post(f"/api/v1/lines/{second.pk}/confirm/", {}, format="json")
    assert confirmed.json()["kept_prediction"] is True
    assert confirmed.json()["text"] == "كتاب"
    mine = client.get("/api/v1/me/transcriptions/").json()
    assert [(t["line"], t["text"]) for t in mine["results"]] == [
        (second.pk, "كتاب"),
        (first.pk, "سلام‌لر"),
    ]
    assert Transcription.objects.get(line=first, user=user).seconds_spent == 4


def test_an_empty_text_is_refused_with_its_message_and_code(
    user: User, read_document: Callable[..., Document], api_for: Callable
) -> None:
    line = read_document().pages.get().lines.first()
    answer = api_for(user).put(
        f"/api/v1/lines/{line.pk}/transcription/", {"text": "  "}, format="json"
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "text": ["The line is empty. Type what the line says, or skip it with a reason."],
        "code": "empty",
    }
    assert not Transcription.objects.exists()


def test_a_line_leased_to_me_blind_shows_no_prediction(
    user: User, pool_lines: Callable, api_for: Callable, settings: Any
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    lines = pool_lines((10.0,), blind_share=1.0)
    claim = claim_next(user=user)
    assert claim is not None and claim.assignment.blind
    body = api_for(user).get(f"/api/v1/lines/{lines[0].pk}/").json()
    assert body["prediction"] is None
    # A pool line not handed to the person is not theirs to see.
    other = pool_lines((20.0,))[0]
    assert api_for(user).get(f"/api/v1/lines/{other.pk}/").status_code == 404
    assert Assignment.objects.count() == 1


def test_a_moderator_sees_pool_lines_but_not_private_ones(
    make_moderator: Callable[..., User],
    other_user: User,
    pool_lines: Callable,
    read_document: Callable[..., Document],
    api_for: Callable,
) -> None:
    moderator = make_moderator("mod@example.org")
    client = api_for(moderator)
    pool_line = pool_lines(owner=other_user)[0]
    private_line = read_document(owner=other_user).pages.get().lines.first()
    assert client.get(f"/api/v1/lines/{pool_line.pk}/").json()["prediction"] == "كتاب"
    assert client.get(f"/api/v1/lines/{pool_line.pk}/crop.png").status_code == 200
    assert client.get(f"/api/v1/lines/{private_line.pk}/").status_code == 404
    assert client.get(f"/api/v1/lines/{private_line.pk}/crop.png").status_code == 404
    # Pages, transcriptions and box edits are the owner's, on the site as here.
    assert client.get(f"/api/v1/pages/{pool_line.page_id}/").status_code == 404
    assert (
        client.put(
            f"/api/v1/lines/{pool_line.pk}/transcription/", {"text": "x"}, format="json"
        ).status_code
        == 404
    )
    assert client.get(f"/api/v1/documents/{pool_line.page.document_id}/").status_code == 404
    assert Line.objects.get(pk=pool_line.pk).status == "open"
