"""Searching texts through the Ottoman normalization, without a stored normalized column.

`pattern` turns a query into a regular expression that matches every raw spelling whose
normalization contains the normalized query: each letter becomes the class of characters that
normalize to it (ک and ك, ی ي ى, …), and between letters anything the normalization drops
(harakat, tatweel, ZWNJ, invisible marks) may stand. The database runs it (PostgreSQL's `~`,
SQLite's REGEXP through Python's `re`); the syntax used is common to both. It is a scan, like
the admin's icontains search; at millions of lines a stored normalized column with a trigram
index is the next step (see the moderation report).
"""

from __future__ import annotations

import functools
import re

from labeling.ottoman import HAMZA_ABOVE, normalize

# The characters a stored text may hold that the normalization folds or drops: ASCII, Latin-1,
# Arabic, Arabic Supplement and Extended-A, general punctuation, presentation forms.
_RANGES = (
    (0x20, 0x7F),
    (0xA0, 0x100),
    (0x600, 0x700),
    (0x750, 0x780),
    (0x8A0, 0x900),
    (0x2000, 0x2070),
    (0xFB50, 0xFE00),
    (0xFE70, 0xFF00),
)
_MARKS = (HAMZA_ABOVE, "\u0655")
_BRACKET_SPECIAL = set("\\]^-[")
# Whitespace as the normalization collapses it, no-break spaces included (PostgreSQL's \s
# does not match them in every locale).
_SPACE = "[\\s\u00a0\u2007\u202f]+"


@functools.cache
def _variants() -> tuple[dict[str, tuple[str, ...]], str]:
    """Raw spellings by the one normalized character they become, and the characters the
    normalization drops."""
    spellings: dict[str, set[str]] = {}
    dropped = []
    singles = [chr(c) for start, end in _RANGES for c in range(start, end)]
    for ch in singles:
        folded = normalize(ch)
        if folded == "" and not ch.isspace():
            dropped.append(ch)
        elif len(folded) == 1 and not ch.isspace():
            spellings.setdefault(folded, set()).add(ch)
    # A letter and a combining hamza that compose only after folding (ی + ٔ → ئ).
    for ch in singles:
        for mark in _MARKS:
            folded = normalize(ch + mark)
            if len(folded) == 1 and folded != normalize(ch):
                spellings.setdefault(folded, set()).add(ch + mark)
    return {k: tuple(sorted(v)) for k, v in spellings.items()}, "".join(dropped)


def _bracket(chars: str) -> str:
    return "".join("\\" + ch if ch in _BRACKET_SPECIAL else ch for ch in chars)


def _alternatives(letter: str, spellings: dict[str, tuple[str, ...]]) -> str:
    found = spellings.get(letter, ())
    singles = "".join(s for s in found if len(s) == 1) or letter
    longer = [re.escape(s) for s in found if len(s) > 1]
    single_class = f"[{_bracket(singles)}]"
    return f"(?:{'|'.join([single_class, *longer])})" if longer else single_class


def pattern(query: str) -> str | None:
    """A regular expression matching raw texts that contain the query once both are
    normalized; None when the query normalizes to nothing."""
    wanted = normalize(query)
    if not wanted:
        return None
    spellings, dropped = _variants()
    skip = f"[{_bracket(dropped)}]*"
    parts = []
    for ch in wanted:
        if ch == " ":
            parts.append(_SPACE)
        else:
            parts.append(_alternatives(ch, spellings))
    return skip.join(parts)
