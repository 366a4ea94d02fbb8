"""When does a line stop getting labels? The platform's rule, and variants to compare with it.

Every policy asks for labels one at a time and calls the platform's own
`labeling.review.agreement.decide(texts, rules, anchored=...)` after each one, exactly as
`labeling.review.consensus.recompute_line` does. `platform` is the platform's rule as it
stands: the default Rules (2 agreeing labels of up to 4), `anchored[i]` = label i kept the
prediction while seeing it, and a next label given blind when `decide` says `blind_next` (the
queue turns `Line.blind_next` into a blind lease). The others are variants that do not exist
in the platform, built on the same `decide` call and named for what they change.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from bench.consensus.data import Line
from bench.consensus.slots import Slot
from labeling.review.agreement import Rules, Verdict, agrees, decide

PLATFORM = "platform"
NO_GUARD = "no_guard"


@dataclass(frozen=True)
class Label:
    text: str  # normalized
    blind: bool
    kept: bool  # prefilled and submitted exactly the prediction


def kept_prediction(label: Label) -> bool:
    """The platform's `anchored` flag: the label kept the prediction while seeing it."""
    return label.kept


def prefilled(label: Label) -> bool:
    return not label.blind


@dataclass(frozen=True)
class Policy:
    name: str
    rules_for: Callable[[Line], Rules]
    # Passed to decide() as anchored=[...]; None: decide() without the anchoring guard.
    anchored: Callable[[Label], bool] | None = None
    follow_blind_next: bool = False  # give the next label blind when decide() says blind_next
    word_vote: bool = False  # from 3 labels on, a word-by-word majority may settle the line
    note: str = ""


@dataclass
class Run:
    verdict: Verdict
    consensus: str
    labels: list[Label]
    threshold: float
    group: tuple[int, ...]  # indexes of the labels that agreed (empty unless agreed)


def vote_words(texts: Sequence[str]) -> str | None:
    """A word-by-word strict majority among the labels that have the most common word count.

    None unless at least 3 labels share a word count and every word position has a strict
    majority among them: 2 of 3, 3 of 4 or 5.
    """
    by_count: dict[int, list[list[str]]] = {}
    for text in texts:
        words = text.split(" ")
        by_count.setdefault(len(words), []).append(words)
    voters = max(by_count.values(), key=len)
    if len(voters) < 3:
        return None
    chosen = []
    for position in range(len(voters[0])):
        counts: dict[str, int] = {}
        for words in voters:
            counts[words[position]] = counts.get(words[position], 0) + 1
        word, votes = max(counts.items(), key=lambda item: item[1])
        if 2 * votes <= len(voters):
            return None
        chosen.append(word)
    return " ".join(chosen)


def run_policy(policy: Policy, line: Line, slots: Sequence[Slot]) -> Run:
    """Ask for labels one at a time until the line is agreed or disputed."""
    rules = policy.rules_for(line)
    labels: list[Label] = []
    outcome = decide([], rules)
    for slot in slots:
        blind = slot.blind or (policy.follow_blind_next and outcome.blind_next)
        text = slot.blind_text if blind else slot.prefilled_text
        labels.append(Label(text, blind, kept=not blind and text == line.prediction))
        texts = [label.text for label in labels]
        anchored = None if policy.anchored is None else [policy.anchored(x) for x in labels]
        outcome = decide(texts, rules, anchored=anchored)
        if outcome.verdict is Verdict.AGREED:
            consensus, group = outcome.consensus_text, outcome.group
            return Run(Verdict.AGREED, consensus, labels, rules.threshold, group)
        if policy.word_vote and not outcome.blind_next and len(texts) >= 3:
            voted = vote_words(texts)
            if voted is not None:
                return voted_run(voted, labels, rules)
        if outcome.verdict is Verdict.DISPUTED:
            return Run(outcome.verdict, "", labels, rules.threshold, ())
    raise AssertionError("SLOTS is too small: the line is still open")


def voted_run(voted: str, labels: list[Label], rules: Rules) -> Run:
    group = tuple(j for j, label in enumerate(labels) if agrees(label.text, voted, rules))
    return Run(Verdict.AGREED, voted, labels, rules.threshold, group)


def policies(cutoffs: Sequence[float]) -> list[Policy]:
    """The platform's rule first, then the variants."""
    two = Rules()  # the platform's defaults: REVIEW_LABELS_NEEDED 2, REVIEW_MAX_LABELS 4
    three = Rules(labels_needed=3, max_labels=5)
    found = [
        Policy(
            PLATFORM,
            lambda line: two,
            anchored=kept_prediction,
            follow_blind_next=True,
            note="the platform: 2 agreeing of up to 4; an agreement made only of labels that"
            " kept the prediction needs one more, asked of a blind labeler",
        ),
        Policy(
            NO_GUARD,
            lambda line: two,
            note="2 of 4 without the anchoring guard (decide() without anchored=)",
        ),
        Policy(
            "guard_prefilled",
            lambda line: two,
            anchored=kept_prediction,
            note="the platform's guard, but the extra label may be prefilled",
        ),
        Policy("fixed3", lambda line: three, note="3 agreeing of up to 5, no guard"),
    ]
    for cutoff in cutoffs:
        found.append(
            Policy(
                f"adaptive_conf{cutoff:g}",
                lambda line, c=cutoff: three if line.confidence < c else two,
                note=f"3 of 5 when Tesseract's confidence < {cutoff:g}, else 2 of 4; no guard",
            )
        )
    for cutoff in cutoffs:
        found.append(
            Policy(
                f"platform_conf{cutoff:g}",
                lambda line, c=cutoff: three if line.confidence < c else two,
                anchored=kept_prediction,
                follow_blind_next=True,
                note=f"platform + adaptive_conf{cutoff:g}",
            )
        )
    found += [
        Policy(
            "tolerant0.02",
            lambda line: replace(two, threshold=0.02),
            note="2 of 4 agreeing within CER 0.02 (Rules.threshold): 1 edit in 50 characters;"
            " no guard",
        ),
        Policy(
            "word_vote",
            lambda line: two,
            word_vote=True,
            note="2 of 4; from the 3rd label on, a word-by-word majority also settles the line;"
            " no guard",
        ),
        Policy(
            "blind_confirm",
            lambda line: two,
            anchored=prefilled,
            follow_blind_next=True,
            note="2 of 4; an agreement without a blind label needs a 3rd, asked of blind labelers"
            " (the platform's guard with every prefilled label counted as anchored)",
        ),
        Policy(
            "platform_vote",
            lambda line: two,
            anchored=kept_prediction,
            follow_blind_next=True,
            word_vote=True,
            note="platform + word_vote",
        ),
    ]
    return found
