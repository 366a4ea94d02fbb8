"""The profile page: the top bar links to it; the digests are turned off and on there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_top_bar_links_to_the_profile(user: User, client_for: Callable[[User], Client]) -> None:
    page = client_for(user).get(reverse("labeling:documents")).content.decode()
    assert f'href="{reverse("accounts:profile")}"' in page


def test_it_turns_the_digest_off_and_on(user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(user)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert "Daily digest of what became of my labels" in page
    assert "moderation_emails" not in page  # only moderators get that digest
    response = client.post(reverse("accounts:profile"), {})
    assert response.status_code == 302
    assert not User.objects.get(pk=user.pk).digest_emails
    client.post(reverse("accounts:profile"), {"digest_emails": "on"})
    assert User.objects.get(pk=user.pk).digest_emails


def test_moderators_can_turn_off_their_digest_too(
    user: User, client_for: Callable[[User], Client]
) -> None:
    user.groups.add(Group.objects.get(name="moderator"))
    client = client_for(User.objects.get(pk=user.pk))
    assert "moderation_emails" in client.get(reverse("accounts:profile")).content.decode()
    client.post(reverse("accounts:profile"), {"digest_emails": "on"})
    person = User.objects.get(pk=user.pk)
    assert person.digest_emails and not person.moderation_emails


def test_the_profile_needs_a_login() -> None:
    response = Client().get(reverse("accounts:profile"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
