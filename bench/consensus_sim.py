"""How many labels does a line need? Agreement policies over simulated labelers and real OCR.

Usage, from the repository root:
    .venv/bin/python bench/consensus_sim.py [--lines 300] [--seed 1] [--replicates 20]
        [--cutoffs 70,80] [--rate-scale 1.0] [--anchored-share 0.15]

Lines are real printed Arabic lines from ../shared/data/arabic-print-gt (an equal share per
book, chosen by --seed); Tesseract (Debian's `ara`, psm 13) reads each one once, and the
prediction and its confidence are cached in var/bench-cache/consensus-predictions.json, keyed
by path and mtime. Without the shared data the lines are rendered from labeling.synthetic.
All texts are compared through labeling.ottoman.normalize (the shared transcriptions omit the
harakat the images show; normalize drops them).

Simulated labelers then label every line, one label at a time, under each policy, until
labeling.review.agreement.decide() (plus the policy's own rule on top) says agreed or
disputed. Every policy sees the same labels in the same order (common random numbers): label
k on a line comes from the same labeler, blind or not, with the same text whatever the
policy, so the figures differ only by when a policy stops (and, for the policies that send
extra labels to blind labelers, by which slots they turn blind). --replicates repeats this
with fresh labeler draws over the same lines; the ± figures are standard errors over
replicates.

Policies: fixed2 (the default Rules(2, 4)), fixed3 (Rules(3, 5)), adaptive_conf<C> (3 of 5
below Tesseract confidence C), anchor_guard (an agreement made only of labels that kept the
prediction unchanged needs one more agreeing label), anchor_guard_blind (that extra label is
asked of blind labelers), blind_confirm (any agreement with no blind label in it needs one
more agreeing label, asked of blind labelers), combinations of these, tolerant0.02
(Rules.threshold=0.02) and word_vote (from the third label on, a word-by-word strict
majority also settles a line).

The error model. Its numbers are assumptions taken from the ranges below, not fitted to this
platform; the sensitivity block reruns everything with all rates scaled (x1.5 down to x0.2)
and with no anchored labelers, and --rate-scale / --anchored-share set the base case once
real pair-agreement figures exist.
- Population: 60% careful, 25% careless, 15% anchored; each labeler also has a personal
  skill factor (log-normal, mean 1, sigma 0.35). 20% of labels are blind (no prediction).
- Typing from scratch (blind): careful volunteers at about 1.2% character error, careless at
  about 4% (printed as a calibration block). Single-keyed transcription of print is commonly
  quoted at 98-99.5% character accuracy (the reason archives double-key: the Text Creation
  Partnership's 99.995% standard needs two keyings plus review), and careful volunteer
  transcription of print at 0.5-2%. The errors are Arabic-script ones: letters swapped within
  a dot group (ب ت ث ن ی, ج ح خ, د ذ, ر ز, س ش, ص ض, ط ظ, ع غ, ف ق, ه ة), dropped or
  doubled letters, missed word spaces (a gap after a non-joining letter is barely visible),
  hamza dropped from alef (أ إ آ typed as ا, a habit of fast Arabic typists) and left-out
  punctuation. Where the print itself is hard (a spot where Tesseract erred that is marked
  "hard", 20% of error spots) a blind reader repeats Tesseract's human-plausible misreading
  (dots, space, hamza, punctuation) with probability 0.2 (careful) or 0.4 (careless): people
  and the machine misread the same broken glyphs.
- Correcting a prefilled prediction: each error spot of the prediction (an opcode of its
  alignment with the truth) is missed with a probability by kind: careful readers miss 5% of
  garbled words and extra characters, 10% of missing letters, 12% of dot swaps (they often
  make another real word), 20% of punctuation, 25% of word-space errors, 30% of hamza
  differences; careless readers miss three times as often. Single-pass proofreading studies
  find that readers catch most but not all errors, and far fewer of those that leave a real
  word. Hard spots are missed 3x as often, easy ones half as often (mean unchanged; capped at
  90% and 97%), so misses are correlated between labelers as they are in life. While editing,
  a labeler makes new typing errors at 15% of their blind rate. A prediction that is empty or
  mostly wrong (CER > 60%) is cleared and retyped.
- Anchored labelers, when prefilled, submit the prediction unchanged with probability 0.7
  whether or not it is right, and otherwise correct like careless ones (blind, they type like
  careless ones). Anchoring on shown suggestions is well documented (Tversky & Kahneman 1974;
  for annotation, Berzak et al., "Anchoring and Agreement in Syntactic Annotations",
  EMNLP 2016: annotators shown a parser's output keep much more of it, and their agreement
  is inflated), and so is automation bias (Parasuraman & Manzey 2010).

The last line printed is one JSON object: the winning policy's figures and every policy's.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from rapidfuzz.distance import Levenshtein  # noqa: E402

from labeling.ocr import OcrError, read_page  # noqa: E402
from labeling.ottoman import normalize  # noqa: E402
from labeling.review.agreement import Rules, Verdict, agrees, decide  # noqa: E402

DATA_DIR = REPO.parent / "shared" / "data" / "arabic-print-gt"
CACHE_PATH = REPO / "var" / "bench-cache" / "consensus-predictions.json"
LANGUAGE = "ara"
PSM = 13  # one raw line: the crops are single lines, and layout analysis only hurts here

TARGET_LABELS = 2.3
TARGET_CER = 0.005
BLIND_SHARE = 0.2
POPULATION_SIZE = 150
SLOTS = 6  # labels pre-drawn per line: more than any policy asks for

CONFUSABLE_GROUPS = ("بتثنی", "جحخ", "دذ", "رز", "سش", "صض", "طظ", "عغ", "فق", "هة")
CONFUSABLE = {ch: group.replace(ch, "") for group in CONFUSABLE_GROUPS for ch in group}
HAMZA_ALEFS = frozenset("أإآ")
PUNCTUATION = frozenset("،.:«»()[]؛-؟!")
LETTERS = "ابتثجحخدذرزسشصضطظعغفقكلمنهوی"


# --- lines and predictions --------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    key: str
    source: str  # book name, or "synthetic"
    truth: str  # normalized
    prediction: str  # normalized
    confidence: float


def choose_files(per_book: int, seed: int) -> list[Path]:
    """`per_book` line images with ground truth from each book, chosen by `seed`."""
    chosen = []
    for book in sorted(p for p in DATA_DIR.iterdir() if p.is_dir()):
        pngs = sorted(p for p in book.glob("*.png") if p.with_suffix(".gt.txt").is_file())
        rng = random.Random(f"{seed}:{book.name}")
        chosen += sorted(rng.sample(pngs, min(per_book, len(pngs))))
    return chosen


def ocr_one(image: bytes | Path) -> tuple[str, float]:
    """Tesseract's text and mean word confidence for a single-line image."""
    try:
        reading = read_page(image, language=LANGUAGE, psm=PSM)
    except OcrError as error:
        print(f"  OCR failed ({error}); empty prediction", file=sys.stderr)
        return "", 0.0
    if not reading.lines:
        return "", 0.0
    text = " ".join(line.text for line in reading.lines)
    # Weight by length so a stray one-letter "line" does not dominate the confidence.
    weights = [max(len(line.text), 1) for line in reading.lines]
    confidence = sum(w * line.confidence for w, line in zip(weights, reading.lines, strict=True))
    return text, confidence / sum(weights)


def load_cache() -> dict[str, dict[str, Any]]:
    try:
        data: dict[str, dict[str, Any]] = json.loads(CACHE_PATH.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data


def save_cache(cache: dict[str, dict[str, Any]]) -> None:
    CACHE_PATH.parent.mkdir(parents=True, exist_ok=True)
    tmp = CACHE_PATH.with_suffix(".tmp")
    tmp.write_text(json.dumps(cache, ensure_ascii=False, indent=0), encoding="utf-8")
    tmp.replace(CACHE_PATH)


def predict_all(jobs: list[tuple[str, Callable[[], bytes | Path]]]) -> dict[str, tuple[str, float]]:
    """OCR every job not in the cache (two at a time) and return key -> (text, confidence)."""
    cache = load_cache()
    missing = [(key, load) for key, load in jobs if key not in cache]
    if missing:
        started = time.perf_counter()
        print(f"OCR: reading {len(missing)} line images with Tesseract ({LANGUAGE}, psm {PSM})")
        # Each Tesseract runs single-threaded (read_page sets OMP_THREAD_LIMIT=1): one per core.
        with ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(lambda job: ocr_one(job[1]()), missing))
        for (key, _), (text, confidence) in zip(missing, results, strict=True):
            cache[key] = {"text": text, "confidence": confidence}
        save_cache(cache)
        seconds = time.perf_counter() - started
        print(f"OCR: {seconds:.1f} s ({seconds / len(missing):.3f} s per line, 2 at a time)")
    else:
        print(f"OCR: all {len(jobs)} predictions from {CACHE_PATH.relative_to(REPO)}")
    return {key: (cache[key]["text"], cache[key]["confidence"]) for key, _ in jobs}


def real_lines(count: int, seed: int) -> list[Line]:
    per_book = math.ceil(count / sum(1 for p in DATA_DIR.iterdir() if p.is_dir()))
    files = choose_files(per_book, seed)
    keyed = {f"{path}:{path.stat().st_mtime_ns}": path for path in files}
    predictions = predict_all([(key, lambda p=path: p) for key, path in keyed.items()])
    lines = []
    for key, path in keyed.items():
        text, confidence = predictions[key]
        truth = normalize(path.with_suffix(".gt.txt").read_text(encoding="utf-8"))
        lines.append(Line(key, path.parent.name, truth, normalize(text), confidence))
    return lines


def synthetic_lines(count: int) -> list[Line]:
    """Rendered sample lines: word order rotated and fonts and sizes cycled for variety."""
    import io

    from labeling.synthetic import FONT_CANDIDATES, SAMPLE_LINES, render_line

    fonts = [font for font in FONT_CANDIDATES if font.is_file()]
    texts = []
    for index in range(count):
        words = SAMPLE_LINES[index % len(SAMPLE_LINES)].split()
        shift = (index // len(SAMPLE_LINES)) % len(words)
        texts.append((" ".join(words[shift:] + words[:shift]), fonts[index % len(fonts)]))
    sizes = (28, 36, 44)

    def load(text: str, font: Path, size: int) -> bytes:
        buffer = io.BytesIO()
        render_line(text, font_path=font, size=size).save(buffer, format="PNG")
        return buffer.getvalue()

    jobs = []
    for index, (text, font) in enumerate(texts):
        size = sizes[index % len(sizes)]
        key = f"synthetic:{font.name}:{size}:{text}"
        jobs.append((key, lambda t=text, f=font, s=size: load(t, f, s)))
    predictions = predict_all(jobs)
    return [
        Line(key, "synthetic", normalize(text), normalize(predictions[key][0]), predictions[key][1])
        for (key, _), (text, _) in zip(jobs, texts, strict=True)
    ]


# --- labelers -----------------------------------------------------------------------------


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


@dataclass(frozen=True)
class Spot:
    """One place where the prediction differs from the truth."""

    start: int  # truth[start:end] reads as prediction[p_start:p_end]
    end: int
    p_start: int
    p_end: int
    kind: str
    hard: bool


def error_spots(line: Line, seed: int) -> tuple[list[tuple[str, int, int, int, int]], list[Spot]]:
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
        spots.append(
            Spot(
                s1,
                s2,
                d1,
                d2,
                spot_kind(tag, line.truth[s1:s2], line.prediction[d1:d2]),
                rng.random() < 0.2,
            )
        )
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
    ops: list[tuple[str, int, int, int, int]],
    spots: list[Spot],
    labelers: Sequence[Labeler],
    rng: random.Random,
) -> list[Slot]:
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


# --- policies -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    text: str
    blind: bool
    kept: bool  # prefilled and submitted exactly the prediction
    labeler: Labeler


@dataclass(frozen=True)
class Policy:
    name: str
    rules_for: Callable[[Line], Rules]
    guard: bool = False  # an agreement of untouched predictions only needs one more label
    guard_blind: bool = False  # ... and that label is asked of a blind labeler
    blind_confirm: bool = False  # the guard applies to any agreement without a blind label
    word_vote: bool = False  # from 3 labels on, a word-by-word majority may settle the line
    note: str = ""


@dataclass
class Run:
    verdict: Verdict
    consensus: str
    labels: list[Label]
    threshold: float


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
    guarded = False
    verdict, consensus = Verdict.OPEN, ""
    for slot in slots:
        blind = slot.blind or (policy.guard_blind and guarded)
        text = slot.blind_text if blind else slot.prefilled_text
        labels.append(Label(text, blind, not blind and text == line.prediction, slot.labeler))
        texts = [label.text for label in labels]
        outcome = decide(texts, rules)
        guarded = False
        if (
            policy.guard
            and outcome.verdict is Verdict.AGREED
            and all(
                not labels[j].blind if policy.blind_confirm else labels[j].kept
                for j in outcome.group
            )
        ):
            stricter = replace(
                rules, labels_needed=rules.labels_needed + 1, max_labels=rules.max_labels + 1
            )
            outcome = decide(texts, stricter)
            guarded = outcome.verdict is Verdict.OPEN
        verdict, consensus = outcome.verdict, outcome.consensus_text
        if policy.word_vote and verdict is not Verdict.AGREED and not guarded and len(texts) >= 3:
            voted = vote_words(texts)
            if voted is not None:
                verdict, consensus = Verdict.AGREED, voted
        if verdict is not Verdict.OPEN:
            break
    assert verdict is not Verdict.OPEN, "SLOTS is too small"
    return Run(verdict, consensus, labels, rules.threshold)


def policies(cutoffs: Sequence[float]) -> list[Policy]:
    two, three = Rules(labels_needed=2, max_labels=4), Rules(labels_needed=3, max_labels=5)
    found = [
        Policy("fixed2", lambda line: two, note="the default: 2 agreeing of up to 4"),
        Policy("fixed3", lambda line: three, note="3 agreeing of up to 5"),
    ]
    for cutoff in cutoffs:
        found.append(
            Policy(
                f"adaptive_conf{cutoff:g}",
                lambda line, c=cutoff: three if line.confidence < c else two,
                note=f"3 of 5 when Tesseract's confidence < {cutoff:g}, else 2 of 4",
            )
        )
    found += [
        Policy(
            "anchor_guard",
            lambda line: two,
            guard=True,
            note="2 of 4; 3 of 5 when the agreeing labels all kept the prediction unchanged",
        ),
        Policy(
            "anchor_guard_blind",
            lambda line: two,
            guard=True,
            guard_blind=True,
            note="anchor_guard, and the extra labels it asks for go to blind labelers",
        ),
    ]
    for cutoff in cutoffs:
        found.append(
            Policy(
                f"guard_blind_conf{cutoff:g}",
                lambda line, c=cutoff: three if line.confidence < c else two,
                guard=True,
                guard_blind=True,
                note=f"anchor_guard_blind + adaptive_conf{cutoff:g}",
            )
        )
    found += [
        Policy(
            "tolerant0.02",
            lambda line: replace(two, threshold=0.02),
            note="2 of 4 agreeing within CER 0.02 (Rules.threshold): 1 edit in 50 characters",
        ),
        Policy(
            "word_vote",
            lambda line: two,
            word_vote=True,
            note="2 of 4; from the 3rd label on, a word-by-word majority also settles the line",
        ),
        Policy(
            "blind_confirm",
            lambda line: two,
            guard=True,
            guard_blind=True,
            blind_confirm=True,
            note="2 of 4; an agreement without a blind label needs a 3rd, asked of blind labelers",
        ),
        Policy(
            "guard_blind_vote",
            lambda line: two,
            guard=True,
            guard_blind=True,
            word_vote=True,
            note="anchor_guard_blind + word_vote",
        ),
    ]
    return found


# --- measuring ------------------------------------------------------------------------------


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
    calibration: dict[tuple[str, str], list[int]] | None = None,
) -> dict[str, Tally]:
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


def pick_winner(figures: dict[str, dict[str, float]]) -> tuple[str, bool]:
    """The policy meeting both targets with the fewest labels; else the closest, and False.

    Closest: the cheapest policy meeting the CER target (ground truth that is wrong costs more
    than labels), else the one with the lowest CER.
    """
    meeting = [
        name
        for name, f in figures.items()
        if f["labels_per_line"] <= TARGET_LABELS and f["agreed_cer"] <= TARGET_CER
    ]
    if meeting:
        return min(
            meeting, key=lambda n: (figures[n]["labels_per_line"], figures[n]["agreed_cer"])
        ), True
    accurate = [name for name, f in figures.items() if f["agreed_cer"] <= TARGET_CER]
    if accurate:
        return min(accurate, key=lambda n: figures[n]["labels_per_line"]), False
    return min(figures, key=lambda n: figures[n]["agreed_cer"]), False


def print_table(figures: dict[str, dict[str, float]], notes: dict[str, str]) -> None:
    header = (
        f"{'policy':<21}{'labels/line':>14}{'at 2':>7}{'agreed':>8}{'disputed':>9}"
        f"{'agreed CER':>16}{'wrong':>7}{'blind':>7}{'blind~C':>8}{'prefill~C':>10}{'kept':>6}"
        f"{'blind=P':>8}"
    )
    print(header)
    print("-" * len(header))
    for name, f in figures.items():
        labels = f"{f['labels_per_line']:.3f}±{f['labels_per_line_se']:.3f}"
        cer = f"{100 * f['agreed_cer']:.3f}±{100 * f['agreed_cer_se']:.3f}%"
        print(
            f"{name:<21}{labels:>14}{100 * f['settled_at_two_share']:>6.1f}%"
            f"{100 * f['agreed_share']:>7.1f}%"
            f"{100 * f['disputed_share']:>8.1f}%"
            f"{cer:>16}{100 * f['wrong_agreed_share']:>6.1f}%{100 * f['blind_label_share']:>6.1f}%"
            f"{100 * f['blind_agree_rate']:>7.1f}%{100 * f['prefilled_agree_rate']:>9.1f}%"
            f"{100 * f['prefilled_kept_rate']:>5.1f}%{100 * f['blind_as_predicted_rate']:>7.1f}%"
        )
    print()
    for name, note in notes.items():
        print(f"  {name}: {note}")
    print(
        "  labels/line and agreed CER: mean over all lines and replicates ± standard error over"
        " replicates;\n  at 2: lines settled with exactly 2 labels; wrong: agreed lines whose"
        " consensus differs\n  from the truth; blind: share of labels given blind; blind~C /"
        " prefill~C: share of blind /\n  prefilled labels on agreed lines that agree with the"
        " consensus; kept: share of prefilled labels\n  that kept the prediction unchanged;"
        " blind=P: share of blind labels that happen to equal it."
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=300, help="lines in all (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replicates", type=int, default=20, help="labeler draws per line (default 20)"
    )
    parser.add_argument(
        "--cutoffs", default="70,80", help="confidence cutoffs for adaptive_conf (0-100)"
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every typing error rate and miss probability (calibrate to real data)",
    )
    parser.add_argument(
        "--anchored-share", type=float, default=0.15, help="share of anchored labelers"
    )
    args = parser.parse_args(argv)
    scale, anchored = args.rate_scale, args.anchored_share
    started = time.perf_counter()

    if DATA_DIR.is_dir():
        lines = real_lines(args.lines, args.seed)
        print(f"Data: {len(lines)} real printed lines from {DATA_DIR}")
    else:
        print(f"Data: {DATA_DIR} is missing; using lines rendered by labeling.synthetic instead")
        lines = synthetic_lines(args.lines)
    describe_lines(lines)

    cutoffs = [float(c) for c in args.cutoffs.split(",") if c.strip()]
    policy_list = policies(cutoffs)
    calibration: dict[tuple[str, str], list[int]] = {}
    base = simulate(
        lines,
        policy_list,
        kinds(scale, anchored),
        seed=args.seed,
        replicates=args.replicates,
        calibration=calibration,
    )
    describe_labelers(calibration)

    figures = {name: tally.figures() for name, tally in base.items()}
    print(
        f"\nPolicies over {len(lines)} lines x {args.replicates} replicates "
        f"(target: <= {TARGET_LABELS} labels/line at <= {100 * TARGET_CER:.1f}% CER)\n"
    )
    print_table(figures, {policy.name: policy.note for policy in policy_list})
    winner, met = pick_winner(figures)

    # Sensitivity: the same lines and policies with every error rate scaled, down to rates at
    # which the target becomes reachable.
    sensitivity: dict[str, dict[str, dict[str, float]]] = {}
    scenarios = {
        "no anchored labelers (their share careful)": kinds(scale, 0.0),
        "worse: rates x1.5, 25% anchored": kinds(1.5 * scale, 0.25),
        "better: rates x0.67": kinds(0.67 * scale, anchored),
        "much better: rates x0.33": kinds(0.33 * scale, anchored),
        "near perfect: rates x0.2": kinds(0.2 * scale, anchored),
    }
    sens_replicates = max(args.replicates // 4, 2)
    print(
        f"\nSensitivity ({sens_replicates} replicates each): labels/line, agreed CER, disputed, "
        "blind~C, prefill~C, kept, blind=P"
    )
    for label, kind_list in scenarios.items():
        seen: dict[tuple[str, str], list[int]] = {}
        tallies = simulate(
            lines,
            policy_list,
            kind_list,
            seed=args.seed,
            replicates=sens_replicates,
            calibration=seen,
        )
        shown = ("labels_per_line", "agreed_cer", "disputed_share")
        shown += ("blind_agree_rate", "prefilled_agree_rate", "prefilled_kept_rate")
        shown += ("blind_as_predicted_rate",)
        sensitivity[label] = {
            name: {key: t.figures()[key] for key in shown} for name, t in tallies.items()
        }
        edits, chars, _, _ = seen["careful", "blind"]
        meeting = [
            name
            for name, f in sensitivity[label].items()
            if f["labels_per_line"] <= TARGET_LABELS and f["agreed_cer"] <= TARGET_CER
        ]
        print(
            f"  {label} (careful blind CER {100 * edits / chars:.2f}%; "
            f"meeting the target: {', '.join(meeting) or 'none'})"
        )
        for name, f in sensitivity[label].items():
            print(
                f"    {name:<21}{f['labels_per_line']:>7.3f}{100 * f['agreed_cer']:>9.3f}%"
                f"{100 * f['disputed_share']:>8.1f}%{100 * f['blind_agree_rate']:>8.1f}%"
                f"{100 * f['prefilled_agree_rate']:>9.1f}%{100 * f['prefilled_kept_rate']:>6.1f}%"
                f"{100 * f['blind_as_predicted_rate']:>6.1f}%"
            )

    w = figures[winner]
    print()
    if met:
        print(
            f"Winner: {winner}, {w['labels_per_line']:.3f} labels/line at "
            f"{100 * w['agreed_cer']:.3f}% agreed CER: meets the target."
        )
    else:
        print(
            f"No policy meets both targets. Closest: {winner}, {w['labels_per_line']:.3f} "
            f"labels/line at {100 * w['agreed_cer']:.3f}% agreed CER (the cheapest that meets "
            "the CER target, or the most accurate if none does)."
        )
    seconds = time.perf_counter() - started
    print(f"Run time: {seconds:.1f} s")
    result = {
        "policy": winner,
        "target_met": met,
        "labels_per_line": w["labels_per_line"],
        "agreed_cer": w["agreed_cer"],
        "agreed_share": w["agreed_share"],
        "target": {"labels_per_line": TARGET_LABELS, "agreed_cer": TARGET_CER},
        "lines": len(lines),
        "replicates": args.replicates,
        "seed": args.seed,
        "rate_scale": scale,
        "anchored_share": anchored,
        "data": "arabic-print-gt" if DATA_DIR.is_dir() else "synthetic",
        "seconds": round(seconds, 1),
        "policies": figures,
        "sensitivity": sensitivity,
    }
    print(json.dumps(result, ensure_ascii=False))


def describe_lines(lines: Sequence[Line]) -> None:
    edits = sum(Levenshtein.distance(line.truth, line.prediction) for line in lines)
    chars = sum(len(line.truth) for line in lines)
    exact = sum(line.truth == line.prediction for line in lines)
    confidences = sorted(line.confidence for line in lines)
    quartiles = statistics.quantiles(confidences, n=4) if len(confidences) > 1 else confidences
    print(
        f"  mean length {chars / len(lines):.1f} chars (normalized); Tesseract CER "
        f"{100 * edits / chars:.1f}%, {exact} of {len(lines)} lines exactly right; "
        f"confidence quartiles {', '.join(f'{q:.0f}' for q in quartiles)}"
    )
    by_source: dict[str, list[Line]] = {}
    for line in lines:
        by_source.setdefault(line.source, []).append(line)
    for source, group in by_source.items():
        e = sum(Levenshtein.distance(line.truth, line.prediction) for line in group)
        c = sum(len(line.truth) for line in group)
        print(f"    {source:<32} {len(group):>4} lines, Tesseract CER {100 * e / c:5.1f}%")


def describe_labelers(calibration: dict[tuple[str, str], list[int]]) -> None:
    print("\nSimulated single labels against the truth (all drawn slots, before any policy):")
    for (kind, mode), (edits, chars, exact, count) in sorted(calibration.items()):
        print(
            f"  {kind:<9} {mode:<10} CER {100 * edits / chars:5.2f}%, "
            f"line exactly right {100 * exact / count:5.1f}%"
        )


if __name__ == "__main__":
    main()
