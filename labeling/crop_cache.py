"""Line crops cut once and kept in the cache, not cut from the full scan on every request.

Decoding a scan is most of a crop's cost (a 2400 x 3400 page: about 100 ms a request). The
first request for a line of a page decodes the page once and caches the crop of every line of
that page, so the next lines a person opens are served from the cache. A crop's key holds the
page image's name and the line's box: a moved box or a levelled page image is a new key, never
a stale crop. What is cached is exactly what `crops.PageCrops` makes, the bytes releases export.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.cache import cache

from labeling.crops import PageCrops
from labeling.models import Line, Page
from labeling.ocr import BBox


def _key(image_name: str, bbox: BBox) -> str:
    digest = hashlib.sha256(image_name.encode()).hexdigest()[:24]
    return f"crop:{digest}:{bbox.left}-{bbox.top}-{bbox.right}-{bbox.bottom}"


def line_png(line: Line) -> bytes:
    """The line's crop as PNG bytes: from the cache, or cut with the rest of its page."""
    page: Page = line.page
    name = str(page.image.name)
    key = _key(name, line.bbox)
    cached = cache.get(key)
    if cached is not None:
        return bytes(cached)
    with page.image.open("rb") as stored:
        crops = PageCrops(stored.read())
    try:
        wanted = crops.png(line.bbox)
        cuts = {key: wanted}
        if settings.CROP_CACHE_WHOLE_PAGE:
            for other in Line.objects.filter(page_id=page.pk).exclude(pk=line.pk):
                cuts.setdefault(_key(name, other.bbox), crops.png(other.bbox))
    finally:
        crops.close()
    cache.set_many(cuts, timeout=settings.CROP_CACHE_SECONDS)
    return wanted
