"""The REST API, thin over the domain functions the site uses: a scoped fetch, one call, the
answer. Another person's private row is a 404 here exactly as on the site, because every view
fetches through the same querysets (`owned_by`, `visible_to`, `for_moderation`)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import get_adapter
from allauth.account.models import EmailAddress
from django import forms
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import TooManyFilesSent
from django.db.models import Count, F, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.decorators import (
    api_view,
    parser_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.exceptions import NotAuthenticated, PermissionDenied, Throttled
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.models import User
from api import serializers as s
from api.models import ApiToken
from api.pagination import Cursor
from api.throttling import PerAddressThrottle, PerUserThrottle
from api.tokens import create_token, revoke_token
from labeling import boxes, training
from labeling.admin_training import StartTrainingForm
from labeling.crops import PageCrops
from labeling.documents import DeletionRefused, create_document, delete_document, source_progress
from labeling.exports.xml import FORMATS, DocumentXml
from labeling.forms import UploadForm, too_many_files_message
from labeling.models import (
    Assignment,
    AssignmentState,
    DatasetRelease,
    Document,
    Line,
    OcrModel,
    OcrStatus,
    Page,
    ReleaseStatus,
    SourceFile,
    SplitStatus,
    TrainingRun,
    Transcription,
    Visibility,
)
from labeling.review.labels import skip_line, submit_label
from labeling.review.moderation import note_private_access
from labeling.review.queue import ClaimRefused, claim_next
from labeling.texts import document_text, text_filename
from labeling.transcribing import TranscriptionRefused, confirm_prediction, save_transcription
from labeling.views_boxes import ACTIONS, edit_boxes
from labeling.views_interop import exportable_by

ERR = s.ErrorSerializer
AUTHED = {401: ERR, 429: ERR}
FOUND = {**AUTHED, 404: ERR}
STAFF = {**AUTHED, 403: ERR}
# Refusals that are about the lease or the line, not the text typed: the client should move on.
LEASE_CODES = {
    "foreign",
    "duplicate",
    "skipped",
    "banned",
    "withdrawn",
    "decided",
    "expired",
    "not_active",
}
_CHUNK = 1024 * 1024
# A refused text ({"text": [msg], "code": …}), or a body that is not one (field errors).
BAD_TEXT = OpenApiResponse(
    s.TextRefusedSerializer, description="The text refused, or field errors: {field: [msg]}."
)
BAD = OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors: {field: [msg]}.")
# Every list is cursor-paginated; a cursor that is not one of ours answers 404.
PAGE_PARAMS = [
    OpenApiParameter("cursor", str, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("page_size", int, OpenApiParameter.QUERY, required=False),
]


def _user(request: Request) -> User:
    user = request.user
    if not isinstance(user, User):  # IsAuthenticated let it through: never an AnonymousUser
        raise NotAuthenticated
    return user


def _refused_text(exc: TranscriptionRefused) -> Response:
    """A refusal of the typed text (400, as a field error) or of the lease (409)."""
    if exc.code in LEASE_CODES:
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_409_CONFLICT)
    body: dict[str, Any] = {"text": [str(exc)], "code": exc.code}
    if exc.suggested_text is not None:
        body["suggested_text"] = exc.suggested_text
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


def _paginated(
    request: Request, rows: QuerySet[Any], serializer: type[Any], ordering: str = "-pk"
) -> Response:
    paginator = Cursor()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(rows, request)
    data = serializer(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


# ------------------------------------------------------------------------------ tokens, me


@extend_schema(
    methods=["POST"],
    request=s.TokenRequestSerializer,
    responses={201: s.TokenSerializer, 400: ERR, 429: ERR},
    auth=[],
    summary="Sign in with e-mail and password: a new token",
)
@extend_schema(
    methods=["DELETE"],
    request=None,
    responses={204: None, 400: ERR, **AUTHED},
    summary="Revoke the token this request uses",
)
@api_view(["POST", "DELETE"])
@permission_classes([AllowAny])
@throttle_classes([PerUserThrottle, PerAddressThrottle])
def auth_token(request: Request) -> Response:
    if request.method == "DELETE":
        if not isinstance(request.user, User):
            raise NotAuthenticated
        if not isinstance(request.auth, ApiToken):
            return Response(
                {"detail": _("This request used no token; sign out on the site instead.")},
                status=status.HTTP_400_BAD_REQUEST,
            )
        revoke_token(token=request.auth)
        return Response(status=status.HTTP_204_NO_CONTENT)
    given = s.TokenRequestSerializer(data=request.data)
    wrong = Response(
        {"detail": _("The e-mail address and/or password you specified are not correct.")},
        status=status.HTTP_400_BAD_REQUEST,
    )
    if not given.is_valid():
        return wrong
    person = _sign_in(request, given.validated_data["email"], given.validated_data["password"])
    if not isinstance(person, User):
        return wrong
    if not EmailAddress.objects.filter(user=person, verified=True).exists():
        return Response(
            {"detail": _("Confirm your e-mail address first: follow the link we sent you.")},
            status=status.HTTP_400_BAD_REQUEST,
        )
    token, key = create_token(user=person, name=given.validated_data["name"] or "API")
    return Response(
        {"token": key, "id": token.pk, "name": token.name}, status=status.HTTP_201_CREATED
    )


def _sign_in(request: Request, email: str, password: str) -> AbstractBaseUser | None:
    """allauth's authentication, with its rate limit on failed sign-ins: the site's login and
    this endpoint count the same failures for an address."""
    django_request = request._request
    try:
        return get_adapter(django_request).authenticate(
            django_request, email=email.strip(), password=password
        )
    except forms.ValidationError as refusal:
        raise Throttled(detail=" ".join(refusal.messages), wait=300) from refusal


@extend_schema(responses={200: s.MeSerializer, **AUTHED})
@api_view(["GET"])
def me(request: Request) -> Response:
    return Response(s.MeSerializer(_user(request)).data)


# ------------------------------------------------------------------------------ documents


def _count_of(rows: QuerySet[Any], by: str) -> Coalesce:
    counted = rows.order_by().values(by).annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


def documents_with_counts(user: User) -> QuerySet[Document]:
    """The person's documents with what the document page shows about each: pages (read,
    failed, pending — pages still to be cut from their files count as pending), lines, and the
    lines the person has transcribed."""
    pages = Page.objects.filter(document=OuterRef("pk"))
    splitting = (
        SourceFile.objects.filter(
            document=OuterRef("pk"), status__in=[SplitStatus.QUEUED, SplitStatus.RUNNING]
        )
        .order_by()
        .values("document")
        .annotate(n=Sum(F("page_count") - F("pages_done")))
        .values("n")
    )
    return (
        Document.objects.owned_by(user)
        .annotate(
            page_count=_count_of(pages, "document"),
            pages_read=_count_of(pages.filter(ocr_status=OcrStatus.DONE), "document"),
            pages_failed=_count_of(pages.filter(ocr_status=OcrStatus.FAILED), "document"),
            pages_pending=_count_of(
                pages.filter(ocr_status__in=[OcrStatus.QUEUED, OcrStatus.RUNNING]), "document"
            ),
            to_split=Coalesce(Subquery(splitting, output_field=IntegerField()), Value(0)),
            pending=F("pages_pending") + F("to_split"),
            line_count=_count_of(
                Line.objects.filter(page__document=OuterRef("pk")), "page__document"
            ),
            lines_done=_count_of(
                Transcription.objects.filter(line__page__document=OuterRef("pk"), user=user),
                "line__page__document",
            ),
        )
        .order_by("-pk")
    )


def _detailed(document: Document) -> Document:
    """Attach the pages, files and `done` that the detail shows."""
    pages = list(document.pages.annotate(line_count=Count("lines")).order_by("number"))
    missing = boxes.pages_missing_lines(pages)
    document.api_pages = [  # type: ignore[attr-defined]
        {
            "id": page.pk,
            "number": page.number,
            "status": page.ocr_status,
            "status_label": page.get_ocr_status_display(),
            "error": page.ocr_error,
            "lines": page.line_count,  # type: ignore[attr-defined]
            "missing_lines": missing.get(page.pk, 0),
            "width": page.width,
            "height": page.height,
        }
        for page in pages
    ]
    sources = list(document.sources.order_by("position"))
    document.api_sources = [  # type: ignore[attr-defined]
        {
            "id": source.pk,
            "name": source.name,
            "status": source.status,
            "progress": source_progress(source),
            "error": source.error,
        }
        for source in sources
    ]
    document.api_done = not any(  # type: ignore[attr-defined]
        page.is_ocr_pending for page in pages
    ) and not any(source.status in (SplitStatus.QUEUED, SplitStatus.RUNNING) for source in sources)
    return document


@extend_schema(
    methods=["GET"],
    responses={200: s.paginated(s.DocumentSerializer), **AUTHED, 404: ERR},
    parameters=PAGE_PARAMS,
    operation_id="documents_list",
    summary="My documents",
)
@extend_schema(
    methods=["POST"],
    request={"multipart/form-data": s.UploadSerializer},
    responses={
        201: s.CreatedDocumentSerializer,
        400: OpenApiResponse(OpenApiTypes.OBJECT, description="Field errors: {field: [msg]}"),
        503: ERR,
        **AUTHED,
    },
    summary="Upload scans as a new document",
)
@api_view(["GET", "POST"])
@parser_classes([MultiPartParser, FormParser, JSONParser])
def documents(request: Request) -> Response:
    user = _user(request)
    if request.method == "GET":
        return _paginated(request, documents_with_counts(user), s.DocumentSerializer)
    try:
        form = UploadForm(request.POST, request.FILES)
    except TooManyFilesSent:
        return Response({"scans": [too_many_files_message()]}, status=400)
    if not form.is_valid():
        return Response(_form_errors(form), status=status.HTTP_400_BAD_REQUEST)
    try:
        result = create_document(
            owner=user,
            title=form.cleaned_data["title"],
            visibility=form.cleaned_data["visibility"],
            license=form.cleaned_data["license"] or "",
            uploads=form.cleaned_data["scans"],
        )
    except OSError:
        return Response(
            {
                "detail": _(
                    "The server could not store your files just now (its storage is full or "
                    "unreachable). Nothing was saved; please try again later."
                )
            },
            status=status.HTTP_503_SERVICE_UNAVAILABLE,
        )
    if result.document is None:
        return Response(
            {"scans": [_("Every file of this upload is already in your documents.")]},
            status=status.HTTP_400_BAD_REQUEST,
        )
    document = _detailed(documents_with_counts(user).get(pk=result.document.pk))
    document.api_duplicates = [  # type: ignore[attr-defined]
        {
            "name": upload.name,
            "document": where.document_id if isinstance(where, Page) else where.pk,
            "page": where.pk if isinstance(where, Page) else None,
        }
        for upload, where in result.duplicates
    ]
    return Response(
        s.CreatedDocumentSerializer(document, context={"request": request}).data,
        status=status.HTTP_201_CREATED,
    )


def _form_errors(form: forms.Form) -> dict[str, list[str]]:
    """The form's messages by field, as the site shows them ("non_field_errors" for the
    form's own)."""
    return {
        ("non_field_errors" if field == "__all__" else field): [str(m) for m in messages]
        for field, messages in form.errors.items()
    }


@extend_schema(methods=["GET"], responses={200: s.DocumentDetailSerializer, **FOUND})
@extend_schema(methods=["DELETE"], responses={204: None, 409: ERR, **FOUND})
@api_view(["GET", "DELETE"])
def document(request: Request, pk: int) -> Response:
    user = _user(request)
    doc = get_object_or_404(documents_with_counts(user), pk=pk)
    if request.method == "DELETE":
        try:
            delete_document(document=doc)
        except DeletionRefused as exc:
            return Response({"detail": str(exc)}, status=status.HTTP_409_CONFLICT)
        return Response(status=status.HTTP_204_NO_CONTENT)
    return Response(s.DocumentDetailSerializer(_detailed(doc)).data)


@extend_schema(
    responses={(200, "text/plain"): OpenApiTypes.STR, **FOUND},
    summary="The document as UTF-8 text",
)
@api_view(["GET"])
def document_download(request: Request, pk: int) -> HttpResponse:
    user = _user(request)
    doc = get_object_or_404(Document.objects.owned_by(user), pk=pk)
    response = HttpResponse(
        document_text(document=doc, user=user), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{text_filename(doc)}"'
    return response


@extend_schema(
    parameters=[OpenApiParameter("fmt", str, OpenApiParameter.PATH, enum=sorted(FORMATS))],
    responses={(200, "application/zip"): OpenApiTypes.BINARY, **FOUND},
    summary="PAGE XML or ALTO with the page images, as a zip",
)
@api_view(["GET"])
def document_export(request: Request, pk: int, fmt: str) -> StreamingHttpResponse:
    export_format = FORMATS.get(fmt)
    if export_format is None:
        raise Http404
    doc = get_object_or_404(exportable_by(_user(request)), pk=pk)
    export = DocumentXml(document=doc, format=export_format)
    response = StreamingHttpResponse(export.chunks(), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


# ------------------------------------------------------------------------------ pages and lines


def _with_mine(lines: list[Line], user: User) -> list[Line]:
    """Attach the person's text to each line, and hide the prediction of a line they hold
    blind (the queue showed it without Tesseract's reading; so must this)."""
    ids = [line.pk for line in lines]
    mine = dict(
        Transcription.objects.filter(line_id__in=ids, user=user).values_list("line_id", "text")
    )
    blind = set(
        Assignment.objects.filter(
            line_id__in=ids, user=user, blind=True, state=AssignmentState.ACTIVE
        ).values_list("line_id", flat=True)
    )
    for line in lines:
        line.api_my_text = mine.get(line.pk)  # type: ignore[attr-defined]
        line.api_blind = line.pk in blind  # type: ignore[attr-defined]
    return lines


@extend_schema(responses={200: s.PageSerializer, **FOUND})
@api_view(["GET"])
def page(request: Request, pk: int) -> Response:
    user = _user(request)
    pg = get_object_or_404(Page.objects.owned_by(user), pk=pk)
    lines = _with_mine(list(pg.lines.order_by("order")), user)
    pg.api_lines = lines  # type: ignore[attr-defined]
    pg.api_bands = boxes.unresolved_bands(pg, [line.bbox for line in lines])  # type: ignore[attr-defined]
    return Response(s.PageSerializer(pg, context={"request": request}).data)


@extend_schema(
    responses={(200, "image/png"): OpenApiTypes.BINARY, **FOUND},
    summary="The page's image (PNG or JPEG)",
)
@api_view(["GET"])
def page_image(request: Request, pk: int) -> FileResponse:
    pg = get_object_or_404(Page.objects.owned_by(_user(request)), pk=pk)
    content_type = "image/jpeg" if (pg.image.name or "").endswith(".jpg") else "image/png"
    response = FileResponse(pg.image.open("rb"), content_type=content_type)
    response["Cache-Control"] = "private, max-age=86400"
    return response


@extend_schema(
    parameters=[OpenApiParameter("action", str, OpenApiParameter.PATH, enum=list(ACTIONS))],
    request=OpenApiTypes.OBJECT,
    responses={200: s.BoxStateSerializer, 400: s.BoxErrorSerializer, **FOUND},
    summary="Change the page's line boxes, as the page editor does",
    description=(
        "Bodies as the page editor sends them: add {box} or {band}; move {line, box}; split "
        "{line, at, axis: y|x}; merge {line, with}; delete {line}; order {lines: [ids]}; "
        "dismiss {band}; undo {}. Boxes are [left, top, right, bottom] in page pixels."
    ),
)
@api_view(["POST"])
@parser_classes([JSONParser])
def page_box_edit(request: Request, pk: int, action: str) -> Response:
    user = _user(request)
    pg = get_object_or_404(Page.objects.owned_by(user).select_related("document"), pk=pk)
    if action not in ACTIONS:
        raise Http404
    code, answer = edit_boxes(page=pg, user=user, action=action, body=request.body)
    return Response(answer, status=code)


@extend_schema(responses={200: s.LineSerializer, **FOUND})
@api_view(["GET"])
def line(request: Request, pk: int) -> Response:
    user = _user(request)
    ln = get_object_or_404(Line.objects.visible_to(user), pk=pk)
    note_private_access(user=user, rows=Line.objects.all(), pk=ln.pk, path=request.path)
    _with_mine([ln], user)
    return Response(s.LineSerializer(ln, context={"request": request}).data)


@extend_schema(
    parameters=[OpenApiParameter("box", str, OpenApiParameter.QUERY, required=False)],
    responses={(200, "image/png"): OpenApiTypes.BINARY, **FOUND},
    summary="The line's crop, as labelers see it and releases export it",
)
@api_view(["GET"])
def line_crop(request: Request, pk: int) -> HttpResponse:
    user = _user(request)
    ln = get_object_or_404(Line.objects.visible_to(user).select_related("page"), pk=pk)
    logged = note_private_access(
        user=user, rows=Line.objects.all(), pk=ln.pk, path=request.get_full_path()
    )
    with ln.page.image.open("rb") as f:
        crops = PageCrops(f.read())
    response = HttpResponse(crops.png(ln.bbox), content_type="image/png")
    crops.close()
    response["Cache-Control"] = "private, no-store" if logged else "private, max-age=86400"
    return response


@extend_schema(
    request=s.TranscriptionInSerializer,
    responses={200: s.TranscriptionResultSerializer, 400: BAD_TEXT, **FOUND},
    summary="Save my transcription of a line of my document",
)
@api_view(["PUT"])
def line_transcription(request: Request, pk: int) -> Response:
    user = _user(request)
    ln = get_object_or_404(Line.objects.owned_by(user), pk=pk)
    given = s.TranscriptionInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        saved = save_transcription(
            line=ln,
            user=user,
            text=given.validated_data["text"],
            seconds_spent=given.validated_data["seconds"],
        )
    except TranscriptionRefused as exc:
        return _refused_as_text(exc)
    return Response(s.TranscriptionResultSerializer(saved).data)


def _refused_as_text(exc: TranscriptionRefused) -> Response:
    body: dict[str, Any] = {"text": [str(exc)], "code": exc.code}
    if exc.suggested_text is not None:
        body["suggested_text"] = exc.suggested_text
    return Response(body, status=status.HTTP_400_BAD_REQUEST)


@extend_schema(
    request=s.ConfirmInSerializer,
    responses={200: s.TranscriptionResultSerializer, 400: BAD_TEXT, **FOUND},
    summary="Keep Tesseract's reading of a line of my document",
)
@api_view(["POST"])
def line_confirm(request: Request, pk: int) -> Response:
    user = _user(request)
    ln = get_object_or_404(Line.objects.owned_by(user), pk=pk)
    given = s.ConfirmInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        saved = confirm_prediction(
            line=ln, user=user, seconds_spent=given.validated_data["seconds"]
        )
    except TranscriptionRefused as exc:
        return _refused_as_text(exc)
    return Response(s.TranscriptionResultSerializer(saved).data)


@extend_schema(
    responses={200: s.paginated(s.MyTranscriptionSerializer), **AUTHED, 404: ERR},
    parameters=PAGE_PARAMS,
)
@api_view(["GET"])
def my_transcriptions(request: Request) -> Response:
    rows = Transcription.objects.filter(user=_user(request))
    return _paginated(request, rows, s.MyTranscriptionSerializer)


# ------------------------------------------------------------------------------ the queue


@extend_schema(
    request=s.NextInSerializer,
    responses={
        204: None,
        200: s.AssignmentSerializer,
        400: BAD,
        403: s.RefusalSerializer,
        **FOUND,
    },
    summary="The next pool line to label (your live lease first); 204 when none is left",
)
@api_view(["POST"])
def queue_next(request: Request) -> Response:
    user = _user(request)
    given = s.NextInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    chosen = given.validated_data.get("document")
    document = None
    if chosen is not None:
        document = get_object_or_404(Document.objects.filter(visibility=Visibility.POOL), pk=chosen)
    try:
        claim = claim_next(user=user, document=document)
    except ClaimRefused as exc:
        return Response({"detail": str(exc), "code": exc.code}, status=status.HTTP_403_FORBIDDEN)
    if claim is None:
        return Response(status=status.HTTP_204_NO_CONTENT)
    lease = claim.assignment
    ln = Line.objects.select_related("page__document").get(pk=lease.line_id)
    context = {"request": request}
    return Response(
        {
            "assignment": lease.pk,
            "expires_at": lease.expires_at,
            "blind": lease.blind,
            "resumed": claim.resumed,
            "line": {
                "id": ln.pk,
                "crop": s.crop_url(context, ln),
                "width": ln.width,
                "height": ln.height,
            },
            "prediction": None if lease.blind else ln.prediction,
            "document_title": ln.page.document.title,
        }
    )


@extend_schema(
    request=s.SubmitInSerializer,
    responses={
        200: s.SubmittedSerializer,
        400: BAD_TEXT,
        409: s.RefusalSerializer,
        **FOUND,
    },
    summary="Send my reading of the leased line (again: answered 200, counted once)",
)
@api_view(["POST"])
def queue_submit(request: Request, assignment: int) -> Response:
    user = _user(request)
    lease = get_object_or_404(Assignment.objects.filter(user=user), pk=assignment)
    given = s.SubmitInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    data = given.validated_data
    try:
        result = submit_label(
            assignment_id=lease.pk,
            user=user,
            text=data["text"],
            confirm=data["confirm"],
            allow_latin=data["allow_latin"],
            seconds_spent=data["seconds"],
        )
    except TranscriptionRefused as exc:
        return _refused_text(exc)
    line_status = Line.objects.values_list("status", flat=True).get(pk=lease.line_id)
    return Response({"line": lease.line_id, "status": line_status, "repeated": result.repeated})


@extend_schema(
    request=s.SkipInSerializer,
    responses={
        200: s.SkippedSerializer,
        400: OpenApiTypes.OBJECT,
        409: s.RefusalSerializer,
        **FOUND,
    },
    summary="Give the leased line back, with a reason",
)
@api_view(["POST"])
def queue_skip(request: Request, assignment: int) -> Response:
    user = _user(request)
    lease = get_object_or_404(Assignment.objects.filter(user=user), pk=assignment)
    given = s.SkipInSerializer(data=request.data)
    given.is_valid(raise_exception=True)
    try:
        skipped = skip_line(
            assignment_id=lease.pk, user=user, reason=given.validated_data["reason"]
        )
    except TranscriptionRefused as exc:
        return _refused_text(exc)
    return Response({"line": skipped.pk, "status": skipped.status})


# ------------------------------------------------------------------------------ staff


def _staff(request: Request, perm: str) -> None:
    """Staff (is_staff) holding the permission the site's page or admin action needs: what a
    moderator may do on the site they may do here, nothing more."""
    user = _user(request)
    if not (user.is_staff and user.has_perm(perm)):
        raise PermissionDenied


@extend_schema(
    responses={200: s.paginated(s.ReleaseSerializer), **STAFF, 404: ERR}, parameters=PAGE_PARAMS
)
@api_view(["GET"])
def releases(request: Request) -> Response:
    _staff(request, "labeling.view_datasetrelease")
    return _paginated(
        request, DatasetRelease.objects.all(), s.ReleaseSerializer, ordering="-number"
    )


@extend_schema(
    responses={(200, "application/zip"): OpenApiTypes.BINARY, **STAFF, 404: ERR},
    summary="A published release's zip",
)
@api_view(["GET"])
def release_download(request: Request, pk: int) -> FileResponse:
    _staff(request, "labeling.view_datasetrelease")
    release = get_object_or_404(
        DatasetRelease.objects.filter(status=ReleaseStatus.DONE).exclude(file=""), pk=pk
    )
    response = FileResponse(
        release.file.open("rb"), as_attachment=True, filename=f"release-{release.number}.zip"
    )
    response.block_size = _CHUNK
    response["Content-Length"] = str(release.size)
    response["Digest"] = f"sha-256={release.sha256}"
    return response


@extend_schema(
    responses={200: s.paginated(s.OcrModelSerializer), **STAFF, 404: ERR}, parameters=PAGE_PARAMS
)
@api_view(["GET"])
def models(request: Request) -> Response:
    _staff(request, "labeling.view_ocrmodel")
    return _paginated(request, OcrModel.objects.all(), s.OcrModelSerializer, ordering="name")


@extend_schema(request=None, responses={200: s.OcrModelSerializer, **STAFF, 404: ERR})
@api_view(["POST"])
def model_make_default(request: Request, pk: int) -> Response:
    _staff(request, "labeling.change_ocrmodel")
    model = get_object_or_404(OcrModel, pk=pk)
    training.make_default(model=model)
    model.refresh_from_db()
    return Response(s.OcrModelSerializer(model).data)


@extend_schema(
    methods=["GET"],
    responses={200: s.paginated(s.TrainingRunSerializer), **STAFF, 404: ERR},
    parameters=PAGE_PARAMS,
    operation_id="training_runs_list",
)
@extend_schema(
    methods=["POST"],
    request=s.TrainingInSerializer,
    responses={201: s.TrainingRunSerializer, 400: OpenApiTypes.OBJECT, **STAFF},
    summary="Start a training run (as the admin's form does)",
)
@api_view(["GET", "POST"])
def training_runs(request: Request) -> Response:
    if request.method == "GET":
        _staff(request, "labeling.view_trainingrun")
        return _paginated(request, TrainingRun.objects.all(), s.TrainingRunSerializer)
    _staff(request, "labeling.add_trainingrun")
    fields = {"max_iterations": 10000, "max_minutes": 60, "learning_rate": 0.0005}
    if hasattr(request.data, "items"):
        fields.update({k: v for k, v in request.data.items() if isinstance(k, str)})
    form = StartTrainingForm(fields)
    if not form.is_valid():
        return Response(_form_errors(form), status=status.HTTP_400_BAD_REQUEST)
    try:
        run = training.start_training(created_by=_user(request), **form.cleaned_data)
    except training.TrainingRefused as refusal:
        return Response({"detail": str(refusal)}, status=status.HTTP_400_BAD_REQUEST)
    return Response(s.TrainingRunSerializer(run).data, status=status.HTTP_201_CREATED)


@extend_schema(responses={200: s.TrainingRunSerializer, **STAFF, 404: ERR})
@api_view(["GET"])
def training_run(request: Request, pk: int) -> Response:
    _staff(request, "labeling.view_trainingrun")
    return Response(s.TrainingRunSerializer(get_object_or_404(TrainingRun, pk=pk)).data)
