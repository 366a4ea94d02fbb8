from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from labeling.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, DemoRefused, load_demo


class Command(BaseCommand):
    help = (
        "Create the demo accounts and documents (safe to run again). Only with DJANGO_DEBUG=true "
        "or --demo-accounts: their password is published in the README."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--demo-accounts",
            action="store_true",
            help="Make them even with DJANGO_DEBUG off (never on a site others can reach).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            demo = load_demo(explicitly=options["demo_accounts"])
        except DemoRefused as refused:
            # Not an error: the site needs no demo data to start, so `make run` goes on.
            self.stderr.write(self.style.WARNING(str(refused)))
            return
        self.stdout.write(
            self.style.SUCCESS(
                _("Demo accounts (password for all: %(password)s):") % {"password": DEMO_PASSWORD}
            )
        )
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.role:<12} {account.email}")
        owner, pool_owner = demo.accounts[0].email, demo.accounts[2].email
        self.stdout.write(
            _("Demo document: “%(title)s” (owner %(owner)s)")
            % {"title": demo.document.title, "owner": owner}
        )
        self.stdout.write(
            _("Pool document: “%(title)s” (owner %(owner)s; “Label” it)")
            % {"title": demo.pool.title, "owner": pool_owner}
        )
