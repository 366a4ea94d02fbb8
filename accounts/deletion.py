"""Deleting an account: what was only the person's goes, what others rely on stays, anonymous.

- Their labels stay, moved to a tombstone: an inactive user with an unusable password and the
  address `deleted-<id>@invalid`, one per deleted account, so agreement on lines they
  labelled still counts distinct people and the one-label-per-person rule still holds.
- Everything else that points at them and is part of the shared record (moderation decisions
  they took, gold scores, pool documents, releases, box edits, access logs, and whatever
  reference a later model adds) is moved to the tombstone too: every relation to User is
  reassigned unless listed below as personal, so no PROTECT relation can block the deletion
  and nothing shared is lost by a cascade nobody thought of.
- Personal things go: their API tokens (a key must never act for the tombstone), their
  private documents (through `documents.delete_document`, files after the commit), their
  data exports (files after the commit), their e-mail addresses, the mail waiting for them,
  their open leases on lines. A private document another person
  has labelled cannot be deleted that way; it stays with the tombstone, like a pool document.
- Then the user row is deleted (its sessions no longer find a user: every one of them ends).
"""

from __future__ import annotations

import logging
from email.utils import parseaddr

from allauth.account.models import EmailAddress
from django.db import models, transaction
from django.db.models.functions import Cast

from accounts.models import DataExport, DocumentReadNotice, User
from api.models import ApiToken
from labeling import files
from labeling.documents import DeletionRefused, delete_document
from labeling.models import (
    Assignment,
    AssignmentState,
    Document,
    MailStatus,
    OutgoingEmail,
    Visibility,
)

logger = logging.getLogger(__name__)

# Relations to User whose rows are the person's alone: deleted (by the code below or by the
# cascade), never moved to the tombstone.
PERSONAL = {EmailAddress, DataExport, ApiToken}


def tombstone_email(user_id: int) -> str:
    return f"deleted-{user_id}@invalid"


def is_confirmation(*, user: User, typed: str) -> bool:
    """Whether the person typed their own address (as the confirm page asks)."""
    return typed.strip().casefold() == user.email.casefold()


@transaction.atomic
def delete_account(*, user: User) -> User:
    """Delete the account as described above; returns the tombstone that keeps their labels."""
    user = User.objects.select_for_update().get(pk=user.pk)
    tombstone = User.objects.create_user(
        email=tombstone_email(user.pk), password=None, is_active=False
    )
    tombstone.set_unusable_password()
    tombstone.save(update_fields=["password"])

    for document in list(Document.objects.filter(owner=user, visibility=Visibility.PRIVATE)):
        try:
            delete_document(document=document)
        except DeletionRefused:
            logger.info(
                "Private document %s stays with the tombstone: others labelled it", document.pk
            )

    exports = DataExport.objects.filter(user=user)
    files.delete_on_commit([name for name in exports.values_list("file", flat=True) if name])
    exports.delete()
    _forget_mail(user)
    ApiToken.objects.filter(user=user).delete()
    Assignment.objects.filter(user=user, state=AssignmentState.ACTIVE).delete()

    for relation in User._meta.related_objects:
        if relation.many_to_many or relation.related_model in PERSONAL:
            continue
        model = relation.related_model
        name = relation.field.name
        model._base_manager.filter(**{name: user}).update(**{name: tombstone})
    # The notices of documents that stay need no change; the others went with them.
    DocumentReadNotice.objects.filter(document__owner=tombstone).update(sent_to="")

    user.delete()
    return tombstone


def _forget_mail(user: User) -> None:
    """Delete the outbox rows addressed to the person (sent ones too: they hold the address
    and what was said to them); a row being sent right now finishes first."""
    addresses = {
        user.email,
        *EmailAddress.objects.filter(user=user).values_list("email", flat=True),
    }
    rows = OutgoingEmail.objects.annotate(recipients=Cast("to", models.TextField())).exclude(
        status=MailStatus.RUNNING
    )
    doomed: set[int] = set()
    for address in addresses:
        for pk, to in rows.filter(recipients__icontains=address).values_list("pk", "to"):
            if any(parseaddr(str(each))[1].casefold() == address.casefold() for each in to):
                doomed.add(pk)
    OutgoingEmail.objects.filter(pk__in=doomed).delete()
