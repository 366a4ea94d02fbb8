"""Fixtures for moderation and privacy tests: a moderator, a superuser, labelled lines."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group

from accounts.models import User
from labeling.models import Line, Transcription
from labeling.review.consensus import recompute_line


@pytest.fixture
def make_moderator(make_user: Callable[..., User]) -> Callable[..., User]:
    """A person in the moderator group, allowed into the admin (as the README sets them up)."""

    def make(email: str | None = None) -> User:
        person = make_user(email)
        person.is_staff = True
        person.save()
        person.groups.add(Group.objects.get(name="moderator"))
        return person

    return make


@pytest.fixture
def moderator(make_moderator: Callable[..., User]) -> User:
    return make_moderator("moderator@example.org")


@pytest.fixture
def superuser(db: None) -> User:
    return User.objects.create_superuser(email="root@example.org", password="x" * 20)


@pytest.fixture
def labelled(make_user: Callable[..., User]) -> Callable[..., Line]:
    """The line with one label per text (by new labelers unless `by` is given), recomputed."""

    def label(line: Line, texts: tuple[str, ...], *, by: User | None = None) -> Line:
        for text in texts:
            Transcription.objects.create(
                line=line, user=by or make_user(), text=text, kept_prediction=False
            )
        recompute_line(line=Line.objects.select_related("page__document").get(pk=line.pk))
        line.refresh_from_db()
        return line

    return label
