"""Exchanging a document with other tools: its PAGE XML or ALTO as a zip, and reading it again
with another model."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from labeling.exports.xml import FORMATS, DocumentXml
from labeling.models import Document, DocumentQuerySet, OcrModel, Visibility
from labeling.reading import reread_document

if TYPE_CHECKING:  # the document page (labeling.views) uses the form defined here
    from labeling.views import AuthedRequest


def exportable_by(user: User) -> DocumentQuerySet:
    """The person's own documents; for staff, also the pool documents they moderate."""
    documents = Document.objects.owned_by(user)
    if user.is_staff:
        documents = documents | Document.objects.for_moderation(user).pool()
    return documents


@login_required
@require_GET
def document_xml(request: AuthedRequest, pk: int, fmt: str) -> StreamingHttpResponse:
    export_format = FORMATS.get(fmt)
    if export_format is None:
        raise Http404
    doc = get_object_or_404(exportable_by(request.user), pk=pk)
    export = DocumentXml(document=doc, format=export_format)
    response = StreamingHttpResponse(export.chunks(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


class RereadForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=OcrModel.objects.order_by("name"),
        label=gettext_lazy("Read again with"),
        empty_label=None,
    )


def reread_form(document: Document) -> RereadForm | None:
    """The form on the document page: its owner may re-read a private document (pool
    documents are re-read by staff, in the admin)."""
    return RereadForm() if document.visibility == Visibility.PRIVATE else None


@login_required
@require_POST
def document_reread(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(
        Document.objects.owned_by(request.user).filter(visibility=Visibility.PRIVATE), pk=pk
    )
    form = RereadForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext_lazy("Choose a model to read the document with."))
        return redirect("labeling:document", pk=doc.pk)
    model = form.cleaned_data["model"]
    result = reread_document(document=doc, model=model)
    if result.queued:
        messages.success(
            request,
            ngettext(
                "%(n)d page is queued to be read again with %(model)s. The lines keep their "
                "places and your corrections stay; only Tesseract's suggestions change.",
                "%(n)d pages are queued to be read again with %(model)s. The lines keep their "
                "places and your corrections stay; only Tesseract's suggestions change.",
                result.queued,
            )
            % {"n": result.queued, "model": model},
        )
    if result.busy:
        messages.info(
            request,
            ngettext(
                "%(n)d page is still waiting for Tesseract or being read; it was left as it is.",
                "%(n)d pages are still waiting for Tesseract or being read; they were left as "
                "they are.",
                result.busy,
            )
            % {"n": result.busy},
        )
    return redirect("labeling:document", pk=doc.pk)
