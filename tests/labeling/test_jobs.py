"""Job state on the rows: who holds a page, what the sweep hands back, when owners see Retry."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError

from accounts.models import User
from labeling import jobs
from labeling.models import Document, OcrStatus, Page

pytestmark = pytest.mark.django_db


class FakeTask:
    """Records what would have gone to the broker; `down` makes it refuse like a dead broker."""

    name = "fake"

    def __init__(self) -> None:
        self.sent: list[int] = []
        self.down = False

    def apply_async(self, args: tuple[int], **options: Any) -> None:
        if self.down:
            raise OperationalError("Error 111 connecting. Connection refused.")
        self.sent.append(args[0])


@pytest.fixture
def page(read_document: Callable[..., Document]) -> Page:
    page = read_document().pages.get()
    Page.objects.filter(pk=page.pk).update(ocr_status=OcrStatus.QUEUED)
    page.refresh_from_db()
    return page


def ago(seconds: float) -> Any:
    return timezone.now() - timedelta(seconds=seconds)


def test_one_run_holds_a_page_and_a_second_claim_gets_nothing(page: Page) -> None:
    lease = jobs.claim(Page, page.pk)
    assert lease is not None
    assert jobs.claim(Page, page.pk) is None  # a duplicate message while it runs
    assert jobs.finish(Page, page.pk, lease)
    assert jobs.claim(Page, page.pk) is None  # and once it is done


def test_a_run_whose_heartbeat_stopped_is_taken_over_and_may_no_longer_write(
    page: Page, settings: Any
) -> None:
    first = jobs.claim(Page, page.pk)
    assert first is not None
    Page.objects.filter(pk=page.pk).update(heartbeat_at=ago(settings.JOB_STALE_SECONDS + 1))
    second = jobs.claim(Page, page.pk)
    assert second is not None and second != first
    assert Page.objects.get(pk=page.pk).lost_runs == 1
    assert not jobs.finish(Page, page.pk, first)  # the late run changes nothing
    assert not jobs.beat(Page, page.pk, first)
    assert jobs.finish(Page, page.pk, second)


def test_the_sweep_gives_back_lost_runs_and_fails_a_page_that_keeps_killing_workers(
    read_document: Callable[..., Document], settings: Any
) -> None:
    pages = list(read_document(predictions=("بر",)).pages.all()) + list(
        read_document(predictions=("ایکی",)).pages.all()
    )
    stale = ago(settings.JOB_STALE_SECONDS + 1)
    # The first page's run is its first lost one (after many tries while storage was away);
    # the second page's would be its third.
    Page.objects.filter(pk=pages[0].pk).update(
        ocr_status=OcrStatus.RUNNING, heartbeat_at=stale, attempts=12, lost_runs=0
    )
    Page.objects.filter(pk=pages[1].pk).update(
        ocr_status=OcrStatus.RUNNING,
        heartbeat_at=stale,
        attempts=3,
        lost_runs=settings.JOB_MAX_ATTEMPTS - 1,
    )
    task = FakeTask()
    swept = jobs.sweep(Page, task, queue="ocr")
    assert (swept.returned, swept.failed, swept.sent) == (1, 1, 1)
    assert task.sent == [pages[0].pk]
    first, second = (Page.objects.get(pk=p.pk) for p in pages)
    assert first.ocr_status == OcrStatus.QUEUED and first.enqueued_at is not None
    assert first.lost_runs == 1
    assert second.ocr_status == OcrStatus.FAILED
    assert "stopped 3 times" in second.ocr_error


def test_a_live_run_is_left_alone_by_the_sweep(page: Page) -> None:
    assert jobs.claim(Page, page.pk) is not None
    task = FakeTask()
    assert jobs.sweep(Page, task, queue="ocr") == jobs.Swept(0, 0, 0)
    assert Page.objects.get(pk=page.pk).ocr_status == OcrStatus.RUNNING


def test_work_never_handed_over_is_sent_after_the_grace_period_and_not_before(
    page: Page, settings: Any
) -> None:
    task = FakeTask()
    assert jobs.sweep(Page, task, queue="ocr").sent == 0  # just queued: its own send may come
    Page.objects.filter(pk=page.pk).update(queued_at=ago(settings.JOB_SEND_GRACE_SECONDS + 1))
    assert jobs.sweep(Page, task, queue="ocr").sent == 1
    assert task.sent == [page.pk]
    assert jobs.sweep(Page, task, queue="ocr").sent == 0  # handed over now: not again


def test_a_broker_that_is_down_leaves_the_work_waiting(page: Page, settings: Any) -> None:
    Page.objects.filter(pk=page.pk).update(queued_at=ago(settings.JOB_SEND_GRACE_SECONDS + 1))
    task = FakeTask()
    task.down = True
    assert jobs.send(task, Page, [page.pk]) == 0
    assert Page.objects.get(pk=page.pk).enqueued_at is None
    task.down = False
    assert jobs.sweep(Page, task, queue="ocr").sent == 1


def test_work_the_broker_lost_is_sent_again_only_while_its_queue_is_empty(
    page: Page, settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    Page.objects.filter(pk=page.pk).update(enqueued_at=ago(settings.JOB_RESEND_SECONDS + 1))
    task = FakeTask()
    monkeypatch.setattr(jobs, "queue_is_empty", lambda queue: False)
    assert jobs.sweep(Page, task, queue="ocr").sent == 0  # waiting its turn behind others
    monkeypatch.setattr(jobs, "queue_is_empty", lambda queue: True)
    assert jobs.sweep(Page, task, queue="ocr").sent == 1


def test_an_owner_sees_retry_only_for_failed_or_stuck_pages(
    page: Page, user: User, client_for: Callable[[User], Client], settings: Any
) -> None:
    client = client_for(user)
    document_url = reverse("labeling:document", args=[page.document_id])
    retry_url = reverse("labeling:page_retry", args=[page.pk])
    assert retry_url not in client.get(document_url).content.decode()  # queued a moment ago

    lease = jobs.claim(Page, page.pk)
    assert lease is not None
    assert retry_url not in client.get(document_url).content.decode()  # being read
    client.post(retry_url)
    assert Page.objects.get(pk=page.pk).lease == lease  # a live run is not disturbed

    Page.objects.filter(pk=page.pk).update(heartbeat_at=ago(settings.JOB_STALE_SECONDS + 1))
    assert retry_url in client.get(document_url).content.decode()
    client.post(retry_url)
    retried = Page.objects.get(pk=page.pk)
    assert (retried.ocr_status, retried.lease, retried.attempts) == (OcrStatus.QUEUED, None, 0)

    Page.objects.filter(pk=page.pk).update(queued_at=ago(settings.JOB_RETRY_AFTER_SECONDS + 1))
    assert retry_url in client.get(document_url).content.decode()


def test_every_task_ends_before_the_redis_broker_would_hand_it_to_another_worker(
    settings: Any,
) -> None:
    from ottoman_ocr.celery import app

    limit = app.conf.task_time_limit
    assert limit >= settings.OCR_TIMEOUT_SECONDS
    assert app.conf.broker_transport_options["visibility_timeout"] > limit
    assert app.conf.task_soft_time_limit < limit


def test_a_workers_own_trouble_makes_the_page_wait_longer_each_time_then_fail(
    page: Page, settings: Any
) -> None:
    error = OSError(28, "No space left on device")
    lease = jobs.claim(Page, page.pk)
    assert lease is not None
    assert jobs.retry_later(Page, page.pk, lease, error)
    waiting = Page.objects.get(pk=page.pk)
    assert waiting.ocr_status == OcrStatus.QUEUED
    assert "No space left on device" in waiting.ocr_error
    assert waiting.not_before is not None and waiting.not_before > timezone.now()
    assert jobs.claim(Page, page.pk) is None  # not before the pause is over

    Page.objects.filter(pk=page.pk).update(not_before=None, attempts=jobs.TRANSIENT_TRIES - 1)
    lease = jobs.claim(Page, page.pk)
    assert lease is not None
    jobs.retry_later(Page, page.pk, lease, error)
    given_up = Page.objects.get(pk=page.pk)
    assert given_up.ocr_status == OcrStatus.FAILED
    assert "Gave up after" in given_up.ocr_error
