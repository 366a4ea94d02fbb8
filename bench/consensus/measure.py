"""Running the policies over the lines, replicate after replicate, and tallying what they cost
(labels per line) and what they buy (the character error rate of agreed lines)."""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field

from rapidfuzz.distance import Levenshtein

from bench.consensus.data import Line
from bench.consensus.labelers import Kind, population
from bench.consensus.policies import Policy, Run, run_policy
from bench.consensus.slots import error_spots, write_slots
from labeling.ottoman import normalize
from labeling.review.agreement import Rules, Verdict, agrees

TARGET_LABELS = 2.3
TARGET_CER = 0.005

# (kind, "blind" or "prefilled") -> [edits, reference characters, exact lines, labels]
Calibration = dict[tuple[str, str], list[int]]


@dataclass
class Tally:
    lines: int = 0
    labels: int = 0
    blind_labels: int = 0
    settled_at_two: int = 0
    prefilled_kept: int = 0
    blind_as_predicted: int = 0
    agreed: int = 0
    disputed: int = 0
    edits: int = 0
    reference_chars: int = 0
    wrong_agreed: int = 0
    blind_on_agreed: int = 0
    blind_agreeing: int = 0
    prefilled_on_agreed: int = 0
    prefilled_agreeing: int = 0
    # Agreed lines whose agreeing labels all kept the prediction: the anchoring guard's case.
    kept_only_agreed: int = 0
    kept_only_edits: int = 0
    kept_only_wrong: int = 0
    per_replicate: list[tuple[float, float]] = field(default_factory=list)

    def add(self, line: Line, run: Run) -> None:
        self.lines += 1
        self.labels += len(run.labels)
        self.blind_labels += sum(label.blind for label in run.labels)
        self.settled_at_two += len(run.labels) == 2
        self.prefilled_kept += sum(label.kept for label in run.labels)
        self.blind_as_predicted += sum(
            label.blind and label.text == line.prediction for label in run.labels
        )
        if run.verdict is Verdict.DISPUTED:
            self.disputed += 1
            return
        self.agreed += 1
        edits = Levenshtein.distance(line.truth, normalize(run.consensus))
        self.edits += edits
        self.reference_chars += len(line.truth)
        self.wrong_agreed += edits > 0
        if run.group and all(run.labels[j].kept for j in run.group):
            self.kept_only_agreed += 1
            self.kept_only_edits += edits
            self.kept_only_wrong += edits > 0
        rules = Rules(threshold=run.threshold)
        for label in run.labels:
            agreeing = agrees(label.text, run.consensus, rules)
            if label.blind:
                self.blind_on_agreed += 1
                self.blind_agreeing += agreeing
            else:
                self.prefilled_on_agreed += 1
                self.prefilled_agreeing += agreeing

    def figures(self) -> dict[str, float]:
        labels_spread = [labels for labels, _ in self.per_replicate]
        cer_spread = [cer for _, cer in self.per_replicate]
        blind = self.blind_agreeing / max(self.blind_on_agreed, 1)
        prefilled = self.prefilled_agreeing / max(self.prefilled_on_agreed, 1)
        prefilled_labels = max(self.labels - self.blind_labels, 1)
        return {
            "labels_per_line": round(self.labels / self.lines, 4),
            "labels_per_line_se": round(standard_error(labels_spread), 4),
            "agreed_share": round(self.agreed / self.lines, 4),
            "disputed_share": round(self.disputed / self.lines, 4),
            "agreed_cer": round(self.edits / max(self.reference_chars, 1), 5),
            "agreed_cer_se": round(standard_error(cer_spread), 5),
            "wrong_agreed_share": round(self.wrong_agreed / max(self.agreed, 1), 4),
            "settled_at_two_share": round(self.settled_at_two / self.lines, 4),
            "blind_label_share": round(self.blind_labels / self.labels, 4),
            "prefilled_kept_rate": round(self.prefilled_kept / prefilled_labels, 4),
            "blind_as_predicted_rate": round(
                self.blind_as_predicted / max(self.blind_labels, 1), 4
            ),
            "blind_agree_rate": round(blind, 4),
            "prefilled_agree_rate": round(prefilled, 4),
            # Of the agreed lines, those agreed only by labels that kept the prediction; their
            # share of the agreed lines' character errors, and of the wrong agreed lines.
            "kept_only_share": round(self.kept_only_agreed / max(self.agreed, 1), 4),
            "kept_only_error_share": round(self.kept_only_edits / max(self.edits, 1), 4),
            "kept_only_wrong_share": round(self.kept_only_wrong / max(self.wrong_agreed, 1), 4),
        }


def standard_error(values: Sequence[float]) -> float:
    return statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else 0.0


def simulate(
    lines: Sequence[Line],
    policy_list: Sequence[Policy],
    kind_list: Sequence[Kind],
    *,
    seed: int,
    replicates: int,
    calibration: Calibration | None = None,
) -> dict[str, Tally]:
    """Every policy over every line, `replicates` times with fresh labels drawn per line."""
    labelers = population(seed, kind_list)
    spots = {line.key: error_spots(line, seed) for line in lines}
    tallies = {policy.name: Tally() for policy in policy_list}
    for replicate in range(replicates):
        before = {
            name: (t.labels, t.lines, t.edits, t.reference_chars) for name, t in tallies.items()
        }
        for line in lines:
            rng = random.Random(f"{seed}:{replicate}:{line.key}")
            ops, line_spots = spots[line.key]
            slots = write_slots(line, ops, line_spots, labelers, rng)
            if calibration is not None:
                for slot in slots:
                    for mode, text in (
                        ("blind", slot.blind_text),
                        ("prefilled", slot.prefilled_text),
                    ):
                        entry = calibration.setdefault((slot.labeler.kind.name, mode), [0, 0, 0, 0])
                        entry[0] += Levenshtein.distance(line.truth, text)
                        entry[1] += len(line.truth)
                        entry[2] += text == line.truth
                        entry[3] += 1
            for policy in policy_list:
                tallies[policy.name].add(line, run_policy(policy, line, slots))
        for name, tally in tallies.items():
            labels0, lines0, edits0, chars0 = before[name]
            tally.per_replicate.append(
                (
                    (tally.labels - labels0) / (tally.lines - lines0),
                    (tally.edits - edits0) / max(tally.reference_chars - chars0, 1),
                )
            )
    return tallies


def meets_target(figures: dict[str, float]) -> bool:
    return figures["labels_per_line"] <= TARGET_LABELS and figures["agreed_cer"] <= TARGET_CER


def pick_winner(figures: dict[str, dict[str, float]]) -> tuple[str, bool]:
    """The policy meeting both targets with the fewest labels; else the closest, and False.

    Closest: the cheapest policy meeting the CER target (ground truth that is wrong costs more
    than labels), else the one with the lowest CER.
    """
    meeting = [name for name, f in figures.items() if meets_target(f)]
    if meeting:
        return min(
            meeting, key=lambda n: (figures[n]["labels_per_line"], figures[n]["agreed_cer"])
        ), True
    accurate = [name for name, f in figures.items() if f["agreed_cer"] <= TARGET_CER]
    if accurate:
        return min(accurate, key=lambda n: figures[n]["labels_per_line"]), False
    return min(figures, key=lambda n: figures[n]["agreed_cer"]), False
