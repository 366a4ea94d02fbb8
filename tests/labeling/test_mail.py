"""Mail leaves through the outbox: pages answer at once whatever the mail server does, and every
message arrives once the server answers — exactly once."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from email import message_from_bytes
from email.message import Message

import pytest
from aiosmtpd.controller import Controller
from django.core import mail
from django.core.mail import EmailMessage
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.mail import build_message, queue_message, send_queued
from labeling.models import Document, MailStatus, OutgoingEmail
from tests.processes import Worker, broker_url, empty_broker, free_port, wait_until

PASSWORD = "a long enough passphrase 2026"


class Inbox:
    """What an SMTP server received: one entry per message."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], Message]] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = envelope.content  # type: ignore[attr-defined]
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(content)))  # type: ignore[attr-defined]
        return "250 Message accepted for delivery"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def smtp_server(smtp_port: int) -> Iterator[Callable[[], Inbox]]:
    """start() runs a real SMTP server (aiosmtpd) on smtp_port; stopped after the test."""
    controllers: list[Controller] = []

    def start() -> Inbox:
        inbox = Inbox()
        controller = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
        controller.start()
        controllers.append(controller)
        return inbox

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def hanging_server(smtp_port: int) -> Iterator[Callable[[], None]]:
    """start() listens on smtp_port and never says a word; stop() closes it."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    held: list[socket.socket] = []
    stopped = threading.Event()

    def serve() -> None:
        listener.settimeout(0.2)
        while not stopped.is_set():
            try:
                conn, _ = listener.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)

    def start() -> None:
        listener.bind(("127.0.0.1", smtp_port))
        listener.listen()
        thread.start()

    def stop() -> None:
        stopped.set()
        if thread.is_alive():
            thread.join()
        for conn in held:
            conn.close()
        listener.close()

    start.stop = stop  # type: ignore[attr-defined]
    yield start
    stop()


def smtp_env(port: int) -> dict[str, str]:
    return {
        "EMAIL_HOST": "127.0.0.1",
        "EMAIL_PORT": str(port),
        "EMAIL_USE_TLS": "false",
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
    }


def quick(call: Callable[[], object]) -> object:
    started = time.perf_counter()
    result = call()
    assert time.perf_counter() - started < 2.0, "the page waited for the mail server"
    return result


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_with_the_mail_server_down_or_hanging_pages_answer_at_once_and_mail_arrives_once_later(
    use_broker: Callable[[str], None],
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    smtp_port: int,
    smtp_server: Callable[[], Inbox],
    hanging_server: Callable[[], None],
    read_document: Callable[..., Document],
    user: User,
    client_for: Callable[[User], Client],
) -> None:
    broker = broker_url("redis")
    empty_broker(broker)
    use_broker(broker)
    worker = start_worker(broker, queues="default", **smtp_env(smtp_port))

    # Down: nothing listens. Sign-up, password reset and "E-mail me" all answer at once.
    client = Client()
    response = quick(
        lambda: client.post(
            reverse("account_signup"),
            {"email": "yeni@example.org", "password1": PASSWORD, "password2": PASSWORD},
        )
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert User.objects.filter(email="yeni@example.org").exists()
    response = quick(
        lambda: Client().post(reverse("account_reset_password"), {"email": user.email})
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    document = read_document()
    response = quick(
        lambda: client_for(user).post(reverse("labeling:document_email", args=[document.pk]))
    )
    assert response.status_code == 302  # type: ignore[attr-defined]
    assert OutgoingEmail.objects.count() == 3

    def tried_and_waiting() -> bool:
        rows = OutgoingEmail.objects.all()
        return all(r.attempts >= 1 and r.status == MailStatus.QUEUED and r.error for r in rows)

    wait_until(tried_and_waiting, timeout=60, what="a first failed try", log=worker.log)

    # Hanging: the server takes the connection and never answers; each try times out.
    hanging_server()
    attempts = sum(OutgoingEmail.objects.values_list("attempts", flat=True))
    wait_until(
        lambda: sum(OutgoingEmail.objects.values_list("attempts", flat=True)) >= attempts + 3,
        timeout=60,
        what="tries timing out against a hanging server",
        log=worker.log,
    )
    assert "timed out" in " ".join(OutgoingEmail.objects.values_list("error", flat=True))
    hanging_server.stop()  # type: ignore[attr-defined]

    # Back: every message arrives, once.
    inbox = smtp_server()
    wait_until(
        lambda: not OutgoingEmail.objects.exclude(status=MailStatus.DONE).exists(),
        timeout=60,
        what="sending every message",
        log=worker.log,
    )
    time.sleep(6)  # several more sweeps and retry pauses: nothing is sent twice
    recipients = sorted(to for tos, _ in inbox.messages for to in tos)
    assert recipients == sorted(["yeni@example.org", user.email, user.email])
    subjects = " | ".join(str(m["Subject"]) for _, m in inbox.messages)
    assert "Confirm" in subjects and "Password Reset" in subjects and document.title in subjects


@pytest.mark.django_db
def test_a_queued_message_goes_out_as_it_was_written(
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    message = EmailMessage("Konu", "Metin", to=["a@example.org"], headers={"X-Test": "1"})
    message.attach("metin.txt", "سلام\n", "text/plain")
    message.attach("data.bin", b"\x00\x01", "application/octet-stream")
    with django_capture_on_commit_callbacks(execute=True):
        queued = queue_message(message)
    queued.refresh_from_db()
    assert queued.status == MailStatus.DONE and queued.sent_at is not None
    (sent,) = mail.outbox
    assert (sent.subject, sent.body, sent.to) == ("Konu", "Metin", ["a@example.org"])
    assert sent.extra_headers["X-Test"] == "1"
    assert sent.extra_headers["Message-ID"] == queued.headers["Message-ID"]
    assert sent.attachments[0][1] == "سلام\n"
    assert sent.attachments[1][1] == b"\x00\x01"
    # Sending it again (a late duplicate task) sends nothing.
    send_queued(email_id=queued.pk)
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_the_attached_text_declares_its_charset_once(
    read_document: Callable[..., Document], user: User
) -> None:
    from labeling.notifications import email_document_text

    queued = email_document_text(document=read_document(), user=user)
    assert queued is not None
    raw = build_message(queued).message().as_bytes()
    part = next(p for p in message_from_bytes(raw).walk() if p.get_filename())
    assert part["Content-Type"].count("charset") == 1
    assert part.get_content_charset() == "utf-8"


@pytest.mark.django_db
def test_a_refusal_no_retry_can_change_gives_up_at_once(settings: object) -> None:
    settings.EMAIL_DELIVERY_BACKEND = "tests.labeling.test_mail.RefusingBackend"  # type: ignore[attr-defined]
    queued = OutgoingEmail.objects.create(subject="s", from_email="f@x.org", to=["nobody@x.org"])
    send_queued(email_id=queued.pk)
    queued.refresh_from_db()
    assert queued.status == MailStatus.FAILED
    assert "550" in queued.error


class RefusingBackend:
    """A delivery backend whose server refuses the recipient for good (550)."""

    def __init__(self, **kwargs: object) -> None:
        pass

    def __enter__(self) -> RefusingBackend:
        return self

    def __exit__(self, *args: object) -> None:
        pass

    def send_messages(self, messages: list[EmailMessage]) -> int:
        import smtplib

        raise smtplib.SMTPRecipientsRefused({"nobody@x.org": (550, b"No such user")})


@pytest.mark.django_db
def test_operators_see_what_waits_in_the_outbox_and_moderators_do_not(
    superuser: User, moderator: User, client_for: Callable[[User], Client]
) -> None:
    OutgoingEmail.objects.create(
        subject="Bekleyen", from_email="f@x.org", to=["kisi@x.org"], error="Connection refused"
    )
    url = reverse("admin:labeling_outgoingemail_changelist")
    page = client_for(superuser).get(url).content.decode()
    assert "Bekleyen" in page and "Connection refused" in page
    assert client_for(moderator).get(url).status_code == 403
