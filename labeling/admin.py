"""The Django admin: where moderators work the queue of agreed, disputed and flagged lines.

Moderators see pool documents and their rows only (`for_moderation`); superusers see every
row, and each private row they open is logged (PrivateAccess). State fields are read-only:
lines change only through actions that call `labeling.review.moderation`, so every change is
recorded once, as a ModerationDecision. Actions that need words (a reason, the text, the
answer) ask for them on an intermediate page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from accounts.models import User
from labeling import (  # noqa: F401 - registers the releases' and training runs' admins
    admin_releases,
    admin_training,
    training,
)
from labeling.models import (
    Document,
    DocumentRowQuerySet,
    GoldScore,
    Line,
    ModerationAction,
    ModerationDecision,
    OcrModel,
    OutgoingEmail,
    Page,
    PrivateAccess,
    Transcription,
    Visibility,
)
from labeling.reading import reread_document
from labeling.review.moderation import (
    ModerationRefused,
    approve_line,
    clear_hold,
    make_gold,
    note_private_access,
    refusal,
    reject_line,
    reopen_line,
)


def _person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin lets only signed-in staff in
    return request.user


def _for_moderation(rows: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    assert isinstance(rows, DocumentRowQuerySet)
    return rows.for_moderation(_person(request))


class DocumentRowAdmin(admin.ModelAdmin):
    """Rows of documents: moderators get those of pool documents, superusers every row, and a
    superuser's opening of someone else's private row (change, delete, history) is logged."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _for_moderation(super().get_queryset(request), request)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Model | None:
        row = super().get_object(request, object_id, from_field)
        if row is not None:
            rows = self.model._default_manager.all()
            assert isinstance(rows, DocumentRowQuerySet)
            note_private_access(
                user=_person(request), rows=rows, pk=row.pk, path=request.get_full_path()
            )
        return row


class DocumentRowInline(admin.TabularInline):
    """Read-only rows of documents shown inside another row's page, scoped the same way."""

    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return _for_moderation(super().get_queryset(request), request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def _shown(text: str, document: Document) -> str:
    """Text of a row for a list: a private document's text is shown only on its own page,
    where opening it is logged."""
    return text if document.visibility == Visibility.POOL else _("(private)")


@admin.register(OcrModel)
class OcrModelAdmin(admin.ModelAdmin):
    list_display = ("name", "language", "is_default", "trainable", "training_run", "created_at")
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


@admin.register(Document)
class DocumentAdmin(DocumentRowAdmin):
    list_display = (
        "title",
        "owner",
        "visibility",
        "license",
        "labels_needed",
        "created_at",
        "exports",
    )
    list_filter = ("visibility", "license")
    search_fields = ("title", "owner__email")
    # Whose it is and whether it is shared are the owner's choices, made on upload.
    readonly_fields = ("owner", "visibility", "pool_consent_at", "exports")
    inlines = (PageInline,)
    actions = ("reread",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # documents come from uploads, which store their pages and queue OCR

    def has_reread_permission(self, request: HttpRequest) -> bool:
        # Staff who manage the OCR models choose which one reads a document again.
        return request.user.has_perm("labeling.change_ocrmodel")

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


class TranscriptionInline(DocumentRowInline):
    model = Transcription
    fields = ("user", "text", "kept_prediction", "blind", "counts", "seconds_spent", "updated_at")
    readonly_fields = fields


class DecisionInline(DocumentRowInline):
    model = ModerationDecision
    fields = ("created_at", "moderator", "action", "from_status", "text", "reason")
    readonly_fields = fields


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("Recorded with the decision on every selected line."),
    )


class OptionalReasonForm(ReasonForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("Recorded with the decision on every selected line."),
    )


class LineTextForm(forms.Form):
    """The text for one line on an intermediate page (approved text, gold answer)."""

    line = forms.IntegerField(widget=forms.HiddenInput)
    text = forms.CharField(
        label=gettext_lazy("Text"),
        strip=False,  # the domain function cleans it the same way as a labeler's
        widget=forms.TextInput(
            attrs={"dir": "rtl", "lang": "ota", "class": "vTextField", "style": "width: 28em"}
        ),
    )


LineTextFormSet = forms.formset_factory(LineTextForm, extra=0)


@admin.register(Line)
class LineAdmin(DocumentRowAdmin):
    list_display = (
        "__str__",
        "status",
        "flag",
        "consensus",
        "agreement",
        "label_count",
        "confidence",
        "gold",
    )
    list_filter = ("status", "flag", "in_pool")
    list_select_related = ("page__document",)
    search_fields = ("prediction", "consensus_text", "page__document__title")
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
    readonly_fields = fields
    inlines = (TranscriptionInline, DecisionInline)
    actions = ("approve", "approve_with_text", "reject", "reopen", "make_gold")

    @admin.display(description=gettext_lazy("consensus"))
    def consensus(self, line: Line) -> str:
        return format_html(
            '<span dir="rtl" lang="ota">{}</span>', _shown(line.consensus_text, line.page.document)
        )

    @admin.display(description=gettext_lazy("gold"), boolean=True)
    def gold(self, line: Line) -> bool:
        return line.is_gold

    @admin.display(description=gettext_lazy("line image"))
    def crop(self, line: Line) -> str:
        return format_html(
            '<img src="{}?box={}" alt="{}" style="max-width:100%">',
            reverse("labeling:line_crop", args=[line.pk]),
            line.crop_key,
            _("line image"),
        )

    # A line's state changes only through the actions below: nothing on its page is editable.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_moderate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("labeling.moderate_line")

    @admin.action(
        description=gettext_lazy("Approve with their consensus"), permissions=["moderate"]
    )
    def approve(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        mod = _person(request)
        self._each(
            request,
            list(lines),
            lambda ln: approve_line(line=ln, moderator=mod),
            _DONE[ModerationAction.APPROVE],
        )

    @admin.action(description=gettext_lazy("Approve with typed text…"), permissions=["moderate"])
    def approve_with_text(
        self, request: HttpRequest, lines: QuerySet[Line]
    ) -> TemplateResponse | None:
        mod = _person(request)
        return self._per_line(
            request,
            lines,
            action=ModerationAction.APPROVE,
            decide=lambda ln, text: approve_line(line=ln, moderator=mod, text=text),
            title=_("Approve lines with the text you type"),
            text_label=_("Approved text"),
            submit=_("Approve"),
        )

    @admin.action(description=gettext_lazy("Reject with a reason…"), permissions=["moderate"])
    def reject(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = _person(request)
        return self._with_reason(
            request,
            lines,
            action=ModerationAction.REJECT,
            form_class=ReasonForm,
            decide=lambda ln, reason: reject_line(line=ln, moderator=mod, reason=reason),
            title=_("Reject lines: not usable as training data"),
            submit=_("Reject"),
        )

    @admin.action(description=gettext_lazy("Reopen for fresh labels…"), permissions=["moderate"])
    def reopen(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = _person(request)
        return self._with_reason(
            request,
            lines,
            action=ModerationAction.REOPEN,
            form_class=OptionalReasonForm,
            decide=lambda ln, reason: reopen_line(line=ln, moderator=mod, reason=reason),
            title=_("Reopen lines for fresh labels"),
            submit=_("Reopen"),
        )

    @admin.action(
        description=gettext_lazy("Make gold lines, with the answer…"), permissions=["moderate"]
    )
    def make_gold(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = _person(request)
        return self._per_line(
            request,
            lines,
            action=ModerationAction.MAKE_GOLD,
            decide=lambda ln, text: make_gold(line=ln, moderator=mod, answer=text),
            title=_("Make gold lines: labelers are tested on the answer"),
            text_label=_("Answer"),
            submit=_("Make gold lines"),
        )

    def _each(
        self,
        request: HttpRequest,
        lines: list[Line],
        decide: Callable[[Line], object],
        done: Callable[[int], str],
    ) -> None:
        """Decide each line; a refused one is named in a warning and left as it is."""
        count = 0
        for line in lines:
            try:
                decide(line)
                count += 1
            except ModerationRefused as exc:
                self.message_user(request, str(exc), messages.WARNING)
        if count:
            self.message_user(request, done(count), messages.SUCCESS)

    def _allowed(self, request: HttpRequest, lines: QuerySet[Line], action: str) -> list[Line]:
        """The lines the decision may be taken on; the others are named in a warning."""
        mod = _person(request)
        allowed = []
        for line in lines.select_related("page__document"):
            why = refusal(line=line, action=action, moderator=mod)
            if why is None:
                allowed.append(line)
            elif "post" not in request.POST:  # said once, on the way to the page
                self.message_user(request, why, messages.WARNING)
        return allowed

    def _with_reason(
        self,
        request: HttpRequest,
        lines: QuerySet[Line],
        *,
        action: str,
        form_class: type[ReasonForm],
        decide: Callable[[Line, str], object],
        title: str,
        submit: str,
    ) -> TemplateResponse | None:
        allowed = self._allowed(request, lines, action)
        if not allowed:
            return None
        form = form_class(request.POST if "post" in request.POST else None)
        if form.is_valid():
            reason = form.cleaned_data["reason"]
            self._each(request, allowed, lambda ln: decide(ln, reason), _DONE[action])
            return None
        rows = [(line, None) for line in allowed]
        return self._ask(request, action, rows, title=title, submit=submit, form=form)

    def _per_line(
        self,
        request: HttpRequest,
        lines: QuerySet[Line],
        *,
        action: str,
        decide: Callable[[Line, str], object],
        title: str,
        text_label: str,
        submit: str,
    ) -> TemplateResponse | None:
        allowed = self._allowed(request, lines, action)
        if not allowed:
            return None
        by_pk = {line.pk: line for line in allowed}
        formset = LineTextFormSet(
            request.POST if "post" in request.POST else None,
            initial=[{"line": ln.pk, "text": ln.consensus_text} for ln in allowed],
            prefix="lines",
        )
        if formset.is_valid():
            texts = {f.cleaned_data["line"]: f.cleaned_data["text"] for f in formset.forms}
            chosen = [by_pk[pk] for pk in texts if pk in by_pk]
            self._each(request, chosen, lambda ln: decide(ln, texts[ln.pk]), _DONE[action])
            return None
        rows = [(line, f) for f in formset.forms if (line := _line_of(f, by_pk)) is not None]
        return self._ask(
            request,
            action,
            rows,
            title=title,
            submit=submit,
            formset=formset,
            text_label=text_label,
        )

    def _ask(
        self,
        request: HttpRequest,
        action: str,
        rows: Sequence[tuple[Line, forms.Form | None]],
        **context: object,
    ) -> TemplateResponse:
        """The intermediate page: the selected lines with their images, and the form; it posts
        back to the change list with the same action and selection."""
        return TemplateResponse(
            request,
            "admin/labeling/line/decide.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "action": request.POST.get("action", ""),
                "action_checkbox_name": ACTION_CHECKBOX_NAME,
                "rows": rows,
                **context,
            },
        )


def _line_of(form: forms.Form, by_pk: dict[int, Line]) -> Line | None:
    """The line a posted form is about, if it is one of the selected lines."""
    try:
        return by_pk.get(int(form["line"].value()))
    except (TypeError, ValueError):
        return None


def _count(message: str, count: int) -> str:
    return message % {"count": count}


# What each action reports when it is done, by the number of lines it decided.
_DONE: dict[str, Callable[[int], str]] = {
    ModerationAction.APPROVE: lambda n: _count(
        ngettext("Approved %(count)d line.", "Approved %(count)d lines.", n), n
    ),
    ModerationAction.REJECT: lambda n: _count(
        ngettext("Rejected %(count)d line.", "Rejected %(count)d lines.", n), n
    ),
    ModerationAction.REOPEN: lambda n: _count(
        ngettext("Reopened %(count)d line.", "Reopened %(count)d lines.", n), n
    ),
    ModerationAction.MAKE_GOLD: lambda n: _count(
        ngettext("Made %(count)d gold line.", "Made %(count)d gold lines.", n), n
    ),
}


@admin.register(GoldScore)
class GoldScoreAdmin(admin.ModelAdmin):
    list_display = ("user", "seen", "correct", "accuracy", "held_back", "cleared_at", "cleared_by")
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
                clear_hold(score=score, moderator=_person(request))
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


class RecordAdmin(admin.ModelAdmin):
    """A record: shown, never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


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
        return _shown(decision.text, decision.line.page.document)


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
