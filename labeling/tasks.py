"""Celery tasks: take ids, return quietly when the row is gone, safe to run twice.

Each only fetches and calls a domain function; the rows they work on carry their own job
state (`labeling.jobs`), which the periodic `sweep` uses to recover lost work.
"""

from celery import shared_task

from accounts import exports
from labeling import (
    dashboards,
    digests,
    documents,
    mail,
    reading,
    recovery,
    releases,
    reports,
    training,
)


@shared_task(acks_late=True)
def ocr_page(page_id: int) -> None:
    reading.read_page(page_id=page_id)


@shared_task(acks_late=True)
def split_source(source_id: int) -> None:
    documents.split_source(source_id=source_id)


@shared_task(acks_late=True)
def send_email(email_id: int) -> None:
    mail.send_queued(email_id=email_id)


@shared_task(acks_late=True)
def build_release(release_id: int) -> None:
    releases.build_release(release_id=release_id)


@shared_task(acks_late=True)
def train_model(run_id: int) -> None:
    training.train(run_id=run_id)


@shared_task(acks_late=True)
def build_data_export(export_id: int) -> None:
    exports.build_export(export_id=export_id)


@shared_task
def sweep() -> None:
    recovery.sweep_everything()


@shared_task
def send_digests() -> None:
    digests.send_digests()


@shared_task
def record_status_counts() -> None:
    dashboards.record_status_counts()


@shared_task
def refresh_reports() -> None:
    for name in reports.REPORTS:
        reports.refresh(name)
