"""Who labels: the simulated population, and how often each kind of labeler errs.

The numbers are assumptions taken from the ranges below, not fitted to this platform; the
report's sensitivity block reruns everything with all rates scaled (x1.5 down to x0.2) and
with no anchored labelers, and --rate-scale / --anchored-share set the base case once real
pair-agreement figures exist.

- Population: 60% careful, 25% careless, 15% anchored; each labeler also has a personal skill
  factor (log-normal, mean 1, sigma 0.35).
- Typing from scratch (blind): careful volunteers at about 1.2% character error, careless at
  about 4% (printed as a calibration block). Single-keyed transcription of print is commonly
  quoted at 98-99.5% character accuracy (the reason archives double-key: the Text Creation
  Partnership's 99.995% standard needs two keyings plus review), and careful volunteer
  transcription of print at 0.5-2%. The errors are Arabic-script ones: letters swapped within
  a dot group (ب ت ث ن ی, ج ح خ, د ذ, ر ز, س ش, ص ض, ط ظ, ع غ, ف ق, ه ة), dropped or doubled
  letters, missed word spaces (a gap after a non-joining letter is barely visible), hamza
  dropped from alef (أ إ آ typed as ا, a habit of fast Arabic typists) and left-out
  punctuation. Where the print itself is hard (a spot where Tesseract erred that is marked
  "hard", 20% of error spots) a blind reader repeats Tesseract's human-plausible misreading
  (dots, space, hamza, punctuation) with probability 0.2 (careful) or 0.4 (careless): people
  and the machine misread the same broken glyphs.
- Correcting a prefilled prediction: each error spot of the prediction is missed with a
  probability by kind (CAREFUL_MISS); careless readers miss three times as often. Single-pass
  proofreading studies find that readers catch most but not all errors, and far fewer of those
  that leave a real word. Hard spots are missed 3x as often, easy ones half as often (mean
  unchanged; capped at 90% and 97%), so misses are correlated between labelers as they are in
  life. While editing, a labeler makes new typing errors at 15% of their blind rate. A
  prediction that is empty or mostly wrong (CER > 60%) is cleared and retyped.
- Anchored labelers, when prefilled, submit the prediction unchanged with probability 0.7
  whether or not it is right, and otherwise correct like careless ones (blind, they type like
  careless ones). Anchoring on shown suggestions is well documented (Tversky & Kahneman 1974;
  for annotation, Berzak et al., "Anchoring and Agreement in Syntactic Annotations",
  EMNLP 2016: annotators shown a parser's output keep much more of it, and their agreement is
  inflated), and so is automation bias (Parasuraman & Manzey 2010).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

POPULATION_SIZE = 150

CONFUSABLE_GROUPS = ("بتثنی", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق", "هة")
CONFUSABLE = {ch: group.replace(ch, "") for group in CONFUSABLE_GROUPS for ch in group}
HAMZA_ALEFS = frozenset("أإآ")
PUNCTUATION = frozenset("،.:«»()[]؛-؟!")
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوی"


@dataclass(frozen=True)
class Typing:
    """Per-occurrence error rates when typing a line from scratch."""

    substitute: float  # per letter (within its dot group; other letters at 0.3x)
    delete: float  # per character
    insert: float  # per character (a doubled or stray letter)
    space: float  # per word gap missed; a tenth of this, per letter, splits a word
    hamza: float  # per أ إ آ typed as ا
    punctuation: float  # per punctuation mark left out

    def scaled(self, factor: float) -> Typing:
        return Typing(
            *(min(getattr(self, name) * factor, 0.9) for name in self.__dataclass_fields__)
        )


# What a careful reader misses when correcting a prefilled prediction, per error spot kind.
CAREFUL_MISS = {
    "other": 0.05,  # a garbled word: obvious
    "extra": 0.05,  # stray characters in the prediction
    "missing": 0.10,  # a letter the prediction lacks: absence is harder to see
    "dots": 0.12,  # a dot-group swap often spells another real word
    "punct": 0.20,
    "space": 0.25,  # word gaps are barely visible after non-joining letters
    "hamza": 0.30,
}
# Misreadings a person makes too, on hard print.
HUMAN_PLAUSIBLE = frozenset({"dots", "space", "hamza", "punct"})


@dataclass(frozen=True)
class Kind:
    name: str
    share: float
    typing: Typing
    miss_factor: float  # times CAREFUL_MISS
    keep_prediction: float  # chance of submitting a prefilled prediction untouched
    echo_hard: float  # chance of repeating Tesseract's misreading at a hard spot, blind


CAREFUL_TYPING = Typing(0.004, 0.002, 0.001, 0.01, 0.05, 0.03)
CARELESS_TYPING = Typing(0.012, 0.008, 0.004, 0.04, 0.20, 0.15)


def kinds(scale: float = 1.0, anchored_share: float = 0.15) -> tuple[Kind, ...]:
    """Careful, careless and anchored labelers, every rate multiplied by `scale`."""
    careless_share = 0.25
    careful = CAREFUL_TYPING.scaled(scale)
    careless = CARELESS_TYPING.scaled(scale)
    return (
        Kind("careful", 1 - careless_share - anchored_share, careful, scale, 0.0, 0.2 * scale),
        Kind("careless", careless_share, careless, 3 * scale, 0.0, 0.4 * scale),
        Kind("anchored", anchored_share, careless, 3 * scale, 0.7, 0.4 * scale),
    )


@dataclass(frozen=True)
class Labeler:
    ident: int
    kind: Kind
    skill: float  # multiplies every error rate and miss probability


def population(seed: int, kind_list: Sequence[Kind]) -> list[Labeler]:
    """POPULATION_SIZE labelers in the kinds' shares, each with a personal skill factor."""
    rng = random.Random(f"{seed}:population")
    counts = [round(kind.share * POPULATION_SIZE) for kind in kind_list]
    labelers_kinds = [kind for kind, n in zip(kind_list, counts, strict=True) for _ in range(n)]
    rng.shuffle(labelers_kinds)
    # Log-normal with mean 1: most people near their kind's rates, a few much worse.
    sigma = 0.35
    return [
        Labeler(i, kind, math.exp(rng.gauss(-sigma * sigma / 2, sigma)))
        for i, kind in enumerate(labelers_kinds)
    ]
