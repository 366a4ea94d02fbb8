"""The labeling pages: next line, send, confirm, skip, refusals that keep the text."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Assignment, Line, LineStatus, Transcription

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


def take_next(client: Client) -> str:
    response = client.get(reverse("labeling:label_next"))
    assert response.status_code == 302
    return str(response["Location"])


def test_label_leads_to_a_leased_line_with_its_crop_and_prediction(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), prediction="دولت", blind_share=0.0)
    client = client_for(user)
    url = take_next(client)
    body = client.get(url).content.decode()
    assert reverse("labeling:line_crop", args=[line.pk]) in body
    assert "دولت" in body and 'dir="rtl"' in body and 'id="confirm-button"' in body
    assert client.get(reverse("labeling:line_crop", args=[line.pk])).status_code == 200


def test_a_blind_line_hides_the_prediction(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,), prediction="دولت", blind_share=1.0)
    client = client_for(user)
    body = client.get(take_next(client)).content.decode()
    assert "دولت" not in body
    assert 'id="confirm-button"' not in body


def test_sending_a_label_counts_it_and_moves_on(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0, 20.0))
    client = client_for(user)
    url = take_next(client)
    response = client.post(url, {"action": "submit", "text": "بر ایکی"})
    assert response.status_code == 302
    assert response["Location"] == reverse("labeling:label_next")
    assert Transcription.objects.get(user=user).text == "بر ایکی"
    second = take_next(client)
    assert second != url


def test_latin_text_is_refused_with_the_text_kept_and_a_send_anyway_box(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    client = client_for(user)
    url = take_next(client)
    response = client.post(url, {"action": "submit", "text": "kitab"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "Latin letters" in body and "kitab" in body and 'name="allow_latin"' in body
    assert not Transcription.objects.exists()
    response = client.post(url, {"action": "submit", "text": "kitab", "allow_latin": "on"})
    assert response.status_code == 302
    assert Transcription.objects.get().text == "kitab"


def test_skipping_needs_no_text(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,))
    client = client_for(user)
    url = take_next(client)
    response = client.post(url, {"action": "skip", "text": "", "skip_reason": "illegible"})
    assert response.status_code == 302
    assert Assignment.objects.get().skip_reason == "illegible"
    assert "Nothing to label" in client.get(reverse("labeling:label_next")).content.decode()


def test_another_labelers_lease_is_404(
    user: User,
    other_user: User,
    client_for: Callable[[User], Client],
    pool_lines: Callable[..., list[Line]],
) -> None:
    (line,) = pool_lines((10.0,))
    url = take_next(client_for(user))
    stranger = client_for(other_user)
    assert stranger.get(url).status_code == 404
    assert stranger.post(url, {"action": "submit", "text": "بر"}).status_code == 404
    assert stranger.get(reverse("labeling:line_crop", args=[line.pk])).status_code == 404


def test_the_owner_sees_agreed_lines_in_the_document_view(
    make_user: Callable[..., User],
    client_for: Callable[[User], Client],
    pool_lines: Callable[..., list[Line]],
) -> None:
    owner = make_user()
    (line,) = pool_lines((10.0,), owner=owner)
    for _ in range(2):
        client = client_for(make_user())
        client.post(take_next(client), {"action": "submit", "text": "اتفاق"})
    line.refresh_from_db()
    assert line.status == LineStatus.AGREED
    body = client_for(owner).get(reverse("labeling:document", args=[line.page.document_id]))
    assert "1 agreed" in body.content.decode()


def test_my_labels_and_the_anchoring_report(
    user: User, client_for: Callable[[User], Client], make_user: Callable[..., User]
) -> None:
    client = client_for(user)
    assert "Lines labelled" in client.get(reverse("labeling:my_labels")).content.decode()
    assert client.get(reverse("labeling:anchoring")).status_code == 403
    moderator = make_user()
    moderator.groups.add(Group.objects.get(name="moderator"))
    body = client_for(moderator).get(reverse("labeling:anchoring")).content.decode()
    assert "All pool documents" in body


def test_the_pool_lists_others_documents_with_a_link_to_label_each(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (theirs,) = pool_lines((10.0,))
    theirs.page.document.title = "Theirs"
    theirs.page.document.save()
    (mine,) = pool_lines((10.0,), owner=user)
    mine.page.document.title = "Mine"
    mine.page.document.save()
    body = client_for(user).get(reverse("labeling:pool")).content.decode()
    assert "Theirs" in body and "1 line still open" in body
    assert "Mine" not in body
    assert f"?document={theirs.page.document_id}" in body


def test_coming_back_to_label_hands_back_the_held_line_and_says_so(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0, 20.0), blind_share=0.0)
    client = client_for(user)
    first = take_next(client)
    client.get(first)
    again = take_next(client)
    assert again == first
    assert "still holding this line" in client.get(again).content.decode()


def test_labelling_one_document_stays_within_it(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((5.0,))
    (chosen,) = pool_lines((90.0,))
    doc = chosen.page.document_id
    client = client_for(user)
    response = client.get(reverse("labeling:label_next"), {"document": doc})
    url = response["Location"]
    assert url.endswith(f"?document={doc}")
    assert Assignment.objects.get(user=user).line == chosen
    response = client.post(url, {"action": "submit", "text": "بر"})
    assert response["Location"] == f"{reverse('labeling:label_next')}?document={doc}"


def test_confirm_after_editing_counts_nothing_and_asks_what_to_keep(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), prediction="دولت", blind_share=0.0)
    client = client_for(user)
    url = take_next(client)
    response = client.post(url, {"action": "confirm", "text": "دولتلر"})
    assert response.status_code == 200
    assert not Transcription.objects.filter(line=line).exists()
    assert Assignment.objects.get(line=line, user=user).state == "active"
    body = response.content.decode()
    assert ">دولتلر</textarea>" in body
    assert 'id="edit-pending"' in body and "would throw your edit away" in body
    assert "Save my text" in body and 'id="discard-button"' in body
    assert 'id="confirm-button"' not in body

    response = client.post(url, {"action": "submit", "text": "دولتلر"})
    assert response.status_code == 302
    label = Transcription.objects.get(line=line, user=user)
    assert (label.text, label.kept_prediction) == ("دولتلر", False)


def test_discarding_the_edit_in_the_queue_confirms_tesseracts_reading(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), prediction="دولت", blind_share=0.0)
    client = client_for(user)
    response = client.post(take_next(client), {"action": "discard", "text": "دولتلر"})
    assert response.status_code == 302
    label = Transcription.objects.get(line=line, user=user)
    assert (label.text, label.kept_prediction) == ("دولت", True)


def test_a_blind_line_offers_no_confirm_even_after_a_typed_text(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    (line,) = pool_lines((10.0,), prediction="دولت", blind_share=1.0)
    client = client_for(user)
    response = client.post(take_next(client), {"action": "confirm", "text": "دولتلر"})
    body = response.content.decode()
    assert 'data-code="blind"' in body
    assert "دولت" not in body.replace("دولتلر", "")  # Tesseract's reading stays hidden
    assert 'id="discard-button"' not in body
    assert not Transcription.objects.filter(line=line).exists()
