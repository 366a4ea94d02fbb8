"""Files in storage that always belong to a committed row, or soon go.

Storage and the database cannot commit together, so every write and delete of a file is
journalled as a `PendingFile` row:

- `store` commits the journal row first, then writes the file; the transaction that creates
  the row referencing the file calls `adopt`, which deletes the journal row with it. If the
  process dies in between, or that transaction rolls back, the journal row stays.
- `delete_on_commit` journals the files of rows being deleted, in the same transaction, and
  deletes them after the commit. If the process dies first, the journal row stays.
- `sweep_orphans` deletes what the journal has held longer than ORPHAN_FILE_GRACE_SECONDS and
  no row references: local disk and S3 alike, without listing the bucket.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta
from pathlib import PurePosixPath

from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from labeling.models import DatasetRelease, OcrModel, Page, PendingFile, SourceFile

logger = logging.getLogger(__name__)


def unique_name(folder: str, stem: str, extension: str) -> str:
    """A storage name no other file has: `folder/stem-RANDOM.extension`."""
    return str(PurePosixPath(folder) / f"{stem}-{secrets.token_hex(4)}.{extension}")


def store(name: str, content: File) -> str:  # type: ignore[type-arg]
    """Write `content` under `name` (journalled first) and return the name it got.

    Call it outside a transaction, so the journal row is committed before the file exists;
    then `adopt` the name in the transaction that makes the row referencing it.
    """
    PendingFile.objects.create(name=name)
    try:
        stored = default_storage.save(name, content)
    except BaseException:
        # A full disk, a bucket that refused: whatever part was written goes now; if even
        # that fails, the journal row makes the sweep try again later.
        discard([name])
        raise
    if stored != name:  # the storage chose another name (ours was taken after all)
        PendingFile.objects.create(name=stored)
    return stored


def adopt(names: Iterable[str]) -> None:
    """The rows referencing these files are being committed in this transaction."""
    PendingFile.objects.filter(name__in=list(names)).delete()


def discard(names: Iterable[str]) -> None:
    """Delete files that no committed row adopted (after a failure before or at commit)."""
    for pending in PendingFile.objects.filter(name__in=list(names)):
        _delete(pending)


def delete_on_commit(names: Iterable[str]) -> None:
    """Delete these files once the current transaction, which deletes their rows, commits."""
    names = [name for name in names if name]
    if not names:
        return
    PendingFile.objects.bulk_create(PendingFile(name=name) for name in names)
    transaction.on_commit(lambda: discard(names), robust=True)


def referenced(name: str) -> bool:
    """Whether a row refers to the file (the journal's last check before deleting)."""
    return (
        Page.objects.filter(image=name).exists()
        or SourceFile.objects.filter(file=name).exists()
        or OcrModel.objects.filter(traineddata=name).exists()
        or DatasetRelease.objects.filter(file=name).exists()
    )


def sweep_orphans(*, grace_seconds: float) -> int:
    """Delete files journalled longer than `grace_seconds` ago that no row references."""
    before = timezone.now() - timedelta(seconds=grace_seconds)
    deleted = 0
    for pending in PendingFile.objects.filter(created_at__lt=before).order_by("pk")[:1000]:
        if referenced(pending.name):
            pending.delete()  # committed after all (or re-used): the file stays
            continue
        deleted += _delete(pending)
    if deleted:
        logger.info("Deleted %d file(s) that no row references", deleted)
    return deleted


def _delete(pending: PendingFile) -> int:
    try:
        default_storage.delete(pending.name)
    except Exception:  # storage unreachable: the journal row stays for the next sweep
        logger.exception("Could not delete %s from storage; will try again", pending.name)
        return 0
    PendingFile.objects.filter(pk=pending.pk).delete()
    return 1
