"""Ottoman Turkish text: the keyboard map, and the one normalization used to compare texts.

No Django here. Stored text is always what the person typed (after `clean_input`); `normalize`
produces a comparison key for agreement, search and (optionally) export, never something to
store in place of the raw text.

The keyboard map lives in keyboard.json beside this module; its "_doc" key describes the
structure and why each letter sits where it does. The browser (static/js/keyboard.js) and
`latin_to_ottoman` read the same file, so the page and the API transliterate alike.
"""

from __future__ import annotations

import copy
import functools
import json
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from rapidfuzz.distance import Levenshtein

KEYBOARD_PATH: Path = Path(__file__).with_name("keyboard.json")

ZWNJ = "\u200c"
ZWJ = "\u200d"
TATWEEL = "\u0640"
HAMZA_ABOVE = "\u0654"

# The canonical letters. The keyboard emits exactly these; normalize() folds variants onto them.
KAF = "\u0643"  # ك: Arabic kaf, as Ottoman printing (and the shared books) encode kef
YEH = "\u06cc"  # ی: Farsi yeh, dotless at the end of a word, as Ottoman prints show ye
HEH = "\u0647"  # ه


@functools.cache
def _load_keyboard() -> dict[str, Any]:
    with KEYBOARD_PATH.open(encoding="utf-8") as f:
        data: dict[str, Any] = json.load(f)
    return data


def keyboard() -> dict[str, Any]:
    """The keyboard map from keyboard.json, as a copy the caller may change."""
    # Read once per process; copied because a template context or a test may mutate it.
    return copy.deepcopy(_load_keyboard())


def latin_to_ottoman(text: str) -> str:
    """Transliterate as the page's physical-keyboard toggle does: key by key, others kept."""
    latin: dict[str, str] = _load_keyboard()["latin"]
    return "".join(latin.get(ch, ch) for ch in text)


@dataclass(frozen=True)
class NormalizationPolicy:
    """What `normalize` folds. The defaults are what agreement and search use.

    strip_harakat: vowel signs and Quranic marks are dropped. Printed Ottoman is mostly
        unvocalized, and whether a reader copies an occasional sign is not a reading of the
        letters. Hamza above/below (U+0654/U+0655) are not vowel signs and stay.
    fold_zwnj: "remove" (default) drops ZWNJ: it only picks a glyph form (مطبعه‌نك and
        مطبعهنك are the same letters) and readers use it inconsistently, while a space is a
        word gap a reader can see. "space" treats it as a space, for comparing with typists who
        type a space in its place; "keep" keeps it (repeats, and ZWNJ beside a space or at an
        end, still go).
    fold_nbsp: no-break spaces (U+00A0, U+2007, U+202F) compare as a space; pasted text is full
        of them and they look the same.
    fold_digits: ASCII and Persian digits become Arabic-Indic (U+0660-0669), the digits the
        keyboard types; the value is what the reader reads, not the code block.
    fold_punctuation: , ; ? become ، ؛ ؟; the image shows the Arabic mark whichever key was hit.
    fold_alef_hamza: off by default, because أ إ آ are distinct in Ottoman spelling; on, they
        (and alef wasla ٱ) compare as ا, for a looser search.
    """

    strip_harakat: bool = True
    fold_zwnj: Literal["remove", "space", "keep"] = "remove"
    fold_nbsp: bool = True
    fold_digits: bool = True
    fold_punctuation: bool = True
    fold_alef_hamza: bool = False


DEFAULT_POLICY = NormalizationPolicy()

_PRESENTATION_FORMS = re.compile("[\ufb50-\ufdff\ufe70-\ufeff]")
_NBSPS = "\u00a0\u2007\u202f"

# Unicode's Bidi_Control characters: invisible, and pasted text carries them by accident.
_BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
# Invisible characters that never change which letters were read. ZWJ only forces a joining
# form; ZWNJ has its own policy.
_INVISIBLE = _BIDI_CONTROLS | frozenset("\u00ad\u200b\u2060\ufeff" + ZWJ + TATWEEL)

_HARAKAT = frozenset(
    [chr(c) for c in range(0x064B, 0x0654)]  # fathatan .. maddah above (not hamza)
    + [chr(c) for c in range(0x0656, 0x0660)]  # subscript alef .. (not hamza below U+0655)
    + ["\u0670"]  # superscript alef
    + [chr(c) for c in range(0x06D6, 0x06EE)]  # Quranic annotation marks
)

_LETTER_FOLDS = {
    "\u064a": YEH,  # ي Arabic yeh
    "\u0649": YEH,  # ى alef maksura: in Ottoman it is the dotless final ye
    "\u06a9": KAF,  # ک keheh: the Persian kef, common in Ottoman text typed on Persian layouts
    "\u06aa": KAF,  # ڪ swash kaf
    "\u0763": "\u06ad",  # ݣ keheh with three dots: another encoding of sağır kef ڭ
    "\u06d5": HEH,  # ە ae
    "\u06be": HEH,  # ھ heh doachashmee
    "\u06c1": HEH,  # ہ heh goal
    # He with hamza (the izafet, مدرسهٔ): Unicode's ۀ is built on ە, not on ه, so the only
    # spelling consistent with one heh is ه + combining hamza; the keyboard types it that way.
    "\u06c0": HEH + HAMZA_ABOVE,
    "\u06c2": HEH + HAMZA_ABOVE,
    "\u06c3": "\u0629",  # ۃ teh marbuta goal
}
# NFC composes alef, waw and Arabic yeh with hamza, but not Farsi yeh (nor ه, which stays
# decomposed on purpose).
_COMPOSE_AFTER_FOLDING = ((YEH + HAMZA_ABOVE, "\u0626"),)

_DIGITS = {chr(0x30 + i): chr(0x660 + i) for i in range(10)} | {
    chr(0x6F0 + i): chr(0x660 + i) for i in range(10)
}
_PUNCTUATION = {",": "\u060c", ";": "\u061b", "?": "\u061f"}
_ALEF_FOLDS = {"\u0623": "\u0627", "\u0625": "\u0627", "\u0622": "\u0627", "\u0671": "\u0627"}


def _fold_presentation_form(match: re.Match[str]) -> str:
    folded = unicodedata.normalize("NFKC", match.group())
    # The harakat presentation forms (U+FE70-FE7F) decompose to a space or tatweel plus the
    # mark; the carrier is an artefact of the form, not text.
    if len(folded) == 2 and folded[0] in " " + TATWEEL and unicodedata.combining(folded[1]):
        return folded[1]
    return folded


@functools.cache
def _table(policy: NormalizationPolicy) -> dict[int, str | None]:
    table: dict[int, str | None] = {ord(ch): None for ch in _INVISIBLE}
    # Control characters other than whitespace are noise; whitespace ones collapse below.
    table |= {c: None for c in range(0x20) if not chr(c).isspace()}
    table |= {c: None for c in range(0x7F, 0xA0) if not chr(c).isspace()}
    if policy.strip_harakat:
        table |= {ord(ch): None for ch in _HARAKAT}
    table |= {ord(k): v for k, v in _LETTER_FOLDS.items()}
    if policy.fold_digits:
        table |= {ord(k): v for k, v in _DIGITS.items()}
    if policy.fold_punctuation:
        table |= {ord(k): v for k, v in _PUNCTUATION.items()}
    if policy.fold_alef_hamza:
        table |= {ord(k): v for k, v in _ALEF_FOLDS.items()}
    if policy.fold_nbsp:
        table |= {ord(ch): " " for ch in _NBSPS}
    if policy.fold_zwnj == "remove":
        table[ord(ZWNJ)] = None
    elif policy.fold_zwnj == "space":
        table[ord(ZWNJ)] = " "
    return table


@functools.cache
def _whitespace(fold_nbsp: bool) -> re.Pattern[str]:
    # With fold_nbsp off a no-break space must survive the collapse, so exclude it from \s.
    return re.compile(r"\s+" if fold_nbsp else rf"[^\S{_NBSPS}]+")


_STRAY_ZWNJ = re.compile(rf"{ZWNJ}+(?=\s|$)|(?<=\s){ZWNJ}+|^{ZWNJ}+")
_REPEATED_ZWNJ = re.compile(rf"{ZWNJ}{{2,}}")


def normalize(text: str, policy: NormalizationPolicy = DEFAULT_POLICY) -> str:
    """The comparison key of an Ottoman text; never store it in place of the text.

    Steps, in order: Arabic presentation forms (U+FB50-FDFF, U+FE70-FEFF) NFKC-folded, and
    nothing else NFKC'd; NFC; invisible format characters and tatweel removed; harakat removed
    (policy); yeh ي ى → ی, kaf ک → ك, heh ە ھ ہ → ه, ۀ → ه + hamza above (گ and ڭ stay distinct
    letters); digits → Arabic-Indic, , ; ? → ، ؛ ؟, no-break spaces → space (policy); ZWNJ by
    policy; whitespace collapsed to one space and stripped.
    """
    text = _PRESENTATION_FORMS.sub(_fold_presentation_form, text)
    # NFC before folding composes decomposed hamza letters (ا + ٔ → أ) so that stripping marks
    # below cannot take the hamza off them.
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_table(policy))
    text = unicodedata.normalize("NFC", text)
    for sequence, letter in _COMPOSE_AFTER_FOLDING:
        text = text.replace(sequence, letter)
    if policy.fold_zwnj == "keep":
        text = _REPEATED_ZWNJ.sub(ZWNJ, _STRAY_ZWNJ.sub("", text))
    return _whitespace(policy.fold_nbsp).sub(" ", text).strip(" ")


def cer(a: str, b: str, policy: NormalizationPolicy = DEFAULT_POLICY) -> float:
    """Character error rate of `b` read against the reference `a`, both normalized.

    Levenshtein distance over the reference's length (at least 1), so 0.0 for equal texts and
    for two empty ones; it exceeds 1.0 when `b` is much longer than `a`.
    """
    reference = normalize(a, policy)
    hypothesis = normalize(b, policy)
    return Levenshtein.distance(reference, hypothesis) / max(len(reference), 1)


def _is_arabic_script(ch: str) -> bool:
    code = ord(ch)
    return (
        0x0600 <= code <= 0x06FF
        or 0x0750 <= code <= 0x077F
        or 0x08A0 <= code <= 0x08FF
        or 0xFB50 <= code <= 0xFDFF
        or 0xFE70 <= code <= 0xFEFF
    )


def looks_ottoman(text: str) -> bool:
    """Whether most letters are Arabic-script, to warn someone typing Latin by mistake.

    Only letters count (not digits, marks or punctuation); a text without any letter gives
    True, since there is nothing to warn about.
    """
    letters = [ch for ch in text if unicodedata.category(ch).startswith("L")]
    arabic = sum(1 for ch in letters if _is_arabic_script(ch))
    return not letters or arabic * 2 > len(letters)


_LINE_BREAKS = re.compile("\r\n|[\n\r\t\v\f\x1c-\x1f\x85\u2028\u2029]")
# Controls other than the line breaks above, Bidi_Control characters and the byte-order mark.
# ZWNJ and ZWJ are not here: they change how letters join and are part of what was typed.
_UNSTORED = (
    frozenset(chr(c) for c in [*range(0x20), *range(0x7F, 0xA0)]) | _BIDI_CONTROLS | {"\ufeff"}
)
_UNSTORED_TABLE = {ord(ch): None for ch in _UNSTORED}


def clean_input(text: str) -> str:
    """What a submitted transcription is stored as: the text as typed, minus what cannot be.

    NFC; line breaks and tabs become spaces (a transcription is one line); other control
    characters, bidi controls (U+061C, U+200E/F, U+202A-202E, U+2066-2069) and the byte-order
    mark removed; stripped at both ends. Everything else is kept: harakat, tatweel, ZWNJ, ZWJ,
    presentation forms, inner runs of spaces and the digit block, since normalize() (not the
    stored text) is what folds them.
    """
    text = unicodedata.normalize("NFC", text)
    text = _LINE_BREAKS.sub(" ", text)
    return text.translate(_UNSTORED_TABLE).strip()


def invisible_controls(text: str) -> list[str]:
    """The control, bidi-control and byte-order characters in a text that clean_input removes
    (line breaks and tabs excluded: those just become spaces), as U+XXXX names for a message."""
    found = {ch for ch in _LINE_BREAKS.sub(" ", text) if ch in _UNSTORED}
    return sorted(f"U+{ord(ch):04X}" for ch in found)
