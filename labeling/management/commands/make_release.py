from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from accounts.models import User
from labeling.models import DatasetRelease, Document, LineStatus, ReleaseStatus
from labeling.releases import ReleaseRefused, build_release, create_release


class Command(BaseCommand):
    help = (
        "Make a numbered dataset release of checked line pairs (tesstrain layout) from "
        "licensed pool documents. Its build runs on the exports queue, or here with --wait."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--document",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="A pool document to export (repeat it); none: every eligible document.",
        )
        parser.add_argument(
            "--status",
            action="append",
            default=[],
            choices=[LineStatus.APPROVED, LineStatus.AGREED],
            help="Line statuses to export (repeat it); default: approved (gold lines count).",
        )
        parser.add_argument("--eval-share", type=float, default=0.1)
        parser.add_argument("--seed", type=int, default=0)
        parser.add_argument("--normalized", action="store_true", help="Write normalized texts.")
        parser.add_argument("--notes", default="")
        parser.add_argument(
            "--user",
            metavar="EMAIL",
            help="The staff member making it; by default the only superuser, if there is one.",
        )
        parser.add_argument(
            "--wait",
            action="store_true",
            help="Build it here and print its file, size and SHA-256.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        user = self._user(options["user"])
        documents = list(Document.objects.filter(pk__in=options["document"]))
        missing = set(options["document"]) - {doc.pk for doc in documents}
        if missing:
            raise CommandError(
                _("No document has the id %(ids)s.") % {"ids": ", ".join(map(str, sorted(missing)))}
            )
        try:
            release = create_release(
                created_by=user,
                documents=documents,
                statuses=options["status"] or None,
                eval_share=options["eval_share"],
                seed=options["seed"],
                normalized=options["normalized"],
                notes=options["notes"],
            )
        except ReleaseRefused as exc:
            raise CommandError(str(exc)) from None
        if not options["wait"]:
            self.stdout.write(
                _("Release %(n)d is queued on the exports queue.") % {"n": release.number}
            )
            return
        build_release(release_id=release.pk)
        release = DatasetRelease.objects.get(pk=release.pk)
        if release.status != ReleaseStatus.DONE:
            raise CommandError(
                _("Release %(n)d was not built: %(error)s")
                % {"n": release.number, "error": release.error or release.get_status_display()}
            )
        self.stdout.write(
            self.style.SUCCESS(
                _("Release %(n)d: %(file)s, %(size)d bytes, SHA-256 %(sha)s, %(lines)d lines")
                % {
                    "n": release.number,
                    "file": release.file.name,
                    "size": release.size,
                    "sha": release.sha256,
                    "lines": release.summary.get("lines", 0),
                }
            )
        )

    def _user(self, email: str | None) -> User:
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(_("Nobody has the e-mail address %(email)s.") % {"email": email})
            return user
        superusers = list(User.objects.filter(is_superuser=True, is_active=True)[:2])
        if len(superusers) != 1:
            raise CommandError(_("Say who makes it, with --user EMAIL (a staff member)."))
        return superusers[0]
