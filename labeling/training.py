"""Fine-tuning Tesseract on a dataset release: a `TrainingRun` is a Job on the `training` queue.

Staff start a run (`start_training`); one worker with concurrency 1 trains it (`train`): the
release's lines become `.lstmf` files, lstmtraining continues from the float start model,
progress lands on the row, then the start model and the result read the release's eval lines
and the result is registered as an `OcrModel`, all or nothing. The recipe itself lives in
`labeling.tesstrain` (no Django).
"""

from __future__ import annotations

import io
import logging
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files import File
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageDraw, ImageFont

from accounts.models import User
from labeling import charset, files, jobs, reading, tesstrain
from labeling.models import DatasetRelease, OcrModel, ReleaseStatus, TrainingRun, TrainingStatus

logger = logging.getLogger(__name__)

ACTIVE = (TrainingStatus.QUEUED, TrainingStatus.RUNNING)
MAX_SYNTHETIC_RATIO = 3.0  # rendered lines per real training line
# One rendered line per real one: on two printed books held out of training it brought the
# fine-tuned model from 9.1% to 7.5% normalized CER (bench/train_model.py, README).
DEFAULT_SYNTHETIC_RATIO = 1.0
# Any constant: the key of the PostgreSQL advisory lock that lets one run start at a time.
_LOCK_KEY = 0x07A7_0008


class TrainingRefused(ValueError):
    """A run cannot start; the message says why (shown to staff as it is)."""


def _task():  # type: ignore[no-untyped-def]
    from labeling.tasks import train_model  # tasks import this module

    return train_model


def sweep() -> jobs.Swept:
    return jobs.sweep(TrainingRun, _task(), queue="training")


def _lock_trainings() -> None:
    """Serialize starting and claiming runs until the transaction ends. SQLite's IMMEDIATE
    transactions (settings) already serialize writers; PostgreSQL needs a lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_KEY])


def _busy_message(run: TrainingRun) -> str:
    return _("Training %(pk)d is %(status)s; wait for it or cancel it.") % {
        "pk": run.pk,
        "status": run.get_status_display().lower(),
    }


def start_model_file(model: OcrModel) -> Path:
    """Where the model's .traineddata is on this machine (raises TrainingRefused if nowhere)."""
    try:
        path = reading.model_file(model)
    except OSError as error:  # its file is gone from storage
        raise TrainingRefused(
            _("The start model %(name)s has no file in storage (%(error)s).")
            % {"name": model.name, "error": error.strerror or error}
        ) from error
    except charset.UnicharsetError as error:
        raise TrainingRefused(
            _("Tesseract's language folder cannot be found (%(error)s).") % {"error": error}
        ) from error
    if not path.is_file():
        raise TrainingRefused(
            _("The start model %(name)s has no file here (%(path)s).")
            % {"name": model.name, "path": path}
        )
    return path


def check_start_model(model: OcrModel) -> None:
    """Refuse a start model lstmtraining cannot continue from, saying why."""
    if not model.trainable:
        raise TrainingRefused(
            _(
                '%(name)s is not marked trainable: only a float ("best") model can be '
                "fine-tuned, and Debian's language packs are integer models."
            )
            % {"name": model.name}
        )
    if not all(shutil.which(tool) for tool in ("tesseract", "combine_tessdata", "lstmtraining")):
        return  # a web machine without Tesseract's training tools: the training worker checks
    path = start_model_file(model)
    with tempfile.TemporaryDirectory(prefix="start-model-") as scratch:
        try:
            tesstrain.check_start_model(path, Path(scratch))
        except tesstrain.TrainingError as error:
            raise TrainingRefused(str(error)) from error


def start_training(
    *,
    release: DatasetRelease,
    start_model: OcrModel,
    created_by: User,
    max_iterations: int = 10000,
    max_minutes: int = 60,
    learning_rate: float = 0.0001,
    synthetic_ratio: float = DEFAULT_SYNTHETIC_RATIO,
    enqueue: bool = True,
) -> TrainingRun:
    """Queue a run, or raise TrainingRefused: staff only, a published release, a float start
    model, limits in range, and no other run waiting or training.

    With `enqueue=False` no task is sent: the caller trains it now (`manage.py train --wait`).
    """
    if not created_by.is_staff:
        raise TrainingRefused(_("Only staff can train models."))
    if release.status != ReleaseStatus.DONE or not release.file:
        raise TrainingRefused(
            _("%(release)s is not published yet (%(status)s).")
            % {"release": release, "status": release.get_status_display()}
        )
    if not 1 <= max_minutes <= settings.TRAINING_MAX_MINUTES:
        raise TrainingRefused(
            _("Minutes must be between 1 and %(max)d (TRAINING_MAX_MINUTES).")
            % {"max": settings.TRAINING_MAX_MINUTES}
        )
    if max_iterations < 1:
        raise TrainingRefused(_("Iterations must be at least 1."))
    if not 0 < learning_rate <= 0.1:
        raise TrainingRefused(_("The learning rate must be above 0 and at most 0.1."))
    if not 0 <= synthetic_ratio <= MAX_SYNTHETIC_RATIO:
        raise TrainingRefused(
            _("The rendered lines per real line must be between 0 and %(max)s.")
            % {"max": MAX_SYNTHETIC_RATIO}
        )
    check_start_model(start_model)
    with transaction.atomic():
        _lock_trainings()
        busy = TrainingRun.objects.filter(status__in=ACTIVE).order_by("pk").first()
        if busy is not None:
            raise TrainingRefused(_busy_message(busy))
        run = TrainingRun.objects.create(
            release=release,
            start_model=start_model,
            created_by=created_by,
            max_iterations=max_iterations,
            max_minutes=max_minutes,
            learning_rate=learning_rate,
            synthetic_ratio=synthetic_ratio,
        )
        if enqueue:
            jobs.send_on_commit(_task(), TrainingRun, [run.pk])
    return run


@transaction.atomic
def cancel_training(*, run: TrainingRun) -> bool:
    """Stop a run: a waiting one is cancelled now, a training one within a second or two by
    its worker (which kills lstmtraining). False when the run is already over."""
    locked = TrainingRun.objects.select_for_update().filter(pk=run.pk).first()
    if locked is None or locked.status not in ACTIVE:
        return False
    if locked.status == TrainingStatus.QUEUED:
        TrainingRun.objects.filter(pk=run.pk).update(
            status=TrainingStatus.CANCELLED, lease=None, finished_at=timezone.now()
        )
    else:
        TrainingRun.objects.filter(pk=run.pk).update(cancel_requested=True)
    return True


@transaction.atomic
def make_default(*, model: OcrModel) -> None:
    """New pages are read with `model` from now on."""
    OcrModel.objects.select_for_update().filter(is_default=True).exclude(pk=model.pk).update(
        is_default=False
    )
    OcrModel.objects.filter(pk=model.pk).update(is_default=True)


# ---------------------------------------------------------------------------- the job


class _Stop(Exception):
    """The run no longer holds its row (the sweep gave up on it) or was cancelled."""


def train(*, run_id: int, report: Callable[[str], None] | None = None) -> None:
    """Train one run (the `train_model` task). Safe to run twice; quiet when gone or taken.

    `report` is given each step and progress line as well (`manage.py train --wait`). A run's
    `synthetic_ratio` > 0 adds that many times its training lines rendered from their texts in
    Debian's naskh fonts (`tesstrain.prepare_lines`)."""
    with transaction.atomic():
        _lock_trainings()
        lease = jobs.claim(TrainingRun, run_id)
        if lease is None:
            return
        other = TrainingRun.objects.filter(status=TrainingStatus.RUNNING).exclude(pk=run_id).first()
    if other is not None:
        jobs.fail(TrainingRun, run_id, lease, _busy_message(other), finished_at=timezone.now())
        return
    run = TrainingRun.objects.select_related("release", "start_model").get(pk=run_id)
    _remove_leftovers()
    work = Path(settings.TRAINING_DIR) / f"run-{run_id}-{lease.hex[:8]}"
    stored: list[str] = []
    try:
        with jobs.heartbeat(TrainingRun, run_id, lease):
            _train(run, lease, work, stored, report or (lambda _text: None))
    except tesstrain.TrainingCancelled:
        _cancelled(run_id, lease)
    except _Stop:
        if not _cancelled(run_id, lease):
            logger.warning("Training %s was taken from this worker; stopping", run_id)
    except (tesstrain.TrainingError, TrainingRefused) as error:
        jobs.fail(TrainingRun, run_id, lease, str(error), finished_at=timezone.now())
    except Exception as error:
        logger.exception("Training %s failed", run_id)
        jobs.fail(
            TrainingRun,
            run_id,
            lease,
            _("Training failed: %(error)s") % {"error": error},
            finished_at=timezone.now(),
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if stored and not TrainingRun.objects.filter(pk=run_id, result__isnull=False).exists():
            files.discard(stored)


def _remove_leftovers() -> None:
    """Working folders of runs that no longer train here (their worker was killed)."""
    folder = Path(settings.TRAINING_DIR)
    if not folder.is_dir():
        return
    for leftover in folder.glob("run-*-*"):
        pk, _sep, lease = leftover.name.removeprefix("run-").partition("-")
        still = TrainingRun.objects.filter(
            pk=int(pk) if pk.isdigit() else 0, status=TrainingStatus.RUNNING
        ).values_list("lease", flat=True)
        if not any(held and held.hex.startswith(lease) for held in still):
            shutil.rmtree(leftover, ignore_errors=True)


def _cancelled(run_id: int, lease: uuid.UUID) -> bool:
    return bool(
        jobs.holding(TrainingRun, run_id, lease)
        .filter(cancel_requested=True)
        .update(status=TrainingStatus.CANCELLED, lease=None, error="", finished_at=timezone.now())
    )


def _train(
    run: TrainingRun,
    lease: uuid.UUID,
    work: Path,
    stored: list[str],
    report: Callable[[str], None],
) -> None:
    holding = jobs.holding(TrainingRun, run.pk, lease)

    def check() -> None:
        if not holding.filter(cancel_requested=False).exists():
            raise _Stop

    def note(text: str) -> None:
        report(text)
        holding.update(log_tail=text[-4000:])

    work.mkdir(parents=True, exist_ok=True)
    start = tesstrain.check_start_model(start_model_file(run.start_model), work / "start")

    note(_("Unpacking the release…"))
    zip_path = work / "release.zip"
    with run.release.file.open("rb") as source, zip_path.open("wb") as target:
        for chunk in source.chunks():
            target.write(chunk)
    release = tesstrain.read_release(tesstrain.unpack_release(zip_path, work / "release"))
    if not release.train:
        raise tesstrain.TrainingError(_("The release has no training lines."))
    check()

    note(_("Preparing %(n)d training lines…") % {"n": len(release.train)})
    made = tesstrain.prepare_lines(release.train, work / "lines", synthetic=run.synthetic_ratio)
    check()
    prepared = _("%(made)d training lines prepared, %(skipped)d skipped.") % {
        "made": len(made.files),
        "skipped": len(made.skipped),
    }
    note(prepared)
    language = _result_language(run)
    starter = tesstrain.build_traineddata(
        start=start, boxes=made.boxes, work=work / "model", lang=language
    )
    curve: list[list[float]] = []

    def progress(step: tesstrain.Progress, tail: str) -> None:
        curve.append([step.iteration, step.bcer, round(step.elapsed, 1)])
        report(
            _("Iteration %(iteration)d: training error %(error).2f%% (%(seconds)d s)")
            % {"iteration": step.iteration, "error": 100 * step.bcer, "seconds": step.elapsed}
        )
        holding.update(
            iteration=step.iteration,
            training_error=step.bcer,
            elapsed_seconds=step.elapsed,
            curve=curve,
            log_tail=f"{prepared}\n{tail}"[-4000:],
        )

    def should_stop() -> bool:
        return not holding.filter(cancel_requested=False).exists()

    output = work / "result" / f"{language}.traineddata"
    result = tesstrain.train(
        start=start,
        traineddata=starter,
        lstmf=made.files,
        work=work / "train",
        max_iterations=run.max_iterations,
        max_minutes=run.max_minutes,
        learning_rate=run.learning_rate,
        output=output,
        on_progress=progress,
        should_cancel=should_stop,
    )
    holding.update(
        iteration=result.iterations,
        elapsed_seconds=result.seconds,
        log_tail=f"{prepared}\n{result.log_tail}"[-4000:],
    )
    check()

    report(_("Evaluating the start model and the result…"))
    evaluated_on = release.eval
    note_eval = ""
    if not evaluated_on:
        evaluated_on = release.train
        note_eval = _(
            "The release has no eval split: both models were evaluated on its train lines."
        )
    start_eval = tesstrain.evaluate(
        evaluated_on,
        language=run.start_model.language,
        tessdata_dir=reading.model_tessdata_dir(run.start_model),
    )
    check()
    result_eval = tesstrain.evaluate(evaluated_on, language=language, tessdata_dir=output.parent)
    evaluation: dict[str, Any] = {
        "split": "eval" if release.eval else "train",
        "note": note_eval,
        "lines": len(evaluated_on),
        "skipped_training_lines": len(made.skipped),
        "stopped_by": result.stopped,
        "start": {"model": run.start_model.name, **start_eval.as_json()},
        "result": {"model": language, **result_eval.as_json()},
    }
    check()

    with output.open("rb") as handle:
        name = files.store(
            files.unique_name(f"models/{language}", language, "traineddata"), File(handle)
        )
    stored.append(name)
    with transaction.atomic():
        model = OcrModel.objects.create(
            name=language,
            language=language,
            traineddata=name,
            trainable=True,
            training_run=run,
            description=_(
                "Fine-tuned from %(start)s on %(release)s: %(iterations)d iterations, "
                "normalized CER %(before).1f%% → %(after).1f%% on its %(split)s lines."
            )
            % {
                "start": run.start_model.name,
                "release": run.release,
                "iterations": result.iterations,
                "before": 100 * float(start_eval.overall["cer_normalized"]),
                "after": 100 * float(result_eval.overall["cer_normalized"]),
                "split": evaluation["split"],
            },
        )
        files.adopt([name])
        finished = jobs.finish(
            TrainingRun,
            run.pk,
            lease,
            result=model,
            evaluation=evaluation,
            error="",
            finished_at=timezone.now(),
        )
        if not finished:
            raise _Stop  # rolls the model back; the caller discards the file


def _result_language(run: TrainingRun) -> str:
    """`ota-r<release>-t<run>`: the model's name and its Tesseract language code."""
    base = f"ota-r{run.release.number}-t{run.pk}"
    name = base
    suffix = 1
    while OcrModel.objects.filter(name=name).exists():
        suffix += 1
        name = f"{base}-{suffix}"
    return name


# ---------------------------------------------------------------------------- the curve


def curve_png(run: TrainingRun, *, width: int = 640, height: int = 360) -> bytes:
    """The learning curve as a PNG: training error (BCER, %) against iterations."""
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default()
    left, right, top, bottom = 60, width - 20, 20, height - 50
    draw.line([(left, top), (left, bottom), (right, bottom)], fill="black", width=1)
    points = [(float(p[0]), float(p[1])) for p in run.curve or [] if len(p) >= 2]
    max_x = max((x for x, _ in points), default=0.0) or 1.0
    max_y = max((y for _, y in points), default=0.0) or 1.0
    for fraction in (0.0, 0.5, 1.0):
        y = bottom - fraction * (bottom - top)
        draw.line([(left - 4, y), (left, y)], fill="black")
        draw.text((5, y - 6), f"{100 * fraction * max_y:.1f}%", fill="black", font=font)
        x = left + fraction * (right - left)
        draw.line([(x, bottom), (x, bottom + 4)], fill="black")
        draw.text((x - 12, bottom + 8), f"{fraction * max_x:.0f}", fill="black", font=font)
    draw.text(((left + right) // 2 - 30, height - 20), str(_("iteration")), fill="black", font=font)
    draw.text((5, 2), str(_("training error (BCER)")), fill="black", font=font)
    xy = [
        (left + x / max_x * (right - left), bottom - y / max_y * (bottom - top)) for x, y in points
    ]
    if len(xy) > 1:
        draw.line(xy, fill=(31, 119, 180), width=2)
    for x, y in xy:
        draw.ellipse([(x - 2, y - 2), (x + 2, y + 2)], fill=(31, 119, 180))
    if not xy:
        draw.text((left + 20, top + 20), str(_("No progress reported yet.")), fill="gray")
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()
