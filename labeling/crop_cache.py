"""Line crops cut once and kept in the cache, not cut from the full scan on every request.

Decoding a scan is most of a crop's cost (a 2400 x 3400 page: about 100 ms a request). The
first request for a line of a page decodes the page once and caches the crop of every line of
that page, so the next lines a person opens are served from the cache. A crop's key holds the
page image's name and the line's box: a moved box or a levelled page image is a new key, never
a stale crop. What is cached is exactly what `crops.PageCrops` makes, the bytes releases export.

The page view's scaled copy of a scan (the preview) is made and cached the same way.
"""

from __future__ import annotations

import hashlib
import io

from django.conf import settings
from django.core.cache import cache
from PIL import Image

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


# The page view's first picture: the scan scaled to this width, as JPEG. The viewer shows it at
# once and loads the full scan only when the person zooms in past it.
PREVIEW_WIDTH = 1200
PREVIEW_QUALITY = 85


def image_version(page: Page) -> str:
    """Part of a page image's address that changes when its image does (a levelled scan), so a
    browser never shows a cached copy of the old one."""
    return hashlib.sha256(str(page.image.name).encode()).hexdigest()[:12]


def preview_size(page: Page) -> tuple[int, int] | None:
    """The preview's size, or None when the scan is no wider than a preview (it is its own)."""
    if page.width <= PREVIEW_WIDTH:
        return None
    return PREVIEW_WIDTH, max(1, round(page.height * PREVIEW_WIDTH / page.width))


def page_preview_jpeg(page: Page) -> bytes:
    """The scan scaled to PREVIEW_WIDTH as JPEG bytes: from the cache, or made once."""
    size = preview_size(page)
    if size is None:
        raise ValueError("the scan is no wider than a preview")
    key = f"preview:{image_version(page)}:{page.pk}:{size[0]}"
    cached = cache.get(key)
    if cached is not None:
        return bytes(cached)
    with page.image.open("rb") as stored, Image.open(stored) as scan:
        scan.draft("RGB", size)  # JPEG scans decode at a fraction of their size
        picture = scan if scan.mode in ("L", "RGB") else scan.convert("RGB")
        preview = picture.resize(size, Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    preview.save(buffer, "JPEG", quality=PREVIEW_QUALITY, optimize=True)
    data = buffer.getvalue()
    cache.set(key, data, timeout=settings.CROP_CACHE_SECONDS)
    return data
