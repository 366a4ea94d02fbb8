"""A document's line counts, kept by database triggers, always equal counting its lines: after
lines are read, labelled, approved, made gold, moved, deleted, and the document deleted."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.db.models import Count, Q

from accounts.models import User
from labeling import boxes
from labeling.documents import delete_document
from labeling.models import Document, DocumentLineCounts, Line, LineStatus
from labeling.review.moderation import approve_line, make_gold
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db


def counted() -> dict[int, tuple[int, int, int]]:
    """The counts as the triggers keep them, documents with no lines left out."""
    return {
        row.document_id: (row.lines, row.open_lines, row.agreed_lines)
        for row in DocumentLineCounts.objects.all()
        if row.lines
    }


def recounted() -> dict[int, tuple[int, int, int]]:
    """The same counts, counted now from the lines."""
    rows = (
        Line.objects.values("page__document_id")
        .annotate(
            n=Count("pk"),
            open=Count("pk", filter=Q(status=LineStatus.OPEN, gold_text="")),
            agreed=Count("pk", filter=Q(status__in=[LineStatus.AGREED, LineStatus.APPROVED])),
        )
        .order_by()
    )
    return {row["page__document_id"]: (row["n"], row["open"], row["agreed"]) for row in rows}


def test_the_counts_follow_every_change_to_the_lines(
    user: User,
    moderator: User,
    read_document: Callable[..., Document],
    pool_lines: Callable[..., list[Line]],
) -> None:
    own = read_document(predictions=("الف", "بى", "جيم"))
    first, _, third = own.pages.get().lines.order_by("order")
    pool = pool_lines((50.0, 20.0, 80.0, 30.0))
    assert counted() == recounted() == {own.pk: (3, 3, 0), pool[0].page.document_id: (4, 4, 0)}

    save_transcription(line=first, user=user, text="الف", seconds_spent=1.0)  # agreed: one label
    Line.objects.filter(pk=pool[0].pk).update(status=LineStatus.DISPUTED)  # no save() at all
    assert counted()[pool[0].page.document_id] == (4, 3, 0)
    approve_line(line=pool[0], moderator=moderator, text="كتاب")
    make_gold(line=pool[0], moderator=moderator, answer="كتاب")
    Line.objects.filter(pk=pool[1].pk).update(gold_text="كتاب")  # a gold line is not open work
    first.refresh_from_db()
    first.save()  # saved unchanged: nothing counted twice
    assert counted() == recounted()
    assert counted()[own.pk] == (3, 2, 1)
    assert counted()[pool[0].page.document_id] == (4, 2, 1)

    boxes.delete_line(line=third, user=user)
    assert counted()[own.pk] == (2, 1, 1)
    assert counted() == recounted()

    delete_document(document=own)
    assert not DocumentLineCounts.objects.filter(document_id=own.pk).exists()
    assert counted() == recounted()
