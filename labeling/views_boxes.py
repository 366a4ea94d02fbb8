"""The page's line boxes as JSON for the page editor, one POST per change, and reading the page
again. Thin: a scoped fetch, one `labeling.boxes` call, the page's state back."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import User
from labeling import boxes
from labeling.models import BoxEdit, Line, OcrModel, Page, Transcription
from labeling.ocr import BBox

if TYPE_CHECKING:
    from labeling.views import AuthedRequest

# Tesseract's page segmentation modes worth offering for a page of text.
PSM_CHOICES = [
    ("", gettext_lazy("The platform's method (recommended)")),
    ("3", gettext_lazy("3 · Tesseract finds columns and lines")),
    ("4", gettext_lazy("4 · One column of text")),
    ("6", gettext_lazy("6 · One block of text")),
    ("11", gettext_lazy("11 · Scattered text, no order")),
]


class PageRereadForm(forms.Form):
    model = forms.ModelChoiceField(
        queryset=OcrModel.objects.order_by("name"),
        label=gettext_lazy("Model"),
        required=False,
        empty_label=gettext_lazy("The default model"),
    )
    boxes = forms.ChoiceField(
        label=gettext_lazy("Line boxes"),
        choices=[
            ("keep", gettext_lazy("Keep the boxes; read each line again in its box")),
            ("replace", gettext_lazy("Find the lines afresh (only before anyone typed a line)")),
        ],
        initial="keep",
        widget=forms.RadioSelect,
    )
    psm = forms.TypedChoiceField(
        label=gettext_lazy("Finding lines"),
        choices=PSM_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
    )


def _owned_page(request: AuthedRequest, pk: int) -> Page:
    return get_object_or_404(Page.objects.owned_by(request.user).select_related("document"), pk=pk)


def page_state(page: Page, user: User) -> dict[str, Any]:
    """What the page editor draws: the page, its lines in reading order, the uncovered ink."""
    lines = list(page.lines.order_by("order"))
    mine = {
        t.line_id: t
        for t in Transcription.objects.filter(line__page=page, user=user).only(
            "line_id", "text", "box_changed"
        )
    }
    bands = boxes.unresolved_bands(page, [line.bbox for line in lines])
    last = boxes.undoable(page)
    return {
        "page": {
            "id": page.pk,
            "number": page.number,
            "width": page.width,
            "height": page.height,
            "image": reverse("labeling:page_image", args=[page.pk]),
            "status": page.ocr_status,
            "status_label": page.get_ocr_status_display(),
            "error": page.ocr_error,
            "editable": boxes.can_edit(page),
            "reading": page.is_ocr_pending,
            "undo": None if last is None else {"label": _undo_label(last)},
        },
        "lines": [_line_state(line, mine.get(line.pk)) for line in lines],
        "bands": [{"id": band.index, "box": list(_box(band.box))} for band in bands],
        "missing_label": _missing_label(len(bands)),
    }


def _line_state(line: Line, mine: Transcription | None) -> dict[str, Any]:
    if mine is not None:
        text, label = mine.text, _("Your text")
    elif line.consensus_text:
        text, label = line.consensus_text, _("Agreed text")
    else:
        text, label = line.prediction, _("Tesseract's reading")
    return {
        "id": line.pk,
        "order": line.order,
        "box": list(_box(line.bbox)),
        "text": text,
        "text_label": label,
        "confidence": round(line.confidence, 1),
        "reading": line.needs_reading,
        "mine": mine is not None,
        "box_changed": bool(mine and mine.box_changed),
        "status": line.status,
        "status_label": line.get_status_display(),
        "url": reverse("labeling:line", args=[line.pk]),
    }


def _box(box: BBox) -> tuple[int, int, int, int]:
    return box.left, box.top, box.right, box.bottom


def _undo_label(edit: BoxEdit) -> str:
    if edit.line_number:
        return _("Undo: %(action)s (line %(n)d)") % {
            "action": edit.get_action_display(),
            "n": edit.line_number,
        }
    return _("Undo: %(action)s") % {"action": edit.get_action_display()}


def _missing_label(n: int) -> str:
    if not n:
        return ""
    return ngettext(
        "Tesseract may have missed %(n)d line: its ink is highlighted.",
        "Tesseract may have missed %(n)d lines: their ink is highlighted.",
        n,
    ) % {"n": n}


@login_required
@require_GET
def page_boxes(request: AuthedRequest, pk: int) -> JsonResponse:
    page = _owned_page(request, pk)
    return JsonResponse(page_state(page, request.user))


class BadRequest(Exception):
    pass


def _int(body: dict[str, Any], key: str) -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadRequest(_("“%(key)s” must be a whole number.") % {"key": key})
    return value


def _bbox(body: dict[str, Any]) -> BBox:
    value = body.get("box")
    if (
        not isinstance(value, list)
        or len(value) != 4
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        raise BadRequest(_("“box” must be [left, top, right, bottom] in page pixels."))
    return BBox(*(round(v) for v in value))


def _line(page: Page, body: dict[str, Any], key: str = "line") -> Line:
    line = Line.objects.filter(page=page, pk=_int(body, key)).select_related("page").first()
    if line is None:
        raise boxes.EditRefused(_("That line is no longer on this page; reload the page."))
    return line


# What `_apply` understands (the last part of the edit's address).
ACTIONS = ("add", "move", "split", "merge", "delete", "order", "dismiss", "undo")


def _apply(page: Page, action: str, body: dict[str, Any], user: User) -> tuple[str, int | None]:
    """Run one change; the message to show and the line to select."""
    if action == "add":
        if "band" in body:
            line = boxes.add_line_from_band(page=page, user=user, band=_int(body, "band"))
        else:
            line = boxes.add_line(page=page, user=user, box=_bbox(body))
        return _("Line %(n)d added; Tesseract reads it.") % {"n": line.order}, line.pk
    if action == "move":
        line = boxes.move_box(line=_line(page, body), user=user, box=_bbox(body))
        return _("Line %(n)d moved; Tesseract reads it again.") % {"n": line.order}, line.pk
    if action == "split":
        axis = body.get("axis", "y")
        first, _second = boxes.split_line(
            line=_line(page, body), user=user, at=_int(body, "at"), axis=str(axis)
        )
        return _("Line %(n)d split in two; Tesseract reads both.") % {"n": first.order}, first.pk
    if action == "merge":
        merged = boxes.merge_lines(
            line=_line(page, body), other=_line(page, body, "with"), user=user
        )
        return _("Lines merged into line %(n)d.") % {"n": merged.order}, merged.pk
    if action == "delete":
        line = _line(page, body)
        boxes.delete_line(line=line, user=user)
        return _("Line %(n)d deleted.") % {"n": line.order}, None
    if action == "order":
        ids = body.get("lines")
        if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
            raise BadRequest(_("“lines” must list the page's line ids."))
        boxes.set_order(page=page, user=user, line_ids=ids)
        return _("Reading order saved."), None
    if action == "dismiss":
        boxes.dismiss_band(page=page, user=user, band=_int(body, "band"))
        return _("Marked as not text."), None
    if action == "undo":
        edit = boxes.undo(page=page, user=user)
        return _("Undone: %(action)s.") % {"action": edit.get_action_display()}, None
    raise Http404


def edit_boxes(*, page: Page, user: User, action: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """One change from a JSON body, as the page editor and the API send it: the HTTP status
    and the answer (the page's state with a message, or {"error": ...}). Http404 for an
    unknown action."""
    try:
        data = json.loads(body or b"{}")
        if not isinstance(data, dict):
            raise BadRequest(_("Send a JSON object."))
        message, selected = _apply(page, action, data, user)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return 400, {"error": _("Send a JSON object.")}
    except (BadRequest, boxes.EditRefused) as exc:
        return 400, {"error": str(exc)}
    page.refresh_from_db()
    return 200, {**page_state(page, user), "message": message, "selected": selected}


@login_required
@require_POST
def page_box_edit(request: AuthedRequest, pk: int, action: str) -> JsonResponse:
    page = _owned_page(request, pk)
    status, answer = edit_boxes(page=page, user=request.user, action=action, body=request.body)
    return JsonResponse(answer, status=status)


@login_required
@require_POST
def page_reread(request: AuthedRequest, pk: int) -> HttpResponse:
    page = _owned_page(request, pk)
    form = PageRereadForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how to read the page again."))
        return redirect("labeling:page", pk=page.pk)
    keep = form.cleaned_data["boxes"] == "keep"
    try:
        boxes.reread_page(
            page=page,
            user=request.user,
            model=form.cleaned_data["model"],
            psm=form.cleaned_data["psm"],
            keep_boxes=keep,
        )
    except boxes.EditRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request,
            _("Tesseract reads each line of the page again in its box; this page updates itself.")
            if keep
            else _("Tesseract finds the page's lines afresh; this page updates itself."),
        )
    return redirect("labeling:page", pk=page.pk)
