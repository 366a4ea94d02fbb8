"""Demo accounts and a demo document for a fresh install (`make run`)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.db import transaction

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
