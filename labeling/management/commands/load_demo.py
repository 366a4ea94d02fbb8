from typing import Any

from django.core.management.base import BaseCommand

from labeling.demo import DEMO_ACCOUNTS, DEMO_PASSWORD, ensure_demo_accounts, ensure_demo_document


class Command(BaseCommand):
    help = "Create the demo accounts and a demo document (safe to run again)."

    def handle(self, *args: Any, **options: Any) -> None:
        users = ensure_demo_accounts()
        document = ensure_demo_document(owner=users[0])
        self.stdout.write(self.style.SUCCESS(f"Demo accounts (password for all: {DEMO_PASSWORD}):"))
        for account in DEMO_ACCOUNTS:
            self.stdout.write(f"  {account.role:<12} {account.email}")
        self.stdout.write(f"Demo document: “{document.title}” (owner {users[0].email})")
