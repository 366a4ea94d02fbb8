"""Histories, the anchoring report and lines by status at a million pool lines, on PostgreSQL:
counted in SQL from stored verdicts (`labeling/review/stats.py`), against the Python loop they
replace, for one labeler.

Usage, from the repository root:
    .venv/bin/python bench/stats_load.py [--lines 1000000] [--users 40] [--repeat 5]
        [--database ottoman_bench_stats] [--keep]

It never touches the developer's database: it drops and recreates its own (--database) through
BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), migrates it, and loads
with INSERT … SELECT generate_series (bench/queue_load.py's loader): --lines pool lines, 7 in
10 agreed and 1 in 10 approved with a consensus, the rest open; two labels a line by --users
people in turn (so each has about 2 × lines / users labels), 9 in 10 agreeing, one in eight
blind, with their stored verdicts; then VACUUM ANALYZE. One more person has 30 labels.

Timed (p50 and worst of --repeat, time.perf_counter): `labeler_history` of the busiest and of
the lightest person; the same history computed as before (every label's text compared in
Python: `tests/labeling/test_stats_sql.py`'s reference), once, for the busiest; the rows of
"My labels" page 1 and page 1000; every document's row of the anchoring report over every
settled pool label, and their sum (what beat works out for the report's snapshot); the pages
/me/labels/ (page 1 and 1000) and /review/anchoring/ as
served (django.test.Client, signed in, DEBUG off, the cache on BENCH_REDIS_URL, default
redis://127.0.0.1:6379/11); `record_status_counts()`; the staff dashboard's
lines-by-status history. The plan of the "My labels" page query is printed. The
last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.queue_load import (  # noqa: E402 (after the path)
    drop_database,
    insert_select,
    load,
    recreate_database,
    setup_django,
    true_text_sql,
)


def timed(call: Callable[[], Any], repeat: int) -> dict[str, float]:
    call()  # warm the cache once
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return {"p50_ms": round(times[len(times) // 2], 1), "max_ms": round(times[-1], 1)}


def load_labels(ids: list[int]) -> None:
    from django.db import connection

    from labeling.models import Transcription

    users = len(ids)
    truth = true_text_sql("line_id")
    with connection.cursor() as cursor:
        cursor.execute(
            f"""UPDATE labeling_line SET
                status = CASE WHEN mod(id, 10) < 7 THEN 'agreed'
                              WHEN mod(id, 10) = 7 THEN 'approved' ELSE 'open' END,
                consensus_text = CASE WHEN mod(id, 10) < 8 THEN {true_text_sql("id")} ELSE '' END,
                label_count = 2
            WHERE gold_text = ''"""
        )
    rows = """(
        SELECT l.id AS line_id, l.status, l.prediction, k, random() AS r
        FROM labeling_line l, generate_series(0, 1) k WHERE l.gold_text = ''
    ) labels"""
    text = f"CASE WHEN r < 0.9 THEN {truth} ELSE 'كتب' END"
    blind = "(k = 1 AND mod(line_id, 4) = 0)"
    insert_select(
        Transcription,
        rows,
        {
            "line": "line_id",
            "user": f"(ARRAY[{', '.join(map(str, ids))}])[1 + mod(line_id + k, {users})]",
            "text": text,
            "kept_prediction": f"(NOT {blind} AND {text} = prediction)",
            "as_predicted": f"({text} = prediction)",
            "blind": blind,
            "seconds_spent": "3 + r * 60",
            "verdict": "CASE WHEN status IN ('agreed', 'approved') THEN "
            "(CASE WHEN r < 0.9 THEN 'agreed' ELSE 'overturned' END) ELSE 'pending' END",
            "created_at": "now() - r * interval '60 days'",
            "updated_at": "now()",
        },
    )


def run(args: argparse.Namespace) -> dict[str, Any]:
    from django.core.management import call_command
    from django.db import connection

    from accounts.models import User
    from labeling import dashboards
    from labeling.models import Line, Transcription
    from labeling.review import stats

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    ids = load(lines=args.lines, users=args.users)
    load_labels(ids)
    light = User.objects.create(email="light@bench.example", password="!")
    some = Line.objects.filter(status="agreed").order_by("pk")[:30]
    Transcription.objects.bulk_create(
        Transcription(line=line, user=light, text="كتب", kept_prediction=False, verdict="agreed")
        for line in some
    )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    loaded_s = round(time.perf_counter() - started, 1)
    labels = Transcription.objects.count()
    busiest = User.objects.get(pk=ids[0])
    busiest_labels = stats.labels_of(busiest).count()
    print(f"loaded {args.lines} lines, {labels} labels in {loaded_s} s", flush=True)

    from tests.labeling.test_stats_sql import reference_history

    figures: dict[str, Any] = {"lines": args.lines, "labels": labels}
    figures["busiest_labels"] = busiest_labels
    figures["history_busiest"] = timed(lambda: stats.labeler_history(user=busiest), args.repeat)
    figures["history_light"] = timed(lambda: stats.labeler_history(user=light), args.repeat)
    start = time.perf_counter()
    old = reference_history(busiest)
    figures["history_busiest_python_ms"] = round((time.perf_counter() - start) * 1000, 1)
    new = stats.labeler_history(user=busiest)
    assert (old.agreed, old.overturned, old.pending) == (new.agreed, new.overturned, new.pending)

    def page_rows(number: int) -> None:
        query = stats.labels_of(busiest).select_related("line__page__document")
        list(query.order_by("-created_at", "-pk")[(number - 1) * 20 : number * 20])

    figures["my_labels_rows_page_1"] = timed(lambda: page_rows(1), args.repeat)
    figures["my_labels_rows_page_1000"] = timed(lambda: page_rows(1000), args.repeat)
    # What beat works out for the anchoring report's snapshot: every document's row, summed.
    figures["anchoring_rows_all"] = timed(
        lambda: stats.anchoring_total(stats.anchoring_rows(stats.anchoring_by_document())),
        args.repeat,
    )
    # The pages as the site serves them (template included), signed in.
    from django.test import Client

    moderator = User.objects.create_superuser(email="root@bench.example", password="x" * 20)
    as_busiest, as_moderator = Client(), Client()
    as_busiest.force_login(busiest)
    as_moderator.force_login(moderator)
    for name, client, url in (
        ("my_labels_view_page_1", as_busiest, "/me/labels/"),
        ("my_labels_view_page_1000", as_busiest, "/me/labels/?page=1000"),
        ("anchoring_view_page_1", as_moderator, "/review/anchoring/"),
    ):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code, response.get("Location"))
        figures[name] = timed(lambda c=client, u=url: c.get(u), args.repeat)
    figures["record_status_counts"] = timed(dashboards.record_status_counts, args.repeat)
    days = dashboards.window()
    today = dashboards.record_status_counts()
    figures["status_history"] = timed(
        lambda: dashboards.status_history(days, today=today), args.repeat
    )
    query = (
        stats.labels_of(busiest)
        .select_related("line__page__document")
        .order_by("-created_at", "-pk")
    )[:20]
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, COSTS OFF) {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    print("My labels, page 1:\n" + plan)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", default="ottoman_bench_stats")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    url = recreate_database(args.database)
    var_dir = tempfile.mkdtemp(prefix="bench-stats-")
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"  # django.test.Client's host
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/11")
    try:
        setup_django(url, var_dir)
        figures = run(args)
    finally:
        from django.db import connections

        connections.close_all()
        shutil.rmtree(var_dir, ignore_errors=True)
        if not args.keep:
            drop_database(args.database)
    for name, value in figures.items():
        print(f"{name:32} {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
