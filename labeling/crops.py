"""The PNG of a line's crop, as the line editor serves it and as releases export it.

One function makes both, so the bytes a labeler saw are the bytes in the release. No Django.
A crop that covers its whole page image (an imported line image is a page of its own) is
the stored PNG itself when that file is a plain PNG: the same pixels, without decoding and
encoding them again (a release of 100,000 imported lines is mostly this case).
"""

from __future__ import annotations

import io
import struct

from PIL import Image

from labeling.ocr import BBox, crop_line

PADDING = 4
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Chunks that change what a viewer shows beyond the pixels Pillow crops: orientation,
# transparency, animation. A PNG with one of them is encoded again like any other crop.
_UNPLAIN_CHUNKS = {b"eXIf", b"tRNS", b"acTL"}


def crop_box(bbox: BBox, width: int, height: int, *, padding: int = PADDING) -> BBox:
    """The rectangle `ocr.crop_line` cuts from a `width` x `height` page."""
    return BBox(
        max(bbox.left - padding, 0),
        max(bbox.top - padding, 0),
        min(bbox.right + padding, width),
        min(bbox.bottom + padding, height),
    )


def plain_png_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG whose chunks hold nothing but pixels and harmless notes;
    None for anything else. Reads chunk headers only."""
    if not data.startswith(_PNG_SIGNATURE) or len(data) < 33:
        return None
    position = len(_PNG_SIGNATURE)
    size: tuple[int, int] | None = None
    while position + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        if kind == b"IHDR":
            size = struct.unpack(">II", data[position + 8 : position + 16])
        elif kind in _UNPLAIN_CHUNKS:
            return None
        elif kind == b"IEND":
            return size
        position += 12 + length
    return None


class PageCrops:
    """Crops of the lines of one page image (its stored bytes), decoded at most once."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self._plain_size = plain_png_size(data)
        self._image: Image.Image | None = None

    def png(self, bbox: BBox) -> bytes:
        """The line's crop as PNG bytes."""
        if self._plain_size is not None:
            width, height = self._plain_size
            if crop_box(bbox, width, height) == BBox(0, 0, width, height):
                return self.data
        if self._image is None:
            self._image = Image.open(io.BytesIO(self.data))
        crop = crop_line(self._image, bbox, padding=PADDING)
        buffer = io.BytesIO()
        crop.save(buffer, "PNG")
        return buffer.getvalue()

    def close(self) -> None:
        if self._image is not None:
            self._image.close()
            self._image = None
