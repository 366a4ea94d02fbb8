"""A person's reading of a line: save it, or confirm Tesseract's reading as it stands."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from accounts.models import User
from labeling.models import Line, Transcription
from labeling.ottoman import clean_input, invisible_controls, looks_ottoman
from labeling.review.consensus import held_back, recompute_line

MAX_LINE_CHARS = 500


class TranscriptionRefused(Exception):
    """The label cannot be taken; the message says why and what to do. Nothing was stored.

    `code` lets a page react (e.g. "latin" shows a Submit-anyway box); `suggested_text` is the
    text the person should check and send again, when there is one.
    """

    def __init__(self, message: str, *, code: str, suggested_text: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.suggested_text = suggested_text


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


def check_text(text: str, *, allow_latin: bool) -> str:
    """The text as it will be stored, or TranscriptionRefused with a message for the person."""
    controls = invisible_controls(text)
    cleaned = clean_input(text)
    if controls:
        raise TranscriptionRefused(
            _(
                "The text held invisible control characters (%(controls)s); they are removed "
                "below. Check the line and send it again."
            )
            % {"controls": ", ".join(controls)},
            code="controls",
            suggested_text=cleaned,
        )
    if not cleaned:
        raise TranscriptionRefused(
            _("The line is empty. Type what the line says, or skip it with a reason."),
            code="empty",
        )
    if len(cleaned) > MAX_LINE_CHARS:
        raise TranscriptionRefused(
            _("That is %(length)d characters; one line holds at most %(limit)d.")
            % {"length": len(cleaned), "limit": MAX_LINE_CHARS},
            code="too_long",
        )
    if not allow_latin and not looks_ottoman(cleaned):
        raise TranscriptionRefused(
            _(
                "This is written in Latin letters, not Ottoman script. Tick “Type Ottoman with "
                "the Latin keys” to type Ottoman letters, or tick “Send it anyway” if the line "
                "really is in Latin letters."
            ),
            code="latin",
        )
    return cleaned


@transaction.atomic
def save_transcription(
    *, line: Line, user: User, text: str, seconds_spent: float = 0.0
) -> Transcription:
    """Store (or update) the person's reading of a line of their document, in NFC.

    `kept_prediction` is true when the stored text is exactly Tesseract's reading. The owner
    of a private document decides its lines alone; in a pool document their reading is one
    vote among the labelers'.
    """
    line = Line.objects.select_for_update().select_related("page__document").get(pk=line.pk)
    if line.is_decided:
        raise TranscriptionRefused(
            _("This line has already been decided; it can no longer change."), code="decided"
        )
    cleaned = check_text(text, allow_latin=True)
    seconds = max(0.0, min(float(seconds_spent), 3600.0))
    kept = cleaned == clean_input(line.prediction)
    transcription, created = Transcription.objects.get_or_create(
        line=line,
        user=user,
        defaults={
            "text": cleaned,
            "kept_prediction": kept,
            "as_predicted": kept,
            "seconds_spent": seconds,
            "counts": not held_back(user),
        },
    )
    if not created:
        transcription.text = cleaned
        transcription.kept_prediction = transcription.as_predicted = kept
        transcription.seconds_spent += seconds
        transcription.box_changed = False  # the person has looked at the line as it is now
        transcription.save(
            update_fields=[
                "text",
                "kept_prediction",
                "as_predicted",
                "seconds_spent",
                "box_changed",
                "updated_at",
            ]
        )
    recompute_line(line=line)
    return transcription


def confirm_prediction(*, line: Line, user: User, seconds_spent: float = 0.0) -> Transcription:
    """Keep Tesseract's reading: a vote for it, like any other label."""
    return save_transcription(
        line=line, user=user, text=line.prediction, seconds_spent=seconds_spent
    )


def document_progress(*, user: User, document_id: int) -> Progress:
    """Lines of the document the person has checked (typed or confirmed), out of all its lines."""
    total = Line.objects.filter(page__document_id=document_id).count()
    done = Transcription.objects.filter(line__page__document_id=document_id, user=user).count()
    return Progress(done=done, total=total)


def next_line(*, line: Line, user: User) -> Line | None:
    """The next line in reading order in the same document that the person has not checked yet,
    wrapping to the document's start; None when they have checked every line."""
    remaining = (
        Line.objects.filter(page__document_id=line.page.document_id)
        .exclude(transcriptions__user=user)
        .exclude(pk=line.pk)
        .order_by("page__number", "order")
    )
    after = remaining.filter(page__number__gt=line.page.number) | remaining.filter(
        page__number=line.page.number, order__gt=line.order
    )
    return after.order_by("page__number", "order").first() or remaining.first()
