"""labeling.ocr against the real Tesseract, on rendered Ottoman text and real printed lines."""

from __future__ import annotations

import io
import re
import shutil
import statistics
import time
import unicodedata
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from labeling.ocr import (
    BBox,
    OcrError,
    crop_line,
    installed_languages,
    read_line,
    read_lines,
    read_page,
    tesseract_version,
)
from labeling.synthetic import SAMPLE_LINES, render_line, render_page

REPO = Path(__file__).resolve().parents[2]
PRINT_GT = REPO.parent / "shared" / "data" / "arabic-print-gt"
DEBIAN_TESSDATA = Path("/usr/share/tesseract-ocr/5/tessdata")

HARAKAT = re.compile("[\u064b-\u0652\u0670]")

# Bounds measured on Debian's Tesseract 5.3 with its "ara" pack, then given
# margin. The "ara" model has no ی ک گ چ پ ژ ڭ and no ZWNJ, so it writes
# Arabic neighbours (ى ك ج ...) for those: that, not the platform, is most of the
# synthetic error. Words in reversed order would score about 0.7-0.85.
LINE_CER_BOUND = 0.30  # measured 0.231 on SAMPLE_LINES[0] (Amiri, 48 px)
SAMPLE_LINES_CER_BOUND = 0.27  # measured mean 0.208 over the 12 lines (max 0.386)
PAGE_CER_BOUND = 0.27  # measured mean 0.198 per line on a 15-line page
PRINT_GT_CER_BOUND = 0.22  # measured mean 0.162 over 10 lines x 5 books, psm 7


def _has_tesseract() -> bool:
    return tesseract_version() is not None


def _has_ara() -> bool:
    return _has_tesseract() and "ara" in installed_languages()


requires_ara = pytest.mark.skipif(
    not _has_ara(),
    reason="tesseract or its ara language data (Debian: tesseract-ocr tesseract-ocr-ara) "
    "is missing",
)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _cer(prediction: str, truth: str) -> float:
    return Levenshtein.distance(prediction, truth) / len(truth)


def _ink_box(image: Image.Image) -> tuple[int, int, int, int]:
    box = image.point(lambda value: 255 if value < 128 else 0).getbbox()
    assert box is not None
    return box


@requires_ara
def test_it_reads_a_rendered_ottoman_line() -> None:
    text = SAMPLE_LINES[0]
    image = render_line(text)

    reading = read_page(_png(image), language="ara", psm=7)

    assert (reading.width, reading.height) == image.size
    assert reading.language == "ara"
    assert len(reading.lines) == 1
    line = reading.lines[0]
    assert 0 <= line.bbox.left < line.bbox.right <= image.width
    assert 0 <= line.bbox.top < line.bbox.bottom <= image.height
    ink_left, ink_top, ink_right, ink_bottom = _ink_box(image)
    assert line.bbox.left <= ink_left and line.bbox.top <= ink_top
    assert line.bbox.right >= ink_right and line.bbox.bottom >= ink_bottom
    assert _cer(line.text, text) < LINE_CER_BOUND
    assert 0 < line.confidence <= 100
    assert line.text == unicodedata.normalize("NFC", line.text)


@requires_ara
def test_it_reads_rendered_lines_in_logical_order() -> None:
    # The first word of the reading must be the rightmost word of the image, which
    # is the first word typed; a visual-order reading would begin with the last.
    rates = []
    for text in SAMPLE_LINES:
        reading = read_page(_png(render_line(text)), language="ara", psm=7)
        prediction = " ".join(line.text for line in reading.lines)
        rates.append(_cer(prediction, text))
        reversed_words = " ".join(reversed(prediction.split()))
        assert _cer(prediction, text) < _cer(reversed_words, text), (prediction, text)

    assert statistics.mean(rates) < SAMPLE_LINES_CER_BOUND


@requires_ara
def test_it_reads_a_page_top_to_bottom() -> None:
    texts = [SAMPLE_LINES[index % len(SAMPLE_LINES)] for index in range(3, 18)]
    image = render_page(texts)

    reading = read_page(_png(image), language="ara")

    assert len(reading.lines) == len(texts)
    tops = [line.bbox.top for line in reading.lines]
    assert tops == sorted(tops)
    rates = [_cer(line.text, text) for line, text in zip(reading.lines, texts, strict=True)]
    assert statistics.mean(rates) < PAGE_CER_BOUND
    # Right-aligned like print: every line ends near the right margin.
    assert all(abs(line.bbox.right - (image.width - 120)) < 10 for line in reading.lines)


@requires_ara
def test_it_reads_printed_book_lines_within_the_measured_error_rate() -> None:
    if not PRINT_GT.is_dir():
        pytest.skip("../shared/data/arabic-print-gt is missing")
    books = sorted(path for path in PRINT_GT.iterdir() if path.is_dir())
    assert books

    rates = []
    for book in books:
        for image_path in sorted(book.glob("*.png"))[:10]:
            truth = image_path.with_name(image_path.stem + ".gt.txt").read_text(encoding="utf-8")
            truth = HARAKAT.sub("", unicodedata.normalize("NFC", truth.strip()))
            reading = read_page(image_path, language="ara", psm=7)
            # The transcriptions leave out the harakat the prints show.
            prediction = HARAKAT.sub("", " ".join(line.text for line in reading.lines))
            rates.append(_cer(prediction, truth))

    assert statistics.mean(rates) < PRINT_GT_CER_BOUND


@requires_ara
def test_it_names_a_missing_language() -> None:
    image = _png(render_line(SAMPLE_LINES[1]))

    with pytest.raises(OcrError, match="ota"):
        read_page(image, language="ota")
    # Tesseract itself would drop "ota" here and read with "ara" alone.
    with pytest.raises(OcrError, match="ota"):
        read_page(image, language="ara+ota")


@requires_ara
def test_it_reads_with_the_language_data_of_a_given_directory(tmp_path: Path) -> None:
    image = _png(render_line(SAMPLE_LINES[1]))
    (tmp_path / "ara.traineddata").symlink_to(DEBIAN_TESSDATA / "ara.traineddata")
    empty = tmp_path / "empty"
    empty.mkdir()

    assert installed_languages(tessdata_dir=tmp_path) == {"ara"}
    assert len(read_page(image, psm=7, tessdata_dir=tmp_path).lines) == 1
    with pytest.raises(OcrError, match="ara"):
        read_page(image, psm=7, tessdata_dir=empty)


@pytest.mark.skipif(not _has_tesseract(), reason="tesseract (Debian: tesseract-ocr) is missing")
def test_it_lists_the_installed_languages() -> None:
    if not {"ara", "fas"} <= {p.stem for p in DEBIAN_TESSDATA.glob("*.traineddata")}:
        pytest.skip("Debian's tesseract-ocr-ara or tesseract-ocr-fas is missing")

    assert {"ara", "fas"} <= installed_languages()


def test_it_refuses_bytes_that_are_not_an_image() -> None:
    with pytest.raises(OcrError, match="not an image"):
        read_page(b"this is not a PNG")


def test_it_refuses_a_list_of_file_names(tmp_path: Path) -> None:
    # Tesseract would OCR every file named in a text input; that must not happen.
    page = tmp_path / "page.png"
    render_line(SAMPLE_LINES[2]).save(page)

    with pytest.raises(OcrError):
        read_page(f"{page}\n".encode())


@requires_ara
def test_it_reports_a_truncated_image_as_a_tesseract_failure() -> None:
    data = _png(render_page(SAMPLE_LINES[:4]))

    with pytest.raises(OcrError, match="Tesseract failed"):
        read_page(data[: len(data) // 3])


def test_it_reports_a_missing_binary() -> None:
    image = _png(render_line(SAMPLE_LINES[3]))

    with pytest.raises(OcrError, match="not installed"):
        read_page(image, tesseract_cmd="/nonexistent")
    with pytest.raises(OcrError, match="not installed"):
        installed_languages(tesseract_cmd="/nonexistent")
    assert tesseract_version(tesseract_cmd="/nonexistent") is None


@requires_ara
def test_it_kills_tesseract_after_the_timeout() -> None:
    image = _png(render_page(SAMPLE_LINES))
    started = time.perf_counter()

    with pytest.raises(OcrError, match=r"timed out after 0\.05 s"):
        read_page(image, timeout=0.05)
    assert time.perf_counter() - started < 5


@requires_ara
def test_it_reads_only_the_first_page_of_a_tiff() -> None:
    first = render_line(SAMPLE_LINES[4])
    buffer = io.BytesIO()
    first.save(buffer, "TIFF", save_all=True, append_images=[render_page(SAMPLE_LINES)])

    reading = read_page(buffer.getvalue(), psm=7)

    assert (reading.width, reading.height) == first.size
    assert len(reading.lines) == 1


def test_it_joins_words_in_tsv_order_and_drops_empty_lines(tmp_path: Path) -> None:
    # A stand-in Tesseract that prints a fixed TSV, to pin down the parsing rules.
    rows = [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "1\t1\t0\t0\t0\t0\t0\t0\t300\t200\t-1\t",
        "4\t1\t1\t1\t1\t0\t10\t20\t200\t40\t-1\t",
        "5\t1\t1\t1\t1\t1\t150\t20\t60\t40\t90\tعثمانلی",
        "5\t1\t1\t1\t1\t2\t80\t20\t60\t40\t-1\t\u200f \u200f",
        "5\t1\t1\t1\t1\t3\t10\t20\t60\t40\t70\t\u200e1453\u200f",
        "4\t1\t1\t1\t2\t0\t10\t80\t200\t40\t-1\t",
        "5\t1\t1\t1\t2\t1\t10\t80\t200\t40\t95\t ",
        # Alef + combining madda, which NFC composes into U+0622.
        "4\t1\t1\t1\t3\t0\t10\t140\t200\t40\t-1\t",
        "5\t1\t1\t1\t3\t1\t10\t140\t200\t40\t-1\t\u0627\u0653",
    ]
    tsv = tmp_path / "page.tsv"
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    fake = tmp_path / "tesseract"
    fake.write_text(f"#!/bin/sh\ncat > /dev/null\ncat '{tsv}'\n", encoding="utf-8")
    fake.chmod(0o755)
    if shutil.which("sh") is None:
        pytest.skip("/bin/sh is missing")

    reading = read_page(_png(Image.new("L", (300, 200), 255)), tesseract_cmd=str(fake))

    assert [line.text for line in reading.lines] == ["عثمانلی 1453", "\u0622"]
    assert reading.lines[0].bbox == BBox(10, 20, 210, 60)
    assert reading.lines[0].confidence == 80.0
    assert reading.lines[1].confidence == 0.0


def test_a_line_crop_grows_by_the_padding() -> None:
    page = Image.new("L", (100, 50), 255)

    crop = crop_line(page, BBox(20, 10, 60, 30), padding=4)

    assert crop.size == (48, 28)


def test_a_line_crop_is_clamped_to_the_page() -> None:
    page = Image.new("L", (100, 50), 255)

    assert crop_line(page, BBox(0, 0, 100, 50), padding=10).size == (100, 50)
    assert crop_line(page, BBox(90, 45, 100, 50), padding=4).size == (14, 9)
    with pytest.raises(ValueError):
        crop_line(page, BBox(200, 100, 220, 120))


@requires_ara
def test_it_reads_many_lines_in_one_run_as_it_reads_each_alone() -> None:
    images = [render_line(text) for text in SAMPLE_LINES[:4]]

    readings = read_lines(images)

    alone = [read_line(_png(image)) for image in images]
    assert [reading.text for reading in readings] == [reading.text for reading in alone]
    assert [reading.bbox for reading in readings] == [
        BBox(0, 0, image.width, image.height) for image in images
    ]
    assert all(reading.text for reading in readings)
    assert read_lines([]) == ()


def test_it_passes_tesseract_parameters_through(tmp_path: Path) -> None:
    if shutil.which("sh") is None:
        pytest.skip("/bin/sh is missing")
    arguments = tmp_path / "arguments"
    fake = tmp_path / "tesseract"
    fake.write_text(
        f"#!/bin/sh\ncat > /dev/null\necho \"$@\" > '{arguments}'\n"
        "printf 'level\\tpage_num\\tblock_num\\tpar_num\\tline_num\\tword_num\\t"
        "left\\ttop\\twidth\\theight\\tconf\\ttext\\n'\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)

    read_page(
        _png(Image.new("L", (300, 200), 255)),
        tesseract_cmd=str(fake),
        config={"textord_noise_rejrows": "0"},
    )

    assert "-c textord_noise_rejrows=0" in arguments.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "config",
    [{"bad name": "1"}, {"../x": "1"}, {"textord_noise_rejrows": "0\ntessedit_pageseg_mode=1"}],
)
def test_it_refuses_parameters_that_are_not_tesseract_parameters(config: dict[str, str]) -> None:
    image = _png(Image.new("L", (30, 20), 255))

    with pytest.raises(ValueError):
        read_page(image, config=config)
    with pytest.raises(ValueError):
        read_line(image, config=config)
