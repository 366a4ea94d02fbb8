"""Find a page's text lines, and the ink that no line box covers.

Tesseract's page layout analysis can drop whole lines of a plain printed page (a short
paragraph end, or a full-width line between two others) and say nothing: the line has no
box, so it is missing from the page's text. This module finds lines with a projection
profile of the binarized page, reads them, and finds the bands of ink left without a box so
the page can say so. A skewed scan (lines `_MIN_SKEW` or more off level) is turned level
first: there a horizontal profile merges neighbouring lines. No Django here (like
`labeling/ocr.py`): bytes in, dataclasses out.

Measured by `bench/segmentation.py` on pages composed from real printed lines; its output is
what chose `PREFERRED_PSM` and the method of `read_page`.
"""

from __future__ import annotations

import io
import math
import re
import statistics
import time
from array import array
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from types import MappingProxyType

from PIL import Image, UnidentifiedImageError

from labeling import ocr

__all__ = [
    "MIN_SKEW",
    "PREFERRED_PSM",
    "TESSERACT_CONFIG",
    "Level",
    "LevelImage",
    "band_resolved",
    "estimate_skew",
    "find_level_lines",
    "find_lines",
    "ink_mask",
    "level_image",
    "page_image",
    "read_boxes",
    "read_page",
    "uncovered_bands",
]

# None: read_page finds lines with the projection profile and reads them one by one; a
# number would mean Tesseract's own page reading with that psm. bench/segmentation.py, 20
# pages of 445 real printed lines (seed 1): line recall 99.8% and page CER 7.99% (line by
# line on the true boxes: 7.88%), against psm 3 93.0% / 14.1%, and psm 6 with
# TESSERACT_CONFIG 99.1% / 10.2% (it splits lines); 1.06x the time of plain psm 3. The same
# pages skewed by 0.5-3 degrees: 99.8% / 8.1% (turned level first), against 64.0% / 35.8% for
# the profile on the page as it is, and psm 6 with TESSERACT_CONFIG 99.6% / 10.9%.
PREFERRED_PSM: int | None = None

# Tesseract's own page reading (an explicit psm) keeps what its line finder would throw
# away as noise: rows and words of few blobs, which is what a short last line of a
# paragraph is (bench/segmentation.py: psm 6 line recall 94.2% -> 99.1%).
TESSERACT_CONFIG: Mapping[str, str] = MappingProxyType(
    {"textord_noise_rejrows": "0", "textord_noise_rejwords": "0"}
)

_INK = 255

# A row belongs to a line's core (the body of the letters on the baseline) when its ink
# covers at least this share of the row's ink extent: rows of ascenders, descenders and
# dots are sparse (about 0.05-0.1 in print), the baseline zone dense (0.3-0.6).
_CORE_DENSITY = 0.2
# Fewer ink pixels than this make no core row, whatever the density.
_CORE_MIN_PIXELS = 3
# Gaps inside one core (a dip in density) up to this share of the median core are closed.
_CORE_GAP_SHARE = 0.5
# A core with less than this share of the strongest core's ink is not a line's.
_CORE_MIN_INK_SHARE = 0.01
# Two lines' cores are at least this share of the line pitch apart.
_MIN_LINE_SEPARATION = 0.6
# The line pitch is measured on at most this many bins of rows, and a period must
# correlate at least this well to count.
_PITCH_SAMPLES = 600
_PITCH_MIN_CORRELATION = 0.1
# A peak is the highest point within this many bins on either side.
_PITCH_PEAK_WINDOW = 3
# Ink up to this share of the line pitch beyond either end of a line's core is the line's.
_SIDE_REACH = 0.5
# A line's ink may be separated from its core by blank rows (dots, vowel signs) up to this
# share of the median core height.
_MARK_GAP_SHARE = 1.0

# Straight runs of ink at least this long (and this share of the page) are rules or the
# dark edge of a scan, never letters.
_RULE_MIN_PIXELS = 200
_RULE_PAGE_SHARE = 1 / 3
# Ink this close to the page's edge (share of the side) is scanner noise.
_EDGE_SHARE = 0.005

# Two classes of grey this close are one: a blank page, not ink on paper.
_MIN_CONTRAST = 48

# A line (or a band of uncovered ink) must be at least this share of the median line height
# tall and wide, and hold at least this share of the square of it in ink pixels.
# A line of letters without ascenders or descenders ("سنه .") is 0.4 of a full line.
_LINE_MIN_HEIGHT = 0.3
_LINE_MIN_WIDTH = 0.4
_LINE_MIN_INK = 0.05
# Ink must also fill this share of the box: bits of a neighbour line's letters spread
# thinly across the page do not.
_LINE_MIN_FILL = 0.04

# A line box is grown by this share of its height (plus 2 px) before it hides ink, so the
# edges of letters it cuts through do not become bands of their own.
_BOX_GROWTH = 0.1

# band_resolved: boxes must cover at least this share of the band's area.
_RESOLVED_SHARE = 0.6

# Skew is looked for within this many degrees either way, first in coarse steps, then in
# fine steps around the best coarse angle. A coarse step must stay well under the angle at
# which a line drifts by one line pitch across the page (about 1.5 degrees on a page of
# wide lines), or the best coarse angle can be a wrong one.
_MAX_SKEW = 5.0
_SKEW_COARSE_STEP = 0.5
_SKEW_FINE_STEP = 0.05
# The skew profile sums the ink of at most this many vertical strips (at least this many
# pixels wide) over at most this many rows: on a 2500 x 3500 page a line drifts 4 pixels
# within a strip at 3 degrees, and the search takes about 40 ms (60 ms per bench page with
# the ink mask).
_SKEW_MAX_STRIPS = 40
_SKEW_MIN_STRIP = 24
_SKEW_MAX_ROWS = 1000
# A page skewed less than this (degrees) is read as it is, from the crops labelers see. It
# is well above the estimate's error on rendered pages (0.05 degrees); turning a page only a
# little costs nothing measurable (bench/segmentation.py, straight pages, whose lines of one
# low-quality book are themselves 0.3-0.8 degrees off: 8.00% page CER, 7.99% before deskew).
# Between 0.3 and 0.5 degrees the two ways were not compared.
_MIN_SKEW = 0.3
MIN_SKEW = _MIN_SKEW


@dataclass(frozen=True)
class Level:
    """How a page turns level: its skew, and the sizes of the page and of its level copy.

    `skew` is in degrees, counter-clockwise as `Image.rotate` turns: a straight page turned by
    `page.rotate(skew)` has that skew. The level copy is the page turned back around its centre,
    grown to hold every corner; boxes go from it to the page and back.
    """

    skew: float
    size: tuple[int, int]
    level_size: tuple[int, int]

    @classmethod
    def of(cls, size: tuple[int, int], skew: float) -> Level:
        width, height = size
        cos, sin = abs(math.cos(math.radians(skew))), abs(math.sin(math.radians(skew)))
        level = (math.ceil(width * cos + height * sin), math.ceil(width * sin + height * cos))
        return cls(skew=skew, size=size, level_size=level)

    def turn(
        self,
        image: Image.Image,
        *,
        fill: int | tuple[int, int, int],
        resample: Image.Resampling,
    ) -> Image.Image:
        """The level copy of `image` (the page, or a mask of it), `fill` where the page was not."""
        return image.transform(
            self.level_size,
            Image.Transform.AFFINE,
            self._to_page_matrix(),
            resample=resample,
            fillcolor=fill,
        )

    def to_page(self, box: ocr.BBox) -> ocr.BBox:
        """The page box around a level box turned back: the axis-aligned box of its corners,
        clipped to the page."""
        a, b, c, d, e, f = self._to_page_matrix()
        corners = [(x, y) for x in (box.left, box.right) for y in (box.top, box.bottom)]
        xs = [a * x + b * y + c for x, y in corners]
        ys = [d * x + e * y + f for x, y in corners]
        width, height = self.size
        return ocr.BBox(
            max(math.floor(min(xs)), 0),
            max(math.floor(min(ys)), 0),
            min(math.ceil(max(xs)), width),
            min(math.ceil(max(ys)), height),
        )

    def to_level(self, box: ocr.BBox) -> ocr.BBox:
        """The level box whose `to_page` is (about) the page box `box`: same centre, and the
        size a level rectangle needs for its turned corners to touch the box's sides."""
        cos, sin = math.cos(math.radians(self.skew)), abs(math.sin(math.radians(self.skew)))
        a, b, c, d, e, f = self._to_level_matrix()
        x, y = (box.left + box.right) / 2, (box.top + box.bottom) / 2
        centre_x, centre_y = a * x + b * y + c, d * x + e * y + f
        # A level w x h turned by the skew spans w cos + h sin across and w sin + h cos down;
        # a box drawn by hand need not be such a span, so neither side goes below one pixel.
        denominator = cos * cos - sin * sin
        width = max((box.width * cos - box.height * sin) / denominator, 1.0)
        height = max((box.height * cos - box.width * sin) / denominator, 1.0)
        return ocr.BBox(
            round(centre_x - width / 2),
            round(centre_y - height / 2),
            round(centre_x + width / 2),
            round(centre_y + height / 2),
        )

    def _to_page_matrix(self) -> tuple[float, float, float, float, float, float]:
        """Pillow's affine data: a level point (x, y) is the page point
        (a x + b y + c, d x + e y + f)."""
        cos, sin = math.cos(math.radians(self.skew)), math.sin(math.radians(self.skew))
        page_x, page_y = self.size[0] / 2, self.size[1] / 2
        level_x, level_y = self.level_size[0] / 2, self.level_size[1] / 2
        return (
            cos,
            sin,
            page_x - cos * level_x - sin * level_y,
            -sin,
            cos,
            page_y + sin * level_x - cos * level_y,
        )

    def _to_level_matrix(self) -> tuple[float, float, float, float, float, float]:
        cos, sin = math.cos(math.radians(self.skew)), math.sin(math.radians(self.skew))
        page_x, page_y = self.size[0] / 2, self.size[1] / 2
        level_x, level_y = self.level_size[0] / 2, self.level_size[1] / 2
        return (
            cos,
            -sin,
            level_x - cos * page_x + sin * page_y,
            sin,
            cos,
            level_y - sin * page_x - cos * page_y,
        )


@dataclass(frozen=True)
class _Rows:
    """Per row of a mask: ink pixels, and the first and last ink column (-1 when none)."""

    counts: list[int]
    firsts: list[int]
    lasts: list[int]


def read_page(
    image: bytes,
    *,
    language: str = "ara",
    tessdata_dir: str | Path | None = None,
    psm: int | None = None,
    timeout: float = 600.0,
    tesseract_cmd: str = "tesseract",
) -> ocr.PageReading:
    """The platform's page reading: lines found with the projection profile, read one by one.

    With `psm` None (the default, `PREFERRED_PSM`), lines come from `find_level_lines` and each
    is read in its crop as one raw line (psm 13), all in one Tesseract run. On a page skewed by
    less than `_MIN_SKEW` that crop is `ocr.crop_line` of the page, the crop labelers see; on a
    skewed page it is the line's crop of the level page, and the line's box is the page box
    around it (`Level.to_page`), so the crop labelers see holds the line and the ends of its
    neighbours. With an explicit psm, Tesseract reads the page with that psm (and
    `TESSERACT_CONFIG`), and the bands of ink its lines leave uncovered are read as lines of
    their own. Either way lines are top to bottom, text NFC in logical order, lines without
    text dropped. Raises ocr.OcrError as `ocr.read_page` does (ValueError for a psm outside
    1..13); each Tesseract run is bounded by `timeout`.
    """
    started = time.perf_counter()
    page = page_image(image)
    if psm is None:
        psm = PREFERRED_PSM
    if psm is None:
        level, boxes = find_level_lines(page)
        # A skewed page's lines are read in its level copy, where each crop holds one line,
        # and stored as the page box around them (see `_level_page`).
        readings = _read_crops(
            page if level is None else _level_page(page, level),
            boxes,
            boxes if level is None else [level.to_page(box) for box in boxes],
            language=language,
            tessdata_dir=tessdata_dir,
            timeout=timeout,
            tesseract_cmd=tesseract_cmd,
        )
    else:
        whole = ocr.read_page(
            image,
            language=language,
            tessdata_dir=tessdata_dir,
            psm=psm,
            timeout=timeout,
            tesseract_cmd=tesseract_cmd,
            config=TESSERACT_CONFIG,
        )
        bands = _uncovered(page, [line.bbox for line in whole.lines])
        remaining = max(timeout - (time.perf_counter() - started), 1.0)
        readings = list(whole.lines) + read_boxes(
            page,
            bands,
            language=language,
            tessdata_dir=tessdata_dir,
            timeout=remaining,
            tesseract_cmd=tesseract_cmd,
        )
        if bands:
            readings.sort(key=lambda line: (line.bbox.top + line.bbox.bottom) / 2)
    return ocr.PageReading(
        width=page.width,
        height=page.height,
        lines=tuple(readings),
        language=language,
        seconds=time.perf_counter() - started,
    )


def read_boxes(
    page: Image.Image,
    boxes: Sequence[ocr.BBox],
    *,
    language: str = "ara",
    tessdata_dir: str | Path | None = None,
    timeout: float = 600.0,
    tesseract_cmd: str = "tesseract",
) -> list[ocr.LineReading]:
    """Read each box's crop as one raw line (psm 13) in one Tesseract run; boxes whose crop
    gives no text are dropped. Each reading's box is the page box it was read from."""
    return _read_crops(
        page,
        boxes,
        boxes,
        language=language,
        tessdata_dir=tessdata_dir,
        timeout=timeout,
        tesseract_cmd=tesseract_cmd,
    )


def _read_crops(
    image: Image.Image,
    boxes: Sequence[ocr.BBox],
    stored: Sequence[ocr.BBox],
    *,
    language: str,
    tessdata_dir: str | Path | None,
    timeout: float,
    tesseract_cmd: str,
) -> list[ocr.LineReading]:
    """Read the crop of each of `boxes` in `image` as one raw line (psm 13) in one Tesseract
    run; each reading gets the box of `stored` at the same place, readings without text are
    dropped."""
    crops = [ocr.crop_line(image, box) for box in boxes]
    readings = ocr.read_lines(
        crops,
        language=language,
        tessdata_dir=tessdata_dir,
        psm=13,
        timeout=timeout,
        tesseract_cmd=tesseract_cmd,
    )
    return [
        ocr.LineReading(bbox=box, text=reading.text, confidence=reading.confidence)
        for box, reading in zip(stored, readings, strict=True)
        if reading.text
    ]


def uncovered_bands(image: bytes, boxes: Sequence[ocr.BBox]) -> list[ocr.BBox]:
    """Horizontal bands of ink that no line box covers (after binarization): each band a box
    around the uncovered ink, top to bottom.

    Specks, the page's edge, straight rules and the edges of letters a box cuts through make
    no band: a band must look like a text line (a dense core, at least `_LINE_MIN_HEIGHT` of
    the median box height tall, enough ink). On a skewed page bands are found on the level
    page, each box hiding the level rectangle it is the page box of (`Level.to_level`), and
    a band is the page box around its level one. Raises ocr.OcrError for an image Tesseract
    cannot read.
    """
    return _uncovered(page_image(image), boxes)


def band_resolved(band: ocr.BBox, boxes: Sequence[ocr.BBox]) -> bool:
    """Whether line boxes now cover most of the band's area (`_RESOLVED_SHARE`), by geometry
    only: the page view asks it after a person drew or moved boxes."""
    area = band.width * band.height
    if area <= 0:
        return True
    clipped = [
        ocr.BBox(
            max(box.left, band.left),
            max(box.top, band.top),
            min(box.right, band.right),
            min(box.bottom, band.bottom),
        )
        for box in boxes
    ]
    return _union_area([box for box in clipped if box.width > 0 and box.height > 0]) >= (
        _RESOLVED_SHARE * area
    )


def page_image(image: bytes) -> Image.Image:
    """Open a page as Tesseract reads it: the first frame, no EXIF rotation, loaded.

    Raises ocr.OcrError for what `ocr.read_page` refuses (not an image, a format Tesseract
    does not read, too large, damaged).
    """
    # ocr.read_page's own check first, so both refuse the same files with the same message.
    ocr.check_image(image)
    try:
        opened = Image.open(io.BytesIO(image))
        opened.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ocr.OcrError(f"Tesseract failed: the image is damaged ({error})") from error
    return opened


def ink_mask(page: Image.Image) -> Image.Image:
    """The page's ink as a mode "L" image, 255 for ink and 0 for paper, by Otsu's threshold.

    A page whose greys do not fall into two classes far enough apart (a blank page, a faint
    scan of nothing) has no ink.
    """
    gray = _gray(page)
    threshold = _otsu_threshold(gray.histogram())
    if threshold is None:
        return Image.new("L", gray.size, 0)
    return gray.point([_INK if value <= threshold else 0 for value in range(256)])


def find_lines(page: Image.Image) -> list[ocr.BBox]:
    """The text lines of a single-column page by the projection profile, top to bottom, on
    the page as it is (`find_level_lines` turns a skewed page level first).

    Each line is one dense core of rows (the letters' bodies on the baseline) with the ink
    above and below it up to the faintest row between it and the next core; its box is
    tight around that ink. Rules, the page's edge and specks are left out.
    """
    return _lines_in_mask(_clean_mask(page))


@dataclass(frozen=True)
class LevelImage:
    """A skewed page turned level, encoded to be stored in the page's place: `skew` degrees
    (as `estimate_skew` gives it), `extension` "png" or "jpg"."""

    data: bytes
    extension: str
    skew: float
    width: int
    height: int


def level_image(image: bytes) -> LevelImage | None:
    """The page turned level, when it is skewed by `MIN_SKEW` degrees or more; None otherwise.

    The platform stores this copy as the page, so the boxes found on it are upright around
    one line each, and the crop labelers see (and releases export) is the crop Tesseract read.
    Greys stay greys and colours colours; white fills the corners the turn uncovers. A JPEG
    stays a JPEG (quality 92), anything else becomes a PNG. Raises ocr.OcrError as `read_page`.
    """
    page = page_image(image)
    skew = estimate_skew(page)
    if abs(skew) < MIN_SKEW:
        return None
    grey = page.mode in ("1", "L", "LA", "I", "I;16", "F")
    base = page.convert("L") if grey else page.convert("RGB")
    fill: int | tuple[int, int, int] = 255 if base.mode == "L" else (255, 255, 255)
    level = Level.of(base.size, skew)
    turned = level.turn(base, fill=fill, resample=Image.Resampling.BICUBIC)
    out = io.BytesIO()
    if page.format in ("JPEG", "MPO"):
        turned.save(out, "JPEG", quality=92)
        extension = "jpg"
    else:
        turned.save(out, "PNG")
        extension = "png"
    return LevelImage(
        data=out.getvalue(),
        extension=extension,
        skew=skew,
        width=turned.width,
        height=turned.height,
    )


def find_level_lines(page: Image.Image) -> tuple[Level | None, list[ocr.BBox]]:
    """The text lines of a single-column page as `find_lines` finds them, on the page turned
    level: (its `Level`, the lines' boxes in the level copy), top to bottom.

    A page skewed less than `_MIN_SKEW` is not turned: (None, the boxes in the page).
    """
    level, mask = _level_mask(page)
    return level, _lines_in_mask(mask)


def estimate_skew(page: Image.Image) -> float:
    """The page's skew in degrees, counter-clockwise (a straight page turned by
    `page.rotate(angle)` has skew `angle`), within `_MAX_SKEW` either way; 0.0 for a page
    without ink.

    The angle at which the rows' ink is most uneven (the projection profile's variance),
    sought on the sums of narrow vertical strips shifted against each other.
    """
    mask = ink_mask(page)
    _erase_edge(mask)
    return _skew(mask)


def _level_mask(page: Image.Image) -> tuple[Level | None, Image.Image]:
    """The page's `Level` (None when skewed less than `_MIN_SKEW`) and its clean mask, level.

    Unturned, it is `_clean_mask`. Turned, the scanner's edge is erased before (it is straight
    on the glass) and rules after (they are straight on the paper).
    """
    ink = ink_mask(page)
    edgeless = ink.copy()
    _erase_edge(edgeless)
    skew = _skew(edgeless)
    if abs(skew) < _MIN_SKEW:
        _erase_rules(ink)
        _erase_edge(ink)
        return None, ink
    level = Level.of(ink.size, skew)
    mask = level.turn(edgeless, fill=0, resample=Image.Resampling.NEAREST)
    _erase_rules(mask)
    return level, mask


def _level_page(page: Image.Image, level: Level) -> Image.Image:
    """The page turned level, in greys on white: what a skewed page's lines are read from.

    Their crops here hold one line each; the page box stored for a line (`Level.to_page`) is
    taller than the line by its drift across the page, so its crop in the page also shows
    bits of the lines above and below (bench/segmentation.py, "skewed" rows).
    """
    return level.turn(_gray(page), fill=255, resample=Image.Resampling.BICUBIC)


def _skew(mask: Image.Image) -> float:
    width, height = mask.size
    if mask.getbbox() is None:
        return 0.0
    strips = max(min(width // _SKEW_MIN_STRIP, _SKEW_MAX_STRIPS), 1)
    rows = min(height, _SKEW_MAX_ROWS)
    # Rows per strip that a line climbs per unit of tan(angle).
    climb = (width / strips) / (height / rows)
    pad = math.ceil(strips / 2 * climb * math.tan(math.radians(_MAX_SKEW))) + 1
    profile = Image.new("F", (strips, rows + 2 * pad), 0.0)
    profile.paste(mask.resize((strips, rows), Image.Resampling.BOX).convert("F"), (0, pad))

    def unevenness(angle: float) -> float:
        # Level row y of strip x is the page's row y - (x - middle) * slope.
        slope = math.tan(math.radians(angle)) * climb
        shifted = profile.transform(
            profile.size,
            Image.Transform.AFFINE,
            (1, 0, 0, -slope, 1, slope * strips / 2),
            resample=Image.Resampling.BILINEAR,
        )
        sums = array("f", shifted.resize((1, profile.height), Image.Resampling.BOX).tobytes())
        return sum(value * value for value in sums)

    steps = round(_MAX_SKEW / _SKEW_COARSE_STEP)
    coarse = max((step * _SKEW_COARSE_STEP for step in range(-steps, steps + 1)), key=unevenness)
    steps = math.ceil(_SKEW_COARSE_STEP / 2 / _SKEW_FINE_STEP) + 1
    angles = [coarse + step * _SKEW_FINE_STEP for step in range(-steps, steps + 1)]
    scores = [unevenness(angle) for angle in angles]
    best = max(range(len(angles)), key=scores.__getitem__)
    angle = angles[best]
    if 0 < best < len(angles) - 1:
        # The top of the parabola through the best fine step and its neighbours.
        before, at, after = scores[best - 1 : best + 2]
        bend = before - 2 * at + after
        if bend < 0:
            angle += _SKEW_FINE_STEP * (before - after) / (2 * bend)
    return max(-_MAX_SKEW, min(_MAX_SKEW, angle))


def _uncovered(page: Image.Image, boxes: Sequence[ocr.BBox]) -> list[ocr.BBox]:
    level, mask = _level_mask(page)
    if level is not None:
        # A page box of a skewed line also spans the ends of its neighbours: what it hides
        # is the level rectangle it was drawn around.
        boxes = [level.to_level(box) for box in boxes]
    heights = [box.height for box in boxes if box.height > 0 and box.width > 0]
    for box in boxes:
        grow = 2 + round(_BOX_GROWTH * box.height)
        mask.paste(
            0, (box.left - grow, box.top - grow, box.right + grow, box.bottom + grow)
        )  # Pillow clips the rectangle to the page.
    bands = _lines_in_mask(mask, line_height=statistics.median(heights) if heights else None)
    return bands if level is None else [level.to_page(band) for band in bands]


def _clean_mask(page: Image.Image) -> Image.Image:
    """The ink mask without straight rules and without the page's edge."""
    mask = ink_mask(page)
    _erase_rules(mask)
    _erase_edge(mask)
    return mask


def _erase_edge(mask: Image.Image) -> None:
    """Erase the ink along the page's edge (`_EDGE_SHARE`), in place."""
    width, height = mask.size
    edge_x = max(round(_EDGE_SHARE * width), 1)
    edge_y = max(round(_EDGE_SHARE * height), 1)
    for box in (
        (0, 0, width, edge_y),
        (0, height - edge_y, width, height),
        (0, 0, edge_x, height),
        (width - edge_x, 0, width, height),
    ):
        mask.paste(0, box)


def _erase_rules(mask: Image.Image) -> None:
    """Erase straight horizontal and vertical runs of ink as long as a rule, in place."""
    width, height = mask.size
    mask.paste(_without_runs(mask, _rule_length(width)))
    upright = mask.transpose(Image.Transpose.TRANSPOSE)
    mask.paste(_without_runs(upright, _rule_length(height)).transpose(Image.Transpose.TRANSPOSE))


def _rule_length(side: int) -> int:
    return max(_RULE_MIN_PIXELS, round(_RULE_PAGE_SHARE * side))


def _without_runs(mask: Image.Image, length: int) -> Image.Image:
    """`mask` with every run of at least `length` ink pixels along a row erased."""
    width, height = mask.size
    data = bytearray(mask.tobytes())
    run = re.compile(b"\xff{%d,}" % length)
    for y in range(height):
        start = y * width
        for match in run.finditer(data, start, start + width):
            data[match.start() : match.end()] = bytes(match.end() - match.start())
    return Image.frombytes("L", (width, height), bytes(data))


def _rows(mask: Image.Image) -> _Rows:
    width, height = mask.size
    data = mask.tobytes()
    counts, firsts, lasts = [], [], []
    for y in range(height):
        row = data[y * width : (y + 1) * width]
        counts.append(row.count(_INK))
        firsts.append(row.find(_INK))
        lasts.append(row.rfind(_INK))
    return _Rows(counts=counts, firsts=firsts, lasts=lasts)


def _cores(rows: _Rows) -> list[tuple[int, int, int]]:
    """Runs of dense rows as (top, bottom, ink), bottom exclusive, short gaps closed."""
    dense = [
        count >= _CORE_MIN_PIXELS and count >= _CORE_DENSITY * (last - first + 1)
        for count, first, last in zip(rows.counts, rows.firsts, rows.lasts, strict=True)
    ]
    runs = _runs(dense)
    if not runs:
        return []
    median = statistics.median(bottom - top for top, bottom in runs)
    joined: list[tuple[int, int]] = []
    for top, bottom in runs:
        if joined and top - joined[-1][1] <= _CORE_GAP_SHARE * median:
            joined[-1] = (joined[-1][0], bottom)
        else:
            joined.append((top, bottom))
    return [(top, bottom, sum(rows.counts[top:bottom])) for top, bottom in joined]


def _runs(flags: Sequence[bool]) -> list[tuple[int, int]]:
    runs = []
    start = None
    for index, flag in enumerate(flags):
        if flag and start is None:
            start = index
        elif not flag and start is not None:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(flags)))
    return runs


def _line_pitch(counts: Sequence[int]) -> float | None:
    """The distance from one line to the next, as the first peak of the row profile's
    autocorrelation; None when the profile has no clear period (one or two lines)."""
    step = max(1, len(counts) // _PITCH_SAMPLES)
    profile = [sum(counts[start : start + step]) for start in range(0, len(counts), step)]
    mean = sum(profile) / len(profile)
    centred = [value - mean for value in profile]
    energy = sum(value * value for value in centred)
    if energy <= 0:
        return None
    correlation = [
        sum(a * b for a, b in zip(centred, centred[lag:], strict=False)) / energy
        for lag in range(len(centred) // 2)
    ]
    # The first trough after lag 0, then the first peak after it: with uneven spacing the
    # peaks at two or three lines can be higher than the one at one line.
    trough = next(
        (lag for lag in range(1, len(correlation) - 1) if correlation[lag] < correlation[lag + 1]),
        None,
    )
    if trough is None:
        return None
    window = _PITCH_PEAK_WINDOW
    for lag in range(trough, len(correlation) - window):
        neighbours = correlation[max(lag - window, 0) : lag + window + 1]
        if correlation[lag] >= _PITCH_MIN_CORRELATION and correlation[lag] == max(neighbours):
            return float(lag * step)
    return None


def _ink_run_height(counts: Sequence[int]) -> float:
    """The typical height of the stretches of rows with ink (gaps of 2 rows closed): their
    median weighted by ink, so rows of dots apart from their line do not count."""
    runs = _runs([count > 0 for count in counts])
    joined: list[tuple[int, int]] = []
    for top, bottom in runs:
        if joined and top - joined[-1][1] <= 2:
            joined[-1] = (joined[-1][0], bottom)
        else:
            joined.append((top, bottom))
    if not joined:
        return 0.0
    return _weighted_median([(bottom - top, sum(counts[top:bottom])) for top, bottom in joined])


def _lines_in_mask(mask: Image.Image, *, line_height: float | None = None) -> list[ocr.BBox]:
    """Lines of a clean mask, one per kept core; `line_height` (else the page's own line
    pitch) sets how close two lines may be and how small a line may be."""
    rows = _rows(mask)
    cores = _cores(rows)
    if not cores:
        return []
    # Both estimates can only err high (a period of two lines; touching lines as one
    # stretch), and too high a spacing would merge lines, so the smaller is taken.
    spacing = line_height or min(_line_pitch(rows.counts) or math.inf, _ink_run_height(rows.counts))
    # The strongest core in any stretch of half a line is the line's; the others are rows
    # of dots, vowel signs or a neighbour's descenders, which the line's box takes in below.
    # A core with a sliver of the strongest one's ink is a few dots: left to the lines
    # around it, it must not cut one of them in two either.
    strongest = max(ink for _top, _bottom, ink in cores)
    kept: list[tuple[int, int, int]] = []
    for core in sorted(cores, key=lambda core: -core[2]):
        if core[2] < _CORE_MIN_INK_SHARE * strongest:
            break
        centre = (core[0] + core[1]) / 2
        if all(
            abs(centre - (top + bottom) / 2) >= _MIN_LINE_SEPARATION * spacing
            for top, bottom, _ in kept
        ):
            kept.append(core)
    kept.sort()
    core_height = statistics.median(bottom - top for top, bottom, _ in kept)
    max_gap = max(round(_MARK_GAP_SHARE * core_height), 2)
    # Between two cores the line above ends at the faintest row (the middle of the faintest
    # stretch): that is where descenders of one line give way to ascenders of the next.
    limits = (
        [0]
        + [_faintest_row(rows.counts, above[1], below[0]) for above, below in pairwise(kept)]
        + [len(rows.counts)]
    )
    lines: list[tuple[ocr.BBox, int]] = []
    reach = round(_SIDE_REACH * spacing)
    for index, (top, bottom, ink) in enumerate(kept):
        upper = _ink_edge(rows.counts, top, limits[index], -1, max_gap)
        lower = _ink_edge(rows.counts, bottom - 1, limits[index + 1] - 1, 1, max_gap)
        # Across, the line is its core's width and a little more (final letters' tails):
        # a neighbour's descenders reaching into its rows must not widen a short line
        # (its fullest rows, so a stray tail the core's first row caught does not count).
        fullest = max(rows.counts[top:bottom])
        full_rows = [y for y in range(top, bottom) if rows.counts[y] >= fullest / 2]
        core_left = min(rows.firsts[y] for y in full_rows)
        core_right = max(rows.lasts[y] for y in full_rows) + 1
        left = max(core_left - reach, 0)
        found = mask.crop((left, upper, min(core_right + reach, mask.width), lower + 1)).getbbox()
        if found is not None:
            box = ocr.BBox(left + found[0], upper + found[1], left + found[2], upper + found[3])
            lines.append((box, ink))
    if not lines:
        return []
    # Weighted by their cores' ink, so that a crowd of specks cannot make the typical line
    # look small.
    height = line_height or _weighted_median([(box.height, ink) for box, ink in lines])
    return [box for box, _ink in lines if _looks_like_a_line(mask, box, height)]


def _weighted_median(values: Sequence[tuple[int, int]]) -> float:
    """The value at which the weights of (value, weight) pairs reach half their total."""
    ordered = sorted(values)
    half = sum(weight for _value, weight in ordered) / 2
    reached = 0
    for value, weight in ordered:
        reached += weight
        if reached >= half:
            return float(value)
    return float(ordered[-1][0])


def _faintest_row(counts: Sequence[int], start: int, stop: int) -> int:
    """The middle of the longest stretch of the faintest rows in [start, stop)."""
    if stop <= start:
        return start
    faintest = min(counts[start:stop])
    stretches = _runs([count == faintest for count in counts[start:stop]])
    top, bottom = max(stretches, key=lambda run: run[1] - run[0])
    return start + (top + bottom) // 2


def _ink_edge(counts: Sequence[int], start: int, limit: int, step: int, max_gap: int) -> int:
    """The last row with ink walking from `start` towards `limit` (inclusive) by `step`,
    crossing blank stretches up to `max_gap` rows."""
    edge = start
    gap = 0
    row = start
    while row != limit:
        row += step
        if counts[row]:
            edge = row
            gap = 0
        else:
            gap += 1
            if gap > max_gap:
                break
    return edge


def _looks_like_a_line(mask: Image.Image, box: ocr.BBox, line_height: float) -> bool:
    if box.height < _LINE_MIN_HEIGHT * line_height or box.width < _LINE_MIN_WIDTH * line_height:
        return False
    ink = mask.crop((box.left, box.top, box.right, box.bottom)).histogram()[_INK]
    return ink >= _LINE_MIN_INK * line_height**2 and ink >= _LINE_MIN_FILL * box.width * box.height


def _gray(page: Image.Image) -> Image.Image:
    if page.mode in ("RGBA", "LA", "PA") or (page.mode == "P" and "transparency" in page.info):
        # Transparent pixels are paper, whatever colour they hold.
        white = Image.new("RGBA", page.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, page.convert("RGBA")).convert("L")
    return page.convert("L")


def _otsu_threshold(histogram: Sequence[int]) -> int | None:
    """Otsu's threshold of a 256-bin histogram (values <= it are ink), or None when the two
    classes are less than `_MIN_CONTRAST` apart."""
    total = sum(histogram)
    grand = sum(value * count for value, count in enumerate(histogram))
    below = 0
    below_sum = 0
    best = -1.0
    chosen: tuple[int, float, float] | None = None
    for value, count in enumerate(histogram):
        below += count
        below_sum += value * count
        above = total - below
        if below == 0:
            continue
        if above == 0:
            break
        dark = below_sum / below
        light = (grand - below_sum) / above
        spread = below * above * (light - dark) ** 2
        if spread > best:
            best = spread
            chosen = (value, dark, light)
    if chosen is None or chosen[2] - chosen[1] < _MIN_CONTRAST:
        return None
    return chosen[0]


def _union_area(boxes: Sequence[ocr.BBox]) -> int:
    """The area covered by the union of boxes (coordinate compression: boxes are few)."""
    xs = sorted({x for box in boxes for x in (box.left, box.right)})
    area = 0
    for left, right in pairwise(xs):
        spans = sorted(
            (box.top, box.bottom) for box in boxes if box.left <= left and box.right >= right
        )
        covered = 0
        reach = None
        for top, bottom in spans:
            if reach is None or top > reach:
                covered += bottom - top
                reach = bottom
            elif bottom > reach:
                covered += bottom - reach
                reach = bottom
        area += covered * (right - left)
    return area
