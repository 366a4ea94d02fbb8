"""`ottoman-ocr` against a live server: sign in, upload → OCR → label → download, and the exit
code and message of every refusal."""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from ottoman_ocr_client.keymap import latin_to_ottoman
from pytest_django import Settings

from accounts.models import User
from api.models import ApiToken
from labeling.forms import UploadForm
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    Line,
    OcrStatus,
    Transcription,
)
from labeling.synthetic import SAMPLE_LINES
from labeling.texts import document_text
from tests.client.conftest import Ran, closed_port
from tests.conftest import PASSWORD

Cli = Callable[..., Ran]

# The module needs the API (its models) to be importable; conftest skips without api/urls.py.
pytestmark = pytest.mark.django_db(transaction=True)


def scan(
    tmp_path: Path, page_png: Callable[..., SimpleUploadedFile], name: str = "page.png"
) -> Path:
    path = tmp_path / name
    path.write_bytes(page_png(SAMPLE_LINES[:3], name=name).read())
    return path


def uploaded_id(ran: Ran) -> int:
    match = re.search(r"Uploaded as document (\d+)", ran.out)
    assert match, (ran.out, ran.err)
    return int(match.group(1))


def test_login_keeps_a_working_token_readable_only_by_its_owner(
    cli_for: Callable[[str], Cli], user: User, tmp_path: Path
) -> None:
    run = cli_for("ayse")
    ran = run("login", "--email", user.email, "--password-stdin", input=PASSWORD + "\n")
    assert ran.code == 0, ran.err
    config = tmp_path / "ayse" / "config" / "ottoman-ocr" / "config.json"
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert stat.S_IMODE(config.parent.stat().st_mode) == 0o700
    assert ApiToken.objects.filter(user=user).count() == 1
    assert PASSWORD not in config.read_text()
    ran = run("documents")
    assert ran.code == 0, ran.err


def test_a_wrong_password_exits_3_with_the_servers_message(
    cli_for: Callable[[str], Cli], user: User
) -> None:
    ran = cli_for("ayse")("login", "--email", user.email, "--password-stdin", input="nope\n")
    assert ran.code == 3
    assert "password" in ran.err.lower()
    assert ApiToken.objects.count() == 0


def test_an_unreachable_server_exits_4(cli_for: Callable[[str], Cli], user: User) -> None:
    server = f"http://127.0.0.1:{closed_port()}"
    ran = cli_for("ayse")(
        "login", "--email", user.email, "--password-stdin", input=PASSWORD + "\n", server=server
    )
    assert ran.code == 4
    assert f"Cannot reach the server {server}" in ran.err


def test_a_missing_document_and_another_persons_document_exit_5(
    signed_in: Callable[[User], Cli],
    user: User,
    read_document: Callable[..., Document],
    other_user: User,
) -> None:
    run = signed_in(user)
    theirs = read_document(owner=other_user)
    for args in (("status", "999999"), ("status", str(theirs.pk)), ("download", str(theirs.pk))):
        ran = run(*args)
        assert ran.code == 5, (args, ran.err)
        assert f"Not found, or not yours: /api/v1/documents/{args[1]}/" in ran.err


def test_a_refused_file_exits_6_with_the_sites_message(
    signed_in: Callable[[User], Cli], user: User, tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.png"
    bogus.write_bytes(b"this is not an image at all")
    ran = signed_in(user)("upload", str(bogus), "--title", "Notes")
    assert ran.code == 6
    form = UploadForm(
        {"title": "Notes", "visibility": "private"},
        {"scans": [SimpleUploadedFile("notes.png", bogus.read_bytes())]},
    )
    assert not form.is_valid()
    [site_message] = form.errors["scans"]
    assert "notes.png" in site_message
    assert site_message in " ".join(ran.err.split())
    assert not Document.objects.exists()


def test_a_throttled_request_exits_7_and_says_when_to_retry(
    signed_in: Callable[[User], Cli], user: User, settings: Settings
) -> None:
    run = signed_in(user)
    settings.API_THROTTLE_USER_RATE = "2/minute"
    assert run("documents").code == 0
    assert run("documents").code == 0
    ran = run("documents")
    assert ran.code == 7, ran.err
    match = re.search(r"Retry-After: (\d+) s", ran.err)
    assert match and 0 < int(match.group(1)) <= 60, ran.err


def test_a_revoked_token_exits_3(
    signed_in: Callable[[User], Cli], user: User, tmp_path: Path
) -> None:
    run = signed_in(user)
    config = tmp_path / user.email / "config" / "ottoman-ocr" / "config.json"
    kept = config.read_text()
    ran = run("logout")
    assert ran.code == 0, ran.err
    assert not ApiToken.objects.filter(user=user).exists()
    assert json.loads(config.read_text())["tokens"] == {}
    config.write_text(kept)  # the old token, as a copy taken before signing out would hold it
    ran = run("documents")
    assert ran.code == 3
    assert ran.err.strip()


def test_bad_usage_exits_2(cli_for: Callable[[str], Cli], tmp_path: Path) -> None:
    run = cli_for("ayse")
    assert run("status").code == 2
    assert run("upload", "--title", "x", str(tmp_path / "missing.png")).code == 2


def test_an_upload_is_read_labelled_in_the_terminal_and_downloaded(
    signed_in: Callable[[User], Cli],
    make_user: Callable[..., User],
    page_png: Callable[..., SimpleUploadedFile],
    tmp_path: Path,
    settings: Settings,
    needs_tesseract: None,
) -> None:
    settings.REVIEW_BLIND_SHARE = 0.0  # every lease shows the reading (blind ones: own test)
    settings.REVIEW_GOLD_SHARE = 0.0
    owner = make_user("owner@example.org")
    labeler = make_user("labeler@example.org")
    as_owner, as_labeler = signed_in(owner), signed_in(labeler)

    ran = as_owner(
        "upload",
        str(scan(tmp_path, page_png)),
        "--title",
        "Mecmua",
        "--pool",
        "--license",
        "cc-by-4.0",
        "--consent",
        "--wait",
    )
    assert ran.code == 0, ran.err
    doc = Document.objects.get(pk=uploaded_id(ran))
    assert (doc.owner, doc.visibility) == (owner, "pool")
    [page] = doc.pages.all()
    assert page.ocr_status == OcrStatus.DONE
    lines = list(Line.objects.filter(page=page).order_by("confidence", "id"))
    assert len(lines) >= 2, "Tesseract found fewer lines than the page has"
    assert re.search(rf"1 of 1 pages read, 0 failed, {len(lines)} lines", ran.out), ran.out

    ran = as_owner("status", str(doc.pk))
    assert ran.code == 0, ran.err
    assert "Done." in ran.out

    # The labeler types the first line with Latin keys, keeps the second reading with Enter,
    # skips the third as illegible, and the input ends (as q would).
    ran = as_labeler(
        "label",
        "--document",
        str(doc.pk),
        "--latin",
        "--crops",
        str(tmp_path / "crops"),
        input="kitab\n\ns\nillegible\n",
    )
    assert ran.code == 0, ran.err
    assert lines[0].prediction in ran.out
    first = Transcription.objects.get(line=lines[0], user=labeler)
    assert first.text == latin_to_ottoman("kitab") == "قیتاب"
    second = Transcription.objects.get(line=lines[1], user=labeler)
    assert (second.text, second.kept_prediction) == (lines[1].prediction, True)
    if len(lines) > 2:
        skipped = Assignment.objects.get(line=lines[2], user=labeler)
        assert skipped.state == AssignmentState.SKIPPED
    assert (tmp_path / "crops" / f"line-{lines[0].pk}.png").read_bytes().startswith(b"\x89PNG")
    assert "2 line(s) labelled in this session." in ran.out

    out = tmp_path / "mecmua.txt"
    ran = as_owner("download", str(doc.pk), "--out", str(out))
    assert ran.code == 0, ran.err
    text = out.read_text(encoding="utf-8")
    assert text == document_text(document=doc, user=owner)
    for line in lines:
        assert line.prediction in text


def test_a_blind_line_needs_typed_text_and_latin_text_is_confirmed(
    signed_in: Callable[[User], Cli],
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    settings: Settings,
) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    labeler = make_user("labeler@example.org")
    [blind, seen] = pool_lines((10.0, 20.0), blind_share=1.0)
    run = signed_in(labeler)
    # Blind: Enter alone is not a reading; Latin letters typed without --latin are refused by
    # the server's check and sent only after "Send it anyway?" is answered yes.
    ran = run("label", input="\nkitab\ny\nq\n")
    assert ran.code == 0, ran.err
    assert "no reading shown" in ran.out
    assert "Type what the line says" in ran.out
    label = Transcription.objects.get(line=blind, user=labeler)
    assert label.text == "kitab"
    assert not Transcription.objects.filter(line=seen).exists()


def test_staff_pull_a_release_checked_against_its_sha256(
    signed_in: Callable[[User], Cli], make_user: Callable[..., User], tmp_path: Path
) -> None:
    from tests.labeling.training_support import make_release, tiny_lines

    staff = make_user("staff@example.org")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    release = make_release(created_by=staff, lines=tiny_lines(4, 2))
    run = signed_in(staff)
    ran = run("release", "pull", str(release.number), "--out", str(tmp_path / "data"))
    assert ran.code == 0, ran.err
    zipped = tmp_path / "data" / f"release-{release.number}.zip"
    assert release.sha256 in ran.out
    with release.file.open("rb") as f:
        assert zipped.read_bytes() == f.read()
    with zipfile.ZipFile(io.BytesIO(zipped.read_bytes())) as archive:
        names = archive.namelist()
    for name in names:
        assert (tmp_path / "data" / f"release-{release.number}" / name).exists()
    assert run("release", "pull", "999", "--out", str(tmp_path / "data")).code == 5


def test_a_contributor_cannot_pull_a_release(
    signed_in: Callable[[User], Cli], user: User, tmp_path: Path
) -> None:
    ran = signed_in(user)("release", "pull", "1", "--out", str(tmp_path / "data"))
    assert ran.code == 1
    assert ran.err.strip()
