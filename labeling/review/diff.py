"""Character-level differences between a label and the line's consensus. No Django.

`compare` gives the runs twice: over the texts as typed, and over their Ottoman
normalization (`labeling.ottoman.normalize`), where differences agreement ignores (Persian
keheh for kaf, harakat, ZWNJ, tatweel) disappear. A template renders each run: `same` as it
is, `insert` (only in the label) as <ins>, `delete` (only in the reference) as <del>,
`replace` as the reference's <del> then the label's <mark>, inside a dir="rtl" block.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from rapidfuzz.distance import Levenshtein

from labeling.ottoman import normalize


class RunKind(StrEnum):
    SAME = "same"
    INSERT = "insert"
    DELETE = "delete"
    REPLACE = "replace"


@dataclass(frozen=True)
class Run:
    kind: RunKind
    reference: str  # the reference's characters in this run ("" for an insert)
    text: str  # the compared text's characters ("" for a delete)


@dataclass(frozen=True)
class Comparison:
    raw: tuple[Run, ...]
    normalized: tuple[Run, ...]

    @property
    def raw_equal(self) -> bool:
        return all(run.kind == RunKind.SAME for run in self.raw)

    @property
    def normalized_equal(self) -> bool:
        return all(run.kind == RunKind.SAME for run in self.normalized)


_KINDS = {
    "equal": RunKind.SAME,
    "insert": RunKind.INSERT,
    "delete": RunKind.DELETE,
    "replace": RunKind.REPLACE,
}


def runs(reference: str, text: str) -> tuple[Run, ...]:
    """The runs that turn `reference` into `text`, character by character, in logical order:
    a fewest-edits alignment (the edits are the ones agreement's CER counts).

    Joining the `reference` parts gives the reference back, joining the `text` parts the text.
    """
    # Not difflib: its longest-block matching is not a fewest-edits alignment, and on a line
    # of repeated words (الله الله …) one changed letter came out as a shifted half-line.
    return tuple(
        Run(_KINDS[op.tag], reference[op.src_start : op.src_end], text[op.dest_start : op.dest_end])
        for op in Levenshtein.opcodes(reference, text)
    )


def compare(reference: str, text: str) -> Comparison:
    """Runs over the raw texts and over their normalized forms."""
    return Comparison(
        raw=runs(reference, text), normalized=runs(normalize(reference), normalize(text))
    )
