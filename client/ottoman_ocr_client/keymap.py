"""The Ottoman keyboard map, read from keyboard.json (a copy of the site's labeling/keyboard.json).

A test keeps the copy byte-identical to the site's file and compares `latin_to_ottoman` with
the site's function, so the terminal, the desktop keyboard and the web page type alike.
"""

from __future__ import annotations

import copy
import functools
import json
from dataclasses import dataclass
from importlib import resources
from typing import Any


@functools.cache
def _load() -> dict[str, Any]:
    text = resources.files(__package__).joinpath("keyboard.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def keyboard() -> dict[str, Any]:
    """The whole map, as a copy the caller may change."""
    return copy.deepcopy(_load())


def latin_to_ottoman(text: str) -> str:
    """Transliterate key by key as the site's Latin-key toggle does; other characters kept."""
    latin: dict[str, str] = _load()["latin"]
    return "".join(latin.get(ch, ch) for ch in text)


def latin_key(key_text: str) -> str | None:
    """What one typed key gives with the toggle on, or None when the map has no such key."""
    mapped: str | None = _load()["latin"].get(key_text)
    return mapped


def chord(name: str) -> str | None:
    """The text of a key combination such as "Shift+Space", or None."""
    chords: dict[str, str] = _load().get("chords", {})
    return chords.get(name)


def shortcut() -> str:
    """The toggle's keyboard shortcut, as the site names it ("Alt+K")."""
    return str(_load().get("shortcut", "Alt+K"))


@dataclass(frozen=True)
class Key:
    label: str
    name: str
    char: str | None  # None for an action key
    action: str | None  # "backspace" or None
    wide: int


def layout() -> list[tuple[str, list[Key]]]:
    """The on-screen keyboard's rows, as (row name, keys)."""
    rows: list[tuple[str, list[Key]]] = []
    for row in _load()["layout"]:
        keys = [
            Key(
                label=key["label"],
                name=key["name"],
                char=key.get("char"),
                action=key.get("action"),
                wide=int(key.get("wide", 1)),
            )
            for key in row["keys"]
        ]
        rows.append((row["row"], keys))
    return rows
