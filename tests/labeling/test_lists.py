"""The lists of documents are paginated, and a page of them costs the same few queries however
many documents there are (no query per row)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, Visibility
from labeling.views import LIST_PAGE_SIZE

pytestmark = pytest.mark.django_db


def make_documents(owner: User, count: int, **fields: Any) -> None:
    Document.objects.bulk_create(
        Document(owner=owner, title=f"Document {n}", **fields) for n in range(count)
    )


@pytest.mark.parametrize(("url", "pool"), [("labeling:documents", False), ("labeling:pool", True)])
def test_a_list_is_paginated_and_its_queries_do_not_grow_with_rows(
    url: str,
    pool: bool,
    user: User,
    other_user: User,
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    owner = other_user if pool else user
    fields = {"visibility": Visibility.POOL, "license": "cc-by-4.0"} if pool else {}
    client = client_for(user)
    make_documents(owner, 3, **fields)
    with django_assert_max_num_queries(50) as few:
        client.get(reverse(url))
    queries_for_3 = len(few.captured_queries)

    make_documents(owner, LIST_PAGE_SIZE * 2, **fields)
    with django_assert_max_num_queries(queries_for_3):
        first = client.get(reverse(url))
    body = first.content.decode()
    assert body.count('class="doc-title"') == LIST_PAGE_SIZE
    assert "Page 1 of 3" in body and 'rel="next"' in body
    # The link as a browser follows it: the next page, not the first again.
    next_link = re.search(r'href="([^"]*)" rel="next"', body)
    assert next_link, body
    second = client.get(reverse(url) + html.unescape(next_link.group(1))).content.decode()
    assert "Page 2 of 3" in second
    last = client.get(reverse(url), {"page": 3}).content.decode()
    assert last.count('class="doc-title"') == 3 and 'rel="prev"' in last
    beyond = client.get(reverse(url), {"page": 99}).content.decode()
    assert "Page 3 of 3" in beyond  # a page past the end shows the last one
