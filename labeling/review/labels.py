"""A labeler's answer to a leased line: submit, confirm or skip; agreement follows each label."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    Line,
    LineStatus,
    ModerationAction,
    SkipReason,
    Transcription,
)
from labeling.ottoman import clean_input
from labeling.review.consensus import held_back, is_banned, recompute_line, score_gold
from labeling.review.moderation import flag_line
from labeling.review.queue import live_leases, room_left, take_turn
from labeling.transcribing import TranscriptionRefused, check_text

FLAGGING_REASONS = (SkipReason.ILLEGIBLE, SkipReason.BAD_CROP)


@dataclass(frozen=True)
class Submitted:
    transcription: Transcription
    repeated: bool  # a double submit: the first one stands, nothing was counted twice


def _leased_line(*, assignment_id: int, user: User) -> tuple[Assignment, Line]:
    assignment = Assignment.objects.filter(pk=assignment_id).first()
    if assignment is None or assignment.user_id != user.pk:
        raise TranscriptionRefused(
            _("This line was not handed to you. Take the next line from the queue."),
            code="foreign",
        )
    # Else a claim of theirs running meanwhile misses this answer and can lease them the line
    # again (see take_turn).
    take_turn(user)
    line = (
        Line.objects.select_for_update().select_related("page__document").get(pk=assignment.line_id)
    )
    assignment.refresh_from_db()  # its state as of the lock
    return assignment, line


@transaction.atomic
def submit_label(
    *,
    assignment_id: int,
    user: User,
    text: str = "",
    confirm: bool = False,
    allow_latin: bool = False,
    seconds_spent: float = 0.0,
) -> Submitted:
    """Store the labeler's reading of their leased line and update the line's agreement.

    `confirm` keeps Tesseract's reading as it stands (not possible on a blind line).
    """
    assignment, line = _leased_line(assignment_id=assignment_id, user=user)
    existing = Transcription.objects.filter(line=line, user=user).first()
    if existing is not None:
        if assignment.state == AssignmentState.SUBMITTED:
            return Submitted(transcription=existing, repeated=True)
        raise TranscriptionRefused(_("You have already labelled this line."), code="duplicate")
    if assignment.state == AssignmentState.SKIPPED:
        raise TranscriptionRefused(
            _("You skipped this line; it will not come back to you."), code="skipped"
        )
    if assignment.state == AssignmentState.ENDED:
        raise _ended(user=user, line=line)
    if not line.is_gold and line.status != LineStatus.OPEN:
        raise TranscriptionRefused(
            _(
                "This line was decided meanwhile (%(status)s); your label is no longer needed "
                "and was not counted. Your text is still below."
            )
            % {"status": line.get_status_display().lower()},
            code="decided",
        )
    now = timezone.now()
    if assignment.expires_at <= now and not line.is_gold and room_left(line, now) <= 0:
        raise TranscriptionRefused(
            _(
                "Your hold on this line ran out and others have taken it since; your label "
                "was not counted. Your text is still below."
            ),
            code="expired",
        )
    if confirm:
        if assignment.blind:
            raise TranscriptionRefused(
                _("This line is shown without Tesseract's reading; type what it says."),
                code="blind",
            )
        text = line.prediction
    cleaned = check_text(text, allow_latin=allow_latin or confirm)
    as_predicted = cleaned == clean_input(line.prediction)
    transcription = Transcription.objects.create(
        line=line,
        user=user,
        text=cleaned,
        kept_prediction=not assignment.blind and as_predicted,
        as_predicted=as_predicted,
        seconds_spent=max(0.0, min(float(seconds_spent), 3600.0)),
        blind=assignment.blind,
        counts=not held_back(user),
    )
    assignment.state = AssignmentState.SUBMITTED
    assignment.expires_at = max(assignment.expires_at, now)
    assignment.save(update_fields=["state", "expires_at"])
    # A newer lease of the same line to the same labeler (taken after this one ran out) can
    # never be submitted now; left live it would hold a slot and keep coming back to them.
    Assignment.objects.filter(live_leases(now), line=line, user=user).update(expires_at=now)
    if line.is_gold:
        score_gold(user=user, line=line, text=cleaned)
    recompute_line(line=line)
    return Submitted(transcription=transcription, repeated=False)


@transaction.atomic
def skip_line(*, assignment_id: int, user: User, reason: str) -> Line:
    """Give the line back with a reason; enough illegible/bad-crop skips send it to a moderator."""
    if reason not in SkipReason.values:
        raise TranscriptionRefused(_("Choose why you skip this line."), code="reason")
    assignment, line = _leased_line(assignment_id=assignment_id, user=user)
    if assignment.state != AssignmentState.ACTIVE:
        raise TranscriptionRefused(_("This line is no longer held by you."), code="not_active")
    assignment.state = AssignmentState.SKIPPED
    assignment.skip_reason = reason
    assignment.save(update_fields=["state", "skip_reason"])
    if line.status == LineStatus.OPEN:
        reasons = _flagging_skips(line)
        if sum(reasons.values()) >= settings.REVIEW_FLAG_AFTER_SKIPS:
            flag_line(line=line, reasons=reasons)
    return line


def _ended(*, user: User, line: Line) -> TranscriptionRefused:
    """Why a lease a moderator ended (a ban, or the document's withdrawal) takes no label."""
    if is_banned(user):
        return TranscriptionRefused(
            _(
                "A moderator has stopped your labelling: your labels no longer count, and this "
                "one was not stored."
            ),
            code="banned",
        )
    return TranscriptionRefused(
        _(
            "This document was withdrawn from the labelling pool; your label is no longer "
            "needed and was not stored. Your text is still below."
        ),
        code="withdrawn",
    )


def _flagging_skips(line: Line) -> Counter[str]:
    """The illegible/bad-crop skips of the line since a moderator last reopened it: the older
    ones were about the line before that decision and were answered by it."""
    skips = Assignment.objects.filter(
        line=line, state=AssignmentState.SKIPPED, skip_reason__in=FLAGGING_REASONS
    )
    reopened = line.decisions.filter(action=ModerationAction.REOPEN).aggregate(
        at=Max("created_at")
    )["at"]
    if reopened is not None:
        skips = skips.filter(created_at__gt=reopened)
    return Counter(skips.values_list("skip_reason", flat=True))
