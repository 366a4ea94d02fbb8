"""Characters of a text collection and of a Tesseract model: a release's character inventory
and which of its characters a model cannot write. No Django."""

from __future__ import annotations

import re
import subprocess
import tempfile
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CharCount:
    char: str
    count: int

    @property
    def codepoint(self) -> str:
        return f"U+{ord(self.char):04X}"

    @property
    def name(self) -> str:
        return unicodedata.name(self.char, "<unnamed>")

    @property
    def shown(self) -> str:
        """The character as one can see it in a table: combining marks on a dotted circle."""
        if unicodedata.combining(self.char) or unicodedata.category(self.char) in ("Mn", "Me"):
            return "\u25cc" + self.char
        if unicodedata.category(self.char) in ("Zs", "Cf", "Cc"):
            return ""
        return self.char


def inventory(counter: Counter[str]) -> list[CharCount]:
    """Each character with its count, most frequent first (ties by code point)."""
    return [
        CharCount(char, count)
        for char, count in sorted(counter.items(), key=lambda item: (-item[1], item[0]))
    ]


class UnicharsetError(Exception):
    """The model's character set could not be read."""


def tessdata_dir(*, tesseract_cmd: str = "tesseract") -> Path:
    """The folder of the installed language packs, as `tesseract --list-langs` names it."""
    try:
        result = subprocess.run(
            [tesseract_cmd, "--list-langs"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise UnicharsetError(f"Tesseract did not answer: {exc}") from exc
    match = re.search(r'"([^"]+)"', result.stdout.decode("utf-8", errors="replace"))
    if match is None:
        raise UnicharsetError("tesseract --list-langs named no tessdata folder")
    return Path(match.group(1))


def parse_unicharset(text: str) -> set[str]:
    """The code points a unicharset file's entries are made of ("NULL" is the space)."""
    chars: set[str] = set()
    for line in text.splitlines()[1:]:
        entry = line.split(" ", 1)[0]
        if not entry:
            continue
        chars.update(" " if entry == "NULL" else entry)
    return chars


def model_characters(traineddata: Path, *, combine_cmd: str = "combine_tessdata") -> set[str]:
    """The characters a .traineddata can write: its LSTM unicharset (or the legacy one)."""
    if not traineddata.is_file():
        raise UnicharsetError(f"{traineddata} does not exist")
    with tempfile.TemporaryDirectory(prefix="unicharset-") as folder:
        prefix = Path(folder) / "model."
        try:
            subprocess.run(
                [combine_cmd, "-u", str(traineddata), str(prefix)],
                capture_output=True,
                timeout=120,
                check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise UnicharsetError(
                f"combine_tessdata could not unpack {traineddata}: {exc}"
            ) from exc
        for part in ("lstm-unicharset", "unicharset"):
            path = Path(folder) / f"model.{part}"
            if path.is_file() and path.stat().st_size:
                return parse_unicharset(path.read_text(encoding="utf-8", errors="replace"))
    raise UnicharsetError(f"{traineddata} holds no unicharset")


def missing_from(chars: Iterable[str], known: set[str]) -> set[str]:
    """The characters a model lacks (spaces and line breaks aside)."""
    return {char for char in chars if char not in known and char not in " \n"}
