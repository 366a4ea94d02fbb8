"""The line editor: confirm keeps Tesseract's reading, save stores the text as typed (NFC)."""

import unicodedata
from collections.abc import Callable

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling.models import Document, LineStatus, Transcription

pytestmark = pytest.mark.django_db


def lines_of(doc: Document):  # type: ignore[no-untyped-def]
    return list(doc.pages.get().lines.order_by("order"))


def test_it_shows_the_crop_the_prediction_and_the_keyboard(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    body = client_for(user).get(reverse("labeling:line", args=[first.pk])).content.decode()
    assert reverse("labeling:line_crop", args=[first.pk]) in body
    assert 'dir="rtl"' in body and 'lang="ota"' in body
    assert "سلام" in body
    assert 'id="ottoman-keyboard-map"' in body
    assert "0 / 2" in body.replace("<strong>", "").replace("</strong>", "")


def test_confirm_keeps_the_prediction_and_moves_on(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, second = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]),
        {"action": "confirm", "text": "", "seconds": "4.5"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("labeling:line", args=[second.pk])
    saved = Transcription.objects.get(line=first, user=user)
    assert saved.text == "سلام"
    assert saved.kept_prediction
    assert saved.seconds_spent == 4.5


def test_save_stores_the_correction_in_nfc(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    typed = unicodedata.normalize("NFD", "كتابلر آچیق")  # آ decomposed into ا + madda
    client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "save", "text": typed}
    )
    saved = Transcription.objects.get(line=first, user=user)
    assert saved.text == unicodedata.normalize("NFC", typed)
    assert not saved.kept_prediction


def test_saving_again_edits_the_same_transcription(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    client = client_for(user)
    url = reverse("labeling:line", args=[first.pk])
    client.post(url, {"action": "save", "text": "بر"})
    client.post(url, {"action": "save", "text": "ایکی"})
    assert Transcription.objects.filter(line=first, user=user).count() == 1
    assert Transcription.objects.get(line=first, user=user).text == "ایکی"
    body = client.get(url).content.decode()
    assert "ایکی" in body


def test_the_database_refuses_a_second_transcription_per_person(
    user: User, read_document: Callable[..., Document]
) -> None:
    first, _ = lines_of(read_document())
    Transcription.objects.create(line=first, user=user, text="a", kept_prediction=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Transcription.objects.create(line=first, user=user, text="b", kept_prediction=False)


@pytest.mark.parametrize(("text", "message"), [("   ", "empty"), ("ب" * 501, "at most 500")])
def test_bad_text_gets_a_message_and_nothing_is_saved(
    user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    text: str,
    message: str,
) -> None:
    first, _ = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "save", "text": text}
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Transcription.objects.exists()


def test_a_decided_line_cannot_change(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    first.status = LineStatus.APPROVED
    first.save()
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "save", "text": "یکی"}
    )
    assert "already been decided" in response.content.decode()
    assert not Transcription.objects.exists()


def test_the_last_line_leads_back_to_the_document(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    first, second = lines_of(doc)
    client = client_for(user)
    client.post(reverse("labeling:line", args=[first.pk]), {"action": "confirm"})
    response = client.post(reverse("labeling:line", args=[second.pk]), {"action": "confirm"})
    assert response["Location"] == reverse("labeling:document", args=[doc.pk])


def test_the_crop_is_a_png_of_the_line(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    import io

    from PIL import Image

    first, _ = lines_of(read_document())
    response = client_for(user).get(reverse("labeling:line_crop", args=[first.pk]))
    assert response["Content-Type"] == "image/png"
    crop = Image.open(io.BytesIO(response.content))
    assert crop.width >= first.width
    assert crop.height >= first.height


def test_confirm_after_editing_saves_nothing_and_asks_what_to_keep(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "confirm", "text": "سلاملر"}
    )
    assert response.status_code == 200
    assert not Transcription.objects.filter(line=first).exists()
    body = response.content.decode()
    assert ">سلاملر</textarea>" in body  # the edit, still in the box
    assert 'id="edit-pending"' in body and "would throw your edit away" in body
    assert "Save my text" in body
    assert 'id="discard-button"' in body
    assert "Discard my edit and confirm Tesseract" in body
    assert 'id="confirm-button"' not in body  # Ctrl+Enter again cannot drop the edit


def test_save_my_text_after_the_question_keeps_the_edit(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, second = lines_of(read_document())
    client = client_for(user)
    url = reverse("labeling:line", args=[first.pk])
    client.post(url, {"action": "confirm", "text": "سلاملر"})
    response = client.post(url, {"action": "save", "text": "سلاملر"})
    assert response["Location"] == reverse("labeling:line", args=[second.pk])
    saved = Transcription.objects.get(line=first, user=user)
    assert (saved.text, saved.kept_prediction) == ("سلاملر", False)


def test_discarding_the_edit_confirms_tesseracts_reading(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, second = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "discard", "text": "سلاملر"}
    )
    assert response["Location"] == reverse("labeling:line", args=[second.pk])
    saved = Transcription.objects.get(line=first, user=user)
    assert (saved.text, saved.kept_prediction) == ("سلام", True)


def test_confirm_with_the_reading_only_retyped_the_same_way_confirms_at_once(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, second = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]), {"action": "confirm", "text": " سلام\r\n"}
    )
    assert response["Location"] == reverse("labeling:line", args=[second.pk])
    assert Transcription.objects.get(line=first, user=user).kept_prediction


def test_confirm_over_my_own_saved_text_asks_before_replacing_it(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    client = client_for(user)
    url = reverse("labeling:line", args=[first.pk])
    client.post(url, {"action": "save", "text": "سلاملر"})
    body = client.get(url).content.decode()
    assert ">سلاملر</textarea>" in body
    response = client.post(url, {"action": "confirm", "text": "سلاملر"})
    assert 'id="edit-pending"' in response.content.decode()
    assert Transcription.objects.get(line=first, user=user).text == "سلاملر"


def test_the_editors_script_gets_the_next_line_and_the_new_progress_as_json(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    doc = read_document()
    first, second = lines_of(doc)
    client = client_for(user)
    page = client.get(reverse("labeling:line", args=[first.pk])).content.decode()
    # What the script fetches while the person types: the next line's page and its crop.
    assert f'data-prefetch-page="{reverse("labeling:line", args=[second.pk])}"' in page
    json = {"HTTP_ACCEPT": "application/json"}
    saved = client.post(
        reverse("labeling:line", args=[first.pk]), {"action": "save", "text": "یکی"}, **json
    )
    assert saved.status_code == 200
    assert saved.json()["next"] == reverse("labeling:line", args=[second.pk])
    progress = saved.json()["progress_html"].replace("<strong>", "").replace("</strong>", "")
    assert 'id="line-progress-block"' in progress and "1 / 2" in progress
    assert Transcription.objects.get(line=first, user=user).text == "یکی"
    # The last line: where a full page would have gone, the document with its message.
    last = client.post(reverse("labeling:line", args=[second.pk]), {"action": "confirm"}, **json)
    assert last.json() == {"location": reverse("labeling:document", args=[doc.pk])}
    assert "every line of this document" in client.get(last.json()["location"]).content.decode()


def test_a_refused_text_asked_for_as_json_comes_back_as_the_page_with_its_error(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    first, _ = lines_of(read_document())
    response = client_for(user).post(
        reverse("labeling:line", args=[first.pk]),
        {"action": "save", "text": "   "},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "empty" in response.content.decode()
    assert not Transcription.objects.exists()
