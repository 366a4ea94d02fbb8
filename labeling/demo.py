"""Demo accounts and a demo document for a fresh install (`make run`).

The demo accounts' password is published in the README and one of them is a superuser, so
they are made only on a developer's machine (DJANGO_DEBUG=true, as `make run` sets it) or
when asked for explicitly (`manage.py load_demo --demo-accounts`).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import transaction
from django.utils.translation import gettext as _

from accounts.groups import CONTRIBUTOR, MODERATOR, STAFF
from accounts.models import User
from labeling import synthetic
from labeling.documents import Upload, create_document
from labeling.models import Document, License, Visibility

DEMO_PASSWORD = "ottoman-demo-2026"
DEMO_TITLE = "Demo: a page of Ottoman prose"
DEMO_POOL_TITLE = "Demo: a pool page for everyone to label"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    is_staff: bool


DEMO_ACCOUNTS = (
    DemoAccount("contributor@example.org", CONTRIBUTOR, False),
    DemoAccount("moderator@example.org", MODERATOR, True),
    DemoAccount("staff@example.org", STAFF, True),
)


class DemoRefused(Exception):
    """No demo data was made; the message says why and how to make it anyway."""


@dataclass(frozen=True)
class Demo:
    accounts: list[User]
    document: Document  # private, owned by the contributor
    pool: Document  # in the pool, owned by the staff account


def load_demo(*, explicitly: bool = False) -> Demo:
    """Create (or reset) the demo accounts and their two documents.

    Raises DemoRefused, changing nothing, unless DEBUG is on or `explicitly` is true: on a
    real site the published password would open a superuser account to anyone.
    """
    if not (settings.DEBUG or explicitly):
        raise DemoRefused(
            _(
                "No demo accounts or documents were made: DJANGO_DEBUG is off, and the demo "
                "accounts (a superuser among them) have the password published in the README. "
                "On a machine nobody else can reach, make them with: "
                "%(command)s"
            )
            % {"command": "manage.py load_demo --demo-accounts"}
        )
    users = ensure_demo_accounts()
    document = ensure_demo_document(owner=users[0])
    pool = ensure_demo_document(
        owner=users[2],
        title=DEMO_POOL_TITLE,
        lines=synthetic.SAMPLE_LINES[::-1],
        visibility=Visibility.POOL,
    )
    return Demo(accounts=users, document=document, pool=pool)


@transaction.atomic
def ensure_demo_accounts() -> list[User]:
    """Create (or reset) the demo people with verified addresses and their roles."""
    users = []
    for account in DEMO_ACCOUNTS:
        user, _ = User.objects.get_or_create(email=account.email)
        user.is_staff = account.is_staff
        user.is_superuser = account.role == STAFF
        user.set_password(DEMO_PASSWORD)
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=account.email, defaults={"verified": True, "primary": True}
        )
        roles = {CONTRIBUTOR, account.role}
        user.groups.add(*[Group.objects.get_or_create(name=role)[0] for role in roles])
        users.append(user)
    return users


def ensure_demo_document(
    *,
    owner: User,
    title: str = DEMO_TITLE,
    lines: Sequence[str] = synthetic.SAMPLE_LINES,
    visibility: str = Visibility.PRIVATE,
) -> Document:
    """A page rendered from Ottoman text with a Debian font, read by Tesseract like any upload."""
    existing = Document.objects.filter(owner=owner, title=title).first()
    if existing:
        return existing
    buffer = io.BytesIO()
    synthetic.render_page(lines).save(buffer, "PNG")
    result = create_document(
        owner=owner,
        title=title,
        visibility=visibility,
        license=License.CC0 if visibility == Visibility.POOL else License.NONE,
        uploads=[Upload.from_bytes(buffer.getvalue(), name="demo-page.png")],
    )
    if result.document is None:  # the same page is already in another of the owner's documents
        where = result.duplicates[0][1]
        return where if isinstance(where, Document) else where.document
    return result.document
