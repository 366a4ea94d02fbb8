"""The client's keyboard map is the site's: same file, same transliteration."""

from __future__ import annotations

import random
from pathlib import Path

from ottoman_ocr_client import keymap

from labeling import ottoman

ROOT = Path(__file__).resolve().parents[2]


def test_the_clients_keyboard_json_is_byte_identical_to_the_sites() -> None:
    site = (ROOT / "labeling" / "keyboard.json").read_bytes()
    client = (ROOT / "client" / "ottoman_ocr_client" / "keyboard.json").read_bytes()
    assert client == site, "copy labeling/keyboard.json to client/ottoman_ocr_client/"


def test_it_transliterates_every_key_as_the_site_does() -> None:
    for key in ottoman.keyboard()["latin"]:
        assert keymap.latin_to_ottoman(key) == ottoman.latin_to_ottoman(key)


def test_it_transliterates_many_strings_as_the_site_does() -> None:
    keys = list(ottoman.keyboard()["latin"])
    others = list("XYZ-.:!()[]\u200c éàQ\u0654\n\tابت٣")
    rng = random.Random(11)
    texts = ["", "merhaba dünya", "Istanbul'da 1299 senesi", "kitab-ı mukaddes?"]
    texts += [
        "".join(rng.choice(keys + others) for _ in range(rng.randint(1, 40))) for _ in range(500)
    ]
    for text in texts:
        assert keymap.latin_to_ottoman(text) == ottoman.latin_to_ottoman(text), text


def test_a_typed_word_becomes_ottoman_letters() -> None:
    assert keymap.latin_to_ottoman("kitab") == "قیتاب"
    assert keymap.latin_to_ottoman("qitab") == "كیتاب"


def test_the_on_screen_layout_has_every_letter_key_of_the_sites_map() -> None:
    site_chars = {
        key["char"] for row in ottoman.keyboard()["layout"] for key in row["keys"] if "char" in key
    }
    client_chars = {key.char for _name, keys in keymap.layout() for key in keys if key.char}
    assert client_chars == site_chars
    actions = [key.action for _name, keys in keymap.layout() for key in keys if key.action]
    assert actions == ["backspace"]


def test_shift_space_types_a_zero_width_non_joiner() -> None:
    assert keymap.chord("Shift+Space") == "\u200c"
    assert keymap.shortcut() == "Alt+K"
    assert keymap.latin_key("q") == "ك"
    assert keymap.latin_key("ğ") == "غ"
    assert keymap.latin_key("€") is None
