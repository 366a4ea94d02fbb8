"""`make run`'s demo data: three accounts that can sign in, a private and a pool document.

Their password is published in the README, so they are made only with DEBUG on (as `make run`
sets it) or when asked for with --demo-accounts; otherwise nothing changes and the command
says why, without failing (the site needs no demo data to start).
"""

from io import StringIO

import pytest
from django.core.management import call_command
from django.test import Client
from pytest_django import Settings

from accounts.models import User
from labeling.demo import DEMO_PASSWORD
from labeling.models import Document, OcrStatus

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("debug", "args"), [(True, []), (False, ["--demo-accounts"])], ids=["debug", "flag"]
)
def test_load_demo_creates_accounts_and_documents_and_can_run_again(
    needs_tesseract: None,
    settings: Settings,
    debug: bool,
    args: list[str],
    django_capture_on_commit_callbacks,  # type: ignore[no-untyped-def]
) -> None:
    settings.DEBUG = debug
    out = StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", *args, stdout=out)
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

    call_command("load_demo", *args, stdout=StringIO())
    assert Document.objects.count() == 2
    assert User.objects.count() == 3


def test_with_debug_off_it_makes_no_demo_account_and_says_why(settings: Settings) -> None:
    settings.DEBUG = False
    out, err = StringIO(), StringIO()
    call_command("load_demo", stdout=out, stderr=err)  # returns: `make run` goes on
    assert not User.objects.exists()
    assert not Document.objects.exists()
    assert out.getvalue() == ""
    assert "DJANGO_DEBUG is off" in err.getvalue()
    assert "manage.py load_demo --demo-accounts" in err.getvalue()
    assert DEMO_PASSWORD not in err.getvalue()


def test_with_debug_off_it_leaves_an_existing_superuser_alone(settings: Settings) -> None:
    settings.DEBUG = False
    staff = User.objects.create_superuser(email="staff@example.org", password="the real one 2026")
    call_command("load_demo", stdout=StringIO(), stderr=StringIO())
    staff.refresh_from_db()
    assert staff.check_password("the real one 2026")
    assert not staff.check_password(DEMO_PASSWORD)
    response = Client().post(
        "/accounts/login/", {"login": "staff@example.org", "password": DEMO_PASSWORD}
    )
    assert "_auth_user_id" not in response.client.session
