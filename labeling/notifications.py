"""E-mail a person their document as a .txt attachment."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from accounts.models import User
from labeling.models import Document
from labeling.texts import document_text, text_filename


def verified_address(user: User) -> str | None:
    """The person's verified primary address (or any verified one); None if none is verified."""
    addresses = EmailAddress.objects.filter(user=user, verified=True).order_by("-primary", "pk")
    first = addresses.first()
    return first.email if first else None


def email_document_text(*, document: Document, user: User) -> bool:
    """Send the document's text to the person's verified address; False if there is none."""
    address = verified_address(user)
    if address is None:
        return False
    context = {"document": document, "user": user, "site_url": settings.SITE_URL}
    message = EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{document.title}",
        body=render_to_string("emails/document_text.txt", context),
        to=[address],
    )
    message.attach(
        text_filename(document),
        document_text(document=document, user=user).encode("utf-8"),
        "text/plain; charset=utf-8",
    )
    message.send()
    return True
