"""Ottoman normalization, input cleaning and the keyboard map (labeling/ottoman.py)."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from labeling.ottoman import (
    DEFAULT_POLICY,
    KEYBOARD_PATH,
    NormalizationPolicy,
    cer,
    clean_input,
    keyboard,
    latin_to_ottoman,
    looks_ottoman,
    normalize,
)

ZWNJ = "\u200c"

# The letters of the Ottoman alphabet, the hamza forms and teh marbuta: each must have an
# on-screen key and a physical key.
OTTOMAN_LETTERS = "اآبپتثجچحخدذرزژسشصضطظعغفقكگڭلمنوۋهیءأإؤئة"


def layout_keys() -> list[dict[str, Any]]:
    return [key for row in keyboard()["layout"] for key in row["keys"]]


def layout_chars() -> list[str]:
    return [key["char"] for key in layout_keys() if "char" in key]


# --- normalize -------------------------------------------------------------------------------


def test_persian_keheh_and_arabic_kaf_spell_the_same_kitab() -> None:
    assert normalize("كتاب") == normalize("کتاب") == "كتاب"


def test_gef_and_nef_stay_distinct_from_kef() -> None:
    assert normalize("گوزل") != normalize("كوزل")
    assert normalize("سڭا") != normalize("سكا")
    assert normalize("گ") == "گ"
    assert normalize("ڭ") == "ڭ"


def test_the_keheh_encoding_of_nef_folds_onto_nef() -> None:
    assert normalize("سݣا") == "سڭا"


def test_tatweel_does_not_change_the_word() -> None:
    assert normalize("دولـــتنده") == "دولتنده"


def test_harakat_are_dropped_by_default_and_kept_on_request() -> None:
    vocalized = "مَطْبَعَهْ"
    assert normalize(vocalized) == "مطبعه"
    assert normalize(vocalized, NormalizationPolicy(strip_harakat=False)) == unicodedata.normalize(
        "NFC", vocalized
    )


def test_superscript_alef_and_quranic_marks_are_harakat() -> None:
    assert normalize("رحمٰن") == "رحمن"
    assert normalize("الله\u06d6") == "الله"


def test_every_yeh_spelling_of_ile_compares_equal() -> None:
    assert normalize("ايله") == normalize("ایله") == "ایله"
    assert normalize("مصطفى") == normalize("مصطفی") == normalize("مصطفي")


def test_heh_variants_fold_onto_heh() -> None:
    assert normalize("مطبعە") == normalize("مطبعھ") == normalize("مطبعه") == "مطبعه"


def test_the_izafet_heh_with_hamza_is_one_spelling_whichever_code_points() -> None:
    decomposed = "مدرسه\u0654"
    assert normalize("مدرسۀ") == normalize(decomposed) == decomposed
    assert normalize("مدرسۀ") != normalize("مدرسه")


def test_hamza_marks_survive_harakat_stripping() -> None:
    # Decomposed hamza letters are composed first, so the mark cannot be stripped off them.
    assert normalize("ا\u0654مر") == "أمر"
    assert normalize("مو\u0654من") == "مؤمن"
    assert normalize("عای\u0654له") == normalize("عائله") == "عائله"


def test_alef_with_hamza_and_madda_are_not_folded_unless_asked() -> None:
    assert normalize("أمر") != normalize("امر")
    assert normalize("آدم") != normalize("ادم")
    loose = NormalizationPolicy(fold_alef_hamza=True)
    assert normalize("أمر", loose) == normalize("امر", loose)
    assert normalize("آدم", loose) == normalize("ادم", loose)


def test_presentation_forms_of_allah_and_lam_alef_fold_to_letters() -> None:
    assert normalize("\ufdf2") == "الله"
    assert normalize("\ufefb") == "لا"
    assert normalize("\ufe97\ufedc\ufe8e\ufe8f") == "تكاب"  # initial teh, medial kaf, alef, beh


def test_only_presentation_forms_are_compatibility_folded() -> None:
    # NFKC would turn the superscript two and the ligature fi into 2 and fi; normalize must not.
    assert normalize("x²") == "x²"
    assert normalize("\ufb01") == "\ufb01"


def test_zwnj_is_removed_by_default() -> None:
    assert normalize("مطبعه" + ZWNJ + "نك") == normalize("مطبعهنك") == "مطبعهنك"


def test_zwnj_can_count_as_a_space_or_be_kept() -> None:
    word = "مطبعه" + ZWNJ + "نك"
    assert normalize(word, NormalizationPolicy(fold_zwnj="space")) == "مطبعه نك"
    assert normalize(word, NormalizationPolicy(fold_zwnj="keep")) == word


def test_kept_zwnj_loses_repeats_and_strays_beside_spaces() -> None:
    keep = NormalizationPolicy(fold_zwnj="keep")
    assert normalize(ZWNJ + "مطبعه" + ZWNJ * 3 + "نك" + ZWNJ + " بر", keep) == (
        "مطبعه" + ZWNJ + "نك بر"
    )


def test_zwj_and_bidi_marks_are_invisible_to_comparison() -> None:
    assert normalize("\u200fكتاب\u200d\u202a") == "كتاب"


def test_arabic_indic_persian_and_ascii_years_are_one_number() -> None:
    assert normalize("١٩٠٨") == normalize("۱۹۰۸") == normalize("1908") == "١٩٠٨"


def test_digits_stay_in_their_block_when_not_folded() -> None:
    assert normalize("۱۹۰۸", NormalizationPolicy(fold_digits=False)) == "۱۹۰۸"


def test_latin_punctuation_compares_as_arabic_punctuation() -> None:
    assert normalize("نه ایچون?") == "نه ایچون؟"
    assert normalize("بر, ایکی;") == "بر، ایكی؛"


def test_no_break_spaces_and_runs_of_whitespace_become_one_space() -> None:
    assert normalize("  عثمانلی\u00a0 دولتی\t\n ") == "عثمانلی دولتی"
    assert normalize("عثمانلی\u202fدولتی") == "عثمانلی دولتی"


def test_no_break_space_survives_when_not_folded() -> None:
    assert normalize("عثمانلی\u00a0دولتی", NormalizationPolicy(fold_nbsp=False)) == (
        "عثمانلی\u00a0دولتی"
    )


def test_normalize_is_idempotent_on_a_real_line() -> None:
    line = "ابراهیم  متفرقه استانبولده ايلك تركچه كتابلری باصدی، ۱۷۲۷ ده."
    once = normalize(line)
    assert normalize(once) == once


# --- cer -------------------------------------------------------------------------------------


def test_cer_is_zero_for_variant_spellings_of_the_same_reading() -> None:
    assert cer("كتابلری", "کتابلري") == 0.0
    assert cer("", "") == 0.0


def test_cer_counts_edits_over_the_reference_length() -> None:
    assert cer("كتاب", "كتب") == pytest.approx(0.25)
    assert cer("كتاب", "") == pytest.approx(1.0)
    assert cer("", "كتاب") == pytest.approx(4.0)


def test_cer_counts_a_gef_read_as_kef_as_an_error() -> None:
    assert cer("گوزل", "كوزل") == pytest.approx(0.25)


# --- looks_ottoman ---------------------------------------------------------------------------


def test_latin_input_does_not_look_ottoman() -> None:
    assert not looks_ottoman("kitab okudum")
    assert not looks_ottoman("Osmanlı devleti ١٩٠٨")


def test_arabic_script_input_looks_ottoman_even_with_a_latin_word() -> None:
    assert looks_ottoman("عثمانلی دولتنده مطبعه‌نك تأسیسی")
    assert looks_ottoman("استانبول ده Paris")


def test_text_without_letters_gives_no_reason_to_warn() -> None:
    assert looks_ottoman("١٩٠٨")
    assert looks_ottoman("")


# --- clean_input -----------------------------------------------------------------------------


def test_clean_input_keeps_the_reading_as_typed() -> None:
    typed = "مَطْبَعَه‌نك  دولـــتنده ١٩٠٨ ۱۹۰۸ کتاب ﻻ"
    assert clean_input(typed) == unicodedata.normalize("NFC", typed)


def test_clean_input_keeps_zwnj_and_zwj() -> None:
    assert clean_input("مطبعه" + ZWNJ + "نك\u200d") == "مطبعه" + ZWNJ + "نك\u200d"


def test_clean_input_removes_controls_and_bidi_marks() -> None:
    assert clean_input("\ufeff\u202bكتاب\u202c\u200f\x00") == "كتاب"
    assert clean_input("\u2067كتاب\u2069 \u061cبر") == "كتاب بر"


def test_clean_input_turns_line_breaks_and_tabs_into_spaces_and_strips() -> None:
    assert clean_input("  عثمانلی\r\nدولتی\tایله\n") == "عثمانلی دولتی ایله"


def test_clean_input_composes_to_nfc() -> None:
    assert clean_input("ا\u0654مر") == "أمر"


# --- latin_to_ottoman and the keyboard map ---------------------------------------------------


@pytest.mark.parametrize(
    ("key", "letter"),
    [("q", "ك"), ("Q", "گ"), ("k", "ق"), ("N", "ڭ"), ("p", "پ"), ("ç", "چ"), ("j", "ژ")],
)
def test_the_required_keys_type_their_letters(key: str, letter: str) -> None:
    assert latin_to_ottoman(key) == letter


def test_latin_to_ottoman_types_a_word_and_passes_unmapped_characters_through() -> None:
    assert latin_to_ottoman("qtab") == "كتاب"
    assert latin_to_ottoman("1908.") == "١٩٠٨."
    assert latin_to_ottoman("ne?") == "نه؟"


def test_the_kef_key_types_the_canonical_kaf() -> None:
    assert latin_to_ottoman("q") == "\u0643"
    assert latin_to_ottoman("y") == "\u06cc"
    assert latin_to_ottoman("h") == "\u0647"


def test_every_ottoman_letter_has_an_on_screen_key_and_a_physical_key() -> None:
    on_screen = set(layout_chars())
    typed = set(keyboard()["latin"].values())
    for letter in OTTOMAN_LETTERS:
        assert letter in on_screen, letter
        assert letter in typed, letter


def test_the_keyboard_has_digits_punctuation_zwnj_space_and_backspace() -> None:
    chars = set(layout_chars())
    assert {chr(0x660 + i) for i in range(10)} <= chars
    assert {"،", "؛", "؟", ZWNJ, " "} <= chars
    assert any(key.get("action") == "backspace" for key in layout_keys())
    assert keyboard()["chords"]["Shift+Space"] == ZWNJ


def test_digits_and_punctuation_keys_type_arabic_forms() -> None:
    assert latin_to_ottoman("0123456789") == "٠١٢٣٤٥٦٧٨٩"
    assert latin_to_ottoman(",;?") == "،؛؟"


def test_variant_letters_that_normalize_folds_have_no_key() -> None:
    # One code point per letter: ي ى ک would be folded away, so typing them would be a trap.
    chars = set(layout_chars()) | set(keyboard()["latin"].values())
    assert not chars & {"ي", "ى", "ک", "ە", "ھ", "ۀ"}


def test_every_key_types_a_form_normalize_leaves_unchanged() -> None:
    # In context: a lone combining hamza or ZWNJ is not a text on its own. ZWNJ is the one
    # documented exception under the default policy, which removes it.
    keep = NormalizationPolicy(fold_zwnj="keep")
    for char in [*layout_chars(), *keyboard()["latin"].values()]:
        text = "ه" + char + "ب"
        policy = keep if char == ZWNJ else DEFAULT_POLICY
        assert normalize(text, policy) == text, f"U+{ord(char[0]):04X}"


def test_every_on_screen_key_names_its_letter_and_a_physical_key_that_types_it() -> None:
    latin = keyboard()["latin"]
    for key in layout_keys():
        assert key["name"] and key["label"], key
        hint = key["latin"]
        if "char" in key and len(hint) == 1:
            assert latin[hint] == key["char"], key


def test_the_keyboard_file_has_no_duplicate_keys() -> None:
    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        keys = [k for k, _ in pairs]
        assert len(keys) == len(set(keys)), sorted(k for k in keys if keys.count(k) > 1)
        return dict(pairs)

    json.loads(KEYBOARD_PATH.read_text(encoding="utf-8"), object_pairs_hook=refuse_duplicates)
    chars = layout_chars()
    assert len(chars) == len(set(chars))


def test_a_physical_key_types_one_character_at_a_time() -> None:
    for key, text in keyboard()["latin"].items():
        assert len(key) == 1, key
        assert len(text) == 1, key


def test_keyboard_returns_a_copy_the_caller_may_change() -> None:
    keyboard()["latin"]["q"] = "x"
    assert latin_to_ottoman("q") == "ك"
    assert keyboard()["latin"]["q"] == "ك"
