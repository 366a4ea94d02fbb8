"""Daily digests: what became of a contributor's labels, newly disputed lines for moderators;
once a day, only when something happened, only to verified addresses, with a one-click
unsubscribe link that a forged or expired token cannot use."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from email.message import Message
from typing import Any

import pytest
from django.core import mail, signing
from django.test import Client
from django.utils import timezone

from accounts.models import User
from labeling import notifications
from labeling.digests import (
    contributor_digest,
    digest_slot,
    send_contributor_digests,
    send_moderation_digests,
)
from labeling.models import GoldScore, Line, LineStatus
from labeling.review import moderation
from tests.labeling.test_mail import Inbox, smtp_port, smtp_server  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def decided(
    user: User,
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
) -> list[Line]:
    """Four pool lines `user` labelled: approved as they read it, approved otherwise,
    rejected, and rejected then reopened; and a gold record of 9 right of 10."""
    lines = pool_lines((10.0, 20.0, 30.0, 40.0), prediction="كتاب")
    agreed, overturned, rejected, reopened = lines
    for line in lines:
        labelled(line, ("كتاب",), by=user)
        labelled(line, ("كتاب",))
    moderation.approve_line(line=agreed, moderator=moderator)
    moderation.approve_line(line=overturned, moderator=moderator, text="كتابلر")
    moderation.reject_line(line=rejected, moderator=moderator, reason="Not one line")
    moderation.reject_line(line=reopened, moderator=moderator, reason="Crop")
    moderation.reopen_line(line=reopened, moderator=moderator)
    GoldScore.objects.create(user=user, seen=10, correct=9)
    return lines


def to(address: str) -> list[Any]:
    return [m for m in mail.outbox if address in m.to]


def test_the_digest_says_what_became_of_each_label(user: User, decided: list[Line]) -> None:
    now = timezone.now()
    digest = contributor_digest(user=user, since=now - timedelta(hours=1), until=now)
    assert [fate.line_id for fate in digest.agreed] == [decided[0].pk]
    assert [(f.line_id, f.yours, f.approved) for f in digest.overturned] == [
        (decided[1].pk, "كتاب", "كتابلر")
    ]
    assert [(f.line_id, f.reason) for f in digest.rejected] == [(decided[2].pk, "Not one line")]
    assert [fate.line_id for fate in digest.reopened] == [decided[3].pk]
    assert digest.gold_accuracy == 0.9


def test_a_contributor_gets_one_digest_a_day_with_both_bodies(
    user: User, decided: list[Line], django_capture_on_commit_callbacks: Capture
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert send_contributor_digests() >= 1
        assert send_contributor_digests() == 0  # beat ran twice: sent once
    (digest,) = to(user.email)
    assert digest.subject == "[Ottoman OCR] What became of 4 of your labels"
    assert "1 line was approved with your reading (agreed with)" in digest.body
    assert "1 line was approved with another reading than yours (overturned)" in digest.body
    assert "you typed: كتاب" in digest.body and "approved: كتابلر" in digest.body
    assert "1 line you labelled was rejected" in digest.body and "Not one line" in digest.body
    assert "1 line you labelled was reopened" in digest.body
    assert "Gold lines: 9 of 10 right. (90%)" in digest.body
    html, mimetype = digest.alternatives[0]
    assert mimetype == "text/html" and '<span dir="rtl" lang="ota">كتابلر</span>' in html
    assert digest.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # The next day's run covers only what happened since: nothing, so no mail.
    tomorrow = timezone.now() + timedelta(days=1)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_contributor_digests(now=tomorrow) == 0
    assert len(to(user.email)) == 1


def test_no_digest_without_news_without_a_verified_address_or_when_turned_off(
    make_user: Callable[..., User],
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    quiet = make_user("quiet@example.org")
    unverified = make_user("unverified@example.org", verified=False)
    off = make_user("off@example.org")
    User.objects.filter(pk=off.pk).update(digest_emails=False)
    decided_line, open_line = pool_lines((10.0, 20.0))
    labelled(open_line, ("كتاب",), by=quiet)
    for person in (unverified, off):
        labelled(decided_line, ("كتاب",), by=person)
    moderation.approve_line(line=decided_line, moderator=moderator)
    with django_capture_on_commit_callbacks(execute=True):
        assert send_contributor_digests() == 0
    assert mail.outbox == []


def test_labels_written_after_the_decision_are_not_news(
    user: User,
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
) -> None:
    (line,) = pool_lines((10.0,))
    labelled(line, ("كتاب", "قلم", "دفتر", "كاغد"))  # disputed
    moderation.reopen_line(line=line, moderator=moderator)
    labelled(line, ("كتاب",), by=user)
    now = timezone.now()
    assert contributor_digest(user=user, since=now - timedelta(hours=1), until=now).is_empty


@pytest.fixture
def disputed(
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
) -> list[Line]:
    """Two pool lines newly disputed: labels that disagree, and labelers' skips."""
    by_labels, by_skips, _open = pool_lines((10.0, 20.0, 30.0), owner=make_user(), max_labels=2)
    by_labels = labelled(by_labels, ("كتاب", "قلم"))
    assert by_labels.status == LineStatus.DISPUTED
    moderation.flag_line(line=Line.objects.get(pk=by_skips.pk), reasons=Counter({"illegible": 2}))
    return [by_labels, by_skips]


def test_moderators_get_the_newly_disputed_and_flagged_lines_with_links_to_the_admin(
    moderator: User,
    user: User,
    disputed: list[Line],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        assert send_moderation_digests() == 1
        assert send_moderation_digests() == 0
    (digest,) = mail.outbox
    assert digest.to == [moderator.email]  # contributors without the permission get none
    assert digest.subject == "[Ottoman OCR] 2 lines newly disputed or flagged"
    assert "(1 flagged by labelers' skips)" in digest.body
    assert "flagged: Illegible" in digest.body
    assert "/admin/labeling/line/?status__exact=disputed" in digest.body
    for line in disputed:
        assert f"/admin/labeling/line/{line.pk}/change/" in digest.body
    html, _ = digest.alternatives[0]
    assert 'href="http://127.0.0.1:8000/admin/labeling/line/?status__exact=disputed"' in html


def test_digest_days_start_at_the_digest_hour(settings: Any) -> None:
    settings.DIGEST_HOUR = 7
    settings.TIME_ZONE = "UTC"
    before = timezone.now().replace(hour=6, minute=59)
    after = before.replace(hour=7, minute=0, second=0, microsecond=0)
    assert digest_slot(before) == after - timedelta(days=1)
    assert digest_slot(after) == after


# --- The real thing: an SMTP server receives the digest, its link unsubscribes ---------------


@pytest.fixture
def smtp_delivery(settings: Any, smtp_port: int) -> None:  # noqa: F811
    settings.EMAIL_DELIVERY_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = smtp_port
    settings.EMAIL_USE_TLS = False


def parts(message: Message) -> dict[str, str]:
    found = {}
    for part in message.walk():
        if part.get_content_maintype() == "text" and not part.get_filename():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            found[part.get_content_type()] = payload.decode(part.get_content_charset() or "utf-8")
    return found


def test_the_digest_arrives_by_smtp_and_its_one_click_link_unsubscribes(
    user: User,
    decided: list[Line],
    smtp_server: Callable[[], Inbox],  # noqa: F811
    smtp_delivery: None,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    inbox = smtp_server()
    with django_capture_on_commit_callbacks(execute=True):
        send_contributor_digests()
    ((recipients, message),) = [(r, m) for r, m in inbox.messages if user.email in r]
    assert recipients == [user.email]
    assert "What became of 4 of your labels" in str(message["Subject"])
    bodies = parts(message)
    assert "overturned" in bodies["text/plain"] and "overturned" in bodies["text/html"]
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = str(message["List-Unsubscribe"]).strip("<>")
    path = "/" + link.split("://", 1)[1].split("/", 1)[1]

    # A forged token (one character changed) and an expired one change nothing.
    forged = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    client = Client(enforce_csrf_checks=True)
    response = client.post(forged, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400 and b"Nothing was changed" in response.content
    assert User.objects.get(pk=user.pk).digest_emails

    # A link scanner's GET only asks; the mail client's POST (no session, no CSRF) does it.
    assert client.get(path).status_code == 200
    assert User.objects.get(pk=user.pk).digest_emails
    response = client.post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not User.objects.get(pk=user.pk).digest_emails
    assert User.objects.get(pk=user.pk).moderation_emails  # only the digest it names


def test_an_expired_unsubscribe_link_changes_nothing(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = time.time
    with monkeypatch.context() as patch:  # signed 61 days ago; links last 60
        patch.setattr(time, "time", lambda: real() - 61 * 86400)
        old = notifications.unsubscribe_url(user=user, kind="digest")
    path = "/" + old.split("://", 1)[1].split("/", 1)[1]
    response = Client().post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400 and b"expired" in response.content
    assert User.objects.get(pk=user.pk).digest_emails


def test_a_token_for_another_kind_of_mail_or_person_is_refused(user: User) -> None:
    token = signing.dumps({"u": user.pk, "k": "everything"}, salt=notifications.UNSUBSCRIBE_SALT)
    with pytest.raises(notifications.UnsubscribeRefused):
        notifications.unsubscribe(token=token)
    other_salt = signing.dumps({"u": user.pk, "k": "digest"}, salt="something.else")
    with pytest.raises(notifications.UnsubscribeRefused):
        notifications.unsubscribe(token=other_salt)
    assert User.objects.get(pk=user.pk).digest_emails
