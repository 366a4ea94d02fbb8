"""The first-use tutorial: three practice lines with known answers, graded the way agreement
compares labels.

Nothing of it is stored but the moment a person finished it (`User.tutorial_done_at`): no
Transcription, no lease, no agreement state. The line images are drawn here with a Debian font
(`labeling.synthetic.render_line`) and kept in the cache, so the repository holds no image.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from labeling import guidelines, synthetic
from labeling.ottoman import HAMZA_ABOVE, ZWNJ, clean_input
from labeling.review.agreement import Rules, agrees
from labeling.review.diff import Run, compare

# A practice answer must match the line exactly once normalized, whatever threshold the site
# allows between labelers: at 0.1 a one-letter slip in a 24-letter line would pass, and the
# slip is what step 1 is about.
GRADING = Rules(threshold=0.0)

IMAGE_CACHE_SECONDS = 7 * 24 * 3600
_IMAGE_SIZE = 48  # font size in pixels; the queue's crops of printed lines are about as tall


@dataclass(frozen=True)
class Step:
    number: int
    title: str | Promise
    task: str | Promise  # what to do, shown before answering
    hint: str | Promise  # what the line teaches, shown with the grade
    answer: str  # what the line says: the image is drawn from it
    reading: str  # Tesseract's reading, as the page prefills it
    topics: tuple[str, ...]  # keys of the guidelines the hint links to

    @property
    def image_key(self) -> str:
        """Changes whenever the image would: for the cache, and for the image's URL."""
        return hashlib.sha256(f"{_IMAGE_SIZE}:{self.answer}".encode()).hexdigest()[:16]


# Written for this tutorial. Kef is the keyboard's ك (U+0643) and ye its ی (U+06CC), so the
# answer is exactly what the on-screen keys type.
STEPS: tuple[Step, ...] = (
    Step(
        1,
        _("Fix a misread letter"),
        _(
            "Tesseract read one letter of this line wrong. Compare its reading with the image, "
            "correct that letter, and save."
        ),
        _(
            "Tesseract often mixes up letters that differ only in their dots, such as ق and ف, "
            "or the letters ب ت ث ن. Check every dot against the image."
        ),
        answer="بو قیش استانبول پك صوغوق",
        reading="بو قیش استانبول پك صوغوف",
        topics=("letters",),
    ),
    Step(
        2,
        _("Type an Ottoman letter"),
        _(
            "This line has a kef-i nûnî (sağır kef, ڭ), which Tesseract cannot read and gives as "
            "a plain kef. Your keyboard has no such key: use the ڭ key of the Ottoman keyboard "
            "below, or N with the Latin keys turned into Ottoman (Alt+K)."
        ),
        _(
            "The letters ڭ گ پ چ ژ ۋ are letters of their own: write the letter the print shows, "
            "never the Arabic letter that looks like it."
        ),
        answer="دڭیز كنارنده كوچك بر كوی",
        reading="دكیز كنارنده كوچك بر كوی",
        topics=("letters",),
    ),
    Step(
        3,
        _("Confirm a right reading"),
        _(
            "Sometimes Tesseract is right. When its reading matches the image letter for letter, "
            "do not type it again: confirm it (Ctrl+Enter)."
        ),
        _(
            "Confirming is a label like any other: the line is agreed when enough people's "
            "labels match. Vowel marks such as this line's shadda are left out when labels are "
            "compared, so a missed one never blocks agreement."
        ),
        answer="ملّتك ایلك وظیفه\u200cسی اوقومقدر",
        reading="ملّتك ایلك وظیفه\u200cسی اوقومقدر",
        topics=("agreed", "harakat"),
    ),
)


def get_step(number: int) -> Step | None:
    """The step with this number (from 1), or None."""
    return STEPS[number - 1] if 1 <= number <= len(STEPS) else None


def topics(step: Step) -> list[guidelines.Rule]:
    """The guidelines the step's hint names, in the step's order."""
    by_key = {rule.key: rule for rule in guidelines.RULES}
    return [by_key[key] for key in step.topics]


@dataclass(frozen=True)
class Grade:
    right: bool
    answer: str  # the text graded, as it would be stored
    expected: str  # what the line says
    # The normalized answer against the normalized line (`diff.runs`): what agreement counts.
    runs: tuple[Run, ...]
    # Right, though not typed exactly as the line: the normalization forgave the difference.
    forgiven: bool


def grade(*, step: Step, text: str) -> Grade:
    """The answer graded as a label is compared with a consensus (`agreement.agrees`)."""
    answer = clean_input(text)
    right = agrees(answer, step.answer, GRADING)
    comparison = compare(step.answer, answer)
    return Grade(
        right=right,
        answer=answer,
        expected=step.answer,
        runs=comparison.normalized,
        forgiven=right and not comparison.raw_equal,
    )


def line_png(step: Step) -> bytes:
    """The step's line drawn black on white, as PNG bytes; drawn once, then from the cache."""
    key = f"tutorial:line:{step.image_key}"
    cached = cache.get(key)
    if cached is not None:
        return bytes(cached)
    buffer = io.BytesIO()
    synthetic.render_line(step.answer, size=_IMAGE_SIZE).save(buffer, "PNG", optimize=True)
    png = buffer.getvalue()
    cache.set(key, png, timeout=IMAGE_CACHE_SECONDS)
    return png


# The letters and signs a Turkish or Arabic keyboard lacks, in the order the panel lists them.
SPECIAL_CHARACTERS = ("ڭ", "گ", "پ", "چ", "ژ", "ۋ", HAMZA_ABOVE, ZWNJ)


@dataclass(frozen=True)
class SpecialKey:
    char: str
    label: str  # what the on-screen key shows
    name: str  # the letter's name, from the keyboard map (Turkish, as Ottoman letters are named)
    latin: str  # the key that types it while the Latin keys type Ottoman (Alt+K)


def special_keys(keyboard_map: dict[str, Any]) -> list[SpecialKey]:
    """The on-screen keys of SPECIAL_CHARACTERS, read from the keyboard map (keyboard.json)."""
    keys = {
        key["char"]: key for row in keyboard_map["layout"] for key in row["keys"] if "char" in key
    }
    return [
        SpecialKey(char, keys[char]["label"], keys[char]["name"], keys[char]["latin"])
        for char in SPECIAL_CHARACTERS
        if char in keys
    ]


def finish_tutorial(*, user: User) -> None:
    """Note that the person has done the tutorial; the first time counts, later ones change
    nothing."""
    now = timezone.now()
    updated = User.objects.filter(pk=user.pk, tutorial_done_at__isnull=True).update(
        tutorial_done_at=now
    )
    if updated:
        user.tutorial_done_at = now
