"""The periodic sweep (Celery beat, and once when a worker starts): hands lost work back to
the broker and deletes files that no row references. See `labeling.jobs` and `labeling.files`.
It also deletes expired data exports and sends "document read" notices a page hook missed."""

from __future__ import annotations

import logging

from django.conf import settings

from accounts import exports
from labeling import documents, files, mail, notifications, reading, releases, training

logger = logging.getLogger(__name__)


def sweep_everything() -> None:
    """Each part on its own: one that fails (storage away) does not stop the others."""
    for part in (
        reading.sweep,
        documents.sweep_sources,
        mail.sweep,
        releases.sweep,
        training.sweep,
        exports.sweep,
        exports.expire_exports,
        notifications.sweep_read_notices,
        _orphans,
    ):
        try:
            part()
        except Exception:
            logger.exception("Sweep step %s failed; the next sweep tries again", part.__name__)


def _orphans() -> int:
    return files.sweep_orphans(grace_seconds=settings.ORPHAN_FILE_GRACE_SECONDS)
