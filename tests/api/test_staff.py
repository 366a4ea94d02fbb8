"""Staff endpoints: releases, models, training runs; 403 for everyone else, and moderators get
what the site gives them (releases to see and download) and nothing more."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile

from accounts.models import User
from labeling.models import DatasetRelease, OcrModel, ReleaseStatus, TrainingRun


@pytest.fixture
def release(make_staff: Callable[..., User]) -> DatasetRelease:
    row = DatasetRelease.objects.create(
        number=1,
        created_by=make_staff("maker@example.org"),
        status=ReleaseStatus.DONE,
        lines_total=2,
        size=7,
        sha256="ab" * 32,
    )
    row.file.save("release-1.zip", ContentFile(b"PK\x05\x06zz"), save=True)
    return row


def test_staff_list_and_download_releases(
    make_staff: Callable[..., User], release: DatasetRelease, api_for: Callable
) -> None:
    client = api_for(make_staff())
    rows = client.get("/api/v1/releases/").json()["results"]
    assert [(r["number"], r["status"], r["lines"], r["size"]) for r in rows] == [(1, "done", 2, 7)]
    download = client.get(rows[0]["download"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == b"PK\x05\x06zz"
    assert download["Content-Disposition"] == 'attachment; filename="release-1.zip"'


def test_a_contributor_gets_403_on_every_staff_endpoint(
    user: User, release: DatasetRelease, api_for: Callable
) -> None:
    client = api_for(user)
    model = OcrModel.objects.create(name="fas", language="fas")
    for method, path in [
        ("get", "/api/v1/releases/"),
        ("get", f"/api/v1/releases/{release.pk}/download"),
        ("get", "/api/v1/models/"),
        ("post", f"/api/v1/models/{model.pk}/make-default/"),
        ("get", "/api/v1/training-runs/"),
        ("post", "/api/v1/training-runs/"),
    ]:
        answer = getattr(client, method)(path, {}, format="json")
        assert answer.status_code == 403, path
        assert answer.json()["detail"]
    assert not OcrModel.objects.get(pk=model.pk).is_default


def test_a_moderator_may_see_releases_as_on_the_site_but_not_models_or_training(
    make_moderator: Callable[..., User], release: DatasetRelease, api_for: Callable
) -> None:
    client = api_for(make_moderator())
    assert client.get("/api/v1/releases/").status_code == 200
    assert client.get(f"/api/v1/releases/{release.pk}/download").status_code == 200
    assert client.get("/api/v1/models/").status_code == 403
    assert client.get("/api/v1/training-runs/").status_code == 403


def test_staff_make_a_model_the_default(make_staff: Callable[..., User], api_for: Callable) -> None:
    OcrModel.objects.filter(is_default=True).update(is_default=False)
    old = OcrModel.objects.create(name="ara", language="ara", is_default=True)
    new = OcrModel.objects.create(name="ota", language="ota")
    client = api_for(make_staff())
    names = [m["name"] for m in client.get("/api/v1/models/").json()["results"]]
    assert {"ara", "ota"} <= set(names)
    answer = client.post(f"/api/v1/models/{new.pk}/make-default/")
    assert answer.status_code == 200 and answer.json()["is_default"] is True
    assert OcrModel.default() == new
    old.refresh_from_db()
    assert not old.is_default


def test_staff_start_a_training_run_and_read_its_status(
    make_staff: Callable[..., User],
    release: DatasetRelease,
    api_for: Callable,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("labeling.training.check_start_model", lambda model: None)
    monkeypatch.setattr("labeling.tasks.train_model.apply_async", lambda *a, **k: None)
    start = OcrModel.objects.create(name="fas-best", language="fasbest", trainable=True)
    client = api_for(make_staff())
    refused = client.post(
        "/api/v1/training-runs/", {"release": release.pk, "start_model": 999999}, format="json"
    )
    assert refused.status_code == 400 and "start_model" in refused.json()
    started = client.post(
        "/api/v1/training-runs/",
        {"release": release.pk, "start_model": start.pk, "max_minutes": 5},
        format="json",
    )
    assert started.status_code == 201, started.content
    run = TrainingRun.objects.get()
    assert (started.json()["id"], started.json()["status"], run.max_minutes) == (
        run.pk,
        "queued",
        5,
    )
    busy = client.post(
        "/api/v1/training-runs/", {"release": release.pk, "start_model": start.pk}, format="json"
    )
    assert busy.status_code == 400 and busy.json()["detail"]
    status = client.get(f"/api/v1/training-runs/{run.pk}/").json()
    assert (status["release"], status["start_model"], status["result"]) == (
        release.pk,
        start.pk,
        None,
    )
    listed = client.get("/api/v1/training-runs/").json()["results"]
    assert [r["id"] for r in listed] == [run.pk]
