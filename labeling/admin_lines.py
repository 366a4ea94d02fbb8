"""The moderator's workbench over lines: the list (filters, normalized search, a count per
status, bulk approval of agreed lines) and a line page built for deciding (the crop, every
label with its labeler and a character diff against the consensus, the history, keyboard
decisions).

A line's state changes only through `labeling.review.moderation`: the list's actions and the
line page's decide view call it, and each decision is recorded once.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.db.models import Exists, Model, OuterRef, Q, QuerySet, Subquery
from django.db.models.lookups import IsNull
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from labeling.admin_base import (
    EXACT_COUNT_LIMIT,
    DocumentRowAdmin,
    DocumentRowInline,
    can_moderate,
    capped_count,
    for_moderation,
    person,
    shown,
)
from labeling.models import (
    Document,
    GoldScore,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    Transcription,
)
from labeling.review.diff import Comparison, compare
from labeling.review.moderation import (
    ModerationRefused,
    approve_agreed,
    approve_line,
    make_gold,
    refusal,
    reject_line,
    reopen_line,
)
from labeling.review.search import pattern


class ReviewFilter(admin.SimpleListFilter):
    """Lines by where they stand for a moderator, each with its count. Flagged lines (sent by
    labelers' skips) are disputed lines of their own kind, so they are counted apart."""

    title = gettext_lazy("review status")
    parameter_name = "review"

    CHOICES: ClassVar[dict[str, tuple[Any, Q]]] = {
        "agreed": (gettext_lazy("Agreed"), Q(status=LineStatus.AGREED)),
        "disputed": (gettext_lazy("Disputed"), Q(status=LineStatus.DISPUTED, flag="")),
        "flagged": (gettext_lazy("Flagged"), Q(status=LineStatus.DISPUTED) & ~Q(flag="")),
        "approved": (gettext_lazy("Approved"), Q(status=LineStatus.APPROVED)),
        "rejected": (gettext_lazy("Rejected"), Q(status=LineStatus.REJECTED)),
        "open": (gettext_lazy("Open"), Q(status=LineStatus.OPEN)),
    }

    count_limit = EXACT_COUNT_LIMIT

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        # Over the lines the person may see (not narrowed by the other filters). Each count
        # stops past count_limit ("500+"): an aggregate over every line read the million of
        # them on every page of the list.
        lines = model_admin.get_queryset(request)
        shown = []
        for key, (label, q) in self.CHOICES.items():
            count = capped_count(lines.filter(q), self.count_limit)
            number = f"{self.count_limit}+" if count > self.count_limit else str(count)
            shown.append((key, f"{label} ({number})"))
        return shown

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.CHOICES.get(str(self.value()))
        return queryset.filter(chosen[1]) if chosen else queryset


class ConfidenceFilter(admin.SimpleListFilter):
    """Tesseract's confidence in bands (0–100)."""

    title = gettext_lazy("confidence")
    parameter_name = "confidence"
    BANDS: ClassVar[dict[str, tuple[Any, Q]]] = {
        "low": (gettext_lazy("below 50"), Q(confidence__lt=50)),
        "mid": (gettext_lazy("50 to 80"), Q(confidence__gte=50, confidence__lt=80)),
        "high": (gettext_lazy("80 and above"), Q(confidence__gte=80)),
    }

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [(key, str(label)) for key, (label, _q) in self.BANDS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self.BANDS.get(str(self.value()))
        return queryset.filter(chosen[1]) if chosen else queryset


class DocumentFilter(admin.SimpleListFilter):
    """Lines of one document (`?page__document__id__exact=<id>`, the parameter Django's
    related filter used). Listing every document that has lines read the million lines and
    printed a hundred thousand titles: the list shows the chosen document only; a document's
    lines are found by searching its title."""

    title = gettext_lazy("document")
    parameter_name = "page__document__id__exact"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        chosen = self._chosen()
        if chosen is None:
            return []
        documents = for_moderation(Document.objects.all(), request).filter(pk=chosen)
        return [(str(pk), title) for pk, title in documents.values_list("pk", "title")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        chosen = self._chosen()
        return queryset if chosen is None else queryset.filter(page__document_id=chosen)

    def _chosen(self) -> int | None:
        value = str(self.value() or "")
        return int(value) if re.fullmatch(r"[0-9]{1,18}", value) else None


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
        help_text=gettext_lazy("Recorded with the decision."),
    )


class OptionalReasonForm(ReasonForm):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
        help_text=gettext_lazy("Recorded with the decision."),
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


class EditForm(forms.Form):
    """The line page's edit-and-approve: the text to approve."""

    text = forms.CharField(
        label=gettext_lazy("Approved text"),
        strip=False,
        widget=forms.TextInput(
            attrs={"dir": "rtl", "lang": "ota", "class": "vTextField", "autocomplete": "off"}
        ),
    )


@dataclass(frozen=True)
class LabelRow:
    """One label as the line page shows it."""

    label: Transcription
    gold_accuracy: float | None
    gold_seen: int
    diff: Comparison


DECISIONS = ("approve", "reject", "edit")


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
        "predicted_by",
        "gold",
    )
    list_filter = (
        ReviewFilter,
        DocumentFilter,
        # Every OCR model (a handful), not only those that read a line: that asked the
        # million lines which models they name.
        ("predicted_by", admin.RelatedFieldListFilter),
        ConfidenceFilter,
        "in_pool",
    )
    list_select_related = ("page__document", "predicted_by")
    search_fields = ("page__document__title",)  # and texts and labelers: get_search_results
    search_help_text = gettext_lazy(
        "Text (consensus, Tesseract's reading or any label; compared after the Ottoman "
        "normalization), a labeler's e-mail, or a document's title."
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
    readonly_fields = fields
    inlines = (TranscriptionInline, DecisionInline)
    actions = ("approve", "approve_with_text", "reject", "reopen", "make_gold")
    change_form_template = "admin/labeling/line/change_form.html"

    @admin.display(description=gettext_lazy("consensus"))
    def consensus(self, line: Line) -> str:
        return format_html(
            '<span dir="rtl" lang="ota">{}</span>', shown(line.consensus_text, line.page.document)
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
        return can_moderate(request)

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest) -> bool:
        # DocumentFilter's parameter keeps the name of the related filter it replaced, which
        # Django would otherwise take for a lookup through two relations no filter allows.
        return lookup == DocumentFilter.parameter_name or super().lookup_allowed(
            lookup, value, request
        )

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Any], search_term: str
    ) -> tuple[QuerySet[Any], bool]:
        """Title (the admin's own search), plus a labeler's e-mail and any text of the line
        compared through the normalization."""
        term = search_term.strip()
        if not term:
            return queryset, False
        titled, _duplicates = super().get_search_results(request, queryset, term)
        by_labeler = Transcription.objects.filter(line=OuterRef("pk"), user__email__icontains=term)
        found = Q(pk__in=titled.values("pk")) | Q(Exists(by_labeler))
        regex = pattern(term)
        if regex is not None:
            # One matching label (LIMIT 1), not EXISTS: PostgreSQL turns an EXISTS inside an OR
            # into a hash of every matching label, matching the expression against all of
            # them before the first line; this looks at a line's own labels, and only while
            # the page (or the capped count) still needs lines.
            texts = Transcription.objects.filter(line=OuterRef("pk"), text__regex=regex)
            labelled = IsNull(Subquery(texts.values("pk")[:1]), False)
            found |= Q(consensus_text__regex=regex) | Q(prediction__regex=regex) | Q(labelled)
        return queryset.filter(found), False

    # The line page -------------------------------------------------------------------------

    def get_urls(self) -> list[URLPattern]:
        decide = self.admin_site.admin_view(require_POST(self.decide_view))
        return [
            path("<path:object_id>/decide/", decide, name="labeling_line_decide"),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        line = self._line(request, object_id)
        context = dict(extra_context or {})
        if line is not None:
            context.update(self._workbench(request, line))
        return super().change_view(request, object_id, form_url, context)

    def _line(self, request: HttpRequest, object_id: str) -> Line | None:
        try:
            return self.get_queryset(request).select_related("page__document").get(pk=object_id)
        except (Line.DoesNotExist, ValueError):
            return None

    def _workbench(
        self, request: HttpRequest, line: Line, edit_form: EditForm | None = None
    ) -> dict[str, Any]:
        reference = line.consensus_text or line.prediction
        labels = list(line.transcriptions.select_related("user").order_by("created_at", "pk"))
        scores = {
            s.user_id: s
            for s in GoldScore.objects.filter(user_id__in=[lb.user_id for lb in labels])
        }
        rows = [
            LabelRow(
                label=label,
                gold_accuracy=scores[label.user_id].accuracy if label.user_id in scores else None,
                gold_seen=scores[label.user_id].seen if label.user_id in scores else 0,
                diff=compare(reference, label.text),
            )
            for label in labels
        ]
        counted = [row for row in rows if row.label.counts]
        mod = person(request)
        allowed = {
            "approve": refusal(line=line, action=ModerationAction.APPROVE, moderator=mod) is None
            and bool(line.consensus_text),
            "edit": refusal(line=line, action=ModerationAction.APPROVE, moderator=mod) is None,
            "reject": refusal(line=line, action=ModerationAction.REJECT, moderator=mod) is None,
        }
        filters = request.GET.get("_changelist_filters", "")
        next_line = self._next(request, line, filters)
        return {
            "line": line,
            "reference": reference,
            "reference_is_consensus": bool(line.consensus_text),
            "prediction_diff": compare(reference, line.prediction) if line.prediction else None,
            "label_rows": rows,
            "counted": len(counted),
            "agreeing": round((line.agreement or 0) * len(counted)),
            "agreement_percent": f"{line.agreement:.0%}" if line.agreement is not None else "",
            "history": line.decisions.select_related("moderator").order_by("created_at", "pk"),
            "can_moderate": can_moderate(request),
            "allowed": allowed,
            "reject_form": ReasonForm(),
            "edit_form": edit_form
            or EditForm(initial={"text": line.consensus_text or line.prediction}),
            "decide_url": self._with_filters(
                reverse("admin:labeling_line_decide", args=[line.pk]), filters
            ),
            "next_url": self._line_url(next_line, filters) if next_line else "",
            "changelist_url": reverse("admin:labeling_line_changelist")
            + (f"?{filters}" if filters else ""),
            "labeler_perm": request.user.has_perm("labeling.view_labeler"),
        }

    @staticmethod
    def _with_filters(url: str, filters: str) -> str:
        return f"{url}?{urlencode({'_changelist_filters': filters})}" if filters else url

    def _line_url(self, line: Line, filters: str) -> str:
        return self._with_filters(reverse("admin:labeling_line_change", args=[line.pk]), filters)

    def _listed(self, request: HttpRequest, filters: str) -> QuerySet[Any]:
        """The lines the change list shows with these filters (search included)."""
        listing = copy.copy(request)
        listing.GET = QueryDict(filters)
        try:
            return self.get_changelist_instance(listing).get_queryset(listing)
        except IncorrectLookupParameters:
            return self.get_queryset(request)

    def _next(self, request: HttpRequest, line: Line, filters: str) -> Line | None:
        """The line after this one in the list the moderator came from, in reading order."""
        after = Q(page_id__gt=line.page_id) | Q(page_id=line.page_id, order__gt=line.order)
        listed = self._listed(request, filters)
        result: Line | None = listed.filter(after).order_by("page_id", "order").first()
        return result

    def decide_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The line page's decisions: approve, reject with a reason, edit and approve. A refused
        one is said and changes nothing; a taken one moves on to the next line of the list."""
        if not can_moderate(request):
            raise PermissionDenied
        line = get_object_or_404(
            self.get_queryset(request).select_related("page__document"), pk=object_id
        )
        filters = request.GET.get("_changelist_filters", "")
        here = self._line_url(line, filters)
        decision = request.POST.get("decision", "")
        mod = person(request)
        try:
            if decision == "approve":
                approve_line(line=line, moderator=mod)
            elif decision == "edit":
                form = EditForm(request.POST)
                if not form.is_valid():
                    raise ModerationRefused(_("Type the text to approve."))
                approve_line(line=line, moderator=mod, text=form.cleaned_data["text"])
            elif decision == "reject":
                reject_line(line=line, moderator=mod, reason=request.POST.get("reason", ""))
            else:
                raise ModerationRefused(_("Choose approve, reject or edit and approve."))
        except ModerationRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(here)
        done = {
            "approve": _("Approved %(line)s."),
            "edit": _("Approved %(line)s with the text you typed."),
            "reject": _("Rejected %(line)s."),
        }[decision]
        self.message_user(request, done % {"line": line}, messages.SUCCESS)
        following = self._next(request, line, filters)
        if following is not None:
            return HttpResponseRedirect(self._line_url(following, filters))
        return HttpResponseRedirect(
            reverse("admin:labeling_line_changelist") + (f"?{filters}" if filters else "")
        )

    # The list's actions ---------------------------------------------------------------------

    @admin.action(
        description=gettext_lazy("Approve agreed lines with their consensus"),
        permissions=["moderate"],
    )
    def approve(self, request: HttpRequest, lines: QuerySet[Line]) -> None:
        mod = person(request)
        self._each(
            request,
            list(lines),
            lambda ln: approve_agreed(line=ln, moderator=mod),
            _DONE[ModerationAction.APPROVE],
        )

    @admin.action(description=gettext_lazy("Approve with typed text…"), permissions=["moderate"])
    def approve_with_text(
        self, request: HttpRequest, lines: QuerySet[Line]
    ) -> TemplateResponse | None:
        mod = person(request)
        return self._per_line(
            request,
            lines,
            action=ModerationAction.APPROVE,
            decide=lambda ln, text: approve_line(line=ln, moderator=mod, text=text),
            title=_("Approve a line with the text you type"),
            text_label=_("Approved text"),
            submit=_("Approve"),
        )

    @admin.action(description=gettext_lazy("Reject with a reason…"), permissions=["moderate"])
    def reject(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = person(request)
        return self._with_reason(
            request,
            lines,
            action=ModerationAction.REJECT,
            form_class=ReasonForm,
            decide=lambda ln, reason: reject_line(line=ln, moderator=mod, reason=reason),
            title=_("Reject a line: not usable as training data"),
            submit=_("Reject"),
        )

    @admin.action(description=gettext_lazy("Reopen for fresh labels…"), permissions=["moderate"])
    def reopen(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = person(request)
        return self._with_reason(
            request,
            lines,
            action=ModerationAction.REOPEN,
            form_class=OptionalReasonForm,
            decide=lambda ln, reason: reopen_line(line=ln, moderator=mod, reason=reason),
            title=_("Reopen a line for fresh labels"),
            submit=_("Reopen"),
        )

    @admin.action(
        description=gettext_lazy("Make a gold line, with the answer…"), permissions=["moderate"]
    )
    def make_gold(self, request: HttpRequest, lines: QuerySet[Line]) -> TemplateResponse | None:
        mod = person(request)
        return self._per_line(
            request,
            lines,
            action=ModerationAction.MAKE_GOLD,
            decide=lambda ln, text: make_gold(line=ln, moderator=mod, answer=text),
            title=_("Make a gold line: labelers are tested on the answer"),
            text_label=_("Answer"),
            submit=_("Make a gold line"),
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
        """The one line the decision may be taken on; otherwise a warning says why not.

        Only approving agreed lines is done in bulk: every other decision is taken one line
        at a time, having looked at it."""
        chosen = list(lines.select_related("page__document")[:2])
        if len(chosen) != 1:
            self.message_user(
                request,
                _(
                    "Only agreed lines are approved together; choose one line for this "
                    "decision, or decide it on the line's page."
                ),
                messages.WARNING,
            )
            return []
        why = refusal(line=chosen[0], action=action, moderator=person(request))
        if why is None:
            return chosen
        if "post" not in request.POST:  # said once, on the way to the page
            self.message_user(request, why, messages.WARNING)
        return []

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
        """The intermediate page: the selected line with its image, and the form; it posts
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
