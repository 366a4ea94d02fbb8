"""/me/labels/: the summary and the person's own pool labels, newest first, a page at a time,
each with its document, time, the line's status and what became of it; gold lines never."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from labeling.models import Assignment, Document, Line, Transcription
from labeling.review.labels import submit_label
from labeling.review.moderation import approve_line, reject_line
from labeling.transcribing import save_transcription
from labeling.views import LIST_PAGE_SIZE
from tests.conftest import read_page

pytestmark = pytest.mark.django_db

URL = reverse("labeling:my_labels")


@pytest.fixture(autouse=True)
def _no_gold_draws(settings: Any) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0


def give(line: Line, person: User, text: str, *, blind: bool = True) -> Transcription:
    lease = Assignment.objects.create(
        line=line, user=person, blind=blind, expires_at=timezone.now() + timedelta(hours=1)
    )
    return submit_label(assignment_id=lease.pk, user=person, text=text).transcription


def items(html: str) -> list[str]:
    """The list's entries, in page order, as their HTML."""
    listed = html[html.index('class="doc-list label-list"') :]
    return re.findall(r"<li>(.*?)</li>", listed[: listed.index("</ul>")], flags=re.S)


def test_it_lists_the_persons_labels_newest_first_with_what_became_of_each(
    user: User,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
) -> None:
    moderator = make_moderator()
    agreed, overturned, waiting, disputed, rejected, gold = pool_lines(
        (10.0, 20.0, 30.0, 40.0, 50.0, 60.0), prediction="كتاب", max_labels=3
    )
    Document.objects.filter(pk=agreed.page.document_id).update(title="Vakanüvis تاریخی")
    give(agreed, user, "قلم")
    give(agreed, make_user(), "قلم")
    give(overturned, user, "دفتر")
    give(overturned, make_user(), "دفتری")
    give(overturned, make_user(), "دفتری")
    give(waiting, user, "اوراق")
    for text in ("سوز", "سوژ", "سور"):
        give(disputed, user if text == "سوز" else make_user(), text)
    give(rejected, user, "ادب")
    give(rejected, make_user(), "ادب")
    reject_line(line=rejected, moderator=moderator, reason="a stamp")
    give(gold, make_user(), "علم")
    give(gold, make_user(), "علم")
    approve_line(line=gold, moderator=moderator)
    from labeling.review.moderation import make_gold

    make_gold(line=gold, moderator=moderator, answer="عِلمی")
    give(gold, user, "علمی")  # their answer to a test line: never listed, never hinted at
    (private,) = read_page(
        Document.objects.create(owner=user, title="My own"), [("باغ", 50.0)], source_name="a.png"
    )
    save_transcription(line=private, user=user, text="باغ")
    # The order they were given in, oldest first, each a minute apart.
    order = [agreed, overturned, waiting, disputed, rejected]
    start = timezone.now() - timedelta(hours=1)
    for n, line in enumerate(order):
        Transcription.objects.filter(line=line, user=user).update(
            created_at=start + timedelta(minutes=n)
        )

    html = client_for(user).get(URL).content.decode()

    shown = items(html)
    assert len(shown) == 5
    texts = [re.search(r'dir="rtl" lang="ota">(.*?)</span>', item).group(1) for item in shown]  # type: ignore[union-attr]
    assert texts == ["ادب", "سوز", "اوراق", "دفتر", "قلم"]  # newest first
    rejected_item, disputed_item, waiting_item, overturned_item, agreed_item = shown
    assert "Agreed with the consensus" in agreed_item and "Line: Agreed" in agreed_item
    assert '<span dir="auto">Vakanüvis تاریخی</span>' in agreed_item
    assert "Overturned: the consensus is" in overturned_item
    assert '<span dir="rtl" lang="ota">دفتری</span>' in overturned_item
    assert "Waiting for others" in waiting_item and "Line: Open" in waiting_item
    assert "Waiting for a moderator" in disputed_item and "Line: Disputed" in disputed_item
    assert "The line was rejected" in rejected_item
    assert "علم" not in html and "باغ" not in html
    assert "gold" not in html.lower().replace("test (gold) lines right", "")


def test_times_are_shown_in_the_persons_time_zone(
    user: User, pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    (line,) = pool_lines((10.0,))
    made = give(line, user, "قلم")
    Transcription.objects.filter(pk=made.pk).update(
        created_at=datetime(2025, 1, 1, 22, 30, tzinfo=UTC)
    )
    user.timezone = "Europe/Istanbul"  # UTC+3
    user.save()
    html = client_for(user).get(URL).content.decode()
    assert "2 Jan 2025, 01:30" in html
    assert 'datetime="2025-01-02T01:30:00+03:00"' in html


def test_the_list_is_paginated_and_its_queries_do_not_grow_with_rows(
    user: User,
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    def label_lines(count: int) -> None:
        Transcription.objects.bulk_create(
            Transcription(line=line, user=user, text="كتاب", kept_prediction=False)
            for line in pool_lines((10.0,) * count)
        )

    client = client_for(user)
    label_lines(3)
    with django_assert_max_num_queries(50) as few:
        client.get(URL)
    queries_for_3 = len(few.captured_queries)

    label_lines(LIST_PAGE_SIZE * 2)
    with django_assert_max_num_queries(queries_for_3):
        first = client.get(URL).content.decode()
    assert len(items(first)) == LIST_PAGE_SIZE
    assert "Page 1 of 3" in first and 'rel="next"' in first
    assert "<dd>43</dd>" in first  # the summary counts them all
    last = client.get(URL, {"page": 3}).content.decode()
    assert len(items(last)) == 3 and 'rel="prev"' in last


def test_someone_without_labels_is_told_so(
    user: User, client_for: Callable[[User], Client]
) -> None:
    html = client_for(user).get(URL).content.decode()
    assert "You have not labelled a pool line yet." in html
