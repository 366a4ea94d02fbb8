"""The abstract row that waits for a Celery task (`labeling.jobs` claims, beats and sweeps it).

Its own module, importing only Django, so models of other apps (`accounts.DataExport`) can be
jobs without importing `labeling.models`, which imports `accounts.models` (the `Labeler` proxy).
"""

from __future__ import annotations

from typing import ClassVar

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class JobStatus(models.TextChoices):
    """Where a row that waits for background work stands; each job model names these its way."""

    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Working")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class Job(models.Model):
    """A row that waits for a Celery task, carrying what recovers it when the task is lost.

    `labeling.jobs` claims, beats and sweeps these rows; the status field is the model's own
    (`STATUS_FIELD`, with JobStatus's values) and so is its message field (`ERROR_FIELD`).
    """

    STATUS_FIELD: ClassVar[str] = "status"
    ERROR_FIELD: ClassVar[str] = "error"
    MAX_LOST_RUNS: ClassVar[int | None] = None  # None: settings.JOB_MAX_ATTEMPTS

    queued_at = models.DateTimeField(
        default=timezone.now,
        help_text=_("When it last started waiting for its task."),
        verbose_name=_("queued at"),
    )
    enqueued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When its task was handed to the broker; empty: not yet."),
        verbose_name=_("enqueued at"),
    )
    not_before = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Do not try again before this time (back-off)."),
        verbose_name=_("not before"),
    )
    lease = models.UUIDField(
        null=True, blank=True, help_text=_("The run that holds it now."), verbose_name=_("lease")
    )
    heartbeat_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("Last sign of life of the run that holds it."),
        verbose_name=_("heartbeat at"),
    )
    attempts = models.PositiveIntegerField(
        default=0, help_text=_("Runs started so far."), verbose_name=_("attempts")
    )
    lost_runs = models.PositiveIntegerField(
        default=0,
        help_text=_("Runs that stopped without finishing (their worker died)."),
        verbose_name=_("lost runs"),
    )

    class Meta:
        abstract = True
