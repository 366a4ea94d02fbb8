"""Moderators decide agreed, disputed and flagged lines in the admin."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import GoldScore, Line, LineStatus, ModerationDecision, Transcription
from labeling.review.moderation import (
    ModerationRefused,
    approve_line,
    clear_hold,
    reject_line,
    reopen_line,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def moderator(make_user: Callable[..., User]) -> User:
    person = make_user("moderator@example.org")
    person.is_staff = True
    person.save()
    person.groups.add(Group.objects.get(name="moderator"))
    return person


def labelled(line: Line, texts: tuple[str, ...], make_user: Callable[..., User]) -> Line:
    for text in texts:
        Transcription.objects.create(line=line, user=make_user(), text=text, kept_prediction=False)
    from labeling.review.consensus import recompute_line

    recompute_line(line=Line.objects.get(pk=line.pk))
    line.refresh_from_db()
    return line


def test_approving_an_agreed_line_keeps_its_consensus_and_records_who(
    moderator: User, make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("سلطان", "سلطان"), make_user)
    assert line.status == LineStatus.AGREED
    approve_line(line=line, moderator=moderator)
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "سلطان")
    assert ModerationDecision.objects.get().moderator == moderator


def test_a_disputed_line_needs_the_moderators_text(
    moderator: User, make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("بر", "ایکی", "اوچ", "دورت"), make_user)
    assert line.status == LineStatus.DISPUTED
    with pytest.raises(ModerationRefused):
        approve_line(line=line, moderator=moderator)
    approve_line(line=line, moderator=moderator, text="بش")
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "بش")


def test_reject_needs_a_reason_and_reopen_asks_for_fresh_labels(
    moderator: User, make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("بر", "ایکی", "اوچ", "دورت"), make_user)
    with pytest.raises(ModerationRefused):
        reject_line(line=line, moderator=moderator, reason=" ")
    reject_line(line=line, moderator=moderator, reason="Two lines in one crop")
    line.refresh_from_db()
    assert line.status == LineStatus.REJECTED
    reopen_line(line=line, moderator=moderator)
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN
    assert line.labels_wanted == 6  # four old labels kept as history, two fresh ones wanted
    assert not line.transcriptions.filter(counts=True).exists()
    line = labelled(line, ("بش", "بش"), make_user)
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "بش")


def test_clearing_a_hold_lets_labels_count_again(make_user: Callable[..., User]) -> None:
    score = GoldScore.objects.create(user=make_user(), seen=10, correct=5, held_back=True)
    clear_hold(score=score)
    score.refresh_from_db()
    assert not score.held_back and score.cleared_at is not None and score.seen == 0


def test_a_moderator_approves_from_the_admin_and_sees_the_crop(
    moderator: User,
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    pool_lines: Callable[..., list[Line]],
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("وطن", "وطن"), make_user)
    client = client_for(moderator)
    changelist = reverse("admin:labeling_line_changelist")
    response = client.post(changelist, {"action": "approve", "_selected_action": [line.pk]})
    assert response.status_code == 302
    line.refresh_from_db()
    assert line.status == LineStatus.APPROVED
    assert client.get(reverse("labeling:line_crop", args=[line.pk])).status_code == 200
    page = client.get(reverse("admin:labeling_line_change", args=[line.pk])).content.decode()
    assert reverse("labeling:line_crop", args=[line.pk]) in page


def test_a_contributor_cannot_moderate(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    client = client_for(user)
    response = client.post(
        reverse("admin:labeling_line_changelist"),
        {"action": "approve", "_selected_action": [line.pk]},
    )
    assert response.status_code == 302  # sent to the login page: not staff
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN
