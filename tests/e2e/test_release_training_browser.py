"""Staff close the loop in Debian's Chromium: a release of imported pairs from the admin, a
training run on it from the float start model, its page with curve and evaluation, and the
result made the model that reads new pages.

Tasks run eagerly in the live server (the test settings), so each build runs in the request
that asks for it. Real lstmtraining; skipped without the shared float start model.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pytest_django import Settings
from pytest_django.live_server_helper import LiveServer

from accounts.models import User
from labeling.models import DatasetRelease, OcrModel, ReleaseStatus, TrainingRun, TrainingStatus
from tests.e2e.test_labeling_browser import sign_in
from tests.labeling.training_support import fas_model, import_documents, split_seed, tiny_lines

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("needs_tesseract")]

TRAINING_MS = 120_000  # the request that starts the run trains it (eager tasks)


def test_staff_release_pairs_train_a_model_and_make_it_the_default(
    live_server: LiveServer,
    open_page: Callable[..., Page],
    make_user: Callable[..., User],
    settings: Settings,
    tmp_path: Path,
    screenshot: Callable[[Page, str], None],
) -> None:
    settings.TRAINING_DIR = tmp_path / "training"
    staff = make_user("staff@example.org")
    staff.is_staff = staff.is_superuser = True
    staff.save()
    start = fas_model()
    _documents, wanted = import_documents(owner=staff, lines=tiny_lines())
    share, seed = split_seed(wanted)

    page = open_page(1280, 900)
    sign_in(page, live_server.url, staff.email)

    page.goto(f"{live_server.url}/admin/labeling/datasetrelease/add/")
    page.fill("input[name=eval_share]", str(share))
    page.fill("input[name=seed]", str(seed))
    page.get_by_role("button", name="Save", exact=True).click()
    release = DatasetRelease.objects.get()
    assert release.status == ReleaseStatus.DONE, release.error
    page.goto(f"{live_server.url}/admin/labeling/datasetrelease/{release.pk}/change/")
    expect(page.get_by_role("link", name=f"release-{release.number}.zip")).to_be_visible()
    expect(page.get_by_text("20 lines from 3 documents (16 train, 4 eval)")).to_be_visible()
    screenshot(page, "release")

    page.goto(f"{live_server.url}/admin/labeling/trainingrun/add/")
    page.select_option("select[name=release]", str(release.pk))
    page.select_option("select[name=start_model]", str(start.pk))
    page.fill("input[name=max_iterations]", "60")
    page.fill("input[name=max_minutes]", "5")
    page.get_by_role("button", name="Start training").click(timeout=TRAINING_MS)
    page.wait_for_url(re.compile(r"/admin/labeling/trainingrun/\d+/change/"), timeout=TRAINING_MS)
    run = TrainingRun.objects.get()
    assert run.status == TrainingStatus.DONE, run.error or run.log_tail
    expect(page.get_by_text("Trained", exact=True).first).to_be_visible()

    curve = page.get_by_role("img", name="Training error against iterations")
    expect(curve).to_be_visible()
    assert curve.evaluate("img => img.complete && img.naturalWidth > 0"), "no curve picture"
    expect(page.get_by_text(start.name).first).to_be_visible()
    assert run.result is not None
    expect(page.get_by_text(run.result.name).first).to_be_visible()
    screenshot(page, "training-run")

    page.get_by_role("button", name="Make the result the default model").click()
    page.wait_for_url(re.compile(r"/admin/labeling/trainingrun/\d+/change/"))
    default = OcrModel.default()
    assert default is not None and default.pk == run.result.pk
