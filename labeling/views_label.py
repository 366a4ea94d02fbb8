"""The labeling queue's pages: next line, submit/confirm/skip, history, anchoring report."""

from __future__ import annotations

import re
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import F
from django.db.models.functions import Coalesce
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from labeling import ottoman, reports
from labeling.forms import LabelForm
from labeling.models import Assignment, AssignmentState, Document, Visibility
from labeling.review.labels import skip_line, submit_label
from labeling.review.queue import ClaimRefused, claim_next
from labeling.review.stats import (
    labeler_history,
    labels_of,
)
from labeling.transcribing import TranscriptionRefused
from labeling.views import LIST_PAGE_SIZE, AuthedRequest


class CountedPaginator(Paginator):
    """A paginator told how many rows there are (an aggregate the page runs anyway counted
    them), so that it does not count them again."""

    def __init__(self, object_list: Any, per_page: int, *, count: int) -> None:
        super().__init__(object_list, per_page)
        self.known_count = count

    @cached_property
    def count(self) -> int:
        return self.known_count


def _pool_document(request: AuthedRequest) -> Document | None:
    """The pool document the labeler chose (?document=<id>), if any; 404 if there is none."""
    pk = request.GET.get("document", "")
    # ASCII digits only: "²".isdigit() is true but the ORM cannot read it as a number.
    if not re.fullmatch(r"[0-9]{1,18}", pk):
        return None
    return get_object_or_404(Document.objects.filter(visibility=Visibility.POOL), pk=int(pk))


def _within(url: str, document: Document | None) -> str:
    """The URL, keeping the labeler within one document when they chose one."""
    return f"{url}?{urlencode({'document': document.pk})}" if document else url


@login_required
@require_GET
def label_next(request: AuthedRequest) -> HttpResponse:
    document = _pool_document(request)
    try:
        claim = claim_next(user=request.user, document=document)
    except ClaimRefused as exc:  # a banned person: the queue hands them nothing
        messages.error(request, str(exc))
        claim = None
    if claim is None:
        return render(
            request,
            "labeling/label_empty.html",
            {"document": document, "history": labeler_history(user=request.user)},
        )
    if claim.resumed:
        messages.info(request, _("You were still holding this line; here it is again."))
    return redirect(_within(reverse("labeling:label", args=[claim.assignment.pk]), document))


@login_required
def label(request: AuthedRequest, pk: int) -> HttpResponse:
    assignment = get_object_or_404(
        Assignment.objects.filter(user=request.user).select_related("line__page__document"), pk=pk
    )
    document = _pool_document(request)
    line = assignment.line
    initial_text = "" if assignment.blind else line.prediction
    form = LabelForm(
        request.POST or None,
        initial={"text": initial_text},
        prediction=None if assignment.blind else line.prediction,
    )
    refusal: TranscriptionRefused | None = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["action"] == "skip":
                skip_line(
                    assignment_id=assignment.pk, user=request.user, reason=data["skip_reason"]
                )
                messages.info(request, _("Skipped; this line will not come back to you."))
            else:
                result = submit_label(
                    assignment_id=assignment.pk,
                    user=request.user,
                    text=data["text"],
                    confirm=form.confirms,
                    allow_latin=data["allow_latin"],
                    seconds_spent=data["seconds"] or 0.0,
                )
                if result.repeated:
                    messages.info(request, _("That line was already saved; it was counted once."))
            return redirect(_within(reverse("labeling:label_next"), document))
        except TranscriptionRefused as exc:
            refusal = exc
            if exc.suggested_text is not None:
                form = LabelForm(initial={"text": exc.suggested_text, "action": data["action"]})
    return render(
        request,
        "labeling/label.html",
        {
            "assignment": assignment,
            "line": line,
            "form": form,
            "refusal": refusal,
            "text_value": form["text"].value() if form.is_bound else form.initial["text"],
            "document": document,
            "expired": assignment.state == AssignmentState.ACTIVE
            and assignment.expires_at < timezone.now(),
            "keyboard_map": ottoman.keyboard(),
        },
    )


@login_required
@require_GET
def pool(request: AuthedRequest) -> HttpResponse:
    # The counts are kept by the database (DocumentLineCounts): no lines counted per request.
    documents = (
        Document.objects.filter(visibility=Visibility.POOL)
        .exclude(owner=request.user)
        .annotate(
            open_lines=Coalesce("line_counts__open_lines", 0),
            agreed_lines=Coalesce("line_counts__agreed_lines", 0),
        )
        .order_by(F("line_counts__open_lines").desc(nulls_last=True), "title", "pk")
    )
    page = Paginator(documents, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "labeling/pool.html", {"page": page})


@login_required
@require_GET
def my_labels(request: AuthedRequest) -> HttpResponse:
    labels = (
        labels_of(request.user)
        .select_related("line__page__document")
        .only(
            "text",
            "verdict",
            "created_at",
            "line__status",
            "line__consensus_text",
            "line__page__document__title",
        )
        .order_by("-created_at", "-pk")
    )
    history = labeler_history(user=request.user)
    paginator = CountedPaginator(labels, LIST_PAGE_SIZE, count=history.labelled)
    page = paginator.get_page(request.GET.get("page"))
    return render(request, "labeling/my_labels.html", {"history": history, "page": page})


@login_required
@permission_required("labeling.moderate_line", raise_exception=True)
@require_GET
def anchoring(request: AuthedRequest) -> HttpResponse:
    # The snapshot's row count pages; the rows of the page come from the snapshot's pages.
    report = reports.anchoring_snapshot()
    page = Paginator(range(report.value.documents), reports.PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    report, rows = reports.anchoring_page(report, page.number)
    return render(
        request,
        "labeling/anchoring.html",
        {
            "overall": report.value.overall,
            "page": page,
            "rows": rows,
            "as_of": report.at,
            "refresh_minutes": settings.REPORT_REFRESH_SECONDS // 60,
        },
    )
