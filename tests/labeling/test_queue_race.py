"""The queue under real concurrency: 8 processes claim, label, skip and abandon pool lines.

PostgreSQL only. The workers are separate Python processes (this file, run through a small
bootstrap that calls django.setup()), so every claim and label goes through its own database
connection and transaction, as in production. Half the labelers are played by all processes
at once (many tabs, taken to the extreme), and the workers' claim scans are slowed down to
widen the race windows (see slow_claim_scans). The workers start together (a barrier) and
time every claim and what they do with it; the test checks that they really did the work at
the same time, not one after another. While they run, the test samples the queue's invariant
on the database; afterwards it checks that nothing was lost or counted twice and that every
line's state is what `decide()` makes of its labels.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import time
from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from accounts.models import User
from labeling.models import (
    Assignment,
    AssignmentState,
    GoldScore,
    Line,
    LineStatus,
    Transcription,
)
from labeling.ottoman import clean_input
from labeling.review.agreement import Verdict, agrees, decide
from labeling.review.consensus import rules_for
from labeling.review.labels import skip_line, submit_label
from labeling.review.queue import claim_next
from labeling.transcribing import TranscriptionRefused

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = 8
LABELERS = 16  # labelers 0-7 belong to one process each; 8-15 are shared by all processes
CARELESS = (5, 12)  # labelers who often type something else, and fail the gold lines
WORKER_SECONDS = 40.0  # they usually finish in 15-20 s; the lines they leave are drained
START_SECONDS = 60.0  # for the 8 processes to start Django and reach the barrier
# Most of the work must happen while most of the other processes are at work too.
CONCURRENT_SHARE = 0.8  # of the operations (a claim and what was done with it) ...
CONCURRENT_OTHERS = PROCESSES // 2  # ... ran while at least this many others were mid-operation
# The same review settings in the workers (through the environment) and in this process.
REVIEW = {
    "REVIEW_GOLD_SHARE": 0.1,
    "REVIEW_GOLD_MIN_SEEN": 3,
    "REVIEW_GOLD_MIN_ACCURACY": 0.9,
    "REVIEW_FLAG_AFTER_SKIPS": 2,
    "REVIEW_LEASE_MINUTES": 10,
    "REVIEW_BLIND_SHARE": 0.2,
}
WORDS = ("دولت علیه", "سلطان", "كتاب", "مكتب", "سلام علیكم", "پادشاه", "عثمانلی", "دفتر")
BOOT = (
    "import sys, django, runpy; root, path, *args = sys.argv[1:]; sys.path.insert(0, root); "
    "sys.argv = [path, *args]; django.setup(); runpy.run_path(path, run_name='__main__')"
)

# Liveness is judged by clock_timestamp(), read while the rows are scanned, after the
# statement's snapshot was taken. statement_timestamp() is earlier than the snapshot: on these
# busy 2 cores a sampler statement can wait tens of milliseconds between the two, and a label
# that commits meanwhile (ending the labeler's newer lease of the line at its own `now`, a
# moment after statement_timestamp()) was seen together with that lease still "live": a state
# that never existed at any one moment, and the test failed on it once.
# Lines where, at one moment, live leases plus labels exceed what the line wants.
OVERFULL_SQL = """
    SELECT l.id, l.label_count, l.labels_wanted, count(a.id) AS live
    FROM labeling_line l
    JOIN labeling_assignment a
      ON a.line_id = l.id AND a.state = 'active' AND a.expires_at > clock_timestamp()
    WHERE l.in_pool AND l.gold_text = ''
    GROUP BY l.id
    HAVING count(a.id) + l.label_count > l.labels_wanted
"""
# One labeler holding two live leases, or a live lease on a line they already labelled.
TWICE_SQL = """
    SELECT a.line_id, a.user_id, count(*) AS live,
           EXISTS (SELECT 1 FROM labeling_transcription t
                   WHERE t.line_id = a.line_id AND t.user_id = a.user_id) AS labelled
    FROM labeling_assignment a
    WHERE a.state = 'active' AND a.expires_at > clock_timestamp()
    GROUP BY a.line_id, a.user_id
    HAVING count(*) > 1 OR EXISTS (SELECT 1 FROM labeling_transcription t
                                   WHERE t.line_id = a.line_id AND t.user_id = a.user_id)
"""


def true_text(line_id: int) -> str:
    return f"{WORDS[line_id % len(WORDS)]} {WORDS[(line_id // len(WORDS)) % len(WORDS)]}"


def draw(*parts: object) -> float:
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32


def typed_text(*, line_id: int, labeler: int, gold: str) -> str:
    """What labeler number `labeler` types for a line: the same every time they see it."""
    text = gold or true_text(line_id)
    if labeler in CARELESS and (gold or draw("wrong", line_id, labeler) < 0.6):
        return f"{text} {WORDS[labeler % len(WORDS)]}"  # a different mistake per labeler
    if draw("yeh", line_id, labeler) < 0.3:
        return text.replace("ی", "ي")  # Arabic yeh: the same reading after normalization
    return text


# The worker process ------------------------------------------------------------------------


def work(*, index: int, labeler_ids: list[int], deadline: float) -> list[dict[str, Any]]:
    """Claim and answer lines for the given labelers until none is offered for a while."""
    rng = random.Random(index)
    people = [(number, User.objects.get(pk=pk)) for number, pk in enumerate(labeler_ids)]
    mine = [people[index], *people[PROCESSES:]]
    records: list[dict[str, Any]] = []
    idle_rounds = 0
    while idle_rounds < 3 and time.monotonic() < deadline:
        rng.shuffle(mine)
        got_one = False
        for number, person in mine:
            began = time.time()  # wall clock: the test compares the processes' times
            record = claimed(number, person)
            if record is not None:
                got_one = True
                done = act(rng=rng, record=record, number=number, person=person)
                ended = time.time()
                records += [{**r, "worker": index, "began": began, "ended": ended} for r in done]
        idle_rounds = 0 if got_one else idle_rounds + 1
        if not got_one:
            time.sleep(0.05)
    return records


def claimed(number: int, person: User) -> dict[str, Any] | None:
    claim = claim_next(user=person)
    if claim is None:
        return None
    line = claim.assignment.line
    return {
        "assignment": claim.assignment.pk,
        "line": line.pk,
        "user": person.pk,
        "text": typed_text(line_id=line.pk, labeler=number, gold=line.gold_text),
        "resumed": claim.resumed,
        "at": round(time.time(), 3),
    }


def act(
    *, rng: random.Random, record: dict[str, Any], number: int, person: User
) -> list[dict[str, Any]]:
    """Do one thing with a claimed line, the way people do: mostly label it."""
    roll = rng.random()
    pk = record["assignment"]
    if roll < 0.06:
        reason = "illegible" if rng.random() < 0.4 else "other"
        return [{**record, "action": "skip", "result": attempt(skip_line, pk, person, reason)}]
    if roll < 0.14:
        # Walk away: the lease runs out (long ago, so no clock can disagree about it).
        Assignment.objects.filter(pk=pk).update(expires_at=timezone.now() - timedelta(hours=1))
        if roll < 0.10:
            return [{**record, "action": "abandon", "result": "abandoned"}]
        # Come back late; in a second tab the queue may meanwhile have offered the same line.
        second_tab = claimed(number, person) if rng.random() < 0.5 else None
        late = {**record, "action": "late", "result": attempt(submit_label, pk, person, record)}
        if second_tab is None:
            return [late]
        return [late, *act(rng=rng, record=second_tab, number=number, person=person)]
    times = 2 if roll < 0.22 else 1  # a double submit (a second click)
    return [
        {**record, "action": "submit", "result": attempt(submit_label, pk, person, record)}
        for _ in range(times)
    ]


def slow_claim_scans(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
) -> Any:
    """Widen the race window to what a big, busy table gives: the claim query spends 2 ms on
    each line it looks at, so leases committed meanwhile are missing from its snapshot. Only
    the recount under the row lock then keeps the line from being leased beyond its need."""
    if "SKIP LOCKED" in sql:
        depth = 0
        for at, char in enumerate(sql):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0 and sql.startswith(" WHERE ", at):
                where = at + len(" WHERE ")
                sql = f"{sql[:where]}pg_sleep(0.002) IS NOT NULL AND {sql[where:]}"
                break
        else:
            raise AssertionError(f"no outer WHERE in the claim query: {sql}")
    return execute(sql, params, many, context)


def attempt(function: Callable[..., Any], pk: int, person: User, payload: Any) -> str:
    try:
        if function is skip_line:
            skip_line(assignment_id=pk, user=person, reason=payload)
            return "skipped"
        submitted = submit_label(assignment_id=pk, user=person, text=payload["text"])
        return "repeated" if submitted.repeated else "stored"
    except TranscriptionRefused as refused:
        return f"refused:{refused.code}"
    except Exception as error:  # anything else is a failure the test reports
        return f"error:{type(error).__name__}: {error}"


def wait_for_the_start(*, index: int, work_dir: Path) -> None:
    """The barrier: say this process is ready, then wait for the test's go."""
    (work_dir / f"ready{index}").touch()
    give_up = time.monotonic() + START_SECONDS
    while not (work_dir / "go").exists():
        if time.monotonic() > give_up:
            raise SystemExit(f"worker {index}: no go from the test in {START_SECONDS:.0f} s")
        time.sleep(0.005)


# The test ----------------------------------------------------------------------------------


def start_workers(labeler_ids: list[int], work_dir: Path) -> list[subprocess.Popen[bytes]]:
    db = connection.settings_dict
    password = f":{quote(db['PASSWORD'], safe='')}" if db.get("PASSWORD") else ""
    env = {
        **os.environ,
        **{name: str(value) for name, value in REVIEW.items()},
        "DJANGO_SETTINGS_MODULE": "ottoman_ocr.test_settings",
        "DATABASE_URL": (
            f"postgres://{quote(db['USER'], safe='')}{password}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        ),
        "OTTOMAN_VAR_DIR": str(django_settings.VAR_DIR),
        "RACE_LABELERS": ",".join(map(str, labeler_ids)),
        "RACE_DEADLINE_SECONDS": str(WORKER_SECONDS),
    }
    return [
        subprocess.Popen(
            [sys.executable, "-c", BOOT, str(ROOT), __file__, str(index), str(work_dir)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for index in range(PROCESSES)
    ]


def start_together(workers: list[subprocess.Popen[bytes]], work_dir: Path) -> None:
    """Wait until every worker has started Django and reached the barrier, then let them go."""
    give_up = time.monotonic() + START_SECONDS
    while not all((work_dir / f"ready{index}").exists() for index in range(PROCESSES)):
        if time.monotonic() > give_up or any(w.poll() is not None for w in workers):
            for worker in workers:
                worker.kill()
            errors = [w.stderr.read().decode()[-3000:] for w in workers if w.stderr]
            pytest.fail(f"the workers did not all reach the barrier: {errors}")
        time.sleep(0.01)
    (work_dir / "go").touch()


def others_at_work(records: list[dict[str, Any]]) -> list[int]:
    """For each operation of a worker (a claim and what it did with it), how many of the other
    workers were in the middle of an operation of theirs at its midpoint."""
    spans: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for record in records:
        if "worker" in record:
            spans[record["worker"]].append((record["began"], record["ended"]))
    for index in spans:
        spans[index] = sorted(set(spans[index]))  # one claim may give several records
    starts = {index: [began for began, _ in ops] for index, ops in spans.items()}

    def at_work(index: int, moment: float) -> bool:
        at = bisect_right(starts[index], moment) - 1
        return at >= 0 and spans[index][at][1] >= moment

    return [
        sum(at_work(other, (began + ended) / 2) for other in spans if other != index)
        for index, ops in spans.items()
        for began, ended in ops
    ]


def sample(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return list(cursor.fetchall())


def drain(labelers: list[User]) -> list[dict[str, Any]]:
    """Label, one at a time, whatever the workers left (a third label wanted after they
    stopped, leases they abandoned at the end), so every line reaches its final state."""
    records = []
    offered = True
    while offered:
        offered = False
        for number, person in enumerate(labelers):
            claim = claim_next(user=person)
            if claim is None:
                continue
            offered = True
            line = claim.assignment.line
            text = typed_text(line_id=line.pk, labeler=number, gold=line.gold_text)
            record = {"assignment": claim.assignment.pk, "line": line.pk, "user": person.pk}
            result = attempt(submit_label, claim.assignment.pk, person, {"text": text})
            records.append({**record, "text": text, "action": "drain", "result": result})
    return records


def expected_state(line: Line, labels: list[Transcription]) -> tuple[str, str]:
    if line.is_gold:  # approved before it became gold; labels on it only grade labelers
        return LineStatus.APPROVED, line.gold_text
    counted = [t for t in labels if t.counts]
    anchored = [t.kept_prediction and not t.blind for t in counted]
    outcome = decide([t.text for t in counted], rules_for(line), anchored=anchored)
    if line.flag:
        # Flagged while open; labels that came after were refused, so it is still undecided.
        assert outcome.verdict == Verdict.OPEN, f"line {line.pk} flagged after agreement"
        return LineStatus.DISPUTED, ""
    return outcome.verdict.value, outcome.consensus_text


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL (DATABASE_URL); make test sets it when one answers on :5432",
)
def test_concurrent_labelers_never_overfill_lose_or_double_count_a_label(
    transactional_db: None,
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    settings: Any,
    tmp_path: Path,
) -> None:
    for name, value in REVIEW.items():
        setattr(settings, name, value)
    labelers = [make_user(f"labeler{number}@example.org") for number in range(LABELERS)]
    rng = random.Random(7)
    lines = pool_lines(tuple(rng.uniform(0, 100) for _ in range(260)), labels_needed=2)
    lines += pool_lines(tuple(rng.uniform(0, 100) for _ in range(30)), labels_needed=3)
    # A labeler's own document: the queue must never hand it to them.
    lines += pool_lines(tuple(rng.uniform(0, 100) for _ in range(10)), owner=labelers[9])
    for line in lines[:6]:  # gold lines are approved lines with a known answer
        line.gold_text = line.consensus_text = true_text(line.pk)
        line.status = LineStatus.APPROVED
        line.save(update_fields=["gold_text", "consensus_text", "status"])
    for line in lines[6::3]:
        # Tesseract read these right: labelers who keep its reading set off the anchoring guard.
        line.prediction = true_text(line.pk)
        line.save(update_fields=["prediction"])

    workers = start_workers([person.pk for person in labelers], tmp_path)
    start_together(workers, tmp_path)
    started = time.monotonic()
    # Offending rows by (line) or (line, user), with the second they were first seen.
    overfull: dict[tuple[Any, ...], tuple[float, tuple[Any, ...]]] = {}
    twice: dict[tuple[Any, ...], tuple[float, tuple[Any, ...]]] = {}
    samples = 0
    while any(worker.poll() is None for worker in workers):
        if time.monotonic() - started > WORKER_SECONDS + 30:
            for worker in workers:
                worker.kill()
            pytest.fail("the workers did not finish in time")
        samples += 1
        at = round(time.monotonic() - started, 2)
        for row in sample(OVERFULL_SQL):
            overfull.setdefault(row[:1], (at, row))
        for row in sample(TWICE_SQL):
            twice.setdefault(row[:2], (at, row))
        time.sleep(0.01)
    worked = time.monotonic() - started
    failed = [(w.returncode, w.stderr.read().decode()[-6000:]) for w in workers if w.returncode]
    assert not failed, f"worker processes failed: {failed}"

    records: list[dict[str, Any]] = []
    for index in range(PROCESSES):
        records += json.loads((tmp_path / f"worker{index}.json").read_text())
    drained = drain(labelers)
    records += drained
    results = Counter(record["result"].split(":")[0] for record in records)
    statuses = Counter(Line.objects.values_list("status", flat=True))
    kept = Transcription.objects.filter(kept_prediction=True).count()
    print(
        f"\n{len(records)} answers ({dict(results)}) in {worked:.1f} s by {PROCESSES} processes; "
        f"{len(drained)} drained afterwards; invariant sampled {samples} times; "
        f"lines {dict(statuses)}; {kept} labels kept the prediction"
    )

    others = others_at_work(records)
    together = sum(n >= CONCURRENT_OTHERS for n in others) / len(others)
    print(
        f"{len(others)} operations; others mid-operation at each: "
        f"{dict(sorted(Counter(others).items()))}; {together:.0%} with {CONCURRENT_OTHERS}+"
    )
    assert together >= CONCURRENT_SHARE, (
        f"only {together:.0%} of the {len(others)} operations ran while at least "
        f"{CONCURRENT_OTHERS} other processes were at work (how many: "
        f"{dict(sorted(Counter(others).items()))}): the processes did not work concurrently"
    )

    errors = [record for record in records if record["result"].startswith("error")]
    assert not errors, f"unexpected errors: {errors[:10]}"
    assert not overfull, (
        "lines leased beyond their need, as (second, (line, labels, wanted, live leases)): "
        f"{sorted(overfull.values())[:20]}"
    )
    assert not twice, (
        "labelers holding a line twice, as (second, (line, user, live leases, labelled)): "
        f"{sorted(twice.values())[:20]}"
    )
    assert not sample(OVERFULL_SQL) and not sample(TWICE_SQL)

    # Every stored answer is one transcription, and every transcription one stored answer.
    stored = [record for record in records if record["result"] == "stored"]
    stored_twice = [pk for pk, n in Counter(r["assignment"] for r in stored).items() if n > 1]
    assert not stored_twice, f"assignments stored twice: {stored_twice}"
    by_key = {(t.line_id, t.user_id): t for t in Transcription.objects.all()}
    missing = [r for r in stored if (r["line"], r["user"]) not in by_key]
    assert not missing, f"stored answers without a transcription: {missing[:10]}"
    wrong_text = [
        r for r in stored if by_key[(r["line"], r["user"])].text != clean_input(r["text"])
    ]
    assert not wrong_text, f"transcriptions that differ from what was sent: {wrong_text[:10]}"
    assert len(by_key) == len(stored), (
        f"{len(by_key)} transcriptions for {len(stored)} stored answers: "
        f"{sorted(set(by_key) - {(r['line'], r['user']) for r in stored})[:10]}"
    )
    submitted = Counter(
        Assignment.objects.filter(state=AssignmentState.SUBMITTED).values_list("line", "user")
    )
    assert submitted == Counter(by_key.keys()), (
        "submitted leases and transcriptions differ: "
        f"{sorted((submitted - Counter(by_key)) + (Counter(by_key) - submitted))[:10]}"
    )
    stored_ids = {r["assignment"] for r in stored}
    orphans = [
        r for r in records if r["result"] == "repeated" and r["assignment"] not in stored_ids
    ]
    assert not orphans, f"repeated submits whose first submit was not stored: {orphans[:10]}"
    own = Transcription.objects.filter(
        user=labelers[9], line__page__document__owner=labelers[9]
    ).count()
    assert own == 0, "a labeler was given a line of their own document"

    # Each line's state is what its labels make of it, and nothing is left undecided.
    labels_of: dict[int, list[Transcription]] = defaultdict(list)
    for label in Transcription.objects.order_by("created_at", "pk"):
        labels_of[label.line_id].append(label)
    wrong_state = []
    for line in Line.objects.select_related("page__document").order_by("pk"):
        labels = labels_of[line.pk]
        expected = expected_state(line, labels)
        actual = (line.status, line.consensus_text)
        if line.label_count != len(labels) or actual != expected:
            wrong_state.append(
                f"line {line.pk}: count {line.label_count}/{len(labels)} labels, wanted "
                f"{line.labels_wanted}, flag {line.flag!r}, state {actual} expected {expected}, "
                f"labels {[(t.user_id, t.text, t.counts) for t in labels]}"
            )
    assert not wrong_state, "\n".join(wrong_state[:20])
    undecided = Line.objects.filter(status=LineStatus.OPEN, gold_text="")
    assert not undecided.exists(), f"lines left open: {list(undecided.values_list('pk'))}"

    # Gold lines scored each labeler once per label.
    for score in GoldScore.objects.all():
        gold = [t for t in by_key.values() if t.user_id == score.user_id and t.line.is_gold]
        right = sum(agrees(t.text, t.line.gold_text, rules_for(t.line)) for t in gold)
        assert (score.seen, score.correct) == (len(gold), right), f"gold score of {score.user_id}"


if __name__ == "__main__":  # a worker process, started by the test above
    index, work_dir = int(sys.argv[1]), Path(sys.argv[2])
    labeler_ids = [int(pk) for pk in os.environ["RACE_LABELERS"].split(",")]
    wait_for_the_start(index=index, work_dir=work_dir)
    deadline = time.monotonic() + float(os.environ["RACE_DEADLINE_SECONDS"])
    with connection.execute_wrapper(slow_claim_scans):
        done = work(index=index, labeler_ids=labeler_ids, deadline=deadline)
    (work_dir / f"worker{index}.json").write_text(json.dumps(done))
