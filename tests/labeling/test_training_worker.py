"""A training worker SIGKILLed mid-training: lstmtraining dies with it, the sweep fails the
run with a message, nothing is registered, and a new worker trains the next run."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from accounts.models import User
from labeling import training
from labeling.models import OcrModel, TrainingRun, TrainingStatus
from tests.labeling.test_training import lstmtraining_processes
from tests.labeling.training_support import fas_model, make_release, tiny_lines
from tests.processes import Worker, broker_url, empty_broker, wait_until


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_training_whose_worker_is_killed_fails_and_leaves_no_lstmtraining(
    use_broker: Callable[[str], None],
    start_worker: Callable[..., Worker],
    fast_jobs: None,
    needs_tesseract: None,
    make_user: Callable[..., User],
    tmp_path: Path,
) -> None:
    training_dir = tmp_path / "training"  # the workers' TRAINING_DIR
    broker = broker_url("redis")
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    empty_broker(broker)
    use_broker(broker)
    before = set(lstmtraining_processes(training_dir))

    dying = start_worker(broker, queues="training", beat=False, TRAINING_DIR=str(training_dir))
    run = training.start_training(
        release=release, start_model=start, created_by=staff, max_iterations=100000
    )
    wait_until(
        lambda: bool(set(lstmtraining_processes(training_dir)) - before),
        timeout=60,
        what="lstmtraining to start",
        log=dying.log,
    )
    assert TrainingRun.objects.get(pk=run.pk).status == TrainingStatus.RUNNING
    dying.kill()
    deadline = time.monotonic() + 10
    while set(lstmtraining_processes(training_dir)) - before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not set(lstmtraining_processes(training_dir)) - before, (
        "lstmtraining outlived its worker"
    )

    second = start_worker(
        broker, queues="training,default", TRAINING_DIR=str(training_dir)
    )  # with beat: the sweep
    wait_until(
        lambda: TrainingRun.objects.get(pk=run.pk).status == TrainingStatus.FAILED,
        timeout=30,
        what="the sweep to fail the run",
        log=second.log,
    )
    run.refresh_from_db()
    assert "stopped without finishing" in run.error
    assert not OcrModel.objects.filter(training_run=run).exists()

    following = training.start_training(
        release=release, start_model=start, created_by=staff, max_iterations=100
    )
    wait_until(
        lambda: TrainingRun.objects.get(pk=following.pk).status == TrainingStatus.DONE,
        timeout=90,
        what="the next run to train",
        log=second.log,
    )
    assert OcrModel.objects.filter(training_run=following).exists()
