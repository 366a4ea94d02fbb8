"""Deleting a document: rows and scans go; others' labels on a pool document keep it."""

from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, Line, Page, Transcription

pytestmark = pytest.mark.django_db


def test_the_owner_deletes_a_document_and_its_scans(
    user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    doc = read_document()
    image = Path(settings.MEDIA_ROOT) / doc.pages.get().image.name
    assert image.exists()
    client = client_for(user)
    assert (
        "Delete it"
        in client.get(reverse("labeling:document_delete", args=[doc.pk])).content.decode()
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("labeling:document_delete", args=[doc.pk]))
    assert response["Location"] == reverse("labeling:documents")
    assert not Document.objects.exists() and not Page.objects.exists() and not Line.objects.exists()
    assert not image.exists()


def test_a_pool_document_labelled_by_others_is_kept(
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    owner = make_user()
    (line,) = pool_lines((10.0,), owner=owner)
    Transcription.objects.create(line=line, user=make_user(), text="بر", kept_prediction=False)
    response = client_for(owner).post(
        reverse("labeling:document_delete", args=[line.page.document_id])
    )
    assert response.status_code == 302
    assert Document.objects.exists()


def test_nobody_else_can_delete_it(
    other_user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    assert (
        client_for(other_user).post(reverse("labeling:document_delete", args=[doc.pk])).status_code
        == 404
    )
    assert Document.objects.filter(pk=doc.pk).exists()
