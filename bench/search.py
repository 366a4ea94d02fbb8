"""Search through the normalization at 200,000 approved pool lines, on PostgreSQL: with the
folded trigram index (migration 0018), without it, and with the expression alone.

Usage, from the repository root:
    .venv/bin/python bench/search.py [--lines 200000] [--queries 20] [--repeat 5]
        [--database ottoman_bench_search] [--keep]

It never touches the developer's database: it drops and recreates its own (--database) through
BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), migrates it, and loads
--lines approved pool lines (6 words a line: Ottoman words of labeling/synthetic.py's sample
lines among 20,000 made-up ones, Zipf-distributed; each letter spelled as people store it: kaf
or keheh, Arabic or Farsi yeh, harakat now and then) plus a 500-line private document of the
person searching. Each of --queries words is searched --repeat times through
`labeling.search.search_page` (what the view calls: the matches, up to 1,001 of each kind, and
the first page), typed without harakat, with Arabic kaf and yeh. Three modes, in this order:
the index; the index dropped (the folded LIKE scans); the expression alone (no folded
narrowing, as the moderators' search).
Every mode must find the same lines. Figures per mode: p50 and p95 in ms; the plan of one query
with the index. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.queue_load import (  # noqa: E402 (after the path)
    drop_database,
    insert_pages,
    insert_select,
    percentile,
    recreate_database,
    setup_django,
)

LINES_PER_PAGE = 25
PAGES_PER_DOCUMENT = 100
LETTERS = "ابپتثجچحخدذرزژسشصضطظعغفقكگلمنوهی"
HARAKAT = "\u064e\u064f\u0650\u0651\u0652"


def spelled(word: str, rng: random.Random) -> str:
    """The word as someone may have stored it: kaf or keheh, yeh forms, a haraka now and then."""
    out = []
    for ch in word:
        if ch in "كک":
            ch = rng.choice("كک")
        elif ch in "یيى":
            ch = rng.choice("یي")
        out.append(ch)
        if rng.random() < 0.1:
            out.append(rng.choice(HARAKAT))
    return "".join(out)


def vocabulary(rng: random.Random) -> tuple[list[str], list[str]]:
    from labeling import synthetic
    from labeling.ottoman import normalize

    real = sorted({w for line in synthetic.SAMPLE_LINES for w in normalize(line).split()})
    made_up = {"".join(rng.choice(LETTERS) for _ in range(rng.randint(3, 8))) for _ in range(20000)}
    return real, sorted(made_up - set(real))


def texts(count: int, rng: random.Random) -> list[str]:
    real, made_up = vocabulary(rng)
    words = made_up + real
    # Zipf weights over a shuffled list: some words common, most rare.
    rng.shuffle(words)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    chosen = rng.choices(words, weights=weights, k=count * 6)
    return [" ".join(spelled(w, rng) for w in chosen[i * 6 : i * 6 + 6]) for i in range(count)]


def load(*, lines: int, seed: int) -> tuple[int, list[str]]:
    """The pool's approved lines and the searcher's own document; (searcher id, query words)."""
    from django.db import connection

    from accounts.models import User
    from labeling.models import Document, Visibility
    from tests.conftest import read_page

    rng = random.Random(seed)
    owner = User.objects.create(email="owner@bench.example", password="!")
    searcher = User.objects.create(email="searcher@bench.example", password="!")
    pages = -(-lines // LINES_PER_PAGE)
    documents = -(-pages // PAGES_PER_DOCUMENT)
    Document.objects.bulk_create(
        Document(owner=owner, title=f"Bench {n}", visibility=Visibility.POOL, license="cc-by-4.0")
        for n in range(documents)
    )
    first_page = insert_pages(pages=pages, per_document=PAGES_PER_DOCUMENT)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_text (g integer, t text)")
        with cursor.copy("COPY bench_text (g, t) FROM STDIN") as copy:
            for g, text in enumerate(texts(lines, rng), start=1):
                copy.write_row((g, text))
    from labeling.models import Line

    insert_select(
        Line,
        "bench_text",
        {
            "page": f"{first_page} + (g - 1) / {LINES_PER_PAGE}",
            "order": f"mod(g - 1, {LINES_PER_PAGE}) + 1",
            "left": "10",
            "top": f"mod(g - 1, {LINES_PER_PAGE}) * 100",
            "right": "1990",
            "bottom": f"mod(g - 1, {LINES_PER_PAGE}) * 100 + 90",
            "prediction": "t",
            "consensus_text": "t",
            "confidence": "50",
            "status": "'approved'",
            "in_pool": "true",
            "label_count": "2",
        },
    )
    mine = Document.objects.create(owner=searcher, title="Mine")
    own_texts = texts(500, rng)
    # read_page stores a small blank scan per page through the storage (a temporary folder).
    read_page(mine, [(text, 50.0) for text in own_texts], source_name="mine.png")
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    real, _ = vocabulary(random.Random(seed))
    return searcher.pk, real


def typed(word: str) -> str:
    """How someone types it: no harakat, Arabic kaf and yeh."""
    return word.replace("ک", "ك").replace("ی", "ي")


def timed(user: Any, queries: list[str], repeat: int) -> tuple[list[float], dict[str, int]]:
    from labeling.search import search_page

    times, counts = [], {}
    for query in queries:
        for _ in range(repeat):
            started = time.perf_counter()
            page, _hits = search_page(user=user, query=query, number=1)
            times.append(1000 * (time.perf_counter() - started))
        counts[query] = page.paginator.count
    return times, counts


def explain(user: Any, query: str) -> str:
    from django.db import connection

    from labeling.review.search import pattern
    from labeling.search import pool_matches

    regex = pattern(query)
    assert regex is not None
    # The pool's part of the search, the one the trigram index serves.
    sql, params = pool_matches(user, query, regex).values("pk").order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        # The expression and the fold table are long: each plan line cut to its start.
        return "\n".join(row[0][:150] for row in cursor.fetchall())


def summary(times: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(percentile(times, 0.5), 1),
        "p95_ms": round(percentile(times, 0.95), 1),
    }


def run(args: argparse.Namespace) -> None:
    var_dir = tempfile.mkdtemp(prefix="search-bench-")
    started = time.monotonic()
    url = recreate_database(args.database)
    figures: dict[str, Any] = {"lines": args.lines}
    try:
        setup_django(url, var_dir)
        from django.core.management import call_command
        from django.db import connection

        from accounts.models import User
        from labeling import search

        call_command("migrate", verbosity=0)
        searcher_id, real = load(lines=args.lines, seed=args.seed)
        print(f"{args.lines:,} lines loaded in {time.monotonic() - started:.1f} s", flush=True)
        user = User.objects.get(pk=searcher_id)
        rng = random.Random(args.seed)
        words = [w for w in real if len(search.pieces(w))]  # long enough for a trigram
        queries = [typed(w) for w in rng.sample(words, min(args.queries, len(words)))]

        indexed, found = timed(user, queries, args.repeat)
        figures["with_index"] = summary(indexed)
        plan = explain(user, queries[0])
        print(f"plan of {queries[0]!r} ({found[queries[0]]} lines):\n{plan}", flush=True)
        figures["index_used"] = "line_approved_fold_trgm" in plan

        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX line_approved_fold_trgm")
        unindexed, found_unindexed = timed(user, queries, args.repeat)
        figures["without_index"] = summary(unindexed)

        search.pieces = lambda query: []  # type: ignore[assignment]  # the expression alone
        regex_only, found_regex = timed(user, queries, args.repeat)
        figures["expression_only"] = summary(regex_only)

        figures["same_results"] = found == found_unindexed == found_regex
        figures["lines_found"] = {
            "min": min(found.values()),
            "median": sorted(found.values())[len(found) // 2],
            "max": max(found.values()),
        }
        figures["queries"] = len(queries)
        figures["repeat"] = args.repeat
        figures["total_seconds"] = round(time.monotonic() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--database", default="ottoman_bench_search")
    parser.add_argument("--keep", action="store_true")
    run(parser.parse_args())


if __name__ == "__main__":
    main()
