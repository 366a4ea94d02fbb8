"""Re-reading a document with another model: each line is read again in its box; predictions,
confidences and `predicted_by` change, people's transcriptions, statuses, consensus and the
boxes never do. The page is a job like any other: Retry and a killed worker are handled."""

from __future__ import annotations

import io
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from labeling import ocr
from labeling.models import Document, Line, LineStatus, OcrModel, OcrStatus, Page, Transcription
from labeling.reading import reread_document
from labeling.synthetic import SAMPLE_LINES, render_line
from labeling.transcribing import save_transcription
from tests.processes import Worker, broker_url, empty_broker, wait_until

OwnLines = dict[int, tuple[tuple[int, int, int, int], str, str, str | None]]


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def upload(client: Client, file: SimpleUploadedFile, title: str) -> Document:
    response = client.post(
        reverse("labeling:upload"), {"title": title, "visibility": "private", "scans": [file]}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return Document.objects.get(title=title)


def state(doc: Document) -> OwnLines:
    """What re-reading must not change: each line's box, status, consensus and label."""
    labels = dict(
        Transcription.objects.filter(line__page__document=doc).values_list("line_id", "text")
    )
    return {
        line.pk: (
            (line.left, line.top, line.right, line.bottom),
            line.status,
            line.consensus_text,
            labels.get(line.pk),
        )
        for line in Line.objects.filter(page__document=doc)
    }


def expected_reading(line: Line, language: str) -> ocr.LineReading:
    """The line's crop, as labelers see it, read on its own: what re-reading must store."""
    with line.page.image.open("rb") as stored, Image.open(stored) as image:
        crop = png(ocr.crop_line(image, line.bbox))
    return ocr.read_line(crop, language=language)


def fas() -> OcrModel:
    # Made by a data migration; a test with transaction=True may run after a flush.
    model, _ = OcrModel.objects.get_or_create(
        language="fas", traineddata="", defaults={"name": "Tesseract Persian (Debian fas)"}
    )
    return model


# -- read_line ------------------------------------------------------------------------------


def test_read_line_reads_a_tight_line_crop_as_one_raw_line(tmp_path: Path) -> None:
    # A stand-in Tesseract that notes its arguments and prints a TSV with the words split
    # over two lines, as Tesseract may on a crop: read_line keeps every word, in order.
    if shutil.which("sh") is None:
        pytest.skip("/bin/sh is missing")
    rows = [
        "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext",
        "4\t1\t1\t1\t1\t0\t0\t0\t200\t40\t-1\t",
        "5\t1\t1\t1\t1\t1\t100\t0\t100\t40\t90\tعثمانلی",
        "4\t1\t1\t1\t2\t0\t0\t0\t200\t40\t-1\t",
        "5\t1\t1\t1\t2\t1\t0\t0\t100\t40\t70\tمملکتی",
    ]
    tsv = tmp_path / "line.tsv"
    tsv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    arguments = tmp_path / "arguments"
    fake = tmp_path / "tesseract"
    fake.write_text(f"#!/bin/sh\necho \"$@\" > '{arguments}'\ncat > /dev/null\ncat '{tsv}'\n")
    fake.chmod(0o755)

    reading = ocr.read_line(
        png(Image.new("L", (300, 50), 255)), language="fas", tesseract_cmd=str(fake)
    )

    assert "--psm 13" in arguments.read_text() and "-l fas" in arguments.read_text()
    assert reading.text == "عثمانلی مملکتی"
    assert reading.confidence == 80.0
    assert reading.bbox == ocr.BBox(0, 0, 300, 50)


def test_read_line_reads_a_rendered_ottoman_line(needs_tesseract: None) -> None:
    image = render_line(SAMPLE_LINES[1], padding=3)  # a tight crop

    reading = ocr.read_line(png(image), language="ara")

    assert reading.text  # psm 13 reads it (psm 7 returns nothing on some crops this tight)
    assert reading.text.split()[0] == SAMPLE_LINES[1].split()[0]
    assert 0 < reading.confidence <= 100


def test_read_line_reports_a_missing_language(needs_tesseract: None) -> None:
    with pytest.raises(ocr.OcrError, match="xyz_missing"):
        ocr.read_line(png(render_line("کتاب")), language="xyz_missing")


# -- re-reading a document ------------------------------------------------------------------


@pytest.fixture
def read_doc(
    needs_tesseract: None,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> Document:
    """A private document read by Tesseract (ara): four lines, two corrected by its owner."""
    with django_capture_on_commit_callbacks(execute=True):
        doc = upload(client_for(user), page_png(lines=SAMPLE_LINES[:4]), "Okunmuş")
    lines = list(Line.objects.filter(page__document=doc).order_by("order"))
    assert len(lines) == 4, doc.pages.get().ocr_error
    save_transcription(line=lines[0], user=user, text=SAMPLE_LINES[0])
    save_transcription(line=lines[2], user=user, text="دوزلتلمش بر سطر")
    return doc


@pytest.mark.django_db
def test_rereading_changes_only_predictions_and_keeps_boxes_labels_and_statuses(
    read_doc: Document,
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    # As if an earlier model had read it: every prediction differs from what fas will read.
    Line.objects.filter(page__document=read_doc).update(prediction="اسکی اوقویش", confidence=1.0)
    before = state(read_doc)
    assert {status for _, status, _, _ in before.values()} == {LineStatus.AGREED, LineStatus.OPEN}

    with django_capture_on_commit_callbacks(execute=True):
        result = reread_document(document=read_doc, model=fas())

    assert (result.queued, result.busy) == (1, 0)
    page = read_doc.pages.get()
    assert page.ocr_status == OcrStatus.DONE, page.ocr_error
    assert (page.ocr_model, page.reread) == (fas(), False)
    assert state(read_doc) == before
    for line in Line.objects.filter(page__document=read_doc).select_related("page"):
        expected = expected_reading(line, "fas")
        assert line.prediction == expected.text != "اسکی اوقویش"
        assert line.confidence == pytest.approx(expected.confidence)
        assert line.predicted_by == fas()


@pytest.mark.django_db
def test_a_failed_rereading_keeps_the_lines_and_retry_reads_them_again(
    read_doc: Document,
    user: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    broken = OcrModel.objects.create(name="Not installed", language="xyz_missing")
    lines_before = state(read_doc)
    predictions = dict(Line.objects.values_list("pk", "prediction"))

    with django_capture_on_commit_callbacks(execute=True):
        reread_document(document=read_doc, model=broken)

    page = read_doc.pages.get()
    assert page.ocr_status == OcrStatus.FAILED and "xyz_missing" in page.ocr_error
    assert state(read_doc) == lines_before
    assert dict(Line.objects.values_list("pk", "prediction")) == predictions
    client = client_for(user)
    assert "Retry" in client.get(reverse("labeling:document", args=[read_doc.pk])).content.decode()

    OcrModel.objects.filter(pk=broken.pk).update(language="fas")  # the pack is installed now
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("labeling:page_retry", args=[page.pk]))

    page.refresh_from_db()
    assert page.ocr_status == OcrStatus.DONE and not page.reread
    assert state(read_doc) == lines_before  # the same lines, read again in their boxes
    assert set(Line.objects.values_list("predicted_by", flat=True)) == {broken.pk}


@pytest.mark.django_db
def test_the_owner_rereads_a_private_document_from_its_page(
    read_doc: Document,
    user: User,
    other_user: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    client = client_for(user)
    page_html = client.get(reverse("labeling:document", args=[read_doc.pk])).content.decode()
    assert reverse("labeling:document_reread", args=[read_doc.pk]) in page_html
    assert "Tesseract Persian (Debian fas)" in page_html
    before = state(read_doc)
    url = reverse("labeling:document_reread", args=[read_doc.pk])

    assert client_for(other_user).post(url, {"model": fas().pk}).status_code == 404
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"model": fas().pk}, follow=True)

    assert "1 page is queued to be read again" in response.content.decode()
    assert set(Line.objects.values_list("predicted_by", flat=True)) == {fas().pk}
    assert state(read_doc) == before


@pytest.mark.django_db
def test_a_pool_document_is_not_reread_from_its_page(
    pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    doc = pool_lines()[0].page.document
    client = client_for(doc.owner)

    body = client.get(reverse("labeling:document", args=[doc.pk])).content.decode()
    response = client.post(reverse("labeling:document_reread", args=[doc.pk]), {"model": 1})

    assert reverse("labeling:document_reread", args=[doc.pk]) not in body
    assert response.status_code == 404
    assert not Page.objects.filter(reread=True).exists()


@pytest.fixture
def model_staff(make_user: Callable[..., User]) -> User:
    person = make_user("staff@example.org")
    person.is_staff = True
    person.save()
    person.groups.add(Group.objects.get(name="staff"))
    return person


@pytest.mark.django_db
def test_staff_reread_pool_documents_with_a_model_chosen_in_the_admin(
    pool_lines: Callable[..., list[Line]],
    read_document: Callable[..., Document],
    make_user: Callable[..., User],
    model_staff: User,
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Callable,  # type: ignore[type-arg]
) -> None:
    pool = pool_lines()[0].page.document
    private = read_document(owner=make_user())
    Transcription.objects.create(
        line=pool.pages.get().lines.first(), user=make_user(), text="کتاب", kept_prediction=True
    )
    client = client_for(model_staff)
    changelist = reverse("admin:labeling_document_changelist")
    selection = {"action": "reread", "_selected_action": [pool.pk, private.pk]}

    chooser = client.post(changelist, selection)
    assert chooser.status_code == 200
    body = chooser.content.decode()
    assert "Tesseract Persian (Debian fas)" in body and pool.title in body

    with django_capture_on_commit_callbacks() as callbacks:
        done = client.post(changelist, {**selection, "post": "yes", "model": fas().pk}, follow=True)

    assert "1 page is queued to be read again with Tesseract Persian (Debian fas)" in (
        done.content.decode()
    )
    assert callbacks  # the page is handed to the ocr queue after the commit
    page = pool.pages.get()
    assert (page.ocr_status, page.reread, page.ocr_model) == (OcrStatus.QUEUED, True, fas())
    private_page = private.pages.get()
    assert (private_page.ocr_status, private_page.reread) == (OcrStatus.DONE, False)


@pytest.mark.django_db
def test_moderators_who_do_not_manage_models_have_no_reread_action(
    make_moderator: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    moderator = make_moderator()
    assert not moderator.has_perm("labeling.change_ocrmodel")

    body = client_for(moderator).get(reverse("admin:labeling_document_changelist"))

    assert 'value="reread"' not in body.content.decode()
    assert Permission.objects.filter(codename="change_ocrmodel").exists()


@pytest.mark.django_db
def test_pages_still_being_read_are_left_alone(read_document: Callable[..., Document]) -> None:
    doc = read_document()
    Page.objects.filter(document=doc).update(ocr_status=OcrStatus.RUNNING)

    result = reread_document(document=doc, model=fas())

    assert (result.queued, result.busy) == (0, 1)
    page = doc.pages.get()
    assert (page.ocr_status, page.reread) == (OcrStatus.RUNNING, False)


# -- a worker killed while re-reading -------------------------------------------------------


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_rereading_whose_worker_is_killed_is_finished_by_another_worker(
    use_broker: Callable[[str], None],
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    tmp_path: Path,
    user: User,
    client_for: Callable[[User], Client],
    page_png: Callable[..., SimpleUploadedFile],
) -> None:
    broker = broker_url("redis")
    empty_broker(broker)
    use_broker(broker)
    first = start_worker(broker)
    document = upload(client_for(user), page_png(lines=SAMPLE_LINES[:3]), "Öldürülen")
    wait_until(
        lambda: document.pages.filter(ocr_status=OcrStatus.DONE).exists(),
        timeout=60,
        what="the first reading",
        log=first.log,
    )
    line = Line.objects.filter(page__document=document).order_by("order").first()
    assert line is not None
    save_transcription(line=line, user=user, text="دوزلتلمش")
    Line.objects.filter(page__document=document).update(prediction="اسکی", confidence=1.0)
    before = state(document)
    first.stop()

    # A Tesseract that takes its time, so the worker dies while it re-reads the page.
    slow = tmp_path / "slow-tesseract"
    slow.write_text('#!/bin/sh\n[ "$1" = stdin ] && sleep 60\nexec tesseract "$@"\n')
    slow.chmod(0o755)
    dying = start_worker(broker, TESSERACT_CMD=str(slow))
    reread_document(document=document, model=fas())
    wait_until(
        lambda: document.pages.filter(ocr_status=OcrStatus.RUNNING).exists(),
        timeout=60,
        what="the re-reading to start",
        log=dying.log,
    )
    dying.kill()
    empty_broker(broker)  # and the broker forgets the message

    second = start_worker(broker)
    wait_until(
        lambda: document.pages.filter(ocr_status=OcrStatus.DONE, reread=False).exists(),
        timeout=90,
        what="the re-reading to finish",
        log=second.log,
    )
    page = document.pages.get()
    assert page.ocr_model == fas() and page.lost_runs >= 1
    assert state(document) == before
    lines = Line.objects.filter(page__document=document)
    assert set(lines.values_list("predicted_by", flat=True)) == {fas().pk}
    assert "اسکی" not in set(lines.values_list("prediction", flat=True))
