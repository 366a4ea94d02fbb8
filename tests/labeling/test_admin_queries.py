"""Every admin change list costs the same few queries for a page however many rows there are
(no query per row), and the paginator that keeps a million-row list from counting every row."""

from __future__ import annotations

from collections.abc import Callable
from itertools import count
from typing import Any

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from labeling.admin_base import LargeTablePaginator, ordered_by_columns
from labeling.admin_lines import ReviewFilter
from labeling.models import (
    DatasetRelease,
    Document,
    GoldScore,
    LabelerBan,
    Line,
    ModerationAction,
    ModerationDecision,
    OcrModel,
    OutgoingEmail,
    PendingFile,
    PrivateAccess,
    TrainingRun,
    Transcription,
    Visibility,
)
from tests.conftest import read_page

pytestmark = pytest.mark.django_db

PER_PAGE = 5  # each change list's page size in these tests (the admin's is 100)
numbers = count(1)


def pool_document(owner: User) -> Document:
    n = next(numbers)
    doc = Document.objects.create(
        owner=owner, title=f"Defter {n}", visibility=Visibility.POOL, license="cc-by-4.0"
    )
    read_page(doc, [("كتاب", 40.0), ("سلطان", 60.0)], source_name=f"scan-{n}.png")
    return doc


def person(label: str = "person") -> User:
    return User.objects.create_user(f"{label}{next(numbers)}@example.org", "x" * 20)


# Each change list's rows, n more at a time, each with every relation its list shows filled in.
def make_users(n: int, staff: User) -> None:
    for _ in range(n):
        person()


def make_labelers(n: int, staff: User) -> None:
    line = Line.objects.filter(page__document=pool_document(person("owner"))).first()
    assert line is not None
    for _ in range(n):
        labeler = person("labeler")
        Transcription.objects.create(line=line, user=labeler, text="كتاب", kept_prediction=True)
        GoldScore.objects.create(user=labeler, seen=4, correct=3)


def make_bans(n: int, staff: User) -> None:
    for _ in range(n):
        LabelerBan.objects.create(user=person(), banned_by=staff, reason="copied", lifted_by=staff)


def make_lines(n: int, staff: User) -> None:
    doc = Document.objects.create(owner=person("owner"), title="Long", visibility=Visibility.POOL)
    read_page(doc, [("كتاب", 10.0 * i) for i in range(n)], source_name="long.png")
    Line.objects.filter(page__document=doc).update(predicted_by=OcrModel.default(), in_pool=True)


def make_releases(n: int, staff: User) -> None:
    for _ in range(n):
        DatasetRelease.objects.create(number=next(numbers), created_by=staff)


def make_training_runs(n: int, staff: User) -> None:
    release = DatasetRelease.objects.create(number=next(numbers), created_by=staff)
    start = OcrModel.objects.create(name=f"start {next(numbers)}", language="fas")
    for _ in range(n):
        result = OcrModel.objects.create(name=f"trained {next(numbers)}", language="ota")
        TrainingRun.objects.create(
            release=release, start_model=start, created_by=staff, result=result
        )


def make_ocr_models(n: int, staff: User) -> None:
    release = DatasetRelease.objects.create(number=next(numbers), created_by=staff)
    start = OcrModel.objects.create(name=f"start {next(numbers)}", language="fas")
    for _ in range(n):
        run = TrainingRun.objects.create(release=release, start_model=start, created_by=staff)
        OcrModel.objects.create(name=f"model {next(numbers)}", language="ota", training_run=run)


def make_documents(n: int, staff: User) -> None:
    for _ in range(n):
        pool_document(person("owner"))


def make_pages(n: int, staff: User) -> None:
    for _ in range(n):
        pool_document(person("owner"))  # one page each, read with the default model


def make_gold_scores(n: int, staff: User) -> None:
    for _ in range(n):
        GoldScore.objects.create(user=person(), seen=5, correct=4, cleared_by=staff)


def make_decisions(n: int, staff: User) -> None:
    for _ in range(n):
        line = Line.objects.filter(page__document=pool_document(person("owner"))).first()
        assert line is not None
        ModerationDecision.objects.create(
            line=line, moderator=staff, action=ModerationAction.APPROVE, text="كتاب"
        )


def make_private_accesses(n: int, staff: User) -> None:
    for _ in range(n):
        PrivateAccess.objects.create(
            user=person(), what="labeling.line", object_id=next(numbers), path="/x/"
        )


def make_emails(n: int, staff: User) -> None:
    for _ in range(n):
        OutgoingEmail.objects.create(subject="Read", from_email="a@b.org", to=["c@d.org"])


MAKERS: dict[str, Callable[[int, User], None]] = {
    "accounts.user": make_users,
    "labeling.datasetrelease": make_releases,
    "labeling.document": make_documents,
    "labeling.goldscore": make_gold_scores,
    "labeling.labeler": make_labelers,
    "labeling.labelerban": make_bans,
    "labeling.line": make_lines,
    "labeling.moderationdecision": make_decisions,
    "labeling.ocrmodel": make_ocr_models,
    "labeling.outgoingemail": make_emails,
    "labeling.page": make_pages,
    "labeling.privateaccess": make_private_accesses,
    "labeling.trainingrun": make_training_runs,
}


def registered() -> dict[str, admin.ModelAdmin]:
    return {
        model._meta.label_lower: model_admin
        for model, model_admin in admin.site._registry.items()
        if model._meta.app_label in ("labeling", "accounts")
    }


def test_every_change_list_of_labeling_and_accounts_is_checked_here() -> None:
    assert set(registered()) == set(MAKERS)


@pytest.mark.parametrize("label", sorted(MAKERS))
def test_a_change_list_page_costs_no_more_queries_with_three_pages_of_rows_than_with_three(
    label: str,
    superuser: User,
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
    django_assert_max_num_queries: Callable[..., Any],
) -> None:
    model_admin = registered()[label]
    monkeypatch.setattr(model_admin, "list_per_page", PER_PAGE)
    app, model = label.split(".")
    url = reverse(f"admin:{app}_{model}_changelist")
    client = client_for(superuser)
    make = MAKERS[label]

    make(3, superuser)
    with django_assert_max_num_queries(60) as few:
        response = client.get(url)
    assert response.status_code == 200
    queries_for_3 = len(few.captured_queries)
    shown_for_3 = len(response.context["cl"].result_list)
    assert shown_for_3 >= 3

    make(2 * PER_PAGE, superuser)
    with django_assert_max_num_queries(queries_for_3):
        response = client.get(url)
    assert len(response.context["cl"].result_list) == PER_PAGE
    assert response.context["cl"].result_count >= shown_for_3 + 2 * PER_PAGE


# The paginator -------------------------------------------------------------------------------


def files(n: int) -> None:
    PendingFile.objects.bulk_create(PendingFile(name=f"f{next(numbers)}") for _ in range(n))


def analyze() -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {PendingFile._meta.db_table}")


def test_it_counts_exactly_up_to_its_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(LargeTablePaginator, "exact_up_to", 5)
    files(5)
    paginator = LargeTablePaginator(PendingFile.objects.order_by("pk"), 2)
    assert paginator.count == 5 and paginator.num_pages == 3
    assert [f.pk for f in paginator.page(3).object_list] == [
        PendingFile.objects.order_by("pk").last().pk  # type: ignore[union-attr]
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the estimate is PostgreSQL's")
def test_past_its_limit_it_takes_the_planners_estimate_instead_of_counting_every_row(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(LargeTablePaginator, "exact_up_to", 5)
    files(30)
    analyze()  # the statistics say 30
    files(30)  # in the same table page: the planner still expects 30
    rows = PendingFile.objects.order_by("pk")
    with CaptureQueriesContext(connection) as queries:
        paginator = LargeTablePaginator(rows, 10)
        assert paginator.count == 30  # not the 60 a COUNT(*) would find
    counts = [q["sql"] for q in queries.captured_queries if "COUNT(" in q["sql"].upper()]
    assert counts and all("LIMIT 6" in sql for sql in counts)
    assert [f.pk for f in paginator.page(2).object_list] == list(
        rows.values_list("pk", flat=True)[10:20]
    )


def test_on_another_database_or_a_list_it_counts_as_django_does() -> None:
    paginator = LargeTablePaginator(list(range(7)), 3)
    assert paginator.count == 7 and paginator.num_pages == 3


def test_a_foreign_key_orders_by_its_column_not_by_the_related_rows_ordering() -> None:
    assert ordered_by_columns(Line, ["page", "-order"]) == ["page_id", "-order"]
    assert ordered_by_columns(Document, ["-created_at", "-pk"]) == ["-created_at", "-pk"]
    assert ordered_by_columns(ModerationDecision, ["-line", "action"]) == ["-line_id", "action"]


def test_the_review_filter_says_more_than_its_limit_instead_of_counting_on(
    superuser: User,
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ReviewFilter, "count_limit", 2)
    pool_lines((10.0, 20.0, 30.0))
    listed = client_for(superuser).get(reverse("admin:labeling_line_changelist"))
    body = listed.content.decode()
    assert "Open (2+)" in body and "Agreed (0)" in body
