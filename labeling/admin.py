"""The Django admin: where moderators work the queue of agreed, disputed and flagged lines."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from accounts.models import User
from labeling.models import (
    Document,
    GoldScore,
    Line,
    LineStatus,
    ModerationDecision,
    OcrModel,
    Page,
    Transcription,
)
from labeling.review.moderation import (
    ModerationRefused,
    approve_line,
    clear_hold,
    reject_line,
    reopen_line,
)


@admin.register(OcrModel)
class OcrModelAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "is_default", "created_at")
    list_filter = ("is_default",)


class PageInline(admin.TabularInline):
    model = Page
    fields = ("number", "source_name", "width", "height", "ocr_status", "ocr_error")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ("title", "owner", "visibility", "license", "labels_needed", "created_at")
    list_filter = ("visibility", "license")
    search_fields = ("title", "owner__email")
    raw_id_fields = ("owner",)
    inlines = (PageInline,)


@admin.register(Page)
class PageAdmin(admin.ModelAdmin):
    list_display = ("__str__", "ocr_status", "ocr_model", "ocr_seconds", "ocr_finished_at")
    list_filter = ("ocr_status",)
    search_fields = ("document__title", "sha256")
    raw_id_fields = ("document",)


class TranscriptionInline(admin.TabularInline):
    model = Transcription
    fields = ("user", "text", "kept_prediction", "blind", "counts", "seconds_spent", "updated_at")
    readonly_fields = fields
    extra = 0
    can_delete = False


class DecisionInline(admin.TabularInline):
    model = ModerationDecision
    fields = ("created_at", "moderator", "action", "text", "reason")
    readonly_fields = fields
    extra = 0
    can_delete = False


def _moderator(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@admin.register(Line)
class LineAdmin(admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "flag",
        "consensus",
        "agreement",
        "label_count",
        "confidence",
    )
    list_filter = ("status", "flag", "in_pool")
    search_fields = ("prediction", "consensus_text", "page__document__title")
    raw_id_fields = ("page", "predicted_by")
    readonly_fields = (
        "crop",
        "prediction",
        "confidence",
        "label_count",
        "labels_wanted",
        "agreement",
    )
    fields = (
        "crop",
        "page",
        "order",
        "status",
        "flag",
        "prediction",
        "confidence",
        "consensus_text",
        "agreement",
        "label_count",
        "labels_wanted",
        "gold_text",
    )
    inlines = (TranscriptionInline, DecisionInline)
    actions = ("approve", "reject_unusable", "reopen", "make_gold")

    @admin.display(description="consensus")
    def consensus(self, line: Line) -> str:
        return format_html('<span dir="rtl" lang="ota">{}</span>', line.consensus_text)

    @admin.display(description="line image")
    def crop(self, line: Line) -> str:
        from django.urls import reverse

        return format_html(
            '<img src="{}" alt="line image" style="max-width:100%">',
            reverse("labeling:line_crop", args=[line.pk]),
        )

    def _each(self, request: HttpRequest, lines: QuerySet[Line], act: object, verb: str) -> None:
        done = 0
        for line in lines:
            try:
                act(line)  # type: ignore[operator]
                done += 1
            except ModerationRefused as exc:
                self.message_user(request, str(exc), messages.WARNING)
        self.message_user(request, f"{verb} {done} line(s).", messages.SUCCESS)

    @admin.action(description="Approve with their consensus text", permissions=["moderate"])
    def approve(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        mod = _moderator(request)
        self._each(request, lines, lambda ln: approve_line(line=ln, moderator=mod), "Approved")

    @admin.action(description="Reject as unusable for training", permissions=["moderate"])
    def reject_unusable(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        mod = _moderator(request)
        self._each(
            request,
            lines,
            lambda ln: reject_line(line=ln, moderator=mod, reason="Unusable for training"),
            "Rejected",
        )

    @admin.action(description="Reopen for fresh labels", permissions=["moderate"])
    def reopen(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        mod = _moderator(request)
        self._each(request, lines, lambda ln: reopen_line(line=ln, moderator=mod), "Reopened")

    @admin.action(
        description="Use as gold lines (their approved text is the answer)",
        permissions=["moderate"],
    )
    def make_gold(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        updated = lines.filter(status=LineStatus.APPROVED).exclude(consensus_text="")
        count = 0
        for line in updated:
            line.gold_text = line.consensus_text
            line.save(update_fields=["gold_text"])
            count += 1
        self.message_user(request, f"{count} approved line(s) are now gold lines.")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labeling.moderate_line")

    def save_model(self, request: HttpRequest, obj: Line, form: object, change: bool) -> None:
        # Approving by editing: a moderator who sets the status to approved goes through the
        # same function as the action, so the decision is recorded.
        if change and obj.status == LineStatus.APPROVED and "status" in form.changed_data:  # type: ignore[attr-defined]
            text = obj.consensus_text
            super().save_model(request, obj, form, change)  # type: ignore[arg-type]
            approve_line(line=obj, moderator=_moderator(request), text=text)
            return
        super().save_model(request, obj, form, change)  # type: ignore[arg-type]


@admin.register(GoldScore)
class GoldScoreAdmin(admin.ModelAdmin):
    list_display = ("user", "seen", "correct", "accuracy", "held_back", "cleared_at")
    list_filter = ("held_back",)
    search_fields = ("user__email",)
    actions = ("clear",)

    @admin.action(description="Clear the hold: their labels count again", permissions=["moderate"])
    def clear(self, request: HttpRequest, scores: QuerySet[GoldScore]) -> None:
        for score in scores:
            clear_hold(score=score)
        self.message_user(request, f"Cleared {scores.count()} labeler(s).")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labeling.moderate_line")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(admin.ModelAdmin):
    list_display = ("created_at", "line", "moderator", "action", "text", "reason")
    list_filter = ("action",)
    raw_id_fields = ("line", "moderator")
