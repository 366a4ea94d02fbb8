"""The labeling queue: who gets which line, and leases that never exceed a line's need."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from labeling.models import Assignment, Line
from labeling.review.labels import submit_label
from labeling.review.moderation import reject_line
from labeling.review.queue import claim_next, is_blind

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


def claimed_line(user: User) -> Line | None:
    claim = claim_next(user=user)
    return claim.assignment.line if claim else None


def test_it_hands_out_the_lowest_confidence_line_first(
    user: User, pool_lines: Callable[..., list[Line]]
) -> None:
    lines = pool_lines((50.0, 20.0, 80.0))
    assert claimed_line(user) == lines[1]


def test_it_hands_back_the_labelers_own_live_lease(
    user: User, pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines()
    first = claim_next(user=user)
    again = claim_next(user=user)
    assert first and again and again.resumed
    assert again.assignment == first.assignment


def test_a_line_is_not_leased_beyond_what_it_needs(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    a, b, c = make_user(), make_user(), make_user()
    assert claimed_line(a) == line
    assert claimed_line(b) == line
    assert claimed_line(c) is None  # two live leases cover the two labels it needs
    assert Assignment.objects.filter(line=line).count() == 2


def test_an_expired_lease_frees_the_line(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    a, b, c = make_user(), make_user(), make_user()
    claimed_line(a)
    claimed_line(b)
    Assignment.objects.filter(user=a).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert claimed_line(c) == line


def test_it_never_offers_a_line_the_labeler_labelled_or_owns(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    owner = make_user()
    pool_lines((10.0, 20.0), owner=owner)
    assert claim_next(user=owner) is None
    labeler = make_user()
    claim = claim_next(user=labeler)
    assert claim is not None
    submit_label(assignment_id=claim.assignment.pk, user=labeler, text="بر")
    second = claimed_line(labeler)
    assert second is not None and second != claim.assignment.line
    submit_label(
        assignment_id=Assignment.objects.get(user=labeler, line=second).pk, user=labeler, text="بر"
    )
    assert claim_next(user=labeler) is None


def test_a_line_wanting_a_third_label_goes_back_into_the_queue(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    a, b, c = make_user(), make_user(), make_user()
    for person, text in ((a, "سلطان"), (b, "سلطنت")):
        claim = claim_next(user=person)
        assert claim is not None
        submit_label(assignment_id=claim.assignment.pk, user=person, text=text)
    line.refresh_from_db()
    assert (line.status, line.labels_wanted) == ("open", 3)
    assert claimed_line(c) == line


def test_it_can_stay_within_one_document(user: User, pool_lines: Callable[..., list[Line]]) -> None:
    pool_lines((5.0,))
    other = pool_lines((90.0,))
    claim = claim_next(user=user, document=other[0].page.document)
    assert claim is not None and claim.assignment.line == other[0]


def test_about_a_fifth_of_labels_are_blind() -> None:
    draws = [
        is_blind(line_id=line, user_id=user, share=0.2) for line in range(300) for user in range(10)
    ]
    assert 0.17 < sum(draws) / len(draws) < 0.23
    assert is_blind(line_id=7, user_id=3, share=0.2) == is_blind(line_id=7, user_id=3, share=0.2)


def test_blind_leases_honour_the_documents_share(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines(tuple(float(i) for i in range(40)), blind_share=1.0, labels_needed=1)
    person = make_user()
    claim = claim_next(user=person)
    assert claim is not None and claim.assignment.blind
    (seen,) = pool_lines((1.0,), blind_share=0.0)
    other = make_user()
    claim = claim_next(user=other, document=seen.page.document)
    assert claim is not None and not claim.assignment.blind


def test_about_one_line_in_twenty_is_a_gold_line() -> None:
    from labeling.review.queue import takes_gold

    draws = [
        takes_gold(user_id=user, turn=turn, share=0.05) for user in range(20) for turn in range(500)
    ]
    assert 0.04 < sum(draws) / len(draws) < 0.06


def test_a_lease_on_a_line_decided_meanwhile_is_closed_and_the_next_line_handed_out(
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
) -> None:
    first, second = pool_lines((10.0, 20.0))
    holder = make_user()
    held = claim_next(user=holder)
    assert held is not None and held.assignment.line == first
    reject_line(line=first, moderator=make_moderator(), reason="Two lines in one crop")

    claim = claim_next(user=holder)

    assert claim is not None and not claim.resumed
    assert claim.assignment.line == second
    held.assignment.refresh_from_db()
    assert held.assignment.expires_at <= timezone.now()  # closed: it holds no slot any more
    again = claim_next(user=holder)
    assert again is not None and again.assignment == claim.assignment
