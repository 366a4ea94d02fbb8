from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from labeling.groundtruth import ImportRefused, import_ground_truth
from labeling.models import License


class Command(BaseCommand):
    help = (
        "Import a folder in tesstrain's layout (NAME.png or NAME.tif + NAME.gt.txt) as one "
        "approved pool document: each line image a page with one line. Every problem is "
        "reported, file by file, and then nothing is imported."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("folder", type=Path, help="The folder of line images and texts.")
        parser.add_argument("--title", required=True, help="The new document's title.")
        parser.add_argument(
            "--license",
            required=True,
            choices=[value for value in License.values if value],
            help="The licence the ground truth is shared under.",
        )
        parser.add_argument(
            "--owner",
            metavar="EMAIL",
            help="The staff member who imports it and vouches for the licence (owner and "
            "moderator of record); by default the only superuser, if there is exactly one.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        owner = self._owner(options["owner"])
        try:
            imported = import_ground_truth(
                folder=options["folder"],
                title=options["title"],
                license=options["license"],
                owner=owner,
            )
        except ImportRefused as refused:
            for problem in refused.problems:
                self.stderr.write(problem)
            count = len(refused.problems)
            raise CommandError(
                ngettext(
                    "Nothing was imported: %(n)d problem, above.",
                    "Nothing was imported: %(n)d problems, listed above.",
                    count,
                )
                % {"n": count}
            ) from None
        except OSError as exc:
            raise CommandError(
                _("Nothing was imported: storing the files failed (%(error)s).") % {"error": exc}
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Imported %(lines)d lines as the approved pool document “%(title)s” "
                    "(id %(id)d) in %(seconds).1f s."
                )
                % {
                    "lines": imported.lines,
                    "title": imported.document.title,
                    "id": imported.document.pk,
                    "seconds": imported.seconds,
                }
            )
        )

    def _owner(self, email: str | None) -> User:
        if email:
            owner = User.objects.filter(email__iexact=email).first()
            if owner is None:
                raise CommandError(_("Nobody has the e-mail address %(email)s.") % {"email": email})
            return owner
        superusers = list(User.objects.filter(is_superuser=True, is_active=True)[:2])
        if len(superusers) != 1:
            raise CommandError(_("Say who imports it, with --owner EMAIL (a staff member)."))
        return superusers[0]
