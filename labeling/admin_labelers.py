"""Labelers as moderators see them: a page per person (labels, agreement with the consensus,
overturned labels, gold accuracy, time per line) and the ban that stops their labels
counting (`labeling.review.moderation.ban_labeler`, `lift_ban`).

Only labels on pool documents are counted or shown: a moderator never sees what someone
typed in their own private document.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import (
    Avg,
    Count,
    Exists,
    F,
    FloatField,
    IntegerField,
    JSONField,
    Model,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, JSONObject
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import User
from labeling.admin_base import BigListAdmin, RecordAdmin, can_moderate, person
from labeling.models import Labeler, LabelerBan, Page, Transcription, Visibility
from labeling.review.moderation import ModerationRefused, ban_labeler, lift_ban
from labeling.review.stats import labeler_history

RECENT_LABELS = 50


# A label on a pool document's line. `in_pool` (on the line) says so for every pool document
# but a withdrawn one, whose lines left the queue: only for the other lines is the document
# looked up, so that a person's labels are not each joined with their page and document.
_ON_POOL_LINE = Q(line__in_pool=True) | Exists(
    Page.objects.filter(pk=OuterRef("line__page_id"), document__visibility=Visibility.POOL)
)


class BanForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text=gettext_lazy(
            "Recorded with the ban. Their labels stop counting; lines that agreed through them "
            "go back for labels."
        ),
    )


class BannedFilter(admin.SimpleListFilter):
    title = gettext_lazy("banned")
    parameter_name = "banned"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", _("Banned")), ("no", _("Not banned"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        if self.value() == "yes":
            return queryset.filter(is_banned=True)
        if self.value() == "no":
            return queryset.filter(is_banned=False)
        return queryset


@admin.register(Labeler)
class LabelerAdmin(BigListAdmin):
    list_display = (
        "__str__",
        "email",
        "pool_labels",
        "gold_accuracy",
        "mean_seconds",
        "banned",
    )
    list_filter = (BannedFilter,)
    search_fields = ("email", "display_name")
    change_form_template = "admin/labeling/labeler/change_form.html"
    fields = ("email", "display_name", "date_joined", "last_login")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        """People who labelled pool lines or were banned, with their figures for the list.

        The figures are subqueries, computed for the rows of the page only; a join with every
        label, grouped by person, added up 300,000 labels before a page could be cut."""
        bans = LabelerBan.objects.filter(user=OuterRef("pk"))
        labels = Transcription.objects.filter(_ON_POOL_LINE, user=OuterRef("pk")).order_by()
        # Both figures from one pass over the person's labels.
        figures = labels.values("user").annotate(
            figures=JSONObject(n=Count("pk"), seconds=Avg("seconds_spent"))
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                figures=Subquery(figures.values("figures"), output_field=JSONField()),
                is_banned=Exists(bans.filter(lifted_at__isnull=True)),
                gold_seen=F("gold_score__seen"),
                gold_correct=F("gold_score__correct"),
            )
            .filter(Exists(labels) | Exists(bans))
        )

    @admin.display(
        description=gettext_lazy("pool labels"),
        ordering=Cast(KT("figures__n"), IntegerField()),
    )
    def pool_labels(self, labeler: Any) -> int:
        return int((labeler.figures or {}).get("n", 0))

    @admin.display(description=gettext_lazy("gold accuracy"))
    def gold_accuracy(self, labeler: Any) -> str:
        if not labeler.gold_seen:
            return "—"
        return f"{labeler.gold_correct / labeler.gold_seen:.0%} ({labeler.gold_seen})"

    @admin.display(
        description=gettext_lazy("seconds per line (mean)"),
        ordering=Cast(KT("figures__seconds"), FloatField()),
    )
    def mean_seconds(self, labeler: Any) -> str:
        seconds = (labeler.figures or {}).get("seconds")
        return "—" if seconds is None else f"{seconds:.1f}"

    @admin.display(description=gettext_lazy("banned"), boolean=True, ordering="is_banned")
    def banned(self, labeler: Any) -> bool:
        return bool(labeler.is_banned)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        wrap = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/ban/",
                wrap(require_POST(self.ban_view)),
                name="labeling_labeler_ban",
            ),
            path(
                "<path:object_id>/lift/",
                wrap(require_POST(self.lift_view)),
                name="labeling_labeler_lift",
            ),
            *super().get_urls(),
        ]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        context = dict(extra_context or {})
        labeler = self.get_queryset(request).filter(pk=object_id).first()
        if labeler is not None:
            context.update(self._page(request, labeler))
        return super().change_view(request, object_id, form_url, context)

    def _page(
        self, request: HttpRequest, labeler: User, form: BanForm | None = None
    ) -> dict[str, Any]:
        recent = (
            Transcription.objects.filter(
                user=labeler, line__page__document__visibility=Visibility.POOL
            )
            .select_related("line__page__document")
            .order_by("-created_at", "-pk")[:RECENT_LABELS]
        )
        bans = LabelerBan.objects.filter(user=labeler).select_related("banned_by", "lifted_by")
        return {
            "labeler": labeler,
            "history": labeler_history(user=labeler),
            "recent": recent,
            "bans": bans,
            "active_ban": next((b for b in bans if b.is_active), None),
            "ban_form": form or BanForm(),
            "can_moderate": can_moderate(request),
        }

    def _labeler(self, request: HttpRequest, object_id: str) -> User:
        if not can_moderate(request):
            raise PermissionDenied
        return get_object_or_404(User.objects.all(), pk=object_id)

    def _page_url(self, labeler: User) -> str:
        return reverse("admin:labeling_labeler_change", args=[labeler.pk])

    def ban_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        labeler = self._labeler(request, object_id)
        form = BanForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        try:
            ban = ban_labeler(user=labeler, moderator=person(request), reason=reason)
        except ModerationRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(self._page_url(labeler))
        self.message_user(
            request,
            _(
                "%(person)s is banned: their labels no longer count and the queue hands them "
                "nothing. Lines whose status changed: %(lines)d."
            )
            % {"person": labeler, "lines": ban.lines_reopened},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._page_url(labeler))

    def lift_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        labeler = self._labeler(request, object_id)
        ban = LabelerBan.objects.active().filter(user=labeler).first()
        try:
            if ban is None:
                raise ModerationRefused(_("%(person)s is not banned.") % {"person": labeler})
            lift_ban(ban=ban, moderator=person(request))
        except ModerationRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(self._page_url(labeler))
        self.message_user(
            request,
            _(
                "%(person)s may label again. Their labels from now on count; those from before "
                "the ban stay uncounted."
            )
            % {"person": labeler},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._page_url(labeler))


@admin.register(LabelerBan)
class LabelerBanAdmin(RecordAdmin):
    list_display = (
        "created_at",
        "user",
        "banned_by",
        "reason",
        "lines_reopened",
        "lifted_at",
        "lifted_by",
    )
    list_filter = ("lifted_at",)
    search_fields = ("user__email", "banned_by__email", "reason")
    list_select_related = ("user", "banned_by", "lifted_by")
