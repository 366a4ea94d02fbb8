"""E-mail that tells people what became of their work, always through the outbox.

- `email_document_text`: the document's text as a .txt attachment, when its owner asks;
- `document_read_if_finished`: "your document has been read", once per reading, with its text;
- `templated_message`: text and HTML bodies from `templates/emails/<name>.txt|.html`;
- unsubscribe tokens for the digests (`labeling.digests`): signed, salted, expiring links that
  turn one kind of digest off without signing in (RFC 8058 one-click).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core import signing
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.db import transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.middleware import personal_locale
from accounts.models import DocumentReadNotice, User
from labeling.mail import queue_message
from labeling.models import Document, OcrStatus, OutgoingEmail, Page, SourceFile, SplitStatus
from labeling.texts import document_text, text_filename

logger = logging.getLogger(__name__)


def verified_address(user: User) -> str | None:
    """The person's verified primary address (or any verified one); None if none is verified."""
    addresses = EmailAddress.objects.filter(user=user, verified=True).order_by("-primary", "pk")
    first = addresses.first()
    return first.email if first else None


def site_link(path: str) -> str:
    """An absolute address on the site, for mail (SITE_URL + path)."""
    return settings.SITE_URL.rstrip("/") + path


def subject_line(text: str) -> str:
    return f"{settings.ACCOUNT_EMAIL_SUBJECT_PREFIX}{text}"


def templated_message(
    *,
    template: str,
    subject: str,
    to: str,
    context: Mapping[str, Any],
    headers: Mapping[str, str] | None = None,
) -> EmailMultiAlternatives:
    """A message whose plain-text and HTML bodies are `emails/<template>.txt` and `.html`.

    The HTML template autoescapes what people typed (titles, texts); the text one does not
    need to (`{% autoescape off %}` in it).
    """
    full = {"site_url": settings.SITE_URL.rstrip("/"), **context}
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{template}.txt", full),
        to=[to],
        headers=dict(headers or {}),
    )
    message.attach_alternative(render_to_string(f"emails/{template}.html", full), "text/html")
    return message


def email_document_text(*, document: Document, user: User) -> OutgoingEmail | None:
    """Queue the document's text, as it stands now, for the person's verified address;
    None if they have none. The request that asks only writes the outbox row."""
    address = verified_address(user)
    if address is None:
        return None
    context = {"document": document, "user": user, "site_url": settings.SITE_URL}
    with personal_locale(user):
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


# --- "Your document has been read" ---------------------------------------------------------


def _pending_pages() -> Q:
    return Q(ocr_status__in=[OcrStatus.QUEUED, OcrStatus.RUNNING])


def reading_finished(document: Document) -> bool:
    """Every uploaded file is split into pages and every page is read or failed."""
    if SourceFile.objects.filter(
        document=document, status__in=[SplitStatus.QUEUED, SplitStatus.RUNNING]
    ).exists():
        return False
    pages = Page.objects.filter(document=document)
    return pages.exists() and not pages.filter(_pending_pages()).exists()


def notice_due(document: Document) -> bool:
    """The reading is finished and its owner was not told yet.

    Told once per reading: after a notice, another is due only when every page was queued
    again since (a fresh reading of the whole document). A page whose boxes someone edits is
    queued alone, so box edits and single-page re-readings never send one.
    """
    if not reading_finished(document):
        return False
    notice = DocumentReadNotice.objects.filter(document=document).first()
    if notice is None:
        return True
    first_queued = Page.objects.filter(document=document).aggregate(first=Min("queued_at"))
    return bool(first_queued["first"] and first_queued["first"] > notice.notified_at)


def document_read_if_finished(document_id: int) -> OutgoingEmail | None:
    """Tell the owner their document has been read, with its text attached, if this was the
    last page of the reading (read or failed) and they were not told yet; else nothing.

    Called after the commit of a page's reading (`labeling.reading`), and by the sweep for
    readings whose last step was not a page (a file split after its last page was read).
    Safe to call any number of times and concurrently: the document's row lock orders the
    callers and the `DocumentReadNotice` row records the notice in the mail's transaction.
    """
    with transaction.atomic():
        document = (
            Document.objects.select_for_update().select_related("owner").filter(pk=document_id)
        ).first()
        if document is None or not notice_due(document):
            return None
        address = verified_address(document.owner)
        DocumentReadNotice.objects.update_or_create(
            document=document,
            defaults={"notified_at": timezone.now(), "sent_to": address or ""},
        )
        if address is None:
            return None
        with personal_locale(document.owner):
            message = _document_read_message(document=document, address=address)
        return queue_message(message)


def _document_read_message(*, document: Document, address: str) -> EmailMultiAlternatives:
    pages = list(document.pages.order_by("number"))
    failed = [page for page in pages if page.ocr_status == OcrStatus.FAILED]
    lines = sum(page.lines.count() for page in pages)
    if failed and len(failed) == len(pages):
        subject = _("“%(title)s” could not be read") % {"title": document.title}
    else:
        subject = _("“%(title)s” has been read") % {"title": document.title}
    message = templated_message(
        template="document_read",
        subject=subject_line(subject),
        to=address,
        context={
            "user": document.owner,
            "document": document,
            "page_count": len(pages),
            "failed": failed,
            "line_count": lines,
            "document_url": site_link(reverse("labeling:document", args=[document.pk])),
        },
    )
    message.attach(
        text_filename(document),
        document_text(document=document, user=document.owner),
        "text/plain",
    )
    return message


def sweep_read_notices() -> int:
    """Notices the page hooks could not send: a reading whose last step was the split of a
    file (its last page was read before the split was marked done), or a hook lost with its
    process. Only readings that finished within READ_NOTICE_WINDOW_HOURS, never documents
    imported as ground truth (they have no uploaded file and nothing was read)."""
    since = timezone.now() - timedelta(hours=settings.READ_NOTICE_WINDOW_HOURS)
    candidates = (
        Document.objects.filter(
            Exists(SourceFile.objects.filter(document=OuterRef("pk"))),
            Exists(Page.objects.filter(document=OuterRef("pk"), ocr_finished_at__gte=since)),
        )
        .exclude(Exists(DocumentReadNotice.objects.filter(document=OuterRef("pk"))))
        .values_list("pk", flat=True)[:200]
    )
    sent = 0
    for pk in list(candidates):
        if document_read_if_finished(pk) is not None:
            sent += 1
    return sent


# --- Unsubscribe links (RFC 8058) ---------------------------------------------------------

UNSUBSCRIBE_SALT = "accounts.unsubscribe"

# The digest each link turns off, by the preference field it clears.
DIGEST_KINDS = {"digest": "digest_emails", "moderation": "moderation_emails"}


class UnsubscribeRefused(Exception):
    """The link is forged, damaged, expired or names no one; nothing changed."""


def unsubscribe_token(*, user: User, kind: str) -> str:
    """A signed link token that turns off one kind of digest for one person."""
    if kind not in DIGEST_KINDS:
        raise ValueError(f"unknown digest kind {kind!r}")
    return signing.dumps({"u": user.pk, "k": kind}, salt=UNSUBSCRIBE_SALT, compress=True)


def unsubscribe_url(*, user: User, kind: str) -> str:
    token = unsubscribe_token(user=user, kind=kind)
    return site_link(reverse("accounts:unsubscribe", args=[token]))


def unsubscribe_headers(*, user: User, kind: str) -> dict[str, str]:
    """RFC 8058 one-click: a mail client POSTs `List-Unsubscribe=One-Click` to the link."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(user=user, kind=kind)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def read_unsubscribe_token(token: str) -> tuple[User, str]:
    """The person and digest kind a token names; UnsubscribeRefused when it is not one we
    signed within UNSUBSCRIBE_LINK_DAYS."""
    try:
        data = signing.loads(
            token,
            salt=UNSUBSCRIBE_SALT,
            max_age=timedelta(days=settings.UNSUBSCRIBE_LINK_DAYS),
        )
    except signing.SignatureExpired as exc:
        raise UnsubscribeRefused(_("This link has expired.")) from exc
    except signing.BadSignature as exc:
        raise UnsubscribeRefused(_("This link is not valid.")) from exc
    if not isinstance(data, dict) or data.get("k") not in DIGEST_KINDS:
        raise UnsubscribeRefused(_("This link is not valid."))
    user_id = data.get("u")
    if not isinstance(user_id, int):
        raise UnsubscribeRefused(_("This link is not valid."))
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise UnsubscribeRefused(_("This link names no account."))
    return user, str(data["k"])


def unsubscribe(*, token: str) -> tuple[User, str]:
    """Turn off the digest the token names (idempotent); UnsubscribeRefused changes nothing."""
    user, kind = read_unsubscribe_token(token)
    User.objects.filter(pk=user.pk).update(**{DIGEST_KINDS[kind]: False})
    return user, kind
