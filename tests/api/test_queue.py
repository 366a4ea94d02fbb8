"""The labelling queue through the API: next line with its lease, submit (idempotent), skip."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from labeling.models import Assignment, AssignmentState, Transcription


@pytest.fixture(autouse=True)
def _no_gold(settings: Any) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0
    settings.REVIEW_BLIND_SHARE = 0.0


def test_next_leases_the_lowest_confidence_line_and_submit_counts_it_once(
    user: User, pool_lines: Callable, api_for: Callable
) -> None:
    lines = pool_lines((50.0, 20.0, 80.0), blind_share=0.0)
    client = api_for(user)
    claim = client.post("/api/v1/queue/next/", {}, format="json")
    assert claim.status_code == 200
    body = claim.json()
    lease = Assignment.objects.get(user=user)
    assert body["assignment"] == lease.pk
    assert body["line"]["id"] == lines[1].pk
    assert body["line"]["crop"].endswith(f"/api/v1/lines/{lines[1].pk}/crop.png?box=10-65-390-115")
    assert (body["blind"], body["prediction"], body["document_title"]) == (
        False,
        "كتاب",
        "Pool document",
    )
    assert body["resumed"] is False
    assert client.post("/api/v1/queue/next/", {}, format="json").json()["resumed"] is True
    sent = client.post(
        f"/api/v1/queue/{lease.pk}/submit/", {"text": "کتاب", "seconds": 3}, format="json"
    )
    assert sent.status_code == 200
    assert sent.json() == {"line": lines[1].pk, "status": "open", "repeated": False}
    again = client.post(f"/api/v1/queue/{lease.pk}/submit/", {"text": "کتاب"}, format="json")
    assert again.status_code == 200 and again.json()["repeated"] is True
    assert Transcription.objects.filter(user=user).count() == 1


def test_latin_text_is_refused_until_allowed(
    user: User, pool_lines: Callable, api_for: Callable
) -> None:
    pool_lines((10.0,))
    client = api_for(user)
    lease = client.post("/api/v1/queue/next/", {}, format="json").json()["assignment"]
    refused = client.post(f"/api/v1/queue/{lease}/submit/", {"text": "kitab"}, format="json")
    assert refused.status_code == 400
    assert refused.json()["code"] == "latin"
    assert "Latin letters" in refused.json()["text"][0]
    allowed = client.post(
        f"/api/v1/queue/{lease}/submit/", {"text": "kitab", "allow_latin": True}, format="json"
    )
    assert allowed.status_code == 200


def test_a_skipped_lease_takes_no_label_and_nothing_left_is_204(
    user: User, pool_lines: Callable, api_for: Callable
) -> None:
    line = pool_lines((10.0,))[0]
    client = api_for(user)
    lease = client.post("/api/v1/queue/next/", {}, format="json").json()["assignment"]
    skipped = client.post(f"/api/v1/queue/{lease}/skip/", {"reason": "illegible"}, format="json")
    assert skipped.status_code == 200
    assert skipped.json() == {"line": line.pk, "status": "open"}
    assert Assignment.objects.get(pk=lease).state == AssignmentState.SKIPPED
    late = client.post(f"/api/v1/queue/{lease}/submit/", {"text": "کتاب"}, format="json")
    assert late.status_code == 409
    assert late.json()["code"] == "skipped"
    bad = client.post(f"/api/v1/queue/{lease}/skip/", {"reason": "bored"}, format="json")
    assert bad.status_code == 400 and "reason" in bad.json()
    assert client.post("/api/v1/queue/next/", {}, format="json").status_code == 204


def test_another_persons_lease_is_a_404(
    user: User, other_user: User, pool_lines: Callable, api_for: Callable
) -> None:
    pool_lines((10.0,))
    lease = api_for(other_user).post("/api/v1/queue/next/", {}, format="json").json()
    answer = api_for(user).post(
        f"/api/v1/queue/{lease['assignment']}/submit/", {"text": "کتاب"}, format="json"
    )
    assert answer.status_code == 404
    assert not Transcription.objects.exists()


def test_next_within_a_document_that_is_not_in_the_pool_is_a_404(
    user: User, other_user: User, read_document: Callable, api_for: Callable
) -> None:
    private = read_document(owner=other_user)
    answer = api_for(user).post("/api/v1/queue/next/", {"document": private.pk}, format="json")
    assert answer.status_code == 404
    assert not Assignment.objects.exists()
