"""A person's reading of a line: save it, or confirm Tesseract's reading as it stands."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from accounts.models import User
from labeling.models import Line, Transcription
from labeling.ottoman import clean_input

MAX_LINE_CHARS = 500


class TranscriptionRefused(Exception):
    """The text or the line's state does not allow this save; the message is for the person."""


@dataclass(frozen=True)
class Progress:
    done: int
    total: int


@transaction.atomic
def save_transcription(
    *, line: Line, user: User, text: str, seconds_spent: float = 0.0
) -> Transcription:
    """Store (or update) the person's reading of the line, as typed, in NFC.

    `kept_prediction` is true when the stored text is exactly Tesseract's reading.
    """
    if line.is_decided:
        raise TranscriptionRefused("This line has already been decided; it can no longer change.")
    cleaned = clean_input(text)
    if not cleaned:
        raise TranscriptionRefused("The line is empty. Type what the line says, or confirm it.")
    if len(cleaned) > MAX_LINE_CHARS:
        raise TranscriptionRefused(
            f"That is {len(cleaned)} characters; one line holds at most {MAX_LINE_CHARS}."
        )
    seconds = max(0.0, min(float(seconds_spent), 3600.0))
    transcription, created = Transcription.objects.select_for_update().get_or_create(
        line=line,
        user=user,
        defaults={
            "text": cleaned,
            "kept_prediction": cleaned == clean_input(line.prediction),
            "seconds_spent": seconds,
        },
    )
    if not created:
        transcription.text = cleaned
        transcription.kept_prediction = cleaned == clean_input(line.prediction)
        transcription.seconds_spent += seconds
        transcription.save(update_fields=["text", "kept_prediction", "seconds_spent", "updated_at"])
    return transcription


def confirm_prediction(*, line: Line, user: User, seconds_spent: float = 0.0) -> Transcription:
    """Keep Tesseract's reading: a vote for it, like any other label."""
    return save_transcription(
        line=line, user=user, text=line.prediction, seconds_spent=seconds_spent
    )


def document_progress(*, user: User, document_id: int) -> Progress:
    """Lines of the document the person has read, out of all its lines."""
    total = Line.objects.filter(page__document_id=document_id).count()
    done = Transcription.objects.filter(line__page__document_id=document_id, user=user).count()
    return Progress(done=done, total=total)


def next_line(*, line: Line, user: User) -> Line | None:
    """The next line in reading order in the same document that the person has not read yet,
    wrapping to the document's start; None when every line is read."""
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
