"""Dataset releases in the admin: the add form calls `create_release`; a release is immutable
once made (every field read-only, no delete once published); its page links the download."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from labeling.models import DatasetRelease, Document, LineStatus, ReleaseStatus
from labeling.releases import (
    ReleaseRefused,
    check_request,
    create_release,
    eligible_documents,
)


class ReleaseForm(forms.ModelForm):
    documents = forms.ModelMultipleChoiceField(
        queryset=Document.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Documents"),
        help_text=gettext_lazy(
            "Licensed pool documents whose owners consented. None chosen: all of them."
        ),
    )
    statuses = forms.MultipleChoiceField(
        choices=[
            (LineStatus.APPROVED, gettext_lazy("Approved (and gold) lines")),
            (LineStatus.AGREED, gettext_lazy("Agreed lines, not yet approved")),
        ],
        initial=[LineStatus.APPROVED],
        widget=forms.CheckboxSelectMultiple,
        label=gettext_lazy("Line statuses"),
    )

    class Meta:
        model = DatasetRelease
        fields = ("documents", "statuses", "eval_share", "seed", "normalized", "notes")

    user: User | None = None  # set by DatasetReleaseAdmin.get_form

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["documents"].queryset = eligible_documents()  # type: ignore[attr-defined]
        self.fields["eval_share"].widget.attrs.update(min=0, max=0.5, step=0.05)

    def clean(self) -> dict[str, Any]:
        """Refusals show above the form, with what the person chose still in it."""
        cleaned = super().clean() or {}
        if self.user is not None and not self.errors:
            try:
                check_request(
                    created_by=self.user,
                    documents=list(cleaned.get("documents") or []),
                    statuses=cleaned.get("statuses"),
                    eval_share=cleaned.get("eval_share", 0.1),
                    seed=cleaned.get("seed", 0),
                )
            except ReleaseRefused as refusal:
                raise forms.ValidationError(str(refusal)) from None
        return cleaned


@admin.register(DatasetRelease)
class DatasetReleaseAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "status",
        "progress",
        "lines",
        "size_display",
        "created_by",
        "created_at",
    )
    list_filter = ("status",)
    ordering = ("-number",)
    readonly_fields = (
        "number",
        "status",
        "progress",
        "error",
        "download",
        "sha256",
        "size_display",
        "summary_display",
        "document_list",
        "statuses",
        "eval_share",
        "seed",
        "normalized",
        "notes",
        "created_by",
        "created_at",
        "finished_at",
    )

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if obj is None:
            kwargs["form"] = ReleaseForm
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None and isinstance(request.user, User):
            return type(form.__name__, (form,), {"user": request.user})  # checks as this person
        return form

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ReleaseForm.Meta.fields
        return self.readonly_fields

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False if obj is not None else super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is not None and obj.status in (ReleaseStatus.DONE, ReleaseStatus.RUNNING):
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        assert isinstance(request.user, User)
        release = create_release(
            created_by=request.user,
            documents=list(form.cleaned_data["documents"]),
            statuses=form.cleaned_data["statuses"],
            eval_share=form.cleaned_data["eval_share"],
            seed=form.cleaned_data["seed"],
            normalized=form.cleaned_data["normalized"],
            notes=form.cleaned_data["notes"],
        )
        obj.pk = release.pk
        obj.number = release.number

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # create_release set the documents

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: Any = None) -> Any:
        try:
            return super().add_view(request, form_url, extra_context)
        except ReleaseRefused as exc:
            messages.error(request, str(exc))
            from django.shortcuts import redirect

            return redirect(request.get_full_path())

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, obj: DatasetRelease) -> str:
        if obj.status == ReleaseStatus.DONE or not obj.lines_total:
            return obj.get_status_display()
        return f"{obj.lines_done}/{obj.lines_total}"

    @admin.display(description=gettext_lazy("Lines"))
    def lines(self, obj: DatasetRelease) -> int | str:
        return obj.summary.get("lines", "—") if obj.summary else "—"

    @admin.display(description=gettext_lazy("Size"))
    def size_display(self, obj: DatasetRelease) -> str:
        return filesizeformat(obj.size) if obj.size else "—"

    @admin.display(description=gettext_lazy("Summary"))
    def summary_display(self, obj: DatasetRelease) -> str:
        counts = obj.summary or {}
        if not counts:
            return "—"
        return _(
            "%(lines)d lines from %(documents)d documents (%(train)d train, %(eval)d eval), "
            "%(characters)d characters."
        ) % {
            "lines": counts.get("lines", 0),
            "documents": counts.get("documents", 0),
            "train": counts.get("train_lines", 0),
            "eval": counts.get("eval_lines", 0),
            "characters": counts.get("characters", 0),
        }

    @admin.display(description=gettext_lazy("Documents"))
    def document_list(self, obj: DatasetRelease) -> str:
        names = [f"#{doc.pk} {doc.title}" for doc in obj.documents.order_by("pk")]
        return ", ".join(names) if names else _("All eligible pool documents")

    @admin.display(description=gettext_lazy("Download"))
    def download(self, obj: DatasetRelease) -> str:
        if obj.status != ReleaseStatus.DONE or not obj.file:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("labeling:release_download", args=[obj.pk]),
            _("release-%(n)d.zip") % {"n": obj.number},
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[DatasetRelease]:
        return super().get_queryset(request).select_related("created_by")
