"""The labeling queue under load: concurrent labelers on a million pool lines, on PostgreSQL.

Usage, from the repository root:
    .venv/bin/python bench/queue_load.py [--lines 1000000] [--labelers 16] [--seconds 60]
        [--users 300] [--think-ms 0] [--explain] [--keep]

It never touches the developer's database: it drops and recreates a database of its own
(--database, default ottoman_bench) through the maintenance database of BENCH_ADMIN_URL
(default postgres://postgres@127.0.0.1:5432/postgres), migrates it, and loads the documents,
pages and lines with INSERT … SELECT generate_series. Then --labelers processes each play
labelers (a slice of the --users people, in turn) for --seconds: next + submit through
`claim_next` and `submit_label`, the functions the views call. Most texts agree, some do not,
some lines are skipped. Every call is timed with time.perf_counter.

While they run, the parent samples the queue's invariant (live leases + labels <= labels
wanted) on the lines holding leases; afterwards it checks every touched line's label count
against its transcriptions. With no think time (the default) the labelers never pause, so the
latencies are those of a saturated machine: on 2 cores, 16 busy processes queue for the CPU.
The last line printed is one JSON object with the figures. The database is dropped at the end
unless --keep is given.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

ADMIN_URL = os.environ.get("BENCH_ADMIN_URL", "postgres://postgres@127.0.0.1:5432/postgres")
WORDS = ("دولت علیه", "سلطان", "كتاب", "مكتب", "سلام علیكم", "پادشاه", "عثمانلی", "دفتر")
LINES_PER_PAGE = 25
PAGES_PER_DOCUMENT = 100
GOLD_LINES = 20

# Lines where, at this moment, live leases plus labels exceed what the line wants.
OVERFULL_SQL = """
    SELECT l.id, l.label_count, l.labels_wanted, count(*) AS live
    FROM labeling_assignment a JOIN labeling_line l ON l.id = a.line_id
    WHERE a.state = 'active' AND a.expires_at > statement_timestamp() AND l.gold_text = ''
    GROUP BY l.id
    HAVING count(*) + l.label_count > l.labels_wanted
"""
# Touched lines whose label count is not their number of transcriptions.
MISCOUNTED_SQL = """
    SELECT l.id, l.label_count, count(t.id)
    FROM labeling_line l LEFT JOIN labeling_transcription t ON t.line_id = l.id
    WHERE l.id IN (SELECT line_id FROM labeling_assignment)
    GROUP BY l.id
    HAVING count(t.id) <> l.label_count
"""


def true_text(line_id: int) -> str:
    return f"{WORDS[line_id % len(WORDS)]} {WORDS[(line_id // len(WORDS)) % len(WORDS)]}"


def true_text_sql(column: str) -> str:
    """true_text() in SQL."""
    words = f"ARRAY[{', '.join(repr(word) for word in WORDS)}]"
    return (
        f"({words})[mod({column}, {len(WORDS)}) + 1] || ' ' || "
        f"({words})[mod({column} / {len(WORDS)}, {len(WORDS)}) + 1]"
    )


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile; 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine since boot, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields) - idle, sum(fields)


# Setting up ---------------------------------------------------------------------------------


def recreate_database(name: str) -> str:
    """Drop and create the bench database; return its URL."""
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ottoman_ocr.test_settings"
    os.environ["OTTOMAN_VAR_DIR"] = var_dir
    os.environ.setdefault("DATABASE_CONN_MAX_AGE", "600")
    import django

    django.setup()


def insert_select(model: Any, rows: str, values: dict[str, str]) -> None:
    """INSERT … SELECT over `rows` (a FROM clause): the given SQL expressions for some columns
    (the primary key only if given), every other column its model default, so that a field
    added later with a default does not break the load."""
    from django.db import connection, models

    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key and field.name not in values:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in values:
            expressions.append(values[field.name])
        elif isinstance(field, models.DateTimeField) and (field.auto_now or field.auto_now_add):
            expressions.append("now()")
        else:
            expressions.append("%s")
            params.append(field.get_db_prep_save(field.get_default(), connection))
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM {rows}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def load(*, lines: int, users: int) -> list[int]:
    """Users, pool documents, pages and lines; return the user ids."""
    from django.db import connection

    from accounts.models import User
    from labeling.models import Document, Line, Page, Visibility

    people = User.objects.bulk_create(
        User(email=f"labeler{n}@bench.example", password="!") for n in range(users)
    )
    ids = [person.pk for person in people]
    pages = -(-lines // LINES_PER_PAGE)
    documents = -(-pages // PAGES_PER_DOCUMENT)
    # Documents belong to the labelers themselves, in turn: the queue must skip their own.
    Document.objects.bulk_create(
        Document(
            owner_id=ids[n % len(ids)],
            title=f"Bench document {n}",
            visibility=Visibility.POOL,
            license="cc-by-4.0",
        )
        for n in range(documents)
    )
    first_document = Document.objects.order_by("pk").values_list("pk", flat=True)[0]
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    insert_select(
        Page,
        f"generate_series(0, {pages - 1}) g",
        {
            "document": f"{first_document} + g / {PAGES_PER_DOCUMENT}",
            "number": f"mod(g, {PAGES_PER_DOCUMENT}) + 1",
            "image": "'pages/bench/' || g || '.png'",
            "sha256": "md5(g::text) || md5(g::text)",
            "width": "2000",
            "height": "3000",
            "source_name": "'bench.pdf'",
            "ocr_status": "'done'",
        },
    )
    first_page = Page.objects.order_by("pk").values_list("pk", flat=True)[0]
    insert_select(
        Line,
        "(SELECT nextval(pg_get_serial_sequence('labeling_line', 'id')) AS id, g "
        f"FROM generate_series(1, {lines}) g) numbered",
        {
            "id": "id",
            "page": f"{first_page} + (g - 1) / {LINES_PER_PAGE}",
            "order": f"mod(g - 1, {LINES_PER_PAGE}) + 1",
            "left": "10",
            "top": f"mod(g - 1, {LINES_PER_PAGE}) * 100",
            "right": "1990",
            "bottom": f"mod(g - 1, {LINES_PER_PAGE}) * 100 + 90",
            # Tesseract read half of the lines right: keeping its reading then agrees.
            "prediction": f"CASE WHEN random() < 0.5 THEN {true_text_sql('id')} ELSE 'كتب' END",
            "confidence": "random() * 100",
            "status": "'open'",
            "in_pool": "true",
            "labels_wanted": "2",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE labeling_line SET gold_text = {true_text_sql('id')} "
            f"WHERE id IN (SELECT id FROM labeling_line ORDER BY id LIMIT {GOLD_LINES})"
        )
        cursor.execute("VACUUM ANALYZE")  # fresh statistics and visibility map, as in production
    return ids


def explain_claim(user_id: int) -> str:
    """EXPLAIN ANALYZE of the claim scan as `claim_next` sends it for this user (rolled back)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from labeling.review.queue import claim_next

    person = User.objects.get(pk=user_id)
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        claim_next(user=person)
        transaction.set_rollback(True)
    scans = [q["sql"] for q in queries.captured_queries if "SKIP LOCKED" in q["sql"]]
    if not scans:
        return "(no claim scan: the user was handed a resumed or gold line)"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + scans[0])
        plan = "\n".join(row[0] for row in cursor.fetchall())
        transaction.set_rollback(True)
    return plan


# A labeler process --------------------------------------------------------------------------


def labeler(args: argparse.Namespace) -> None:
    setup_django(os.environ["DATABASE_URL"], os.environ["OTTOMAN_VAR_DIR"])
    from accounts.models import User
    from labeling.review.labels import skip_line, submit_label
    from labeling.review.queue import claim_next
    from labeling.transcribing import TranscriptionRefused

    rng = random.Random(args.worker)
    people = list(User.objects.filter(pk__in=json.loads(args.people)).order_by("pk"))
    claim_next(user=people[0])  # connect before the clock starts; the lease is used below
    next_ms: list[float] = []
    submit_ms: list[float] = []
    label_ms: list[float] = []
    skip_ms: list[float] = []
    refused: dict[str, int] = {}
    empty = 0
    time.sleep(max(0.0, args.start - time.time()))
    deadline = args.start + args.seconds
    cpu_started = time.process_time()
    turn = 0
    while time.time() < deadline:
        person = people[turn % len(people)]
        turn += 1
        started = time.perf_counter()
        claim = claim_next(user=person)
        claimed = time.perf_counter()
        next_ms.append((claimed - started) * 1000)
        if claim is None:
            empty += 1
            continue
        line_id, pk = claim.assignment.line_id, claim.assignment.pk
        roll = rng.random()
        try:
            if roll < 0.05:
                skip_line(assignment_id=pk, user=person, reason="other")
                skip_ms.append((time.perf_counter() - claimed) * 1000)
            else:
                text = true_text(line_id)
                if roll > 0.85:
                    text += " " + rng.choice(WORDS)  # a misreading
                submit_label(assignment_id=pk, user=person, text=text)
                done = time.perf_counter()
                submit_ms.append((done - claimed) * 1000)
                label_ms.append((done - started) * 1000)
        except TranscriptionRefused as refusal:
            refused[refusal.code] = refused.get(refusal.code, 0) + 1
        if args.think_ms:
            time.sleep(rng.expovariate(1000 / args.think_ms))
    result = {
        "next_ms": next_ms,
        "submit_ms": submit_ms,
        "label_ms": label_ms,
        "skip_ms": skip_ms,
        "refused": refused,
        "empty": empty,
        "cpu_seconds": time.process_time() - cpu_started,
    }
    Path(args.out).write_text(json.dumps(result))


# The parent ---------------------------------------------------------------------------------


def sample(sql: str) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def run(args: argparse.Namespace) -> None:
    var_dir = tempfile.mkdtemp(prefix="queue-bench-")
    started = time.monotonic()
    url = recreate_database(args.database)
    try:
        setup_django(url, var_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        migrated = time.monotonic()
        ids = load(lines=args.lines, users=args.users)
        loaded = time.monotonic()
        print(
            f"database {args.database}: migrated in {migrated - started:.1f} s, "
            f"{args.lines:,} lines and {len(ids)} users loaded in {loaded - migrated:.1f} s",
            flush=True,
        )
        if args.explain:
            print("claim scan before the run:\n" + explain_claim(ids[-1]), flush=True)
        figures = simulate(args, ids, url, var_dir)
        figures["load_seconds"] = round(loaded - started, 1)
        if args.explain:
            print("claim scan after the run:\n" + explain_claim(ids[0]), flush=True)
        figures["total_seconds"] = round(time.monotonic() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(figures))


def simulate(args: argparse.Namespace, ids: list[int], url: str, var_dir: str) -> dict[str, Any]:
    env = {**os.environ, "DATABASE_URL": url, "OTTOMAN_VAR_DIR": var_dir}
    start = time.time() + 3 + args.labelers * 0.3  # every process connected and ready
    out_dir = Path(var_dir) / "results"
    out_dir.mkdir()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                str(n),
                "--people",
                json.dumps(ids[n :: args.labelers]),
                "--start",
                str(start),
                "--seconds",
                str(args.seconds),
                "--think-ms",
                str(args.think_ms),
                "--out",
                str(out_dir / f"{n}.json"),
            ],
            cwd=REPO,
            env=env,
        )
        for n in range(args.labelers)
    ]
    time.sleep(max(0.0, start - time.time()))
    busy0, total0 = cpu_ticks()
    overfull: dict[int, tuple[Any, ...]] = {}
    samples = 0
    while any(process.poll() is None for process in processes):
        if time.time() < start + args.seconds:
            samples += 1
            for row in sample(OVERFULL_SQL):
                overfull.setdefault(row[0], row)
        time.sleep(0.5)
    busy1, total1 = cpu_ticks()
    failed = [n for n, process in enumerate(processes) if process.returncode]
    if failed:
        raise SystemExit(f"labeler processes {failed} failed")
    for row in sample(OVERFULL_SQL):
        overfull.setdefault(row[0], row)
    miscounted = sample(MISCOUNTED_SQL)
    touched = sample("SELECT count(DISTINCT line_id), count(*) FROM labeling_assignment")[0]

    results = [json.loads((out_dir / f"{n}.json").read_text()) for n in range(args.labelers)]
    merged: dict[str, list[float]] = {
        key: [v for r in results for v in r[key]]
        for key in ("next_ms", "submit_ms", "label_ms", "skip_ms")
    }
    refused: dict[str, int] = {}
    for r in results:
        for code, n in r["refused"].items():
            refused[code] = refused.get(code, 0) + n
    labels = len(merged["label_ms"])
    cpu_busy = (busy1 - busy0) / max(1, total1 - total0)
    machine_cpu = (busy1 - busy0) / os.sysconf("SC_CLK_TCK")
    labeler_cpu = sum(r["cpu_seconds"] for r in results)
    figures: dict[str, Any] = {
        "p50_ms": round(percentile(merged["label_ms"], 0.50), 1),
        "p95_ms": round(percentile(merged["label_ms"], 0.95), 1),
        "p99_ms": round(percentile(merged["label_ms"], 0.99), 1),
        "double_leases": len(overfull),
        "label_count_mismatches": len(miscounted),
        "throughput_per_s": round(labels / args.seconds, 1),
        "labels": labels,
        "skips": len(merged["skip_ms"]),
        "refused": refused,
        "empty_claims": sum(r["empty"] for r in results),
        "lines": args.lines,
        "labelers": args.labelers,
        "users": len(ids),
        "seconds": args.seconds,
        "think_ms": args.think_ms,
        "lines_touched": touched[0],
        "leases": touched[1],
        "invariant_samples": samples,
        "cpu_count": os.cpu_count(),
        "cpu_busy_pct": round(100 * cpu_busy, 1),
        # CPU time per label: the labeler processes (Django, Python) and the rest of the
        # machine (PostgreSQL, mostly).
        "cpu_ms_per_label": round(1000 * machine_cpu / max(1, labels), 2),
        "python_cpu_ms_per_label": round(1000 * labeler_cpu / max(1, labels), 2),
    }
    for name, key in (("next", "next_ms"), ("submit", "submit_ms"), ("skip", "skip_ms")):
        for share in (50, 95, 99):
            figures[f"{name}_p{share}_ms"] = round(percentile(merged[key], share / 100), 1)
    print(
        f"{labels} labels and {figures['skips']} skips by {args.labelers} labelers in "
        f"{args.seconds} s: {figures['throughput_per_s']} labels/s; machine CPU "
        f"{figures['cpu_busy_pct']}% busy on {os.cpu_count()} cores, "
        f"{figures['cpu_ms_per_label']} ms CPU per label "
        f"({figures['python_cpu_ms_per_label']} ms of it in the labeler processes)"
    )
    for name in ("next", "submit"):
        print(
            f"{name:>11}: p50 {figures[f'{name}_p50_ms']} ms, p95 {figures[f'{name}_p95_ms']} ms,"
            f" p99 {figures[f'{name}_p99_ms']} ms"
        )
    print(
        f"next+submit: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
        f"p99 {figures['p99_ms']} ms"
    )
    print(
        f"double leases: {len(overfull)} lines {sorted(overfull.values())[:10]}; label counts "
        f"off on {len(miscounted)} lines {miscounted[:10]} ({samples} samples, "
        f"{touched[0]} lines touched)"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--labelers", type=int, default=16, help="concurrent processes")
    parser.add_argument("--users", type=int, default=300, help="people the labelers play")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause after a label")
    parser.add_argument("--database", default="ottoman_bench")
    parser.add_argument("--explain", action="store_true", help="print the claim scan's plan")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--people", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        labeler(args)
    else:
        run(args)


if __name__ == "__main__":
    main()
