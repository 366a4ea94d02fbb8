"""Auto-approval: an agreed line whose agreeing labelers have all proved themselves on gold
lines is approved without a moderator, where its document allows it.

A decision without a moderator records the rule that fired, with its numbers, so that a
moderator reading the line's history sees why nobody looked at it.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from labeling.models import (
    Document,
    GoldScore,
    LabelerBan,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    Transcription,
)


def rule_text(*, document: Document, labelers: int) -> str:
    """The rule as recorded on the decision, e.g. "all 2 agreeing labelers have gold
    accuracy ≥ 90% over ≥ 5 gold lines"."""
    return ngettext(
        "the %(count)d agreeing labeler has gold accuracy ≥ %(accuracy)s over ≥ %(seen)d gold "
        "lines",
        "all %(count)d agreeing labelers have gold accuracy ≥ %(accuracy)s over ≥ %(seen)d gold "
        "lines",
        labelers,
    ) % {
        "count": labelers,
        "accuracy": f"{document.auto_approve_accuracy:.0%}",
        "seen": document.auto_approve_min_gold,
    }


def trusted(*, document: Document, user_ids: set[int]) -> bool:
    """Whether every one of these labelers meets the document's auto-approval bar: at least
    its minimum of gold lines answered since their last hold, with at least its accuracy, not
    held back and not banned."""
    if not user_ids or LabelerBan.objects.active().filter(user_id__in=user_ids).exists():
        return False
    scores = GoldScore.objects.filter(user_id__in=user_ids, held_back=False)
    good = [
        s
        for s in scores
        if s.seen >= max(document.auto_approve_min_gold, 1)
        and s.correct / s.seen >= document.auto_approve_accuracy
    ]
    return len(good) == len(user_ids)


def approve_if_trusted(*, line: Line, agreeing: Sequence[Transcription]) -> bool:
    """Approve the agreed line (the caller holds its lock) when its document auto-approves
    and its agreeing labelers are trusted; records the decision with the rule. True if so."""
    document = line.page.document
    if not document.auto_approve or line.status != LineStatus.AGREED or line.is_gold:
        return False
    user_ids = {label.user_id for label in agreeing}
    if not trusted(document=document, user_ids=user_ids):
        return False
    line.status = LineStatus.APPROVED
    line.save(update_fields=["status"])
    ModerationDecision.objects.create(
        line=line,
        moderator=None,
        action=ModerationAction.AUTO_APPROVE,
        from_status=LineStatus.AGREED,
        text=line.consensus_text,
        reason=_("Approved automatically: %(rule)s.")
        % {"rule": rule_text(document=document, labelers=len(user_ids))},
    )
    return True
