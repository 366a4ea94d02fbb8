""" "My data": a job builds the zip of everything the person wrote, the mail links to a
download only they can open, and the sweep deletes the zip when its time is over."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts import exports
from accounts.models import DataExport, ExportStatus, User
from labeling import recovery
from labeling.models import Document, Line, Transcription
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db

Capture = Callable[..., Any]


@pytest.fixture
def work(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    pool_lines: Callable[..., list[Line]],
) -> dict[str, Any]:
    """The person's own document with one correction, and a label on someone else's line."""
    mine = read_document(predictions=("سلام", "كتاب"))
    first = mine.pages.get().lines.order_by("order").first()
    assert first is not None
    save_transcription(line=first, user=user, text="سلاملر")
    (theirs,) = pool_lines((10.0,), owner=other_user)
    Transcription.objects.create(line=theirs, user=user, text="قلم", kept_prediction=False)
    return {"mine": mine, "first": first, "theirs": theirs}


def ask(client: Client, capture: Capture) -> DataExport:
    with capture(execute=True):
        response = client.post(reverse("accounts:data"))
    assert response.status_code == 302
    return DataExport.objects.get()


def test_the_zip_holds_every_label_and_each_own_documents_text_and_pairs(
    user: User,
    work: dict[str, Any],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Capture,
    mailoutbox: list[Any],
) -> None:
    client = client_for(user)
    export = ask(client, django_capture_on_commit_callbacks)
    assert export.status == ExportStatus.DONE and export.expires_at is not None
    assert export.expires_at > timezone.now() + timedelta(days=6)

    (message,) = mailoutbox
    assert message.to == [user.email] and not message.attachments
    download = reverse("accounts:data_download", args=[export.pk])
    assert download in message.body and download in message.alternatives[0][0]

    response = client.get(download)
    assert response.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    records = [
        json.loads(line)
        for line in archive.read("transcriptions.jsonl").decode("utf-8").splitlines()
    ]
    by_line = {record["line"]: record for record in records}
    assert by_line[work["first"].pk]["text"] == "سلاملر"
    assert by_line[work["first"].pk]["document"] == "Test document"
    assert by_line[work["theirs"].pk]["text"] == "قلم"
    assert by_line[work["theirs"].pk]["document"] is None  # another person's title is theirs
    names = archive.namelist()
    (text_name,) = [n for n in names if n.endswith(".txt")]
    assert "سلاملر\nكتاب" in archive.read(text_name).decode("utf-8")
    (pairs_name,) = [n for n in names if n.endswith("-pairs.zip")]
    pairs = zipfile.ZipFile(io.BytesIO(archive.read(pairs_name)))
    assert any(n.endswith(".gt.txt") for n in pairs.namelist())
    assert "سلاملر" in {
        pairs.read(n).decode("utf-8").strip() for n in pairs.namelist() if n.endswith(".gt.txt")
    }


def test_only_its_owner_downloads_it(
    user: User,
    other_user: User,
    work: dict[str, Any],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    export = ask(client_for(user), django_capture_on_commit_callbacks)
    download = reverse("accounts:data_download", args=[export.pk])
    assert client_for(other_user).get(download).status_code == 404
    response = Client().get(download)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_asking_twice_while_it_is_made_builds_once(user: User) -> None:
    first = exports.request_export(user=user)
    second = exports.request_export(user=user)
    assert first.pk == second.pk and DataExport.objects.count() == 1


def test_the_sweep_deletes_an_expired_zip_and_the_download_is_gone(
    user: User,
    work: dict[str, Any],
    client_for: Callable[[User], Client],
    django_capture_on_commit_callbacks: Capture,
) -> None:
    client = client_for(user)
    export = ask(client, django_capture_on_commit_callbacks)
    name = export.file.name
    assert default_storage.exists(name)
    DataExport.objects.filter(pk=export.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with django_capture_on_commit_callbacks(execute=True):
        recovery.sweep_everything()
    assert not default_storage.exists(name)
    assert DataExport.objects.get(pk=export.pk).file.name == ""
    assert client.get(reverse("accounts:data_download", args=[export.pk])).status_code == 404
    assert "Expired" in client.get(reverse("accounts:data")).content.decode()


def test_a_lost_export_is_built_by_the_sweep(
    user: User, work: dict[str, Any], django_capture_on_commit_callbacks: Capture, settings: Any
) -> None:
    settings.JOB_SEND_GRACE_SECONDS = 0
    export = DataExport.objects.create(user=user)  # as if the web process died after its commit
    with django_capture_on_commit_callbacks(execute=True):
        recovery.sweep_everything()
    export.refresh_from_db()
    assert export.status == ExportStatus.DONE and export.file
