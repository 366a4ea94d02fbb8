"""A line's state from its labels: agreement for pool lines, the owner's word for private ones,
and the gold-line record that decides whose labels count."""

from __future__ import annotations

from django.conf import settings

from accounts.models import User
from labeling.models import GoldScore, LabelerBan, Line, LineStatus
from labeling.review.agreement import Rules, Verdict, agrees, decide
from labeling.review.auto import approve_if_trusted
from labeling.review.verdicts import refresh_verdicts


def rules_for(line: Line) -> Rules:
    document = line.page.document
    return Rules(
        labels_needed=document.labels_needed,
        max_labels=max(document.max_labels, document.labels_needed),
        threshold=document.agreement_threshold,
    )


def recompute_line(*, line: Line) -> None:
    """Bring the line's status, consensus and need up to date with its labels.

    The caller holds the line's row lock. In a private document the owner decides alone:
    their text is the line's text. Pool lines need independent agreement; gold lines and
    lines a moderator decided (or labelers flagged) keep their state. A line that becomes
    agreed is approved at once when its document's auto-approval rule holds (`auto`).
    A withdrawn pool document's lines (no longer in the pool) keep the pool's rules.
    Every label's stored verdict follows (`verdicts.refresh_verdicts`), a new one included.
    """
    labels = list(line.transcriptions.order_by("created_at", "pk"))
    line.label_count = len(labels)
    fields = ["label_count", "labels_wanted", "status", "consensus_text", "agreement"]
    if line.is_decided or line.is_gold or line.flag:
        line.save(update_fields=["label_count"])
        refresh_verdicts(line=line)
        return
    if not line.in_pool and not line.page.document.is_withdrawn:
        owner_label = next((t for t in labels if t.user_id == line.page.document.owner_id), None)
        if owner_label is not None:
            line.status, line.consensus_text, line.agreement = (
                LineStatus.AGREED,
                owner_label.text,
                1.0,
            )
        line.labels_wanted = 1
        line.save(update_fields=fields)
        refresh_verdicts(line=line)
        return
    counted = [t for t in labels if t.counts]
    outcome = decide(
        [t.text for t in counted],
        rules_for(line),
        anchored=[t.kept_prediction and not t.blind for t in counted],
    )
    line.status = {
        Verdict.OPEN: LineStatus.OPEN,
        Verdict.AGREED: LineStatus.AGREED,
        Verdict.DISPUTED: LineStatus.DISPUTED,
    }[outcome.verdict]
    line.consensus_text = outcome.consensus_text
    line.agreement = outcome.agreement
    line.labels_wanted = outcome.labels_wanted + (len(labels) - len(counted))
    line.blind_next = outcome.blind_next
    line.save(update_fields=[*fields, "blind_next"])
    if line.status == LineStatus.AGREED:
        approve_if_trusted(line=line, agreeing=[counted[i] for i in outcome.group])
    refresh_verdicts(line=line)


def is_banned(user: User) -> bool:
    return LabelerBan.objects.active().filter(user=user).exists()


def held_back(user: User) -> bool:
    """Whether a label the person gives now does not count: held back by their gold record,
    or banned by a moderator."""
    return GoldScore.objects.filter(user=user, held_back=True).exists() or is_banned(user)


def score_gold(*, user: User, line: Line, text: str) -> None:
    score, _ = GoldScore.objects.select_for_update().get_or_create(user=user)
    score.seen += 1
    if agrees(text, line.gold_text, rules_for(line)):
        score.correct += 1
    if (
        score.seen >= settings.REVIEW_GOLD_MIN_SEEN
        and score.correct / score.seen < settings.REVIEW_GOLD_MIN_ACCURACY
    ):
        score.held_back = True
    score.save()
