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
    blind_next: bool = False  # the next label should come from someone not shown the prediction


def distance(a: str, b: str) -> float:
    """Symmetric CER between two normalized texts: edits over the longer length."""
    if a == b:
        return 0.0
    return Levenshtein.distance(a, b) / max(len(a), len(b), 1)


def decide(
    texts: Sequence[str],
    rules: Rules,
    policy: NormalizationPolicy = DEFAULT_POLICY,
    *,
    anchored: Sequence[bool] | None = None,
) -> Outcome:
    """The state of a line given its counted labels, in the order they came.

    `anchored[i]` says label i kept Tesseract's reading unchanged while seeing it. A group made
    only of such labels is the anchoring guard's case: people confirming the machine are not
    independent evidence, so it needs one more agreeing label, from a blind labeler. (In the
    simulation `bench/consensus_sim.py` runs through this function, such groups are 12.5% of
    agreed lines without the guard but hold 55.4% of their character errors.)
    """
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
    guard = anchored is not None and all(anchored[j] for j in best)
    # The guard only matters once those labels would have agreed.
    guard = guard and len(best) >= rules.labels_needed
    needed = rules.labels_needed + guard
    most = rules.max_labels + guard
    if len(best) >= needed:
        forms = Counter(texts[j] for j in best)
        top = max(forms.values())
        consensus = next(texts[j] for j in best if forms[texts[j]] == top)
        return Outcome(Verdict.AGREED, consensus, agreement, count, best)
    if count >= most:
        return Outcome(Verdict.DISPUTED, "", agreement, count, best)
    # Ask only for as many more labels as could still make the largest group big enough.
    wanted = min(most, count + needed - len(best))
    return Outcome(Verdict.OPEN, "", agreement, wanted, best, blind_next=guard)


def agrees(
    text: str, consensus: str, rules: Rules, policy: NormalizationPolicy = DEFAULT_POLICY
) -> bool:
    """Whether one label agrees with a consensus under the same rules."""
    return distance(normalize(text, policy), normalize(consensus, policy)) <= rules.threshold
