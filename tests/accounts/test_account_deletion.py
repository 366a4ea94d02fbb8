"""Deleting an account: private documents and addresses go, labels and decisions stay with an
anonymous tombstone (agreement still counts distinct people), and the session ends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from allauth.account.models import EmailAddress
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from accounts.models import DataExport, User
from labeling.models import (
    Document,
    GoldScore,
    Line,
    LineStatus,
    ModerationDecision,
    OutgoingEmail,
    Transcription,
)
from labeling.notifications import email_document_text
from labeling.review import moderation
from labeling.review.consensus import recompute_line
from tests.labeling.conftest import labelled, make_moderator  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def leaving(
    make_moderator: Callable[..., User],  # noqa: F811
    make_user: Callable[..., User],
    read_document: Callable[..., Document],
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],  # noqa: F811
) -> dict[str, Any]:
    """A moderator with a private document, a pool document, a label on a line that another
    person's label agrees with, and a decision they took."""
    person = make_moderator("leaving@example.org")
    private = read_document(owner=person)
    (own_pool_line,) = pool_lines((10.0,), owner=person)
    shared, decided = pool_lines((20.0, 30.0))
    labelled(shared, ("كتاب",), by=person)
    labelled(decided, ("قلم", "قلم"))
    moderation.approve_line(line=decided, moderator=person)
    GoldScore.objects.create(user=person, seen=3, correct=3)
    return {
        "person": person,
        "private": private,
        "pool": own_pool_line.page.document,
        "shared": shared,
        "decided": decided,
        "image": private.pages.get().image.name,
    }


def test_a_wrong_address_deletes_nothing(
    leaving: dict[str, Any], client_for: Callable[[User], Client]
) -> None:
    person = leaving["person"]
    response = client_for(person).post(reverse("accounts:delete"), {"email": "someone@else.org"})
    assert response.status_code == 200
    assert "That is not your account" in response.content.decode()
    assert User.objects.filter(pk=person.pk, is_active=True).exists()
    assert Document.objects.filter(pk=leaving["private"].pk).exists()


def test_deleting_keeps_the_shared_work_anonymous_and_removes_the_rest(
    leaving: dict[str, Any],
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    person = leaving["person"]
    email_document_text(document=leaving["private"], user=person)  # mail waiting for them
    DataExport.objects.create(user=person)
    client = client_for(person)
    assert client.get(reverse("accounts:delete")).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("accounts:delete"), {"email": " LEAVING@example.org "})
    assert response.status_code == 302

    assert not User.objects.filter(pk=person.pk).exists()
    tombstone = User.objects.get(email=f"deleted-{person.pk}@invalid")
    assert not tombstone.is_active and not tombstone.has_usable_password()
    assert not EmailAddress.objects.filter(email__iexact=person.email).exists()
    # In Python: a JSON containment lookup is PostgreSQL's only.
    assert not any(person.email in mail.to for mail in OutgoingEmail.objects.all())
    assert not DataExport.objects.exists()

    # The private document and its scan are gone; the pool document stays, the tombstone's.
    assert not Document.objects.filter(pk=leaving["private"].pk).exists()
    assert not default_storage.exists(leaving["image"])
    assert Document.objects.get(pk=leaving["pool"].pk).owner == tombstone

    # Their label still counts as one person's: another agreeing label settles the line.
    shared = leaving["shared"]
    assert Transcription.objects.get(line=shared).user == tombstone
    Transcription.objects.create(line=shared, user=make_user(), text="كتاب", kept_prediction=False)
    recompute_line(line=Line.objects.select_related("page__document").get(pk=shared.pk))
    assert Line.objects.get(pk=shared.pk).status == LineStatus.AGREED

    decision = ModerationDecision.objects.get(line=leaving["decided"])
    assert decision.moderator == tombstone
    assert GoldScore.objects.get(user=tombstone).seen == 3

    # The session ended: the next page asks to sign in.
    response = client.get(reverse("labeling:documents"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    # And the address is free: the person could sign up again.
    assert not User.objects.filter(email__iexact="leaving@example.org").exists()
