"""Every e-mail goes out through an outbox row and a task that retries for hours.

Django's EMAIL_BACKEND is `OutboxBackend`: a page that sends mail (sign-up, password reset,
"E-mail me") only writes an `OutgoingEmail` row and hands its id to the broker after commit,
so it answers at once whatever the mail server does. The `send_email` task sends it with
EMAIL_TIMEOUT on every SMTP call; a server that is down, refuses for now or hangs puts the
row back to wait (1 min, 2, 4 … up to EMAIL_RETRY_MAX_SECONDS between tries) until
EMAIL_GIVE_UP_HOURS have passed. One run holds a row at a time and a sent row is never
sent again.
"""

from __future__ import annotations

import base64
import logging
import smtplib
import uuid
from collections.abc import Sequence
from datetime import timedelta
from email.utils import make_msgid

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from labeling import jobs
from labeling.models import OutgoingEmail

logger = logging.getLogger(__name__)


def _task():  # type: ignore[no-untyped-def]
    from labeling.tasks import send_email  # tasks import this module

    return send_email


def queue_message(message: EmailMessage) -> OutgoingEmail:
    """Keep the message in the outbox and send it from a worker after commit."""
    headers = {str(key): str(value) for key, value in message.extra_headers.items()}
    # Fixed now, so every try sends the same message and a receiver can tell a repeat.
    domain = settings.DEFAULT_FROM_EMAIL.rsplit("@", 1)[-1].strip("> ") or "localhost"
    headers.setdefault("Message-ID", make_msgid(domain=domain))
    attachments = []
    for attachment in message.attachments:
        filename, content, mimetype = attachment
        is_text = isinstance(content, str)
        raw = content.encode("utf-8") if is_text else bytes(content)
        attachments.append(
            [filename, base64.b64encode(raw).decode("ascii"), mimetype or "", is_text]
        )
    outgoing = OutgoingEmail.objects.create(
        subject=str(message.subject),
        from_email=str(message.from_email or settings.DEFAULT_FROM_EMAIL),
        to=list(message.to),
        cc=list(message.cc),
        bcc=list(message.bcc),
        reply_to=list(message.reply_to),
        headers=headers,
        body=str(message.body),
        alternatives=[
            [str(content), mimetype] for content, mimetype in getattr(message, "alternatives", [])
        ],
        attachments=attachments,
    )
    jobs.send_on_commit(_task(), OutgoingEmail, [outgoing.pk])
    return outgoing


class OutboxBackend(BaseEmailBackend):
    """Django's EMAIL_BACKEND: whoever sends mail (allauth, the admin, our pages) only fills
    the outbox; the worker delivers with EMAIL_DELIVERY_BACKEND."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            queue_message(message)
        return len(email_messages)


def build_message(outgoing: OutgoingEmail) -> EmailMultiAlternatives:
    """The message as it was queued."""
    message = EmailMultiAlternatives(
        subject=outgoing.subject,
        body=outgoing.body,
        from_email=outgoing.from_email,
        to=outgoing.to,
        cc=outgoing.cc,
        bcc=outgoing.bcc,
        reply_to=outgoing.reply_to,
        headers=outgoing.headers,
    )
    for content, mimetype in outgoing.alternatives:
        message.attach_alternative(content, mimetype)
    for filename, encoded, mimetype, is_text in outgoing.attachments:
        raw = base64.b64decode(encoded)
        message.attach(filename, raw.decode("utf-8") if is_text else raw, mimetype or None)
    return message


def retry_delay(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed try: doubling, capped."""
    first = settings.EMAIL_RETRY_FIRST_SECONDS
    return float(min(first * 2 ** max(attempts - 1, 0), settings.EMAIL_RETRY_MAX_SECONDS))


def _permanent(exc: Exception) -> bool:
    """A refusal that no retry will change (the server said 5xx to this message)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code >= 500
    return False


def send_queued(*, email_id: int) -> None:
    """Send one queued e-mail. Safe to run twice: a sent or held row is left alone."""
    lease = jobs.claim(OutgoingEmail, email_id)
    if lease is None:
        return
    outgoing = OutgoingEmail.objects.get(pk=email_id)
    with jobs.heartbeat(OutgoingEmail, email_id, lease):
        try:
            delivery = get_connection(
                settings.EMAIL_DELIVERY_BACKEND, timeout=settings.EMAIL_TIMEOUT
            )
            with delivery as connection:
                connection.send_messages([build_message(outgoing)])
        except Exception as exc:  # the mail server's trouble, whatever form it takes
            _failed(outgoing, lease, exc)
            return
    jobs.finish(OutgoingEmail, email_id, lease, error="", sent_at=timezone.now())


def _failed(outgoing: OutgoingEmail, lease: uuid.UUID, exc: Exception) -> None:
    error = f"{type(exc).__name__}: {exc}"
    given_up = timezone.now() - outgoing.created_at > timedelta(hours=settings.EMAIL_GIVE_UP_HOURS)
    if _permanent(exc) or given_up:
        logger.error("Giving up e-mail %s to %s: %s", outgoing.pk, outgoing.to, error)
        jobs.fail(OutgoingEmail, outgoing.pk, lease, error)
        return
    delay = retry_delay(outgoing.attempts)
    logger.warning(
        "E-mail %s to %s not sent (%s); trying again in %.0f s",
        outgoing.pk,
        outgoing.to,
        error,
        delay,
    )
    jobs.release(OutgoingEmail, outgoing.pk, lease, delay=delay, message=error)


def sweep() -> jobs.Swept:
    return jobs.sweep(OutgoingEmail, _task(), queue="default")
