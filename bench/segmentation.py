"""Which way of finding a page's lines loses the fewest: Tesseract's layout analysis or ours.

Usage, from the repository root:
    .venv/bin/python bench/segmentation.py [--pages-per-book 4] [--seed 1]
        [--lines ../shared/data/arabic-print-gt] [--language ara] [--processes 2]

Pages are composed from real printed line images: `--lines` holds one folder per book of
`NNNNNN.png` + `NNNNNN.gt.txt` pairs. Each page takes 15-30 consecutive lines of one book
(at least two of them short, as paragraph ends are), right-aligned as right-to-left print is,
with a random gap of 0-60% of the line height after each line. A line's true box is the ink of
its pasted image (specks of 1-2 px left out), not the image: the data set's crops carry
uneven white margins, and bits of the neighbouring lines. Seeded: the same arguments compose
the same pages.

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
figures. Without the line folder it prints why and `{"skipped": ...}`, and exits 0.
"""

from __future__ import annotations

import argparse
import io
import json
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

CHOSEN = "platform_default"
BASELINE = "tesseract_psm3"


@dataclass(frozen=True)
class TruePage:
    """A composed page: its PNG, the true line boxes and texts in reading order."""

    book: str
    png: bytes
    boxes: tuple[ocr.BBox, ...]
    texts: tuple[str, ...]


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
_LANGUAGE = "ara"


def _start_worker(pages: list[TruePage], language: str) -> None:
    global _PAGES, _LANGUAGE
    _PAGES, _LANGUAGE = pages, language


def run_method(job: tuple[str, int]) -> tuple[str, Tally]:
    """Read page `index` with one method and score it, with the bands its boxes leave."""
    name, index = job
    page = _PAGES[index]
    started = time.perf_counter()
    readings = METHODS[name](page.png, _LANGUAGE)
    seconds = time.perf_counter() - started
    bands = segmentation.uncovered_bands(page.png, [reading.bbox for reading in readings])
    tally = score(page, readings, bands)
    tally.seconds.append(seconds)
    return name, tally


def run_line_baseline(index: int) -> tuple[str, Tally]:
    """Read every true line's crop alone (psm 13), as the platform re-reads a line."""
    page = _PAGES[index]
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
    return "line_by_line_true_boxes", tally


def _dispatch(job: tuple[str, int]) -> tuple[str, Tally]:
    name, index = job
    return run_line_baseline(index) if name == "line_by_line_true_boxes" else run_method(job)


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
    args = parser.parse_args(argv)

    books = load_books(args.lines) if args.lines.is_dir() else {}
    if not books:
        reason = f"no book folders of *.png + *.gt.txt pairs (at least {MAX_LINES}) in {args.lines}"
        print(f"Skipped: {reason}.")
        print(json.dumps({"skipped": reason}))
        return 0

    started = time.perf_counter()
    pages = make_pages(books, pages_per_book=args.pages_per_book, seed=args.seed)
    print(
        f"{len(pages)} pages from {len(books)} books ({sum(len(p.boxes) for p in pages)} lines), "
        f"seed {args.seed}, Tesseract {ocr.tesseract_version()}, language {args.language}",
        flush=True,
    )
    jobs = [
        (name, index)
        for index in range(len(pages))
        for name in [*METHODS, "line_by_line_true_boxes"]
    ]
    tallies: dict[str, Tally] = {name: Tally() for name in [*METHODS, "line_by_line_true_boxes"]}
    with Pool(args.processes, initializer=_start_worker, initargs=(pages, args.language)) as pool:
        for name, tally in pool.imap_unordered(_dispatch, jobs):
            tallies[name].add(tally)

    baseline_seconds = statistics.mean(tallies[BASELINE].seconds)
    results = {name: figures(tally, baseline_seconds) for name, tally in tallies.items()}
    line_cer = results.pop("line_by_line_true_boxes")["page_cer"]
    header = (
        f"{'method':36} {'recall':>7} {'missed':>6} {'merged':>6} {'split':>5} "
        f"{'flagged':>7} {'false':>5} {'CER':>7} {'s/page':>6} {'x psm3':>6}"
    )
    print(header)
    for name, row in results.items():
        print(
            f"{name:36} {row['line_recall']:7.2%} {row['missed']:6d} {row['merged']:6d} "
            f"{row['split']:5d} {row['flagged_share']:7.1%} {row['false_bands']:5d} "
            f"{row['page_cer']:7.2%} {row['seconds_per_page']:6.2f} {row['time_vs_psm3']:6.2f}"
        )
    print(
        f"{'line_by_line_true_boxes':36} {'':>54} {line_cer:7.2%}  (read_line psm 13, true crops)"
    )
    print(f"chosen: {CHOSEN}, segmentation.PREFERRED_PSM = {segmentation.PREFERRED_PSM}")
    print(f"{time.perf_counter() - started:.0f} s in all", flush=True)
    chosen = results[CHOSEN]
    print(
        json.dumps(
            {
                "line_recall": chosen["line_recall"],
                "flagged_share": chosen["flagged_share"],
                "page_cer": chosen["page_cer"],
                "line_cer": line_cer,
                "method": CHOSEN,
                "preferred_psm": segmentation.PREFERRED_PSM,
                "pages": len(pages),
                "lines": chosen["lines"],
                "seed": args.seed,
                "methods": results,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
