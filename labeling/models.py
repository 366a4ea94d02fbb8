"""Documents, their pages and lines, people's readings of the lines, and the OCR models."""

from __future__ import annotations

from typing import ClassVar, Self, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from labeling.job_model import Job
from labeling.job_model import JobStatus as JobStatus  # re-exported: jobs.py and others use it
from labeling.ocr import BBox


class Visibility(models.TextChoices):
    PRIVATE = "private", _("Private (only me)")
    POOL = "pool", _("Pool (others may label it)")


class License(models.TextChoices):
    NONE = "", "—"
    CC0 = "cc0-1.0", _("CC0 1.0 (public domain dedication)")
    CC_BY = "cc-by-4.0", "CC BY 4.0"
    CC_BY_SA = "cc-by-sa-4.0", "CC BY-SA 4.0"
    PUBLIC_DOMAIN = "public-domain", _("Public domain (out of copyright)")


class OcrStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be read")
    RUNNING = "running", _("Being read")
    DONE = "done", _("Read by Tesseract")
    FAILED = "failed", _("Failed")


class SplitStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Preparing pages")
    DONE = "done", _("Pages ready")
    FAILED = "failed", _("Failed")


class MailStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    RUNNING = "running", _("Being sent")
    DONE = "done", _("Sent")
    FAILED = "failed", _("Given up")


class LineProvenance(models.TextChoices):
    OCR = "ocr", _("Read by Tesseract on an uploaded page")
    IMPORTED = "imported", _("Imported ground truth")


class LineStatus(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    AGREED = "agreed", _("Agreed")
    DISPUTED = "disputed", _("Disputed")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class LabelVerdict(models.TextChoices):
    """A label against its line's consensus, stored (`review.verdicts.refresh_verdicts`)."""

    PENDING = "pending", _("Waiting for others")
    AGREED = "agreed", _("Agreed with the consensus")
    OVERTURNED = "overturned", _("Overturned")


class SkipReason(models.TextChoices):
    ILLEGIBLE = "illegible", _("Illegible")
    NOT_OTTOMAN = "not_ottoman", _("Not Ottoman Turkish")
    BAD_CROP = "bad_crop", _("Bad crop (the image is not one whole line)")
    OTHER = "other", _("Other")


class AssignmentState(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUBMITTED = "submitted", _("Submitted")
    SKIPPED = "skipped", _("Skipped")
    ENDED = "ended", _("Ended (document withdrawn or labeler banned)")


def _model_path(instance: OcrModel, filename: str) -> str:
    return f"models/{instance.language}/{filename}"


class OcrModel(models.Model):
    """A Tesseract model: an uploaded .traineddata file, or a language pack installed on workers."""

    name = models.CharField(max_length=100, unique=True, verbose_name=_("name"))
    language = models.CharField(
        max_length=50,
        help_text=_("Tesseract language code (-l), e.g. ara, fas, ota_v3."),
        verbose_name=_("language"),
    )
    traineddata = models.FileField(
        upload_to=_model_path,
        blank=True,
        help_text=_("Leave empty to use the language pack installed with Tesseract."),
        verbose_name=_("traineddata"),
    )
    description = models.TextField(blank=True, verbose_name=_("description"))
    is_default = models.BooleanField(default=False, verbose_name=_("is default"))
    trainable = models.BooleanField(
        default=False,
        help_text=_(
            'A float ("best") model lstmtraining can continue from. Debian\'s language packs '
            'are integer ("fast") models and cannot be trained.'
        ),
        verbose_name=_("trainable"),
    )
    training_run = models.OneToOneField(
        "TrainingRun",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text=_("The training run that made it, with its release and evaluation."),
        verbose_name=_("training run"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        verbose_name = _("OCR model")
        verbose_name_plural = _("OCR models")
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


# Per-document review settings start from the deployment's settings when the row is made.
def default_labels_needed() -> int:
    return int(settings.REVIEW_LABELS_NEEDED)


def default_max_labels() -> int:
    return int(settings.REVIEW_MAX_LABELS)


def default_agreement_threshold() -> float:
    return float(settings.REVIEW_AGREEMENT_THRESHOLD)


def default_blind_share() -> float:
    return float(settings.REVIEW_BLIND_SHARE)


_Row = TypeVar("_Row", bound=models.Model)


class DocumentRowQuerySet(models.QuerySet[_Row]):
    """Rows that belong to a document (the document itself, its pages, lines, labels...).

    What a person may see by role is decided here, once: `for_moderation`.
    """

    # Lookups from the row to its document: "" for a document, "page__document__" for a line.
    document_path: ClassVar[str] = ""

    def pool(self) -> Self:
        """Rows of documents in the pool (the owner shared them for labelling)."""
        return self.filter(**{f"{self.document_path}visibility": Visibility.POOL})

    def for_moderation(self, user: User) -> Self:
        """What the person may see and decide as a moderator: rows of pool documents, never
        someone's private document. Superusers see every row (each private one they open is
        logged, see PrivateAccess); everyone else sees none."""
        if user.is_active and user.is_superuser:
            return self.all()
        if user.has_perm("labeling.moderate_line"):
            return self.pool()
        return self.none()

    def private_to(self, user: User) -> Self:
        """Rows of private documents that are not the person's own."""
        path = self.document_path
        return self.exclude(**{f"{path}visibility": Visibility.POOL}).exclude(
            **{f"{path}owner": user}
        )


class DocumentQuerySet(DocumentRowQuerySet["Document"]):
    def owned_by(self, user: User) -> DocumentQuerySet:
        """The one way views reach documents: only the person's own."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(owner=user)


class Document(models.Model):
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("owner"),
    )
    title = models.CharField(max_length=200, verbose_name=_("title"))
    visibility = models.CharField(
        max_length=10,
        choices=Visibility.choices,
        default=Visibility.PRIVATE,
        verbose_name=_("visibility"),
    )
    license = models.CharField(
        max_length=20, choices=License.choices, blank=True, verbose_name=_("license")
    )
    pool_consent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When the owner agreed to share the scans for labelling."),
        verbose_name=_("pool consent at"),
    )
    labels_needed = models.PositiveSmallIntegerField(
        default=default_labels_needed,
        help_text=_("Agreeing labels that make a pool line agreed."),
        verbose_name=_("labels needed"),
    )
    max_labels = models.PositiveSmallIntegerField(
        default=default_max_labels,
        help_text=_("Labels after which a line without agreement is disputed."),
        verbose_name=_("max labels"),
    )
    agreement_threshold = models.FloatField(
        default=default_agreement_threshold,
        help_text=_(
            "Largest character error rate (after Ottoman normalization) that still agrees."
        ),
        verbose_name=_("agreement threshold"),
    )
    blind_share = models.FloatField(
        default=default_blind_share,
        help_text=_("Share of labelers who get the line without Tesseract's reading."),
        verbose_name=_("blind share"),
    )
    auto_approve = models.BooleanField(
        _("approve agreed lines automatically"),
        default=False,
        help_text=_(
            "An agreed line is approved without a moderator when every agreeing labeler's gold "
            "accuracy reaches the threshold over at least the minimum of gold lines."
        ),
    )
    auto_approve_accuracy = models.FloatField(
        _("auto-approval gold accuracy"),
        default=0.9,
        help_text=_("Smallest gold accuracy (0–1) of each agreeing labeler."),
    )
    auto_approve_min_gold = models.PositiveSmallIntegerField(
        _("auto-approval gold lines"),
        default=5,
        help_text=_("Gold lines each agreeing labeler must have answered since their last hold."),
    )
    withdrawn_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text=_("When it was withdrawn from the labelling pool."),
        verbose_name=_("withdrawn at"),
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Who withdrew it from the pool."),
        verbose_name=_("withdrawn by"),
    )
    withdrawal_reason = models.TextField(blank=True, verbose_name=_("withdrawal reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects: ClassVar[DocumentQuerySet] = DocumentQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("document")
        verbose_name_plural = _("documents")
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [
            # The admin's list, newest first, a page at a time (migration 0020).
            models.Index(fields=["-created_at", "-id"], name="document_recent_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None


class PageQuerySet(DocumentRowQuerySet["Page"]):
    document_path = "document__"

    def owned_by(self, user: User) -> PageQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(document__owner=user)


def _page_path(instance: Page, filename: str) -> str:
    return f"pages/{instance.sha256[:2]}/{filename}"


class SourceKind(models.TextChoices):
    PNG = "png", "PNG"
    JPEG = "jpeg", "JPEG"
    TIFF = "tiff", "TIFF"
    PDF = "pdf", "PDF"


def _source_path(instance: SourceFile, filename: str) -> str:
    return f"uploads/{instance.sha256[:2]}/{filename}"


class SourceFileQuerySet(models.QuerySet["SourceFile"]):
    def owned_by(self, user: User) -> SourceFileQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(document__owner=user)


class SourceFile(Job):
    """An uploaded file as it came, kept in storage; a task splits it into pages.

    The upload request checks it cheaply (kind, size, page count, page sizes) and stores it;
    the split renders one page at a time in a worker, so neither memory nor time of the web
    process grows with the file.
    """

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="sources", verbose_name=_("document")
    )
    position = models.PositiveIntegerField(
        help_text=_("1-based order within its upload."), verbose_name=_("position")
    )
    name = models.CharField(
        max_length=255, help_text=_("The file's name as uploaded."), verbose_name=_("name")
    )
    file = models.FileField(upload_to=_source_path, max_length=255, verbose_name=_("file"))
    kind = models.CharField(max_length=10, choices=SourceKind.choices, verbose_name=_("kind"))
    size = models.PositiveBigIntegerField(help_text=_("Bytes."), verbose_name=_("size"))
    sha256 = models.CharField(max_length=64, db_index=True, verbose_name=_("sha256"))
    page_count = models.PositiveIntegerField(
        help_text=_("Pages (or frames) the file declares."), verbose_name=_("page count")
    )
    pages_done = models.PositiveIntegerField(
        default=0,
        help_text=_("Pages split so far: the next page to split is this 0-based index."),
        verbose_name=_("pages done"),
    )
    duplicates = models.JSONField(
        default=list,
        blank=True,
        help_text=_("Pages not added because the owner already had them: [[index, page id], …]."),
        verbose_name=_("duplicates"),
    )
    status = models.CharField(
        max_length=10,
        choices=SplitStatus.choices,
        default=SplitStatus.QUEUED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    objects: ClassVar[SourceFileQuerySet] = SourceFileQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("uploaded file")
        verbose_name_plural = _("uploaded files")
        ordering: ClassVar = ["document", "position"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["document", "position"], name="source_position_unique")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["status", "queued_at"],
                condition=Q(status__in=["queued", "running"]),
                name="source_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Page(Job):
    STATUS_FIELD: ClassVar[str] = "ocr_status"
    ERROR_FIELD: ClassVar[str] = "ocr_error"

    document = models.ForeignKey(
        Document, on_delete=models.CASCADE, related_name="pages", verbose_name=_("document")
    )
    source = models.ForeignKey(
        SourceFile,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pages",
        verbose_name=_("source"),
    )
    number = models.PositiveIntegerField(
        help_text=_("1-based position in the document."), verbose_name=_("number")
    )
    image = models.FileField(upload_to=_page_path, verbose_name=_("image"))
    sha256 = models.CharField(max_length=64, db_index=True, verbose_name=_("sha256"))
    width = models.PositiveIntegerField(verbose_name=_("width"))
    height = models.PositiveIntegerField(verbose_name=_("height"))
    source_name = models.CharField(
        max_length=255,
        help_text=_("The uploaded file it came from."),
        verbose_name=_("source name"),
    )
    source_index = models.PositiveIntegerField(
        default=0, help_text=_("Frame or page in that file."), verbose_name=_("source index")
    )
    ocr_status = models.CharField(
        max_length=10,
        choices=OcrStatus.choices,
        default=OcrStatus.QUEUED,
        verbose_name=_("ocr status"),
    )
    ocr_error = models.TextField(blank=True, verbose_name=_("ocr error"))
    ocr_model = models.ForeignKey(
        OcrModel, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("ocr model")
    )
    reread = models.BooleanField(
        default=False,
        help_text=_(
            "The next reading re-recognizes the page's lines in their boxes (with its OCR "
            "model) instead of finding lines afresh; people's work on them stays."
        ),
        verbose_name=_("reread"),
    )
    ocr_psm = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Tesseract's page segmentation mode for the next fresh reading; empty: the "
            "platform's default method."
        ),
        verbose_name=_("ocr psm"),
    )
    skew = models.FloatField(
        default=0.0,
        help_text=_(
            "Degrees the scan was turned to make its lines level before they were found; the "
            "image is the level copy (the file as uploaded stays with its source)."
        ),
        verbose_name=_("skew"),
    )
    missing_bands = models.JSONField(
        default=list,
        blank=True,
        help_text=_(
            "Ink that no line box covered when the page was last read: "
            '[{"box": [left, top, right, bottom], "dismissed": false}, …].'
        ),
        verbose_name=_("missing bands"),
    )
    ocr_seconds = models.FloatField(null=True, blank=True, verbose_name=_("ocr seconds"))
    ocr_finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("ocr finished at"))

    objects: ClassVar[PageQuerySet] = PageQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("page")
        verbose_name_plural = _("pages")
        ordering: ClassVar = ["document", "number"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["document", "number"], name="page_number_unique")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["ocr_status", "queued_at"],
                condition=Q(ocr_status__in=["queued", "running"]),
                name="page_pending_idx",
            )
        ]

    def __str__(self) -> str:
        return _("%(document)s · page %(number)s") % {
            "document": self.document,
            "number": self.number,
        }

    @property
    def is_ocr_pending(self) -> bool:
        return self.ocr_status in (OcrStatus.QUEUED, OcrStatus.RUNNING)


class LineQuerySet(DocumentRowQuerySet["Line"]):
    document_path = "page__document__"

    def owned_by(self, user: User) -> LineQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(page__document__owner=user)

    def visible_to(self, user: User) -> LineQuerySet:
        """Lines of the person's documents, pool lines handed to them or labelled by them, and
        what they may see as a moderator (`for_moderation`)."""
        if not user.is_authenticated:
            return self.none()
        leased = Assignment.objects.filter(line=models.OuterRef("pk"), user=user)
        labelled = Transcription.objects.filter(line=models.OuterRef("pk"), user=user)
        handed = Q(in_pool=True) & (models.Exists(leased) | models.Exists(labelled))
        return self.filter(Q(page__document__owner=user) | handed) | self.for_moderation(user)


class Line(models.Model):
    page = models.ForeignKey(
        Page, on_delete=models.CASCADE, related_name="lines", verbose_name=_("page")
    )
    order = models.PositiveIntegerField(
        help_text=_("Reading order on the page, from 1."), verbose_name=_("order")
    )
    left = models.PositiveIntegerField(verbose_name=_("left"))
    top = models.PositiveIntegerField(verbose_name=_("top"))
    right = models.PositiveIntegerField(verbose_name=_("right"))
    bottom = models.PositiveIntegerField(verbose_name=_("bottom"))
    prediction = models.TextField(blank=True, verbose_name=_("prediction"))
    confidence = models.FloatField(
        default=0.0,
        help_text=_("Tesseract's mean word confidence, 0–100."),
        verbose_name=_("confidence"),
    )
    predicted_by = models.ForeignKey(
        OcrModel, null=True, blank=True, on_delete=models.SET_NULL, verbose_name=_("predicted by")
    )
    provenance = models.CharField(
        max_length=10,
        choices=LineProvenance.choices,
        default=LineProvenance.OCR,
        verbose_name=_("provenance"),
    )
    status = models.CharField(
        max_length=10, choices=LineStatus.choices, default=LineStatus.OPEN, verbose_name=_("status")
    )
    consensus_text = models.TextField(blank=True, verbose_name=_("consensus text"))
    agreement = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Share of counted labels in the agreeing group."),
        verbose_name=_("agreement"),
    )
    # The queue's working state, kept on the row so that claiming a line is one indexed scan.
    in_pool = models.BooleanField(
        default=False, help_text=_("Its document is in the pool."), verbose_name=_("in pool")
    )
    label_count = models.PositiveIntegerField(
        default=0, help_text=_("Transcriptions so far."), verbose_name=_("label count")
    )
    labels_wanted = models.PositiveIntegerField(
        default=2,
        help_text=_("Transcriptions the line needs in all, as agreement stands now."),
        verbose_name=_("labels wanted"),
    )
    blind_next = models.BooleanField(
        default=False,
        help_text=_(
            "The next label must be blind: so far only people keeping the prediction agree."
        ),
        verbose_name=_("blind next"),
    )
    gold_text = models.TextField(
        blank=True,
        help_text=_("A known answer: the line is then a gold line that tests labelers."),
        verbose_name=_("gold text"),
    )
    flag = models.CharField(
        max_length=20,
        choices=SkipReason.choices,
        blank=True,
        help_text=_("Why labelers sent it to a moderator."),
        verbose_name=_("flag"),
    )
    needs_reading = models.BooleanField(
        default=False,
        help_text=_("Its box is new or changed: Tesseract reads it again (its page's job)."),
        verbose_name=_("needs reading"),
    )

    objects: ClassVar[LineQuerySet] = LineQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("line")
        verbose_name_plural = _("lines")
        ordering: ClassVar = ["page", "order"]
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["page", "order"], name="line_order_unique")
        ]
        indexes: ClassVar = [
            models.Index(
                fields=["confidence", "id"],
                condition=Q(status="open", in_pool=True),
                name="line_queue_idx",
            ),
            # Gold lines are a handful among millions: without it, each gold claim (about one
            # in twenty) read the whole table, 110 ms on a million lines.
            models.Index(
                fields=["id"],
                condition=Q(in_pool=True) & ~Q(gold_text=""),
                name="line_gold_idx",
            ),
            # The admin's review filter: lines by status (and flag), each count capped at a
            # page's worth; without it a rare status was a scan of every line (migration 0020).
            models.Index(fields=["status", "flag"], name="line_review_idx"),
        ]
        permissions: ClassVar = [("moderate_line", "Can moderate lines (approve, edit, reject)")]

    def __str__(self) -> str:
        return _("%(page)s · line %(order)s") % {"page": self.page, "order": self.order}

    @property
    def bbox(self) -> BBox:
        return BBox(self.left, self.top, self.right, self.bottom)

    @property
    def crop_key(self) -> str:
        """Changes with the box: added to the crop's address, so a browser's cached crop of
        the old box is never shown for the new one."""
        return f"{self.left}-{self.top}-{self.right}-{self.bottom}"

    @property
    def width(self) -> int:
        return self.bbox.width

    @property
    def height(self) -> int:
        return self.bbox.height

    @property
    def is_decided(self) -> bool:
        return self.status in (LineStatus.APPROVED, LineStatus.REJECTED)

    @property
    def is_gold(self) -> bool:
        return bool(self.gold_text)


class TranscriptionQuerySet(DocumentRowQuerySet["Transcription"]):
    document_path = "line__page__document__"


class Transcription(models.Model):
    """One person's reading of one line, stored as typed (NFC)."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="transcriptions", verbose_name=_("line")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="transcriptions",
        verbose_name=_("user"),
    )
    text = models.TextField(verbose_name=_("text"))
    kept_prediction = models.BooleanField(
        help_text=_("True when the person confirmed Tesseract's reading unchanged."),
        verbose_name=_("kept prediction"),
    )
    seconds_spent = models.FloatField(default=0.0, verbose_name=_("seconds spent"))
    blind = models.BooleanField(
        default=False,
        help_text=_("The labeler did not see Tesseract's reading."),
        verbose_name=_("blind"),
    )
    counts = models.BooleanField(
        default=True,
        help_text=_(
            "False when the labeler was held back by their gold accuracy or banned, or the "
            "line was reopened after it."
        ),
        verbose_name=_("counts"),
    )
    box_changed = models.BooleanField(
        default=False,
        help_text=_("The line's box changed after this text was typed: check it."),
        verbose_name=_("box changed"),
    )
    # Kept up to date with the line's consensus and status by `review.verdicts`, so that
    # histories and reports count in SQL instead of comparing texts per request.
    verdict = models.CharField(
        max_length=10,
        choices=LabelVerdict.choices,
        default=LabelVerdict.PENDING,
        help_text=_("Against the line's consensus once the line is agreed or approved."),
        verbose_name=_("verdict"),
    )
    as_predicted = models.BooleanField(
        default=False,
        help_text=_("The text is exactly Tesseract's reading of the line when it was saved."),
        verbose_name=_("as predicted"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    updated_at = models.DateTimeField(auto_now=True, verbose_name=_("updated at"))

    objects: ClassVar[TranscriptionQuerySet] = TranscriptionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("label")
        verbose_name_plural = _("labels")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["line", "user"], name="one_transcription_per_user")
        ]
        indexes: ClassVar = [
            # "My labels", newest first, a page at a time.
            models.Index(fields=["user", "-created_at", "-id"], name="label_user_recent_idx"),
        ]

    def __str__(self) -> str:
        return _("%(user)s on %(line)s") % {"user": self.user, "line": self.line}


class Assignment(models.Model):
    """A time-limited lease of a line to a labeler, so that concurrent labelers never get the
    same line beyond what it still needs."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("line")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="assignments",
        verbose_name=_("user"),
    )
    blind = models.BooleanField(default=False, verbose_name=_("blind"))
    state = models.CharField(
        max_length=10,
        choices=AssignmentState.choices,
        default=AssignmentState.ACTIVE,
        verbose_name=_("state"),
    )
    skip_reason = models.CharField(
        max_length=20, choices=SkipReason.choices, blank=True, verbose_name=_("skip reason")
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    expires_at = models.DateTimeField(verbose_name=_("expires at"))

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes: ClassVar = [
            models.Index(fields=["line", "state", "expires_at"], name="assignment_active_idx"),
            models.Index(fields=["user", "state"], name="assignment_user_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.line} → {self.user} ({self.state})"


class ModerationAction(models.TextChoices):
    APPROVE = "approve", _("Approved")
    REJECT = "reject", _("Rejected")
    REOPEN = "reopen", _("Reopened")
    MAKE_GOLD = "make_gold", _("Made a gold line")
    FLAG = "flag", _("Flagged by labelers' skips")
    IMPORT = "import", _("Imported as checked ground truth")
    BOX = "box", _("Its box changed: back for labels")
    AUTO_APPROVE = "auto", _("Approved automatically")
    BAN = "ban", _("A labeler was banned: back for labels")


class ModerationDecisionQuerySet(DocumentRowQuerySet["ModerationDecision"]):
    document_path = "line__page__document__"


class ModerationDecision(models.Model):
    """A decision that changed a line's state, kept as the line's history: a moderator's, or
    (without a moderator) one the labelers' skips took."""

    line = models.ForeignKey(
        Line, on_delete=models.CASCADE, related_name="decisions", verbose_name=_("line")
    )
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="decisions",
        help_text=_("Empty when no moderator took it (e.g. labelers' skips flagged the line)."),
        verbose_name=_("moderator"),
    )
    action = models.CharField(
        max_length=10, choices=ModerationAction.choices, verbose_name=_("action")
    )
    from_status = models.CharField(
        max_length=10,
        choices=LineStatus.choices,
        blank=True,
        help_text=_("The line's status before the decision."),
        verbose_name=_("from status"),
    )
    text = models.TextField(
        blank=True, help_text=_("The approved text, or the gold answer."), verbose_name=_("text")
    )
    reason = models.TextField(blank=True, verbose_name=_("reason"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    objects: ClassVar[ModerationDecisionQuerySet] = ModerationDecisionQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        verbose_name = _("moderation decision")
        verbose_name_plural = _("moderation decisions")
        ordering: ClassVar = ["-created_at", "-pk"]
        indexes: ClassVar = [
            # The admin's list, newest first, a page at a time (migration 0020).
            models.Index(fields=["-created_at", "-id"], name="decision_recent_idx"),
        ]

    def __str__(self) -> str:
        return _("%(action)s %(line)s by %(who)s") % {
            "action": self.get_action_display(),
            "line": self.line,
            "who": self.moderator or _("labelers"),
        }


class BoxAction(models.TextChoices):
    ADD = "add", _("add a line")
    MOVE = "move", _("move a box")
    SPLIT = "split", _("split a line")
    MERGE = "merge", _("merge two lines")
    DELETE = "delete", _("delete a line")
    ORDER = "order", _("change the reading order")
    DISMISS = "dismiss", _("mark ink as not text")
    REREAD = "reread", _("read the page again")


class BoxEditQuerySet(DocumentRowQuerySet["BoxEdit"]):
    document_path = "page__document__"


class BoxEdit(models.Model):
    """One change to a page's line boxes, with the page's lines as they were before it, so that
    the latest change can be undone (`labeling.boxes.undo`)."""

    page = models.ForeignKey(
        Page, on_delete=models.CASCADE, related_name="box_edits", verbose_name=_("page")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("user"),
    )
    action = models.CharField(max_length=10, choices=BoxAction.choices, verbose_name=_("action"))
    line_number = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text=_("The line it was about, by its order then."),
        verbose_name=_("line number"),
    )
    before = models.JSONField(
        help_text=_("The page's lines, their people's texts and its ink bands before the change."),
        verbose_name=_("before"),
    )
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    undone_at = models.DateTimeField(null=True, blank=True, verbose_name=_("undone at"))
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("undone by"),
    )

    objects: ClassVar[BoxEditQuerySet] = BoxEditQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        verbose_name = _("box edit")

    def __str__(self) -> str:
        return f"{self.get_action_display()} · {self.page}"


class LineStatusCount(models.Model):
    """How many lines of pool documents were in a status on a day (local time): the staff
    dashboard's history. Written by `dashboards.record_status_counts`, last run of the day
    wins."""

    day = models.DateField(verbose_name=_("day"))
    status = models.CharField(max_length=10, choices=LineStatus.choices, verbose_name=_("status"))
    count = models.PositiveIntegerField(verbose_name=_("count"))
    recorded_at = models.DateTimeField(verbose_name=_("recorded at"))

    class Meta:
        verbose_name = _("line status count")
        verbose_name_plural = _("line status counts")
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["day", "status"], name="line_status_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.status}: {self.count}"


class GoldScore(models.Model):
    """A labeler's record on gold lines; below the bar their labels stop counting."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="gold_score",
        verbose_name=_("user"),
    )
    seen = models.PositiveIntegerField(default=0, verbose_name=_("seen"))
    correct = models.PositiveIntegerField(default=0, verbose_name=_("correct"))
    held_back = models.BooleanField(
        default=False,
        help_text=_("Labels do not count towards agreement until a moderator clears it."),
        verbose_name=_("held back"),
    )
    cleared_at = models.DateTimeField(null=True, blank=True, verbose_name=_("cleared at"))
    cleared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("The moderator who last cleared the hold."),
        verbose_name=_("cleared by"),
    )

    class Meta:
        verbose_name = _("gold score")
        verbose_name_plural = _("gold scores")

    def __str__(self) -> str:
        return f"{self.user}: {self.correct}/{self.seen}"

    @property
    def accuracy(self) -> float | None:
        return self.correct / self.seen if self.seen else None


class LabelerBanQuerySet(models.QuerySet["LabelerBan"]):
    def active(self) -> LabelerBanQuerySet:
        return self.filter(lifted_at__isnull=True)


class LabelerBan(models.Model):
    """A moderator stopped a person's labelling: their labels stop counting and the queue
    hands them nothing, until the ban is lifted (kept as a record either way)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="labeler_bans",
        verbose_name=_("user"),
    )
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("banned by"),
    )
    reason = models.TextField(verbose_name=_("reason"))
    created_at = models.DateTimeField(default=timezone.now, verbose_name=_("created at"))
    lines_reopened = models.PositiveIntegerField(
        default=0,
        help_text=_("Lines whose status changed when the person's labels stopped counting."),
        verbose_name=_("lines reopened"),
    )
    lifted_at = models.DateTimeField(null=True, blank=True, verbose_name=_("lifted at"))
    lifted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("lifted by"),
    )

    objects: ClassVar[LabelerBanQuerySet] = LabelerBanQuerySet.as_manager()  # type: ignore[assignment]

    class Meta:
        ordering: ClassVar = ["-created_at", "-pk"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["user"], condition=Q(lifted_at__isnull=True), name="one_active_ban"
            )
        ]
        verbose_name = _("labeler ban")

    def __str__(self) -> str:
        return f"{self.user} ({timezone.localtime(self.created_at):%Y-%m-%d})"

    @property
    def is_active(self) -> bool:
        return self.lifted_at is None


class Labeler(User):
    """A person as moderators see them: their labels, agreement, gold record and bans."""

    class Meta:
        proxy = True
        verbose_name = _("labeler")
        verbose_name_plural = _("labelers")


class OutgoingEmail(Job):
    """An e-mail waiting to be sent, kept until the mail server has taken it.

    Pages only write this row (and hand its id to the broker after commit); a worker sends it
    with a timeout on every SMTP call and tries again with growing pauses, for hours, so a
    mail server that is down or hangs never fails a request and never loses a message.
    """

    subject = models.CharField(max_length=998, verbose_name=_("subject"))
    from_email = models.CharField(max_length=320, verbose_name=_("from email"))
    to = models.JSONField(default=list, verbose_name=_("to"))
    cc = models.JSONField(default=list, blank=True, verbose_name=_("cc"))
    bcc = models.JSONField(default=list, blank=True, verbose_name=_("bcc"))
    reply_to = models.JSONField(default=list, blank=True, verbose_name=_("reply to"))
    headers = models.JSONField(default=dict, blank=True, verbose_name=_("headers"))
    body = models.TextField(blank=True, verbose_name=_("body"))
    alternatives = models.JSONField(
        default=list,
        blank=True,
        help_text=_("[[content, mimetype], …], e.g. the HTML body."),
        verbose_name=_("alternatives"),
    )
    attachments = models.JSONField(
        default=list,
        blank=True,
        help_text=_("[[filename, base64 content, mimetype], …]."),
        verbose_name=_("attachments"),
    )
    status = models.CharField(
        max_length=10,
        choices=MailStatus.choices,
        default=MailStatus.QUEUED,
        verbose_name=_("status"),
    )
    error = models.TextField(
        blank=True, help_text=_("The last failure, kept while it retries."), verbose_name=_("error")
    )
    sent_at = models.DateTimeField(null=True, blank=True, verbose_name=_("sent at"))
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))

    class Meta:
        ordering: ClassVar = ["-created_at"]
        indexes: ClassVar = [
            models.Index(
                fields=["status", "queued_at"],
                condition=Q(status__in=["queued", "running"]),
                name="mail_pending_idx",
            )
        ]
        verbose_name = _("outgoing e-mail")

    def __str__(self) -> str:
        return f"{self.subject} → {', '.join(self.to)}"


class PendingFile(models.Model):
    """A file in storage that no committed row may reference yet, or any more.

    Written (and committed) before a file is stored, and deleted in the same transaction as
    the row that comes to reference it; for a file whose row is deleted, written in that
    transaction. What stays longer than a grace period is an orphan — the process died, or
    its transaction rolled back — and the sweep deletes the file.
    """

    name = models.CharField(max_length=255, db_index=True, verbose_name=_("name"))
    created_at = models.DateTimeField(
        default=timezone.now, db_index=True, verbose_name=_("created at")
    )

    class Meta:
        verbose_name = _("pending file")
        verbose_name_plural = _("pending files")

    def __str__(self) -> str:
        return self.name


class PrivateAccess(models.Model):
    """A superuser opened a row of someone else's private document: who, what, where, when.

    Written, never edited: the owner was promised that their private document stays private.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("user")
    )
    what = models.CharField(
        max_length=100, help_text=_("The kind of row, e.g. labeling.line."), verbose_name=_("what")
    )
    object_id = models.PositiveBigIntegerField(verbose_name=_("object id"))
    path = models.TextField(help_text=_("The address that was opened."), verbose_name=_("path"))
    at = models.DateTimeField(default=timezone.now, db_index=True, verbose_name=_("at"))

    class Meta:
        ordering: ClassVar = ["-at", "-pk"]
        verbose_name = _("private access")
        verbose_name_plural = _("private accesses")

    def __str__(self) -> str:
        return _("%(user)s opened %(what)s %(id)s") % {
            "user": self.user,
            "what": self.what,
            "id": self.object_id,
        }


class ReleaseStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be built")
    RUNNING = "running", _("Being built")
    DONE = "done", _("Published")
    FAILED = "failed", _("Failed")


class DatasetRelease(Job):
    """A numbered, immutable set of line-image/text pairs in tesstrain's layout, as one zip.

    The row is written once with what it selects (documents, statuses, eval share, seed,
    normalized text or raw); the build fills in the rest once and publishes the zip. Only pool
    documents with a licence and their owner's consent are ever exported.
    """

    number = models.PositiveIntegerField(
        unique=True, help_text=_("Release 1, 2, 3 …"), verbose_name=_("number")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="releases",
        verbose_name=_("created by"),
    )
    documents = models.ManyToManyField(
        Document,
        blank=True,
        related_name="releases",
        help_text=_("Pool documents to export; none chosen: every eligible pool document."),
        verbose_name=_("documents"),
    )
    statuses = models.JSONField(
        default=list,
        help_text=_("Line statuses exported (gold lines count as approved)."),
        verbose_name=_("statuses"),
    )
    eval_share = models.FloatField(
        default=0.1,
        help_text=_("Share of documents held out for evaluation (list.eval)."),
        verbose_name=_("eval share"),
    )
    seed = models.PositiveIntegerField(
        default=0, help_text=_("Makes the split reproducible."), verbose_name=_("seed")
    )
    normalized = models.BooleanField(
        default=False,
        help_text=_("Write texts after the Ottoman normalization instead of as typed (raw)."),
        verbose_name=_("normalized"),
    )
    notes = models.TextField(blank=True, verbose_name=_("notes"))
    status = models.CharField(
        max_length=10,
        choices=ReleaseStatus.choices,
        default=ReleaseStatus.QUEUED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    lines_done = models.PositiveIntegerField(default=0, verbose_name=_("lines done"))
    lines_total = models.PositiveIntegerField(default=0, verbose_name=_("lines total"))
    file = models.FileField(
        upload_to="releases/", max_length=255, blank=True, verbose_name=_("file")
    )
    sha256 = models.CharField(
        max_length=64, blank=True, help_text=_("Of the whole zip."), verbose_name=_("sha256")
    )
    size = models.PositiveBigIntegerField(default=0, verbose_name=_("size"))
    summary = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("Counts: documents, lines, train and eval lines, characters."),
        verbose_name=_("summary"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("dataset release")
        verbose_name_plural = _("dataset releases")
        ordering: ClassVar = ["-number"]

    def __str__(self) -> str:
        return _("Release %(number)d") % {"number": self.number}


class TrainingStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to train")
    RUNNING = "running", _("Training")
    DONE = "done", _("Trained")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class TrainingRun(Job):
    """Fine-tuning a float Tesseract model on a release; its result becomes an OcrModel.

    One run trains at a time. A run whose worker dies fails with a message (it is not started
    again by itself: start a new one).
    """

    MAX_LOST_RUNS: ClassVar[int] = 1

    release = models.ForeignKey(
        DatasetRelease, on_delete=models.PROTECT, related_name="runs", verbose_name=_("release")
    )
    start_model = models.ForeignKey(
        OcrModel, on_delete=models.PROTECT, related_name="+", verbose_name=_("start model")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="training_runs",
        verbose_name=_("created by"),
    )
    max_iterations = models.PositiveIntegerField(default=10000, verbose_name=_("max iterations"))
    max_minutes = models.PositiveIntegerField(
        default=60,
        help_text=_("Training stops after this long, keeping what it learnt."),
        verbose_name=_("max minutes"),
    )
    learning_rate = models.FloatField(default=0.0001, verbose_name=_("learning rate"))
    synthetic_ratio = models.FloatField(
        _("rendered lines per real line"),
        default=0.0,
        help_text=_(
            "Lines rendered from the training texts in Debian's naskh fonts, per real training "
            "line (0: none)."
        ),
    )
    status = models.CharField(
        max_length=10,
        choices=TrainingStatus.choices,
        default=TrainingStatus.QUEUED,
        verbose_name=_("status"),
    )
    error = models.TextField(blank=True, verbose_name=_("error"))
    cancel_requested = models.BooleanField(default=False, verbose_name=_("cancel requested"))
    iteration = models.PositiveIntegerField(default=0, verbose_name=_("iteration"))
    training_error = models.FloatField(
        null=True,
        blank=True,
        help_text=_("Character error on the training lines (BCER), 0–1."),
        verbose_name=_("training error"),
    )
    elapsed_seconds = models.FloatField(default=0.0, verbose_name=_("elapsed seconds"))
    curve = models.JSONField(
        default=list,
        blank=True,
        help_text=_("[[iteration, training error, seconds], …]"),
        verbose_name=_("curve"),
    )
    evaluation = models.JSONField(
        default=dict,
        blank=True,
        help_text=_("CER and WER, raw and normalized, per document: start model and result."),
        verbose_name=_("evaluation"),
    )
    log_tail = models.TextField(blank=True, verbose_name=_("log tail"))
    result = models.ForeignKey(
        OcrModel,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trained_by",
        verbose_name=_("result"),
    )
    created_at = models.DateTimeField(auto_now_add=True, verbose_name=_("created at"))
    finished_at = models.DateTimeField(null=True, blank=True, verbose_name=_("finished at"))

    class Meta:
        verbose_name = _("training run")
        verbose_name_plural = _("training runs")
        ordering: ClassVar = ["-created_at"]

    def __str__(self) -> str:
        return _("Training %(pk)s on %(release)s") % {"pk": self.pk, "release": self.release}


class DocumentLineCounts(models.Model):
    """How many of a document's lines there are, open and agreed: kept by database triggers on
    labeling_line (migration 0021), so that a list of 100,000 documents sorts by them without
    counting a million lines per request. No foreign-key constraint: the row goes with its
    document through a trigger too, after the document's lines (which Django deletes first)."""

    document = models.OneToOneField(
        Document,
        primary_key=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="line_counts",
        verbose_name=_("document"),
    )
    lines = models.IntegerField(default=0, verbose_name=_("lines"))
    open_lines = models.IntegerField(
        default=0, verbose_name=_("open lines")
    )  # open and not gold: lines that need labels
    agreed_lines = models.IntegerField(
        default=0, verbose_name=_("agreed lines")
    )  # agreed or approved

    class Meta:
        verbose_name = _("document line counts")
        verbose_name_plural = _("document line counts")
        indexes = (
            models.Index(models.F("open_lines").desc(), "document", name="doc_counts_open_idx"),
        )

    def __str__(self) -> str:
        return f"{self.document_id}: {self.open_lines} open, {self.agreed_lines} agreed"
