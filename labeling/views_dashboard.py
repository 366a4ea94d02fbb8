"""Dashboards: a contributor's own work, and the site's (staff only), as server-drawn charts."""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from labeling import plots, reports
from labeling.dashboards import (
    LABEL_BUCKETS,
    ContributorFigures,
    Share,
    StaffFigures,
    contributor_figures,
)
from labeling.models import LineStatus
from labeling.views import AuthedRequest


def _day_labels(days: tuple[date, ...]) -> list[str]:
    return [date_format(day, "j M") for day in days]


def _shares(shares: tuple[Share, ...]) -> tuple[float | None, ...]:
    return tuple(share.share for share in shares)


def contributor_charts(figures: ContributorFigures) -> list[plots.Chart]:
    days = _day_labels(figures.days)
    return [
        plots.bar_chart(
            title=_("Lines labelled per day"),
            description=_("Lines you labelled each day over the last 30 days."),
            labels=days,
            series=[plots.Series(_("Lines labelled"), tuple(figures.labelled))],
        ),
        plots.line_chart(
            title=_("Agreement with the consensus"),
            description=_(
                "Of your labels on pool lines settled since, the share that agrees with the "
                "consensus, by the day you gave them; no point on days without such labels."
            ),
            labels=days,
            series=[plots.Series(_("Agreeing"), _shares(figures.agreement))],
            fmt=plots.percent,
            top=1.0,
        ),
        plots.line_chart(
            title=_("Gold accuracy"),
            description=_(
                "Of your answers on test (gold) lines each day, the share that was right."
            ),
            labels=days,
            series=[plots.Series(_("Right"), _shares(figures.gold))],
            fmt=plots.percent,
            top=1.0,
        ),
    ]


def staff_charts(figures: StaffFigures) -> list[plots.Chart]:
    days = _day_labels(figures.days)
    decided = figures.decided
    buckets = [str(n) for n in range(LABEL_BUCKETS)] + [f"{LABEL_BUCKETS}+"]
    charts = [
        plots.bar_chart(
            title=_("Pool lines by status"),
            description=_("How many lines of pool documents are in each status now."),
            labels=[str(LineStatus(status).label) for status, _n in figures.by_status],
            series=[plots.Series(_("Lines"), tuple(n for _s, n in figures.by_status))],
        ),
        plots.line_chart(
            title=_("Lines by status"),
            description=_(
                "Pool lines in each status at the end of each day, today's at the time above. "
                "Days before the first daily count was recorded (or when none was) are gaps, "
                "not zeros."
            ),
            labels=days,
            series=[
                plots.Series(str(LineStatus(status).label), values)
                for status, values in figures.status_history.items()
            ],
        ),
        plots.line_chart(
            title=_("Lines decided per day"),
            description=_(
                "Moderators' and automatic decisions on pool lines each day: approved, rejected, "
                "and sent back for labels (reopened, box changed, labeler banned)."
            ),
            labels=days,
            series=[
                plots.Series(_("Approved"), tuple(decided["approved"])),
                plots.Series(_("Rejected"), tuple(decided["rejected"])),
                plots.Series(_("Back for labels"), tuple(decided["reopened"])),
            ],
        ),
        plots.bar_chart(
            title=_("Labels per day"),
            description=_("Labels given on pool lines each day."),
            labels=days,
            series=[plots.Series(_("Labels"), tuple(figures.labelled))],
        ),
        plots.bar_chart(
            title=_("Queue depth by document"),
            description=_("Open pool lines of the ten documents with the most."),
            labels=[title for title, _n in figures.queue.by_document],
            series=[plots.Series(_("Open lines"), tuple(n for _t, n in figures.queue.by_document))],
        ),
        plots.bar_chart(
            title=_("Labels per approved line"),
            description=_("Approved pool lines by the number of labels they had."),
            labels=buckets,
            series=[plots.Series(_("Approved lines"), tuple(figures.labels_per_approved))],
        ),
    ]
    if figures.training:
        charts.append(
            plots.bar_chart(
                title=_("CER per model"),
                description=_(
                    "Normalized character error rate of each training run's start model and "
                    "its result, on the run's evaluation lines."
                ),
                labels=[
                    _("Run %(run)s: %(model)s") % {"run": f.run, "model": f.result_model}
                    for f in figures.training
                ],
                series=[
                    plots.Series(_("Start model"), tuple(f.start_cer for f in figures.training)),
                    plots.Series(_("Result"), tuple(f.result_cer for f in figures.training)),
                ],
                fmt=plots.percent,
            )
        )
    return charts


@login_required
@require_GET
def dashboard(request: AuthedRequest) -> HttpResponse:
    figures = contributor_figures(user=request.user)
    return render(
        request,
        "labeling/dashboard.html",
        {"figures": figures, "charts": contributor_charts(figures)},
    )


@login_required
@require_GET
def staff_dashboard(request: AuthedRequest) -> HttpResponse:
    if not (request.user.is_active and request.user.is_staff):
        raise PermissionDenied
    report = reports.staff_snapshot()
    return render(
        request,
        "labeling/staff_dashboard.html",
        {
            "figures": report.value,
            "charts": staff_charts(report.value),
            "as_of": report.at,
            "refresh_minutes": settings.REPORT_REFRESH_SECONDS // 60,
        },
    )
