"""Fixtures for the API tests: clients that send a person's token, staff and moderators."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from accounts.models import User
from api.tokens import create_token


@pytest.fixture
def api_for() -> Callable[[User], APIClient]:
    """api_for(person): a client that sends a fresh token of theirs, as the CLI does."""

    def make(person: User) -> APIClient:
        _token, key = create_token(user=person, name="tests")
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
        return client

    return make


@pytest.fixture
def make_staff(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(email: str | None = None) -> User:
        person = make_user(email)
        person.is_staff = True
        person.save()
        person.groups.add(Group.objects.get(name="staff"))
        return person

    return make


@pytest.fixture
def make_moderator(make_user: Callable[..., User]) -> Callable[..., User]:
    def make(email: str | None = None) -> User:
        person = make_user(email)
        person.is_staff = True
        person.save()
        person.groups.add(Group.objects.get(name="moderator"))
        return person

    return make
