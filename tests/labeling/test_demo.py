"""`make run`'s demo data: three accounts that can sign in, a private and a pool document."""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client

from accounts.models import User
from labeling.demo import DEMO_PASSWORD
from labeling.models import Document, OcrStatus

pytestmark = pytest.mark.django_db


def test_load_demo_creates_accounts_and_documents_and_can_run_again(
    needs_tesseract: None,
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", stdout=out)
    printed = out.getvalue()
    for email in ("contributor@example.org", "moderator@example.org", "staff@example.org"):
        assert email in printed
        user = User.objects.get(email=email)
        assert user.emailaddress_set.get().verified  # type: ignore[attr-defined]
        client = Client()
        response = client.post("/accounts/login/", {"login": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302 and "/accounts/" not in response["Location"]
    assert User.objects.get(email="moderator@example.org").has_perm("labeling.moderate_line")
    private = Document.objects.get(owner__email="contributor@example.org")
    pool = Document.objects.get(owner__email="staff@example.org")
    assert private.visibility == "private" and pool.visibility == "pool"
    page = private.pages.get()
    assert page.ocr_status == OcrStatus.DONE and page.lines.count() >= 10
    assert pool.pages.get().lines.filter(in_pool=True).exists()

    call_command("load_demo", stdout=StringIO())
    assert Document.objects.count() == 2
    assert User.objects.count() == 3
