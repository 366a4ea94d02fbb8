"""The staff dashboard and the anchoring report are snapshots: beat works them out every few
minutes, a page shows the last one and says how old it is, and computes one when none is kept."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import reports, tasks
from labeling.models import Line

pytestmark = pytest.mark.django_db


def open_lines_shown(client: Client) -> str:
    body = client.get(reverse("labeling:staff_dashboard")).content.decode()
    assert 'id="report-as-of"' in body
    start = body.index("Open pool lines")
    return body[start : start + 80].split("<dd>")[1].split("</dd>")[0]


def test_the_staff_dashboard_shows_the_snapshot_until_beat_works_it_out_again(
    make_user: Callable[..., User],
    pool_lines: Callable[..., list[Line]],
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: Callable[..., object],
) -> None:
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    client = client_for(staff)
    pool_lines((10.0, 20.0))
    assert open_lines_shown(client) == "2"  # no snapshot yet: worked out for this view
    pool_lines((30.0,) * 3)
    assert open_lines_shown(client) == "2"  # the snapshot, not a million lines counted again
    tasks.refresh_reports.delay()  # beat's run (Celery is eager in tests)
    assert open_lines_shown(client) == "5"
    assert settings.CELERY_BEAT_SCHEDULE["reports"]["task"] == "labeling.tasks.refresh_reports"
    assert settings.CELERY_BEAT_SCHEDULE["reports"]["schedule"] == settings.REPORT_REFRESH_SECONDS


def test_the_anchoring_report_is_a_snapshot_too(
    make_moderator: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    client = client_for(make_moderator())
    body = client.get(reverse("labeling:anchoring")).content.decode()
    assert 'id="report-as-of"' in body
    kept = reports.anchoring_snapshot()
    assert reports.anchoring_snapshot().at == kept.at  # read, not worked out again
    assert reports.refresh("anchoring").at > kept.at


def test_an_anchoring_page_that_left_the_cache_is_worked_out_again(
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    client_for: Callable[[User], Client],
) -> None:
    from django.core.cache import cache

    from tests.labeling.test_stats_sql import anchoring_titles, settled_documents

    settled_documents(3, make_user)
    client = client_for(make_moderator())
    report = reports.refresh("anchoring")
    cache.delete(f"{report.value.pages_key}:1")
    titles = anchoring_titles(client.get(reverse("labeling:anchoring")).content.decode())
    assert titles == ["All pool documents", "Document 00", "Document 01", "Document 02"]
