"""What the API answers and accepts. Output serializers read rows the views fetched (scoped);
input serializers only check shapes: the domain functions and the site's forms decide."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from labeling.models import (
    DatasetRelease,
    Document,
    Line,
    OcrModel,
    Page,
    SkipReason,
    TrainingRun,
    Transcription,
    Visibility,
)

# ------------------------------------------------------------------------------ errors


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class RefusalSerializer(serializers.Serializer):
    """A refusal from a domain function: the message and a code a client may react to."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class TextRefusedSerializer(serializers.Serializer):
    """A refused text; a body that is no text at all gets field errors instead."""

    text = serializers.ListField(child=serializers.CharField(), required=False)
    code = serializers.CharField(required=False)
    suggested_text = serializers.CharField(
        required=False, help_text=_("The text to check and send again, when there is one.")
    )


class BoxErrorSerializer(serializers.Serializer):
    error = serializers.CharField()


# ------------------------------------------------------------------------------ people


class TokenRequestSerializer(serializers.Serializer):
    email = serializers.CharField(max_length=254)
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    name = serializers.CharField(max_length=100, required=False, default="API")


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text=_("Shown once: it is stored hashed."))
    id = serializers.IntegerField()
    name = serializers.CharField()


class MeSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    email = serializers.EmailField()
    display_name = serializers.CharField()
    is_staff = serializers.BooleanField()
    is_moderator = serializers.SerializerMethodField()

    def get_is_moderator(self, user: Any) -> bool:
        return bool(user.has_perm("labeling.moderate_line"))


# ------------------------------------------------------------------------------ documents


class _DocumentBase(serializers.ModelSerializer):
    """A document with the counts the views annotate (`api.views.documents_with_counts`)."""

    pages_read = serializers.IntegerField()
    pages_failed = serializers.IntegerField()
    pending = serializers.IntegerField(
        help_text=_("Pages waiting for Tesseract or being read, and pages still to prepare.")
    )
    lines = serializers.IntegerField(source="line_count")
    lines_done = serializers.IntegerField(help_text=_("Lines you have transcribed."))

    class Meta:
        model = Document
        fields: tuple[str, ...] = (
            "id",
            "title",
            "visibility",
            "license",
            "created_at",
            "pages",
            "pages_read",
            "pages_failed",
            "pending",
            "lines",
            "lines_done",
        )


class DocumentSerializer(_DocumentBase):
    pages = serializers.IntegerField(source="page_count")


class PageSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    status = serializers.CharField()
    status_label = serializers.CharField()
    error = serializers.CharField()
    lines = serializers.IntegerField()
    missing_lines = serializers.IntegerField(
        help_text=_("Ink no line box covers: lines Tesseract may have missed.")
    )
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class SourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    progress = serializers.CharField()
    error = serializers.CharField()


class DuplicateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text=_("The uploaded file's name."))
    document = serializers.IntegerField(help_text=_("Your document that already holds it."))
    page = serializers.IntegerField(allow_null=True)


class DocumentDetailSerializer(_DocumentBase):
    """The list's fields, but `pages` lists the pages (their count is `page_count`)."""

    pages = PageSummarySerializer(many=True, source="api_pages")
    page_count = serializers.IntegerField()
    sources = SourceSerializer(many=True, source="api_sources")
    done = serializers.BooleanField(source="api_done", help_text=_("No page or file pending."))

    class Meta(_DocumentBase.Meta):
        fields = (*_DocumentBase.Meta.fields, "page_count", "sources", "done")


class CreatedDocumentSerializer(DocumentDetailSerializer):
    duplicates = DuplicateSerializer(many=True, source="api_duplicates")

    class Meta(DocumentDetailSerializer.Meta):
        fields = (*DocumentDetailSerializer.Meta.fields, "duplicates")


class UploadSerializer(serializers.Serializer):
    """The upload form's fields (for the schema; the site's UploadForm checks them)."""

    title = serializers.CharField(max_length=200)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PRIVATE)
    license = serializers.CharField(required=False, help_text=_("Needed for the pool."))
    consent = serializers.BooleanField(
        required=False,
        help_text=_("Needed for the pool: you may share these scans under the licence."),
    )
    scans = serializers.ListField(child=serializers.FileField())


# ------------------------------------------------------------------------------ pages and lines


@extend_schema_field({"type": "array", "items": {"type": "integer"}, "minItems": 4, "maxItems": 4})
class BoxField(serializers.Field):
    def to_representation(self, value: Any) -> list[int]:
        return [value.left, value.top, value.right, value.bottom]


class LineSerializer(serializers.ModelSerializer):
    """A line; `prediction` is null on a pool line leased to you blind, and `my_text` is
    your transcription (set by the view: `api_my_text`, `api_blind`)."""

    page = serializers.IntegerField(source="page_id")
    box = BoxField(source="bbox")
    prediction = serializers.SerializerMethodField()
    crop = serializers.SerializerMethodField()
    my_text = serializers.SerializerMethodField()

    class Meta:
        model = Line
        fields = (
            "id",
            "page",
            "order",
            "box",
            "prediction",
            "confidence",
            "status",
            "needs_reading",
            "crop",
            "my_text",
        )

    def get_prediction(self, line: Line) -> str | None:
        return None if getattr(line, "api_blind", False) else line.prediction

    def get_crop(self, line: Line) -> str:
        return crop_url(self.context, line)

    def get_my_text(self, line: Line) -> str | None:
        return getattr(line, "api_my_text", None)


def crop_url(context: dict[str, Any], line: Line) -> str:
    """The crop's absolute address; its query changes with the box, so no cache shows an old
    crop for a new box."""
    path = reverse("api:line_crop", args=[line.pk]) + f"?box={line.crop_key}"
    request = context.get("request")
    return request.build_absolute_uri(path) if request is not None else path


class BandSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="index")
    box = BoxField()


class PageSerializer(serializers.ModelSerializer):
    status = serializers.CharField(source="ocr_status")
    lines = LineSerializer(many=True, source="api_lines")
    bands = BandSerializer(many=True, source="api_bands")

    class Meta:
        model = Page
        fields = ("id", "number", "width", "height", "status", "lines", "bands")


class BoxStateSerializer(serializers.Serializer):
    """The page editor's state after a change (as `labeling:page_box_edit` answers)."""

    page = serializers.DictField()
    lines = serializers.ListField(child=serializers.DictField())
    bands = serializers.ListField(child=serializers.DictField())
    missing_label = serializers.CharField()
    message = serializers.CharField()
    selected = serializers.IntegerField(allow_null=True)


# ------------------------------------------------------------------------------ transcriptions


class TranscriptionInSerializer(serializers.Serializer):
    text = serializers.CharField(allow_blank=True, trim_whitespace=False, max_length=10_000)
    seconds = serializers.FloatField(required=False, default=0.0, min_value=0, max_value=1e9)


class ConfirmInSerializer(serializers.Serializer):
    seconds = serializers.FloatField(required=False, default=0.0, min_value=0, max_value=1e9)


class TranscriptionResultSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id")

    class Meta:
        model = Transcription
        fields = ("line", "text", "kept_prediction", "box_changed")


class MyTranscriptionSerializer(serializers.ModelSerializer):
    line = serializers.IntegerField(source="line_id")

    class Meta:
        model = Transcription
        fields = ("line", "text", "created_at", "updated_at")


# ------------------------------------------------------------------------------ the queue


class NextInSerializer(serializers.Serializer):
    document = serializers.IntegerField(
        required=False, min_value=1, help_text=_("Stay within this pool document.")
    )


class QueueLineSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    crop = serializers.CharField()
    width = serializers.IntegerField()
    height = serializers.IntegerField()


class AssignmentSerializer(serializers.Serializer):
    assignment = serializers.IntegerField()
    expires_at = serializers.DateTimeField()
    blind = serializers.BooleanField()
    resumed = serializers.BooleanField(help_text=_("Your own lease, handed back."))
    line = QueueLineSerializer()
    prediction = serializers.CharField(allow_null=True)
    document_title = serializers.CharField()


class SubmitInSerializer(serializers.Serializer):
    text = serializers.CharField(
        required=False, allow_blank=True, trim_whitespace=False, max_length=10_000, default=""
    )
    seconds = serializers.FloatField(required=False, default=0.0, min_value=0, max_value=1e9)
    allow_latin = serializers.BooleanField(required=False, default=False)
    confirm = serializers.BooleanField(
        required=False, default=False, help_text=_("Keep Tesseract's reading as it stands.")
    )


class SubmittedSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.CharField()
    repeated = serializers.BooleanField(help_text=_("Already submitted: counted once."))


class SkipInSerializer(serializers.Serializer):
    reason = serializers.ChoiceField(choices=SkipReason.choices)


class SkippedSerializer(serializers.Serializer):
    line = serializers.IntegerField()
    status = serializers.CharField()


# ------------------------------------------------------------------------------ staff


class ReleaseSerializer(serializers.ModelSerializer):
    lines = serializers.IntegerField(source="lines_total")
    download = serializers.SerializerMethodField()

    class Meta:
        model = DatasetRelease
        fields = ("id", "number", "status", "lines", "size", "sha256", "created_at", "download")

    @extend_schema_field(OpenApiTypes.URI)
    def get_download(self, release: DatasetRelease) -> str | None:
        if not release.file:
            return None
        path = reverse("api:release_download", args=[release.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class OcrModelSerializer(serializers.ModelSerializer):
    class Meta:
        model = OcrModel
        fields = ("id", "name", "language", "description", "is_default", "trainable", "created_at")


class TrainingRunSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id")
    start_model = serializers.IntegerField(source="start_model_id")
    result = serializers.IntegerField(source="result_id", allow_null=True)

    class Meta:
        model = TrainingRun
        fields = (
            "id",
            "status",
            "release",
            "start_model",
            "max_iterations",
            "max_minutes",
            "learning_rate",
            "synthetic_ratio",
            "iteration",
            "training_error",
            "elapsed_seconds",
            "error",
            "evaluation",
            "result",
            "created_at",
            "finished_at",
        )


class TrainingInSerializer(serializers.Serializer):
    """The admin's start form's fields (for the schema; StartTrainingForm checks them)."""

    release = serializers.IntegerField()
    start_model = serializers.IntegerField()
    max_iterations = serializers.IntegerField(default=10000)
    max_minutes = serializers.IntegerField(default=60)
    learning_rate = serializers.FloatField(default=0.0005)
    synthetic_ratio = serializers.FloatField(required=False)


# ------------------------------------------------------------------------------ cursor pages


def paginated(child: type[serializers.Serializer]) -> type[serializers.Serializer]:
    """The schema of a cursor page of `child` rows (what `api.pagination.Cursor` answers)."""
    base = child.__name__.removesuffix("Serializer")
    return type(
        f"Paginated{base}ListSerializer",
        (serializers.Serializer,),
        {
            "next": serializers.URLField(allow_null=True),
            "previous": serializers.URLField(allow_null=True),
            "results": child(many=True),
        },
    )
