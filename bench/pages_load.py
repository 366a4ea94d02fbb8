"""Every main page and admin change list at a million lines, on PostgreSQL: p50/p95 per page.

Usage, from the repository root:
    .venv/bin/python bench/pages_load.py [--lines 1000000] [--documents 100000] [--requests 30]
        [--users 2000] [--database ottoman_bench_pages] [--keep] [--reuse]

It never touches the developer's database: it drops and recreates its own (--database) through
BENCH_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres), migrates it, and loads
with INSERT … SELECT generate_series: --users people (the measured person, a contributor; a
staff superuser; a moderator; the others labelers), --documents documents of
--pages-per-document pages each (--mine of them private to the measured person, one in ten
private to someone else, the rest in the pool with a licence and the owner's consent, a few
withdrawn), and --lines lines spread over the pages, with statuses as a working site has them
(most pool lines open, some with one label; agreed, approved, disputed, flagged, rejected lines
with their labels; gold lines; in private documents the owner's own readings). The measured
person's newest document has 40 lines a page: the document, page and line editor measured are
its. About 300,000 transcriptions in all (each pool one with its lease and stored verdict),
2,000 or so of them the measured person's; gold scores, the moderators' decisions on approved,
rejected and flagged lines, bans, private-access records, outgoing e-mails, two OCR models,
releases and training runs, 30 days of lines by status. Then VACUUM ANALYZE.

The site runs in this process through django.test.Client (DEBUG off, Redis cache
redis://127.0.0.1:6379/6 or BENCH_REDIS_URL, signed in with force_login): the measured person's
pages, the staff pages as the superuser, and the Django admin's change list of every model of
the labeling and accounts apps registered there (found in admin.site._registry), as the
superuser: page 1, page 1 searched where it has search fields, and page 1 with its first
filter's first choice; and the lines' list as a moderator (pool rows only), plain and
filtered. Each URL gets one warm-up request, then --requests timed ones (time.perf_counter
around the request; a page slower than --budget-seconds in all gets fewer, at least 3), then
one more inside CaptureQueriesContext for its number of queries. The label queue claims a
line on the first request and hands the same lease back on the others.

Printed: a table (page, URL, p50 and p95 in ms, queries per request), then how long beat takes
to work out the staff dashboard's and the anchoring report's snapshots (`report_refresh_ms`:
those pages read the snapshot); the last line is one JSON object with every page's p95,
`worst_page_p95_ms` and `worst_page`. --keep keeps the database;
--reuse measures a kept one again without loading (migrating it first); --only and --skip
(repeatable) choose pages by a part of their name.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.queue_load import (  # noqa: E402 (after the path)
    ADMIN_URL,
    WORDS,
    drop_database,
    insert_pages,
    insert_select,
    percentile,
    recreate_database,
    true_text_sql,
)

ME = "reader@bench.example"
STAFF = "staff@bench.example"
MODERATOR_EMAIL = "moderator@bench.example"
SHOWCASE_LINES = 40  # lines a page of the measured person's newest document
SEARCHED = WORDS[1]  # سلطان: in one line in four, as the bench's texts go
ADMIN_APPS = ("labeling", "accounts")
# A search term per admin change list that finds some rows but not all: numbers are in titles,
# e-mail addresses, subjects and paths; lines are searched by their text.
SEARCH_TERMS = {"labeling.line": SEARCHED}
SEARCH_TERM = "12"
MIN_REQUESTS = 3

# Pool lines by what has happened to them: (kind, share of pool lines). The rest are open lines
# nobody has labelled. Each kind's status, labels, need, consensus and flag follow from it.
POOL_KINDS = (
    ("open1", 0.030),
    ("agreed", 0.050),
    ("approved", 0.080),
    ("disputed", 0.008),
    ("flagged", 0.003),
    ("rejected", 0.007),
)
KIND_STATUS = {
    "open0": "open",
    "open1": "open",
    "agreed": "agreed",
    "approved": "approved",
    "disputed": "disputed",
    "flagged": "disputed",
    "rejected": "rejected",
    "owned": "agreed",
}
KIND_LABELS = {"open1": 1, "agreed": 2, "approved": 2, "disputed": 3, "flagged": 1}
KIND_LABELS.update({"rejected": 2, "owned": 1})
KIND_WANTED = {"disputed": 3}
SETTLED_KINDS = ("agreed", "approved", "owned")


def case(column: str, mapping: dict[str, Any], default: str) -> str:
    """CASE column WHEN key THEN value … ELSE default END (values are SQL)."""
    whens = " ".join(f"WHEN '{key}' THEN {value}" for key, value in mapping.items())
    return f"(CASE {column} {whens} ELSE {default} END)"


def execute(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


# Loading ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    me: int
    staff: int
    moderator: int
    document: int  # the measured person's newest document (40 lines a page)
    page: int  # its first page
    line: int  # its first line the person has not read


def load_people(users: int) -> tuple[int, int, int, int]:
    """The measured person, the staff superuser, a moderator and the others; (me, staff,
    first other id, number of others)."""
    from allauth.account.models import EmailAddress
    from django.contrib.auth.models import Group

    from accounts.groups import MODERATOR, make_contributor
    from accounts.models import User

    me = User.objects.create_user(ME, "!", display_name="Bench reader")
    EmailAddress.objects.create(user=me, email=ME, verified=True, primary=True)
    make_contributor(user=me)
    staff = User.objects.create_superuser(STAFF, "!")
    moderator = User.objects.create_user(MODERATOR_EMAIL, "!", is_staff=True)
    moderator.groups.add(Group.objects.get(name=MODERATOR))
    others = users - 3
    insert_select(
        User,
        f"generate_series(1, {others}) g",
        {
            "email": "'labeler' || g || '@bench.example'",
            "password": "'!'",
            "display_name": "CASE WHEN mod(g, 3) = 0 THEN 'Okuyucu ' || g ELSE '' END",
            "date_joined": "now() - g * interval '1 hour'",
        },
    )
    first_other = execute("SELECT min(id) FROM accounts_user WHERE email LIKE 'labeler%'")[0][0]
    return me.pk, staff.pk, int(first_other), others


def load_documents(args: argparse.Namespace, me: int, staff: int, first: int, others: int) -> None:
    from labeling.models import Document

    private = f"(g < {args.mine} OR mod(g, 10) = 1)"
    insert_select(
        Document,
        f"generate_series(0, {args.documents - 1}) g",
        {
            "owner": f"CASE WHEN g < {args.mine} THEN {me} ELSE {first} + mod(g, {others}) END",
            "title": "(ARRAY['Defter', 'Mecmua', 'Sicil', 'Salname'])[mod(g, 4) + 1] || ' ' || g",
            "visibility": f"CASE WHEN {private} THEN 'private' ELSE 'pool' END",
            "license": (
                f"CASE WHEN {private} THEN '' ELSE (ARRAY['cc0-1.0', 'cc-by-4.0', "
                "'cc-by-sa-4.0', 'public-domain'])[mod(g, 4) + 1] END"
            ),
            "pool_consent_at": f"CASE WHEN {private} THEN NULL ELSE now() - interval '90 days' END",
            "auto_approve": "mod(g, 5) = 0",
            # Created over the last months, the measured person's among everyone's.
            "created_at": f"now() - mod(g * 7919, {args.documents}) * interval '2 minutes'",
            "withdrawn_at": f"CASE WHEN NOT {private} AND mod(g, 1000) = 7 THEN now() END",
            "withdrawn_by": f"CASE WHEN NOT {private} AND mod(g, 1000) = 7 THEN {staff} END",
            "withdrawal_reason": f"CASE WHEN NOT {private} AND mod(g, 1000) = 7 "
            "THEN 'Scans of poor quality' ELSE '' END",
        },
    )


def line_values(kind: str, truth: str, model: int) -> dict[str, str]:
    """A line's columns as SQL over `kind`, `page_id`, `o` (its 0-based order) and `r`."""
    return {
        "page": "page_id",
        "order": "o + 1",
        "left": "10",
        "top": "o * 100",
        "right": "1990",
        "bottom": "o * 100 + 90",
        # Tesseract read half of the lines right.
        "prediction": f"CASE WHEN mod(o + page_id, 2) = 0 THEN {truth} ELSE 'كتب' END",
        "confidence": "r * 100",
        "predicted_by": str(model),
        "status": case(kind, {k: f"'{v}'" for k, v in KIND_STATUS.items()}, "'open'"),
        "consensus_text": f"CASE WHEN {kind} IN {SETTLED_KINDS} THEN {truth} ELSE '' END",
        "agreement": case(kind, dict.fromkeys(SETTLED_KINDS, "1.0") | {"disputed": "0.34"}, "NULL"),
        "in_pool": "in_pool",
        "label_count": case(kind, {k: str(v) for k, v in KIND_LABELS.items()}, "0"),
        "labels_wanted": f"CASE WHEN in_pool THEN {case(kind, KIND_WANTED, '2')} ELSE 1 END",
        "flag": f"CASE WHEN {kind} = 'flagged' THEN 'illegible' ELSE '' END",
    }


def pool_kind_sql() -> str:
    whens, bound = [], 0.0
    for kind, share in POOL_KINDS:
        bound += share
        whens.append(f"WHEN r < {bound:.4f} THEN '{kind}'")
    return f"(CASE {' '.join(whens)} ELSE 'open0' END)"


def load_lines(args: argparse.Namespace, model: int) -> None:
    """The lines, spread over every page (line g on page g mod pages); in a private document
    one line in five is the owner's own reading (agreed)."""
    from labeling.models import Line

    pages = args.documents * args.pages_per_document
    first_page = execute("SELECT min(id) FROM labeling_page")[0][0]
    rows = f"""(
        SELECT s.*, CASE WHEN s.pool THEN {pool_kind_sql()}
                         WHEN r < 0.2 THEN 'owned' ELSE 'open0' END AS kind
        FROM (
            SELECT g, p.id AS page_id, g / {pages} AS o, random() AS r,
                   d.visibility = 'pool' AS pool,
                   d.visibility = 'pool' AND d.withdrawn_at IS NULL AS in_pool
            FROM generate_series(0, {args.lines - 1}) g
            JOIN labeling_page p ON p.id = {first_page} + mod(g, {pages})
            JOIN labeling_document d ON d.id = p.document_id
        ) s
    ) numbered"""
    insert_select(Line, rows, line_values("kind", true_text_sql("g"), model))


def load_showcase(me: int, model: int) -> int:
    """The measured person's newest document gets SHOWCASE_LINES lines a page (its first
    half read by them); returns its id."""
    from labeling.models import Document, Line

    document = Document.objects.filter(owner_id=me).order_by("-created_at", "-pk").first()
    assert document is not None
    rows = f"""(
        SELECT p.id AS page_id, o, 0.5 AS r, false AS in_pool,
               CASE WHEN o < {SHOWCASE_LINES // 2} THEN 'owned' ELSE 'open0' END AS kind
        FROM labeling_page p,
             generate_series(
                 (SELECT count(*) FROM labeling_line l WHERE l.page_id = p.id),
                 {SHOWCASE_LINES - 1}) o
        WHERE p.document_id = {document.pk}
    ) numbered"""
    insert_select(Line, rows, line_values("kind", true_text_sql("page_id * 64 + o"), model))
    # The lines there before are the first of each page: the owner's reading too.
    Line.objects.filter(page__document=document, order=1).update(
        status="agreed", consensus_text=WORDS[0], agreement=1.0, label_count=1, labels_wanted=1
    )
    return int(document.pk)


def load_labels(me: int, first: int, others: int) -> None:
    """Every line's transcriptions (label_count of them): in a private document the owner's;
    on the pool the others', one in M lines' first label the measured person's (about 1,000 of
    them), each with its submitted lease."""
    from labeling.models import Assignment, Transcription

    labelled_pool = execute("SELECT count(*) FROM labeling_line WHERE in_pool AND label_count > 0")[
        0
    ][0]
    every = max(1, labelled_pool // 1000)
    labeler = (
        f"CASE WHEN d.visibility = 'private' THEN d.owner_id "
        f"WHEN k = 0 AND mod(l.id, {every}) = 0 THEN {me} "
        f"ELSE {first} + mod(l.id * 7 + k * 13, {others}) END"
    )
    words = f"ARRAY[{', '.join(repr(w) for w in WORDS)}]"
    rows = f"""(
        SELECT l.id AS line_id, k, {labeler} AS person,
               CASE WHEN l.status = 'disputed' AND k > 0
                    THEN l.prediction || ' ' || ({words})[k + 1]
                    WHEN l.consensus_text <> '' THEN l.consensus_text
                    ELSE l.prediction END AS text,
               l.prediction AS prediction, l.status AS status, l.consensus_text AS consensus,
               now() - random() * interval '60 days' AS at
        FROM labeling_line l
        JOIN labeling_page p ON p.id = l.page_id
        JOIN labeling_document d ON d.id = p.document_id,
        generate_series(0, l.label_count - 1) k
    ) labels"""
    insert_select(
        Transcription,
        rows,
        {
            "line": "line_id",
            "user": "person",
            "text": "text",
            "kept_prediction": "text = prediction",
            "seconds_spent": "5 + mod(line_id, 60)",
            "blind": "mod(line_id + k, 5) = 0",
            "created_at": "at",
            "updated_at": "at",
            # Stored against the consensus (labeling/review/verdicts.py): every label of a
            # settled line here agrees with it.
            "as_predicted": "text = prediction",
            "verdict": "CASE WHEN status IN ('agreed', 'approved') AND consensus <> '' "
            "THEN (CASE WHEN text = consensus THEN 'agreed' ELSE 'overturned' END) "
            "ELSE 'pending' END",
        },
    )
    pool_labels = """(
        SELECT t.* FROM labeling_transcription t
        JOIN labeling_line l ON l.id = t.line_id
        JOIN labeling_page p ON p.id = l.page_id
        JOIN labeling_document d ON d.id = p.document_id
        WHERE d.visibility = 'pool'
    ) labels"""
    insert_select(
        Assignment,
        pool_labels,
        {
            "line": "line_id",
            "user": "user_id",
            "blind": "blind",
            "state": "'submitted'",
            "created_at": "created_at - interval '1 minute'",
            "expires_at": "created_at + interval '29 minutes'",
        },
    )
    # The measured person skipped fifty lines nobody had labelled.
    skipped = """(
        SELECT id FROM labeling_line WHERE in_pool AND status = 'open' AND label_count = 0
        ORDER BY id DESC LIMIT 50
    ) skipped"""
    insert_select(
        Assignment,
        skipped,
        {
            "line": "id",
            "user": str(me),
            "state": "'skipped'",
            "skip_reason": "'illegible'",
            "created_at": "now() - interval '3 days'",
            "expires_at": "now() - interval '3 days'",
        },
    )


def load_records(me: int, staff: int, first: int, others: int) -> None:
    """Gold lines and scores, moderators' decisions, bans, private accesses, e-mails."""
    from labeling.models import (
        GoldScore,
        LabelerBan,
        ModerationDecision,
        OutgoingEmail,
        PrivateAccess,
    )

    execute(
        f"UPDATE labeling_line SET gold_text = {true_text_sql('id')} WHERE id IN ("
        "SELECT id FROM labeling_line WHERE in_pool AND status = 'open' AND label_count = 0 "
        "ORDER BY id LIMIT 200)"
    )
    insert_select(
        GoldScore,
        "accounts_user u WHERE u.is_superuser = false",
        {
            "user": "u.id",
            "seen": "5 + mod(u.id, 20)",
            "correct": "5 + mod(u.id, 20) - mod(u.id, 3)",
            "held_back": "mod(u.id, 97) = 0",
        },
    )
    decided = """(
        SELECT l.*, now() - mod(l.id, 43200) * interval '1 minute' AS at
        FROM labeling_line l
        WHERE l.status IN ('approved', 'rejected') OR l.flag <> '' OR l.gold_text <> ''
    ) decided"""
    action = (
        "CASE WHEN gold_text <> '' THEN 'make_gold' WHEN flag <> '' THEN 'flag' "
        "WHEN status = 'rejected' THEN 'reject' WHEN mod(id, 3) = 0 THEN 'auto' ELSE 'approve' END"
    )
    insert_select(
        ModerationDecision,
        decided,
        {
            "line": "id",
            "moderator": f"CASE WHEN flag <> '' OR (status = 'approved' AND mod(id, 3) = 0) "
            f"THEN NULL ELSE {staff} END",
            "action": action,
            "from_status": "CASE WHEN status = 'rejected' THEN 'disputed' "
            "WHEN gold_text <> '' THEN 'open' WHEN flag <> '' THEN 'open' ELSE 'agreed' END",
            "text": "CASE WHEN gold_text <> '' THEN gold_text ELSE consensus_text END",
            "reason": "CASE WHEN status = 'rejected' THEN 'Not one whole line' ELSE '' END",
            "created_at": "at",
        },
    )
    insert_select(
        LabelerBan,
        "generate_series(0, 4) g",
        {
            "user": f"{first} + g * 101",
            "banned_by": str(staff),
            "reason": "'Copied the prediction without reading'",
            "created_at": "now() - g * interval '7 days'",
            "lifted_at": "CASE WHEN g = 0 THEN now() END",
            "lifted_by": f"CASE WHEN g = 0 THEN {staff} END",
        },
    )
    insert_select(
        PrivateAccess,
        "generate_series(1, 1000) g",
        {
            "user": str(staff),
            "what": "'labeling.line'",
            "object_id": "g",
            "path": "'/admin/labeling/line/' || g || '/change/'",
            "at": "now() - g * interval '1 hour'",
        },
    )
    insert_select(
        OutgoingEmail,
        "generate_series(1, 5000) g",
        {
            "subject": "'Your document ' || g || ' has been read'",
            "from_email": "'site@bench.example'",
            "to": f"jsonb_build_array('labeler' || mod(g, {others}) || '@bench.example')",
            "body": "'…'",
            "status": "CASE WHEN mod(g, 50) = 0 THEN 'failed' ELSE 'done' END",
            "sent_at": "now() - g * interval '10 minutes'",
            "created_at": "now() - g * interval '10 minutes'",
        },
    )


def load_training(staff: int) -> int:
    """Two OCR models, three releases, two training runs; returns the default model's id."""
    from labeling.models import DatasetRelease, OcrModel, TrainingRun

    default = OcrModel.default()  # the migrations made one
    assert default is not None
    farsi = OcrModel.objects.create(name="fas", language="fas", trainable=True)
    for number in (1, 2, 3):
        release = DatasetRelease.objects.create(
            number=number,
            created_by_id=staff,
            statuses=["approved"],
            status="done",
            lines_done=1000 * number,
            lines_total=1000 * number,
            summary={"documents": 10 * number, "lines": 1000 * number},
        )
        if number > 1:
            TrainingRun.objects.create(
                release=release, start_model=farsi, created_by_id=staff, status="done"
            )
    return int(default.pk)


def record_history() -> None:
    """The staff dashboard's lines by status for the last 30 days (today's counts for each),
    where the site keeps them (labeling.dashboards.record_status_counts)."""
    from labeling import dashboards

    record = getattr(dashboards, "record_status_counts", None)
    if record is None:
        return
    today = date.today()
    for back in range(30):
        record(day=today - timedelta(days=back))


def load(args: argparse.Namespace) -> Loaded:
    from accounts.models import User
    from labeling.models import Line, Transcription

    execute("SET synchronous_commit = off")
    me, staff, first, others = load_people(args.users)
    model = load_training(staff)
    load_documents(args, me, staff, first, others)
    insert_pages(
        pages=args.documents * args.pages_per_document, per_document=args.pages_per_document
    )
    execute(f"UPDATE labeling_page SET ocr_model_id = {model}, ocr_finished_at = now()")
    load_lines(args, model)
    document = load_showcase(me, model)
    load_labels(me, first, others)
    load_records(me, staff, first, others)
    record_history()
    execute("VACUUM ANALYZE")
    read = Transcription.objects.filter(user_id=me).values("line_id")
    line = (
        Line.objects.filter(page__document_id=document)
        .exclude(pk__in=read)
        .order_by("page__number", "order")
        .first()
    )
    assert line is not None
    moderator = User.objects.get(email=MODERATOR_EMAIL).pk
    return Loaded(
        me=me, staff=staff, moderator=moderator, document=document, page=line.page_id, line=line.pk
    )


def found(args: argparse.Namespace) -> Loaded:
    """The ids of a kept database (--reuse)."""
    from accounts.models import User
    from labeling.models import Document, Line, Transcription

    me = User.objects.get(email=ME)
    document = Document.objects.filter(owner=me).order_by("-created_at", "-pk").first()
    assert document is not None
    read = Transcription.objects.filter(user=me).values("line_id")
    line = (
        Line.objects.filter(page__document=document)
        .exclude(pk__in=read)
        .order_by("page__number", "order")
        .first()
    )
    assert line is not None
    staff = User.objects.get(email=STAFF)
    moderator = User.objects.get(email=MODERATOR_EMAIL)
    return Loaded(
        me=me.pk,
        staff=staff.pk,
        moderator=moderator.pk,
        document=document.pk,
        page=line.page_id,
        line=line.pk,
    )


def counts() -> dict[str, int]:
    tables = {
        "users": "accounts_user",
        "documents": "labeling_document",
        "pages": "labeling_page",
        "lines": "labeling_line",
        "transcriptions": "labeling_transcription",
        "assignments": "labeling_assignment",
        "decisions": "labeling_moderationdecision",
    }
    return {name: execute(f"SELECT count(*) FROM {table}")[0][0] for name, table in tables.items()}


# Measuring ----------------------------------------------------------------------------------


@dataclass
class Target:
    name: str
    url: str
    who: str = "me"  # me (a contributor), staff (the superuser) or moderator
    follow_label: bool = False  # /label/: the redirect is the next request's URL


def admin_targets(staff_id: int) -> list[Target]:
    """Each registered change list of ADMIN_APPS: page 1, searched, and one filter applied."""
    from django.contrib import admin
    from django.test import RequestFactory
    from django.urls import reverse

    from accounts.models import User

    staff = User.objects.get(pk=staff_id)
    targets = []
    for model, model_admin in sorted(
        admin.site._registry.items(), key=lambda item: item[0]._meta.label_lower
    ):
        meta = model._meta
        if meta.app_label not in ADMIN_APPS:
            continue
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        name = f"admin {meta.label_lower}"
        targets.append(Target(name, url, who="staff"))
        if model_admin.search_fields:
            term = SEARCH_TERMS.get(meta.label_lower, SEARCH_TERM)
            targets.append(Target(f"{name} searched", f"{url}?q={term}", who="staff"))
        if model_admin.list_filter:
            request = RequestFactory().get(url)
            request.user = staff
            changelist = model_admin.get_changelist_instance(request)
            spec = changelist.filter_specs[0]
            choice = next(c for c in spec.choices(changelist) if not c["selected"])
            targets.append(
                Target(f"{name} filtered", f"{url}{choice['query_string']}", who="staff")
            )
    # A moderator sees pool rows only: the lines they work on, joined with their documents.
    lines = reverse("admin:labeling_line_changelist")
    targets.append(Target("admin labeling.line (moderator)", lines, who="moderator"))
    targets.append(
        Target(
            "admin labeling.line filtered (moderator)", f"{lines}?review=agreed", who="moderator"
        )
    )
    return targets


def site_targets(loaded: Loaded, pool_pages: int) -> list[Target]:
    from django.urls import reverse

    deep = max(1, pool_pages * 3 // 4)
    return [
        Target("home", reverse("labeling:home")),
        Target("documents", reverse("labeling:documents")),
        Target("document", reverse("labeling:document", args=[loaded.document])),
        Target("page", reverse("labeling:page", args=[loaded.page])),
        Target("line editor", reverse("labeling:line", args=[loaded.line])),
        Target("pool", reverse("labeling:pool")),
        Target("pool deep page", f"{reverse('labeling:pool')}?page={deep}"),
        Target("label queue", reverse("labeling:label_next"), follow_label=True),
        Target("my labels", reverse("labeling:my_labels")),
        Target("my dashboard", reverse("labeling:dashboard")),
        Target("search", f"{reverse('labeling:search')}?q={SEARCHED}"),
        Target("guidelines", reverse("labeling:guidelines")),
        Target("staff dashboard", reverse("labeling:staff_dashboard"), who="staff"),
        Target("anchoring report", reverse("labeling:anchoring"), who="staff"),
    ]


@dataclass
class Measured:
    target: Target
    url: str
    times: list[float]
    queries: int
    status: int


def measure(target: Target, client: Any, requests: int, budget_ms: float) -> list[Measured]:
    """Warm-up, `requests` timed requests (fewer past `budget_ms`), one counted; the label
    queue is two pages."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def get(url: str) -> Any:
        response = client.get(url)
        if response.status_code not in (200, 302):
            raise SystemExit(f"{target.name}: {url} answered {response.status_code}")
        return response

    urls = [target.url]
    if target.follow_label:
        urls.append(get(target.url)["Location"])
    results = []
    for n, url in enumerate(urls):
        get(url)
        times: list[float] = []
        # A page that takes seconds gets fewer requests (at least MIN_REQUESTS), so that the
        # whole run stays within minutes.
        while len(times) < requests and (len(times) < MIN_REQUESTS or sum(times) < budget_ms):
            started = time.perf_counter()
            response = get(url)
            times.append(1000 * (time.perf_counter() - started))
        with CaptureQueriesContext(connection) as captured:
            response = get(url)
        shown = Target(f"{target.name} (its page)", url) if n else target
        results.append(Measured(shown, url, times, len(captured), response.status_code))
    return results


def run_pages(args: argparse.Namespace, loaded: Loaded) -> list[Measured]:
    from django.test import Client

    from accounts.models import User
    from labeling.models import Document, Visibility
    from labeling.views import LIST_PAGE_SIZE

    pool_documents = Document.objects.filter(visibility=Visibility.POOL).exclude(owner_id=loaded.me)
    pool_pages = -(-pool_documents.count() // LIST_PAGE_SIZE)
    clients = {}
    for who, pk in (("me", loaded.me), ("staff", loaded.staff), ("moderator", loaded.moderator)):
        client = Client()
        client.force_login(User.objects.get(pk=pk))
        clients[who] = client
    targets = [
        target
        for target in site_targets(loaded, pool_pages) + admin_targets(loaded.staff)
        if not any(part in target.name for part in args.skip)
        and (not args.only or any(part in target.name for part in args.only))
    ]
    results = []
    print(f"\n{'page':<44} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'n':>3}  url", flush=True)
    for target in targets:
        client = clients[target.who]
        for measured in measure(target, client, args.requests, 1000 * args.budget_seconds):
            results.append(measured)
            print(
                f"{measured.target.name:<44} {percentile(measured.times, 0.5):8.1f} "
                f"{percentile(measured.times, 0.95):8.1f} {measured.queries:8d} "
                f"{len(measured.times):3d}  {measured.url}",
                flush=True,
            )
    return results


def setup(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "ottoman_ocr.test_settings"
    os.environ["OTTOMAN_VAR_DIR"] = var_dir
    os.environ["DJANGO_DEBUG"] = "false"
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    os.environ["REDIS_URL"] = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    os.environ["DATABASE_CONN_MAX_AGE"] = "600"
    import django

    django.setup()


def time_report_refreshes(times: int = 3) -> dict[str, float]:
    """What beat does every REPORT_REFRESH_SECONDS (the staff dashboard and the anchoring
    report read a snapshot of it): the median of `times` runs of each, in ms. Not a page."""
    from labeling import reports

    medians = {}
    for name in reports.REPORTS:
        runs = []
        for _ in range(times):
            started = time.perf_counter()
            reports.refresh(name)
            runs.append((time.perf_counter() - started) * 1000)
        medians[name] = round(percentile(runs, 0.5), 1)
        print(f"report {name} worked out (beat's work, not a page): {medians[name]:.0f} ms")
    return medians


def run(args: argparse.Namespace) -> None:
    var_dir = tempfile.mkdtemp(prefix="pages-bench-")
    started = time.monotonic()
    if args.reuse:
        url = ADMIN_URL.rsplit("/", 1)[0] + "/" + args.database
    else:
        url = recreate_database(args.database)
    figures: dict[str, Any] = {}
    try:
        setup(url, var_dir)
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        loaded = found(args) if args.reuse else load(args)
        rows = counts()
        print(
            f"database {args.database}: "
            + ", ".join(f"{n:,} {name}" for name, n in rows.items())
            + f"; ready in {time.monotonic() - started:.1f} s",
            flush=True,
        )
        results = run_pages(args, loaded)
        refresh_ms = time_report_refreshes()
        p95 = {m.target.name: round(percentile(m.times, 0.95), 1) for m in results}
        worst = max(p95, key=lambda name: p95[name])
        figures = {
            "p95_ms": p95,
            "p50_ms": {m.target.name: round(percentile(m.times, 0.5), 1) for m in results},
            "queries": {m.target.name: m.queries for m in results},
            "worst_page_p95_ms": p95[worst],
            "worst_page": worst,
            "pages_over_200_ms": sorted(name for name, ms in p95.items() if ms >= 200),
            "report_refresh_ms": refresh_ms,
            **rows,
            "requests": args.requests,
            "total_seconds": round(time.monotonic() - started, 1),
        }
    finally:
        from django.db import connections

        connections.close_all()
        if not (args.keep or args.reuse):
            drop_database(args.database)
        shutil.rmtree(var_dir, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=100_000)
    parser.add_argument("--pages-per-document", type=int, default=10)
    parser.add_argument("--users", type=int, default=2_000)
    parser.add_argument("--mine", type=int, default=500, help="the measured person's documents")
    parser.add_argument("--requests", type=int, default=30, help="timed requests per page")
    parser.add_argument(
        "--budget-seconds",
        type=float,
        default=60.0,
        help="a page's timed requests stop past this (at least 3 are made)",
    )
    parser.add_argument(
        "--only", action="append", default=[], help="measure only pages whose name has this"
    )
    parser.add_argument(
        "--skip", action="append", default=[], help="leave out pages whose name has this"
    )
    parser.add_argument("--database", default="ottoman_bench_pages")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="measure a kept database again")
    args = parser.parse_args()
    if args.mine >= args.documents or args.users < 3:
        parser.error("--mine must be below --documents, and --users at least 3")
    run(args)


if __name__ == "__main__":
    main()
