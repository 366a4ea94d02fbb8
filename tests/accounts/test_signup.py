import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import User

pytestmark = pytest.mark.django_db
# Real commits: mail leaves through the outbox once the request commits.
commits = pytest.mark.django_db(transaction=True)
PASSWORD = "a long enough passphrase 2026"


def sign_up(client: Client, email: str = "zeynep@example.org") -> None:
    response = client.post(
        reverse("account_signup"),
        {"email": email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302


@commits
def test_it_sends_a_verification_email_and_refuses_login_until_verified() -> None:
    client = Client()
    sign_up(client)
    assert len(mail.outbox) == 1
    assert "zeynep@example.org" in mail.outbox[0].to
    user = User.objects.get(email="zeynep@example.org")
    assert not user.groups.filter(name="contributor").exists()
    response = Client().post(
        reverse("account_login"), {"login": "zeynep@example.org", "password": PASSWORD}
    )
    # allauth sends an unverified person to the "verification sent" page, not into the site.
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")


@commits
def test_a_verified_sign_up_becomes_a_contributor() -> None:
    client = Client()
    sign_up(client)
    link = re.search(r"https?://[^\s]+/accounts/confirm-email/[^\s]+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = link.group(0).split("://", 1)[1].split("/", 1)[1]
    response = client.post("/" + path)
    assert response.status_code == 302
    user = User.objects.get(email="zeynep@example.org")
    assert EmailAddress.objects.get(user=user).verified
    assert user.groups.filter(name="contributor").exists()


def test_the_email_is_the_login() -> None:
    user = User.objects.create_user(email="Ali@Example.org", password=PASSWORD)
    assert user.email == "Ali@example.org"
    assert not hasattr(user, "username") or user.username is None


def test_groups_exist_with_their_permissions() -> None:
    from django.contrib.auth.models import Group

    moderator = Group.objects.get(name="moderator")
    assert moderator.permissions.filter(codename="moderate_line").exists()
    contributor = Group.objects.get(name="contributor")
    assert contributor.permissions.filter(codename="add_transcription").exists()
    assert Group.objects.filter(name="staff").exists()


def test_the_admin_login_goes_through_allauth() -> None:
    response = Client().get(reverse("admin:login"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_sign_up_is_rate_limited() -> None:
    client = Client()
    statuses = []
    for i in range(25):
        response = client.post(
            reverse("account_signup"),
            {"email": f"p{i}@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
        statuses.append(response.status_code)
    assert 429 in statuses


@commits
def test_a_forgotten_password_can_be_reset_by_email() -> None:
    user = User.objects.create_user(email="unutkan@example.org", password=PASSWORD)
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    client = Client()
    client.post(reverse("account_reset_password"), {"email": "unutkan@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^\s]+/accounts/password/reset/key/[^\s]+/", mail.outbox[0].body)
    assert link, mail.outbox[0].body
    path = "/" + link.group(0).split("://", 1)[1].split("/", 1)[1]
    form_url = client.get(path)["Location"]  # allauth moves the key into the session
    new = "a brand new passphrase 2027"
    response = client.post(form_url, {"password1": new, "password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)
