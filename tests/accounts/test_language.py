"""Language and time zone: from the browser, the switcher, and the account (profile page);
pages, dates and mail follow the person's choice."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, OutgoingEmail
from labeling.notifications import email_document_text
from tests.test_translations import html_lang, turkish_catalogue

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("turkish_catalogue")]
__all__ = ["turkish_catalogue"]  # the fixture, imported for this module's tests

# 20:30 UTC on New Year's Day is already 2 January, 05:30, in Tokyo.
UPLOADED = datetime(2026, 1, 1, 20, 30, tzinfo=UTC)


def test_a_visitor_switches_to_turkish_and_the_cookie_keeps_it() -> None:
    client = Client(headers={"accept-language": "en"})
    response = client.post(reverse("set_language"), {"language": "tr", "next": "/"})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "tr"
    page = client.get("/").content.decode()
    assert html_lang(page) == "tr"
    # The switcher now offers the other language, named in itself.
    assert re.search(r'<button [^>]*value="en" lang="en"[^>]*>English</button>', page)


def test_the_switcher_keeps_a_signed_in_persons_choice_on_their_account(user: User) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "tr", "next": "/documents/"})
    user.refresh_from_db()
    assert user.language == "tr"
    # Another browser, another cookie-less session: the account decides.
    elsewhere = Client(headers={"accept-language": "en"})
    elsewhere.force_login(user)
    assert html_lang(elsewhere.get(reverse("labeling:documents")).content.decode()) == "tr"


def test_the_switcher_ignores_a_language_the_site_does_not_have(user: User) -> None:
    client = Client()
    client.force_login(user)
    client.post(reverse("set_language"), {"language": "xx", "next": "/"})
    user.refresh_from_db()
    assert user.language == ""


def test_an_account_without_a_language_follows_the_browser(user: User) -> None:
    client = Client(headers={"accept-language": "tr"})
    client.force_login(user)
    assert html_lang(client.get(reverse("labeling:documents")).content.decode()) == "tr"
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    assert html_lang(client.get(reverse("labeling:documents")).content.decode()) == "en"


def test_the_profile_saves_the_language_and_the_time_zone(user: User) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    form = client.get(reverse("accounts:profile")).content.decode()
    assert '<option value="Europe/Istanbul">Europe/Istanbul</option>' in form
    response = client.post(
        reverse("accounts:profile"),
        {"language": "tr", "timezone": "Europe/Istanbul", "digest_emails": "on"},
        follow=True,
    )
    user.refresh_from_db()
    assert (user.language, user.timezone, user.digest_emails) == ("tr", "Europe/Istanbul", True)
    page = response.content.decode()
    assert html_lang(page) == "tr"
    assert "Ayarlarınız kaydedildi." in page
    assert response.redirect_chain[-1][0] == reverse("accounts:profile")


def test_the_profile_refuses_a_time_zone_that_does_not_exist(user: User) -> None:
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    response = client.post(reverse("accounts:profile"), {"timezone": "Mars/Olympus_Mons"})
    assert response.status_code == 200
    assert "Select a valid choice." in response.content.decode()
    user.refresh_from_db()
    assert user.timezone == ""


def test_dates_are_shown_in_the_persons_time_zone(
    user: User, read_document: Callable[..., Document]
) -> None:
    document = read_document()
    Document.objects.filter(pk=document.pk).update(created_at=UPLOADED)
    client = Client(headers={"accept-language": "en"})
    client.force_login(user)
    url = reverse("labeling:document", args=[document.pk])
    assert "uploaded 1 Jan 2026 20:30" in client.get(url).content.decode()
    User.objects.filter(pk=user.pk).update(timezone="Asia/Tokyo")
    assert "uploaded 2 Jan 2026 05:30" in client.get(url).content.decode()
    User.objects.filter(pk=user.pk).update(language="tr")
    assert "2 Oca 2026 05:30 tarihinde yüklendi" in client.get(url).content.decode()


def test_mail_is_written_in_the_account_language_whatever_the_request_is_in(
    user: User, read_document: Callable[..., Document]
) -> None:
    document = read_document()
    User.objects.filter(pk=user.pk).update(language="tr")
    user.refresh_from_db()
    email_document_text(document=document, user=user)
    body = OutgoingEmail.objects.get().body
    assert body.startswith(f"Merhaba {user},")
    assert "Düzeltmeye şu adreste devam edebilirsiniz:" in body


def test_mail_to_an_account_without_a_language_is_in_english(
    user: User, read_document: Callable[..., Document]
) -> None:
    email_document_text(document=read_document(), user=user)
    assert OutgoingEmail.objects.get().body.startswith(f"Hello {user},")
