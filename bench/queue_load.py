"""The labeling queue under load: concurrent labelers on a million pool lines, on PostgreSQL.

Usage, from the repository root:
    .venv/bin/python bench/queue_load.py [--lines 1000000] [--labelers 16] [--seconds 60]
        [--users 300] [--think-ms 0] [--history 10000] [--mature-labelers 64] [--explain]
        [--keep]

It never touches the developer's database: it drops and recreates a database of its own
(--database, default ottoman_bench) through the maintenance database of BENCH_ADMIN_URL
(default postgres://postgres@127.0.0.1:5432/postgres), migrates it, and loads the documents,
pages and lines with INSERT … SELECT generate_series. Then --labelers processes each play
labelers (a slice of the --users people, in turn) for --seconds: next + submit through
`claim_next` and `submit_label`, the functions the views call. Most texts agree, some do not,
some lines are skipped. Every call is timed with time.perf_counter.

That is the young queue: nobody has a history yet. The mature case follows in the same
database (skipped with --history 0): --mature-labelers of the people have each labelled
--history lines already (9 in 10 labelled, on lines agreed since, each with a lease and a
label per labeler; 1 in 10 skipped with "other", which never flags a line: the same --hard-lines
lines for all of them, at the head of the queue, so every claim of theirs steps past them).
--owners of them own a pool document of --owner-lines lines Tesseract could not read
(confidence 0: the head of the queue, just behind the hard lines, the first owner's document
first), which their own claims must step past; and --document-labelers of them label one
document each (`claim_next(user=..., document=...)`): a well-read one (confidence 90-100, the
tail of the queue). The others take the queue as it comes. The same processes then play these
people for --seconds, and the figures are given per group (p50, p95, p99 of next, of submit,
and of both; the worst person's p95).

While they run, the parent samples the queue's invariant (live leases + labels <= labels
wanted) on the lines holding leases; afterwards it checks every touched line's label count
against its transcriptions. With no think time (the default) the labelers never pause, so the
latencies are those of a saturated machine: on 2 cores, 16 busy processes queue for the CPU.
The last line printed is one JSON object with the figures (the mature case under "mature").
The database is dropped at the end unless --keep is given.
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
from dataclasses import dataclass
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
GROUPS = ("mature", "owner", "document")  # the mature case's labelers, by what they do

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


def insert_pages(
    *,
    pages: int,
    per_document: int,
    image: str = "'pages/bench/' || g || '.png'",
    width: int = 2000,
    height: int = 3000,
) -> int:
    """`pages` read pages, `per_document` to each of the documents in pk order (`image`: SQL over
    `g`, the page's 0-based number); returns the first page's id."""
    from labeling.models import Document, Page

    first_document = Document.objects.order_by("pk").values_list("pk", flat=True)[0]
    insert_select(
        Page,
        f"generate_series(0, {pages - 1}) g",
        {
            "document": f"{first_document} + g / {per_document}",
            "number": f"mod(g, {per_document}) + 1",
            "image": image,
            "sha256": "md5(g::text) || md5(g::text)",
            "width": str(width),
            "height": str(height),
            "source_name": "'bench.pdf'",
            "ocr_status": "'done'",
        },
    )
    return int(Page.objects.order_by("pk").values_list("pk", flat=True)[0])


def load(*, lines: int, users: int) -> list[int]:
    """Users, pool documents, pages and lines; return the user ids."""
    from django.db import connection

    from accounts.models import User
    from labeling.models import Document, Line, Visibility

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
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
    first_page = insert_pages(pages=pages, per_document=PAGES_PER_DOCUMENT)
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


def add_document(*, owner_id: int, title: str, lines: int, line_values: dict[str, str]) -> int:
    """A pool document of `lines` lines (LINES_PER_PAGE a page); `line_values` are SQL over `g`,
    the line's 0-based number in the document. Returns the document's id."""
    from labeling.models import Document, Line, Page, Visibility

    document = Document.objects.create(
        owner_id=owner_id, title=title, visibility=Visibility.POOL, license="cc-by-4.0"
    )
    pages = -(-lines // LINES_PER_PAGE)
    insert_select(
        Page,
        f"generate_series(0, {pages - 1}) g",
        {
            "document": str(document.pk),
            "number": "g + 1",
            "image": f"'pages/bench/{document.pk}-' || g || '.png'",
            "sha256": f"md5('{document.pk}-' || g) || md5(g::text)",
            "width": "2000",
            "height": "3000",
            "source_name": "'bench.pdf'",
            "ocr_status": "'done'",
        },
    )
    numbered = f"""(
        SELECT p.id AS page_id, o, (p.number - 1) * {LINES_PER_PAGE} + o - 1 AS g
        FROM {Page._meta.db_table} p, generate_series(1, {LINES_PER_PAGE}) o
        WHERE p.document_id = {document.pk} AND (p.number - 1) * {LINES_PER_PAGE} + o <= {lines}
    ) numbered"""
    insert_select(
        Line,
        numbered,
        {
            "page": "page_id",
            "order": "o",
            "left": "10",
            "top": "(o - 1) * 100",
            "right": "1990",
            "bottom": "(o - 1) * 100 + 90",
            "prediction": "'كتب'",
            "status": "'open'",
            "in_pool": "true",
            "labels_wanted": "2",
            **line_values,
        },
    )
    return document.pk


def document_lines_sql(document_id: int) -> str:
    """A FROM clause: the document's lines as (line_id, g), g their 0-based number."""
    return f"""(
        SELECT l.id AS line_id, (p.number - 1) * {LINES_PER_PAGE} + l."order" - 1 AS g
        FROM labeling_line l JOIN labeling_page p ON p.id = l.page_id
        WHERE p.document_id = {document_id}
    ) lines"""


def load_mature(args: argparse.Namespace, ids: list[int]) -> list[list[Any]]:
    """The mature queue on top of the young one; return [user id, group, document id or None]
    for each person the labelers play."""
    from django.db import connection

    from labeling.models import Assignment, Document, Transcription

    mature = ids[: args.mature_labelers]
    outsider = ids[-1]  # owns the hard lines and the history: plays no part
    owners = mature[: args.owners]
    readers = mature[args.owners : args.owners + args.document_labelers]
    people = mature
    array = f"ARRAY[{', '.join(str(pk) for pk in people)}]"
    # Nobody still holds a lease from the young run: ten minutes have passed.
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = off")
        cursor.execute(
            "UPDATE labeling_assignment SET expires_at = now() - interval '1 second' "
            "WHERE state = 'active'"
        )

    # The hard lines everybody skipped: confidence 0, inserted first, so the head of the queue.
    hard = add_document(
        owner_id=outsider,
        title="Hard lines",
        lines=args.hard_lines,
        line_values={"confidence": "0"},
    )
    # Documents Tesseract could not read, right behind them, the first owner's first.
    for n, owner in enumerate(owners):
        add_document(
            owner_id=owner,
            title=f"Unreadable document {n}",
            lines=args.owner_lines,
            line_values={"confidence": "0"},
        )
    # Every mature labeler's labels: two per history line, from labelers n and n + 1 (mod their
    # number), so each has 2 * history_lines / len(people) of them; the lines are agreed.
    labels_each = args.history - args.hard_lines
    history_lines = len(people) * labels_each // 2
    history = add_document(
        owner_id=outsider,
        title="History",
        lines=history_lines,
        line_values={
            "confidence": "random() * 100",
            "status": "'agreed'",
            "label_count": "2",
            "agreement": "1.0",
            "consensus_text": true_text_sql("g"),
        },
    )
    labelled = f"{document_lines_sql(history)}, generate_series(0, 1) s"
    labeler_sql = f"({array})[mod(g + s, {len(people)}) + 1]"
    insert_select(
        Transcription,
        labelled,
        {
            "line": "line_id",
            "user": labeler_sql,
            "text": true_text_sql("g"),
            "kept_prediction": "false",
            "seconds_spent": "20",
            "created_at": "now() - interval '30 days'",
            "updated_at": "now() - interval '30 days'",
        },
    )
    insert_select(
        Assignment,
        labelled,
        {
            "line": "line_id",
            "user": labeler_sql,
            "state": "'submitted'",
            "created_at": "now() - interval '30 days'",
            "expires_at": "now() - interval '30 days'",
        },
    )
    # Their skips: every mature labeler skipped every hard line, with "other".
    insert_select(
        Assignment,
        f"{document_lines_sql(hard)}, unnest({array}) AS person",
        {
            "line": "line_id",
            "user": "person",
            "state": "'skipped'",
            "skip_reason": "'other'",
            "created_at": "now() - interval '30 days'",
            "expires_at": "now() - interval '30 days'",
        },
    )
    # Well-read documents for the one-document labelers (not their own): the last young ones,
    # their lines moved to the tail of the queue.
    chosen = list(
        Document.objects.filter(title__startswith="Bench document")
        .exclude(owner_id__in=readers)
        .order_by("-pk")
        .values_list("pk", flat=True)[: max(1, len(readers))]
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE labeling_line SET confidence = 90 + random() * 10 WHERE page_id IN "
            "(SELECT id FROM labeling_page WHERE document_id = ANY(%s))",
            [chosen],
        )
        cursor.execute("VACUUM ANALYZE")
    documents = {reader: chosen[n % len(chosen)] for n, reader in enumerate(readers)}
    groups: list[list[Any]] = []
    for person in people:
        if person in owners:
            groups.append([person, "owner", None])
        elif person in documents:
            groups.append([person, "document", documents[person]])
        else:
            groups.append([person, "mature", None])
    return groups


def explain_claim(user_id: int, document_id: int | None = None) -> str:
    """EXPLAIN ANALYZE of the claim scan as `claim_next` sends it for this user (rolled back)."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from labeling.models import Document
    from labeling.review.queue import claim_next

    person = User.objects.get(pk=user_id)
    document = Document.objects.get(pk=document_id) if document_id else None
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        claim_next(user=person, document=document)
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
    from labeling.models import Document
    from labeling.review.labels import skip_line, submit_label
    from labeling.review.queue import claim_next
    from labeling.transcribing import TranscriptionRefused

    rng = random.Random(args.worker)
    plays = json.loads(args.people)  # [user id, group, document id or None]
    users = User.objects.in_bulk([pk for pk, _, _ in plays])
    documents = Document.objects.in_bulk([doc for _, _, doc in plays if doc])
    people = [(users[pk], group, documents.get(doc) if doc else None) for pk, group, doc in plays]
    # Connect before the clock starts; the lease is used below.
    claim_next(user=people[0][0], document=people[0][2])
    groups: dict[str, dict[str, list[float]]] = {}
    by_person: dict[int, list[float]] = {}
    refused: dict[str, int] = {}
    empty = 0
    time.sleep(max(0.0, args.start - time.time()))
    deadline = args.start + args.seconds
    cpu_started = time.process_time()
    turn = 0
    while time.time() < deadline:
        person, group, document = people[turn % len(people)]
        turn += 1
        times = groups.setdefault(
            group, {"next_ms": [], "submit_ms": [], "label_ms": [], "skip_ms": []}
        )
        started = time.perf_counter()
        claim = claim_next(user=person, document=document)
        claimed = time.perf_counter()
        times["next_ms"].append((claimed - started) * 1000)
        if claim is None:
            empty += 1
            continue
        line_id, pk = claim.assignment.line_id, claim.assignment.pk
        roll = rng.random()
        try:
            if roll < 0.05:
                skip_line(assignment_id=pk, user=person, reason="other")
                times["skip_ms"].append((time.perf_counter() - claimed) * 1000)
            else:
                text = true_text(line_id)
                if roll > 0.85:
                    text += " " + rng.choice(WORDS)  # a misreading
                submit_label(assignment_id=pk, user=person, text=text)
                done = time.perf_counter()
                times["submit_ms"].append((done - claimed) * 1000)
                times["label_ms"].append((done - started) * 1000)
                by_person.setdefault(person.pk, []).append((done - started) * 1000)
        except TranscriptionRefused as refusal:
            refused[refusal.code] = refused.get(refusal.code, 0) + 1
        if args.think_ms:
            time.sleep(rng.expovariate(1000 / args.think_ms))
    result = {
        "groups": groups,
        "by_person": by_person,
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
        young = [[pk, "labeler", None] for pk in ids]
        played = play(args, young, url, var_dir, phase="young")
        figures = young_figures(args, played, users=len(ids))
        figures["load_seconds"] = round(loaded - started, 1)
        if args.explain:
            print("claim scan after the run:\n" + explain_claim(ids[0]), flush=True)
        if args.history:
            figures["mature"] = run_mature(args, ids, url, var_dir)
        figures["total_seconds"] = round(time.monotonic() - started, 1)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            drop_database(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(figures))


def run_mature(args: argparse.Namespace, ids: list[int], url: str, var_dir: str) -> dict[str, Any]:
    started = time.monotonic()
    people = load_mature(args, ids)
    loaded = time.monotonic() - started
    counts = {group: sum(p[1] == group for p in people) for group in GROUPS}
    print(
        f"\nMature queue: {len(people)} labelers with {args.history:,} lines each behind them "
        f"({args.history - args.hard_lines:,} labelled, {args.hard_lines:,} skipped); "
        f"{counts['owner']} of them own a {args.owner_lines:,}-line document at the head of "
        f"the queue, {counts['document']} label one well-read document each; loaded in "
        f"{loaded:.1f} s",
        flush=True,
    )
    if args.explain:
        for group in GROUPS:
            person = next((p for p in people if p[1] == group), None)
            if person is not None:
                plan = explain_claim(person[0], person[2])
                print(f"claim scan of a {group} labeler:\n{plan}", flush=True)
    played = play(args, people, url, var_dir, phase="mature")
    figures = mature_figures(args, played, people)
    figures["load_seconds"] = round(loaded, 1)
    return figures


@dataclass
class Played:
    """What the labeler processes did, and what the parent saw meanwhile."""

    results: list[dict[str, Any]]
    checks: dict[str, Any]

    def merged(self, key: str, groups: tuple[str, ...] | None = None) -> list[float]:
        return [
            v
            for r in self.results
            for group, times in r["groups"].items()
            if groups is None or group in groups
            for v in times[key]
        ]

    def refused(self) -> dict[str, int]:
        refused: dict[str, int] = {}
        for r in self.results:
            for code, n in r["refused"].items():
                refused[code] = refused.get(code, 0) + n
        return refused


def play(
    args: argparse.Namespace, people: list[list[Any]], url: str, var_dir: str, *, phase: str
) -> Played:
    """--labelers processes play the people for --seconds; the invariants are checked."""
    env = {**os.environ, "DATABASE_URL": url, "OTTOMAN_VAR_DIR": var_dir}
    start = time.time() + 3 + args.labelers * 0.3  # every process connected and ready
    out_dir = Path(var_dir) / f"results-{phase}"
    out_dir.mkdir()
    processes = [
        subprocess.Popen(
            [
                sys.executable,
                __file__,
                "--worker",
                str(n),
                "--people",
                json.dumps(people[n :: args.labelers]),
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
    checks = {
        "overfull": overfull,
        "miscounted": sample(MISCOUNTED_SQL),
        "touched": sample("SELECT count(DISTINCT line_id), count(*) FROM labeling_assignment")[0],
        "samples": samples,
        "cpu_busy": (busy1 - busy0) / max(1, total1 - total0),
        "machine_cpu": (busy1 - busy0) / os.sysconf("SC_CLK_TCK"),
    }
    results = [json.loads((out_dir / f"{n}.json").read_text()) for n in range(args.labelers)]
    return Played(results, checks)


def latencies(played: Played, groups: tuple[str, ...] | None = None) -> dict[str, float]:
    """p50/p95/p99 of next, submit, skip and next+submit (label) over the given groups."""
    figures = {}
    for share in (50, 95, 99):
        figures[f"p{share}_ms"] = round(
            percentile(played.merged("label_ms", groups), share / 100), 1
        )
    for name in ("next", "submit", "skip"):
        for share in (50, 95, 99):
            values = played.merged(f"{name}_ms", groups)
            figures[f"{name}_p{share}_ms"] = round(percentile(values, share / 100), 1)
    return figures


def young_figures(args: argparse.Namespace, played: Played, *, users: int) -> dict[str, Any]:
    checks, results = played.checks, played.results
    overfull, miscounted, touched = checks["overfull"], checks["miscounted"], checks["touched"]
    labels = len(played.merged("label_ms"))
    labeler_cpu = sum(r["cpu_seconds"] for r in results)
    shares = latencies(played)
    figures: dict[str, Any] = {
        "p50_ms": shares["p50_ms"],
        "p95_ms": shares["p95_ms"],
        "p99_ms": shares["p99_ms"],
        "double_leases": len(overfull),
        "label_count_mismatches": len(miscounted),
        "throughput_per_s": round(labels / args.seconds, 1),
        "labels": labels,
        "skips": len(played.merged("skip_ms")),
        "refused": played.refused(),
        "empty_claims": sum(r["empty"] for r in results),
        "lines": args.lines,
        "labelers": args.labelers,
        "users": users,
        "seconds": args.seconds,
        "think_ms": args.think_ms,
        "lines_touched": touched[0],
        "leases": touched[1],
        "invariant_samples": checks["samples"],
        "cpu_count": os.cpu_count(),
        "cpu_busy_pct": round(100 * checks["cpu_busy"], 1),
        # CPU time per label: the labeler processes (Django, Python) and the rest of the
        # machine (PostgreSQL, mostly).
        "cpu_ms_per_label": round(1000 * checks["machine_cpu"] / max(1, labels), 2),
        "python_cpu_ms_per_label": round(1000 * labeler_cpu / max(1, labels), 2),
    }
    for name in ("next", "submit", "skip"):
        for share in (50, 95, 99):
            figures[f"{name}_p{share}_ms"] = shares[f"{name}_p{share}_ms"]
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
    print_checks(checks)
    return figures


def mature_figures(
    args: argparse.Namespace, played: Played, people: list[list[Any]]
) -> dict[str, Any]:
    checks, results = played.checks, played.results
    labels = len(played.merged("label_ms"))
    figures: dict[str, Any] = {
        **{key: value for key, value in latencies(played).items() if not key.startswith("skip")},
        "double_leases": len(checks["overfull"]),
        "label_count_mismatches": len(checks["miscounted"]),
        "throughput_per_s": round(labels / args.seconds, 1),
        "labels": labels,
        "skips": len(played.merged("skip_ms")),
        "refused": played.refused(),
        "empty_claims": sum(r["empty"] for r in results),
        "labelers": len(people),
        "history_per_labeler": args.history,
        "skipped_per_labeler": args.hard_lines,
        "owner_lines": args.owner_lines,
        "cpu_busy_pct": round(100 * checks["cpu_busy"], 1),
        "groups": {},
    }
    print(
        f"{labels} labels and {figures['skips']} skips in {args.seconds} s: "
        f"{figures['throughput_per_s']} labels/s; machine CPU {figures['cpu_busy_pct']}% busy"
    )
    by_person: dict[str, list[float]] = {}
    for r in results:
        for pk, values in r["by_person"].items():
            by_person.setdefault(pk, []).extend(values)
    for group in GROUPS:
        members = [str(p[0]) for p in people if p[1] == group]
        if not members:
            continue
        shares = latencies(played, (group,))
        worst = max((percentile(by_person.get(pk, []), 0.95) for pk in members), default=0.0)
        figures["groups"][group] = {
            **{key: value for key, value in shares.items() if not key.startswith("skip")},
            "worst_person_p95_ms": round(worst, 1),
            "labels": len(played.merged("label_ms", (group,))),
            "people": len(members),
        }
        g = figures["groups"][group]
        print(
            f"{group:>8} ({g['people']} people, {g['labels']} labels): next p50 "
            f"{g['next_p50_ms']} / p95 {g['next_p95_ms']} / p99 {g['next_p99_ms']} ms; "
            f"next+submit p50 {g['p50_ms']} / p95 {g['p95_ms']} / p99 {g['p99_ms']} ms; "
            f"worst person's p95 {g['worst_person_p95_ms']} ms"
        )
    print(
        f"     all: next p95 {figures['next_p95_ms']} ms, next+submit p50 {figures['p50_ms']} / "
        f"p95 {figures['p95_ms']} / p99 {figures['p99_ms']} ms"
    )
    print_checks(checks)
    return figures


def print_checks(checks: dict[str, Any]) -> None:
    overfull, miscounted, touched = checks["overfull"], checks["miscounted"], checks["touched"]
    print(
        f"double leases: {len(overfull)} lines {sorted(overfull.values())[:10]}; label counts "
        f"off on {len(miscounted)} lines {miscounted[:10]} ({checks['samples']} samples, "
        f"{touched[0]} lines touched)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--labelers", type=int, default=16, help="concurrent processes")
    parser.add_argument("--users", type=int, default=300, help="people the labelers play")
    parser.add_argument("--seconds", type=float, default=60.0, help="each case's run")
    parser.add_argument("--think-ms", type=float, default=0.0, help="mean pause after a label")
    parser.add_argument(
        "--history", type=int, default=10_000, help="lines behind each mature labeler (0: none)"
    )
    parser.add_argument("--mature-labelers", type=int, default=64, help="people, mature case")
    parser.add_argument("--hard-lines", type=int, default=1_000, help="skipped by each of them")
    parser.add_argument("--owners", type=int, default=4, help="of them, owning a document")
    parser.add_argument("--owner-lines", type=int, default=10_000, help="lines in each")
    parser.add_argument(
        "--document-labelers", type=int, default=8, help="of them, labelling one document"
    )
    parser.add_argument("--database", default="ottoman_bench")
    parser.add_argument("--explain", action="store_true", help="print the claim scans' plans")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--people", help=argparse.SUPPRESS)
    parser.add_argument("--start", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        labeler(args)
        return
    if args.history and not (
        args.hard_lines < args.history
        and args.owners + args.document_labelers < args.mature_labelers < args.users
    ):
        parser.error(
            "the mature case needs --hard-lines < --history and "
            "--owners + --document-labelers < --mature-labelers < --users"
        )
    run(args)


if __name__ == "__main__":
    main()
