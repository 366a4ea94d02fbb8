"""Thin views: a form, a scoped fetch, one domain call, then redirect or render."""

from __future__ import annotations

import io

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.views.decorators.http import require_GET, require_POST
from PIL import Image

from accounts.models import User
from labeling import ocr, ottoman
from labeling.documents import DeletionRefused, create_document, delete_document
from labeling.forms import TranscriptionForm, UploadForm
from labeling.models import Document, Line, LineStatus, OcrStatus, Page, Transcription
from labeling.notifications import verified_address
from labeling.reading import retry_ocr
from labeling.tasks import email_document
from labeling.texts import document_text, text_filename
from labeling.transcribing import (
    TranscriptionRefused,
    confirm_prediction,
    document_progress,
    next_line,
    save_transcription,
)


class AuthedRequest(HttpRequest):
    """A request behind @login_required: its user is a real User."""

    user: User  # type: ignore[assignment]


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("labeling:documents")
    return render(request, "labeling/home.html")


@login_required
def documents(request: AuthedRequest) -> HttpResponse:
    docs = Document.objects.owned_by(request.user).annotate(
        page_count=Count("pages", distinct=True),
        pages_read=Count("pages", filter=Q(pages__ocr_status=OcrStatus.DONE), distinct=True),
    )
    return render(request, "labeling/documents.html", {"documents": docs})


@login_required
def upload(request: AuthedRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        result = create_document(
            owner=request.user,
            title=form.cleaned_data["title"],
            visibility=form.cleaned_data["visibility"],
            license=form.cleaned_data["license"] or "",
            pages=form.cleaned_data["scans"],
        )
        if result.duplicates:
            links = format_html_join(
                ", ",
                '<a href="{}">{} (page {} of “{}”)</a>',
                (
                    (reverse("labeling:page", args=[p.pk]), up.source_name, p.number, p.document)
                    for up, p in result.duplicates
                ),
            )
            messages.warning(
                request, format_html("You have uploaded these pages before: {}", links)
            )
        if result.document is None:
            form.add_error("scans", "Every page of this upload is already in your documents.")
        else:
            messages.success(
                request, "Uploaded. Tesseract reads the pages; this page updates itself."
            )
            return redirect("labeling:document", pk=result.document.pk)
    return render(request, "labeling/upload.html", {"form": form})


@login_required
def document(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    pages = list(doc.pages.annotate(line_count=Count("lines")))
    # Each page's "Correct lines" link goes to its first line the person has not read yet.
    read = Transcription.objects.filter(line=OuterRef("pk"), user=request.user)
    start: dict[int, tuple[int, bool]] = {}
    for page_id, line_id, done in (
        Line.objects.filter(page__document=doc)
        .annotate(done=Exists(read))
        .order_by("page__number", "order")
        .values_list("page_id", "pk", "done")
    ):
        if page_id not in start or (start[page_id][1] and not done):
            start[page_id] = (line_id, done)
    for pg in pages:
        pg.start_line, pg.start_done = start.get(pg.pk, (None, False))  # type: ignore[attr-defined]
    return render(
        request,
        "labeling/document.html",
        {
            "document": doc,
            "pages": pages,
            "status": _document_status(doc, request),
        },
    )


def _document_status(doc: Document, request: AuthedRequest) -> dict[str, object]:
    counts = dict(doc.pages.values_list("ocr_status").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    progress = document_progress(user=request.user, document_id=doc.pk)
    line_states = dict(
        Line.objects.filter(page__document=doc)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "line_states": {LineStatus(k).label: v for k, v in sorted(line_states.items())},
        "pages": total,
        "pages_read": counts.get(OcrStatus.DONE, 0),
        "pages_failed": counts.get(OcrStatus.FAILED, 0),
        "pending": counts.get(OcrStatus.QUEUED, 0) + counts.get(OcrStatus.RUNNING, 0),
        "lines": progress.total,
        "lines_done": progress.done,
    }


@login_required
@require_GET
def document_status(request: AuthedRequest, pk: int) -> JsonResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    status = _document_status(doc, request)
    status["page_states"] = {
        str(p.pk): {
            "status": p.ocr_status,
            "label": p.get_ocr_status_display(),
            "error": p.ocr_error,
        }
        for p in doc.pages.all()
    }
    return JsonResponse(status)


@login_required
@require_GET
def document_download(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    response = HttpResponse(
        document_text(document=doc, user=request.user), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{text_filename(doc)}"'
    return response


@login_required
def document_delete(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    if request.method == "POST":
        try:
            delete_document(document=doc)
        except DeletionRefused as exc:
            messages.error(request, str(exc))
            return redirect("labeling:document", pk=doc.pk)
        messages.success(request, f"“{doc.title}” is deleted, with its scans and lines.")
        return redirect("labeling:documents")
    return render(request, "labeling/document_delete.html", {"document": doc})


@login_required
@require_POST
def document_email(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    address = verified_address(request.user)
    if address is None:
        messages.error(request, "Verify your e-mail address first; we only send to verified ones.")
    else:
        document_id, user_id = doc.pk, request.user.pk
        transaction.on_commit(lambda: email_document.delay(document_id, user_id))
        messages.success(request, f"We are e-mailing “{doc.title}” as a .txt file to {address}.")
    return redirect("labeling:document", pk=doc.pk)


@login_required
def page(request: AuthedRequest, pk: int) -> HttpResponse:
    pg = get_object_or_404(Page.objects.owned_by(request.user).select_related("document"), pk=pk)
    lines = list(pg.lines.all())
    mine = set(
        Transcription.objects.filter(line__page=pg, user=request.user).values_list(
            "line_id", flat=True
        )
    )
    return render(
        request,
        "labeling/page.html",
        {"page": pg, "document": pg.document, "lines": lines, "mine": mine},
    )


@login_required
@require_GET
def page_image(request: AuthedRequest, pk: int) -> FileResponse:
    pg = get_object_or_404(Page.objects.owned_by(request.user), pk=pk)
    content_type = "image/jpeg" if (pg.image.name or "").endswith(".jpg") else "image/png"
    response = FileResponse(pg.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_POST
def page_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    pg = get_object_or_404(Page.objects.owned_by(request.user), pk=pk)
    if retry_ocr(page=pg):
        messages.success(request, f"Page {pg.number} is queued for Tesseract again.")
    else:
        messages.info(request, f"Page {pg.number} has not failed; nothing to retry.")
    return redirect("labeling:document", pk=pg.document_id)


@login_required
@require_GET
def line_crop(request: AuthedRequest, pk: int) -> HttpResponse:
    ln = get_object_or_404(Line.objects.visible_to(request.user).select_related("page"), pk=pk)
    with ln.page.image.open("rb") as f, Image.open(f) as image:
        crop = ocr.crop_line(image, ln.bbox)
        buffer = io.BytesIO()
        crop.save(buffer, "PNG")
    response = HttpResponse(buffer.getvalue(), content_type="image/png")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
def line(request: AuthedRequest, pk: int) -> HttpResponse:
    ln = get_object_or_404(
        Line.objects.owned_by(request.user).select_related("page__document"), pk=pk
    )
    mine = Transcription.objects.filter(line=ln, user=request.user).first()
    form = TranscriptionForm(
        request.POST or None,
        initial={"text": mine.text if mine else ln.prediction},
        prediction=ln.prediction,
    )
    if request.method == "POST" and form.is_valid():
        seconds = form.cleaned_data["seconds"] or 0.0
        try:
            if form.confirms:
                confirm_prediction(line=ln, user=request.user, seconds_spent=seconds)
            else:
                save_transcription(
                    line=ln,
                    user=request.user,
                    text=form.cleaned_data["text"],
                    seconds_spent=seconds,
                )
        except TranscriptionRefused as exc:
            form.add_error("text", str(exc))
        else:
            following = next_line(line=ln, user=request.user)
            if following is None:
                messages.success(request, "Every line of this document is read. Well done!")
                return redirect("labeling:document", pk=ln.page.document_id)
            return redirect("labeling:line", pk=following.pk)
    siblings = Line.objects.filter(page__document_id=ln.page.document_id).order_by(
        "page__number", "order"
    )
    return render(
        request,
        "labeling/line.html",
        {
            "line": ln,
            "page": ln.page,
            "document": ln.page.document,
            "form": form,
            "mine": mine,
            "progress": document_progress(user=request.user, document_id=ln.page.document_id),
            "previous": siblings.filter(
                Q(page__number__lt=ln.page.number) | Q(page=ln.page, order__lt=ln.order)
            ).last(),
            "following": siblings.filter(
                Q(page__number__gt=ln.page.number) | Q(page=ln.page, order__gt=ln.order)
            ).first(),
            "keyboard_map": ottoman.keyboard(),
        },
    )
