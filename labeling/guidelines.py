"""The transcription rules in force: shown on the site's guidelines page and embedded in every
dataset release's README, from this one list, so both always say the same thing."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# Bump when a rule changes: releases record which version of the rules their lines follow.
VERSION = 2


@dataclass(frozen=True)
class Rule:
    key: str
    title: str | Promise
    text: str | Promise
    example: str = ""  # Ottoman text showing the rule, or ""


RULES: tuple[Rule, ...] = (
    Rule(
        "order",
        _("Logical order, one line"),
        _(
            "Type the line in the order it is read (right to left, as you would type it), "
            "as one line of text. Never reverse letters to make them look right."
        ),
    ),
    Rule(
        "harakat",
        _("Harakat (vowel marks)"),
        _(
            "Transcribe the vowel marks (fatha, kasra, damma, shadda, sukun, tanwin) the print "
            "shows, and only those; add none the print does not have. Comparison between "
            "labelers ignores them, so a missed mark never blocks agreement, but the exported "
            "text keeps what was typed."
        ),
    ),
    Rule(
        "ligatures",
        _("Ligatures"),
        _(
            "Write a ligature as the letters it joins (lam-alif as ل then ا), never as a "
            "presentation-form character."
        ),
        "لا",
    ),
    Rule(
        "letters",
        _("Ottoman letters"),
        _(
            "Write the letter the print shows: kef-i nûnî ڭ, vav with three dots ۋ, Persian "
            "پ چ ژ گ, and yeh and kaf as printed. Do not modernise the spelling."
        ),
        "ڭ ۋ پ چ ژ گ",
    ),
    Rule(
        "digits",
        _("Digits"),
        _(
            "Type digits as printed: Arabic-Indic (٠١٢٣) or Persian (۰۱۲۳), whichever the page "
            "uses; never Latin 0–9 for them."
        ),
        "١٣٢٥",
    ),
    Rule(
        "damage",
        _("Damaged print"),
        _(
            "Write what is legible. Mark each unreadable stretch with one … (horizontal "
            "ellipsis), and guess nothing. If the whole line is unreadable, skip it as "
            "illegible instead."
        ),
        "كتاب … ايله",
    ),
    Rule(
        "breaks",
        _("Line ends and hyphenation"),
        _(
            "Transcribe only the line in the image, on one line. A word broken at the line's "
            "end stays broken as printed; do not join it with the next line."
        ),
    ),
    Rule(
        "zwnj",
        _("Zero-width non-joiner"),
        _(
            "Where the print separates letters that would otherwise join (as in Persian "
            "compounds), type a zero-width non-joiner (the keyboard's ZWNJ key); nowhere else."
        ),
    ),
    Rule(
        "punctuation",
        _("Punctuation and spaces"),
        _(
            "Type punctuation as printed, with Arabic forms where the print has them (، ؛ ؟). "
            "One space between words; none at the start or end."
        ),
        "، ؛ ؟",
    ),
    # How labels become ground truth: not rules for typing, but what a labeler needs to know
    # to read the queue's words (agreed, approved, gold) and what happens to their work.
    Rule(
        "agreed",
        _("Agreed lines"),
        _(
            "Each pool line is labelled by several people who do not see each other's text. "
            "When enough of their labels match after normalization (harakat, ZWNJ and letter "
            "variants such as ي and ی or ک and ك do not count), the line is agreed: the matching "
            "text becomes its consensus. When they keep disagreeing, the line is disputed and a "
            "moderator decides."
        ),
    ),
    Rule(
        "approved",
        _("Approved lines"),
        _(
            "A moderator has checked the line against its image and accepted its text, after "
            "the labelers agreed or to settle a dispute. Dataset releases are made from approved "
            "lines (and from agreed ones when the staff choose so)."
        ),
    ),
    Rule(
        "gold",
        _("Gold (test) lines"),
        _(
            "Now and then the queue hands you a line whose answer is already known, mixed in "
            "with the others and looking like them, to check how well labels match the print. "
            "Label it like any other. If too many of your answers to them are wrong, your labels "
            "are held back (they count for nothing) until a moderator has looked at them."
        ),
    ),
)


def as_markdown() -> str:
    """The rules as a Markdown list (for a release's README), in the active language."""
    lines = []
    for rule in RULES:
        example = (
            " " + str(_("Example: %(text)s") % {"text": f"`{rule.example}`"})
            if rule.example
            else ""
        )
        lines.append(f"- **{rule.title}.** {rule.text}{example}")
    return "\n".join(lines)
