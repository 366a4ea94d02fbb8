"""`manage.py train`: refusals on stderr with exit 1; --wait trains and prints the evaluation."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from labeling.models import OcrModel, TrainingRun, TrainingStatus
from tests.labeling.training_support import fas_model, make_release, tiny_lines


def test_it_refuses_an_integer_start_model_with_an_error(superuser: User) -> None:
    make_release(created_by=superuser, lines=tiny_lines())
    OcrModel.objects.create(name="Debian ara", language="ara", trainable=True)
    with pytest.raises(CommandError, match="integer"):
        call_command("train", "--release", "1", "--start-model", "Debian ara")
    assert not TrainingRun.objects.exists()


def test_it_refuses_an_unknown_release(superuser: User) -> None:
    with pytest.raises(CommandError, match="There is no release 7"):
        call_command("train", "--release", "7", "--start-model", "fas")


def test_it_trains_with_wait_and_prints_the_evaluation(
    superuser: User, settings: object, tmp_path: Path, needs_tesseract: None
) -> None:
    settings.TRAINING_DIR = tmp_path  # type: ignore[attr-defined]
    start = fas_model()
    make_release(created_by=superuser, lines=tiny_lines())
    out = io.StringIO()
    call_command(
        "train",
        "--release=1",
        f"--start-model={start.name}",
        "--iterations=100",
        "--minutes=3",
        "--wait",
        stdout=out,
    )
    run = TrainingRun.objects.get()
    assert run.status == TrainingStatus.DONE
    printed = out.getvalue()
    assert "Iteration 100: training error" in printed
    assert f"{start.name}: CER" in printed and f"{run.result}: CER" in printed
    assert f"Registered the model {run.result}" in printed
