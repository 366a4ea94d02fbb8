from typing import Any

from django.core.management.base import BaseCommand

from labeling import synthetic
from labeling.demo import (
    DEMO_ACCOUNTS,
    DEMO_PASSWORD,
    DEMO_POOL_TITLE,
    ensure_demo_accounts,
    ensure_demo_document,
)
from labeling.models import Visibility


class Command(BaseCommand):
    help = "Create the demo accounts and a demo document (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = ensure_demo_accounts()
        document = ensure_demo_document(owner=users[0])
        pool = ensure_demo_document(
            owner=users[2],
            title=DEMO_POOL_TITLE,
            lines=synthetic.SAMPLE_LINES[::-1],
            visibility=Visibility.POOL,
        )
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.role:<12} {account.email}")
        self.stdout.write(f"Demo document: “{document.title}” (owner {users[0].email})")
        self.stdout.write(f"Pool document: “{pool.title}” (owner {users[2].email}; “Label” it)")
