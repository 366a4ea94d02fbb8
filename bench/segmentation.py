"""Which way of finding a page's lines loses the fewest: Tesseract's layout analysis or ours.

Usage, from the repository root:
    .venv/bin/python bench/segmentation.py [--pages-per-book 4] [--seed 1]
        [--lines ../shared/data/arabic-print-gt] [--language ara] [--processes 2]
        [--skewed-methods platform_default,...]

Pages are composed from real printed line images: `--lines` holds one folder per book of
`NNNNNN.png` + `NNNNNN.gt.txt` pairs. Each page takes 15-30 consecutive lines of one book
(at least two of them short, as paragraph ends are), right-aligned as right-to-left print is,
with a random gap of 0-60% of the line height after each line. A line's true box is the ink of
its pasted image (specks of 1-2 px left out), not the image: the data set's crops carry
uneven white margins, and bits of the neighbouring lines. Seeded: the same arguments compose
the same pages.

Skewed pages: each composed page again, turned about its centre by a seeded angle of
0.5-3 degrees either way (grown to hold its corners, white where there was no page), as
scans come off the glass; a true box becomes the axis-aligned box of the turned box, which is
also the only box the platform can store for such a line (boxes are upright rectangles in the
page's pixels). The `skewed_*` rows are methods on these pages (`SKEWED_METHODS`, or those
named by `--skewed-methods`); `skewed_line_by_line_true_boxes` reads each true box's crop of
the skewed page (the crop a labeler is shown). `estimate_skew` is timed and scored on both
kinds of page.

Each method reads every page; per method the bench prints:
- recall: true lines matched by a box with IoU >= 0.5;
- merged: boxes holding most of two or more true lines; split: true lines holding most of two
  or more boxes;
- flagged: the share of the missed lines that `segmentation.uncovered_bands` (given the
  method's boxes) puts a band on, and false bands: bands on no missed line;
- page CER: the page's text through the method against the truth's lines joined in order,
  normalized (`labeling.ottoman.cer`), summed edits over summed length across pages;
- seconds per page, and that time over plain `ocr.read_page` (psm 3, the old platform path).

`line_cer` is the baseline: `ocr.read_line` (psm 13) on each true line's crop
(`ocr.crop_line`, default padding), one Tesseract run per line as the platform's re-reading
does, joined per page and scored like page CER. Methods run in a pool of `--processes`
workers, each page through every method, so all methods share the same load. The last line
printed is one JSON object: the chosen method's (`segmentation.read_page` with its default)
`line_recall`, `flagged_share`, `page_cer`, `line_cer`, and `methods` with every method's
figures, and `skewed_line_recall` and `skewed_page_cer` (the same method on the skewed
pages). Without the line folder it prints why and `{"skipped": ...}`, and exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing import Pool
from pathlib import Path
from typing import Any

from PIL import Image, ImageFilter

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from labeling import ocr, ottoman, segmentation  # noqa: E402

DEFAULT_LINES = REPO.parent / "shared" / "data" / "arabic-print-gt"

# The variables that stop Tesseract's textord from throwing rows and words away as noise:
# a short line of few letters is what it throws away.
KEEP_NOISE = segmentation.TESSERACT_CONFIG

MIN_LINES, MAX_LINES = 15, 30
MIN_SHORT_LINES = 2
SHORT_SHARE = 0.5  # a line narrower than this share of the book's widest is short
MAX_GAP_SHARE = 0.6  # the gap after a line, as a share of the median line height
MARGIN_SHARE = 1.5  # the page's margin, in median line heights
MATCH_IOU = 0.5
MOSTLY = 0.5
INK_BELOW = 128  # a grey below this is ink, for the true boxes
MIN_SKEW, MAX_SKEW = 0.5, 3.0  # degrees, either way
SKEW_SEED_OFFSET = 1000  # the skew angles' generator is seeded apart from the pages'

CHOSEN = "platform_default"
BASELINE = "tesseract_psm3"


@dataclass(frozen=True)
class TruePage:
    """A composed page: its PNG, the true line boxes and texts in reading order."""

    book: str
    png: bytes
    boxes: tuple[ocr.BBox, ...]
    texts: tuple[str, ...]
    skew: float = 0.0


@dataclass
class Tally:
    """One method's counts, summed over pages."""

    lines: int = 0
    matched: int = 0
    merged: int = 0
    split: int = 0
    missed: int = 0
    flagged: int = 0
    false_bands: int = 0
    edits: float = 0.0
    length: int = 0
    seconds: list[float] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        for name in ("lines", "matched", "merged", "split", "missed", "flagged", "false_bands"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.edits += other.edits
        self.length += other.length
        self.seconds += other.seconds


# The pages ---------------------------------------------------------------------------------


def load_books(root: Path) -> dict[str, list[tuple[Path, str]]]:
    """Each sub-folder of `root` with `*.png` + `*.gt.txt` pairs, as (image, text) in name order."""
    books = {}
    for folder in sorted(path for path in root.iterdir() if path.is_dir()):
        pairs = []
        for image in sorted(folder.glob("*.png")):
            truth = image.with_name(image.name.removesuffix(".png") + ".gt.txt")
            if truth.is_file():
                pairs.append((image, truth.read_text(encoding="utf-8").strip()))
        if len(pairs) >= MAX_LINES:
            books[folder.name] = pairs
    return books


def compose_page(book: str, pairs: Sequence[tuple[Path, str]], rng: random.Random) -> TruePage:
    """A page of consecutive lines of one book, with short lines among them."""
    count = rng.randint(MIN_LINES, MAX_LINES)
    start = rng.randrange(len(pairs) - count + 1)
    chosen = list(pairs[start : start + count])
    images = [_gray(path) for path, _text in chosen]
    widest = max(image.width for image in images)
    short = [index for index, image in enumerate(images) if image.width < SHORT_SHARE * widest]
    # Real pages end paragraphs with short lines; a run without enough of them gets short
    # lines of the same book put in at random places.
    if len(short) < MIN_SHORT_LINES:
        candidates = [pair for pair in pairs if _width(pair[0]) < SHORT_SHARE * widest]
        for pair in rng.sample(candidates, min(MIN_SHORT_LINES - len(short), len(candidates))):
            index = rng.choice([i for i in range(count) if i not in short])
            chosen[index] = pair
            images[index] = _gray(pair[0])
            short.append(index)
    height = statistics.median(image.height for image in images)
    margin = round(MARGIN_SHARE * height)
    gaps = [round(rng.uniform(0, MAX_GAP_SHARE) * height) for _ in images]
    page_width = max(image.width for image in images) + 2 * margin
    page_height = 2 * margin + sum(image.height for image in images) + sum(gaps)
    page = Image.new("L", (page_width, page_height), 255)
    boxes = []
    top = margin
    for image, gap in zip(images, gaps, strict=True):
        left = page_width - margin - image.width
        page.paste(image, (left, top))
        ink_left, ink_top, ink_right, ink_bottom = _ink_box(image)
        boxes.append(ocr.BBox(left + ink_left, top + ink_top, left + ink_right, top + ink_bottom))
        top += image.height + gap
    buffer = io.BytesIO()
    page.save(buffer, "PNG")
    return TruePage(
        book=book,
        png=buffer.getvalue(),
        boxes=tuple(boxes),
        texts=tuple(text for _path, text in chosen),
    )


def make_pages(
    books: Mapping[str, Sequence[tuple[Path, str]]], *, pages_per_book: int, seed: int
) -> list[TruePage]:
    rng = random.Random(seed)
    return [
        compose_page(book, pairs, rng)
        for book, pairs in books.items()
        for _ in range(pages_per_book)
    ]


def skew_page(page: TruePage, angle: float) -> TruePage:
    """The page turned counter-clockwise by `angle` degrees about its centre, grown to hold its
    corners (white outside the page); each true box becomes the axis-aligned box of its
    turned corners. Written out here rather than through `segmentation.Level`, so that the
    bench does not check that class against itself."""
    with Image.open(io.BytesIO(page.png)) as opened:
        straight = opened.convert("L")
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    width, height = straight.size
    new_width = math.ceil(width * abs(cos) + height * abs(sin))
    new_height = math.ceil(width * abs(sin) + height * abs(cos))
    # Pillow's affine data maps a pixel of the turned page to the straight page.
    turned = straight.transform(
        (new_width, new_height),
        Image.Transform.AFFINE,
        (
            cos,
            -sin,
            width / 2 - cos * new_width / 2 + sin * new_height / 2,
            sin,
            cos,
            height / 2 - sin * new_width / 2 - cos * new_height / 2,
        ),
        resample=Image.Resampling.BICUBIC,
        fillcolor=255,
    )
    boxes = []
    for box in page.boxes:
        corners = [
            (x - width / 2, y - height / 2)
            for x in (box.left, box.right)
            for y in (box.top, box.bottom)
        ]
        xs = [cos * u + sin * v + new_width / 2 for u, v in corners]
        ys = [-sin * u + cos * v + new_height / 2 for u, v in corners]
        boxes.append(
            ocr.BBox(
                math.floor(min(xs)), math.floor(min(ys)), math.ceil(max(xs)), math.ceil(max(ys))
            )
        )
    buffer = io.BytesIO()
    turned.save(buffer, "PNG")
    return TruePage(
        book=page.book, png=buffer.getvalue(), boxes=tuple(boxes), texts=page.texts, skew=angle
    )


def skew_pages(pages: Sequence[TruePage], *, seed: int) -> list[TruePage]:
    rng = random.Random(seed + SKEW_SEED_OFFSET)
    return [
        skew_page(page, rng.choice((-1, 1)) * rng.uniform(MIN_SKEW, MAX_SKEW)) for page in pages
    ]


def _gray(path: Path) -> Image.Image:
    with Image.open(path) as image:
        return image.convert("L")


def _ink_box(line: Image.Image) -> tuple[int, int, int, int]:
    """The box of a line image's ink, specks of 1-2 px left out: the crops of the data set
    carry uneven white margins, and the line is its ink, not its crop."""
    ink = line.point(lambda value: 255 if value < INK_BELOW else 0).filter(ImageFilter.MinFilter(3))
    found = ink.getbbox()
    if found is None:
        return (0, 0, line.width, line.height)
    # The filter took one pixel off every side of the ink.
    left, top, right, bottom = found
    return (
        max(left - 1, 0),
        max(top - 1, 0),
        min(right + 1, line.width),
        min(bottom + 1, line.height),
    )


def _width(path: Path) -> int:
    with Image.open(path) as image:
        return image.width


# The methods -------------------------------------------------------------------------------


def _tesseract(psm: int, config: Mapping[str, str] | None = None) -> Method:
    def read(png: bytes, language: str) -> list[ocr.LineReading]:
        return list(ocr.read_page(png, psm=psm, language=language, config=config).lines)

    return read


def _otsu_tesseract(psm: int, config: Mapping[str, str] | None = None) -> Method:
    def read(png: bytes, language: str) -> list[ocr.LineReading]:
        with Image.open(io.BytesIO(png)) as page:
            # Ink is 255 in the mask; Tesseract wants black text on white.
            binary = segmentation.ink_mask(page).point(lambda value: 255 - value)
        buffer = io.BytesIO()
        binary.save(buffer, "PNG")
        return list(
            ocr.read_page(buffer.getvalue(), psm=psm, language=language, config=config).lines
        )

    return read


def _platform(psm: int | None) -> Method:
    def read(png: bytes, language: str) -> list[ocr.LineReading]:
        return list(segmentation.read_page(png, psm=psm, language=language).lines)

    return read


def _projection_unturned(png: bytes, language: str) -> list[ocr.LineReading]:
    """The projection profile on the page as it is (the default before deskew)."""
    with Image.open(io.BytesIO(png)) as page:
        return segmentation.read_boxes(page, segmentation.find_lines(page), language=language)


def _level_lines_shown_crops(png: bytes, language: str) -> list[ocr.LineReading]:
    """Lines found on the level page, each read from its stored box's crop of the page as it
    is: the crop the line editor shows (`ocr.crop_line(page, box)`)."""
    with Image.open(io.BytesIO(png)) as page:
        level, boxes = segmentation.find_level_lines(page)
        if level is not None:
            boxes = [level.to_page(box) for box in boxes]
        return segmentation.read_boxes(page, boxes, language=language)


Method = Callable[[bytes, str], list[ocr.LineReading]]

METHODS: dict[str, Method] = {
    "tesseract_psm3": _tesseract(3),
    "tesseract_psm4": _tesseract(4),
    "tesseract_psm6": _tesseract(6),
    "tesseract_psm3_keep_noise": _tesseract(3, KEEP_NOISE),
    "tesseract_psm4_keep_noise": _tesseract(4, KEEP_NOISE),
    "tesseract_psm6_keep_noise": _tesseract(6, KEEP_NOISE),
    "tesseract_psm6_sauvola": _tesseract(6, {"thresholding_method": "2"}),
    "otsu_tesseract_psm6_keep_noise": _otsu_tesseract(6, KEEP_NOISE),
    # segmentation.read_page as the platform calls it: PREFERRED_PSM None is the projection
    # profile's lines read one by one (psm 13).
    "platform_default": _platform(None),
    # segmentation.read_page with an explicit psm: Tesseract with KEEP_NOISE, and the bands of
    # ink its lines leave uncovered read as lines of their own.
    "platform_psm3_keep_noise_plus_bands": _platform(3),
    "platform_psm4_keep_noise_plus_bands": _platform(4),
    "platform_psm6_keep_noise_plus_bands": _platform(6),
}

# On the skewed pages. platform_default reads each line's crop of the level page and stores
# the page box around it; deskew_shown_crops reads the same lines from that box's crop of the
# page as it is.
SKEWED_METHODS: dict[str, Method] = {
    "tesseract_psm3": _tesseract(3),
    "tesseract_psm6_keep_noise": _tesseract(6, KEEP_NOISE),
    "platform_psm6_keep_noise_plus_bands": _platform(6),
    "projection_unturned": _projection_unturned,
    "deskew_shown_crops": _level_lines_shown_crops,
    "platform_default": _platform(None),
}
SKEWED = "skewed_"
# The true boxes themselves, as if a method had found them: the merged and split an exact
# answer scores on skewed pages, where upright boxes of neighbouring lines overlap.
TRUE_BOXES = "true_boxes"
LINE_BASELINE = "line_by_line_true_boxes"
SKEW_ESTIMATE = "skew_estimate"


# Scoring -----------------------------------------------------------------------------------


def _overlap(a: ocr.BBox, b: ocr.BBox) -> int:
    width = min(a.right, b.right) - max(a.left, b.left)
    height = min(a.bottom, b.bottom) - max(a.top, b.top)
    return width * height if width > 0 and height > 0 else 0


def _area(box: ocr.BBox) -> int:
    return max(box.width, 0) * max(box.height, 0)


def _iou(a: ocr.BBox, b: ocr.BBox) -> float:
    shared = _overlap(a, b)
    return shared / (_area(a) + _area(b) - shared) if shared else 0.0


def _lies_on(band: ocr.BBox, line: ocr.BBox) -> bool:
    """A band lies on a line when they overlap across and mostly overlap up and down."""
    across = min(band.right, line.right) - max(band.left, line.left)
    down = min(band.bottom, line.bottom) - max(band.top, line.top)
    return across > 0 and down >= MOSTLY * min(band.height, line.height)


def _edits(truth: Sequence[str], read: Sequence[str]) -> tuple[float, int]:
    reference = "\n".join(truth)
    length = max(len(ottoman.normalize(reference)), 1)
    return ottoman.cer(reference, "\n".join(read)) * length, length


def score(page: TruePage, readings: Sequence[ocr.LineReading], bands: Sequence[ocr.BBox]) -> Tally:
    boxes = [reading.bbox for reading in readings]
    matched = [any(_iou(true, box) >= MATCH_IOU for box in boxes) for true in page.boxes]
    missed = [true for true, hit in zip(page.boxes, matched, strict=True) if not hit]
    merged = sum(
        1
        for box in boxes
        if sum(_overlap(box, true) >= MOSTLY * _area(true) for true in page.boxes) >= 2
    )
    split = sum(
        1
        for true in page.boxes
        if sum(_overlap(box, true) >= MOSTLY * _area(box) for box in boxes) >= 2
    )
    edits, length = _edits(page.texts, [reading.text for reading in readings])
    return Tally(
        lines=len(page.boxes),
        matched=sum(matched),
        merged=merged,
        split=split,
        missed=len(missed),
        flagged=sum(any(_lies_on(band, true) for band in bands) for true in missed),
        false_bands=sum(not any(_lies_on(band, true) for true in missed) for band in bands),
        edits=edits,
        length=length,
    )


# Running -----------------------------------------------------------------------------------

_PAGES: list[TruePage] = []
_SKEWED_PAGES: list[TruePage] = []
_LANGUAGE = "ara"


def _start_worker(pages: list[TruePage], skewed: list[TruePage], language: str) -> None:
    global _PAGES, _SKEWED_PAGES, _LANGUAGE
    _PAGES, _SKEWED_PAGES, _LANGUAGE = pages, skewed, language


def _page_and_method(name: str, index: int) -> tuple[TruePage, str]:
    if name.startswith(SKEWED):
        return _SKEWED_PAGES[index], name.removeprefix(SKEWED)
    return _PAGES[index], name


def run_method(job: tuple[str, int]) -> tuple[str, Tally]:
    """Read page `index` with one method and score it, with the bands its boxes leave."""
    name, index = job
    page, method = _page_and_method(name, index)
    started = time.perf_counter()
    methods = SKEWED_METHODS if name.startswith(SKEWED) else METHODS
    if method == TRUE_BOXES:
        readings = [
            ocr.LineReading(bbox=box, text=text, confidence=100.0)
            for box, text in zip(page.boxes, page.texts, strict=True)
        ]
    else:
        readings = methods[method](page.png, _LANGUAGE)
    seconds = time.perf_counter() - started
    bands = segmentation.uncovered_bands(page.png, [reading.bbox for reading in readings])
    tally = score(page, readings, bands)
    tally.seconds.append(seconds)
    return name, tally


def run_line_baseline(job: tuple[str, int]) -> tuple[str, Tally]:
    """Read every true line's crop alone (psm 13), as the platform re-reads a line."""
    name, index = job
    page, _method = _page_and_method(name, index)
    started = time.perf_counter()
    texts = []
    with Image.open(io.BytesIO(page.png)) as image:
        for box in page.boxes:
            crop = io.BytesIO()
            ocr.crop_line(image, box).save(crop, "PNG")
            texts.append(ocr.read_line(crop.getvalue(), language=_LANGUAGE, psm=13).text)
    seconds = time.perf_counter() - started
    edits, length = _edits(page.texts, texts)
    tally = Tally(lines=len(page.boxes), matched=len(page.boxes), edits=edits, length=length)
    tally.seconds.append(seconds)
    return name, tally


@dataclass
class SkewTally:
    """`estimate_skew` against the true angle, over pages."""

    errors: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    def add(self, other: SkewTally) -> None:
        self.errors += other.errors
        self.seconds += other.seconds


def run_skew_estimate(job: tuple[str, int]) -> tuple[str, SkewTally]:
    name, index = job
    page, _method = _page_and_method(name, index)
    with Image.open(io.BytesIO(page.png)) as image:
        image.load()
        started = time.perf_counter()
        estimate = segmentation.estimate_skew(image)
        seconds = time.perf_counter() - started
    return name, SkewTally(errors=[abs(estimate - page.skew)], seconds=[seconds])


def _dispatch(job: tuple[str, int]) -> tuple[str, Tally | SkewTally]:
    name, _index = job
    if name.removeprefix(SKEWED) == LINE_BASELINE:
        return run_line_baseline(job)
    if name.removeprefix(SKEWED) == SKEW_ESTIMATE:
        return run_skew_estimate(job)
    return run_method(job)


def figures(tally: Tally, baseline_seconds: float) -> dict[str, Any]:
    seconds = statistics.mean(tally.seconds) if tally.seconds else 0.0
    return {
        "line_recall": round(tally.matched / tally.lines, 4) if tally.lines else 0.0,
        "lines": tally.lines,
        "missed": tally.missed,
        "merged": tally.merged,
        "split": tally.split,
        "flagged_share": round(tally.flagged / tally.missed, 4) if tally.missed else 1.0,
        "false_bands": tally.false_bands,
        "page_cer": round(tally.edits / tally.length, 4) if tally.length else 0.0,
        "seconds_per_page": round(seconds, 3),
        "time_vs_psm3": round(seconds / baseline_seconds, 2) if baseline_seconds else None,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages-per-book", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lines", type=Path, default=DEFAULT_LINES)
    parser.add_argument("--language", default="ara")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument(
        "--skewed-methods",
        default=",".join(SKEWED_METHODS),
        help="comma-separated names of SKEWED_METHODS to run on the skewed pages ('' for none)",
    )
    args = parser.parse_args(argv)
    skewed_methods = [name for name in args.skewed_methods.split(",") if name]
    unknown = sorted(set(skewed_methods) - set(SKEWED_METHODS))
    if unknown:
        parser.error(f"unknown skewed methods: {', '.join(unknown)}")

    books = load_books(args.lines) if args.lines.is_dir() else {}
    if not books:
        reason = f"no book folders of *.png + *.gt.txt pairs (at least {MAX_LINES}) in {args.lines}"
        print(f"Skipped: {reason}.")
        print(json.dumps({"skipped": reason}))
        return 0

    started = time.perf_counter()
    pages = make_pages(books, pages_per_book=args.pages_per_book, seed=args.seed)
    skewed = skew_pages(pages, seed=args.seed)
    print(
        f"{len(pages)} pages from {len(books)} books ({sum(len(p.boxes) for p in pages)} lines), "
        f"seed {args.seed}, Tesseract {ocr.tesseract_version()}, language {args.language}; "
        f"the same pages skewed by {', '.join(f'{page.skew:+.2f}' for page in skewed)} degrees",
        flush=True,
    )
    names = [
        *METHODS,
        LINE_BASELINE,
        *(SKEWED + name for name in [*skewed_methods, TRUE_BOXES]),
        SKEWED + LINE_BASELINE,
    ]
    estimates = [SKEW_ESTIMATE, SKEWED + SKEW_ESTIMATE]
    jobs = [(name, index) for index in range(len(pages)) for name in [*names, *estimates]]
    tallies: dict[str, Tally] = {name: Tally() for name in names}
    skews: dict[str, SkewTally] = {name: SkewTally() for name in estimates}
    with Pool(
        args.processes, initializer=_start_worker, initargs=(pages, skewed, args.language)
    ) as pool:
        for name, tally in pool.imap_unordered(_dispatch, jobs):
            if isinstance(tally, SkewTally):
                skews[name].add(tally)
            else:
                tallies[name].add(tally)

    baseline_seconds = statistics.mean(tallies[BASELINE].seconds)
    results = {name: figures(tally, baseline_seconds) for name, tally in tallies.items()}
    line_cer = results.pop(LINE_BASELINE)["page_cer"]
    skewed_line_cer = results.pop(SKEWED + LINE_BASELINE)["page_cer"]
    header = (
        f"{'method':42} {'recall':>7} {'missed':>6} {'merged':>6} {'split':>5} "
        f"{'flagged':>7} {'false':>5} {'CER':>7} {'s/page':>6} {'x psm3':>6}"
    )
    print(header)
    for name, row in results.items():
        print(
            f"{name:42} {row['line_recall']:7.2%} {row['missed']:6d} {row['merged']:6d} "
            f"{row['split']:5d} {row['flagged_share']:7.1%} {row['false_bands']:5d} "
            f"{row['page_cer']:7.2%} {row['seconds_per_page']:6.2f} {row['time_vs_psm3']:6.2f}"
        )
    for name, cer in ((LINE_BASELINE, line_cer), (SKEWED + LINE_BASELINE, skewed_line_cer)):
        print(f"{name:42} {'':>54} {cer:7.2%}  (read_line psm 13, true boxes' crops)")
    skew_figures = {
        name: {
            "mean_error": round(statistics.mean(tally.errors), 3),
            "max_error": round(max(tally.errors), 3),
            "ms_per_page": round(1000 * statistics.mean(tally.seconds), 1),
        }
        for name, tally in skews.items()
    }
    for name, row in skew_figures.items():
        print(
            f"{name:42} error mean {row['mean_error']:.3f} max {row['max_error']:.3f} degrees, "
            f"{row['ms_per_page']:.0f} ms per page"
        )
    print(f"chosen: {CHOSEN}, segmentation.PREFERRED_PSM = {segmentation.PREFERRED_PSM}")
    print(f"{time.perf_counter() - started:.0f} s in all", flush=True)
    chosen = results[CHOSEN]
    chosen_skewed = results.get(SKEWED + CHOSEN, {})
    print(
        json.dumps(
            {
                "line_recall": chosen["line_recall"],
                "flagged_share": chosen["flagged_share"],
                "page_cer": chosen["page_cer"],
                "line_cer": line_cer,
                "skewed_line_recall": chosen_skewed.get("line_recall"),
                "skewed_page_cer": chosen_skewed.get("page_cer"),
                "skewed_line_cer": skewed_line_cer,
                "method": CHOSEN,
                "preferred_psm": segmentation.PREFERRED_PSM,
                "pages": len(pages),
                "lines": chosen["lines"],
                "seed": args.seed,
                "skews": [round(page.skew, 3) for page in skewed],
                "skew_estimate": skew_figures,
                "methods": results,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
