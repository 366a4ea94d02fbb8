"""Training runs in the admin: start one on a release, watch it, cancel it, adopt its model.

Every field is read-only: a run is started by its add form and changed only by Cancel and
"Make the result the default model", which call `labeling.training`.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.validators import MaxValueValidator
from django.db.models import Model
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from labeling import training
from labeling.models import DatasetRelease, OcrModel, ReleaseStatus, TrainingRun, TrainingStatus


class StartTrainingForm(forms.Form):
    release = forms.ModelChoiceField(
        queryset=DatasetRelease.objects.filter(status=ReleaseStatus.DONE).order_by("-number"),
        label=gettext_lazy("Release"),
        empty_label=None,
    )
    start_model = forms.ModelChoiceField(
        queryset=OcrModel.objects.filter(trainable=True).order_by("name"),
        label=gettext_lazy("Start model"),
        empty_label=None,
        help_text=gettext_lazy('A float ("best") model marked trainable.'),
    )
    max_iterations = forms.IntegerField(
        label=gettext_lazy("Iterations"), min_value=1, initial=10000
    )
    max_minutes = forms.IntegerField(
        label=gettext_lazy("Minutes"),
        min_value=1,
        initial=60,
        help_text=gettext_lazy("Training stops after this long, keeping what it learnt."),
    )
    learning_rate = forms.FloatField(
        label=gettext_lazy("Learning rate"), min_value=1e-6, max_value=0.1, initial=0.0005
    )
    synthetic_ratio = forms.FloatField(
        label=gettext_lazy("Rendered lines per real line"),
        required=False,
        min_value=0,
        max_value=training.MAX_SYNTHETIC_RATIO,
        initial=training.DEFAULT_SYNTHETIC_RATIO,
        help_text=gettext_lazy(
            "Adds lines rendered from the training texts in Debian's naskh fonts (Amiri, "
            "Scheherazade, Noto Naskh), so the model sees other typefaces too; 0: none."
        ),
    )

    def clean_synthetic_ratio(self) -> float:
        value = self.cleaned_data.get("synthetic_ratio")
        return training.DEFAULT_SYNTHETIC_RATIO if value is None else value

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        minutes = self.fields["max_minutes"]
        assert isinstance(minutes, forms.IntegerField)
        minutes.max_value = settings.TRAINING_MAX_MINUTES
        minutes.validators.append(MaxValueValidator(settings.TRAINING_MAX_MINUTES))


def _percent(value: object) -> str:
    return f"{100 * float(value):.2f}%" if isinstance(value, int | float) else "—"


@admin.register(TrainingRun)
class TrainingRunAdmin(admin.ModelAdmin):
    list_display = (
        "pk",
        "release",
        "start_model",
        "status",
        "iteration",
        "training_error_percent",
        "result",
        "created_at",
    )
    list_filter = ("status",)
    # The result can be empty: Django's default would leave it to a query per row.
    list_select_related = ("release", "start_model", "result")
    change_form_template = "admin/labeling/trainingrun/change_form.html"
    fields = (
        "status",
        "error",
        "release",
        "start_model",
        "created_by",
        "max_iterations",
        "max_minutes",
        "learning_rate",
        "synthetic_ratio",
        "progress",
        "curve_image",
        "evaluation_table",
        "result",
        "log",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields

    @admin.display(description=gettext_lazy("Training error"))
    def training_error_percent(self, run: TrainingRun) -> str:
        return _percent(run.training_error)

    @admin.display(description=gettext_lazy("Progress"))
    def progress(self, run: TrainingRun) -> str:
        return _(
            "Iteration %(iteration)d of at most %(max)d; training error %(error)s; "
            "%(minutes).1f of at most %(max_minutes)d minutes."
        ) % {
            "iteration": run.iteration,
            "max": run.max_iterations,
            "error": _percent(run.training_error),
            "minutes": run.elapsed_seconds / 60,
            "max_minutes": run.max_minutes,
        }

    @admin.display(description=gettext_lazy("Learning curve"))
    def curve_image(self, run: TrainingRun) -> SafeString:
        url = reverse("admin:labeling_trainingrun_curve", args=[run.pk])
        return format_html(
            '<img src="{}?n={}" alt="{}" width="640" height="360">',
            url,
            len(run.curve or []),
            _("Training error against iterations"),
        )

    @admin.display(description=gettext_lazy("Evaluation"))
    def evaluation_table(self, run: TrainingRun) -> SafeString | str:
        evaluation = run.evaluation or {}
        start, result = evaluation.get("start"), evaluation.get("result")
        if not start or not result:
            return _("Not evaluated yet.")
        keys = ("cer", "cer_normalized", "wer", "wer_normalized")
        rows: list[tuple[str, ...]] = []
        names = [("", _("All lines"))] + [(name, name) for name in result.get("documents", {})]
        for key, label in names:
            before = start["overall"] if not key else start.get("documents", {}).get(key, {})
            after = result["overall"] if not key else result["documents"].get(key, {})
            rows.append(
                (
                    label,
                    str(after.get("lines", "")),
                    *(f"{_percent(before.get(k))} → {_percent(after.get(k))}" for k in keys),
                )
            )
        header = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("Document"),
            _("Lines"),
            _("CER"),
            _("CER normalized"),
            _("WER"),
            _("WER normalized"),
        )
        body = format_html_join(
            "",
            '<tr><td><span dir="auto" lang="ota">{}</span></td><td>{}</td><td>{}</td>'
            "<td>{}</td><td>{}</td><td>{}</td></tr>",
            rows,
        )
        caption = _("%(start)s → %(result)s, on the release's %(split)s lines.") % {
            "start": start.get("model", ""),
            "result": result.get("model", ""),
            "split": evaluation.get("split", ""),
        }
        note = evaluation.get("note") or ""
        return format_html(
            "<p>{} {}</p><table><thead>{}</thead><tbody>{}</tbody></table>",
            caption,
            note,
            header,
            body,
        )

    @admin.display(description=gettext_lazy("Log"))
    def log(self, run: TrainingRun) -> SafeString:
        return format_html('<pre dir="auto" style="white-space: pre-wrap">{}</pre>', run.log_tail)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False  # read-only; Cancel and Make default have their own views

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path("<int:pk>/curve.png", wrap(self.curve_view), name="labeling_trainingrun_curve"),
            path(
                "<int:pk>/cancel/",
                wrap(require_POST(self.cancel_view)),
                name="labeling_trainingrun_cancel",
            ),
            path(
                "<int:pk>/make-default/",
                wrap(require_POST(self.make_default_view)),
                name="labeling_trainingrun_make_default",
            ),
            *super().get_urls(),
        ]

    def curve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        run = self._checked(request, pk)
        return HttpResponse(training.curve_png(run), content_type="image/png")

    def _checked(self, request: HttpRequest, pk: int) -> TrainingRun:
        if not self.has_view_permission(request):
            raise PermissionDenied
        return get_object_or_404(TrainingRun, pk=pk)

    def _change_url(self, run: TrainingRun) -> str:
        return reverse("admin:labeling_trainingrun_change", args=[run.pk])

    def cancel_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(TrainingRun, pk=pk)
        if training.cancel_training(run=run):
            self.message_user(request, _("Training %(pk)d is being cancelled.") % {"pk": pk})
        else:
            self.message_user(
                request, _("Training %(pk)d is already over.") % {"pk": pk}, messages.WARNING
            )
        return HttpResponseRedirect(self._change_url(run))

    def make_default_view(self, request: HttpRequest, pk: int) -> HttpResponseRedirect:
        if not request.user.has_perm("labeling.change_ocrmodel"):
            raise PermissionDenied
        run = get_object_or_404(TrainingRun, pk=pk)
        if run.status != TrainingStatus.DONE or run.result is None:
            self.message_user(request, _("This run has no model."), messages.ERROR)
        else:
            training.make_default(model=run.result)
            self.message_user(
                request,
                _("%(model)s is now the default model for new pages.") % {"model": run.result},
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self._change_url(run))

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = StartTrainingForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            assert isinstance(request.user, User)
            try:
                run = training.start_training(created_by=request.user, **form.cleaned_data)
            except training.TrainingRefused as refusal:
                form.add_error(None, str(refusal))
            else:
                self.message_user(
                    request,
                    _("Training %(pk)d is queued.") % {"pk": run.pk},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(run))
        return TemplateResponse(
            request,
            "admin/labeling/trainingrun/start.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.model._meta,
                "title": _("Train a model"),
                "form": form,
            },
        )

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        run = TrainingRun.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        context = {
            **(extra_context or {}),
            "can_cancel": run is not None
            and run.status in training.ACTIVE
            and not run.cancel_requested,
            "can_make_default": run is not None
            and run.result is not None
            and not run.result.is_default,
            "run": run,
        }
        return super().change_view(request, object_id, form_url, context)
