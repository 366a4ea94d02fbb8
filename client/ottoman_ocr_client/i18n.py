"""The clients' messages in the person's language: gettext's catalogue in this package
(locale/<language>/LC_MESSAGES/ottoman-ocr-client.mo), chosen by LANGUAGE, LC_ALL, LC_MESSAGES
or LANG as gettext does (LANG=tr_TR.UTF-8: Turkish); English where there is none."""

from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "ottoman-ocr-client"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_ = gettext.translation(DOMAIN, localedir=LOCALE_DIR, fallback=True).gettext
