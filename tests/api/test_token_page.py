"""The profile's token page: make one (its key shown once), see them, revoke; and deleting the
account deletes its tokens rather than handing them to the tombstone."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from accounts.deletion import delete_account
from accounts.models import User
from api.models import ApiToken
from api.tokens import create_token, hash_key


def test_the_profile_links_to_the_token_page(user: User, client_for: Callable) -> None:
    assert 'href="/me/tokens/"' in client_for(user).get("/me/").content.decode()


def test_a_new_token_is_shown_once_and_works(user: User, client_for: Callable) -> None:
    browser = client_for(user)
    made = browser.post("/me/tokens/", {"name": "laptop"})
    assert made.status_code == 200
    assert made["Cache-Control"] == "no-store"
    key = re.search(r'id="new-token">([^<]+)<', made.content.decode()).group(1)  # type: ignore[union-attr]
    token = ApiToken.objects.get(user=user)
    assert token.key_hash == hash_key(key) and token.name == "laptop"
    listing = browser.get("/me/tokens/").content.decode()
    assert "laptop" in listing and token.prefix in listing and key not in listing
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 200


def test_revoking_on_the_page_stops_the_key(user: User, client_for: Callable) -> None:
    token, key = create_token(user=user, name="old")
    answer = client_for(user).post(f"/me/tokens/{token.pk}/revoke/")
    assert answer.status_code == 302
    assert not ApiToken.objects.exists()
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_another_persons_token_cannot_be_revoked(
    user: User, other_user: User, client_for: Callable
) -> None:
    token, _key = create_token(user=other_user, name="theirs")
    assert client_for(user).post(f"/me/tokens/{token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.filter(pk=token.pk).exists()


def test_deleting_the_account_deletes_its_tokens(user: User, other_user: User) -> None:
    _token, key = create_token(user=user, name="laptop")
    create_token(user=other_user, name="theirs")
    tombstone = delete_account(user=user)
    assert not ApiToken.objects.filter(user=tombstone).exists()
    assert list(ApiToken.objects.values_list("user_id", flat=True)) == [other_user.pk]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    assert api.get("/api/v1/me/").status_code == 401


def test_the_token_page_needs_a_sign_in(db: Any) -> None:
    from django.test import Client

    assert Client().get("/me/tokens/").status_code == 302
