"""When do independent labels agree? Pure functions over texts, no Django.

Texts are compared through `labeling.ottoman.normalize` (the one normalization); the raw
text of the most common agreeing form becomes the consensus. Tesseract's prediction is never
an input here: a labeler who kept it cast a vote like any other.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

from labeling.ottoman import DEFAULT_POLICY, NormalizationPolicy, normalize


class Verdict(StrEnum):
    OPEN = "open"
    AGREED = "agreed"
    DISPUTED = "disputed"


@dataclass(frozen=True)
class Rules:
    labels_needed: int = 2
    max_labels: int = 4
    threshold: float = 0.0  # largest CER (after normalization) between two agreeing labels


@dataclass(frozen=True)
class Outcome:
    verdict: Verdict
    consensus_text: str  # raw text, as one of the agreeing labelers typed it; "" unless agreed
    agreement: float | None  # size of the largest agreeing group / labels counted
    labels_wanted: int  # counted labels the line needs in all, as things stand
    group: tuple[int, ...]  # indexes of the labels in the largest agreeing group


def distance(a: str, b: str) -> float:
    """Symmetric CER between two normalized texts: edits over the longer length."""
    if a == b:
        return 0.0
    return Levenshtein.distance(a, b) / max(len(a), len(b), 1)


def decide(
    texts: Sequence[str], rules: Rules, policy: NormalizationPolicy = DEFAULT_POLICY
) -> Outcome:
    """The state of a line given its counted labels, in the order they came."""
    count = len(texts)
    if count == 0:
        return Outcome(Verdict.OPEN, "", None, rules.labels_needed, ())
    normalized = [normalize(text, policy) for text in texts]
    best: tuple[int, ...] = ()
    for reference in normalized:
        group = tuple(
            j for j, other in enumerate(normalized) if distance(reference, other) <= rules.threshold
        )
        if len(group) > len(best):  # ties go to the group formed first
            best = group
    agreement = len(best) / count
    if len(best) >= rules.labels_needed:
        forms = Counter(texts[j] for j in best)
        top = max(forms.values())
        consensus = next(texts[j] for j in best if forms[texts[j]] == top)
        return Outcome(Verdict.AGREED, consensus, agreement, count, best)
    if count >= rules.max_labels:
        return Outcome(Verdict.DISPUTED, "", agreement, count, best)
    # Ask only for as many more labels as could still make the largest group big enough.
    wanted = min(rules.max_labels, count + rules.labels_needed - len(best))
    return Outcome(Verdict.OPEN, "", agreement, wanted, best)


def agrees(
    text: str, consensus: str, rules: Rules, policy: NormalizationPolicy = DEFAULT_POLICY
) -> bool:
    """Whether one label agrees with a consensus under the same rules."""
    return distance(normalize(text, policy), normalize(consensus, policy)) <= rules.threshold
