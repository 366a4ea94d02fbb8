"""Training runs in the admin: the add form calls start_training, the change page shows the
run (progress, curve, evaluation side by side) with Cancel and Make default."""

from __future__ import annotations

from collections.abc import Callable

from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import OcrModel, TrainingRun, TrainingStatus
from tests.labeling.training_support import fas_model, make_release, tiny_lines

EVALUATION = {
    "split": "eval",
    "note": "",
    "lines": 4,
    "start": {
        "model": "fas-best",
        "overall": {
            "lines": 4,
            "cer": 0.5,
            "wer": 0.9,
            "cer_normalized": 0.4,
            "wer_normalized": 0.8,
        },
        "documents": {"Document 3 (#3)": {"lines": 4, "cer": 0.5, "cer_normalized": 0.4}},
    },
    "result": {
        "model": "ota-r1-t1",
        "overall": {
            "lines": 4,
            "cer": 0.25,
            "wer": 0.5,
            "cer_normalized": 0.125,
            "wer_normalized": 0.4,
        },
        "documents": {"Document 3 (#3)": {"lines": 4, "cer": 0.25, "cer_normalized": 0.125}},
    },
}


def test_staff_start_a_run_from_the_add_form(
    superuser: User, client_for: Callable[[User], Client]
) -> None:
    start = fas_model()
    release = make_release(created_by=superuser, lines=tiny_lines())
    client = client_for(superuser)
    page = client.get(reverse("admin:labeling_trainingrun_add"))
    assert page.status_code == 200 and "Start training" in page.content.decode()
    response = client.post(
        reverse("admin:labeling_trainingrun_add"),
        {
            "release": release.pk,
            "start_model": start.pk,
            "max_iterations": 500,
            "max_minutes": 3,
            "learning_rate": 0.0005,
        },
    )
    run = TrainingRun.objects.get()
    assert response.status_code == 302 and str(run.pk) in response["Location"]
    assert (run.max_iterations, run.max_minutes, run.status) == (500, 3, TrainingStatus.QUEUED)

    again = client.post(
        reverse("admin:labeling_trainingrun_add"),
        {
            "release": release.pk,
            "start_model": start.pk,
            "max_iterations": 500,
            "max_minutes": 3,
            "learning_rate": 0.0005,
        },
    )
    assert f"Training {run.pk} is waiting to train; wait for it or cancel it." in (
        again.content.decode()
    )
    assert TrainingRun.objects.count() == 1

    cancelled = client.post(
        reverse("admin:labeling_trainingrun_cancel", args=[run.pk]), follow=True
    )
    assert "is being cancelled" in cancelled.content.decode()
    run.refresh_from_db()
    assert run.status == TrainingStatus.CANCELLED


def test_the_add_form_shows_why_an_integer_model_cannot_start(
    superuser: User, client_for: Callable[[User], Client]
) -> None:
    release = make_release(created_by=superuser, lines=tiny_lines())
    ara = OcrModel.objects.create(name="Debian ara", language="ara", trainable=True)
    response = client_for(superuser).post(
        reverse("admin:labeling_trainingrun_add"),
        {
            "release": release.pk,
            "start_model": ara.pk,
            "max_iterations": 100,
            "max_minutes": 3,
            "learning_rate": 0.0005,
        },
    )
    assert response.status_code == 200
    assert "integer" in response.content.decode()
    assert not TrainingRun.objects.exists()


def test_a_done_run_shows_its_evaluation_curve_and_make_default(
    superuser: User, client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    release = make_release(created_by=superuser, lines=tiny_lines())
    start = OcrModel.objects.create(name="fas-best", language="fasbest", trainable=True)
    run = TrainingRun.objects.create(
        release=release,
        start_model=start,
        created_by=superuser,
        status=TrainingStatus.DONE,
        iteration=300,
        training_error=0.05,
        curve=[[100, 0.2, 10.0], [200, 0.1, 20.0], [300, 0.05, 30.0]],
        evaluation=EVALUATION,
    )
    result = OcrModel.objects.create(
        name="ota-r1-t1", language="ota-r1-t1", trainable=True, training_run=run
    )
    TrainingRun.objects.filter(pk=run.pk).update(result=result)
    client = client_for(superuser)

    page = client.get(reverse("admin:labeling_trainingrun_change", args=[run.pk])).content.decode()
    assert "50.00% → 25.00%" in page and "40.00% → 12.50%" in page  # CER raw and normalized
    assert "Document 3 (#3)" in page and "Make the result the default model" in page
    assert "Cancel training" not in page
    curve = client.get(reverse("admin:labeling_trainingrun_curve", args=[run.pk]))
    assert curve["Content-Type"] == "image/png" and curve.content.startswith(b"\x89PNG")

    client.post(reverse("admin:labeling_trainingrun_make_default", args=[run.pk]))
    assert OcrModel.default() == result

    outsider = client_for(make_user("someone@example.org"))
    refused = outsider.get(reverse("admin:labeling_trainingrun_curve", args=[run.pk]))
    assert refused.status_code == 302 and "login" in refused["Location"]


def test_the_staff_group_may_start_runs_and_moderators_may_not(
    make_user: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    from django.contrib.auth.models import Group

    url = reverse("admin:labeling_trainingrun_add")
    for group, expected in (("staff", 200), ("moderator", 403)):
        person = make_user(f"{group}@example.org")
        person.is_staff = True
        person.save()
        person.groups.add(Group.objects.get(name=group))
        assert client_for(person).get(url).status_code == expected, group
