"""Pages around dataset releases: the transcription guidelines, a contributor's own line pairs,
and staff's download of a published release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib.admin.views.decorators import staff_member_required
from django.contrib.auth.decorators import login_required, permission_required
from django.http import FileResponse, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from labeling import guidelines as rules
from labeling.models import DatasetRelease, Document, ReleaseStatus
from labeling.releases import document_pairs_zip
from labeling.releases.own import pairs_folder

if TYPE_CHECKING:
    from labeling.views import AuthedRequest

_CHUNK = 1024 * 1024


@require_GET
def guidelines(request: HttpRequest) -> HttpResponse:
    return render(
        request, "labeling/guidelines.html", {"rules": rules.RULES, "version": rules.VERSION}
    )


@login_required
@require_GET
def document_pairs(request: AuthedRequest, pk: int) -> StreamingHttpResponse:
    doc = get_object_or_404(Document.objects.owned_by(request.user), pk=pk)
    response = StreamingHttpResponse(
        document_pairs_zip(document=doc), content_type="application/zip"
    )
    response["Content-Disposition"] = f'attachment; filename="{pairs_folder(doc)}.zip"'
    return response


@staff_member_required
@permission_required("labeling.view_datasetrelease", raise_exception=True)
@require_GET
def release_download(request: HttpRequest, pk: int) -> FileResponse:
    release = get_object_or_404(
        DatasetRelease.objects.filter(status=ReleaseStatus.DONE).exclude(file=""), pk=pk
    )
    # FileResponse reads the stored file in blocks as it sends (local disk or S3 alike).
    stored = release.file.open("rb")
    response = FileResponse(stored, as_attachment=True, filename=f"release-{release.number}.zip")
    response.block_size = _CHUNK
    response["Content-Length"] = str(release.size)
    response["Digest"] = f"sha-256={release.sha256}"
    return response
