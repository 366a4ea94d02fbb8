"""Moderators' decisions: each one starts from an allowed state and is recorded."""

from collections.abc import Callable

import pytest
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
)
from labeling.review.labels import submit_label
from labeling.review.moderation import (
    ModerationRefused,
    approve_line,
    clear_hold,
    make_gold,
    reject_line,
    reopen_line,
)
from labeling.review.queue import claim_next
from labeling.transcribing import TranscriptionRefused

pytestmark = pytest.mark.django_db

DISPUTING = ("بر", "ایکی", "اوچ", "دورت")


def test_approving_an_agreed_line_keeps_its_consensus_and_records_who_and_from_what(
    moderator: User, pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("سلطان", "سلطان"))
    assert line.status == LineStatus.AGREED
    approve_line(line=line, moderator=moderator)
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "سلطان")
    decision = ModerationDecision.objects.get()
    assert (decision.moderator, decision.action, decision.from_status, decision.text) == (
        moderator,
        ModerationAction.APPROVE,
        LineStatus.AGREED,
        "سلطان",
    )


def test_a_disputed_line_needs_the_moderators_text(
    moderator: User, pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, DISPUTING)
    assert line.status == LineStatus.DISPUTED
    with pytest.raises(ModerationRefused):
        approve_line(line=line, moderator=moderator)
    approve_line(line=line, moderator=moderator, text="بش")
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.APPROVED, "بش")


def test_reject_needs_a_reason_and_reopen_asks_for_fresh_labels(
    moderator: User, pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, DISPUTING)
    with pytest.raises(ModerationRefused):
        reject_line(line=line, moderator=moderator, reason=" ")
    reject_line(line=line, moderator=moderator, reason="Two lines in one crop")
    line.refresh_from_db()
    assert line.status == LineStatus.REJECTED
    reopen_line(line=line, moderator=moderator, reason="The crop was fixed")
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN
    assert line.labels_wanted == 6  # four old labels kept as history, two fresh ones wanted
    assert not line.transcriptions.filter(counts=True).exists()
    line = labelled(line, ("بش", "بش"))
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "بش")
    history = list(
        ModerationDecision.objects.order_by("pk").values_list("action", "from_status", "reason")
    )
    assert history == [
        (ModerationAction.REJECT, LineStatus.DISPUTED, "Two lines in one crop"),
        (ModerationAction.REOPEN, LineStatus.REJECTED, "The crop was fixed"),
    ]


@pytest.mark.parametrize(
    ("texts", "decide", "message"),
    [
        ((), "approve", "only agreed or disputed lines can be approved"),  # open
        (("سلطان", "سلطان", "approve"), "approve", "only agreed or disputed"),  # a second time
        (("سلطان", "سلطان", "reject"), "approve", "only agreed or disputed"),  # rejected
        (("سلطان", "سلطان", "reject"), "reject", "only open, agreed, disputed or approved"),
        (("سلطان", "سلطان"), "reopen", "only rejected or disputed lines can be reopened"),
        (("سلطان", "سلطان"), "make_gold", "only approved lines can become gold lines"),
    ],
)
def test_a_decision_from_a_state_it_does_not_start_from_is_refused_and_changes_nothing(
    moderator: User,
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
    texts: tuple[str, ...],
    decide: str,
    message: str,
) -> None:
    (line,) = pool_lines((10.0,))
    labels = tuple(t for t in texts if t not in ("approve", "reject"))
    if labels:
        line = labelled(line, labels)
    if "approve" in texts:
        approve_line(line=line, moderator=moderator)
    if "reject" in texts:
        reject_line(line=line, moderator=moderator, reason="Bad crop")
    line.refresh_from_db()
    before = (line.status, line.consensus_text, line.gold_text, line.decisions.count())
    actions = {
        "approve": lambda: approve_line(line=line, moderator=moderator, text="بش"),
        "reject": lambda: reject_line(line=line, moderator=moderator, reason="Again"),
        "reopen": lambda: reopen_line(line=line, moderator=moderator),
        "make_gold": lambda: make_gold(line=line, moderator=moderator),
    }
    with pytest.raises(ModerationRefused, match=message):
        actions[decide]()
    line.refresh_from_db()
    assert (line.status, line.consensus_text, line.gold_text, line.decisions.count()) == before


def test_a_moderator_cannot_approve_a_line_whose_only_labels_are_theirs(
    moderator: User,
    make_moderator: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
) -> None:
    (line,) = pool_lines((10.0,), labels_needed=1)
    line = labelled(line, ("سلطان",), by=moderator)
    assert line.status == LineStatus.AGREED
    with pytest.raises(ModerationRefused, match="only your own label"):
        approve_line(line=line, moderator=moderator)
    with pytest.raises(ModerationRefused, match="only your own label"):
        approve_line(line=line, moderator=moderator, text="سلطان")
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED and not line.decisions.exists()
    approve_line(line=line, moderator=make_moderator())
    line.refresh_from_db()
    assert line.status == LineStatus.APPROVED


def test_making_a_gold_line_records_the_answer(
    moderator: User, pool_lines: Callable[..., list[Line]], labelled: Callable[..., Line]
) -> None:
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("سلطان", "سلطان"))
    approve_line(line=line, moderator=moderator)
    make_gold(line=line, moderator=moderator, answer="سلطان عثمان")
    line.refresh_from_db()
    assert (line.gold_text, line.consensus_text) == ("سلطان عثمان", "سلطان عثمان")
    decision = line.decisions.get(action=ModerationAction.MAKE_GOLD)
    assert (decision.moderator, decision.text, decision.from_status) == (
        moderator,
        "سلطان عثمان",
        LineStatus.APPROVED,
    )
    with pytest.raises(ModerationRefused, match="already a gold line"):
        make_gold(line=line, moderator=moderator, answer="سلطان عثمان")


def test_a_rejected_gold_line_stops_grading_people(
    settings: pytest.FixtureRequest,
    moderator: User,
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    labelled: Callable[..., Line],
) -> None:
    settings.REVIEW_GOLD_SHARE = 1.0  # type: ignore[attr-defined]
    (line,) = pool_lines((10.0,))
    line = labelled(line, ("حق", "حق"))
    approve_line(line=line, moderator=moderator)
    make_gold(line=line, moderator=moderator)
    holder, newcomer = make_user(), make_user()
    claim = claim_next(user=holder)
    assert claim is not None and claim.assignment.line == line  # a gold line, handed out

    reject_line(line=line, moderator=moderator, reason="The answer was wrong")

    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=claim.assignment.pk, user=holder, text="باطل")
    assert refused.value.code == "decided"
    assert not GoldScore.objects.filter(user=holder).exists()  # not graded on it
    assert claim_next(user=newcomer) is None  # nor handed to anyone as a test


def test_clearing_a_hold_lets_labels_count_again_and_records_who(
    moderator: User, make_user: Callable[..., User]
) -> None:
    score = GoldScore.objects.create(user=make_user(), seen=10, correct=5, held_back=True)
    before = timezone.now()
    clear_hold(score=score, moderator=moderator)
    score.refresh_from_db()
    assert not score.held_back and score.seen == 0
    assert score.cleared_by == moderator and score.cleared_at >= before
    with pytest.raises(ModerationRefused, match="not held back"):
        clear_hold(score=score, moderator=moderator)
