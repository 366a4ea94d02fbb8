"""The Django admin: where moderators work the queue of agreed, disputed and flagged lines.

Moderators see pool documents and their rows only (`for_moderation`); superusers see every
row, and each private row they open is logged (PrivateAccess). State fields are read-only:
lines change only through actions that call `labeling.review.moderation`, so every change is
recorded once, as a ModerationDecision. Actions that need words (a reason, the text, the
answer) ask for them on an intermediate page.

Lines (the workbench) are in `admin_lines`, labelers and bans in `admin_labelers`; documents,
pages, gold scores and the records are here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Count, IntegerField, Model, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from labeling import (  # noqa: F401 - registers the releases', training runs', lines' and labelers' admins
    admin_labelers,
    admin_lines,
    admin_releases,
    admin_training,
    training,
)
from labeling.admin_base import (
    DocumentRowAdmin,
    DocumentRowInline,
    RecordAdmin,
    can_moderate,
    person,
    shown,
)
from labeling.models import (
    Document,
    GoldScore,
    Line,
    LineStatus,
    ModerationDecision,
    OcrModel,
    OcrStatus,
    OutgoingEmail,
    Page,
    PrivateAccess,
    Visibility,
)
from labeling.reading import reread_document, retry_ocr
from labeling.review.moderation import ModerationRefused, clear_hold, withdraw_document
from labeling.review.verdicts import refresh_document_verdicts


@admin.register(OcrModel)
class OcrModelAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "is_default", "trainable", "training_run", "created_at")
    list_select_related = ("training_run__release",)
    list_filter = ("is_default", "trainable")
    # The default changes only through the action, which unsets the previous one with it.
    readonly_fields = ("is_default", "training_run")
    actions = ("make_default",)

    @admin.action(
        description=gettext_lazy("Make the default model for new pages"), permissions=["change"]
    )
    def make_default(self, request: HttpRequest, models: QuerySet[OcrModel]) -> None:
        chosen = list(models[:2])
        if len(chosen) != 1:
            self.message_user(request, _("Choose exactly one model."), messages.ERROR)
            return
        training.make_default(model=chosen[0])
        self.message_user(
            request,
            _("%(model)s is now the default model for new pages.") % {"model": chosen[0]},
            messages.SUCCESS,
        )


class PageInline(DocumentRowInline):
    model = Page
    fields = ("number", "source_name", "width", "height", "ocr_status", "ocr_error")
    readonly_fields = fields
    show_change_link = True


class RereadForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=OcrModel.objects.order_by("name"),
        label=gettext_lazy("Model"),
        empty_label=None,
        help_text=gettext_lazy("The Tesseract model that reads the selected documents again."),
    )


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("Recorded with the withdrawal of every selected document."),
    )


def _lines_of_document(**conditions: object) -> Coalesce:
    """How many of the document's lines meet the conditions, as a subquery (not a join, so
    that counts of pages and lines do not multiply each other)."""
    rows = (
        Line.objects.filter(page__document=OuterRef("pk"), **conditions)
        .order_by()
        .values("page__document")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


# What people outside superusers may change on a document: whether its agreed lines are
# approved automatically (staff). The rest is the owner's choice, made on upload.
_SETTINGS = ("auto_approve", "auto_approve_accuracy", "auto_approve_min_gold")


@admin.register(Document)
class DocumentAdmin(DocumentRowAdmin):
    list_display = (
        "title",
        "owner",
        "visibility",
        "license",
        "labels_needed",
        "progress",
        "in_pool",
        "auto_approve",
        "created_at",
        "exports",
    )
    list_filter = ("visibility", "license", "auto_approve")
    search_fields = ("title", "owner__email")
    # Whose it is and whether it is shared are the owner's choices, made on upload; withdrawal
    # happens only through its action, which records it.
    readonly_fields = (
        "owner",
        "visibility",
        "pool_consent_at",
        "exports",
        "progress",
        "withdrawn_at",
        "withdrawn_by",
        "withdrawal_reason",
    )
    inlines = (PageInline,)
    actions = ("reread", "retry_failed_pages", "withdraw")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return (
            super()
            .get_queryset(request)
            .annotate(
                lines_n=_lines_of_document(),
                agreed_n=_lines_of_document(status=LineStatus.AGREED),
                approved_n=_lines_of_document(status=LineStatus.APPROVED),
                rejected_n=_lines_of_document(status=LineStatus.REJECTED),
                waiting_n=_lines_of_document(status__in=(LineStatus.OPEN, LineStatus.DISPUTED)),
            )
        )

    def get_readonly_fields(self, request: HttpRequest, obj: Model | None = None) -> Any:
        if request.user.is_superuser:
            return self.readonly_fields
        editable = [f.name for f in Document._meta.get_fields() if f.concrete]
        return tuple(
            {*self.readonly_fields, *(f for f in editable if f not in _SETTINGS and f != "id")}
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # documents come from uploads, which store their pages and queue OCR

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "agreement_threshold" in form.changed_data:
            # Labels' stored verdicts were judged with the old threshold.
            refresh_document_verdicts(document=obj)

    def has_reread_permission(self, request: HttpRequest) -> bool:
        # Staff who manage the OCR models choose which one reads a document again.
        return request.user.has_perm("labeling.change_ocrmodel")

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return can_moderate(request)

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, document: Any) -> str:
        total = getattr(document, "lines_n", None)
        if not total:
            return "—"
        settled = document.agreed_n + document.approved_n
        return _(
            "%(approved)d approved, %(agreed)d agreed, %(waiting)d waiting, %(rejected)d "
            "rejected of %(total)d lines (%(share)s settled)"
        ) % {
            "approved": document.approved_n,
            "agreed": document.agreed_n,
            "waiting": document.waiting_n,
            "rejected": document.rejected_n,
            "total": total,
            "share": f"{settled / total:.0%}",
        }

    @admin.display(description=gettext_lazy("in the pool"), boolean=True)
    def in_pool(self, document: Document) -> bool:
        return document.visibility == Visibility.POOL and not document.is_withdrawn

    @admin.action(
        description=gettext_lazy("Withdraw from the labelling pool…"), permissions=["moderate"]
    )
    def withdraw(
        self, request: HttpRequest, documents: QuerySet[Document]
    ) -> TemplateResponse | None:
        chosen = list(documents.select_related("owner"))
        form = WithdrawForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/labeling/document/withdraw.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": _("Withdraw documents from the labelling pool"),
                    "action": request.POST.get("action", ""),
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                    "documents": chosen,
                    "form": form,
                },
            )
        withdrawn = ended = 0
        for doc in chosen:
            try:
                ended += withdraw_document(
                    document=doc, moderator=person(request), reason=form.cleaned_data["reason"]
                )
                withdrawn += 1
            except ModerationRefused as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if withdrawn:
            self.message_user(
                request,
                ngettext(
                    "Withdrew %(count)d document from the pool; %(ended)d open leases ended.",
                    "Withdrew %(count)d documents from the pool; %(ended)d open leases ended.",
                    withdrawn,
                )
                % {"count": withdrawn, "ended": ended},
                messages.SUCCESS,
            )
        return None

    @admin.action(description=gettext_lazy("Read failed pages again"), permissions=["moderate"])
    def retry_failed_pages(self, request: HttpRequest, documents: QuerySet[Document]) -> None:
        failed = Page.objects.filter(document__in=documents, ocr_status=OcrStatus.FAILED)
        queued = sum(retry_ocr(page=page) for page in failed.order_by("pk"))
        if queued:
            self.message_user(
                request,
                ngettext(
                    "%(count)d failed page is queued to be read again.",
                    "%(count)d failed pages are queued to be read again.",
                    queued,
                )
                % {"count": queued},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request, _("The selected documents have no failed pages."), messages.WARNING
            )

    @admin.display(description=gettext_lazy("export"))
    def exports(self, document: Document) -> str:
        if document.visibility != Visibility.POOL:
            return "—"  # a private document's text is its owner's to export
        return format_html(
            '<a href="{}">PAGE XML</a> · <a href="{}">ALTO</a>',
            reverse("labeling:document_xml", args=[document.pk, "page"]),
            reverse("labeling:document_xml", args=[document.pk, "alto"]),
        )

    @admin.action(description=gettext_lazy("Re-read with model…"), permissions=["reread"])
    def reread(
        self, request: HttpRequest, documents: QuerySet[Document]
    ) -> TemplateResponse | None:
        chosen = list(documents.select_related("owner"))
        pool = [doc for doc in chosen if doc.visibility == Visibility.POOL]
        if "post" not in request.POST:  # said once, on the way to the page
            for doc in chosen:
                if doc.visibility != Visibility.POOL:
                    message = _(
                        "“%(title)s” is private: only its owner can have it read again."
                    ) % {"title": doc.title}
                    self.message_user(request, message, messages.WARNING)
        if not pool:
            return None
        form = RereadForm(request.POST if "post" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/labeling/document/reread.html",
                {
                    **self.admin_site.each_context(request),
                    "opts": self.model._meta,
                    "title": _("Re-read documents with another model"),
                    "action": request.POST.get("action", ""),
                    "action_checkbox_name": ACTION_CHECKBOX_NAME,
                    "documents": pool,
                    "form": form,
                },
            )
        model = form.cleaned_data["model"]
        queued = busy = 0
        for doc in pool:
            result = reread_document(document=doc, model=model)
            queued += result.queued
            busy += result.busy
        self.message_user(
            request,
            ngettext(
                "%(pages)d page is queued to be read again with %(model)s.",
                "%(pages)d pages are queued to be read again with %(model)s.",
                queued,
            )
            % {"pages": queued, "model": model},
            messages.SUCCESS,
        )
        if busy:
            self.message_user(
                request,
                ngettext(
                    "%(n)d page was left as it is: it waits for Tesseract or is being read.",
                    "%(n)d pages were left as they are: they wait for Tesseract or are being read.",
                    busy,
                )
                % {"n": busy},
                messages.WARNING,
            )
        return None


@admin.register(Page)
class PageAdmin(DocumentRowAdmin):
    list_display = ("__str__", "ocr_status", "ocr_model", "ocr_seconds", "ocr_finished_at")
    list_filter = ("ocr_status",)
    search_fields = ("document__title", "sha256")
    list_select_related = ("document",)
    readonly_fields = ("document",)  # moving a page would move its lines between documents


@admin.register(GoldScore)
class GoldScoreAdmin(admin.ModelAdmin):
    list_display = ("user", "seen", "correct", "accuracy", "held_back", "cleared_at", "cleared_by")
    list_select_related = ("user", "cleared_by")
    list_filter = ("held_back",)
    search_fields = ("user__email",)
    readonly_fields = ("user", "seen", "correct", "held_back", "cleared_at", "cleared_by")
    actions = ("clear",)

    @admin.action(
        description=gettext_lazy("Clear the hold: their labels count again"),
        permissions=["moderate"],
    )
    def clear(self, request: HttpRequest, scores: QuerySet[GoldScore]) -> None:
        cleared = 0
        for score in scores.select_related("user"):
            try:
                clear_hold(score=score, moderator=person(request))
                cleared += 1
            except ModerationRefused as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if cleared:
            message = ngettext(
                "Cleared %(count)d labeler.", "Cleared %(count)d labelers.", cleared
            ) % {"count": cleared}
            self.message_user(request, message, messages.SUCCESS)

    # Scores change only by labels on gold lines and by the action above.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labeling.moderate_line")


@admin.register(ModerationDecision)
class ModerationDecisionAdmin(RecordAdmin, DocumentRowAdmin):
    list_display = (
        "created_at",
        "line",
        "moderator",
        "action",
        "from_status",
        "shown_text",
        "reason",
    )
    list_filter = ("action",)
    list_select_related = ("line__page__document", "moderator")
    search_fields = ("line__page__document__title", "moderator__email", "reason")

    @admin.display(description=gettext_lazy("text"))
    def shown_text(self, decision: ModerationDecision) -> str:
        return shown(decision.text, decision.line.page.document)


@admin.register(PrivateAccess)
class PrivateAccessAdmin(RecordAdmin):
    list_display = ("at", "user", "what", "object_id", "path")
    list_filter = ("what",)
    search_fields = ("user__email", "path")
    list_select_related = ("user",)


@admin.register(OutgoingEmail)
class OutgoingEmailAdmin(RecordAdmin):
    """The outbox, for operators: what waits for the mail server and why (superusers only:
    messages carry people's documents)."""

    list_display = ("created_at", "status", "subject", "recipients", "attempts", "error", "sent_at")
    list_filter = ("status",)
    search_fields = ("subject",)
    fields = ("created_at", "status", "subject", "to", "attempts", "not_before", "error", "sent_at")
    readonly_fields = fields

    @admin.display(description=gettext_lazy("to"))
    def recipients(self, outgoing: OutgoingEmail) -> str:
        return ", ".join(outgoing.to)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_superuser)

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return bool(request.user.is_superuser)
