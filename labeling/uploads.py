"""Turn one uploaded file into page images, judged by its content rather than its name.

No Django models or settings here (only its translation, when Django runs): the upload form
calls `inspect_upload` (a cheap check of the whole file), the split task `iter_pages` (one
page at a time), and tests and the demo `split_upload`, with a file object or bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import threading
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_raw
from PIL import Image, ImageChops, ImageOps

try:  # messages are translated when Django runs; this module works without it too
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.translation import gettext as _django_gettext
except ImportError:  # pragma: no cover
    _django_gettext = None  # type: ignore[assignment]


def _(message: str) -> str:
    if _django_gettext is None:
        return message  # pragma: no cover
    try:
        return _django_gettext(message)
    except ImproperlyConfigured:
        return message


MB = 1024 * 1024

# The kinds `detect_kind` returns, as users know them, and the extension to suggest for each.
KIND_LABELS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF", "pdf": "PDF"}
KIND_EXTENSIONS = {"png": ".png", "jpeg": ".jpg", "tiff": ".tif", "pdf": ".pdf"}

# Extensions we can vouch for. Any other extension (or none) is left to the content to decide.
KNOWN_EXTENSIONS = {
    ".png": "png",
    ".jpg": "jpeg",
    ".jpeg": "jpeg",
    ".jpe": "jpeg",
    ".tif": "tiff",
    ".tiff": "tiff",
    ".pdf": "pdf",
}

# Modes that browsers, Tesseract and Pillow crops all read the same way, so a PNG in one of
# these modes can be stored byte for byte.
_STORABLE_MODES = {"1", "L", "RGB", "P"}
_ALPHA_MODES = {"LA", "La", "PA", "RGBA", "RGBa"}

# PDFium is not thread-safe, not even across different documents, and a Django process may
# serve uploads from several threads.
_PDFIUM_LOCK = threading.Lock()

_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "tiff": "TIFF"}


@dataclass(frozen=True)
class UploadLimits:
    """What one upload may cost us: bytes on the way in, pixels and pages on the way out."""

    max_file_bytes: int = 50 * MB
    max_page_pixels: int = 60_000_000
    max_pdf_pages: int = 200  # also caps the frames of a multi-page TIFF
    pdf_dpi: int = 300


@dataclass(frozen=True)
class PageImage:
    """One page ready to store: `data` is the file's bytes in the format named by `extension`."""

    data: bytes
    extension: str  # "png" or "jpg"
    width: int
    height: int
    sha256: str  # hex sha256 of `data`
    source_index: int  # 0-based frame/page number inside the uploaded file


class UploadRejected(Exception):
    """The message (str(exc)) is shown to the user on the form: plain, specific, names the file."""


def page_sha256(data: bytes) -> str:
    """Hex SHA-256 of a stored page's bytes."""
    return hashlib.sha256(data).hexdigest()


def detect_kind(head: bytes) -> str | None:
    """Name the kind of file from its first bytes: "png", "jpeg", "tiff", "pdf" or None.

    Pass at least the first 1024 bytes: a PDF header may sit anywhere in them, as PDF readers
    accept (some scanner software writes a few bytes before it).
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    # Classic TIFF, then BigTIFF, in both byte orders.
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return "tiff"
    if b"%PDF-" in head[:1024]:
        return "pdf"
    return None


@dataclass(frozen=True)
class SourceInfo:
    """What the cheap check of a whole uploaded file found; nothing was decoded."""

    kind: str  # "png", "jpeg", "tiff" or "pdf"
    size: int  # bytes
    sha256: str  # hex sha256 of the whole file
    page_count: int  # pages (PDF), frames (TIFF) or 1

    @property
    def extension(self) -> str:
        return KIND_EXTENSIONS[self.kind].lstrip(".")


def inspect_upload(
    fileobj: BinaryIO, *, filename: str, limits: UploadLimits = UploadLimits()
) -> SourceInfo:
    """Check a whole uploaded file cheaply: its kind by content, size, page count and every
    page's size, from headers only; no page is decoded or rendered, so this costs about the
    file's size in memory and a fraction of a second whatever the pages hold.

    Raises UploadRejected (message for the uploader, naming the file). A file that passes may
    still fail when its pages are decoded (`iter_pages`): damage deep inside a page.
    """
    name = _display_name(filename)
    data = _read_within_limit(fileobj, name=name, max_bytes=limits.max_file_bytes)
    kind = _kind_of(data, name=name)
    if kind == "pdf":
        with _PDFIUM_LOCK:
            pdf = _open_pdf(data, name=name)
            try:
                page_count = _check_pdf(pdf, name=name, limits=limits)
            finally:
                pdf.close()
    elif kind == "tiff":
        page_count = _count_tiff_frames(
            _open_image(data, fmt="TIFF", name=name, limits=limits), name=name, limits=limits
        )
    else:
        image = _open_image(data, fmt=_PILLOW_FORMATS[kind], name=name, limits=limits)
        _check_pixels(*image.size, label=name, limits=limits)
        if not _ends_whole(data, kind):
            raise UploadRejected(_damaged(name))
        page_count = 1
    return SourceInfo(kind=kind, size=len(data), sha256=page_sha256(data), page_count=page_count)


def iter_pages(
    data: bytes, *, filename: str, limits: UploadLimits = UploadLimits(), start: int = 0
) -> Iterator[PageImage]:
    """The file's pages from index `start` on, decoded (or rendered) one at a time, ready to
    store. Raises UploadRejected for the first page that cannot be read; the pages before it
    have been yielded."""
    name = _display_name(filename)
    kind = _kind_of(data, name=name)
    if kind == "pdf":
        yield from _iter_pdf(data, name=name, limits=limits, start=start)
    elif kind == "tiff":
        yield from _iter_tiff(data, name=name, limits=limits, start=start)
    elif start == 0:
        yield (_png_page if kind == "png" else _jpeg_page)(data, name=name, limits=limits)


def split_upload(
    fileobj: BinaryIO, *, filename: str, limits: UploadLimits = UploadLimits()
) -> list[PageImage]:
    """Read a whole uploaded file and return its pages, in order, ready to store.

    A seekable file is read from its start. `filename` is only used to check a known extension
    against the content and to name the file in messages. Raises UploadRejected, whose message
    is meant for the uploader, if the file or any one of its pages is unacceptable: no partial
    list is ever returned. Nothing is written to disk.
    """
    inspect_upload(fileobj, filename=filename, limits=limits)
    fileobj.seek(0)
    return list(iter_pages(fileobj.read(), filename=filename, limits=limits))


# -- Reading and naming ----------------------------------------------------------------------


def _display_name(filename: str) -> str:
    # Some browsers send the client's full path; Windows paths use backslashes.
    base = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return base or _("The file")


def _read_within_limit(fileobj: BinaryIO, *, name: str, max_bytes: int) -> bytes:
    if fileobj.seekable():
        fileobj.seek(0, os.SEEK_END)
        size = fileobj.tell()
        fileobj.seek(0)
        if size > max_bytes:
            raise UploadRejected(
                _("%(name)s is %(size)s; the limit is %(limit)s.")
                % {
                    "name": name,
                    "size": _format_bytes(size, round_up=True),
                    "limit": _format_bytes(max_bytes),
                }
            )
    # Read at most one byte past the limit, even when the size looked fine, so a stream that
    # lied about its size (or has none) still cannot make us hold more than that.
    chunks: list[bytes] = []
    remaining = max_bytes + 1
    while remaining > 0:
        chunk = fileobj.read(remaining)
        if not chunk:
            break
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise UploadRejected(
            _("%(name)s is over the limit of %(limit)s.")
            % {"name": name, "limit": _format_bytes(max_bytes)}
        )
    if not data:
        raise UploadRejected(_("%(name)s is empty.") % {"name": name})
    return data


def _kind_of(data: bytes, *, name: str) -> str:
    kind = detect_kind(data[:1024])
    if kind is None:
        raise UploadRejected(
            _("%(name)s is not a PNG, JPEG, TIFF or PDF file; only those can be uploaded.")
            % {"name": name}
        )
    _check_extension(kind=kind, name=name)
    return kind


def _damaged(label: str) -> str:
    return _("%(name)s is damaged or truncated and cannot be read.") % {"name": label}


def _ends_whole(data: bytes, kind: str) -> bool:
    """Whether the file ends as its format ends: a cheap test for a cut-off upload."""
    if kind == "png":
        return b"IEND" in data[-64:]
    return b"\xff\xd9" in data[-1024:]  # JPEG's end-of-image marker (trailers may follow)


def _check_extension(*, kind: str, name: str) -> None:
    extension = os.path.splitext(name)[1].lower()
    claimed = KNOWN_EXTENSIONS.get(extension)
    # A wrong extension would be stored and served under the wrong type, and it usually
    # means the uploader picked the wrong file, so we say so rather than guess.
    if claimed is not None and claimed != kind:
        raise UploadRejected(
            _(
                "%(name)s is really a %(kind)s file, not %(claimed)s; rename it to "
                "%(extension)s and upload it again."
            )
            % {
                "name": name,
                "kind": KIND_LABELS[kind],
                "claimed": KIND_LABELS[claimed],
                "extension": KIND_EXTENSIONS[kind],
            }
        )


def _format_bytes(size: int, *, round_up: bool = False) -> str:
    # The file's own size is rounded up so that one byte over never reads as "50 MB; the
    # limit is 50 MB".
    for unit, scale in (("MB", MB), ("KB", 1024)):
        if size >= scale:
            return f"{_one_decimal(size / scale, round_up=round_up)} {unit}"
    return _("%(n)d bytes") % {"n": size}


def _format_pixels(pixels: int, *, round_up: bool = False) -> str:
    if pixels >= 1_000_000:
        return _("%(n)s megapixels") % {"n": _one_decimal(pixels / 1_000_000, round_up=round_up)}
    return _("%(n)s pixels") % {"n": f"{pixels:,}"}


def _one_decimal(value: float, *, round_up: bool) -> str:
    rounded = math.ceil(value * 10) / 10 if round_up else round(value, 1)
    return f"{rounded:.1f}".removesuffix(".0")


def _page_label(name: str, index: int) -> str:
    return _("Page %(number)d of %(name)s") % {"number": index + 1, "name": name}


def _check_pixels(
    width: int, height: int, *, label: str, limits: UploadLimits, at_dpi: str = ""
) -> None:
    pixels = width * height
    if pixels > limits.max_page_pixels:
        raise UploadRejected(
            _(
                "%(page)s is %(width)d × %(height)d pixels%(dpi)s (%(pixels)s); "
                "the limit is %(limit)s per page."
            )
            % {
                "page": label,
                "width": width,
                "height": height,
                "dpi": at_dpi,
                "pixels": _format_pixels(pixels, round_up=True),
                "limit": _format_pixels(limits.max_page_pixels),
            }
        )


# -- Images ----------------------------------------------------------------------------------


def _open_image(data: bytes, *, fmt: str, name: str, limits: UploadLimits) -> Image.Image:
    """Open an image from its header only; reject it if Pillow itself finds it too large."""
    try:
        # Pillow warns, then errors, past its own global Image.MAX_IMAGE_PIXELS. We turn the
        # warning into an error only for this call; the global stays as others set it, and
        # our own limit is checked below whatever it is.
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=[fmt])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise UploadRejected(
            _(
                "%(name)s declares more pixels than can be opened safely; "
                "the limit is %(limit)s per page."
            )
            % {"name": name, "limit": _format_pixels(limits.max_page_pixels)}
        ) from None
    except Exception:
        # Pillow's plugins raise many exception types on hostile input (OSError, SyntaxError,
        # ValueError, struct.error, ...); each means the same thing to the uploader.
        raise UploadRejected(_damaged(name)) from None
    return image


def _decode(image: Image.Image, *, label: str) -> None:
    """Decode every pixel now, so a broken or truncated file is caught here and not later."""
    try:
        image.load()
    except Exception:
        # See _open_image: any failure to decode means the file is unusable.
        raise UploadRejected(_damaged(label)) from None


def _png_page(data: bytes, *, name: str, limits: UploadLimits) -> PageImage:
    image = _open_image(data, fmt="PNG", name=name, limits=limits)
    _check_pixels(*image.size, label=name, limits=limits)
    _decode(image, label=name)
    # An animated PNG would play in the browser while Tesseract reads only its first frame.
    animated = bool(getattr(image, "is_animated", False))
    if image.mode in _STORABLE_MODES and "transparency" not in image.info and not animated:
        return _page(data, "png", image.size, index=0)
    return _png_from(_normalise(image), index=0)


def _jpeg_page(data: bytes, *, name: str, limits: UploadLimits) -> PageImage:
    image = _open_image(data, fmt="JPEG", name=name, limits=limits)
    _check_pixels(*image.size, label=name, limits=limits)
    _decode(image, label=name)
    orientation = image.getexif().get(0x0112, 1)
    if image.mode in ("L", "RGB") and orientation not in range(2, 9):
        return _page(data, "jpg", image.size, index=0)
    # Browsers honour EXIF orientation, Tesseract and Pillow crops do not: store the pixels
    # already turned, and as PNG so turning them costs no second round of JPEG loss.
    return _png_from(_normalise(ImageOps.exif_transpose(image)), index=0)


def _count_tiff_frames(image: Image.Image, *, name: str, limits: UploadLimits) -> int:
    """Count the frames and check each one's size from its header alone."""
    frame_count = 0
    try:
        while True:
            try:
                image.seek(frame_count)
            except EOFError:
                break
            if frame_count >= limits.max_pdf_pages:
                raise UploadRejected(
                    _("%(name)s has more than %(limit)d pages; the limit is %(limit)d.")
                    % {"name": name, "limit": limits.max_pdf_pages}
                )
            _check_pixels(*image.size, label=_page_label(name, frame_count), limits=limits)
            frame_count += 1
    except UploadRejected:
        raise
    except Exception:
        # See _open_image.
        raise UploadRejected(_damaged(name)) from None
    return frame_count


def _iter_tiff(data: bytes, *, name: str, limits: UploadLimits, start: int) -> Iterator[PageImage]:
    image = _open_image(data, fmt="TIFF", name=name, limits=limits)
    # Count and check every frame from its header before decoding any, so a bad last page
    # costs nothing.
    frame_count = _count_tiff_frames(image, name=name, limits=limits)
    for index in range(start, frame_count):
        label = _page_label(name, index)
        try:
            image.seek(index)
        except Exception:
            raise UploadRejected(_damaged(label)) from None
        # Pillow itself turns a TIFF frame upright by its orientation tag as it decodes.
        _decode(image, label=label)
        yield _png_from(_normalise(image), index=index)


def _normalise(image: Image.Image) -> Image.Image:
    """Return the image in a mode every reader shows alike: 1, L, P or RGB, with no alpha."""
    mode = image.mode
    if mode in _ALPHA_MODES or "transparency" in image.info:
        return _flatten_onto_white(image)
    if mode.startswith("I;16") or mode == "I":
        # Pillow's own I;16 -> L conversion clips at 255, turning most of a 16-bit scan white;
        # scale the full 16-bit range down to 8 bits instead.
        wide = image.convert("I") if mode != "I" else image
        return wide.point(lambda value: value / 257).convert("L")
    if mode in _STORABLE_MODES:
        return image
    if mode == "F":
        return image.convert("L")
    # CMYK, YCbCr, LAB, HSV and anything rarer.
    rgb = image.convert("RGB")
    # Pillow carries the embedded profile over, but it describes the old colour space: in an
    # RGB PNG it would be invalid and viewers would ignore or misapply it.
    rgb.info.pop("icc_profile", None)
    return rgb


def _flatten_onto_white(image: Image.Image) -> Image.Image:
    # Transparent areas of a scan are paper: show them as white everywhere, not as whatever
    # colour the transparent pixels happen to hold.
    if image.mode in ("LA", "La") or (image.mode == "L" and "transparency" in image.info):
        grey = image.convert("LA")
        background = Image.new("L", image.size, 255)
        background.paste(grey.getchannel("L"), mask=grey.getchannel("A"))
    else:
        rgba = image.convert("RGBA")
        background = Image.new("RGB", image.size, (255, 255, 255))
        background.paste(rgba.convert("RGB"), mask=rgba.getchannel("A"))
    # Same colour space as before, only without alpha, so the profile still applies.
    if "icc_profile" in image.info:
        background.info["icc_profile"] = image.info["icc_profile"]
    return background


def _png_from(image: Image.Image, *, index: int) -> PageImage:
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return _page(buffer.getvalue(), "png", image.size, index=index)


def _page(data: bytes, extension: str, size: tuple[int, int], *, index: int) -> PageImage:
    width, height = size
    return PageImage(
        data=data,
        extension=extension,
        width=width,
        height=height,
        sha256=page_sha256(data),
        source_index=index,
    )


# -- PDF -------------------------------------------------------------------------------------


def _open_pdf(data: bytes, *, name: str) -> pdfium.PdfDocument:
    # Not pdfium.PdfDocument(data): it reports a document with no pages as a failed load,
    # with whatever error code PDFium kept from an earlier failure (a successful load does
    # not clear it), so an empty PDF after an encrypted one would read as "password-protected".
    # A PDF encrypted only with an owner password (printing or copying restrictions) opens
    # without one here and is read like any other: its pages are readable, and their owner
    # uploads them. One that needs a password to open is refused.
    raw = pdfium_raw.FPDF_LoadMemDocument64(data, len(data), None)
    if not raw:
        messages = {
            pdfium_raw.FPDF_ERR_PASSWORD: _(
                "%(name)s is password-protected; remove the password and upload it again."
            ),
            pdfium_raw.FPDF_ERR_SECURITY: _(
                "%(name)s is encrypted in a way that cannot be opened; save an unencrypted "
                "copy and upload that."
            ),
        }
        error = pdfium_raw.FPDF_GetLastError()
        message = messages.get(error, _("%(name)s is not a readable PDF."))
        raise UploadRejected(message % {"name": name})
    return pdfium.PdfDocument(raw)


def _pdf_scale(limits: UploadLimits) -> float:
    # render() sizes the bitmap as ceil(points * scale), and 300 / 72 is stored a hair too
    # large, so a 420 pt page would come out 1751 px wide instead of 1750. One step down to
    # the next float makes every page that is a whole number of pixels come out exact.
    return math.nextafter(limits.pdf_dpi / 72, 0)


def _check_pdf(pdf: pdfium.PdfDocument, *, name: str, limits: UploadLimits) -> int:
    """The page count, once every page's size is checked; nothing is rendered."""
    page_count = len(pdf)
    if page_count == 0:
        raise UploadRejected(_("%(name)s has no pages.") % {"name": name})
    if page_count > limits.max_pdf_pages:
        raise UploadRejected(
            _("%(name)s has %(count)d pages; the limit is %(limit)d.")
            % {"name": name, "count": page_count, "limit": limits.max_pdf_pages}
        )
    scale = _pdf_scale(limits)
    # The size in points is in the page dictionary; the pixels would cost memory. The
    # rounding is the same as render()'s.
    for index in range(page_count):
        label = _page_label(name, index)
        try:
            width_pt, height_pt = pdf.get_page_size(index)
        except pdfium.PdfiumError:
            raise UploadRejected(_unreadable_page(label)) from None
        _check_pixels(
            math.ceil(width_pt * scale),
            math.ceil(height_pt * scale),
            label=label,
            limits=limits,
            at_dpi=_(" at %(dpi)d dpi") % {"dpi": limits.pdf_dpi},
        )
    return page_count


def _unreadable_page(label: str) -> str:
    return _("%(page)s is not a readable PDF page.") % {"page": label}


def _iter_pdf(data: bytes, *, name: str, limits: UploadLimits, start: int) -> Iterator[PageImage]:
    # PDFium is held only while it works, not while the caller stores a page. The document
    # reads straight from `data`, which this frame keeps alive until it is closed.
    with _PDFIUM_LOCK:
        pdf = _open_pdf(data, name=name)
    try:
        with _PDFIUM_LOCK:
            page_count = _check_pdf(pdf, name=name, limits=limits)
        scale = _pdf_scale(limits)
        for index in range(start, page_count):
            with _PDFIUM_LOCK:
                page = _render_pdf_page(
                    pdf, index=index, scale=scale, label=_page_label(name, index)
                )
            yield page
    finally:
        with _PDFIUM_LOCK:
            pdf.close()


def _render_pdf_page(pdf: pdfium.PdfDocument, *, index: int, scale: float, label: str) -> PageImage:
    def render() -> Image.Image:
        page = pdf[index]
        try:
            return page.render(scale=scale).to_pil().convert("RGB")
        finally:
            page.close()

    try:
        image = render()
    except pdfium.PdfiumError:
        raise UploadRejected(_unreadable_page(label)) from None
    return _png_from(_grey_if_colourless(image), index=index)


def _grey_if_colourless(image: Image.Image) -> Image.Image:
    # Most scanned books are black on white; a grey PNG is a third of the size of an RGB one
    # and Tesseract reads it the same. Rubrics in red ink keep the page in colour.
    red, green, blue = image.split()
    if (
        ImageChops.difference(red, green).getbbox() is None
        and ImageChops.difference(green, blue).getbbox() is None
    ):
        return red
    return image
