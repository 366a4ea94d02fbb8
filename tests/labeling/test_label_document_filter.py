"""The label page's document filter (?document=<id>) is read safely from the address."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Line

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", ["²", "٣", "1²", "", "abc", "-1", "9" * 5000])
def test_an_id_that_is_not_plain_digits_is_ignored_not_an_error(
    value: str,
    user: User,
    client_for: Callable[[User], Client],
    pool_lines: Callable[..., list[Line]],
) -> None:
    (line,) = pool_lines((10.0,))
    response = client_for(user).get(reverse("labeling:label_next"), {"document": value})
    assert response.status_code == 302  # the whole pool, as without a filter
    assert response["Location"] == reverse("labeling:label", args=[line.assignments.get().pk])


def test_a_document_that_is_not_in_the_pool_is_404(
    user: User,
    client_for: Callable[[User], Client],
    read_document: Callable[..., object],
    pool_lines: Callable[..., list[Line]],
) -> None:
    pool_lines((10.0,))
    private = read_document()
    client = client_for(user)
    for value in (str(private.pk), "999999"):  # type: ignore[attr-defined]
        response = client.get(reverse("labeling:label_next"), {"document": value})
        assert response.status_code == 404


def test_the_lease_page_ignores_a_unicode_digit_too(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    client = client_for(user)
    url = client.get(reverse("labeling:label_next"))["Location"]
    assert client.get(url, {"document": "²"}).status_code == 200
