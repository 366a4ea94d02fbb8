"""Private means private: moderators never reach a private document's lines, superusers'
views of them are logged, and the owner's reading stays final."""

import importlib
from collections.abc import Callable

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import (
    Document,
    Line,
    LineStatus,
    ModerationDecision,
    PrivateAccess,
    Transcription,
)
from labeling.review.moderation import (
    ModerationRefused,
    approve_line,
    make_gold,
    reject_line,
    reopen_line,
)
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db


def first_line(doc: Document) -> Line:
    line = Line.objects.filter(page__document=doc).order_by("order").first()
    assert line is not None
    return line


def test_a_moderator_cannot_open_the_crop_of_a_private_line(
    moderator: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    line = first_line(read_document())
    response = client_for(moderator).get(reverse("labeling:line_crop", args=[line.pk]))
    assert response.status_code == 404


def test_a_moderator_still_sees_pool_crops_and_nothing_is_logged(
    moderator: User, pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    (line,) = pool_lines((10.0,))
    response = client_for(moderator).get(reverse("labeling:line_crop", args=[line.pk]))
    assert response.status_code == 200
    assert not PrivateAccess.objects.exists()


def test_a_superuser_opening_a_private_crop_is_logged_each_time(
    superuser: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    line = first_line(read_document())
    url = reverse("labeling:line_crop", args=[line.pk])
    client = client_for(superuser)
    response = client.get(url)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # the browser asks again, and is logged again
    client.get(url)
    logged = list(PrivateAccess.objects.values_list("user", "what", "object_id", "path"))
    assert logged == [(superuser.pk, "labeling.line", line.pk, url)] * 2


def test_the_owner_opening_their_own_private_crop_is_not_logged(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    user.is_superuser = True
    user.save()
    line = first_line(read_document())
    assert client_for(user).get(reverse("labeling:line_crop", args=[line.pk])).status_code == 200
    assert not PrivateAccess.objects.exists()


@pytest.mark.parametrize("who", ["moderator", "superuser"])
def test_nobody_moderates_a_private_line_and_the_owner_keeps_editing_it(
    who: str,
    request: pytest.FixtureRequest,
    user: User,
    read_document: Callable[..., Document],
) -> None:
    person: User = request.getfixturevalue(who)
    line = first_line(read_document())
    save_transcription(line=line, user=user, text="قرار")
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    for decide in (
        lambda: approve_line(line=line, moderator=person, text="باشقه"),
        lambda: reject_line(line=line, moderator=person, reason="Not Ottoman"),
        lambda: reopen_line(line=line, moderator=person),
        lambda: make_gold(line=line, moderator=person, answer="باشقه"),
    ):
        with pytest.raises(ModerationRefused, match="private document"):
            decide()
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "قرار")
    assert not ModerationDecision.objects.exists()
    save_transcription(line=line, user=user, text="قرار ویردی")
    line.refresh_from_db()
    assert line.consensus_text == "قرار ویردی"


def test_the_migration_gives_moderated_private_lines_back_to_their_owner(
    user: User, read_document: Callable[..., Document], pool_lines: Callable[..., list[Line]]
) -> None:
    doc = read_document()
    read, unread = Line.objects.filter(page__document=doc).order_by("order")
    Transcription.objects.create(line=read, user=user, text="قرار", kept_prediction=False)
    Line.objects.filter(pk=read.pk).update(status=LineStatus.REJECTED, consensus_text="قرار")
    Line.objects.filter(pk=unread.pk).update(
        status=LineStatus.APPROVED, consensus_text="باشقه", gold_text="باشقه"
    )
    (pool_gold,) = pool_lines((10.0,))
    Line.objects.filter(pk=pool_gold.pk).update(status=LineStatus.REJECTED, gold_text="حق")
    migration = importlib.import_module("labeling.migrations.0008_moderation_records")

    migration.give_decisions_back(apps, None)

    read.refresh_from_db()
    unread.refresh_from_db()
    pool_gold.refresh_from_db()
    assert (read.status, read.consensus_text) == (LineStatus.AGREED, "قرار")
    assert (unread.status, unread.consensus_text, unread.gold_text) == (LineStatus.OPEN, "", "")
    assert (pool_gold.status, pool_gold.gold_text) == (LineStatus.REJECTED, "")
    save_transcription(line=read, user=user, text="قرار ویردی")  # editable again
