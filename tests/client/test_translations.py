"""The clients speak Turkish too: every message of the command line and the desktop client is
in the Turkish catalogue, translated, with its placeholders; the compiled catalogue the package
ships is the one the .po makes; LANG/LANGUAGE tr gets it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from ottoman_ocr_client.i18n import DOMAIN, LOCALE_DIR

PACKAGE = LOCALE_DIR.parent
PO = LOCALE_DIR / "tr" / "LC_MESSAGES" / f"{DOMAIN}.po"
MO = PO.with_suffix(".mo")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("xgettext", "msgcmp", "msgfmt")),
    reason="needs gettext's xgettext, msgcmp and msgfmt (Debian package gettext)",
)


def test_every_client_message_is_translated_into_turkish(tmp_path: Path) -> None:
    pot = tmp_path / "client.pot"
    sources = sorted(str(path) for path in PACKAGE.glob("*.py"))
    subprocess.run(
        ["xgettext", "--language=Python", "--from-code=UTF-8", "-k_", "-o", str(pot), *sources],
        check=True,
    )
    # msgcmp counts an untranslated or fuzzy entry as missing, and names each one.
    compared = subprocess.run(["msgcmp", str(PO), str(pot)], capture_output=True, text=True)
    assert compared.returncode == 0, compared.stderr
    checked = subprocess.run(  # placeholders of python-format entries, the header
        ["msgfmt", "--check", "-o", os.devnull, str(PO)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr


def test_the_shipped_catalogue_is_the_po_compiled(tmp_path: Path) -> None:
    compiled = tmp_path / "client.mo"
    subprocess.run(["msgfmt", "-o", str(compiled), str(PO)], check=True)
    assert compiled.read_bytes() == MO.read_bytes(), "run make messages and commit the .mo"


@pytest.mark.parametrize(
    ("language", "expected"),
    [("tr", "Ottoman OCR platformunun istemcisi."), ("en", "Client of the Ottoman OCR platform.")],
)
def test_the_command_line_speaks_the_persons_language(language: str, expected: str) -> None:
    env = {**os.environ, "LANGUAGE": language, "LANG": f"{language}_TR.UTF-8"}
    shown = subprocess.run(
        [sys.executable, "-m", "ottoman_ocr_client.cli", "--help"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert expected in shown.stdout
