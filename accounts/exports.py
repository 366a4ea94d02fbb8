""" "My data": everything a person wrote, as one zip, made by a job and e-mailed as a link.

The zip holds
- `transcriptions.jsonl`: one JSON object a line for every label the person wrote (line id,
  the document's title when the document is theirs — another person's title is not their
  data —, page and line number of their own documents, the text, when written and changed);
- for each of their documents, `documents/<name>.txt` (`labeling.texts.document_text`: their
  text where they typed it, Tesseract's elsewhere) and `documents/<name>-pairs.zip`, the line
  images and texts in a release's layout (`labeling.releases.own`).

A `DataExport` row is the job (`labeling.jobs`: claim, heartbeat, finish, sweep; queue
`exports`). The zip is written to a temporary file, stored through the file journal, and the
row's `done`, its file and the e-mail with the download link are committed together. The link
leads to a login-protected download of the person's own export; the zip is kept for
DATA_EXPORT_KEEP_DAYS and then deleted by the sweep (`expire_exports`), because it holds
their scans and texts and should not sit in storage forever.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import uuid
import zipfile
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.middleware import personal_locale
from accounts.models import DataExport, ExportStatus, User
from labeling import files, jobs
from labeling.mail import queue_message
from labeling.models import Document, OutgoingEmail, Transcription
from labeling.notifications import site_link, subject_line, templated_message, verified_address
from labeling.releases.own import document_pairs_zip, pairs_folder
from labeling.texts import document_text

logger = logging.getLogger(__name__)


def _task():  # type: ignore[no-untyped-def]
    from labeling.tasks import build_data_export  # tasks import this module

    return build_data_export


@transaction.atomic
def request_export(*, user: User) -> DataExport:
    """Queue a new export for the person, or return the one already waiting or being made
    (asking twice does not build twice)."""
    User.objects.select_for_update().filter(pk=user.pk).first()  # one request at a time
    pending = DataExport.objects.filter(
        user=user, status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]
    ).first()
    if pending is not None:
        return pending
    export = DataExport.objects.create(user=user)
    jobs.send_on_commit(_task(), DataExport, [export.pk])
    return export


def sweep() -> jobs.Swept:
    return jobs.sweep(DataExport, _task(), queue="exports")


class _Superseded(Exception):
    """Another run holds the row now."""


def build_export(*, export_id: int) -> None:
    """Build the zip, store it, mark the row done and e-mail the link (the task). Safe to run
    twice; quiet when the row is gone. A worker's own trouble (storage, disk) waits for a later
    try; anything else fails the row with its reason, shown on the person's page."""
    lease = jobs.claim(DataExport, export_id)
    if lease is None:
        return
    export = DataExport.objects.select_related("user").filter(pk=export_id).first()
    if export is None:
        return
    folder = Path(tempfile.mkdtemp(prefix=f"data-export-{export_id}-"))
    name = ""
    try:
        with jobs.heartbeat(DataExport, export_id, lease):
            target = folder / "my-data.zip"
            write_export(user=export.user, target=target)
            size = target.stat().st_size
            with target.open("rb") as zipped:
                name = files.store(
                    files.unique_name("exports", f"user-{export.user_id}", "zip"), File(zipped)
                )
        finish_export(export=export, lease=lease, name=name, size=size)
    except _Superseded:
        logger.warning("Data export %s was taken over by another run", export_id)
    except jobs.TRANSIENT_ERRORS as exc:
        jobs.retry_later(DataExport, export_id, lease, exc)
    except Exception as exc:  # a failure must be recorded on the row, whatever it was
        logger.exception("Data export %s failed", export_id)
        message = _("Unexpected error: %(error)s") % {"error": f"{type(exc).__name__}: {exc}"}
        jobs.fail(DataExport, export_id, lease, message, finished_at=timezone.now())
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if name:
            files.discard([name])  # only if the row did not adopt it


@transaction.atomic
def finish_export(*, export: DataExport, lease: uuid.UUID, name: str, size: int) -> None:
    """Adopt the stored zip, mark the row done and queue the e-mail, together."""
    if jobs.holding(DataExport, export.pk, lease).select_for_update().first() is None:
        raise _Superseded
    now = timezone.now()
    expires_at = now + timedelta(days=settings.DATA_EXPORT_KEEP_DAYS)
    files.adopt([name])
    jobs.finish(
        DataExport,
        export.pk,
        lease,
        file=name,
        size=size,
        error="",
        finished_at=now,
        expires_at=expires_at,
    )
    export.refresh_from_db()
    _tell(export)


def _tell(export: DataExport) -> OutgoingEmail | None:
    """E-mail the download link (never the zip itself: it may be large and it holds scans)."""
    address = verified_address(export.user)
    if address is None:
        return None
    assert export.expires_at is not None
    with personal_locale(export.user):
        message = templated_message(
            template="data_export_ready",
            subject=subject_line(_("Your data is ready to download")),
            to=address,
            context={
                "user": export.user,
                "export": export,
                "download_url": site_link(reverse("accounts:data_download", args=[export.pk])),
                "expires": date_format(timezone.localtime(export.expires_at), "DATETIME_FORMAT"),
            },
        )
    return queue_message(message)


def _document_name(document: Document) -> str:
    return pairs_folder(document).removesuffix("-pairs")


def write_export(*, user: User, target: Path) -> None:
    """Write the person's zip to `target` (a local file), one document at a time."""
    own_documents = list(Document.objects.owned_by(user).order_by("pk"))
    own_ids = {document.pk for document in own_documents}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("transcriptions.jsonl", "w") as out:
            labels = (
                Transcription.objects.filter(user=user)
                .select_related("line__page__document")
                .order_by("created_at", "pk")
            )
            for label in labels.iterator(chunk_size=2000):
                out.write(
                    (json.dumps(_label_record(label, own_ids), ensure_ascii=False) + "\n").encode()
                )
        for document in own_documents:
            stem = f"documents/{_document_name(document)}"
            archive.writestr(f"{stem}.txt", document_text(document=document, user=user))
            # The pairs zip is already compressed (PNGs): stored, not deflated again.
            entry = zipfile.ZipInfo(f"{stem}-pairs.zip", date_time=_zip_time())
            entry.compress_type = zipfile.ZIP_STORED
            with archive.open(entry, "w", force_zip64=True) as pairs:
                for chunk in document_pairs_zip(document=document):
                    pairs.write(chunk)


def _zip_time() -> tuple[int, int, int, int, int, int]:
    now = timezone.localtime()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)


def _label_record(label: Transcription, own_ids: set[int]) -> dict[str, object]:
    line = label.line
    document = line.page.document
    mine = document.pk in own_ids
    return {
        "line": line.pk,
        "document": document.title if mine else None,
        "page": line.page.number if mine else None,
        "line_number": line.order if mine else None,
        "text": label.text,
        "kept_prediction": label.kept_prediction,
        "created_at": label.created_at.isoformat(),
        "updated_at": label.updated_at.isoformat(),
    }


def expire_exports() -> int:
    """Delete the zips whose time is over (after the commit); the rows stay, without file."""
    moment = timezone.now()
    expired = list(
        DataExport.objects.filter(expires_at__lte=moment)
        .exclude(file="")
        .values_list("pk", "file")[:500]
    )
    if not expired:
        return 0
    with transaction.atomic():
        files.delete_on_commit([name for _, name in expired])
        DataExport.objects.filter(pk__in=[pk for pk, _ in expired]).update(file="")
    return len(expired)
