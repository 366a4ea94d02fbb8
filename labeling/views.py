"""Thin views: a form, a scoped fetch, one domain call, then redirect or render."""

from __future__ import annotations

import logging

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import TooManyFilesSent
from django.core.paginator import Paginator
from django.db.models import Count, Exists, OuterRef, Q
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from labeling import crop_cache, jobs, ottoman
from labeling.boxes import pages_missing_lines, unresolved_bands
from labeling.documents import (
    DeletionRefused,
    Upload,
    create_document,
    delete_document,
    retry_source,
    source_progress,
)
from labeling.forms import TranscriptionForm, UploadForm, too_many_files_message
from labeling.models import (
    Document,
    Line,
    LineStatus,
    OcrStatus,
    Page,
    SourceFile,
    SplitStatus,
    Transcription,
)
from labeling.notifications import email_document_text
from labeling.reading import can_retry, retry_ocr
from labeling.review.moderation import note_private_access
from labeling.texts import document_text, text_filename
from labeling.transcribing import (
    TranscriptionRefused,
    confirm_prediction,
    document_progress,
    next_line,
    save_transcription,
)
from labeling.views_boxes import PageRereadForm
from labeling.views_interop import reread_form

logger = logging.getLogger(__name__)

LIST_PAGE_SIZE = 20  # documents a page of the lists


class AuthedRequest(HttpRequest):
    """A request behind @login_required: its user is a real User."""

    user: User  # type: ignore[assignment]


def home(request: HttpRequest) -> HttpResponse:
    if request.user.is_authenticated:
        return redirect("labeling:documents")
    return render(request, "labeling/home.html")


@login_required
def documents(request: AuthedRequest) -> HttpResponse:
    docs = (
        Document.objects.owned_by(request.user)
        .annotate(
            page_count=Count("pages", distinct=True),
            pages_read=Count("pages", filter=Q(pages__ocr_status=OcrStatus.DONE), distinct=True),
        )
        .order_by("-created_at", "-pk")  # a query with aggregates drops Meta.ordering
    )
    page = Paginator(docs, LIST_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "labeling/documents.html", {"page": page})


@login_required
def upload(request: AuthedRequest) -> HttpResponse:
    try:
        form = UploadForm(request.POST or None, request.FILES or None)
    except TooManyFilesSent:
        # Django stops reading the request past DATA_UPLOAD_MAX_NUMBER_FILES; say so on the form.
        context = {"form": UploadForm(), "request_errors": [too_many_files_message()]}
        return render(request, "labeling/upload.html", context, status=400)
    if request.method == "POST" and form.is_valid():
        try:
            result = create_document(
                owner=request.user,
                title=form.cleaned_data["title"],
                visibility=form.cleaned_data["visibility"],
                license=form.cleaned_data["license"] or "",
                uploads=form.cleaned_data["scans"],
            )
        except OSError:
            logger.exception("Storing an upload failed")
            form.add_error(
                None,
                _(
                    "The server could not store your files just now (its storage is full or "
                    "unreachable). Nothing was saved; please try again later."
                ),
            )
            return render(request, "labeling/upload.html", {"form": form}, status=503)
        if result.duplicates:
            messages.warning(request, _duplicates_message(result.duplicates))
        if result.document is None:
            form.add_error("scans", _("Every file of this upload is already in your documents."))
        else:
            if result.waiting:
                messages.warning(
                    request,
                    _(
                        "Your scans are stored. The reading service is not reachable right "
                        "now; reading starts by itself as soon as it is back, and this page "
                        "updates itself."
                    ),
                )
            else:
                messages.success(
                    request, _("Uploaded. Tesseract reads the pages; this page updates itself.")
                )
            return redirect("labeling:document", pk=result.document.pk)
    return render(request, "labeling/upload.html", {"form": form})


def _duplicates_message(duplicates: list[tuple[Upload, Page | Document]]) -> str:
    def link(upload: Upload, where: Page | Document) -> tuple[str, str, str]:
        if isinstance(where, Page):
            label = _("page %(number)d of “%(title)s”") % {
                "number": where.number,
                "title": where.document,
            }
            return reverse("labeling:page", args=[where.pk]), upload.name, label
        return reverse("labeling:document", args=[where.pk]), upload.name, f"“{where}”"

    links = format_html_join(", ", '<a href="{}">{} ({})</a>', (link(*d) for d in duplicates))
    return format_html(_("You have uploaded these files before: {}"), links)


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
    missing = pages_missing_lines(pages)
    for pg in pages:
        pg.start_line, pg.start_done = start.get(pg.pk, (None, False))  # type: ignore[attr-defined]
        pg.can_retry = can_retry(pg)  # type: ignore[attr-defined]
        pg.missing = missing.get(pg.pk, 0)  # type: ignore[attr-defined]
    return render(
        request,
        "labeling/document.html",
        {
            "document": doc,
            "pages": pages,
            "sources": _sources(doc),
            "status": _document_status(doc, request),
            "reread_form": reread_form(doc),
            "missing_lines": sum(missing.values()),
        },
    )


def _sources(doc: Document) -> list[SourceFile]:
    """The uploaded files still being split, or that failed, with what to say about each."""
    sources = [s for s in doc.sources.all() if s.status != SplitStatus.DONE or s.duplicates]
    for source in sources:
        source.progress = source_progress(source)  # type: ignore[attr-defined]
        source.can_retry = jobs.is_stuck(source)  # type: ignore[attr-defined]
    return sources


def _document_status(doc: Document, request: AuthedRequest) -> dict[str, object]:
    counts = dict(doc.pages.values_list("ocr_status").annotate(n=Count("pk")).order_by())
    total = sum(counts.values())
    splitting = doc.sources.filter(status__in=[SplitStatus.QUEUED, SplitStatus.RUNNING])
    to_split = sum(s.page_count - s.pages_done for s in splitting)
    progress = document_progress(user=request.user, document_id=doc.pk)
    line_states = dict(
        Line.objects.filter(page__document=doc)
        .values_list("status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "line_states": {str(LineStatus(k).label): v for k, v in sorted(line_states.items())},
        "pages": total,
        "pages_read": counts.get(OcrStatus.DONE, 0),
        "pages_failed": counts.get(OcrStatus.FAILED, 0),
        "pending": counts.get(OcrStatus.QUEUED, 0) + counts.get(OcrStatus.RUNNING, 0) + to_split,
        "pages_to_split": to_split,
        "pages_to_split_label": ngettext(
            "%(n)d more page being prepared", "%(n)d more pages being prepared", to_split
        )
        % {"n": to_split},
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
    status["source_states"] = {
        str(s.pk): {
            "status": s.status,
            "label": s.get_status_display(),
            "progress": source_progress(s),
            "pages_done": s.pages_done,
        }
        for s in doc.sources.all()
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
        messages.success(
            request, _("“%(title)s” is deleted, with its scans and lines.") % {"title": doc.title}
        )
        return redirect("labeling:documents")
    return render(request, "labeling/document_delete.html", {"document": doc})


@login_required
@require_POST
def document_email(request: AuthedRequest, pk: int) -> HttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    queued = email_document_text(document=doc, user=request.user)
    if queued is None:
        messages.error(
            request, _("Verify your e-mail address first; we only send to verified ones.")
        )
    else:
        messages.success(
            request,
            _("We are e-mailing “%(title)s” as a .txt file to %(address)s.")
            % {"title": doc.title, "address": ", ".join(queued.to)},
        )
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
        {
            "page": pg,
            "document": pg.document,
            "lines": lines,
            "mine": mine,
            "bands": unresolved_bands(pg, [line.bbox for line in lines]),
            "state_url": reverse("labeling:page_boxes", args=[pg.pk]),
            "edit_url_base": reverse("labeling:page_box_edit", args=[pg.pk, "add"])[: -len("add/")],
            "reread_form": PageRereadForm(),
            "image_version": crop_cache.image_version(pg),
            "preview": crop_cache.preview_size(pg),
        },
    )


@login_required
@require_GET
def page_image(request: AuthedRequest, pk: int) -> HttpResponseBase:
    """The scan (?v= names its version), or with ?size=preview its copy scaled for the page view."""
    pg = get_object_or_404(Page.objects.owned_by(request.user), pk=pk)
    response: HttpResponseBase
    if request.GET.get("size") == "preview" and crop_cache.preview_size(pg) is not None:
        response = HttpResponse(crop_cache.page_preview_jpeg(pg), content_type="image/jpeg")
    else:
        content_type = "image/jpeg" if (pg.image.name or "").endswith(".jpg") else "image/png"
        response = FileResponse(pg.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@login_required
@require_POST
def page_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    pg = get_object_or_404(Page.objects.owned_by(request.user), pk=pk)
    if retry_ocr(page=pg):
        messages.success(
            request, _("Page %(number)d is queued for Tesseract again.") % {"number": pg.number}
        )
    else:
        messages.info(
            request,
            _("Page %(number)d is being read or is read already; nothing to retry.")
            % {"number": pg.number},
        )
    return redirect("labeling:document", pk=pg.document_id)


@login_required
@require_POST
def source_retry(request: AuthedRequest, pk: int) -> HttpResponse:
    source = get_object_or_404(SourceFile.objects.owned_by(request.user), pk=pk)
    if retry_source(source=source):
        messages.success(request, _("%(name)s is being prepared again.") % {"name": source.name})
    else:
        messages.info(
            request,
            _("%(name)s is being prepared right now; nothing to retry.") % {"name": source.name},
        )
    return redirect("labeling:document", pk=source.document_id)


@login_required
@require_GET
def line_crop(request: AuthedRequest, pk: int) -> HttpResponse:
    ln = get_object_or_404(Line.objects.visible_to(request.user).select_related("page"), pk=pk)
    logged = note_private_access(
        user=request.user, rows=Line.objects.all(), pk=ln.pk, path=request.get_full_path()
    )
    # The same function writes the crop into releases: what a labeler saw is what is exported.
    response = HttpResponse(crop_cache.line_png(ln), content_type="image/png")
    # A logged view is not cached, so that every view of it is logged.
    response["Cache-Control"] = "private, no-store" if logged else "private, max-age=86400"
    return response


def _all_lines_read(request: AuthedRequest, doc: Document) -> HttpResponse:
    """The person has checked every line with a box: say so, unless ink that no box covers is
    left (lines Tesseract may have missed), which the person is sent to instead."""
    pages = list(doc.pages.all())
    missing = pages_missing_lines(pages)
    first = next((pg for pg in pages if pg.pk in missing), None)
    if first is None:
        messages.success(request, _("You have checked every line of this document. Well done!"))
        return redirect("labeling:document", pk=doc.pk)
    messages.warning(
        request,
        ngettext(
            "You have checked every line with a box, but Tesseract may have missed %(n)d line "
            "on this page: draw its box, or mark the ink as not text.",
            "You have checked every line with a box, but Tesseract may have missed %(n)d lines "
            "on this page: draw their boxes, or mark the ink as not text.",
            missing[first.pk],
        )
        % {"n": missing[first.pk]},
    )
    return redirect("labeling:page", pk=first.pk)


def _wants_json(request: HttpRequest) -> bool:
    """The line editor's script saves with fetch and asks for JSON: it shows the next line from
    the copy it fetched while the person typed, so no page load stands between Save and it."""
    return request.headers.get("Accept", "").startswith("application/json")


def _saved_json(request: AuthedRequest, ln: Line, following: Line) -> JsonResponse:
    """The next line after a save, with the person's new progress to put on the copy of that
    line's page fetched before the save."""
    progress = document_progress(user=request.user, document_id=ln.page.document_id)
    return JsonResponse(
        {
            "next": reverse("labeling:line", args=[following.pk]),
            "progress_html": render_to_string(
                "labeling/_line_progress.html", {"progress": progress}, request=request
            ),
        }
    )


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
                finished = _all_lines_read(request, ln.page.document)
                if _wants_json(request):
                    return JsonResponse({"location": finished["Location"]})
                return finished
            if _wants_json(request):
                return _saved_json(request, ln, following)
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
            # Fetched while the person types, so the crop shows at once after Save.
            "prefetch": next_line(line=ln, user=request.user),
        },
    )
