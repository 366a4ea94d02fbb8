"""What every admin page over documents' rows shares: scoping by role (`for_moderation`), the
log of superusers' views of private rows, read-only records, and lists that stay fast at a
million rows (`LargeTablePaginator`, `BigListAdmin`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cached_property
from typing import Any

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import ForeignKey, Model, QuerySet
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


# Rows counted one by one before a list takes an estimate: five pages of the admin's lists.
# Counting them may walk many more rows through joins when few match (a search of the
# moderators' decisions by document title walked 22,000 decisions to find 1,000).
EXACT_COUNT_LIMIT = 500


def capped_count(rows: QuerySet[Any], limit: int = EXACT_COUNT_LIMIT) -> int:
    """How many rows there are, counting at most limit + 1 of them (in no particular order,
    selecting only their keys, so that the count reads no more than that)."""
    return int(rows.order_by().values("pk")[: limit + 1].count())


def planner_estimate(rows: QuerySet[Any]) -> int:
    """PostgreSQL's estimate of how many rows the query returns (EXPLAIN, nothing run)."""
    plan = json.loads(rows.order_by().values("pk").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTablePaginator(Paginator):
    """Counts exactly up to EXACT_COUNT_LIMIT rows; past that, on PostgreSQL, it takes the
    planner's estimate (at least the limit + 1) instead of a COUNT(*) over up to a million
    rows and their joins on every page of a change list. Unfiltered, the estimate comes
    from the table's statistics and is within a few percent; filtered, it may be further off,
    and the last page links may then point past the end (an empty page) or short of it."""

    exact_up_to = EXACT_COUNT_LIMIT

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if not isinstance(rows, QuerySet) or connections[rows.db].vendor != "postgresql":
            return int(super().count)
        counted = capped_count(rows, self.exact_up_to)
        if counted <= self.exact_up_to:
            return counted
        return max(counted, planner_estimate(rows))


def ordered_by_columns(model: type[Model], ordering: Sequence[Any]) -> list[Any]:
    """The ordering with each foreign key ordered by its own column (`page` → `page_id`)
    rather than by the related model's ordering, which sorts every row through joins (a
    line's `page` is its page's document's creation date, then the page number)."""
    columns: list[Any] = []
    for part in ordering:
        if isinstance(part, str):
            name = part.lstrip("-")
            field = next((f for f in model._meta.concrete_fields if f.name == name), None)
            if isinstance(field, ForeignKey):
                part = part[: len(part) - len(name)] + field.attname
        columns.append(part)
    return columns


class BigListAdmin(admin.ModelAdmin):
    """A change list that may hold a million rows: no exact count past a page's worth
    (`LargeTablePaginator`, and no second count of the unfiltered rows), an ordering that
    an index can give, and every foreign key shown in the list fetched with its row."""

    paginator = LargeTablePaginator
    show_full_result_count = False

    def get_ordering(self, request: HttpRequest) -> list[Any]:
        ordering = super().get_ordering(request) or self.model._meta.ordering
        return ordered_by_columns(self.model, ordering)

    def get_list_select_related(self, request: HttpRequest) -> Any:
        """The admin's own list, plus every foreign key the list shows (Django's default
        follows only those that cannot be empty)."""
        chosen = super().get_list_select_related(request)
        if chosen is True:
            return True
        listed = () if chosen is False else tuple(chosen)
        keys = {f.name for f in self.model._meta.concrete_fields if isinstance(f, ForeignKey)}
        shown = [name for name in self.get_list_display(request) if name in keys]
        return (*listed, *(name for name in shown if name not in listed)) or False


class DocumentRowAdmin(BigListAdmin):
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


class RecordAdmin(BigListAdmin):
    """A record: shown, never added, changed or deleted from the admin."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
