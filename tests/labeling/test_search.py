"""Search through the normalization: what a person finds, what they never find, and on
PostgreSQL the folded trigram index that narrows the approved pool lines."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test import Client

from accounts.models import User
from labeling import search
from labeling.models import Document, Line, LineStatus, Transcription
from labeling.review.search import _RANGES
from tests.conftest import read_page


def found(client: Client, query: str, page: int | None = None) -> list[str]:
    """The texts of the hits on the results page, in order."""
    params = {"q": query} | ({"page": str(page)} if page else {})
    html = client.get("/search/", params).content.decode()
    return re.findall(r'<span dir="rtl" lang="ota">(.*?)</span>', html)


@pytest.fixture
def mine(user: User, read_document: Callable[..., Document]) -> list[Line]:
    doc = read_document(predictions=("كِتَابْلَرِي اوقودم", "عثمانلی دولتی", "بر شی یوق"))
    return list(Line.objects.filter(page__document=doc).order_by("order"))


def test_a_line_typed_with_harakat_is_found_by_a_query_without(
    user: User, mine: list[Line], client_for: Callable[[User], Client]
) -> None:
    assert found(client_for(user), "كتابلري") == ["كِتَابْلَرِي اوقودم"]


def test_persian_keheh_and_arabic_kaf_find_each_other(
    user: User, mine: list[Line], client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    assert found(client, "کتابلری اوقودم") == ["كِتَابْلَرِي اوقودم"]  # keheh, Farsi yeh
    Transcription.objects.create(
        line=mine[2], user=user, text="بر شیء يوق كه", kept_prediction=False
    )
    assert found(client, "يوق كه") == ["بر شیء يوق كه"]
    assert found(client, "یوق که") == ["بر شیء يوق كه"]


def test_farsi_and_arabic_yeh_find_each_other(
    user: User, mine: list[Line], client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    assert found(client, "عثمانلي") == ["عثمانلی دولتی"]  # Arabic yeh typed, Farsi yeh stored
    assert found(client, "دولتى") == ["عثمانلی دولتی"]  # alef maksura


def test_the_line_links_to_its_editor(
    user: User, mine: list[Line], client_for: Callable[[User], Client]
) -> None:
    html = client_for(user).get("/search/", {"q": "دولتی"}).content.decode()
    assert f'href="/lines/{mine[1].pk}/"' in html


def test_another_persons_private_line_is_never_found(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
) -> None:
    theirs = read_document(owner=other_user, predictions=("سرّی مكتوب",))
    line = Line.objects.get(page__document=theirs)
    Line.objects.filter(pk=line.pk).update(status=LineStatus.APPROVED, consensus_text="سرّی مكتوب")
    Transcription.objects.create(
        line=line, user=other_user, text="سری مکتوب", kept_prediction=False
    )
    assert found(client_for(user), "مكتوب") == []
    assert found(client_for(other_user), "مكتوب") == ["سری مکتوب"]


def test_an_approved_pool_line_is_found_and_shows_its_approved_text_only(
    user: User, pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    approved, agreed, _open_line = pool_lines((10.0, 20.0, 30.0), prediction="پادشاهم")
    Line.objects.filter(pk=approved.pk).update(
        status=LineStatus.APPROVED, consensus_text="پادشاهِمز"
    )
    Line.objects.filter(pk=agreed.pk).update(status=LineStatus.AGREED, consensus_text="پادشاهمز")
    html = client_for(user).get("/search/", {"q": "پادشاه"}).content.decode()
    assert found(client_for(user), "پادشاه") == ["پادشاهِمز"]
    assert f"/lines/{approved.pk}/" not in html  # not theirs: no link to an editor
    assert "Approved in the pool" in html


def test_a_withdrawn_documents_approved_line_is_not_found(
    user: User, pool_lines: Callable[..., list[Line]], client_for: Callable[[User], Client]
) -> None:
    (line,) = pool_lines((10.0,))
    Line.objects.filter(pk=line.pk).update(
        status=LineStatus.APPROVED, consensus_text="سلطان", in_pool=False
    )
    assert found(client_for(user), "سلطان") == []


def test_results_come_twenty_a_page(user: User, client_for: Callable[[User], Client]) -> None:
    doc = Document.objects.create(owner=user, title="Long")
    read_page(doc, [(f"دفتر {n}", 50.0) for n in range(25)], source_name="long.png")
    client = client_for(user)
    first, second = found(client, "دفتر"), found(client, "دفتر", page=2)
    assert len(first) == 20 and len(second) == 5
    assert set(first).isdisjoint(second)
    assert "25 lines found" in client.get("/search/", {"q": "دفتر"}).content.decode()


def test_a_common_word_is_counted_only_so_far(
    user: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search, "MOST_COUNTED", 30)
    doc = Document.objects.create(owner=user, title="Long")
    read_page(doc, [(f"دفتر {n}", 50.0) for n in range(45)], source_name="long.png")
    client = client_for(user)
    body = client.get("/search/", {"q": "دفتر"}).content.decode()
    assert "More than 30 lines found: the first 30 are shown." in body
    assert "Page 1 of 2" in body
    assert len(found(client, "دفتر", page=2)) == 10  # the 21st to the 30th, then no further
    assert found(client, "دفتر", page=3) == found(client, "دفتر", page=2)


def test_an_empty_or_marks_only_query_finds_nothing_and_does_not_fail(
    user: User, mine: list[Line], client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    for query in ("", "   ", "\u064e\u0651"):
        response = client.get("/search/", {"q": query})
        assert response.status_code == 200
        assert found(client, query) == []


def test_it_needs_a_signed_in_person() -> None:
    assert Client().get("/search/", {"q": "كتاب"}).status_code == 302


@pytest.mark.parametrize(
    ("query", "pieces"),
    [
        ("كِتَابلري", ["كتابلری"]),
        ("عثمانلی دولتی", ["عثمانلی", "دولتی"]),
        ("بر شی", []),  # too short for a trigram
        ("قائم مقام", ["مقام"]),  # ئ has a two-character spelling (ی + hamza): cut there
    ],
)
def test_the_index_is_searched_with_pieces_every_match_contains(
    query: str, pieces: list[str]
) -> None:
    assert search.pieces(query) == pieces


def test_every_match_of_the_expression_folds_to_text_containing_the_pieces() -> None:
    texts = ["كِتَـابْلَرِي", "کتابلری", "ﻛﺘﺎﺑﻠﺮﻯ", "عثمانلى دولتي", "قائم مقامی", "قایٔم مقام"]
    for text in texts:
        for query in ("كتابلري", "عثمانلی دولتی", "قائم مقام"):
            regex = search.pattern(query)
            assert regex is not None
            if re.search(regex, text):
                assert all(piece in search.fold(text) for piece in search.pieces(query))


needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL (DATABASE_URL=postgres://…)"
)


@needs_postgresql
@pytest.mark.django_db
def test_the_database_fold_is_the_codes_fold() -> None:
    """The migration froze the table; a change to the normalization needs a new migration."""
    every = "".join(chr(c) for start, end in _RANGES for c in range(start, end))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {search.FOLD_FUNCTION}(%s)", [every])
        (folded,) = cursor.fetchone()
    assert folded == search.fold(every)


@needs_postgresql
@pytest.mark.django_db
def test_postgresql_can_use_the_trigram_index_for_a_search(
    user: User, pool_lines: Callable[..., list[Line]]
) -> None:
    """The search's narrowing (the folded approved text containing a piece of the query) can be
    served by the index. Only the lines table is planned: with the documents and pages joined,
    which plan a tiny table gets depends on the statistics the rest of the suite left behind
    (bench/search.py shows the whole search using the index at 200,000 lines)."""
    for line in pool_lines((10.0,) * 5):
        Line.objects.filter(pk=line.pk).update(status=LineStatus.APPROVED, consensus_text="كتاب")
    piece = search.pieces("كتابلري")[0]
    with connection.cursor() as cursor:
        # A table this small is read whole anyway; forbid that to see the index is usable.
        cursor.execute("SET LOCAL enable_seqscan = off")
        # Other indexes on the status (the admin's) serve a tiny table as well as this one;
        # dropped in the test's transaction, which is rolled back.
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'labeling_line' "
            "AND indexname <> 'line_approved_fold_trgm' AND indexdef LIKE '%%(status%%'"
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute(
            "EXPLAIN SELECT id FROM labeling_line WHERE status = 'approved' AND in_pool "
            f"AND {search.FOLD_FUNCTION}(consensus_text) LIKE %s",
            [f"%{piece}%"],
        )
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "line_approved_fold_trgm" in plan, plan
