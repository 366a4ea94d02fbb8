"""Signing in for a token, sending it, revoking it; what a request without one gets."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rest_framework.test import APIClient

from accounts.models import User
from api.models import ApiToken
from api.tokens import hash_key
from tests.conftest import PASSWORD


def test_it_gives_a_token_for_the_right_password_and_stores_only_its_hash(user: User) -> None:
    answer = APIClient().post(
        "/api/v1/auth/token/",
        {"email": "AYSE@example.org", "password": PASSWORD, "name": "laptop"},
        format="json",
    )
    assert answer.status_code == 201
    key = answer.json()["token"]
    token = ApiToken.objects.get(pk=answer.json()["id"])
    assert (token.user, token.name, answer.json()["name"]) == (user, "laptop", "laptop")
    assert token.key_hash == hash_key(key) and key not in token.key_hash
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = client.get("/api/v1/me/").json()
    assert me == {
        "id": user.pk,
        "email": "ayse@example.org",
        "display_name": "",
        "is_staff": False,
        "is_moderator": False,
    }


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(user: User) -> None:
    wrong = APIClient().post(
        "/api/v1/auth/token/", {"email": user.email, "password": "nope"}, format="json"
    )
    unknown = APIClient().post(
        "/api/v1/auth/token/", {"email": "nobody@example.org", "password": "nope"}, format="json"
    )
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json()
    assert "not correct" in wrong.json()["detail"]
    assert not ApiToken.objects.exists()


def test_an_unverified_address_gets_no_token(make_user: Callable[..., User]) -> None:
    person = make_user("new@example.org", verified=False)
    answer = APIClient().post(
        "/api/v1/auth/token/", {"email": person.email, "password": PASSWORD}, format="json"
    )
    assert answer.status_code == 400
    assert "Confirm your e-mail address" in answer.json()["detail"]


def test_failed_sign_ins_are_throttled_like_the_sites_login(user: User) -> None:
    statuses = [
        APIClient()
        .post("/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json")
        .status_code
        for _ in range(6)
    ]
    assert statuses[:5] == [400] * 5  # allauth's default: 5 failures per address in 5 minutes
    assert statuses[5] == 429
    again = APIClient().post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert again.status_code == 429
    assert again.json()["detail"] and int(again["Retry-After"]) > 0


def test_a_request_without_a_token_is_401(db: None) -> None:
    answer = APIClient().get("/api/v1/documents/")
    assert answer.status_code == 401
    assert answer.json()["detail"]
    assert answer["WWW-Authenticate"] == "Token"


def test_a_bad_token_is_401(db: None) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-key")
    answer = client.get("/api/v1/me/")
    assert answer.status_code == 401
    assert answer.json() == {"detail": "Invalid or revoked token."}


def test_delete_revokes_the_token_used_and_it_is_refused_afterwards(
    user: User, api_for: Callable[[User], APIClient]
) -> None:
    client = api_for(user)
    other = api_for(user)
    assert client.delete("/api/v1/auth/token/").status_code == 204
    assert client.get("/api/v1/me/").status_code == 401
    assert other.get("/api/v1/me/").status_code == 200  # only the token used
    assert ApiToken.objects.filter(user=user).count() == 1


def test_a_deactivated_persons_token_is_refused(
    user: User, api_for: Callable[[User], APIClient]
) -> None:
    client = api_for(user)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert client.get("/api/v1/me/").status_code == 401


def test_a_signed_in_browser_session_works_and_needs_its_csrf_token(
    user: User, client_for: Callable[[User], Any]
) -> None:
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(user)
    assert session.get("/api/v1/me/").json()["email"] == user.email
    refused = session.post("/api/v1/queue/next/", {}, format="json")
    assert refused.status_code == 403
    assert "CSRF" in refused.json()["detail"]


def test_each_person_is_throttled_to_the_configured_rate(
    user: User, api_for: Callable[[User], APIClient], settings: Any
) -> None:
    settings.API_THROTTLE_USER_RATE = "3/minute"
    client = api_for(user)
    statuses = [client.get("/api/v1/me/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    answer = client.get("/api/v1/me/")
    assert answer.json()["detail"].startswith("Request was throttled")
    assert 0 < int(answer["Retry-After"]) <= 60
