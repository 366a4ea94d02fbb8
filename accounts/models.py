"""People (e-mail is the login), their e-mail preferences, their data exports, and the
"document read" notices sent to them."""

from datetime import datetime
from typing import Any, ClassVar
from zoneinfo import available_timezones

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from labeling.job_model import Job


class UserManager(BaseUserManager["User"]):
    """Users are identified by e-mail; there is no username."""

    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> "User":
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> "User":
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


def validate_time_zone(value: str) -> None:
    """An IANA time zone name (`Europe/Istanbul`), as `zoneinfo` knows it; empty is allowed."""
    if value and value not in available_timezones():
        raise ValidationError(
            _("%(value)s is not a time zone name such as Europe/Istanbul."),
            params={"value": value},
        )


class User(AbstractUser):
    """A person on the platform; logs in with e-mail, may show a display name."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("e-mail address"), unique=True)
    display_name = models.CharField(_("display name"), max_length=80, blank=True)
    # Empty: the browser's language (or the switcher's cookie) and the site's time zone.
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=settings.LANGUAGES,
        help_text=_("Empty: the language your browser asks for."),
    )
    timezone = models.CharField(
        _("time zone"),
        max_length=64,
        blank=True,
        validators=[validate_time_zone],
        help_text=_("Dates and times are shown in it. Empty: the site's time zone."),
    )
    # E-mail preferences (profile page, one-click unsubscribe links). Sign-up mails, the
    # "document read" notice and "your data is ready" are answers to what the person did and
    # are always sent; the digests are periodic and each can be turned off.
    digest_emails = models.BooleanField(
        _("daily digest of what became of my labels"),
        default=True,
        help_text=_("Sent only on days something happened to your labels."),
    )
    moderation_emails = models.BooleanField(
        _("daily digest of newly disputed and flagged lines (moderators)"), default=True
    )
    last_digest_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the last contributor digest was considered."),
        verbose_name=_("last digest at"),
    )
    last_moderation_digest_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the last moderator digest was considered."),
        verbose_name=_("last moderation digest at"),
    )
    tutorial_done_at = models.DateTimeField(
        _("practice lines done at"),
        null=True,
        blank=True,
        help_text=_("When the person finished the tutorial's practice lines; empty: not yet."),
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects: ClassVar[UserManager] = UserManager()  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.display_name or self.email


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be prepared")
    RUNNING = "running", _("Being prepared")
    DONE = "done", _("Ready")
    FAILED = "failed", _("Failed")


class DataExport(Job):
    """A person asked for everything they wrote ("My data"): one zip, built by a job on the
    `exports` queue, kept in storage until `expires_at`, then deleted by the sweep.

    The row stays after the file is gone, so the page can say the download expired.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="data_exports",
        verbose_name=_("user"),
    )
    status = models.CharField(
        max_length=10,
        choices=ExportStatus.choices,
        default=ExportStatus.QUEUED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    file = models.FileField(
        upload_to="exports/", max_length=255, blank=True, verbose_name=_("file")
    )
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))
    expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("The zip is deleted after this time."),
        verbose_name=_("expires at"),
    )

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [
            models.Index(
                fields=["status", "queued_at"],
                condition=models.Q(status__in=["queued", "running"]),
                name="export_pending_idx",
            )
        ]
        verbose_name = _("data export")

    def __str__(self) -> str:
        return f"{self.user} · {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"

    def is_available(self, now: datetime | None = None) -> bool:
        """Whether its zip can be downloaded now (built, not expired)."""
        now = now or timezone.now()
        return (
            self.status == ExportStatus.DONE
            and bool(self.file)
            and self.expires_at is not None
            and self.expires_at > now
        )


class DocumentReadNotice(models.Model):
    """The owner was told that the document's reading finished ("Your document has been
    read"); one row per document, so the notice goes once per reading.

    `notified_at` is compared with the pages' `queued_at`: only when every page was queued
    again after it (a fresh reading of the whole document) is a new notice due. Kept here
    rather than as a Document field, so that labeling's migrations stay with their owner.
    """

    document = models.OneToOneField(
        "labeling.Document",
        on_delete=models.CASCADE,
        related_name="read_notice",
        verbose_name=_("document"),
    )
    notified_at = models.DateTimeField(default=timezone.now, verbose_name=_("notified at"))
    sent_to = models.CharField(
        max_length=254,
        blank=True,
        help_text=_("Empty: the owner had no verified address."),
        verbose_name=_("sent to"),
    )

    class Meta:
        verbose_name = _("document read notice")
        verbose_name_plural = _("document read notices")

    def __str__(self) -> str:
        return f"{self.document_id} @ {timezone.localtime(self.notified_at):%Y-%m-%d %H:%M}"
