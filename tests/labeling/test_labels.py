"""Labels on pool lines: the life cycle, bad input, gold lines, history and anchoring."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    Transcription,
)
from labeling.review.labels import skip_line, submit_label
from labeling.review.moderation import reopen_line
from labeling.review.queue import claim_next
from labeling.review.stats import anchoring_by_document, anchoring_rows, labeler_history
from labeling.transcribing import TranscriptionRefused, save_transcription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


@pytest.fixture
def label(make_user: Callable[..., User]) -> Callable[..., Transcription]:
    """A new labeler claims the next line and sends `text` (or confirms)."""

    def send(
        text: str = "", *, user: User | None = None, confirm: bool = False, **kw: object
    ) -> Transcription:
        person = user or make_user()
        lease = lease_for(person)
        if confirm:
            Assignment.objects.filter(pk=lease.pk).update(blind=False)
        return submit_label(
            assignment_id=lease.pk, user=person, text=text, confirm=confirm, **kw
        ).transcription

    return send


def lease_for(person: User) -> Assignment:
    """The line the queue hands this person now (the test needs one)."""
    claim = claim_next(user=person)
    assert claim is not None, "nothing to label"
    return claim.assignment


def test_open_to_agreed(
    pool_lines: Callable[..., list[Line]], label: Callable[..., Transcription]
) -> None:
    (line,) = pool_lines((10.0,))
    label("دولت علیه")
    line.refresh_from_db()
    assert (line.status, line.label_count) == (LineStatus.OPEN, 1)
    label("دولت عليه")  # Arabic yeh: the same reading after normalization
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    assert line.consensus_text == "دولت علیه"
    assert line.agreement == 1.0


def test_open_to_disputed(
    pool_lines: Callable[..., list[Line]], label: Callable[..., Transcription]
) -> None:
    (line,) = pool_lines((10.0,))
    for text in ("بر", "ایکی", "اوچ", "دورت"):
        label(text)
    line.refresh_from_db()
    assert line.status == LineStatus.DISPUTED
    assert claim_next(user=User.objects.create_user(email="late@example.org")) is None


def test_the_prediction_is_never_a_vote_but_confirming_it_is(
    pool_lines: Callable[..., list[Line]], label: Callable[..., Transcription]
) -> None:
    (line,) = pool_lines((10.0,), prediction="كتاب", blind_share=0.0)
    first = label(confirm=True)
    assert first.kept_prediction and first.text == "كتاب"
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN  # one vote for the prediction is not agreement
    second = label("كتاب")
    assert second.kept_prediction
    line.refresh_from_db()
    # Anchoring guard: two people keeping the machine's reading are not yet independent
    # evidence; a third label, from someone not shown the prediction, is asked for.
    assert (line.status, line.labels_wanted, line.blind_next) == (LineStatus.OPEN, 3, True)
    third = label("كتاب")
    assert third.blind and not third.kept_prediction
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "كتاب")


def test_two_independent_corrections_agree_at_two(
    pool_lines: Callable[..., list[Line]], label: Callable[..., Transcription]
) -> None:
    (line,) = pool_lines((10.0,), prediction="كتب", blind_share=0.0)
    label("كتاب")
    label("كتاب")
    line.refresh_from_db()
    assert (line.status, line.label_count, line.blind_next) == (LineStatus.AGREED, 2, False)


def test_a_blind_labeler_cannot_confirm(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,), blind_share=1.0)
    person = make_user()
    lease = lease_for(person)
    assert lease.blind
    with pytest.raises(TranscriptionRefused, match="without Tesseract"):
        submit_label(assignment_id=lease.pk, user=person, confirm=True)
    result = submit_label(assignment_id=lease.pk, user=person, text="كتاب")
    assert result.transcription.blind and not result.transcription.kept_prediction


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("ب" * 501, "too_long"),
        ("kitab", "latin"),
        ("كتاب\u202e", "controls"),
    ],
)
def test_bad_text_is_refused_and_nothing_is_counted(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]], text: str, code: str
) -> None:
    (line,) = pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=lease.pk, user=person, text=text)
    assert refused.value.code == code
    assert str(refused.value)
    assert not Transcription.objects.exists()
    line.refresh_from_db()
    assert line.label_count == 0
    assert Assignment.objects.get().state == AssignmentState.ACTIVE  # the lease is still theirs


def test_control_characters_come_back_removed_for_a_check(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=lease.pk, user=person, text="\u202bكتاب\x07")
    assert refused.value.suggested_text == "كتاب"
    assert "U+202B" in str(refused.value) and "U+0007" in str(refused.value)


def test_latin_text_is_accepted_once_confirmed(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    result = submit_label(assignment_id=lease.pk, user=person, text="Tarih", allow_latin=True)
    assert result.transcription.text == "Tarih"


def test_a_double_submit_is_counted_once(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    submit_label(assignment_id=lease.pk, user=person, text="بر")
    again = submit_label(assignment_id=lease.pk, user=person, text="بر")
    assert again.repeated
    line.refresh_from_db()
    assert line.label_count == 1
    assert Transcription.objects.count() == 1


def test_a_foreign_lease_is_refused(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    owner_of_lease, intruder = make_user(), make_user()
    lease = lease_for(owner_of_lease)
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=lease.pk, user=intruder, text="بر")
    assert refused.value.code == "foreign"
    assert not Transcription.objects.exists()


def test_an_expired_lease_still_counts_while_the_line_needs_it(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    Assignment.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    assert submit_label(assignment_id=lease.pk, user=person, text="بر").transcription


def test_an_expired_lease_taken_over_by_others_is_refused(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    late, b, c = make_user(), make_user(), make_user()
    lease = lease_for(late)
    Assignment.objects.update(expires_at=timezone.now() - timedelta(minutes=1))
    for person in (b, c):
        other = claim_next(user=person)
        assert other is not None and other.assignment.line == line
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=lease.pk, user=late, text="بر")
    assert refused.value.code == "expired"


def test_a_line_decided_meanwhile_refuses_a_late_label(
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    label: Callable[..., Transcription],
) -> None:
    (line,) = pool_lines((10.0,), labels_needed=2)
    a, b, late = make_user(), make_user(), make_user()
    Line.objects.filter(pk=line.pk).update(labels_wanted=3)  # room for three leases
    leases = [lease_for(p) for p in (a, b, late)]
    submit_label(assignment_id=leases[0].pk, user=a, text="بر")
    submit_label(assignment_id=leases[1].pk, user=b, text="بر")
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    with pytest.raises(TranscriptionRefused) as refused:
        submit_label(assignment_id=leases[2].pk, user=late, text="بر")
    assert refused.value.code == "decided"
    line.refresh_from_db()
    assert line.label_count == 2


def test_enough_bad_crop_skips_send_the_line_to_a_moderator(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    for reason in ("bad_crop", "illegible"):
        person = make_user()
        lease = lease_for(person)
        skip_line(assignment_id=lease.pk, user=person, reason=reason)
    line.refresh_from_db()
    assert line.status == LineStatus.DISPUTED
    assert line.flag in ("bad_crop", "illegible")


def test_a_flag_is_recorded_as_a_decision_without_a_moderator(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    for reason in ("illegible", "illegible"):
        person = make_user()
        skip_line(assignment_id=lease_for(person).pk, user=person, reason=reason)
    decision = ModerationDecision.objects.get(line=line)
    assert (decision.action, decision.moderator, decision.from_status) == (
        ModerationAction.FLAG,
        None,
        LineStatus.OPEN,
    )
    assert decision.reason == "Illegible: 2"


def test_skips_before_a_reopen_no_longer_flag_the_line(
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
) -> None:
    (line,) = pool_lines((10.0,))
    for reason in ("bad_crop", "illegible"):
        person = make_user()
        skip_line(assignment_id=lease_for(person).pk, user=person, reason=reason)
    line.refresh_from_db()
    assert line.status == LineStatus.DISPUTED
    reopen_line(line=line, moderator=make_moderator(), reason="The crop was fixed")
    person = make_user()
    skip_line(assignment_id=lease_for(person).pk, user=person, reason="illegible")
    line.refresh_from_db()
    assert (line.status, line.flag) == (LineStatus.OPEN, "")  # one fresh skip is not enough
    person = make_user()
    skip_line(assignment_id=lease_for(person).pk, user=person, reason="bad_crop")
    line.refresh_from_db()
    assert line.status == LineStatus.DISPUTED  # two since the reopen are


def test_a_skipped_line_does_not_come_back_and_other_reasons_do_not_flag(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,))
    person = make_user()
    lease = lease_for(person)
    skip_line(assignment_id=lease.pk, user=person, reason="not_ottoman")
    assert claim_next(user=person) is None
    line.refresh_from_db()
    assert line.status == LineStatus.OPEN


def test_gold_lines_gate_a_careless_labeler(
    settings: pytest.FixtureRequest,
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
) -> None:
    settings.REVIEW_GOLD_SHARE = 1.0  # type: ignore[attr-defined]
    settings.REVIEW_GOLD_MIN_SEEN = 3  # type: ignore[attr-defined]
    gold = pool_lines((10.0, 11.0, 12.0))
    Line.objects.filter(pk__in=[g.pk for g in gold]).update(gold_text="حق")
    (real,) = pool_lines((5.0,))
    careless = make_user()
    for text in ("حق", "باطل", "یوق"):
        lease = lease_for(careless)
        assert lease.line.is_gold
        submit_label(assignment_id=lease.pk, user=careless, text=text)
    score = GoldScore.objects.get(user=careless)
    assert (score.seen, score.correct, score.held_back) == (3, 1, True)
    lease = lease_for(careless)
    assert lease.line == real
    label = submit_label(assignment_id=lease.pk, user=careless, text="بر").transcription
    assert not label.counts
    real.refresh_from_db()
    assert real.labels_wanted == 3  # the held-back label does not fill one of the two places
    assert labeler_history(user=careless).held_back


def test_a_private_owner_decides_alone(user: User, read_document: Callable[..., object]) -> None:
    doc = read_document()
    line = doc.pages.get().lines.first()  # type: ignore[attr-defined]
    save_transcription(line=line, user=user, text="قرار")
    line.refresh_from_db()
    assert (line.status, line.consensus_text) == (LineStatus.AGREED, "قرار")
    save_transcription(line=line, user=user, text="قرار ویردی")
    line.refresh_from_db()
    assert line.consensus_text == "قرار ویردی"


def test_history_and_anchoring_are_counted_on_settled_lines(
    make_user: Callable[..., User], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), prediction="كتاب")
    people = [make_user() for _ in range(3)]
    texts = ("كتاب", "کتب", "كتاب")
    blinds = (False, True, True)
    for person, text, blind in zip(people, texts, blinds, strict=True):
        lease = lease_for(person)
        Assignment.objects.filter(pk=lease.pk).update(blind=blind)
        submit_label(assignment_id=lease.pk, user=person, text=text)
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    overturned = labeler_history(user=people[1])
    assert (overturned.labelled, overturned.agreed, overturned.overturned) == (1, 0, 1)
    (row,) = [
        row
        for row in anchoring_rows(anchoring_by_document())
        if row.document_id == line.page.document_id
    ]
    report = row.anchoring
    assert (report.blind_labels, report.blind_agree, report.blind_as_predicted) == (2, 1, 1)
    assert (report.prefilled_labels, report.prefilled_agree, report.prefilled_kept) == (1, 1, 1)
