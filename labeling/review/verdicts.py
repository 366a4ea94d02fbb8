"""Each label's verdict against its line's consensus, stored on the label.

A label agrees when its line is agreed or approved with a consensus and `agrees(label, consensus)`
holds under the line's document's rules; it is overturned when it does not; otherwise it waits.
Histories and reports (`review/stats.py`) then count verdicts in SQL instead of comparing texts
on every request. Whatever changes a line's status, consensus or labels calls
`refresh_verdicts` in the same transaction (`consensus.recompute_line`, `moderation.*`,
`boxes`); a change of a document's threshold calls `refresh_document_verdicts`.
"""

from __future__ import annotations

from collections.abc import Iterable

from labeling.models import Document, LabelVerdict, Line, LineStatus, Transcription
from labeling.review.agreement import Rules, agrees

SETTLED = (LineStatus.AGREED, LineStatus.APPROVED)


def verdict_for(text: str, *, line: Line, rules: Rules) -> LabelVerdict:
    """The verdict of a label with this text on the line as it stands."""
    if line.status not in SETTLED or not line.consensus_text:
        return LabelVerdict.PENDING
    if agrees(text, line.consensus_text, rules):
        return LabelVerdict.AGREED
    return LabelVerdict.OVERTURNED


def refresh_verdicts(*, line: Line) -> int:
    """Bring the stored verdicts of the line's labels up to date with its status and
    consensus; returns how many changed. Call it where the line changed, in that transaction
    (the caller holds the line's lock, so no label comes or goes meanwhile)."""
    labels = Transcription.objects.filter(line=line)
    if line.status not in SETTLED or not line.consensus_text:
        return labels.exclude(verdict=LabelVerdict.PENDING).update(verdict=LabelVerdict.PENDING)
    # consensus imports this module (recompute_line ends here): import its rules at call time.
    from labeling.review.consensus import rules_for

    rules = rules_for(line)
    changed: dict[LabelVerdict, list[int]] = {}
    for pk, text, stored in labels.values_list("pk", "text", "verdict"):
        verdict = verdict_for(text, line=line, rules=rules)
        if verdict != stored:
            changed.setdefault(verdict, []).append(pk)
    for verdict, pks in changed.items():
        Transcription.objects.filter(pk__in=pks).update(verdict=verdict)
    return sum(len(pks) for pks in changed.values())


def refresh_lines(lines: Iterable[Line]) -> int:
    """`refresh_verdicts` for each line (with its document selected): a page after an undo."""
    return sum(refresh_verdicts(line=line) for line in lines)


def refresh_document_verdicts(*, document: Document) -> int:
    """Every verdict of the document again: its agreement threshold changed. Lines whose labels
    wait need nothing (a waiting label stays waiting whatever the threshold)."""
    settled = (
        Line.objects.filter(page__document=document, status__in=SETTLED)
        .exclude(consensus_text="")
        .select_related("page__document")
        .order_by("pk")
    )
    return refresh_lines(settled.iterator(chunk_size=500))
