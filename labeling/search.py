"""Finding lines by their text through the Ottoman normalization: the person's own lines and the
pool's approved lines.

Matching is `review.search.pattern`'s regular expression (every letter the set of spellings that
normalize to it, ignorable marks between): typing without harakat, with ک or ك, ی or ي finds the
line. Scope: lines of the person's own documents (their own text, the consensus or Tesseract's
reading) and approved lines of documents in the pool (the approved text). Nothing else: another
person's private line is never searched, nor a pool line that is not approved.

A regular expression with optional marks between every letter gives PostgreSQL's trigram index
nothing to hold on to (it scans every row: `bench/search.py`). So on PostgreSQL the approved
pool lines are first narrowed by plain substrings of the query, looked up in a trigram index on
`ota_fold(consensus_text)` (migration 0018): `ota_fold` is `translate()` with the table below,
which maps each spelling to the letter it normalizes to and deletes the ignorable marks, so
wherever the expression matches, the folded text contains those substrings. The expression then
decides. SQLite scans with the expression alone (Python's `re` through REGEXP).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import cast

from django.core.paginator import Page, Paginator
from django.db import connection
from django.db.models import Exists, F, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.lookups import Contains

from accounts.models import User
from labeling.models import Line, LineStatus, Transcription
from labeling.ottoman import normalize
from labeling.review.search import _variants, pattern

PAGE_SIZE = 20
# Matches found at most, of the person's own lines and of the pool's: a common word matches
# thousands of lines, and finding them all costs as much as counting them. Past this the page
# says "more than …" and pages stop there.
MOST_COUNTED = 1000
FOLD_FUNCTION = "ota_fold"
# Shorter pieces than a trigram cannot be looked up in a trigram index.
SHORTEST_PIECE = 3


@functools.cache
def fold_table() -> tuple[str, str]:
    """(from, to) for SQL's translate(): each single-character spelling, then each ignorable
    character; `to` is as long as the spellings (translate deletes the rest of `from`)."""
    spellings, dropped = _variants()
    pairs = sorted(
        (raw, letter)
        for letter, raws in spellings.items()
        for raw in raws
        if len(raw) == 1 and raw != letter
    )
    source = "".join(raw for raw, _ in pairs)
    return source + dropped, "".join(letter for _, letter in pairs)


@functools.cache
def _fold_translation() -> dict[int, str | None]:
    source, target = fold_table()
    table: dict[int, str | None] = {ord(ch): None for ch in source[len(target) :]}
    table.update({ord(a): b for a, b in zip(source, target, strict=False)})
    return table


def fold(text: str) -> str:
    """What the database's `ota_fold` makes of a text (tests keep the two the same)."""
    return text.translate(_fold_translation())


def fold_function_sql() -> str:
    """The SQL function behind the trigram index; ASCII only (Unicode escapes)."""

    def literal(text: str) -> str:
        return "U&'" + "".join(f"\\{ord(ch):04X}" for ch in text) + "'"

    source, target = fold_table()
    return (
        f"CREATE OR REPLACE FUNCTION {FOLD_FUNCTION}(text) RETURNS text "
        "LANGUAGE sql IMMUTABLE PARALLEL SAFE "
        f"AS $fold$ SELECT pg_catalog.translate($1, {literal(source)}, {literal(target)}) $fold$"
    )


def pieces(query: str) -> list[str]:
    """Substrings that the folded text of every match contains: runs of the normalized query's
    letters that fold to themselves and have no spelling of two characters (ی + ٔ for ئ), split
    at spaces; only those long enough for a trigram index."""
    spellings, _ = _variants()
    found: list[str] = []
    run = ""
    for letter in normalize(query) + " ":
        usable = (
            letter != " "
            and fold(letter) == letter
            and all(len(raw) == 1 for raw in spellings.get(letter, ()))
        )
        if usable:
            run += letter
            continue
        if len(run) >= SHORTEST_PIECE:
            found.append(run)
        run = ""
    return found


@dataclass(frozen=True)
class Hit:
    line: Line
    text: str  # the text that matched: the person's own, the consensus or the reading
    own: bool  # a line of their documents (linked to the editor); else an approved pool line


def _own_matches(user: User, regex: str) -> QuerySet[Line]:
    typed = Transcription.objects.filter(line=OuterRef("pk"), user=user, text__regex=regex)
    return Line.objects.owned_by(user).filter(
        Q(prediction__regex=regex) | Q(consensus_text__regex=regex) | Exists(typed)
    )


def pool_matches(user: User, query: str, regex: str) -> QuerySet[Line]:
    """Approved pool lines (not the person's own) matching `regex`, narrowed on PostgreSQL by
    the trigram index with the pieces of `query`."""
    approved = (
        Line.objects.pool()
        .filter(in_pool=True, status=LineStatus.APPROVED)
        .exclude(page__document__owner=user)  # their own pool lines come as their own
    )
    if connection.vendor == "postgresql":
        folded = Func(F("consensus_text"), function=FOLD_FUNCTION, output_field=TextField())
        for piece in pieces(query):
            approved = approved.filter(Contains(folded, piece))
    return approved.filter(consensus_text__regex=regex)


def matching_ids(*, user: User, query: str) -> list[tuple[int, int]] | None:
    """(own: 1 or 0, line id) of the lines the person may find, their own first, the newest
    first; None when the query holds nothing to search for. Of each kind, the first
    MOST_COUNTED + 1 matches the database comes to (in no order, so that it stops there: a
    common word matches thousands of lines, and sorting them all costs as much as finding them)
    are taken, then sorted."""
    regex = pattern(query)
    if regex is None or not user.is_authenticated:
        return None
    enough = MOST_COUNTED + 1
    own = _own_matches(user, regex).values_list("pk", flat=True).order_by()[:enough]
    pool = pool_matches(user, query, regex).values_list("pk", flat=True).order_by()[:enough]
    return sorted([*((1, pk) for pk in own), *((0, pk) for pk in pool)], reverse=True)


def _matched_text(line: Line, regex: re.Pattern[str], own_text: str | None) -> str:
    for text in (own_text, line.consensus_text, line.prediction):
        if text and regex.search(text):
            return text
    return own_text or line.consensus_text or line.prediction


class BoundedPaginator(Paginator):
    """Pages through at most MOST_COUNTED of the matches `matching_ids` found (it stops at
    MOST_COUNTED + 1 of each kind), and says whether there were more."""

    def __init__(self, matches: list[tuple[int, int]], per_page: int) -> None:
        super().__init__(matches, per_page)
        self.most = MOST_COUNTED
        self.more = len(matches) > self.most

    @functools.cached_property
    def count(self) -> int:
        return min(len(self.object_list), self.most)


def search_page(*, user: User, query: str, number: int | str | None) -> tuple[Page, list[Hit]]:
    """The page of hits (PAGE_SIZE a page); an empty page when there is nothing to search."""
    ids = matching_ids(user=user, query=query)
    page = BoundedPaginator(ids or [], PAGE_SIZE).get_page(number)
    rows = cast(list[tuple[int, int]], list(page.object_list))
    if not rows:
        return page, []
    own = {pk for is_own, pk in rows if is_own}
    order = [pk for _, pk in rows]
    lines = Line.objects.filter(pk__in=order).select_related("page__document").in_bulk()
    typed = dict(
        Transcription.objects.filter(line_id__in=own, user=user).values_list("line_id", "text")
    )
    regex = re.compile(pattern(query) or "")
    hits = [
        Hit(
            line=lines[pk],
            text=_matched_text(lines[pk], regex, typed.get(pk))
            if pk in own
            # A pool line shows only its approved text, never its reading or anyone's label.
            else lines[pk].consensus_text,
            own=pk in own,
        )
        for pk in order
        if pk in lines
    ]
    return page, hits
