"""Documents, their pages and lines, people's readings of the lines, and the OCR models."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User


class Visibility(models.TextChoices):
    PRIVATE = "private", "Private (only me)"
    POOL = "pool", "Pool (others may label it)"


class License(models.TextChoices):
    NONE = "", "—"
    CC0 = "cc0-1.0", "CC0 1.0 (public domain dedication)"
    CC_BY = "cc-by-4.0", "CC BY 4.0"
    CC_BY_SA = "cc-by-sa-4.0", "CC BY-SA 4.0"
    PUBLIC_DOMAIN = "public-domain", "Public domain (out of copyright)"


class OcrStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Reading"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class LineStatus(models.TextChoices):
    NEW = "new", "New"
    OPEN = "open", "Open"
    AGREED = "agreed", "Agreed"
    DISPUTED = "disputed", "Disputed"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


def _model_path(instance: OcrModel, filename: str) -> str:
    return f"models/{instance.language}/{filename}"


class OcrModel(models.Model):
    """A Tesseract model: an uploaded .traineddata file, or a language pack installed on workers."""

    name = models.CharField(max_length=100, unique=True)
    language = models.CharField(
        max_length=50, help_text="Tesseract language code (-l), e.g. ara, fas, ota_v3."
    )
    traineddata = models.FileField(
        upload_to=_model_path,
        blank=True,
        help_text="Leave empty to use the language pack installed with Tesseract.",
    )
    description = models.TextField(blank=True)
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_ocr_model"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def default(cls) -> OcrModel | None:
        return cls.objects.filter(is_default=True).first()


class DocumentQuerySet(models.QuerySet["Document"]):
    def owned_by(self, user: User) -> DocumentQuerySet:
        """The one way views reach documents: only the person's own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Document(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="documents"
    )
    title = models.CharField(max_length=200)
    visibility = models.CharField(
        max_length=10, choices=Visibility.choices, default=Visibility.PRIVATE
    )
    license = models.CharField(max_length=20, choices=License.choices, blank=True)
    pool_consent_at = models.DateTimeField(
        null=True, blank=True, help_text="When the owner agreed to share the scans for labelling."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[DocumentQuerySet] = DocumentQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.title


class PageQuerySet(models.QuerySet["Page"]):
    def owned_by(self, user: User) -> PageQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(document__owner=user)


def _page_path(instance: Page, filename: str) -> str:
    return f"pages/{instance.sha256[:2]}/{filename}"


class Page(models.Model):
    document = models.ForeignKey(Document, on_delete=models.CASCADE, related_name="pages")
    number = models.PositiveIntegerField(help_text="1-based position in the document.")
    image = models.FileField(upload_to=_page_path)
    sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    source_name = models.CharField(max_length=255, help_text="The uploaded file it came from.")
    source_index = models.PositiveIntegerField(default=0, help_text="Frame or page in that file.")
    ocr_status = models.CharField(
        max_length=10, choices=OcrStatus.choices, default=OcrStatus.QUEUED
    )
    ocr_error = models.TextField(blank=True)
    ocr_model = models.ForeignKey(OcrModel, null=True, blank=True, on_delete=models.SET_NULL)
    ocr_seconds = models.FloatField(null=True, blank=True)
    ocr_finished_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[PageQuerySet] = PageQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["document", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["document", "number"], name="page_number_unique")
        ]

    def __str__(self) -> str:
        return f"{self.document} · page {self.number}"

    @property
    def is_ocr_pending(self) -> bool:
        return self.ocr_status in (OcrStatus.QUEUED, OcrStatus.RUNNING)


class LineQuerySet(models.QuerySet["Line"]):
    def owned_by(self, user: User) -> LineQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(page__document__owner=user)


class Line(models.Model):
    page = models.ForeignKey(Page, on_delete=models.CASCADE, related_name="lines")
    order = models.PositiveIntegerField(help_text="Reading order on the page, from 1.")
    left = models.PositiveIntegerField()
    top = models.PositiveIntegerField()
    right = models.PositiveIntegerField()
    bottom = models.PositiveIntegerField()
    prediction = models.TextField(blank=True)
    confidence = models.FloatField(
        default=0.0, help_text="Tesseract's mean word confidence, 0–100."
    )
    predicted_by = models.ForeignKey(OcrModel, null=True, blank=True, on_delete=models.SET_NULL)
    status = models.CharField(max_length=10, choices=LineStatus.choices, default=LineStatus.OPEN)
    consensus_text = models.TextField(blank=True)
    agreement = models.FloatField(null=True, blank=True)

    objects: ClassVar[LineQuerySet] = LineQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["page", "order"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["page", "order"], name="line_order_unique")
        ]
        permissions: ClassVar = [("moderate_line", "Can moderate lines (approve, edit, reject)")]

    def __str__(self) -> str:
        return f"{self.page} · line {self.order}"

    @property
    def bbox(self) -> tuple[int, int, int, int]:
        return (self.left, self.top, self.right, self.bottom)

    @property
    def width(self) -> int:
        return self.right - self.left

    @property
    def height(self) -> int:
        return self.bottom - self.top

    @property
    def is_decided(self) -> bool:
        return self.status in (LineStatus.APPROVED, LineStatus.REJECTED)


class Transcription(models.Model):
    """One person's reading of one line, stored as typed (NFC)."""

    line = models.ForeignKey(Line, on_delete=models.CASCADE, related_name="transcriptions")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="transcriptions"
    )
    text = models.TextField()
    kept_prediction = models.BooleanField(
        help_text="True when the person confirmed Tesseract's reading unchanged."
    )
    seconds_spent = models.FloatField(default=0.0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["line", "user"], name="one_transcription_per_user")
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.line}"
