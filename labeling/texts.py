"""A document as plain text: the person's corrections where they exist, Tesseract elsewhere."""

from __future__ import annotations

from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from labeling.boxes import pages_missing_lines
from labeling.models import Document, OcrStatus, Transcription


def document_text(*, document: Document, user: User) -> str:
    """UTF-8-ready text in reading order, each page under a label line.

    Lines are in logical (typing) order, as Unicode stores right-to-left text; any viewer with
    bidi support shows them right to left.
    """
    own = dict(
        Transcription.objects.filter(line__page__document=document, user=user).values_list(
            "line_id", "text"
        )
    )
    parts = [document.title, ""]
    pages = list(document.pages.prefetch_related("lines").order_by("number"))
    missing = pages_missing_lines(pages)
    for page in pages:
        parts.append(
            _("--- Page %(number)d (%(name)s) ---")
            % {"number": page.number, "name": page.source_name}
        )
        lines = page.lines.all()
        if page.ocr_status == OcrStatus.FAILED and not lines:
            parts.append(
                _("[Tesseract could not read this page: %(error)s]") % {"error": page.ocr_error}
            )
        elif page.ocr_status != OcrStatus.DONE and not page.reread:
            parts.append(_("[This page has not been read yet.]"))
        else:
            # A page whose boxes a person is fixing is re-read line by line: its lines stand.
            parts.extend(own.get(line.pk, line.prediction) for line in lines)
        if page.pk in missing:
            parts.append(
                ngettext(
                    "[Tesseract may have missed %(n)d line on this page; it is not in this text.]",
                    "[Tesseract may have missed %(n)d lines on this page; they are not in this "
                    "text.]",
                    missing[page.pk],
                )
                % {"n": missing[page.pk]}
            )
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def text_filename(document: Document) -> str:
    """An ASCII-safe download name; Arabic-script titles fall back to the document number."""
    slug = slugify(document.title) or f"document-{document.pk}"
    return f"{slug}.txt"
