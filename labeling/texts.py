"""A document as plain text: the person's corrections where they exist, Tesseract elsewhere."""

from __future__ import annotations

from django.utils.text import slugify

from accounts.models import User
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
    for page in document.pages.prefetch_related("lines").order_by("number"):
        parts.append(f"--- Page {page.number} ({page.source_name}) ---")
        if page.ocr_status == OcrStatus.FAILED:
            parts.append(f"[Tesseract could not read this page: {page.ocr_error}]")
        elif page.ocr_status != OcrStatus.DONE:
            parts.append("[This page has not been read yet.]")
        else:
            parts.extend(own.get(line.pk, line.prediction) for line in page.lines.all())
        parts.append("")
    return "\n".join(parts).rstrip("\n") + "\n"


def text_filename(document: Document) -> str:
    """An ASCII-safe download name; Arabic-script titles fall back to the document number."""
    slug = slugify(document.title) or f"document-{document.pk}"
    return f"{slug}.txt"
