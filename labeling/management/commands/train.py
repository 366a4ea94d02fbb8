from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from labeling import training
from labeling.models import DatasetRelease, OcrModel, TrainingRun, TrainingStatus


class Command(BaseCommand):
    help = (
        "Fine-tune a float Tesseract model on a published dataset release. Without --wait the "
        "run is queued for the training worker; with --wait it trains here and prints its "
        "progress and evaluation."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--release", type=int, required=True, help="The release number.")
        parser.add_argument(
            "--start-model", required=True, metavar="NAME", help="A trainable model's name."
        )
        parser.add_argument("--iterations", type=int, default=10000)
        parser.add_argument("--minutes", type=int, default=min(60, settings.TRAINING_MAX_MINUTES))
        parser.add_argument("--learning-rate", type=float, default=0.0005)
        parser.add_argument(
            "--synthetic",
            type=float,
            default=training.DEFAULT_SYNTHETIC_RATIO,
            metavar="RATIO",
            help="Lines rendered in Debian's naskh fonts per real training line "
            "(default %(default)s; 0: none).",
        )
        parser.add_argument(
            "--user",
            metavar="EMAIL",
            help="The staff member starting it; by default the only superuser, if exactly one.",
        )
        parser.add_argument("--wait", action="store_true", help="Train here and now.")

    def handle(self, *args: Any, **options: Any) -> None:
        release = DatasetRelease.objects.filter(number=options["release"]).first()
        if release is None:
            raise CommandError(_("There is no release %(n)d.") % {"n": options["release"]})
        start = OcrModel.objects.filter(name=options["start_model"]).first()
        if start is None:
            raise CommandError(
                _("There is no model named %(name)s.") % {"name": options["start_model"]}
            )
        try:
            run = training.start_training(
                release=release,
                start_model=start,
                created_by=self._user(options["user"]),
                max_iterations=options["iterations"],
                max_minutes=options["minutes"],
                learning_rate=options["learning_rate"],
                synthetic_ratio=options["synthetic"],
                enqueue=not options["wait"],
            )
        except training.TrainingRefused as refusal:
            raise CommandError(str(refusal)) from None
        if not options["wait"]:
            self.stdout.write(
                _("Training %(pk)d is queued for the training worker.") % {"pk": run.pk}
            )
            return
        training.train(run_id=run.pk, report=self.stdout.write)
        run.refresh_from_db()
        if run.status != TrainingStatus.DONE:
            raise CommandError(
                _("Training %(pk)d %(status)s: %(error)s")
                % {"pk": run.pk, "status": run.get_status_display().lower(), "error": run.error}
            )
        self._print_evaluation(run)

    def _print_evaluation(self, run: TrainingRun) -> None:
        evaluation = run.evaluation
        self.stdout.write(
            _("Evaluated on %(lines)d %(split)s lines. %(note)s")
            % {
                "lines": evaluation["lines"],
                "split": evaluation["split"],
                "note": evaluation["note"],
            }
        )
        for side in ("start", "result"):
            overall = evaluation[side]["overall"]
            self.stdout.write(
                _(
                    "%(model)s: CER %(cer).2f%% (normalized %(cern).2f%%), "
                    "WER %(wer).2f%% (normalized %(wern).2f%%)"
                )
                % {
                    "model": evaluation[side]["model"],
                    "cer": 100 * overall["cer"],
                    "cern": 100 * overall["cer_normalized"],
                    "wer": 100 * overall["wer"],
                    "wern": 100 * overall["wer_normalized"],
                }
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Registered the model %(model)s; make it the default in the admin.")
                % {"model": run.result}
            )
        )

    def _user(self, email: str | None) -> User:
        if email:
            person = User.objects.filter(email__iexact=email).first()
            if person is None:
                raise CommandError(
                    _("No user has the e-mail address %(email)s.") % {"email": email}
                )
            return person
        superusers = list(User.objects.filter(is_superuser=True)[:2])
        if len(superusers) != 1:
            raise CommandError(_("Say who starts the training with --user EMAIL."))
        return superusers[0]
