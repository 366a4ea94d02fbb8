"""What every admin page over documents' rows shares: scoping by role (`for_moderation`), the
log of superusers' views of private rows, read-only records."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from accounts.models import User
from labeling.models import Document, DocumentRowQuerySet, Visibility
from labeling.review.moderation import note_private_access


def person(request: HttpRequest) -> User:
    assert isinstance(request.user, User)  # the admin lets only signed-in staff in
    return request.user


def for_moderation(rows: QuerySet[Any], request: HttpRequest) -> QuerySet[Any]:
    assert isinstance(rows, DocumentRowQuerySet)
    return rows.for_moderation(person(request))


def can_moderate(request: HttpRequest) -> bool:
    return bool(request.user.has_perm("labeling.moderate_line"))


class DocumentRowAdmin(admin.ModelAdmin):
    """Rows of documents: moderators get those of pool documents, superusers every row, and a
    superuser's opening of someone else's private row (change, delete, history) is logged."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return for_moderation(super().get_queryset(request), request)

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> Model | None:
        row = super().get_object(request, object_id, from_field)
        if row is not None:
            rows = self.model._default_manager.all()
            assert isinstance(rows, DocumentRowQuerySet)
            note_private_access(
                user=person(request), rows=rows, pk=row.pk, path=request.get_full_path()
            )
        return row


class DocumentRowInline(admin.TabularInline):
    """Read-only rows of documents shown inside another row's page, scoped the same way."""

    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return for_moderation(super().get_queryset(request), request)

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False


def shown(text: str, document: Document) -> str:
    """Text of a row for a list: a private document's text is shown only on its own page,
    where opening it is logged."""
    return text if document.visibility == Visibility.POOL else _("(private)")


class RecordAdmin(admin.ModelAdmin):
    """A record: shown, never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
