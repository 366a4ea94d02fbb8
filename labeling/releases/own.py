"""A contributor's own document as line pairs, in a release's layout, streamed as it is made.

Only the document's owner gets it, and only their own data is in it: their own texts for a
private document, the checked (agreed or approved) text for a pool document, and no other
person's id (labelers and moderators are left out unless it is the owner).
"""

from __future__ import annotations

from collections.abc import Iterator

from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from labeling.models import Document, LineStatus, Transcription, Visibility
from labeling.releases import describe
from labeling.releases.layout import ReleaseZip
from labeling.releases.selection import TRAIN, TextRule, document_pages
from labeling.streams import Sink


def pairs_folder(document: Document) -> str:
    return f"{slugify(document.title) or 'document'}-{document.pk}-pairs"


def document_pairs_zip(*, document: Document) -> Iterator[bytes]:
    """The zip's bytes, page by page. The caller has checked that the person owns it."""
    own = Transcription.objects.filter(line__page__document=document, user_id=document.owner_id)
    if document.visibility == Visibility.POOL:
        # Checked text first; the owner's own reading only where nothing is checked yet.
        own = own.exclude(line__status__in=[LineStatus.AGREED, LineStatus.APPROVED])
    own_texts = dict(own.values_list("line_id", "text"))
    rule = TextRule(statuses=(LineStatus.APPROVED, LineStatus.AGREED), owner_only=document.owner_id)
    now = timezone.localtime()
    sink = Sink()
    archive = ReleaseZip(
        sink,  # type: ignore[arg-type]
        folder=pairs_folder(document),
        stamp=(now.year, now.month, now.day, now.hour, now.minute, now.second),
    )
    try:
        for page_pairs in document_pages(document, split=TRAIN, rule=rule, own_texts=own_texts):
            archive.add_page(page_pairs)
            yield sink.take()
        title = _("%(title)s: line pairs") % {"title": document.title}
        archive.finish(
            readme=describe.readme(title=title, stats=archive.stats),
            catalogue=describe.catalogue(title=title, stats=archive.stats, number=None),
        )
    finally:
        archive.close()
    yield sink.take()
