"""E-mail a person their document as a .txt attachment (through the outbox)."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from accounts.models import User
from labeling.mail import queue_message
from labeling.models import Document, OutgoingEmail
from labeling.texts import document_text, text_filename


def verified_address(user: User) -> str | None:
    """The person's verified primary address (or any verified one); None if none is verified."""
    addresses = EmailAddress.objects.filter(user=user, verified=True).order_by("-primary", "pk")
    first = addresses.first()
    return first.email if first else None


def email_document_text(*, document: Document, user: User) -> OutgoingEmail | None:
    """Queue the document's text, as it stands now, for the person's verified address;
    None if they have none. The request that asks only writes the outbox row."""
    address = verified_address(user)
    if address is None:
        return None
    context = {"document": document, "user": user, "site_url": settings.SITE_URL}
    message = EmailMessage(
        subject=f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{document.title}",
        body=render_to_string("emails/document_text.txt", context),
        to=[address],
    )
    # A str with a bare "text/plain": Django adds the one charset (utf-8) itself.
    message.attach(
        text_filename(document), document_text(document=document, user=user), "text/plain"
    )
    return queue_message(message)
