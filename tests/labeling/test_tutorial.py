"""The tutorial: three practice lines graded as agreement compares labels, its images, the date
a person finished it, and the banner that offers it until then."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from labeling import synthetic, tutorial
from labeling.models import Assignment, Line, Transcription

pytestmark = pytest.mark.django_db

STEP_1 = tutorial.STEPS[0]
STEP_2 = tutorial.STEPS[1]
STEP_3 = tutorial.STEPS[2]


@pytest.fixture(autouse=True)
def _no_gold(settings: pytest.FixtureRequest) -> None:
    settings.REVIEW_GOLD_SHARE = 0.0  # type: ignore[attr-defined]


def answer(client: Client, step: int, text: str, action: str = "save") -> str:
    response = client.post(
        reverse("labeling:tutorial_step", args=[step]), {"text": text, "action": action}
    )
    assert response.status_code == 200
    return response.content.decode()


def grade_of(page: str) -> str:
    match = re.search(r'<h2 id="grade">([^<]*)</h2>', page)
    assert match, "no grade on the page"
    return match.group(1)


def test_the_practice_lines_each_teach_what_they_say() -> None:
    # 1: one letter wrong; 2: kef-i nûnî read as kef; 3: Tesseract is right, with a shadda.
    assert [tutorial.grade(step=s, text=s.reading).right for s in tutorial.STEPS] == [
        False,
        False,
        True,
    ]
    assert sum(a != b for a, b in zip(STEP_1.answer, STEP_1.reading, strict=True)) == 1
    assert "ڭ" in STEP_2.answer and "ڭ" not in STEP_2.reading
    assert "\u0651" in STEP_3.answer  # shadda


def test_a_wrong_answer_is_not_quite_with_the_difference_and_the_line_shown(
    user: User, client_for: Callable[[User], Client]
) -> None:
    page = answer(client_for(user), 1, STEP_1.reading)  # sent without fixing the letter
    assert grade_of(page) == "Not quite"
    # The line's ق read as ف: the line's letter struck out, the answer's marked.
    assert "<del>ق</del><mark>ف</mark>" in page
    assert f'id="expected">{STEP_1.answer}</span>' in page
    # The hint names its guideline topic and links to it, and the way on is offered.
    assert 'href="/guidelines/#letters">Ottoman letters</a>' in page
    assert 'id="next-step"' in page and reverse("labeling:tutorial_step", args=[2]) in page
    # The answer stays in the box, to be corrected and sent again.
    assert f">{STEP_1.reading}</textarea>" in page


def test_a_right_answer_typed_with_the_persian_kef_and_arabic_yeh_is_right(
    user: User, client_for: Callable[[User], Client]
) -> None:
    typed = STEP_1.answer.replace("ك", "\u06a9").replace("ی", "\u064a")
    assert typed != STEP_1.answer
    page = answer(client_for(user), 1, typed)
    assert grade_of(page) == "Right"
    assert "counts as the same" in page  # told why a different spelling still matched
    assert 'id="difference"' not in page


def test_the_kef_i_nuni_typed_as_a_plain_kef_is_not_quite(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    page = answer(client, 2, STEP_2.reading)
    assert grade_of(page) == "Not quite" and "<del>ڭ</del><mark>ك</mark>" in page
    assert grade_of(answer(client, 2, STEP_2.answer)) == "Right"


def test_confirming_is_right_only_where_tesseract_was_right(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    assert grade_of(answer(client, 1, "", action="confirm")) == "Not quite"
    page = answer(client, 3, "", action="confirm")
    assert grade_of(page) == "Right" and "counts as the same" not in page


def test_an_answer_without_the_shadda_is_right(
    user: User, client_for: Callable[[User], Client]
) -> None:
    typed = STEP_3.answer.replace("\u0651", "")
    assert typed != STEP_3.answer
    page = answer(client_for(user), 3, typed)
    assert grade_of(page) == "Right" and "counts as the same" in page


def test_confirm_after_an_edit_asks_which_one_is_meant_and_grades_nothing(
    user: User, client_for: Callable[[User], Client]
) -> None:
    page = answer(client_for(user), 1, STEP_1.answer, action="confirm")
    assert 'id="edit-pending"' in page and 'id="discard-button"' in page
    assert 'id="grade"' not in page


def test_step_3_records_that_the_tutorial_is_done_once(
    user: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(user)
    answer(client, 1, STEP_1.answer)
    answer(client, 2, STEP_2.answer)
    user.refresh_from_db()
    assert user.tutorial_done_at is None
    page = answer(client, 3, "", action="confirm")
    assert reverse("labeling:label_next") in page  # "Start labelling"
    user.refresh_from_db()
    done = user.tutorial_done_at
    assert done is not None
    answer(client, 3, "", action="confirm")  # done again: the first time is kept
    user.refresh_from_db()
    assert user.tutorial_done_at == done
    intro = client.get(reverse("labeling:tutorial")).content.decode()
    assert 'id="tutorial-done"' in intro


def test_the_tutorial_stores_no_label_and_takes_no_line(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    pool_lines((10.0,), blind_share=0.0)
    client = client_for(user)
    for step in tutorial.STEPS:
        answer(client, step.number, step.answer)
    assert not Transcription.objects.exists() and not Assignment.objects.exists()


def test_the_banner_offers_the_tutorial_until_it_is_done(
    user: User, client_for: Callable[[User], Client], pool_lines: Callable[..., list[Line]]
) -> None:
    client = client_for(user)
    empty = client.get(reverse("labeling:label_next"))
    assert empty.status_code == 200  # nothing to label: the empty-queue page
    assert 'id="tutorial-banner"' in empty.content.decode()
    pool_lines((10.0,), blind_share=0.0)
    lease = client.get(reverse("labeling:label_next"))
    label_page = client.get(lease["Location"]).content.decode()
    assert 'id="tutorial-banner"' in label_page
    assert f'href="{reverse("labeling:tutorial")}"' in label_page
    assert "Try three practice lines (2 minutes)" in label_page

    answer(client, 3, "", action="confirm")
    assert 'id="tutorial-banner"' not in client.get(lease["Location"]).content.decode()
    Assignment.objects.all().delete()
    Line.objects.all().delete()
    empty_again = client.get(reverse("labeling:label_next")).content.decode()
    assert "Nothing to label right now" in empty_again
    assert 'id="tutorial-banner"' not in empty_again


def test_the_line_image_is_a_png_of_the_line_drawn_once(
    user: User, client_for: Callable[[User], Client], monkeypatch: pytest.MonkeyPatch
) -> None:
    drawn: list[str] = []
    render = synthetic.render_line

    def counting(text: str, **kwargs: object) -> Image.Image:
        drawn.append(text)
        return render(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(synthetic, "render_line", counting)
    client = client_for(user)
    url = reverse("labeling:tutorial_image", args=[2])
    first = client.get(url)
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(first.content))
    assert image.format == "PNG" and image.width > 200 and image.height > 40
    second = client.get(url)
    assert second.content == first.content
    assert drawn == [STEP_2.answer]  # the second request came from the cache
    assert client.get(reverse("labeling:tutorial_image", args=[4])).status_code == 404


def test_a_step_shows_the_image_the_reading_the_keyboard_and_the_special_letters(
    user: User, client_for: Callable[[User], Client]
) -> None:
    page = client_for(user).get(reverse("labeling:tutorial_step", args=[2])).content.decode()
    assert reverse("labeling:tutorial_image", args=[2]) in page
    assert f'class="prediction">{STEP_2.reading}</span>' in page
    assert f">{STEP_2.reading}</textarea>" in page  # prefilled, as in the editor
    assert 'id="ottoman-keyboard-map"' in page and 'id="ottoman-keyboard"' in page
    # ڭ in the panel with the Latin key that types it (keyboard.json: "N").
    assert re.search(r'class="letter" dir="auto">ڭ</td><td>[^<]+</td><td><kbd dir="ltr">N<', page)
    for shortcut in ("Save your text", "Confirm Tesseract's reading unchanged"):
        assert shortcut in page
    assert 'id="grade"' not in page


def test_there_are_three_steps(user: User, client_for: Callable[[User], Client]) -> None:
    client = client_for(user)
    intro = client.get(reverse("labeling:tutorial")).content.decode()
    for step in tutorial.STEPS:
        assert reverse("labeling:tutorial_step", args=[step.number]) in intro
    assert 'href="/guidelines/#gold"' in intro  # what a gold line is, on the intro too
    assert client.get(reverse("labeling:tutorial_step", args=[4])).status_code == 404
    assert client.post(reverse("labeling:tutorial_step", args=[0]), {}).status_code == 404


def test_a_stranger_is_asked_to_sign_in() -> None:
    client = Client()
    for url in (
        reverse("labeling:tutorial"),
        reverse("labeling:tutorial_step", args=[1]),
        reverse("labeling:tutorial_image", args=[1]),
    ):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
    response = client.post(
        reverse("labeling:tutorial_step", args=[3]), {"text": "", "action": "confirm"}
    )
    assert response.status_code == 302
