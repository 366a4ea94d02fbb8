"""Histories and the anchoring report counted in SQL from stored verdicts: the same figures as
comparing every label's text in Python, and verdicts that follow every change of a line."""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone

from accounts.models import User
from labeling import boxes
from labeling.models import (
    Assignment,
    Document,
    LabelVerdict,
    Line,
    LineStatus,
    Transcription,
    Visibility,
)
from labeling.ocr import BBox
from labeling.ottoman import clean_input
from labeling.review import stats
from labeling.review.agreement import agrees
from labeling.review.consensus import rules_for
from labeling.review.labels import submit_label
from labeling.review.moderation import (
    approve_line,
    make_gold,
    reject_line,
    reopen_line,
    withdraw_document,
)
from labeling.review.stats import (
    Anchoring,
    History,
    anchoring_by_document,
    anchoring_rows,
    anchoring_total,
    labeler_history,
    median_of,
)
from labeling.transcribing import save_transcription

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------- the reference: the old code
# What review/stats.py computed before verdicts were stored: every label's text compared with
# its line's consensus in Python, on every request. Kept here only to check the SQL against.

SETTLED = (LineStatus.AGREED, LineStatus.APPROVED)


def reference_history(user: User) -> History:
    from labeling.models import GoldScore, LabelerBan

    labels = Transcription.objects.filter(
        user=user, line__page__document__visibility=Visibility.POOL, line__gold_text=""
    )
    agreed = overturned = pending = 0
    seconds = []
    for label in labels.select_related("line__page__document"):
        line = label.line
        seconds.append(label.seconds_spent)
        if line.status in SETTLED and line.consensus_text:
            if agrees(label.text, line.consensus_text, rules_for(line)):
                agreed += 1
            else:
                overturned += 1
        else:
            pending += 1
    score = GoldScore.objects.filter(user=user).first()
    return History(
        labelled=agreed + overturned + pending,
        agreed=agreed,
        overturned=overturned,
        pending=pending,
        gold_seen=score.seen if score else 0,
        gold_correct=score.correct if score else 0,
        held_back=bool(score and score.held_back),
        banned=LabelerBan.objects.active().filter(user=user).exists(),
        median_seconds=statistics.median(seconds) if seconds else None,
    )


def reference_anchoring(document: Document | None = None) -> Anchoring:
    labels = Transcription.objects.filter(
        line__in_pool=True, line__gold_text="", line__status__in=SETTLED
    ).exclude(line__consensus_text="")
    if document is not None:
        labels = labels.filter(line__page__document=document)
    counts = {"blind": [0, 0], "prefilled": [0, 0]}
    kept = as_predicted = 0
    for label in labels.select_related("line__page__document"):
        key = "blind" if label.blind else "prefilled"
        counts[key][0] += 1
        counts[key][1] += agrees(label.text, label.line.consensus_text, rules_for(label.line))
        kept += (not label.blind) and label.kept_prediction
        as_predicted += label.blind and label.text == clean_input(label.line.prediction)
    return Anchoring(
        blind_labels=counts["blind"][0],
        blind_agree=counts["blind"][1],
        prefilled_labels=counts["prefilled"][0],
        prefilled_agree=counts["prefilled"][1],
        prefilled_kept=kept,
        blind_as_predicted=as_predicted,
    )


# ---------------------------------------------------------------- building labels for real


@pytest.fixture(autouse=True)
def _no_gold_draws(settings: Any) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # gold lines only where a test makes them


@dataclass
class Give:
    """Labels given through `submit_label`, each on a lease made for it (blind or prefilled)."""

    seconds: Iterator[float]

    def __call__(
        self, line: Line, person: User, text: str = "", *, blind: bool = False, keep: bool = False
    ) -> Transcription:
        lease = Assignment.objects.create(
            line=line, user=person, blind=blind, expires_at=timezone.now() + timedelta(hours=1)
        )
        return submit_label(
            assignment_id=lease.pk,
            user=person,
            text=text,
            confirm=keep,
            seconds_spent=next(self.seconds),
        ).transcription


@pytest.fixture
def give() -> Give:
    # Varied times, some equal, so that the median is a real test (odd and even counts).
    return Give(seconds=iter([4.5, 12.0, 7.25, 30.0, 2.0, 12.0, 9.5, 61.0, 3.0, 15.5] * 20))


def pool_document(
    make_user: Callable[..., User],
    predictions: tuple[str, ...],
    *,
    title: str,
    **fields: Any,
) -> list[Line]:
    from tests.conftest import read_page

    doc = Document.objects.create(
        owner=make_user(), title=title, visibility="pool", license="cc-by-4.0", **fields
    )
    return read_page(doc, [(p, 50.0) for p in predictions], source_name=f"{title}.png")


def fresh(line: Line) -> Line:
    return Line.objects.select_related("page__document").get(pk=line.pk)


@pytest.fixture
def varied(
    make_user: Callable[..., User], make_moderator: Callable[..., User], give: Give
) -> list[User]:
    """Labels of five people in every state a label can be in; returns the people."""
    people = [make_user() for _ in range(5)]
    p1, p2, p3, p4, p5 = people
    moderator = make_moderator()
    strict = pool_document(
        make_user,
        ("كتاب", "قلم", "كتب", "اوراق", "سوز", "ادب", "علم", "يول", "دولت\u200f"),
        title="Strict",
        agreement_threshold=0.0,
        max_labels=4,
    )
    a1, a2, a3, a4, a5, a6, a7, a8, a9 = strict
    give(a1, p1, keep=True)  # prefilled, kept the reading
    give(a1, p2, "كتاب", blind=True)  # blind, typed exactly the reading
    give(a2, p1, "قلم", blind=True)
    give(a2, p2, "قلمه")
    give(a2, p3, "قلمه", blind=True)  # agreed on قلمه: p1 is overturned
    give(a3, p1, "كَتَب")  # harakat only: agrees after normalization
    give(a3, p2, "كتب", blind=True)
    give(a4, p1, "اوراق", blind=True)  # open: waiting
    give(a4, p5, "اوراقی", blind=True)  # still open
    for person, text in ((p1, "سوز"), (p2, "سوژ"), (p3, "سور"), (p4, "سون")):
        give(a5, person, text)
    assert fresh(a5).status == LineStatus.DISPUTED
    approve_line(line=a5, moderator=moderator, text="سوز")  # typed by the moderator
    give(a6, p2, "ادب")
    give(a6, p3, "ادب", blind=True)
    reject_line(line=a6, moderator=moderator, reason="not a line")
    give(a7, p1, "علم")
    give(a7, p2, "علم", blind=True)
    approve_line(line=a7, moderator=moderator)
    make_gold(line=a7, moderator=moderator, answer="عِلم")
    give(a7, p3, "علم")  # an answer to a gold line: not in anyone's history
    for person, text in ((p1, "يول"), (p2, "بول"), (p3, "قول"), (p4, "طول")):
        give(a8, person, text)
    reopen_line(line=a8, moderator=moderator)
    give(a8, p5, "يول")
    give(a9, p1, "دولت", blind=True)  # the reading had a stray mark that a label cannot keep
    give(a9, p2, "دولت", blind=True)

    lenient = pool_document(make_user, ("مكتب", "دفتر"), title="Lenient", agreement_threshold=0.3)
    b1, b2 = lenient
    give(b1, p1, keep=True)
    give(b1, p2, "مكتبه", blind=True)  # one letter in five: agrees under 0.3 only
    give(b2, p3, "دفتر")
    give(b2, p4, "دفتر", blind=True)
    assert fresh(b2).status == LineStatus.AGREED
    boxes.move_box(line=b2, user=moderator, box=BBox(12, 65, 388, 115))  # back for labels

    (c1,) = pool_document(make_user, ("شهر",), title="Withdrawn")
    give(c1, p1, "شهر", blind=True)
    give(c1, p2, keep=True)
    withdraw_document(document=c1.page.document, moderator=moderator, reason="owner asked")

    private = Document.objects.create(owner=p1, title="Mine")
    from tests.conftest import read_page

    (d1,) = read_page(private, [("باغ", 50.0)], source_name="mine.png")
    save_transcription(line=d1, user=p1, text="باغ", seconds_spent=99.0)
    return people


def test_histories_are_the_same_as_comparing_every_text(varied: list[User]) -> None:
    seen = []
    for person in varied:
        got, expected = labeler_history(user=person), reference_history(person)
        assert got.median_seconds == pytest.approx(expected.median_seconds)
        assert replace(got, median_seconds=None) == replace(expected, median_seconds=None)
        seen.append((got.agreed, got.overturned, got.pending))
    # The data really covers every verdict, else equality proves little.
    assert all(sum(column) > 0 for column in zip(*seen, strict=True))
    p1 = labeler_history(user=varied[0])
    # a1, a3, a5, a9, b1 and c1 (withdrawn since: still theirs) agree; a2 is overturned; a4
    # and a8 (reopened) wait; a7 is a gold line and the private line is their own.
    assert (p1.agreed, p1.overturned, p1.pending) == (6, 1, 2)


def test_the_anchoring_report_is_the_same_as_comparing_every_text(varied: list[User]) -> None:
    rows = anchoring_rows(anchoring_by_document())
    assert [row.title for row in rows] == ["Strict", "Lenient"]  # most labels first
    for row in rows:
        assert row.anchoring == reference_anchoring(Document.objects.get(pk=row.document_id))
    overall = anchoring_total(rows)
    assert overall == reference_anchoring()
    assert overall.blind_as_predicted >= 2 and overall.prefilled_kept >= 2
    assert overall.blind_agree < overall.blind_labels
    assert rows[0].labels == overall.blind_labels + overall.prefilled_labels - rows[1].labels


def test_the_median_without_percentile_cont_is_the_same(
    varied: list[User], make_user: Callable[..., User]
) -> None:
    for person in varied:
        labels = stats.labels_of(person)
        seconds = list(labels.values_list("seconds_spent", flat=True))
        expected = statistics.median(seconds) if seconds else None
        assert median_of(labels, "seconds_spent", count=len(seconds)) == pytest.approx(expected)
    assert {len(stats.labels_of(p)) % 2 for p in varied} == {0, 1}  # odd and even counts
    assert median_of(stats.labels_of(make_user()), "seconds_spent", count=0) is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="percentile_cont is PostgreSQL's")
def test_the_median_is_percentile_cont_on_postgresql(varied: list[User]) -> None:
    labels = stats.labels_of(varied[0])
    seconds = list(labels.values_list("seconds_spent", flat=True))
    assert labels.aggregate(m=stats.Median("seconds_spent"))["m"] == pytest.approx(
        statistics.median(seconds)
    )


def test_histories_and_reports_count_in_the_database_without_reading_texts(
    varied: list[User], django_assert_max_num_queries: Callable[..., Any]
) -> None:
    on_postgresql = connection.vendor == "postgresql"
    # The labels (with their median on PostgreSQL; elsewhere the middle ones, one more query),
    # the gold record, an active ban.
    with django_assert_max_num_queries(3 if on_postgresql else 4) as history:
        labeler_history(user=varied[0])
    with django_assert_max_num_queries(2) as by_document:  # the rows, their titles
        anchoring_rows(anchoring_by_document())
    for captured in (history, by_document):
        for query in captured.captured_queries:
            assert '"text"' not in query["sql"] and '"consensus_text",' not in query["sql"]
    assert ("percentile_cont" in history.captured_queries[0]["sql"]) == on_postgresql


def test_the_data_migration_computes_the_verdicts_there_are(
    varied: list[User], monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    migration = importlib.import_module("labeling.migrations.0019_label_verdicts")
    before = dict(Transcription.objects.values_list("pk", "verdict"))
    predicted = set(Transcription.objects.filter(as_predicted=True).values_list("pk", flat=True))
    Transcription.objects.update(verdict=LabelVerdict.PENDING, as_predicted=False)
    monkeypatch.setattr(migration, "BATCH", 7)  # several batches
    migration.compute_existing(apps, None)
    assert dict(Transcription.objects.values_list("pk", "verdict")) == before
    assert (
        set(Transcription.objects.filter(as_predicted=True).values_list("pk", flat=True))
        == predicted
    )
    assert LabelVerdict.OVERTURNED in before.values()


# ---------------------------------------------------------------- verdicts follow the line


def verdicts(line: Line) -> dict[str, str]:
    return dict(Transcription.objects.filter(line=line).values_list("text", "verdict"))


@pytest.fixture
def strict_line(make_user: Callable[..., User]) -> Line:
    (line,) = pool_document(
        make_user, ("كتاب",), title="One line", agreement_threshold=0.0, max_labels=3
    )
    return line


def test_labels_wait_until_the_line_agrees_then_agree(
    strict_line: Line, make_user: Callable[..., User], give: Give
) -> None:
    give(strict_line, make_user(), "كتاب")
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.PENDING}
    give(strict_line, make_user(), "قلم")
    give(strict_line, make_user(), "كِتاب")
    assert verdicts(strict_line) == {
        "كتاب": LabelVerdict.AGREED,
        "قلم": LabelVerdict.OVERTURNED,
        "كِتاب": LabelVerdict.AGREED,
    }


def test_a_moderators_edited_approval_overturns_the_labels_it_differs_from(
    strict_line: Line,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    give: Give,
) -> None:
    give(strict_line, make_user(), "كتاب")
    give(strict_line, make_user(), "كتاب", blind=True)  # two prefilled keeps need a third
    approve_line(line=strict_line, moderator=make_moderator(), text="كتابت")
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.OVERTURNED}


def test_reopening_or_rejecting_a_line_sends_its_labels_back_to_waiting(
    strict_line: Line,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    give: Give,
) -> None:
    moderator = make_moderator()
    for text in ("كتاب", "قلم", "دفتر"):
        give(strict_line, make_user(), text)
    approve_line(line=strict_line, moderator=moderator, text="قلم")
    assert set(verdicts(strict_line).values()) == {LabelVerdict.AGREED, LabelVerdict.OVERTURNED}
    reject_line(line=strict_line, moderator=moderator, reason="a stamp, not text")
    assert set(verdicts(strict_line).values()) == {LabelVerdict.PENDING}
    reopen_line(line=strict_line, moderator=moderator)
    assert set(verdicts(strict_line).values()) == {LabelVerdict.PENDING}


def test_a_gold_answer_judges_the_labels_and_a_new_answer_gets_its_verdict_at_once(
    strict_line: Line,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    give: Give,
) -> None:
    moderator = make_moderator()
    give(strict_line, make_user(), "كتاب")
    give(strict_line, make_user(), "كتاب", blind=True)  # two prefilled keeps need a third
    approve_line(line=strict_line, moderator=moderator)
    make_gold(line=strict_line, moderator=moderator, answer="كتابی")
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.OVERTURNED}
    give(strict_line, make_user(), "كتابی")  # a labeler tested on the gold line
    assert verdicts(strict_line)["كتابی"] == LabelVerdict.AGREED


def test_a_box_change_sends_the_labels_back_to_waiting_and_undo_restores_them(
    strict_line: Line,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    give: Give,
) -> None:
    give(strict_line, make_user(), "كتاب")
    give(strict_line, make_user(), "كتاب", blind=True)  # two prefilled keeps need a third
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.AGREED}
    owner = strict_line.page.document.owner
    boxes.move_box(line=strict_line, user=owner, box=BBox(12, 5, 388, 55))
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.PENDING}
    boxes.undo(page=strict_line.page, user=owner)
    assert fresh(strict_line).status == LineStatus.AGREED
    assert verdicts(strict_line) == {"كتاب": LabelVerdict.AGREED}


def test_a_blind_label_remembers_whether_it_typed_the_cleaned_reading(
    make_user: Callable[..., User], give: Give
) -> None:
    (line,) = pool_document(make_user, (" كتاب\u200f",), title="Marks")
    typed = give(line, make_user(), "كتاب", blind=True)
    other = give(line, make_user(), "كتب", blind=True)
    assert typed.as_predicted and not typed.kept_prediction  # blind: nothing was kept
    assert not other.as_predicted


def test_changing_a_documents_threshold_and_refreshing_changes_the_verdicts(
    strict_line: Line, make_user: Callable[..., User], give: Give
) -> None:
    from labeling.review.verdicts import refresh_document_verdicts

    for text in ("كتاب", "كتابه", "كتاب"):
        give(strict_line, make_user(), text, blind=True)
    assert verdicts(strict_line)["كتابه"] == LabelVerdict.OVERTURNED
    document = strict_line.page.document
    Document.objects.filter(pk=document.pk).update(agreement_threshold=0.25)
    assert refresh_document_verdicts(document=document) == 1
    assert verdicts(strict_line)["كتابه"] == LabelVerdict.AGREED


def test_a_threshold_changed_in_the_admin_refreshes_the_verdicts(
    strict_line: Line, make_user: Callable[..., User], give: Give, rf: Any
) -> None:
    from django.contrib import admin
    from django.forms import modelform_factory

    for text in ("كتاب", "كتابه", "كتاب"):
        give(strict_line, make_user(), text, blind=True)
    document = Document.objects.get(pk=strict_line.page.document_id)
    form = modelform_factory(Document, fields=["agreement_threshold"])(
        {"agreement_threshold": "0.25"}, instance=document
    )
    assert form.is_valid()
    request = rf.post("/")
    request.user = make_user("root@example.org")
    admin.site._registry[Document].save_model(request, form.save(commit=False), form, True)
    assert verdicts(strict_line)["كتابه"] == LabelVerdict.AGREED


# ---------------------------------------------------------------- the anchoring page


def settled_documents(
    count: int, make_user: Callable[..., User], *, labels: Callable[[int], int] = lambda n: 1
) -> list[Document]:
    """`count` pool documents with one agreed line each, labelled by `labels(n)` people."""
    from tests.conftest import read_page

    documents = []
    for n in range(count):
        doc = Document.objects.create(
            owner=make_user(), title=f"Document {n:02d}", visibility="pool", license="cc0-1.0"
        )
        (line,) = read_page(doc, [("كتاب", 50.0)], source_name=f"{n}.png")
        Line.objects.filter(pk=line.pk).update(status=LineStatus.AGREED, consensus_text="كتاب")
        Transcription.objects.bulk_create(
            Transcription(
                line=line,
                user=make_user(),
                text="كتاب",
                kept_prediction=True,
                verdict=LabelVerdict.AGREED,
            )
            for _ in range(labels(n))
        )
        documents.append(doc)
    return documents


def anchoring_titles(html: str) -> list[str]:
    return re.findall(r'<th scope="row" dir="auto">(.*?)</th>', html)


def test_the_anchoring_page_lists_documents_with_the_most_labels_first_a_page_at_a_time(
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    client_for: Callable[[User], Any],
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    from django.urls import reverse

    from labeling import reports
    from labeling.views import LIST_PAGE_SIZE

    client = client_for(make_moderator())
    url = reverse("labeling:anchoring")
    settled_documents(2, make_user, labels=lambda n: n + 1)
    with django_assert_max_num_queries(50) as few:
        html = client.get(url).content.decode()
    assert anchoring_titles(html) == ["All pool documents", "Document 01", "Document 00"]
    queries_for_2 = len(few.captured_queries)

    settled_documents(LIST_PAGE_SIZE * 2, make_user)
    reports.refresh("anchoring")  # as beat does every few minutes
    with django_assert_max_num_queries(queries_for_2):
        first = client.get(url).content.decode()
    rows = anchoring_titles(first)
    assert len(rows) == 1 + LIST_PAGE_SIZE and rows[1:3] == ["Document 01", "Document 00"]
    assert "Page 1 of 3" in first and 'rel="next"' in first
    last = anchoring_titles(client.get(url, {"page": 3}).content.decode())
    assert len(last) == 1 + 2 and last[0] == "All pool documents"
    # The overall row counts every document's labels, whatever the page.
    overall = re.sub(r">\s+<", "><", first)
    assert "<td>0</td><td>—</td><td>43</td><td>100%</td><td>100%</td><td>—</td>" in overall
