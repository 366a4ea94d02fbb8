"""A person fixes a page's line boxes: add, move, split, merge, delete, reorder, dismiss ink
that is not text, read the page again; and undo the latest change.

Each change is one function here, used by the page view (and later the API). Each takes the
page's row lock, so changes to one page never interleave, checks what it is asked, and writes
one `BoxEdit` holding the page's lines (with people's texts) and ink bands as they were, which
is what `undo` restores. A new or changed box is marked `needs_reading`, and the page's job
reads those lines again in their boxes (`reading.read_page`), then looks again for ink that no
box covers. A person's text on a line whose box changed is kept and marked `box_changed`; a
pool line whose box changed after labels were given goes back for labels, recorded as a
`ModerationDecision` like every other change of a line's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from accounts.models import User
from labeling import jobs, segmentation
from labeling.models import (
    BoxAction,
    BoxEdit,
    Line,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrModel,
    OcrStatus,
    Page,
    Transcription,
    Visibility,
)
from labeling.ocr import BBox
from labeling.reading import enqueue_ocr
from labeling.review.verdicts import refresh_lines, refresh_verdicts

MIN_SIDE = 4  # pixels: a smaller box holds no readable text
_SHIFT = 1_000_000  # order numbers are moved out of the way before renumbering (unique)

_LINE_FIELDS = (
    "order",
    "left",
    "top",
    "right",
    "bottom",
    "prediction",
    "confidence",
    "predicted_by_id",
    "provenance",
    "status",
    "consensus_text",
    "agreement",
    "in_pool",
    "label_count",
    "labels_wanted",
    "blind_next",
    "gold_text",
    "flag",
    "needs_reading",
)
_TRANSCRIPTION_FIELDS = (
    "line_id",
    "user_id",
    "text",
    "kept_prediction",
    "seconds_spent",
    "blind",
    "counts",
    "box_changed",
    "as_predicted",  # not in snapshots taken before migration 0019: left to its default
)


class EditRefused(Exception):
    """The change cannot be made as asked; the message says why. Nothing changed."""


@dataclass(frozen=True)
class Band:
    """Ink that no line box covers: `index` names it in `Page.missing_bands`."""

    index: int
    box: BBox


# ---------------------------------------------------------------- reading what a page holds


def unresolved_bands(page: Page, boxes: Sequence[BBox] | None = None) -> list[Band]:
    """The page's bands of uncovered ink that nobody dismissed and no box covers now."""
    if boxes is None:
        boxes = [line.bbox for line in page.lines.all()]
    bands = []
    for index, band in enumerate(page.missing_bands or []):
        box = BBox(*band["box"])
        if not band.get("dismissed") and not segmentation.band_resolved(box, boxes):
            bands.append(Band(index=index, box=box))
    return bands


def pages_missing_lines(pages: Sequence[Page]) -> dict[int, int]:
    """Page id → how many bands of possibly missed lines it still has (pages with none left
    out). One query for the boxes of all the pages."""
    with_bands = [p for p in pages if p.missing_bands]
    boxes: dict[int, list[BBox]] = {p.pk: [] for p in with_bands}
    for line in Line.objects.filter(page__in=with_bands).only(
        "page_id", "left", "top", "right", "bottom"
    ):
        boxes[line.page_id].append(line.bbox)
    counts = {p.pk: len(unresolved_bands(p, boxes[p.pk])) for p in with_bands}
    return {pk: n for pk, n in counts.items() if n}


def undoable(page: Page) -> BoxEdit | None:
    """The change `undo` would take back: the page's latest one not undone yet."""
    return page.box_edits.filter(undone_at__isnull=True).select_related("user").first()


def can_edit(page: Page) -> bool:
    """Boxes can change unless Tesseract is finding the page's lines afresh right now (a job
    that only re-reads lines in their boxes does not stop anyone)."""
    return not (page.is_ocr_pending and not page.reread)


# ---------------------------------------------------------------- the changes


@transaction.atomic
def add_line(*, page: Page, user: User, box: BBox) -> Line:
    """A box for a line Tesseract missed, placed in reading order by where it stands."""
    page = _locked(page)
    box = _checked_box(page, box)
    lines = _ordered(page)
    edit = _begin(page, user, BoxAction.ADD, lines)
    middle = (box.top + box.bottom) / 2
    position = next((i for i, ln in enumerate(lines) if (ln.top + ln.bottom) / 2 > middle), None)
    in_pool = page.document.visibility == Visibility.POOL
    line = Line.objects.create(
        page=page,
        order=_SHIFT * 3,  # renumbered below
        left=box.left,
        top=box.top,
        right=box.right,
        bottom=box.bottom,
        in_pool=in_pool,
        labels_wanted=page.document.labels_needed if in_pool else 1,
        status=LineStatus.OPEN,
        needs_reading=True,
    )
    lines.insert(len(lines) if position is None else position, line)
    _renumber(lines)
    edit.line_number = line.order
    edit.save(update_fields=["line_number"])
    _read_again(page)
    return line


@transaction.atomic
def add_line_from_band(*, page: Page, user: User, band: int) -> Line:
    """Turn a band of uncovered ink into a line: its box is the band's."""
    locked = _locked(page)
    found = next((b for b in unresolved_bands(locked) if b.index == band), None)
    if found is None:
        raise EditRefused(_("That ink is covered or dismissed already; reload the page."))
    return add_line(page=locked, user=user, box=found.box)


@transaction.atomic
def move_box(*, line: Line, user: User, box: BBox) -> Line:
    """Move or resize a line's box."""
    page = _locked(line.page)
    line = _line_of(page, line.pk)
    box = _checked_box(page, box)
    if box == line.bbox:
        raise EditRefused(_("The box is where it was; nothing changed."))
    lines = _ordered(page)
    _begin(page, user, BoxAction.MOVE, lines, line_number=line.order)
    _set_box(line, box, user)
    _read_again(page)
    return line


@transaction.atomic
def split_line(*, line: Line, user: User, at: int, axis: str = "y") -> tuple[Line, Line]:
    """Cut a box in two: across at height `at` (axis "y": the upper part, then the lower) or
    down at `x` (axis "x": the right part, then the left — the text runs right to left). The
    line keeps the first part, with its labels (marked for checking); the second is a new line
    just after it in reading order."""
    page = _locked(line.page)
    line = _line_of(page, line.pk)
    box = line.bbox
    if axis == "y":
        if not box.top + MIN_SIDE <= at <= box.bottom - MIN_SIDE:
            raise EditRefused(_("Split inside the box, not at its edge."))
        first, second = (
            BBox(box.left, box.top, box.right, at),
            BBox(box.left, at, box.right, box.bottom),
        )
    elif axis == "x":
        if not box.left + MIN_SIDE <= at <= box.right - MIN_SIDE:
            raise EditRefused(_("Split inside the box, not at its edge."))
        first, second = (
            BBox(at, box.top, box.right, box.bottom),
            BBox(box.left, box.top, at, box.bottom),
        )
    else:
        raise EditRefused(_("Split across (y) or down (x)."))
    lines = _ordered(page)
    _begin(page, user, BoxAction.SPLIT, lines, line_number=line.order)
    _set_box(line, first, user)
    new = Line.objects.create(
        page=page,
        order=_SHIFT * 3,
        left=second.left,
        top=second.top,
        right=second.right,
        bottom=second.bottom,
        in_pool=line.in_pool,
        labels_wanted=page.document.labels_needed if line.in_pool else 1,
        status=LineStatus.OPEN,
        needs_reading=True,
    )
    lines.insert(next(i for i, ln in enumerate(lines) if ln.pk == line.pk) + 1, new)
    _renumber(lines)
    _read_again(page)
    return line, new


@transaction.atomic
def merge_lines(*, line: Line, other: Line, user: User) -> Line:
    """Join two neighbours in reading order into one line with a box around both. The earlier
    one stays; each person's texts of the two are joined on it (marked for checking)."""
    page = _locked(line.page)
    first, second = sorted((_line_of(page, line.pk), _line_of(page, other.pk)), key=_by_order)
    if first.pk == second.pk:
        raise EditRefused(_("Choose two different lines to merge."))
    lines = _ordered(page)
    if lines.index(second) != lines.index(first) + 1:
        raise EditRefused(
            _("Lines %(a)d and %(b)d are not neighbours in reading order; merge neighbours.")
            % {"a": first.order, "b": second.order}
        )
    _refuse_if_decided(second)
    _begin(page, user, BoxAction.MERGE, lines, line_number=first.order)
    mine = {t.user_id: t for t in first.transcriptions.all()}
    for theirs in second.transcriptions.all():
        kept = mine.get(theirs.user_id)
        if kept is None:  # only on the second line: it moves to the merged one
            Transcription.objects.filter(pk=theirs.pk).update(line=first)
        else:
            joined = f"{kept.text} {theirs.text}"
            Transcription.objects.filter(pk=kept.pk).update(text=joined)
    union = BBox(
        min(first.left, second.left),
        min(first.top, second.top),
        max(first.right, second.right),
        max(first.bottom, second.bottom),
    )
    joined_prediction = " ".join(p for p in (first.prediction, second.prediction) if p)
    Line.objects.filter(pk=first.pk).update(prediction=joined_prediction)
    first.prediction = joined_prediction
    lines = [ln for ln in lines if ln.pk != second.pk]
    second.delete()
    _set_box(first, union, user, force=True)
    _renumber(lines)
    _read_again(page)
    return first


@transaction.atomic
def delete_line(*, line: Line, user: User) -> None:
    """Remove a box that is not text. Its labels go with it (undo brings them back); a line a
    moderator decided on keeps its history and cannot be deleted here."""
    page = _locked(line.page)
    line = _line_of(page, line.pk)
    _refuse_if_decided(line)
    lines = _ordered(page)
    _begin(page, user, BoxAction.DELETE, lines, line_number=line.order)
    lines = [ln for ln in lines if ln.pk != line.pk]
    line.delete()
    _renumber(lines)
    _read_again(page)


@transaction.atomic
def set_order(*, page: Page, user: User, line_ids: Sequence[int]) -> None:
    """Put the page's lines in this reading order (every line of the page, once)."""
    page = _locked(page)
    lines = _ordered(page)
    by_id = {ln.pk: ln for ln in lines}
    if sorted(line_ids) != sorted(by_id) or len(set(line_ids)) != len(line_ids):
        raise EditRefused(_("The order must name every line of the page once; reload the page."))
    if list(line_ids) == [ln.pk for ln in lines]:
        raise EditRefused(_("The lines are in this order already; nothing changed."))
    _begin(page, user, BoxAction.ORDER, lines)
    _renumber([by_id[pk] for pk in line_ids])


@transaction.atomic
def dismiss_band(*, page: Page, user: User, band: int) -> None:
    """A person looked: this uncovered ink is not text (a stamp, a rule, a stain)."""
    page = _locked(page)
    if band not in {b.index for b in unresolved_bands(page)}:
        raise EditRefused(_("That ink is covered or dismissed already; reload the page."))
    _begin(page, user, BoxAction.DISMISS, _ordered(page))
    bands = list(page.missing_bands)
    bands[band] = {**bands[band], "dismissed": True}
    Page.objects.filter(pk=page.pk).update(missing_bands=bands)


@transaction.atomic
def reread_page(
    *, page: Page, user: User, model: OcrModel | None, psm: int | None, keep_boxes: bool
) -> None:
    """Read the page again with `model` (None: the default). Keeping its boxes, Tesseract reads
    each line again in its box and only predictions change. Otherwise it finds the lines
    afresh with page segmentation mode `psm` (None: the platform's method), which is refused
    once anyone has labelled a line of the page: their work would be lost."""
    page = _locked(page)
    if psm is not None and not 1 <= psm <= 13:
        raise EditRefused(_("Choose a page segmentation mode from 1 to 13."))
    lines = _ordered(page)
    if keep_boxes:
        if not lines:
            raise EditRefused(_("The page has no boxes to keep; read it afresh instead."))
        _begin(page, user, BoxAction.REREAD, lines)
        Line.objects.filter(page=page).update(needs_reading=True)
        Page.objects.filter(pk=page.pk).update(ocr_model=model)
        page.ocr_model = model
        _read_again(page)
        return
    if Transcription.objects.filter(line__page=page).exists():
        raise EditRefused(
            _(
                "People have typed lines of this page: finding its lines afresh would lose "
                "their work. Re-read it keeping the boxes, or fix the boxes by hand."
            )
        )
    for line in lines:
        _refuse_if_decided(line)
    _begin(page, user, BoxAction.REREAD, lines)
    Line.objects.filter(page=page).delete()
    Page.objects.filter(pk=page.pk).update(
        ocr_model=model, ocr_psm=psm, reread=False, missing_bands=[]
    )
    enqueue_ocr(pages=[Page(pk=pk) for pk in jobs.requeue(Page.objects.filter(pk=page.pk))])


@transaction.atomic
def undo(*, page: Page, user: User) -> BoxEdit:
    """Take back the page's latest change: its lines, people's texts on them and its ink bands
    as they were before it. Refused when people have typed on the page since (undoing would
    lose their work) or while Tesseract finds the page's lines afresh."""
    page = _locked(page)
    edit = undoable(page)
    if edit is None:
        raise EditRefused(_("There is nothing to undo on this page."))
    since = Q(updated_at__gt=edit.created_at) | Q(created_at__gt=edit.created_at)
    if Transcription.objects.filter(Q(line__page=page) & since).exists():
        raise EditRefused(
            _(
                "People have typed lines of this page since that change; undoing it would "
                "lose their work."
            )
        )
    _restore(page, edit.before, user)
    refresh_lines(Line.objects.filter(page=page).select_related("page__document"))
    edit.undone_at = timezone.now()
    edit.undone_by = user
    edit.save(update_fields=["undone_at", "undone_by"])
    _read_again(page)
    return edit


# ---------------------------------------------------------------- helpers


def _locked(page: Page) -> Page:
    locked = Page.objects.select_for_update().select_related("document").get(pk=page.pk)
    if not can_edit(locked):
        raise EditRefused(
            _("Tesseract is finding this page's lines right now; change the boxes when it is done.")
        )
    return locked


def _line_of(page: Page, pk: int) -> Line:
    line = Line.objects.filter(page=page, pk=pk).first()
    if line is None:
        raise EditRefused(_("That line is no longer on this page; reload the page."))
    return line


def _ordered(page: Page) -> list[Line]:
    return list(Line.objects.filter(page=page).order_by("order"))


def _by_order(line: Line) -> int:
    return line.order


def _checked_box(page: Page, box: BBox) -> BBox:
    clamped = BBox(
        max(0, min(box.left, box.right)),
        max(0, min(box.top, box.bottom)),
        min(page.width, max(box.left, box.right)),
        min(page.height, max(box.top, box.bottom)),
    )
    if clamped.width < MIN_SIDE or clamped.height < MIN_SIDE:
        raise EditRefused(
            _("A line box must be at least %(n)d pixels wide and high, on the page.")
            % {"n": MIN_SIDE}
        )
    return clamped


def _refuse_if_decided(line: Line) -> None:
    if ModerationDecision.objects.filter(line=line).exclude(action=ModerationAction.BOX).exists():
        raise EditRefused(
            _(
                "Line %(n)d has moderators' decisions; it stays as their record. Ask a "
                "moderator to reject it instead."
            )
            % {"n": line.order}
        )


def _renumber(lines: list[Line]) -> None:
    """Give `lines` the orders 1, 2, 3 … (the page's unique order: moved aside first)."""
    Line.objects.filter(pk__in=[ln.pk for ln in lines]).update(order=F("order") + _SHIFT)
    for number, line in enumerate(lines, start=1):
        line.order = number
    Line.objects.bulk_update(lines, ["order"])


def _set_box(line: Line, box: BBox, user: User, *, force: bool = False) -> None:
    """Give the line its new box, to be read again; people's texts on it are kept for checking,
    and a pool line with labels goes back for fresh ones."""
    if box == line.bbox and not force:
        return
    line.left, line.top, line.right, line.bottom = box.left, box.top, box.right, box.bottom
    line.needs_reading = True
    fields = ["left", "top", "right", "bottom", "needs_reading"]
    labels = Transcription.objects.filter(line=line)
    labels.update(box_changed=True)
    if line.in_pool and labels.exists():
        before = line.status
        labels.update(counts=False)
        line.label_count = labels.count()
        line.labels_wanted = line.label_count + line.page.document.labels_needed
        line.status = LineStatus.OPEN
        line.consensus_text = line.gold_text = line.flag = ""
        line.agreement = None
        line.blind_next = False
        fields += [
            "label_count",
            "labels_wanted",
            "status",
            "consensus_text",
            "gold_text",
            "flag",
            "agreement",
            "blind_next",
        ]
        ModerationDecision.objects.create(
            line=line,
            moderator=user,
            action=ModerationAction.BOX,
            from_status=before,
            reason=_("Its box changed after %(n)d labels; they no longer count.")
            % {"n": line.label_count},
        )
    line.save(update_fields=fields)
    refresh_verdicts(line=line)


def _begin(
    page: Page, user: User, action: str, lines: list[Line], *, line_number: int | None = None
) -> BoxEdit:
    return BoxEdit.objects.create(
        page=page,
        user=user,
        action=action,
        line_number=line_number,
        before=_snapshot(page, lines),
    )


def _snapshot(page: Page, lines: list[Line]) -> dict[str, Any]:
    labels = Transcription.objects.filter(line__page=page).order_by("pk")
    return {
        "lines": [{"id": ln.pk, **{f: getattr(ln, f) for f in _LINE_FIELDS}} for ln in lines],
        "transcriptions": [
            {
                "id": t.pk,
                **{f: getattr(t, f) for f in _TRANSCRIPTION_FIELDS},
                "created_at": t.created_at.isoformat(),
                "updated_at": t.updated_at.isoformat(),
            }
            for t in labels
        ],
        "missing_bands": page.missing_bands,
        "ocr_model_id": page.ocr_model_id,
        "ocr_psm": page.ocr_psm,
    }


def _restore(page: Page, before: dict[str, Any], user: User) -> None:
    """The page's lines and texts as `before` holds them: lines added since go, lines removed
    since come back with their ids and texts, the others get their fields back."""
    wanted = {row["id"]: row for row in before["lines"]}
    current = {ln.pk: ln for ln in Line.objects.filter(page=page)}
    Line.objects.filter(pk__in=set(current) - set(wanted)).delete()
    Line.objects.filter(pk__in=set(current) & set(wanted)).update(
        order=F("order") + 2 * _SHIFT  # out of the way of the restored orders
    )
    for pk in set(current) & set(wanted):
        line = current[pk]
        if line.status != wanted[pk]["status"] and line.in_pool:
            ModerationDecision.objects.create(
                line=line,
                moderator=user,
                action=ModerationAction.BOX,
                from_status=line.status,
                reason=_("A change of its box was undone."),
            )
        Line.objects.filter(pk=pk).update(**{f: wanted[pk][f] for f in _LINE_FIELDS})
    Line.objects.bulk_create(
        Line(page=page, pk=pk, **{f: row[f] for f in _LINE_FIELDS})
        for pk, row in wanted.items()
        if pk not in current
    )
    texts = {row["id"]: row for row in before["transcriptions"]}
    existing = set(Transcription.objects.filter(line__page=page).values_list("pk", flat=True))
    Transcription.objects.filter(pk__in=existing - set(texts)).delete()
    for pk in existing & set(texts):
        Transcription.objects.filter(pk=pk).update(
            **{f: texts[pk][f] for f in _TRANSCRIPTION_FIELDS if f in texts[pk]}
        )
    Transcription.objects.bulk_create(
        Transcription(pk=pk, **{f: row[f] for f in _TRANSCRIPTION_FIELDS if f in row})
        for pk, row in texts.items()
        if pk not in existing
    )
    # auto_now_add/auto_now would stamp the recreated texts with now; they keep their times.
    for pk, row in texts.items():
        if pk not in existing:
            Transcription.objects.filter(pk=pk).update(
                created_at=_when(row["created_at"]), updated_at=_when(row["updated_at"])
            )
    Page.objects.filter(pk=page.pk).update(
        missing_bands=before["missing_bands"],
        ocr_model_id=before["ocr_model_id"],
        ocr_psm=before["ocr_psm"],
    )


def _when(value: str) -> datetime:
    parsed = parse_datetime(value)
    assert parsed is not None
    return parsed


def _read_again(page: Page) -> None:
    """Hand the page to its job to read the lines that need it and look again for uncovered
    ink: queued now when it rests; a job waiting or running picks the change up itself."""
    if page.ocr_status in (OcrStatus.DONE, OcrStatus.FAILED):
        Page.objects.filter(pk=page.pk).update(reread=True)
        queued = jobs.requeue(Page.objects.filter(pk=page.pk))
        enqueue_ocr(pages=[Page(pk=pk) for pk in queued])
    # Otherwise its job (`reread`: it only re-reads lines) is waiting or running; it reads what
    # needs it, and runs again when a box changed while it was reading.
