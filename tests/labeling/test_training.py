"""Training Tesseract on a release: real lstmtraining on a tiny rendered release.

Each training test fine-tunes ../shared/models/fas.traineddata (float) for 100 iterations on
16 short rendered lines (skipped with the reason when the model is absent).
"""

from __future__ import annotations

import io
import os
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from PIL import Image

from accounts.models import User
from labeling import files, ocr, reading, training
from labeling.models import OcrModel, PendingFile, ReleaseStatus, TrainingRun, TrainingStatus
from labeling.synthetic import render_line
from tests.labeling.training_support import fas_model, make_release, tiny_lines

pytestmark = pytest.mark.usefixtures("needs_tesseract")

ITERATIONS = 100


@pytest.fixture
def staff(make_user: Callable[..., User]) -> User:
    person = make_user("staff@example.org")
    person.is_staff = True
    person.save()
    return person


@pytest.fixture
def training_dir(settings: object, tmp_path: Path) -> Path:
    folder = tmp_path / "training"
    settings.TRAINING_DIR = folder  # type: ignore[attr-defined]
    return folder


def lstmtraining_processes(under: Path) -> list[int]:
    """Live lstmtraining processes working in `under` (others on the machine are not ours)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ours = any(arg.startswith(str(under).encode()) for arg in command[1:])
        if command and command[0].endswith(b"lstmtraining") and ours and ") Z" not in stat:
            found.append(int(entry.name))
    return found


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- the whole run ---------------------------------------------------------------------------


def test_it_trains_registers_and_evaluates_a_model(staff: User, training_dir: Path) -> None:
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    run = training.start_training(
        release=release,
        start_model=start,
        created_by=staff,
        max_iterations=ITERATIONS,
        max_minutes=5,
        learning_rate=0.0005,
        synthetic_ratio=0.5,
    )
    training.train(run_id=run.pk)
    run.refresh_from_db()

    assert run.status == TrainingStatus.DONE, run.error or run.log_tail
    # 16 released training lines and half as many rendered in the naskh fonts.
    assert "24 training lines prepared" in run.log_tail, run.log_tail
    assert run.iteration == ITERATIONS and run.training_error is not None
    assert run.curve and run.curve[-1][0] == ITERATIONS
    model = OcrModel.objects.get(training_run=run)
    assert run.result == model
    assert model.name == f"ota-r{release.number}-t{run.pk}" and model.trainable
    assert model.traineddata.storage.exists(model.traineddata.name)
    assert not PendingFile.objects.filter(name=model.traineddata.name).exists()
    assert not list(training_dir.glob("run-*")), "the run's working folder is left behind"

    evaluation = run.evaluation
    assert evaluation["split"] == "eval" and evaluation["lines"] == 4
    for side in ("start", "result"):
        overall = evaluation[side]["overall"]
        assert set(overall) >= {"cer", "wer", "cer_normalized", "wer_normalized"}
        assert evaluation[side]["documents"], "no per-document figures"
    assert evaluation["start"]["model"] == start.name

    # The result reads a line through the same path pages are read with.
    text = tiny_lines()[-1][0]
    reading_ = ocr.read_line(
        png(render_line(text, size=32, padding=8)),
        language=model.language,
        tessdata_dir=reading.model_tessdata_dir(model),
    )
    assert reading_.text.strip()

    training.make_default(model=model)
    assert OcrModel.default() == model


# -- refusals --------------------------------------------------------------------------------


def test_it_refuses_too_many_rendered_lines_per_real_line(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    with pytest.raises(training.TrainingRefused, match="between 0 and 3"):
        training.start_training(
            release=release, start_model=fas_model(), created_by=staff, synthetic_ratio=5
        )
    assert not TrainingRun.objects.exists()


def test_it_refuses_an_integer_start_model(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    ara = OcrModel.objects.create(name="Debian ara", language="ara", trainable=True)
    with pytest.raises(training.TrainingRefused, match="integer"):
        training.start_training(release=release, start_model=ara, created_by=staff)
    assert not TrainingRun.objects.exists()


def test_it_refuses_a_start_model_not_marked_trainable(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    ara = OcrModel.objects.create(name="Debian ara", language="ara")
    with pytest.raises(training.TrainingRefused, match="not marked trainable"):
        training.start_training(release=release, start_model=ara, created_by=staff)


def test_it_refuses_a_corrupt_traineddata(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    name = files.store("models/broken/broken.traineddata", ContentFile(b"not a model" * 100))
    broken = OcrModel.objects.create(
        name="broken", language="broken", traineddata=name, trainable=True
    )
    with pytest.raises(training.TrainingRefused, match="corrupt"):
        training.start_training(release=release, start_model=broken, created_by=staff)


def test_it_refuses_a_start_model_whose_file_is_missing(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    gone = OcrModel.objects.create(
        name="gone", language="gone", traineddata="models/gone/gone.traineddata", trainable=True
    )
    with pytest.raises(training.TrainingRefused) as refused:
        training.start_training(release=release, start_model=gone, created_by=staff)
    assert "gone" in str(refused.value)
    assert not TrainingRun.objects.exists()


def test_it_refuses_a_release_that_is_not_published(staff: User, training_dir: Path) -> None:
    release = make_release(created_by=staff, lines=tiny_lines(), status=ReleaseStatus.RUNNING)
    start = OcrModel.objects.create(name="any", language="ara", trainable=True)
    with pytest.raises(training.TrainingRefused, match="not published"):
        training.start_training(release=release, start_model=start, created_by=staff)


def test_it_refuses_someone_who_is_not_staff(user: User, staff: User) -> None:
    release = make_release(created_by=staff, lines=tiny_lines())
    start = OcrModel.objects.create(name="any", language="ara", trainable=True)
    with pytest.raises(training.TrainingRefused, match="Only staff"):
        training.start_training(release=release, start_model=start, created_by=user)


def test_it_refuses_a_second_run_while_one_waits_or_trains(staff: User, training_dir: Path) -> None:
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    first = training.start_training(release=release, start_model=start, created_by=staff)
    with pytest.raises(training.TrainingRefused, match=f"Training {first.pk} is waiting"):
        training.start_training(release=release, start_model=start, created_by=staff)
    TrainingRun.objects.filter(pk=first.pk).update(status=TrainingStatus.RUNNING)
    with pytest.raises(training.TrainingRefused, match="wait for it or cancel it"):
        training.start_training(release=release, start_model=start, created_by=staff)
    assert TrainingRun.objects.count() == 1


def test_a_second_run_claimed_while_one_trains_fails_with_a_message(
    staff: User, training_dir: Path
) -> None:
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    kw = {"release": release, "start_model": start, "created_by": staff}
    busy = TrainingRun.objects.create(**kw, status=TrainingStatus.RUNNING)
    second = TrainingRun.objects.create(**kw)  # as if two were started at once
    training.train(run_id=second.pk)
    second.refresh_from_db()
    assert second.status == TrainingStatus.FAILED
    assert f"Training {busy.pk} is training" in second.error
    assert not OcrModel.objects.filter(training_run=second).exists()


def test_a_cancelled_waiting_run_never_trains(staff: User, training_dir: Path) -> None:
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    run = training.start_training(release=release, start_model=start, created_by=staff)
    assert training.cancel_training(run=run)
    training.train(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingStatus.CANCELLED and run.result is None
    assert not training.cancel_training(run=run)


# -- cancel midway ---------------------------------------------------------------------------


def test_lstmtraining_failing_fails_the_run_with_its_message_and_registers_nothing(
    staff: User, training_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    # An lstmtraining that checks start models as the real one does but fails to train.
    fake = tmp_path / "bin" / "lstmtraining"
    fake.parent.mkdir()
    real = shutil.which("lstmtraining")
    fake.write_text(
        "#!/bin/sh\n"
        'case "$*" in *--train_listfile*)\n'
        '  echo "Failed to read data from: list.train"; exit 1;;\n'
        "esac\n"
        f'exec {real} "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:{os.environ['PATH']}")
    run = training.start_training(
        release=release, start_model=start, created_by=staff, max_iterations=ITERATIONS
    )
    training.train(run_id=run.pk)
    run.refresh_from_db()
    assert run.status == TrainingStatus.FAILED and run.lease is None
    assert "lstmtraining failed (exit 1)" in run.error, run.error
    assert "Failed to read data" in run.error
    assert not OcrModel.objects.filter(training_run=run).exists()
    assert not list(training_dir.glob("run-*"))


@pytest.mark.django_db(transaction=True)
def test_cancelling_midway_stops_lstmtraining_and_registers_nothing(
    make_user: Callable[..., User], training_dir: Path
) -> None:
    staff = make_user("staff@example.org")
    staff.is_staff = True
    staff.save()
    start = fas_model()
    release = make_release(created_by=staff, lines=tiny_lines())
    # Made directly: start_training would train it inline at commit (eager tasks in tests).
    run = TrainingRun.objects.create(
        release=release, start_model=start, created_by=staff, max_iterations=100000
    )
    before = set(lstmtraining_processes(training_dir))

    def train() -> None:
        try:
            training.train(run_id=run.pk)
        finally:
            connection.close()  # this thread's own connection

    worker = threading.Thread(target=train)
    worker.start()
    try:
        deadline = time.monotonic() + 60
        while not set(lstmtraining_processes(training_dir)) - before:
            assert time.monotonic() < deadline, "lstmtraining never started"
            assert worker.is_alive(), TrainingRun.objects.get(pk=run.pk).error
            time.sleep(0.2)
        time.sleep(1)
        assert training.cancel_training(run=TrainingRun.objects.get(pk=run.pk))
        worker.join(timeout=30)
    finally:
        connection.close()
    assert not worker.is_alive()
    run.refresh_from_db()
    assert run.status == TrainingStatus.CANCELLED and run.error == "" and run.lease is None
    assert not set(lstmtraining_processes(training_dir)) - before, "lstmtraining still runs"
    assert not OcrModel.objects.filter(training_run=run).exists()
    assert not list(training_dir.glob("run-*"))


# -- pieces ----------------------------------------------------------------------------------


def test_the_curve_is_a_png_with_the_runs_points(staff: User) -> None:
    start = OcrModel.objects.create(name="any", language="ara", trainable=True)
    release = make_release(created_by=staff, lines=tiny_lines())
    run = TrainingRun.objects.create(
        release=release,
        start_model=start,
        created_by=staff,
        curve=[[100, 0.3, 10.0], [200, 0.2, 20.0], [300, 0.1, 30.0]],
    )
    with Image.open(io.BytesIO(training.curve_png(run))) as image:
        assert image.format == "PNG" and image.size == (640, 360)
        colours = {c for _n, c in image.getcolors(640 * 360) or []}
    assert (31, 119, 180) in colours, "the curve is not drawn"


def test_make_default_moves_the_default(db: None) -> None:
    first = OcrModel.default() or OcrModel.objects.create(name="a", language="ara", is_default=True)
    second = OcrModel.objects.create(name="b", language="fas")
    training.make_default(model=second)
    first.refresh_from_db()
    assert OcrModel.default() == second and not first.is_default
