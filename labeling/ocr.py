"""Read page images with the Tesseract command line: bytes or paths in, dataclasses out.

No Django here, so Celery tasks, management commands, tests and benchmarks all
call the same code, and nothing assumes the web process and the worker share
anything but their arguments.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
import time
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, UnidentifiedImageError

__all__ = [
    "BBox",
    "LineReading",
    "OcrError",
    "PageReading",
    "check_image",
    "crop_line",
    "installed_languages",
    "read_line",
    "read_lines",
    "read_page",
    "tesseract_version",
]

# Formats Leptonica (Tesseract's image reader) recognizes by their first bytes.
# Anything else is refused before Tesseract sees it: when Leptonica cannot
# recognize its input, Tesseract reads the input as a list of file names and
# OCRs those files, which must never happen with an uploaded file.
# MPO is Pillow's name for the JPEGs many cameras write; to Leptonica they are JPEG.
_LEPTONICA_FORMATS = frozenset({"BMP", "GIF", "JPEG", "JPEG2000", "MPO", "PNG", "TIFF", "WEBP"})

# Tesseract's language names ("ara", "ara+fas", "script/Arabic"); a name is also a
# path under the tessdata directory, so no "..", no absolute paths.
_LANGUAGE_RE = re.compile(
    r"[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)?(?:\+[A-Za-z0-9_-]+(?:/[A-Za-z0-9_-]+)?)*"
)

# Tesseract's parameter names (`-c name=value`); anything else is refused, and so is a value
# with a line break, which Tesseract would take as the start of another parameter.
_PARAMETER_RE = re.compile(r"[a-z][a-z0-9_]*")

_FAILED_LANGUAGE_RE = re.compile(r"Failed loading language '([^']*)'")

# Tesseract wraps left-to-right runs inside right-to-left lines in LRM/RLM marks
# (and may emit other bidi controls). They are invisible, would end up in the
# labeler's text box and in exported ground truth, and are not text.
# ZWNJ (U+200C) is not among them: in Ottoman spelling it is part of the word.
_BIDI_CONTROLS = dict.fromkeys(
    map(ord, "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)

_TSV_HEADER = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t"
_TSV_COLUMNS = 12
_STDERR_TAIL = 500


class OcrError(Exception):
    """Reading failed; the message is safe to show to a user."""


@dataclass(frozen=True)
class BBox:
    """A box in page pixel coordinates; right and bottom are exclusive."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top


@dataclass(frozen=True)
class LineReading:
    """One text line as Tesseract read it.

    `text` is NFC, in logical (reading) order, words joined by one space.
    `confidence` is 0..100: the mean of the line's word confidences (0.0 if none).
    """

    bbox: BBox
    text: str
    confidence: float


@dataclass(frozen=True)
class PageReading:
    """A page's lines in reading order, with the page size and how long Tesseract took."""

    width: int
    height: int
    lines: tuple[LineReading, ...]
    language: str
    seconds: float


def read_page(
    image: bytes | Path,
    *,
    language: str = "ara",
    tessdata_dir: str | Path | None = None,
    psm: int = 3,
    timeout: float = 600.0,
    tesseract_cmd: str = "tesseract",
    config: Mapping[str, str] | None = None,
) -> PageReading:
    """Read one page image (the first page of a multi-page TIFF) with one Tesseract run.

    Lines are Tesseract's text lines in its reading order; lines without text are
    dropped. Raises OcrError when the file is not a readable image, Tesseract is
    missing, a language is missing, Tesseract fails or it runs past `timeout`
    seconds (the process is killed). Raises ValueError for a `psm` outside 1..13.

    `config` holds more Tesseract parameters (`-c name=value`, e.g.
    {"textord_heavy_nr": "1"}); a name that is not a parameter name, or a value with a line
    break, raises ValueError.
    """
    _check_arguments(psm=psm, language=language, config=config)
    data = image.read_bytes() if isinstance(image, Path) else image
    width, height = _image_size(data)
    tsv, seconds = _recognize(
        data,
        language=language,
        tessdata_dir=tessdata_dir,
        psm=psm,
        timeout=timeout,
        tesseract_cmd=tesseract_cmd,
        config=config,
    )
    lines = tuple(
        LineReading(bbox=bbox, text=" ".join(texts), confidence=_mean(confidences))
        for bbox, texts, confidences in _tsv_lines(tsv)
    )
    return PageReading(width=width, height=height, lines=lines, language=language, seconds=seconds)


def read_line(
    image: bytes,
    *,
    language: str = "ara",
    tessdata_dir: str | Path | None = None,
    psm: int = 13,
    timeout: float = 600.0,
    tesseract_cmd: str = "tesseract",
    config: Mapping[str, str] | None = None,
) -> LineReading:
    """Read one image of one text line (a line's crop) as a single line.

    The box is the whole image. The text is every word Tesseract found, in its order, and
    the confidence the mean of their confidences; an image with no text gives "" and 0.0.
    `psm` 13 ("raw line") reads the crop as it is. With 7 ("single line") Tesseract still
    looks for a text line inside the crop first, and on some tight crops of printed Arabic it
    finds none and returns nothing (stock `ara` on unseen books: 12.6% normalized CER at 7,
    7.2% at 13; ../shared/DESIGN.md). Raises OcrError and ValueError as `read_page` does.
    """
    _check_arguments(psm=psm, language=language, config=config)
    width, height = _image_size(image)
    tsv, _seconds = _recognize(
        image,
        language=language,
        tessdata_dir=tessdata_dir,
        psm=psm,
        timeout=timeout,
        tesseract_cmd=tesseract_cmd,
        config=config,
    )
    return _whole_image_line(_tsv_lines(tsv), width=width, height=height)


def read_lines(
    images: Sequence[Image.Image],
    *,
    language: str = "ara",
    tessdata_dir: str | Path | None = None,
    psm: int = 13,
    timeout: float = 600.0,
    tesseract_cmd: str = "tesseract",
    config: Mapping[str, str] | None = None,
) -> tuple[LineReading, ...]:
    """Read many line images with one Tesseract run: one LineReading per image, in order.

    Each reading is read as `read_line` reads that image alone (box = the whole image), but
    the language data is loaded once: the images go to Tesseract as the pages of one TIFF
    (20 printed lines: 1.3 s against 1.8 s for 20 `read_line` calls, the same CER on each;
    2 of the 20 texts differed by spacing). `timeout` is for the whole run. Raises OcrError
    and ValueError as `read_page` does.
    """
    _check_arguments(psm=psm, language=language, config=config)
    if not images:
        return ()
    pages = [image if image.mode in ("1", "L") else image.convert("L") for image in images]
    buffer = io.BytesIO()
    pages[0].save(
        buffer, "TIFF", save_all=True, append_images=pages[1:], compression="tiff_deflate"
    )
    tsv, _seconds = _recognize(
        buffer.getvalue(),
        language=language,
        tessdata_dir=tessdata_dir,
        psm=psm,
        timeout=timeout,
        tesseract_cmd=tesseract_cmd,
        config=config,
        all_pages=True,
    )
    lines = _tsv_pages(tsv)
    return tuple(
        _whole_image_line(lines.get(str(number), []), width=image.width, height=image.height)
        for number, image in enumerate(images, start=1)
    )


def _whole_image_line(
    lines: list[tuple[BBox, list[str], list[float]]], *, width: int, height: int
) -> LineReading:
    """Every word of an image's lines as one line whose box is the whole image."""
    texts: list[str] = []
    confidences: list[float] = []
    for _bbox, line_texts, line_confidences in lines:
        texts += line_texts
        confidences += line_confidences
    return LineReading(
        bbox=BBox(0, 0, width, height), text=" ".join(texts), confidence=_mean(confidences)
    )


def _recognize(
    data: bytes,
    *,
    language: str,
    tessdata_dir: str | Path | None,
    psm: int,
    timeout: float,
    tesseract_cmd: str,
    config: Mapping[str, str] | None = None,
    all_pages: bool = False,
) -> tuple[str, float]:
    """Run Tesseract once on an image `_image_size` accepted (or a TIFF `read_lines` wrote,
    with `all_pages`), with arguments `_check_arguments` accepted: (TSV, seconds)."""
    command = [tesseract_cmd, "stdin", "stdout", "-l", language, "--psm", str(psm)]
    if tessdata_dir is not None:
        command += ["--tessdata-dir", str(tessdata_dir)]
    if not all_pages:
        # Only the first page: the Page model holds one image, and a multi-page TIFF
        # would otherwise cost one recognition per page for rows we would drop.
        command += ["-c", "tessedit_page_number=0"]
    for name, value in (config or {}).items():
        command += ["-c", f"{name}={value}"]
    # The variable, not the "tsv" config file: that file lives in the tessdata
    # directory, and without it (a directory of our own trained models) Tesseract
    # only warns "Can't open tsv", exits 0 and writes plain text.
    command += ["-c", "tessedit_create_tsv=1"]

    # The image goes in on stdin rather than through a temporary file: on a
    # 17-line page both took the same time (0.47 s against 0.49 s, best of 8),
    # and stdin needs no writable temp directory and leaves nothing behind when
    # the process is killed on timeout. Paths are read here too, so both kinds
    # of input pass the same format check above.
    started = time.perf_counter()
    result = _run(command, data=data, timeout=timeout)
    seconds = time.perf_counter() - started

    stderr = result.stderr.decode("utf-8", errors="replace")
    # With "ara+xyz" Tesseract drops xyz, still exits 0 and reads in ara alone:
    # a silently different reading, so a missing language is always an error.
    missing = _FAILED_LANGUAGE_RE.findall(stderr)
    if missing:
        raise OcrError(_missing_language_message(missing, tessdata_dir))
    if result.returncode != 0:
        raise OcrError(f"Tesseract failed: {_tail(stderr)}")

    tsv = result.stdout.decode("utf-8", errors="replace")
    if not tsv.startswith(_TSV_HEADER):
        raise OcrError(f"Tesseract did not write TSV: {_tail(stderr)}")
    return tsv, seconds


def installed_languages(
    *, tessdata_dir: str | Path | None = None, tesseract_cmd: str = "tesseract"
) -> set[str]:
    """Return the language names Tesseract can load, e.g. {"ara", "fas", "osd"}.

    Raises OcrError when Tesseract is missing or fails.
    """
    command = [tesseract_cmd, "--list-langs"]
    if tessdata_dir is not None:
        command += ["--tessdata-dir", str(tessdata_dir)]
    result = _run(command, data=b"", timeout=60.0)
    if result.returncode != 0:
        raise OcrError(f"Tesseract failed: {_tail(result.stderr.decode(errors='replace'))}")
    # The first line is the header 'List of available languages in "DIR/" (N):'.
    names = result.stdout.decode("utf-8", errors="replace").splitlines()[1:]
    return {name.strip() for name in names if name.strip()}


def tesseract_version(*, tesseract_cmd: str = "tesseract") -> str | None:
    """Return Tesseract's version ("5.3.0"), or None when it is not installed or will not run."""
    try:
        result = _run([tesseract_cmd, "--version"], data=b"", timeout=60.0)
    except OcrError:
        return None
    if result.returncode != 0:
        return None
    # Tesseract 4 printed the version on stderr, 5 on stdout: "tesseract 5.3.0".
    output = (result.stdout + result.stderr).decode("utf-8", errors="replace")
    match = re.search(r"^tesseract\s+v?(\S+)", output, flags=re.MULTILINE | re.IGNORECASE)
    return match.group(1) if match else None


def check_image(data: bytes) -> tuple[int, int]:
    """Return (width, height) of an image Tesseract can read, from its header; raise OcrError
    for what `read_page` refuses (not an image, a format Tesseract does not read, too large)."""
    return _image_size(data)


def crop_line(image: Image.Image, bbox: BBox, *, padding: int = 4) -> Image.Image:
    """Return the line's crop: `bbox` grown by `padding` on every side, clamped to the page.

    This is the crop a labeler sees and the one exported as ground truth, so both
    must come from here. `image` must be the page as Tesseract read it (no EXIF
    rotation applied), since `bbox` is in those pixels.
    """
    left = max(bbox.left - padding, 0)
    top = max(bbox.top - padding, 0)
    right = min(bbox.right + padding, image.width)
    bottom = min(bbox.bottom + padding, image.height)
    if right <= left or bottom <= top:
        raise ValueError(f"{bbox} lies outside the {image.width}x{image.height} page")
    return image.crop((left, top, right, bottom))


def _check_arguments(*, psm: int, language: str, config: Mapping[str, str] | None = None) -> None:
    # psm 0 only detects orientation and script: it would read no lines at all.
    if not 1 <= psm <= 13:
        raise ValueError(f"psm must be 1..13, not {psm}")
    _check_language_name(language)
    for name, value in (config or {}).items():
        if not _PARAMETER_RE.fullmatch(name):
            raise ValueError(f"{name!r} is not a Tesseract parameter name")
        if "\n" in value or "\r" in value:
            raise ValueError(f"the value of {name} has a line break")


def _check_language_name(language: str) -> None:
    if not _LANGUAGE_RE.fullmatch(language):
        raise OcrError(f"{language!r} is not a Tesseract language name")


def _image_size(data: bytes) -> tuple[int, int]:
    """Return (width, height) from the image header, refusing what Tesseract cannot read."""
    try:
        with Image.open(io.BytesIO(data)) as opened:
            if opened.format not in _LEPTONICA_FORMATS:
                raise OcrError(
                    f"{opened.format} images are not accepted for OCR; use PNG, JPEG, TIFF or WebP"
                )
            return opened.size
    except Image.DecompressionBombError as error:
        raise OcrError(f"The image is too large: {error}") from error
    except (UnidentifiedImageError, OSError) as error:
        raise OcrError("The file is not an image Tesseract can read") from error


def _run(command: list[str], *, data: bytes, timeout: float) -> subprocess.CompletedProcess[bytes]:
    # One thread per Tesseract: OpenMP's default thread team made a page 5-6x
    # slower on 2 cores (bench/ocr_throughput.py); more pages at once come from
    # more workers, not more threads.
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    try:
        return subprocess.run(
            command, input=data, capture_output=True, env=env, timeout=timeout, check=False
        )
    except FileNotFoundError as error:
        raise OcrError(f"Tesseract is not installed (no {command[0]!r} found)") from error
    except PermissionError as error:
        raise OcrError(f"Tesseract cannot be run ({command[0]!r}: permission denied)") from error
    except subprocess.TimeoutExpired as error:
        # subprocess.run has already killed and reaped the process.
        raise OcrError(f"Tesseract timed out after {timeout:g} s") from error


def _missing_language_message(missing: list[str], tessdata_dir: str | Path | None) -> str:
    names = ", ".join(dict.fromkeys(missing))
    if tessdata_dir is not None:
        return f"Tesseract language data for {names} is not in {tessdata_dir}"
    return f"Tesseract language data for {names} is not installed"


def _tail(stderr: str) -> str:
    # "Estimating resolution as 374" is printed for every image without a DPI.
    kept = [line for line in stderr.splitlines() if not line.startswith("Estimating resolution")]
    text = "\n".join(kept).strip()
    if len(text) > _STDERR_TAIL:
        text = "…" + text[-_STDERR_TAIL:]
    return text or "no error message"


def _mean(values: list[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def _tsv_lines(tsv: str) -> list[tuple[BBox, list[str], list[float]]]:
    """The first page's lines of Tesseract's TSV, as `_tsv_pages` gives them."""
    return _tsv_pages(tsv).get("1", [])


def _tsv_pages(tsv: str) -> dict[str, list[tuple[BBox, list[str], list[float]]]]:
    """Tesseract's TSV as lines per page number ("1", "2", …): level-4 rows with the level-5
    words under them, each line's box, its words (cleaned, NFC) and their confidences; lines
    without text are dropped.

    Tesseract writes rows in its reading order, and within a right-to-left line
    it writes the words in logical order (rightmost word first, left-to-right
    runs such as Latin numbers kept left to right), so words are kept in row
    order, never re-sorted by position.
    """
    boxes: dict[tuple[str, ...], BBox] = {}
    words: dict[tuple[str, ...], list[tuple[str, float]]] = {}
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t", _TSV_COLUMNS - 1)
        if len(fields) < _TSV_COLUMNS - 1:
            continue
        level = fields[0]
        key = tuple(fields[1:5])  # page, block, paragraph, line
        left, top, width, height = (int(value) for value in fields[6:10])
        if level == "4":
            boxes[key] = BBox(left, top, left + width, top + height)
            words[key] = []
        elif level == "5" and key in words:
            text = fields[11] if len(fields) == _TSV_COLUMNS else ""
            words[key].append((text, float(fields[10])))

    pages: dict[str, list[tuple[BBox, list[str], list[float]]]] = {}
    for key, bbox in boxes.items():
        texts = []
        confidences = []
        for raw, confidence in words[key]:
            word = unicodedata.normalize("NFC", raw.translate(_BIDI_CONTROLS)).strip()
            if not word:
                continue
            texts.append(word)
            if confidence >= 0:
                confidences.append(confidence)
        if texts:
            pages.setdefault(key[0], []).append((bbox, texts, confidences))
    return pages
