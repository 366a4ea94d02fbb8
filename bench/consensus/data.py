"""The lines the labelers label: real printed lines and Tesseract's reading of each.

Lines come from ../shared/data/arabic-print-gt (an equal share per book, chosen by the seed);
Tesseract (Debian's `ara`, psm 13) reads each one once through the platform's
`labeling.ocr.read_page`, and the prediction and its confidence are cached in
var/bench-cache/consensus-predictions.json, keyed by path and mtime. Without the shared data
the lines are rendered from labeling.synthetic. Every text is compared after
`labeling.ottoman.normalize` (the shared transcriptions omit the harakat the images show;
normalize drops them).
"""

from __future__ import annotations

import io
import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rapidfuzz.distance import Levenshtein

from labeling.ocr import OcrError, read_page
from labeling.ottoman import normalize

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = REPO.parent / "shared" / "data" / "arabic-print-gt"
CACHE_PATH = REPO / "var" / "bench-cache" / "consensus-predictions.json"
LANGUAGE = "ara"
PSM = 13  # one raw line: the crops are single lines, and layout analysis only hurts here


@dataclass(frozen=True)
class Line:
    key: str  # the same wherever the data lies: it seeds the line's labelers
    source: str  # book name, or "synthetic"
    truth: str  # normalized
    prediction: str  # normalized
    confidence: float


def load_lines(count: int, seed: int) -> tuple[list[Line], str]:
    """`count` lines and the name of where they came from ("arabic-print-gt" or "synthetic")."""
    if DATA_DIR.is_dir():
        lines = real_lines(count, seed)
        print(f"Data: {len(lines)} real printed lines from {DATA_DIR}")
        return lines, "arabic-print-gt"
    print(f"Data: {DATA_DIR} is missing; using lines rendered by labeling.synthetic instead")
    return synthetic_lines(count), "synthetic"


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
    # The cache is keyed by path and mtime (a changed file is read again); the line's key, which
    # seeds its labelers, by its name within the data set, so that the figures do not depend on
    # where the repository and ../shared happen to be.
    cached = {f"{path}:{path.stat().st_mtime_ns}": path for path in files}
    predictions = predict_all([(key, lambda p=path: p) for key, path in cached.items()])
    lines = []
    for key, path in cached.items():
        text, confidence = predictions[key]
        truth = normalize(path.with_suffix(".gt.txt").read_text(encoding="utf-8"))
        name = path.relative_to(DATA_DIR).as_posix()
        lines.append(Line(name, path.parent.name, truth, normalize(text), confidence))
    return lines


def synthetic_lines(count: int) -> list[Line]:
    """Rendered sample lines: word order rotated and fonts and sizes cycled for variety."""
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


def describe_lines(lines: Sequence[Line]) -> None:
    """Print how well Tesseract read the lines, in all and per book."""
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
