"""The Django-free recipe: box files in visual order, releases read safely, bad lines counted."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz.distance import Levenshtein

from labeling import ocr, tesstrain
from labeling.synthetic import render_line
from tests.labeling.training_support import release_zip, tiny_lines


def test_box_files_hold_arabic_script_in_visual_order_with_marks_on_their_base(
    tmp_path: Path,
) -> None:
    image = tmp_path / "line.png"
    Image.new("L", (120, 30), 255).save(image)
    box = tmp_path / "line.box"
    tesstrain.write_box(image=image, text="بَك ده", box=box)
    rows = box.read_text(encoding="utf-8").splitlines()
    assert [row.rsplit(" ", 5)[0] for row in rows] == ["ه", "د", " ", "ك", "بَ", "\t"]
    assert all(row.endswith(" 0 0 120 30 0") for row in rows)


def test_latin_lines_keep_their_order() -> None:
    assert tesstrain.visual_order("abc") == ["a", "b", "c"]


def test_it_reads_a_release_zip_with_splits_and_documents(tmp_path: Path) -> None:
    archive = tmp_path / "release.zip"
    archive.write_bytes(release_zip(3, tiny_lines(4, 2)))
    release = tesstrain.read_release(tesstrain.unpack_release(archive, tmp_path / "out"))
    assert release.root.name == "release-3"
    assert (len(release.train), len(release.eval)) == (4, 2)
    assert release.eval[0].document == "Document 3 (#3)"
    assert release.train[0].text == tiny_lines(4, 2)[0][0]


def test_it_refuses_a_zip_that_writes_outside_its_folder(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("release-1/list.train", "")
        archive.writestr("../escape.txt", "x")
    (tmp_path / "bad.zip").write_bytes(buffer.getvalue())
    with pytest.raises(tesstrain.TrainingError, match="unsafe path"):
        tesstrain.unpack_release(tmp_path / "bad.zip", tmp_path / "out")
    assert not (tmp_path / "escape.txt").exists()


def test_a_bad_line_is_skipped_and_counted(tmp_path: Path, needs_tesseract: None) -> None:
    good = tmp_path / "good.png"
    render_line("کتابخانه‌ده اسکی", size=32, padding=8).save(good)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    pairs = [
        tesstrain.Pair(name="book.one-1", image=good, text="کتابخانه‌ده اسکی"),
        tesstrain.Pair(name="book.one-2", image=broken, text="اسکی"),
        tesstrain.Pair(name="book.one-3", image=good, text="  "),
    ]
    made = tesstrain.make_lstmf(pairs, tmp_path / "work")
    assert [path.name for path in made.files] == ["book.one-1.lstmf"]
    assert {name for name, _why in made.skipped} == {"book.one-2", "book.one-3"}


def test_evaluation_counts_errors_raw_and_normalized_per_document() -> None:
    scores = tesstrain.Scores()
    scores.add("كتاب اسکی", "کتاب اسکی", lambda text: text.replace("ک", "ك"))
    figures = scores.rates()
    assert figures["cer"] == pytest.approx(1 / 9) and figures["cer_normalized"] == 0.0
    assert figures["wer"] == 0.5 and figures["wer_normalized"] == 0.0


def test_synthetic_lines_are_rendered_right_to_left_with_visual_order_boxes(
    tmp_path: Path, needs_tesseract: None
) -> None:
    if not tesstrain.synthetic_fonts():
        pytest.skip("no naskh font installed (Debian: fonts-hosny-amiri, fonts-sil-scheherazade)")
    texts = ["كتاب جديد في المدينة", "عثمانلی دولتنده مطبعه"]
    made = tesstrain.make_synthetic_lstmf(texts, tmp_path / "syn", ratio=1.5, jobs=2)
    assert len(made.files) == 3 and not made.skipped
    assert all(path.stat().st_size > 0 for path in made.files)
    for box in made.boxes:
        rows = box.read_text(encoding="utf-8").splitlines()
        read_back = "".join(reversed([row.rsplit(" ", 5)[0] for row in rows[:-1]]))
        assert read_back in texts  # the box holds the text reversed: visual order
    # Stock ara reads the rendering as its text: the line is drawn right to left, shaped.
    box_rows = made.boxes[0].read_text(encoding="utf-8").splitlines()[:-1]
    text = "".join(reversed([row.rsplit(" ", 5)[0] for row in box_rows]))
    image = made.boxes[0].with_name(made.boxes[0].name.removesuffix(".box") + ".png")
    reading = ocr.read_line(image.read_bytes(), language="ara", psm=13).text
    assert Levenshtein.normalized_distance(" ".join(reading.split()), text) < 0.3
    mixed = tesstrain.mixed(tesstrain.LstmfSet(files=[], boxes=[]), made, seed=1)
    assert sorted(mixed.files) == sorted(made.files)
