"""Every URL of a document answers 404 to anyone but its owner, and asks strangers to sign in."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document

pytestmark = pytest.mark.django_db


def urls_of(doc: Document) -> list[tuple[str, str]]:
    page = doc.pages.get()
    line = page.lines.first()
    assert line is not None
    return [
        ("get", reverse("labeling:document", args=[doc.pk])),
        ("get", reverse("labeling:document_status", args=[doc.pk])),
        ("get", reverse("labeling:document_download", args=[doc.pk])),
        ("post", reverse("labeling:document_email", args=[doc.pk])),
        ("get", reverse("labeling:page", args=[page.pk])),
        ("get", reverse("labeling:page_image", args=[page.pk])),
        ("post", reverse("labeling:page_retry", args=[page.pk])),
        ("get", reverse("labeling:page_boxes", args=[page.pk])),
        ("post", reverse("labeling:page_box_edit", args=[page.pk, "undo"])),
        ("post", reverse("labeling:page_reread", args=[page.pk])),
        ("get", reverse("labeling:line", args=[line.pk])),
        ("post", reverse("labeling:line", args=[line.pk])),
        ("get", reverse("labeling:line_crop", args=[line.pk])),
        ("get", reverse("labeling:document_delete", args=[doc.pk])),
        ("post", reverse("labeling:document_delete", args=[doc.pk])),  # last: it deletes
    ]


def test_the_owner_reaches_every_url(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    client = client_for(user)
    for method, url in urls_of(doc):
        data = {"action": "confirm"} if method == "post" else None
        response = getattr(client, method)(url, data)
        # 400: the page editor's refusal (there is nothing to undo), not a refusal of access.
        assert response.status_code in (200, 302, 400), (method, url, response.status_code)


def test_another_user_gets_404_everywhere(
    other_user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    client = client_for(other_user)
    for method, url in urls_of(doc):
        data = {"action": "confirm", "text": "x"} if method == "post" else None
        response = getattr(client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
    assert not doc.pages.get().lines.first().transcriptions.exists()


def test_a_stranger_is_asked_to_sign_in(read_document: Callable[..., Document]) -> None:
    doc = read_document()
    client = Client()
    for method, url in urls_of(doc):
        response = getattr(client, method)(url)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith(reverse("account_login"))


def test_the_document_list_shows_only_ones_own(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
) -> None:
    mine = read_document()
    mine.title = "Mine"
    mine.save()
    theirs = read_document(owner=other_user)
    theirs.title = "Theirs"
    theirs.save()
    body = client_for(user).get(reverse("labeling:documents")).content.decode()
    assert "Mine" in body
    assert "Theirs" not in body
