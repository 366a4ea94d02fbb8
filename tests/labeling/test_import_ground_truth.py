"""`manage.py import_ground_truth`: a tesstrain folder becomes an approved pool document whose
line crops are the original images and whose texts are the .gt.txt files; a bad folder is
reported file by file and nothing of it is imported."""

from __future__ import annotations

import io
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from labeling import files, groundtruth
from labeling.groundtruth import ImportRefused, import_ground_truth
from labeling.models import (
    Document,
    Line,
    LineProvenance,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrStatus,
    Page,
    PendingFile,
    Visibility,
)
from labeling.ocr import crop_line
from labeling.synthetic import SAMPLE_LINES, render_line
from tests.conftest import SHARED

pytestmark = pytest.mark.django_db

BOOK = SHARED / "data" / "arabic-print-gt" / "book_IbnAthir.Kamil"


def stored_pages() -> set[Path]:
    root = Path(settings.MEDIA_ROOT) / "pages"
    return {path for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def write_pair(folder: Path, stem: str, text: str, *, suffix: str = ".png") -> Path:
    image = folder / f"{stem}{suffix}"
    render_line(text, size=36).save(image)
    (folder / f"{stem}.gt.txt").write_text(text + "\n", encoding="utf-8")
    return image


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """Three rendered Ottoman lines in tesstrain's layout (one of them a TIFF), numbered so
    that plain sorting would put 10 before 2."""
    book = tmp_path / "book"
    book.mkdir()
    write_pair(book, "line-1", SAMPLE_LINES[0])
    write_pair(book, "line-2", SAMPLE_LINES[1], suffix=".tif")
    write_pair(book, "line-10", SAMPLE_LINES[5])
    (book / "notes.lstmf").write_bytes(b"not a pair: ignored")
    return book


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    person = make_user("librarian@example.org")
    person.is_staff = True
    person.save()
    return person


def test_a_tesstrain_folder_becomes_an_approved_pool_document(
    folder: Path, staff: User, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command(
        "import_ground_truth",
        str(folder),
        "--title",
        "Basma satırlar",
        "--license",
        "cc-by-4.0",
        "--owner",
        staff.email,
    )

    assert "Imported 3 lines" in capsys.readouterr().out
    doc = Document.objects.get()
    assert (doc.title, doc.owner, doc.visibility, doc.license) == (
        "Basma satırlar",
        staff,
        Visibility.POOL,
        "cc-by-4.0",
    )
    assert doc.pool_consent_at is not None
    pages = list(doc.pages.order_by("number"))
    assert [p.source_name for p in pages] == ["line-1.png", "line-2.tif", "line-10.png"]
    assert {p.ocr_status for p in pages} == {OcrStatus.DONE}
    for page, text in zip(pages, (SAMPLE_LINES[0], SAMPLE_LINES[1], SAMPLE_LINES[5]), strict=True):
        line = page.lines.get()
        assert (line.left, line.top, line.right, line.bottom) == (0, 0, page.width, page.height)
        assert line.provenance == LineProvenance.IMPORTED
        assert line.status == LineStatus.APPROVED
        assert line.consensus_text == text
        assert line.in_pool
        decision = line.decisions.get()
        assert decision.action == ModerationAction.IMPORT
        assert decision.moderator == staff
        assert decision.text == text
        assert str(folder) in decision.reason
    assert not PendingFile.objects.exists()  # every stored image belongs to its page


def test_an_imported_line_crops_to_the_original_image_and_reads_as_its_gt_txt(
    folder: Path,
    staff: User,
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
) -> None:
    import_ground_truth(folder=folder, title="Round trip", license="cc0-1.0", owner=staff)
    moderator = make_user()
    moderator.is_staff = True
    moderator.save()
    from django.contrib.auth.models import Group

    moderator.groups.add(Group.objects.get(name="moderator"))
    client = client_for(moderator)

    lines = Line.objects.select_related("page").order_by("page__number")
    for line, stem in zip(lines, ("line-1", "line-2", "line-10"), strict=True):
        original_path = next(folder.glob(f"{stem}.*[fg]"))  # .png or .tif
        with Image.open(original_path) as original:
            with line.page.image.open("rb") as stored, Image.open(stored) as page_image:
                crop = crop_line(page_image, line.bbox)
            assert crop.size == original.size
            assert crop.tobytes() == original.convert(crop.mode).tobytes()
            # And the line image labelers and moderators are shown is the same.
            response = client.get(reverse("labeling:line_crop", args=[line.pk]))
            with Image.open(io.BytesIO(response.content)) as shown:
                assert shown.tobytes() == original.convert(shown.mode).tobytes()
        gt = (folder / f"{stem}.gt.txt").read_text(encoding="utf-8")
        assert line.consensus_text + "\n" == gt


def test_pages_follow_the_natural_order_of_the_file_names(folder: Path, staff: User) -> None:
    imported = import_ground_truth(folder=folder, title="Order", license="cc0-1.0", owner=staff)

    names = imported.document.pages.order_by("number").values_list("source_name", flat=True)
    assert list(names) == ["line-1.png", "line-2.tif", "line-10.png"]


def test_a_bad_folder_is_reported_file_by_file_and_nothing_is_imported(
    tmp_path: Path, staff: User, settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.UPLOAD_MAX_FILE_MB = 1  # type: ignore[attr-defined]
    bad = tmp_path / "bad"
    bad.mkdir()
    write_pair(bad, "good", SAMPLE_LINES[0])
    render_line(SAMPLE_LINES[1]).save(bad / "no-text.png")
    (bad / "no-image.gt.txt").write_text("یتیم\n", encoding="utf-8")
    write_pair(bad, "empty", SAMPLE_LINES[2])
    (bad / "empty.gt.txt").write_text(" \n", encoding="utf-8")
    write_pair(bad, "two-lines", SAMPLE_LINES[3])
    (bad / "two-lines.gt.txt").write_text("بر\nایکی\n", encoding="utf-8")
    (bad / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 200)
    (bad / "broken.gt.txt").write_text("قیریق\n", encoding="utf-8")
    Image.effect_noise((1400, 1000), 120).save(bad / "huge.png")  # noise: > 1 MB as PNG
    (bad / "huge.gt.txt").write_text("بیوك\n", encoding="utf-8")
    write_pair(bad, "twice", SAMPLE_LINES[4])
    render_line(SAMPLE_LINES[4]).save(bad / "twice.tif")
    write_pair(bad, "latin1", SAMPLE_LINES[6])
    (bad / "latin1.gt.txt").write_bytes("café\n".encode("latin-1"))
    before = stored_pages()

    with pytest.raises(CommandError, match="8 problems"):
        call_command(
            "import_ground_truth",
            str(bad),
            "--title",
            "Bozuk",
            "--license",
            "cc0-1.0",
            "--owner",
            staff.email,
        )

    report = capsys.readouterr().err.splitlines()
    expected = {
        "no-text.png": "no-text.gt.txt",
        "no-image.gt.txt": "no line image",
        "empty.gt.txt": "is empty",
        "two-lines.gt.txt": "more than one line",
        "broken.png": "damaged",
        "huge.png": "limit is 1",
        "twice.png, twice.tif": "keep one",
        "latin1.gt.txt": "not UTF-8",
    }
    assert len(report) == len(expected)
    for name, why in expected.items():
        assert any(row.startswith(name) and why in row for row in report), (name, report)
    assert not any("good" in row for row in report)
    assert not Document.objects.exists()
    assert not Page.objects.exists() and not Line.objects.exists()
    assert stored_pages() == before


def test_a_failure_while_storing_leaves_no_file_and_no_row(
    folder: Path, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = files.store
    calls: list[str] = []

    def store_then_fill_the_disk(name: str, content: object) -> str:
        calls.append(name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real_store(name, content)  # type: ignore[arg-type]

    monkeypatch.setattr(files, "store", store_then_fill_the_disk)
    before = stored_pages()

    with pytest.raises(OSError, match="No space left"):
        import_ground_truth(folder=folder, title="Yarım", license="cc0-1.0", owner=staff)

    assert len(calls) == 3
    assert not Document.objects.exists() and not Page.objects.exists()
    assert stored_pages() == before
    assert not PendingFile.objects.exists()


def test_a_failure_writing_the_rows_discards_the_stored_images(
    folder: Path, staff: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**kwargs: object) -> None:
        raise RuntimeError("the database said no")

    monkeypatch.setattr(groundtruth, "_write_rows", refuse)
    before = stored_pages()

    with pytest.raises(RuntimeError):
        import_ground_truth(folder=folder, title="Yarım", license="cc0-1.0", owner=staff)

    assert stored_pages() == before
    assert not Document.objects.exists()


def test_it_refuses_someone_not_staff_an_unknown_licence_and_an_empty_title(
    folder: Path, user: User
) -> None:
    with pytest.raises(ImportRefused) as refused:
        import_ground_truth(folder=folder, title=" ", license="all-rights-reserved", owner=user)

    problems = "\n".join(refused.value.problems)
    assert "not staff" in problems and "all-rights-reserved" in problems and "title" in problems
    assert not Document.objects.exists()


def test_it_refuses_a_folder_without_pairs(tmp_path: Path, staff: User) -> None:
    with pytest.raises(ImportRefused, match="no line images"):
        import_ground_truth(folder=tmp_path, title="Boş", license="cc0-1.0", owner=staff)
    with pytest.raises(ImportRefused, match="not a folder"):
        import_ground_truth(
            folder=tmp_path / "nowhere", title="Boş", license="cc0-1.0", owner=staff
        )


def test_the_command_names_the_only_superuser_as_importer_when_no_owner_is_given(
    folder: Path, make_user: Callable[..., User]
) -> None:
    root = User.objects.create_superuser(email="root@example.org", password="x" * 20)

    call_command("import_ground_truth", str(folder), "--title", "Kök", "--license", "cc0-1.0")

    assert Document.objects.get().owner == root
    User.objects.create_superuser(email="root2@example.org", password="x" * 20)
    with pytest.raises(CommandError, match="--owner"):
        call_command("import_ground_truth", str(folder), "--title", "İki", "--license", "cc0-1.0")


def test_a_shared_printed_book_imports_whole_and_quickly(staff: User) -> None:
    if not BOOK.is_dir():
        pytest.skip(f"{BOOK} is missing (the shared data is not on this machine)")
    pairs = sorted(BOOK.glob("*.gt.txt"))

    started = time.perf_counter()
    imported = import_ground_truth(folder=BOOK, title="al-Kamil", license="cc0-1.0", owner=staff)
    seconds = time.perf_counter() - started

    print(f"imported {imported.lines} lines of {BOOK.name} in {seconds:.1f} s")
    assert imported.lines == len(pairs)
    assert ModerationDecision.objects.filter(action=ModerationAction.IMPORT).count() == len(pairs)
    # 2.3 s for these 794 lines on the development machine (2 cores, PostgreSQL).
    assert seconds < 60
    # These files are not NFC (alef + combining hamza) and have no final line break.
    sample = Line.objects.get(page__source_name="000100.png")
    raw = (BOOK / "000100.gt.txt").read_text(encoding="utf-8")
    assert raw != unicodedata.normalize("NFC", raw)
    assert sample.consensus_text == unicodedata.normalize("NFC", raw.rstrip("\n"))


def test_a_gt_txt_is_read_as_nfc_without_its_line_break_or_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "x.gt.txt"
    path.write_bytes("\ufeffا\u0653چیق \r\n".encode())  # alef + combining madda, CRLF

    assert groundtruth.read_text(path) == "\u0622چیق "
