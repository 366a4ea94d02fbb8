"""What each labeler types: a line's error spots, typing slips, and the labels drawn per line.

A line's labels are drawn once per replicate, before any policy looks at them (common random
numbers): label k on a line comes from the same labeler with the same text, blind or
prefilled, whatever the policy, so the policies differ only by when they stop (and, for those
that send extra labels to blind labelers, by which slots they turn blind).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from bench.consensus.data import Line
from bench.consensus.labelers import (
    CAREFUL_MISS,
    CONFUSABLE,
    HAMZA_ALEFS,
    HUMAN_PLAUSIBLE,
    LETTERS,
    PUNCTUATION,
    Labeler,
    Typing,
)
from labeling.ottoman import normalize

# The platform's default share of blind leases (REVIEW_BLIND_SHARE).
BLIND_SHARE = 0.2
SLOTS = 6  # labels pre-drawn per line: more than any policy asks for

Opcode = tuple[str, int, int, int, int]


@dataclass(frozen=True)
class Spot:
    """One place where the prediction differs from the truth."""

    start: int  # truth[start:end] reads as prediction[p_start:p_end]
    end: int
    p_start: int
    p_end: int
    kind: str
    hard: bool


def error_spots(line: Line, seed: int) -> tuple[list[Opcode], list[Spot]]:
    """The alignment of truth and prediction, and its non-equal parts as spots."""
    rng = random.Random(f"{seed}:spots:{line.key}")
    ops = [
        (op.tag, op.src_start, op.src_end, op.dest_start, op.dest_end)
        for op in Levenshtein.opcodes(line.truth, line.prediction)
    ]
    spots = []
    for tag, s1, s2, d1, d2 in ops:
        if tag == "equal":
            continue
        kind = spot_kind(tag, line.truth[s1:s2], line.prediction[d1:d2])
        spots.append(Spot(s1, s2, d1, d2, kind, rng.random() < 0.2))
    return ops, spots


def spot_kind(tag: str, truth: str, predicted: str) -> str:
    chars = set(truth + predicted)
    if chars <= {" "}:
        return "space"
    if chars <= PUNCTUATION | {" "}:
        return "punct"
    if tag == "replace" and len(truth) == len(predicted) == 1:
        if predicted in CONFUSABLE.get(truth, ""):
            return "dots"
        if {truth, predicted} <= HAMZA_ALEFS | {"ا"}:
            return "hamza"
    if tag == "delete":
        return "missing"
    if tag == "insert":
        return "extra"
    return "other"


def type_noise(text: str, typing: Typing, rng: random.Random) -> str:
    """`text` as typed with `typing`'s slips; the result is normalized like every label."""
    out = []
    for ch in text:
        if ch == " ":
            if rng.random() >= typing.space:
                out.append(ch)
            continue
        if ch in PUNCTUATION and rng.random() < typing.punctuation:
            continue
        if ch in HAMZA_ALEFS and rng.random() < typing.hamza:
            ch = "ا"
        roll = rng.random()
        if roll < typing.delete:
            continue
        if roll < typing.delete + typing.substitute:
            if ch in CONFUSABLE:
                ch = rng.choice(CONFUSABLE[ch])
            elif ch in LETTERS and rng.random() < 0.3:
                ch = rng.choice(LETTERS)
        out.append(ch)
        if rng.random() < typing.insert:
            out.append(ch if rng.random() < 0.5 else rng.choice(LETTERS))
        if rng.random() < typing.space / 10:
            out.append(" ")
    return normalize("".join(out))


@dataclass(frozen=True)
class Slot:
    """The k-th label a line gets: who, blind or not, and what they would type either way."""

    labeler: Labeler
    blind: bool
    blind_text: str
    prefilled_text: str


def write_slots(
    line: Line,
    ops: list[Opcode],
    spots: list[Spot],
    labelers: Sequence[Labeler],
    rng: random.Random,
) -> list[Slot]:
    """SLOTS labels for the line from distinct labelers, each both blind and prefilled."""
    slots = []
    ocr_edits = Levenshtein.distance(line.truth, line.prediction)
    retype = not line.prediction or ocr_edits > 0.6 * max(len(line.truth), 1)
    by_start = {(s.start, s.p_start): s for s in spots}
    for labeler in rng.sample(list(labelers), SLOTS):
        kind, skill = labeler.kind, labeler.skill
        blind = rng.random() < BLIND_SHARE
        typing = kind.typing.scaled(skill)
        # Blind: the truth, except where hard print fools the reader as it fooled Tesseract.
        pieces = []
        for tag, s1, s2, d1, d2 in ops:
            spot = by_start.get((s1, d1)) if tag != "equal" else None
            echo = (
                spot is not None
                and spot.hard
                and spot.kind in HUMAN_PLAUSIBLE
                and rng.random() < min(kind.echo_hard * skill, 0.9)
            )
            pieces.append(line.prediction[d1:d2] if echo else line.truth[s1:s2])
        blind_text = type_noise("".join(pieces), typing, rng)
        # Prefilled: the prediction, each spot fixed unless missed; anchored people may keep it.
        if retype:
            prefilled_text = type_noise(line.truth, typing, rng)
        elif rng.random() < kind.keep_prediction:
            prefilled_text = line.prediction
        else:
            pieces = []
            for tag, s1, s2, d1, d2 in ops:
                spot = by_start.get((s1, d1)) if tag != "equal" else None
                if spot is None:
                    pieces.append(line.truth[s1:s2])
                    continue
                miss = CAREFUL_MISS[spot.kind] * kind.miss_factor * skill
                miss *= 3.0 if spot.hard else 0.5
                fixed = rng.random() >= min(miss, 0.9 if not spot.hard else 0.97)
                pieces.append(line.truth[s1:s2] if fixed else line.prediction[d1:d2])
            prefilled_text = type_noise("".join(pieces), typing.scaled(0.15), rng)
        slots.append(Slot(labeler, blind, blind_text, prefilled_text))
    return slots
