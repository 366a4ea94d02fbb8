"""Dataset releases: the zip's files, checksums and manifest, the split by document, the
crop labelers saw, what is never exported, failures, admin, command and own pairs."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from labeling import releases
from labeling.groundtruth import import_ground_truth
from labeling.models import (
    DatasetRelease,
    Document,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OutgoingEmail,
    PendingFile,
    ReleaseStatus,
    Transcription,
    Visibility,
)
from labeling.releases import ReleaseRefused, build_release, create_release
from labeling.releases.layout import ReleaseZip
from tests.conftest import read_page

TEXTS = ("سلام عليكم", "كتاب ڭ", "دولت علیه", "١٣٢٥ سنه")


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    person = make_user("staff@example.org")
    person.is_staff = True
    person.save()
    person.groups.add(Group.objects.get(name="staff"))
    return User.objects.get(pk=person.pk)  # fresh permission cache


@pytest.fixture
def pool_document(user: User, other_user: User) -> Callable[..., Document]:
    """A licensed pool document with consent whose lines are approved (labelled by `other_user`
    and approved by a moderator), on one page drawn with visible ink."""

    def make(
        title: str = "Kitab",
        *,
        texts: tuple[str, ...] = TEXTS[:2],
        visibility: str = Visibility.POOL,
        license: str = "cc-by-4.0",
        consent: bool = True,
        status: str = LineStatus.APPROVED,
    ) -> Document:
        doc = Document.objects.create(
            owner=user,
            title=title,
            visibility=visibility,
            license=license,
            pool_consent_at=timezone.now() if consent else None,
        )
        lines = read_page(doc, [(text, 70.0) for text in texts], source_name="scan.png")
        _ink(doc)
        for line, text in zip(lines, texts, strict=True):
            Transcription.objects.create(
                line=line, user=other_user, text=text, kept_prediction=False
            )
            Line.objects.filter(pk=line.pk).update(
                status=status, consensus_text=text, agreement=1.0, label_count=1
            )
            if status == LineStatus.APPROVED:
                ModerationDecision.objects.create(
                    line=line, moderator=user, action=ModerationAction.APPROVE, text=text
                )
        return doc

    return make


def _ink(doc: Document) -> None:
    """Draw something on the page, so crops differ (read_page's scan is blank)."""
    page = doc.pages.get()
    with page.image.open("rb") as f, Image.open(f) as image:
        drawn = image.convert("L")
    draw = ImageDraw.Draw(drawn)
    for y in range(0, drawn.height, 7):
        draw.line((doc.pk * 13 % 50, y, drawn.width - 20, y + 3), fill=0, width=2)
    buffer = io.BytesIO()
    drawn.save(buffer, "PNG")
    name = page.image.name
    default_storage.delete(name)
    default_storage.save(name, io.BytesIO(buffer.getvalue()))


def built(release: DatasetRelease) -> tuple[DatasetRelease, zipfile.ZipFile]:
    build_release(release_id=release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DONE, release.error
    with release.file.open("rb") as f:
        data = f.read()
    return release, zipfile.ZipFile(io.BytesIO(data))


def manifest(archive: zipfile.ZipFile, folder: str) -> list[dict[str, object]]:
    text = archive.read(f"{folder}/manifest.jsonl").decode()
    return [json.loads(row) for row in text.splitlines()]


def test_it_builds_a_release_in_the_tesstrain_layout_with_checksums(
    staff: User, other_user: User, pool_document: Callable[..., Document]
) -> None:
    docs = [pool_document(f"Book {i}", texts=TEXTS[i : i + 2]) for i in range(3)]
    release = create_release(created_by=staff, eval_share=0.34, seed=3, notes="First release")
    assert release.number == 1 and release.status == ReleaseStatus.QUEUED

    release, archive = built(release)

    folder = "release-1"
    names = set(archive.namelist())
    # Line images and texts are stored (deflating them saves nothing worth the time); the
    # README, bigger than a kilobyte, is deflated.
    kinds = {info.filename: info.compress_type for info in archive.infolist()}
    assert {kind for name, kind in kinds.items() if name.startswith(f"{folder}/lines/")} == {
        zipfile.ZIP_STORED
    }
    assert kinds[f"{folder}/README.md"] == zipfile.ZIP_DEFLATED
    for fixed in (
        "README.md",
        "htr-united.yml",
        "manifest.jsonl",
        "list.train",
        "list.eval",
        "SHA256SUMS",
    ):
        assert f"{folder}/{fixed}" in names
    rows = manifest(archive, folder)
    assert len(rows) == 6
    for row in rows:
        assert {
            "name",
            "document",
            "document_title",
            "page",
            "line",
            "box",
            "text",
            "split",
            "labelers",
            "labels",
            "agreement",
            "status",
            "decision",
            "moderator",
            "provenance",
            "predicted_by",
            "license",
        } <= set(row)
        assert row["name"] == f"d{row['document']:06d}-p{row['page']:04d}-l{row['line']:08d}"
        gt = archive.read(f"{folder}/lines/{row['name']}.gt.txt").decode()
        assert gt == f"{row['text']}\n" and unicodedata.is_normalized("NFC", gt)
        assert archive.read(f"{folder}/lines/{row['name']}.png").startswith(b"\x89PNG")
        assert row["labelers"] == [other_user.pk] and row["labels"] == 1
        assert (row["decision"], row["status"], row["license"]) == (
            "approve",
            "approved",
            "cc-by-4.0",
        )
    # Every other file is in SHA256SUMS, with the right sum.
    sums = archive.read(f"{folder}/SHA256SUMS").decode().splitlines()
    listed = {}
    for entry in sums:
        digest, path = entry.split("  ", 1)
        listed[path] = digest
    assert set(listed) == {name.removeprefix(f"{folder}/") for name in names} - {"SHA256SUMS"}
    for path, digest in listed.items():
        assert hashlib.sha256(archive.read(f"{folder}/{path}")).hexdigest() == digest
    # Split by document: train and eval are disjoint, whole documents, and cover every line.
    train = archive.read(f"{folder}/list.train").decode().split()
    held = archive.read(f"{folder}/list.eval").decode().split()
    assert sorted(train + held) == sorted(f"lines/{row['name']}.png" for row in rows)
    split_of = {row["document"]: row["split"] for row in rows}
    assert all(split_of[row["document"]] == row["split"] for row in rows)
    assert sorted(split_of.values()) == ["eval", "train", "train"]
    # The row: whole-zip SHA-256, size, summary.
    with release.file.open("rb") as f:
        whole = f.read()
    assert release.sha256 == hashlib.sha256(whole).hexdigest() and release.size == len(whole)
    assert release.summary == {
        "documents": 3,
        "lines": 6,
        "train_lines": 4,
        "eval_lines": 2,
        "characters": sum(len(str(row["text"])) for row in rows),
    }
    readme = archive.read(f"{folder}/README.md").decode()
    assert "First release" in readme and "U+06AD" in readme and "ARABIC LETTER NG" in readme
    assert "Harakat" in readme and docs[0].title in readme
    assert "✗" in readme  # ڭ is not in Debian's ara model
    catalogue = archive.read(f"{folder}/htr-united.yml").decode()
    assert '"ota"' in catalogue and 'iso: "Arab"' in catalogue and "count: 6" in catalogue
    mail = OutgoingEmail.objects.get()
    assert mail.to == [staff.email] and "Release 1 is ready" in mail.subject


def test_it_splits_by_document_reproducibly_from_the_seed() -> None:
    documents = list(range(1, 21))
    first = releases.split_documents(documents, eval_share=0.2, seed=7)
    assert first == releases.split_documents(list(reversed(documents)), eval_share=0.2, seed=7)
    assert list(first.values()).count("eval") == 4
    assert first != releases.split_documents(documents, eval_share=0.2, seed=8)
    # Two documents and a small share: eval still gets one, train keeps one.
    assert sorted(releases.split_documents([4, 9], eval_share=0.01, seed=0).values()) == [
        "eval",
        "train",
    ]
    assert set(releases.split_documents([4, 9], eval_share=0, seed=0).values()) == {"train"}


def test_the_same_seed_gives_the_same_lists(
    staff: User, pool_document: Callable[..., Document]
) -> None:
    for i in range(4):
        pool_document(f"Book {i}")
    _, one = built(create_release(created_by=staff, eval_share=0.5, seed=11))
    _, two = built(create_release(created_by=staff, eval_share=0.5, seed=11))
    assert one.read("release-1/list.eval") == two.read("release-2/list.eval") != b""
    assert one.read("release-1/list.train") == two.read("release-2/list.train")


def test_the_exported_image_is_the_crop_labelers_are_served(
    staff: User,
    user: User,
    client_for: Callable[[User], Client],
    pool_document: Callable[..., Document],
) -> None:
    doc = pool_document(texts=TEXTS)
    _, archive = built(create_release(created_by=staff))
    client = client_for(user)
    for row in manifest(archive, "release-1"):
        served = client.get(f"/lines/{row['line']}/crop.png")
        assert served.status_code == 200
        assert archive.read(f"release-1/lines/{row['name']}.png") == served.content
    assert len({archive.read(n) for n in archive.namelist() if n.endswith(".png")}) == len(TEXTS)
    assert doc.pages.count() == 1


def test_it_never_exports_private_unlicensed_or_unconsented_documents(
    staff: User, pool_document: Callable[..., Document]
) -> None:
    good = pool_document("Good")
    private = pool_document("Private", visibility=Visibility.PRIVATE)
    unlicensed = pool_document("Unlicensed", license="")
    unconsented = pool_document("Unconsented", consent=False)
    _, archive = built(create_release(created_by=staff))
    assert {row["document"] for row in manifest(archive, "release-1")} == {good.pk}
    for bad, why in (
        (private, "not in the pool"),
        (unlicensed, "no licence"),
        (unconsented, "consent"),
    ):
        with pytest.raises(ReleaseRefused, match=why) as refused:
            create_release(created_by=staff, documents=[good, bad])
        assert bad.title in str(refused.value)
    assert DatasetRelease.objects.count() == 1


def test_it_rechecks_the_documents_when_it_builds(
    staff: User, pool_document: Callable[..., Document]
) -> None:
    doc = pool_document("Withdrawn")
    pool_document("Other")
    release = create_release(created_by=staff, documents=[doc])
    Document.objects.filter(pk=doc.pk).update(visibility=Visibility.PRIVATE)
    build_release(release_id=release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED and "Withdrawn" in release.error
    assert not release.file


def test_it_refuses_a_release_with_nothing_to_export(
    staff: User, user: User, pool_document: Callable[..., Document]
) -> None:
    pool_document(status=LineStatus.OPEN)
    with pytest.raises(ReleaseRefused, match="Nothing to release"):
        create_release(created_by=staff)
    agreed = pool_document("Agreed", status=LineStatus.AGREED)
    with pytest.raises(ReleaseRefused, match="Nothing to release"):
        create_release(created_by=staff, documents=[agreed])
    assert create_release(created_by=staff, statuses=["agreed"]).number == 1
    with pytest.raises(ReleaseRefused, match="eval share"):
        create_release(created_by=staff, statuses=["agreed"], eval_share=0.7)
    with pytest.raises(ReleaseRefused, match="not: open"):
        create_release(created_by=staff, statuses=["open"])
    with pytest.raises(ReleaseRefused, match="staff"):
        create_release(created_by=user, statuses=["agreed"])


def _stored_releases() -> set[str]:
    return (
        set(default_storage.listdir("releases")[1]) if default_storage.exists("releases") else set()
    )


def test_a_full_disk_fails_the_release_cleanly_and_the_next_one_builds(
    staff: User, pool_document: Callable[..., Document], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool_document(texts=TEXTS)
    calls = {"n": 0}
    real = ReleaseZip.add_pair

    def full_disk(self: ReleaseZip, pair: object, png: bytes) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, pair, png)  # type: ignore[arg-type]

    monkeypatch.setattr(ReleaseZip, "add_pair", full_disk)
    temp_before = set(Path(tempfile.gettempdir()).glob("release-1-*"))
    stored_before = _stored_releases()
    release = create_release(created_by=staff)
    build_release(release_id=release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.FAILED
    assert "disk is full" in release.error and "Nothing was published" in release.error
    assert not release.file and not release.sha256
    assert set(Path(tempfile.gettempdir()).glob("release-1-*")) == temp_before
    assert not PendingFile.objects.exists()
    assert _stored_releases() == stored_before
    assert "Release 1 failed" in OutgoingEmail.objects.get().subject

    monkeypatch.setattr(ReleaseZip, "add_pair", real)
    release2, archive = built(create_release(created_by=staff))
    assert release2.number == 2 and len(manifest(archive, "release-2")) == len(TEXTS)


def test_staff_make_a_release_in_the_admin_and_download_it(
    staff: User,
    user: User,
    client_for: Callable[[User], Client],
    pool_document: Callable[..., Document],
) -> None:
    doc = pool_document()
    pool_document("Private", visibility=Visibility.PRIVATE)
    client = client_for(staff)
    form = client.get("/admin/labeling/datasetrelease/add/")
    assert form.status_code == 200
    assert "Kitab" in form.content.decode() and "Private" not in form.content.decode()
    response = client.post(
        "/admin/labeling/datasetrelease/add/",
        {
            "documents": [doc.pk],
            "statuses": ["approved"],
            "eval_share": "0.1",
            "seed": "5",
            "notes": "x",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    release = DatasetRelease.objects.get()
    assert (release.number, release.seed, list(release.documents.all())) == (1, 5, [doc])
    build_release(release_id=release.pk)
    release.refresh_from_db()
    page = client.get(f"/admin/labeling/datasetrelease/{release.pk}/change/").content.decode()
    assert f"/releases/{release.pk}/download.zip" in page and release.sha256 in page
    download = client.get(f"/releases/{release.pk}/download.zip")
    assert download.status_code == 200 and download.streaming
    body = b"".join(download.streaming_content)  # type: ignore[arg-type]
    assert hashlib.sha256(body).hexdigest() == release.sha256
    assert "release-1.zip" in download["Content-Disposition"]
    # Immutable: no change, no delete once published; other people cannot download it.
    assert client.post(f"/admin/labeling/datasetrelease/{release.pk}/delete/").status_code == 403
    assert client_for(user).get(f"/releases/{release.pk}/download.zip").status_code in (302, 403)


def test_the_admin_shows_a_refusal(
    staff: User, client_for: Callable[[User], Client], pool_document: Callable[..., Document]
) -> None:
    pool_document(status=LineStatus.OPEN)
    response = client_for(staff).post(
        "/admin/labeling/datasetrelease/add/",
        {"statuses": ["approved"], "eval_share": "0.1", "seed": "7", "notes": "Spring"},
    )
    # Shown above the form, which keeps what was typed.
    assert response.status_code == 200
    page = response.content.decode()
    assert "Nothing to release" in page and 'class="errornote"' in page
    assert 'value="7"' in page and "Spring" in page
    assert not DatasetRelease.objects.exists()


def test_make_release_builds_with_wait_and_reports_refusals(
    staff: User, pool_document: Callable[..., Document], capsys: pytest.CaptureFixture[str]
) -> None:
    doc = pool_document()
    call_command("make_release", "--user", staff.email, "--document", str(doc.pk), "--wait")
    release = DatasetRelease.objects.get()
    out = capsys.readouterr().out
    assert release.sha256 in out and str(release.size) in out
    with pytest.raises(CommandError, match="Nothing to release"):
        call_command("make_release", "--user", staff.email, "--status", "agreed")


def test_a_contributor_downloads_only_their_own_document_as_pairs(
    user: User,
    other_user: User,
    client_for: Callable[[User], Client],
    read_document: Callable[..., Document],
    pool_document: Callable[..., Document],
) -> None:
    pooled = pool_document("Shared")  # labelled by other_user: their id must not leak
    mine = read_document(predictions=("سلام", "كتاب", "ایکی"))
    lines = list(Line.objects.filter(page__document=mine).order_by("order"))
    Transcription.objects.create(line=lines[0], user=user, text="سلام دنیا", kept_prediction=False)
    Transcription.objects.create(line=lines[2], user=user, text="ایکی", kept_prediction=True)
    client = client_for(user)

    response = client.get(f"/documents/{mine.pk}/pairs.zip")
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[arg-type]
    folder = archive.namelist()[0].split("/")[0]
    rows = manifest(archive, folder)
    assert [(row["line"], row["text"]) for row in rows] == [
        (lines[0].pk, "سلام دنیا"),
        (lines[2].pk, "ایکی"),
    ]
    assert {row["document"] for row in rows} == {mine.pk}
    assert all(row["labelers"] == [user.pk] for row in rows)

    shared = zipfile.ZipFile(
        io.BytesIO(b"".join(client.get(f"/documents/{pooled.pk}/pairs.zip").streaming_content))  # type: ignore[arg-type]
    )
    for row in manifest(shared, shared.namelist()[0].split("/")[0]):
        assert other_user.pk not in row["labelers"]  # type: ignore[operator]
        assert row["moderator"] in (None, user.pk)
    assert client_for(other_user).get(f"/documents/{mine.pk}/pairs.zip").status_code == 404


def _render_line(text: str, path: Path) -> None:
    fonts = sorted(Path("/usr/share/fonts").rglob("Amiri-Regular.ttf"))
    if not fonts:
        pytest.skip("the Amiri font is missing (fonts-hosny-amiri)")
    font = ImageFont.truetype(str(fonts[0]), 32)
    image = Image.new("L", (520, 64), 255)
    ImageDraw.Draw(image).text((500, 8), text, font=font, fill=0, anchor="ra", direction="rtl")
    image.save(path)


def test_an_imported_folder_comes_back_as_the_same_pairs(staff: User, tmp_path: Path) -> None:
    pairs = {f"{i:03d}": text for i, text in enumerate(TEXTS, start=1)}
    for stem, text in pairs.items():
        _render_line(text, tmp_path / f"{stem}.png")
        (tmp_path / f"{stem}.gt.txt").write_text(f"{text}\n", encoding="utf-8")
    import_ground_truth(folder=tmp_path, title="Imported", license="cc0-1.0", owner=staff)

    _, archive = built(create_release(created_by=staff, eval_share=0))
    rows = manifest(archive, "release-1")
    assert [row["provenance"] for row in rows] == ["imported"] * len(pairs)
    back = {
        (
            archive.read(f"release-1/lines/{row['name']}.png"),
            archive.read(f"release-1/lines/{row['name']}.gt.txt").decode(),
        )
        for row in rows
    }
    original = {
        ((tmp_path / f"{stem}.png").read_bytes(), f"{text}\n") for stem, text in pairs.items()
    }
    assert back == original
