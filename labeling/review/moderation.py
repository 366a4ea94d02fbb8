"""Moderators' decisions: approve (optionally with corrected text), reject with a reason, reopen."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
)
from labeling.ottoman import clean_input


class ModerationRefused(Exception):
    """The decision does not fit the line's state; the message says why."""


def _locked(line: Line) -> Line:
    return Line.objects.select_for_update().get(pk=line.pk)


@transaction.atomic
def approve_line(*, line: Line, moderator: User, text: str | None = None) -> Line:
    """Approve the line with the given text, or with its consensus when no text is given."""
    line = _locked(line)
    approved = clean_input(text) if text is not None else line.consensus_text
    if not approved:
        raise ModerationRefused(f"{line} has no consensus yet; give the text to approve.")
    line.status = LineStatus.APPROVED
    line.consensus_text = approved
    line.flag = ""
    line.save(update_fields=["status", "consensus_text", "flag"])
    ModerationDecision.objects.create(
        line=line, moderator=moderator, action=ModerationAction.APPROVE, text=approved
    )
    return line


@transaction.atomic
def reject_line(*, line: Line, moderator: User, reason: str) -> Line:
    """Reject the line (not usable as training data), with the reason."""
    if not reason.strip():
        raise ModerationRefused("Say why the line is rejected.")
    line = _locked(line)
    line.status = LineStatus.REJECTED
    line.save(update_fields=["status"])
    ModerationDecision.objects.create(
        line=line, moderator=moderator, action=ModerationAction.REJECT, reason=reason.strip()
    )
    return line


@transaction.atomic
def reopen_line(*, line: Line, moderator: User, reason: str = "") -> Line:
    """Send a rejected or disputed line back to the labelers, with room for fresh labels."""
    line = _locked(line)
    if line.status not in (LineStatus.REJECTED, LineStatus.DISPUTED):
        raise ModerationRefused(
            f"{line} is {line.get_status_display().lower()}; only rejected "
            "or disputed lines can be reopened."
        )
    line.status = LineStatus.OPEN
    line.flag = ""
    line.consensus_text = ""
    # The earlier labels did not settle it: they stay as history but stop counting.
    line.transcriptions.update(counts=False)
    line.labels_wanted = line.label_count + line.page.document.labels_needed
    line.save(update_fields=["status", "flag", "consensus_text", "labels_wanted"])
    ModerationDecision.objects.create(
        line=line, moderator=moderator, action=ModerationAction.REOPEN, reason=reason
    )
    return line


@transaction.atomic
def clear_hold(*, score: GoldScore) -> GoldScore:
    """A moderator has looked: the labeler's labels count again, with a fresh gold record."""
    score = GoldScore.objects.select_for_update().get(pk=score.pk)
    score.held_back = False
    score.seen = score.correct = 0
    score.cleared_at = timezone.now()
    score.save()
    return score
