"""Tests for labeling.uploads: every file is made here, in memory, from Pillow or raw bytes."""

import hashlib
import io
import struct
import warnings
import zlib

import pypdfium2 as pdfium
import pytest
from PIL import Image, ImageDraw

from labeling.uploads import (
    PageImage,
    UploadLimits,
    UploadRejected,
    detect_kind,
    page_sha256,
    split_upload,
)

# -- Makers ----------------------------------------------------------------------------------


def image_bytes(image: Image.Image, fmt: str, **params: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **params)
    return buffer.getvalue()


def text_page(mode: str = "L", size: tuple[int, int] = (120, 80)) -> Image.Image:
    """A page with a dark block in its top-left corner, so orientation can be checked."""
    image = Image.new(mode, size, "white")
    ImageDraw.Draw(image).rectangle((0, 0, 19, 9), fill="black")
    return image


DEFAULT_LIMITS = UploadLimits()


def split(data: bytes, filename: str, limits: UploadLimits = DEFAULT_LIMITS) -> list[PageImage]:
    return split_upload(io.BytesIO(data), filename=filename, limits=limits)


def rejection(data: bytes, filename: str, limits: UploadLimits = DEFAULT_LIMITS) -> str:
    with pytest.raises(UploadRejected) as excinfo:
        split(data, filename, limits)
    message = str(excinfo.value)
    assert filename.replace("\\", "/").rsplit("/", 1)[-1] in message
    return message


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def bilevel_png_bomb(width: int, height: int) -> bytes:
    """A valid all-black 1-bit PNG: a few KB as a file, width × height bytes once decoded."""
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then packed zero bits
    compressor = zlib.compressobj(9)
    idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1 bit, greyscale
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", header)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def pdf_bytes(*pages: Image.Image) -> bytes:
    """A PDF with one page per image; at resolution 72 a page is as many points as pixels."""
    first, *rest = pages
    return image_bytes(first, "PDF", resolution=72.0, save_all=True, append_images=rest)


def blank_pdf(*sizes: tuple[float, float]) -> bytes:
    pdf = pdfium.PdfDocument.new()
    for width, height in sizes:
        pdf.new_page(width, height)
    buffer = io.BytesIO()
    pdf.save(buffer)
    return buffer.getvalue()


# The Standard security handler, revision 2 (40-bit RC4), from the PDF 1.7 spec, 7.6.3: enough
# to write a real encrypted PDF offline, since neither pypdfium2 nor Pillow can encrypt.
PASSWORD_PADDING = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")


def rc4(key: bytes, data: bytes) -> bytes:
    state = list(range(256))
    j = 0
    for i in range(256):
        j = (j + state[i] + key[i % len(key)]) % 256
        state[i], state[j] = state[j], state[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) % 256
        j = (j + state[i]) % 256
        state[i], state[j] = state[j], state[i]
        out.append(byte ^ state[(state[i] + state[j]) % 256])
    return bytes(out)


def encrypted_pdf(*, user_password: bytes, owner_password: bytes = b"owner") -> bytes:
    """A one-page PDF encrypted with the given passwords (its page has no content to encrypt)."""
    doc_id = bytes(range(16))
    permissions = -44  # no printing, no changes: the usual "protected" flags

    def padded(password: bytes) -> bytes:
        return (password + PASSWORD_PADDING)[:32]

    owner_entry = rc4(hashlib.md5(padded(owner_password)).digest()[:5], padded(user_password))
    file_key = hashlib.md5(
        padded(user_password) + owner_entry + struct.pack("<i", permissions) + doc_id
    ).digest()[:5]
    user_entry = rc4(file_key, PASSWORD_PADDING)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 300] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <%s> /U <%s> /P %d >>"
        % (owner_entry.hex().encode(), user_entry.hex().encode(), permissions),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    id_hex = doc_id.hex().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 4 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        id_hex,
        id_hex,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref_at
    return bytes(out)


class UnseekableStream(io.RawIOBase):
    """A request body that can only be read forward, like a chunked upload."""

    def __init__(self, data: bytes) -> None:
        self._data = io.BytesIO(data)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        return self._data.read(size)


# -- Images ----------------------------------------------------------------------------------


def test_it_keeps_a_png_as_uploaded() -> None:
    data = image_bytes(text_page(), "PNG")

    [page] = split(data, "folio-12.png")

    assert page.data == data
    assert page.extension == "png"
    assert (page.width, page.height) == (120, 80)
    assert page.sha256 == hashlib.sha256(data).hexdigest() == page_sha256(data)
    assert page.source_index == 0


def test_it_keeps_a_jpeg_as_uploaded() -> None:
    data = image_bytes(text_page("RGB"), "JPEG", quality=90)

    [page] = split(data, "folio-12.jpeg")

    assert page.data == data
    assert page.extension == "jpg"
    assert (page.width, page.height) == (120, 80)
    assert page.sha256 == hashlib.sha256(data).hexdigest()


def test_it_stores_a_sideways_jpeg_upright_as_png() -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    data = image_bytes(text_page("RGB"), "JPEG", quality=95, exif=exif)

    [page] = split(data, "phone-photo.jpg")

    assert page.extension == "png"
    assert (page.width, page.height) == (80, 120)
    stored = Image.open(io.BytesIO(page.data))
    assert stored.format == "PNG"
    # The block that was top-left is top-right once turned clockwise.
    assert stored.convert("L").getpixel((75, 5)) < 64
    assert stored.convert("L").getpixel((5, 5)) > 192
    assert 0x0112 not in stored.getexif()  # or a browser would turn it a second time
    assert page.sha256 == hashlib.sha256(page.data).hexdigest()


def test_it_converts_a_cmyk_jpeg_to_an_rgb_png() -> None:
    cmyk_profile = b"\x00" * 128  # stands in for a real CMYK ICC profile; only its fate matters
    data = image_bytes(
        text_page("RGB").convert("CMYK"), "JPEG", quality=95, icc_profile=cmyk_profile
    )

    [page] = split(data, "printed.jpg")

    stored = Image.open(io.BytesIO(page.data))
    assert (page.extension, stored.format, stored.mode) == ("png", "PNG", "RGB")
    assert stored.getpixel((100, 60)) == pytest.approx((255, 255, 255), abs=8)
    assert "icc_profile" not in stored.info  # a CMYK profile is not valid on RGB pixels


def test_it_composites_a_transparent_png_onto_white() -> None:
    image = Image.new("RGBA", (40, 30), (255, 0, 0, 0))  # invisible red: must come out white
    ImageDraw.Draw(image).rectangle((0, 0, 9, 9), fill=(0, 0, 0, 255))

    [page] = split(image_bytes(image, "PNG"), "cutout.png")

    stored = Image.open(io.BytesIO(page.data))
    assert stored.mode == "RGB"
    assert stored.getpixel((30, 20)) == (255, 255, 255)
    assert stored.getpixel((5, 5)) == (0, 0, 0)


def test_it_scales_a_16_bit_png_down_to_8_bit_grey() -> None:
    image = Image.new("I;16", (3, 1))
    for x, value in enumerate((0, 32896, 65535)):
        image.putpixel((x, 0), value)

    [page] = split(image_bytes(image, "PNG"), "deep.png")

    stored = Image.open(io.BytesIO(page.data))
    assert stored.mode == "L"
    assert [stored.getpixel((x, 0)) for x in range(3)] == [0, 128, 255]


def test_it_splits_a_three_frame_tiff_into_three_pages() -> None:
    bilevel = text_page("1", (64, 48))
    grey = text_page("L", (50, 40))
    deep = Image.new("I;16", (30, 20), 65535)
    data = image_bytes(
        bilevel, "TIFF", save_all=True, append_images=[grey, deep], compression="tiff_lzw"
    )

    pages = split(data, "volume.tiff")

    assert [page.source_index for page in pages] == [0, 1, 2]
    assert [(page.width, page.height) for page in pages] == [(64, 48), (50, 40), (30, 20)]
    assert {page.extension for page in pages} == {"png"}
    stored = [Image.open(io.BytesIO(page.data)) for page in pages]
    assert [image.mode for image in stored] == ["1", "L", "L"]
    assert stored[2].getpixel((0, 0)) == 255  # full-scale 16-bit white, not clipped noise
    assert all(page.sha256 == hashlib.sha256(page.data).hexdigest() for page in pages)


def test_it_keeps_a_group_4_fax_tiff_bilevel() -> None:
    data = image_bytes(text_page("1", (64, 48)), "TIFF", compression="group4")

    [page] = split(data, "fax.tif")

    stored = Image.open(io.BytesIO(page.data))
    assert (page.extension, stored.format, stored.mode) == ("png", "PNG", "1")
    assert stored.getpixel((5, 5)) == 0
    assert stored.getpixel((60, 40)) == 255


def test_it_turns_a_tiff_page_upright_by_its_orientation_tag() -> None:
    # Pillow does the turning (unlike for JPEG); this pins that down.
    data = image_bytes(text_page("L"), "TIFF", tiffinfo={0x0112: 6})

    [page] = split(data, "turned.tif")

    stored = Image.open(io.BytesIO(page.data))
    assert (page.width, page.height) == (80, 120)
    assert stored.getpixel((75, 5)) == 0


def test_it_rejects_a_tiff_with_more_frames_than_the_page_limit() -> None:
    frames = [text_page() for _ in range(4)]
    data = image_bytes(frames[0], "TIFF", save_all=True, append_images=frames[1:])

    message = rejection(data, "volume.tif", UploadLimits(max_pdf_pages=3))

    assert "more than 3 pages" in message


def test_it_rejects_a_whole_tiff_when_one_frame_is_too_large() -> None:
    small, large = text_page("L", (50, 40)), text_page("L", (200, 100))
    data = image_bytes(small, "TIFF", save_all=True, append_images=[large])

    message = rejection(data, "volume.tif", UploadLimits(max_page_pixels=10_000))

    assert message.startswith("Page 2 of volume.tif is 200 × 100 pixels")


@pytest.mark.parametrize("fmt, filename", [("PNG", "folio.png"), ("JPEG", "folio.jpg")])
def test_it_rejects_a_truncated_image(fmt: str, filename: str) -> None:
    noisy = Image.effect_noise((300, 300), 60).convert("RGB")  # noise keeps the file large
    data = image_bytes(noisy, fmt)

    message = rejection(data[: len(data) // 2], filename)

    assert message == f"{filename} is damaged or truncated and cannot be read."


def test_it_rejects_an_image_over_the_pixel_limit() -> None:
    data = image_bytes(text_page("L", (200, 100)), "PNG")

    message = rejection(data, "wide.png", UploadLimits(max_page_pixels=10_000))

    assert message == (
        "wide.png is 200 × 100 pixels (20,000 pixels); the limit is 10,000 pixels per page."
    )


@pytest.mark.parametrize(
    "side",
    [
        8_000,  # 64 MP: over our 60 MP limit, under Pillow's warning
        10_000,  # 100 MP: past Pillow's warning threshold (about 89 MP)
        20_000,  # 400 MP: past Pillow's error threshold (about 179 MP)
    ],
)
def test_it_rejects_a_decompression_bomb_without_decoding_it(side: int) -> None:
    data = bilevel_png_bomb(side, side)
    assert len(data) < 100_000  # decoding would cost `side`² bytes of memory

    message = rejection(data, "bomb.png")

    assert "the limit is 60 megapixels per page" in message


def test_it_turns_pillows_bomb_warning_into_a_rejection_without_touching_global_filters() -> None:
    # A limit above Pillow's own lets its warning, not our check, be the one that fires.
    limits = UploadLimits(max_page_pixels=150_000_000)
    filters_before = list(warnings.filters)
    max_pixels_before = Image.MAX_IMAGE_PIXELS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # what a careless caller elsewhere might have set
        message = rejection(bilevel_png_bomb(10_000, 10_000), "bomb.png", limits)

    assert message.startswith("bomb.png declares more pixels than can be opened safely")
    assert warnings.filters == filters_before
    assert max_pixels_before == Image.MAX_IMAGE_PIXELS


# -- PDF -------------------------------------------------------------------------------------


def test_it_renders_each_page_of_a_pdf_at_300_dpi() -> None:
    # 420 × 595 points is A5 near enough: 1750 × 2479.2 pixels at 300 dpi.
    grey = text_page("L", (420, 595))
    colour = Image.new("RGB", (420, 595), "white")
    ImageDraw.Draw(colour).rectangle((100, 100, 300, 300), fill=(200, 0, 0))

    pages = split(pdf_bytes(grey, colour), "book.pdf")

    assert [(page.width, page.height) for page in pages] == [(1750, 2480), (1750, 2480)]
    assert [page.source_index for page in pages] == [0, 1]
    stored = [Image.open(io.BytesIO(page.data)) for page in pages]
    assert [(image.format, image.mode) for image in stored] == [("PNG", "L"), ("PNG", "RGB")]
    assert stored[0].getpixel((20, 10)) < 64  # the black block, 300/72 times larger
    red, green, _ = stored[1].getpixel((830, 830))
    assert red > 150 > green
    assert all(page.sha256 == hashlib.sha256(page.data).hexdigest() for page in pages)


def test_it_rejects_an_encrypted_pdf() -> None:
    data = encrypted_pdf(user_password=b"secret")
    # The file is sound: with its password PDFium opens it.
    assert len(pdfium.PdfDocument(data, password="secret")) == 1

    message = rejection(data, "sealed.pdf")

    assert message == "sealed.pdf is password-protected; remove the password and upload it again."


def test_it_accepts_a_pdf_that_only_has_an_owner_password() -> None:
    # Anyone may open such a file; the owner password only restricts printing and editing.
    data = encrypted_pdf(user_password=b"")

    [page] = split(data, "restricted.pdf")

    assert (page.width, page.height) == (834, 1250)  # 200 × 300 points at 300 dpi


def test_it_rejects_a_broken_pdf() -> None:
    data = b"%PDF-1.7\n" + bytes(range(256)) * 8

    assert rejection(data, "broken.pdf") == "broken.pdf is not a readable PDF."


def test_it_rejects_a_pdf_with_no_pages() -> None:
    assert rejection(blank_pdf(), "empty.pdf") == "empty.pdf has no pages."


def test_it_rejects_a_pdf_with_no_pages_even_after_an_encrypted_one() -> None:
    # PDFium keeps its last error across loads; an empty PDF must not inherit it.
    rejection(encrypted_pdf(user_password=b"secret"), "sealed.pdf")

    assert rejection(blank_pdf(), "empty.pdf") == "empty.pdf has no pages."


def test_it_rejects_a_pdf_over_the_page_limit() -> None:
    data = blank_pdf(*[(100, 100)] * 4)

    message = rejection(data, "long.pdf", UploadLimits(max_pdf_pages=3))

    assert message == "long.pdf has 4 pages; the limit is 3."


def test_it_rejects_an_oversized_pdf_page_before_rendering_any() -> None:
    # An A0 poster after an ordinary page: 9934 × 14042 pixels would be 139.5 megapixels.
    data = blank_pdf((420, 595), (2384, 3370))

    message = rejection(data, "poster.pdf")

    assert message == (
        "Page 2 of poster.pdf is 9934 × 14042 pixels at 300 dpi (139.5 megapixels); "
        "the limit is 60 megapixels per page."
    )


# -- Size, kind and name ---------------------------------------------------------------------


def test_it_rejects_a_file_over_the_size_limit() -> None:
    data = image_bytes(Image.effect_noise((64, 64), 60), "PNG")
    assert len(data) > 2048

    message = rejection(data, "scan.png", UploadLimits(max_file_bytes=2048))

    assert message.startswith("scan.png is ")
    assert message.endswith(" KB; the limit is 2 KB.")


def test_it_rejects_an_oversized_stream_that_cannot_seek() -> None:
    data = image_bytes(Image.effect_noise((64, 64), 60), "PNG")
    stream = UnseekableStream(data)

    with pytest.raises(UploadRejected, match=r"^scan\.png is over the limit of 2 KB\.$"):
        split_upload(stream, filename="scan.png", limits=UploadLimits(max_file_bytes=2048))


def test_it_rejects_an_empty_file() -> None:
    assert rejection(b"", "nothing.png") == "nothing.png is empty."


def test_it_rejects_a_text_file() -> None:
    message = rejection("بسم الله الرحمن الرحيم\n".encode(), "notes.txt")

    assert message == "notes.txt is not a PNG, JPEG, TIFF or PDF file; only those can be uploaded."


def test_it_rejects_a_jpeg_named_png() -> None:
    data = image_bytes(text_page("RGB"), "JPEG")

    message = rejection(data, "photo.png")

    assert message == (
        "photo.png is really a JPEG file, not PNG; rename it to .jpg and upload it again."
    )


@pytest.mark.parametrize("filename", ["folio.scan", "folio", "FOLIO.PNG"])
def test_it_accepts_a_png_whose_name_does_not_say_otherwise(filename: str) -> None:
    data = image_bytes(text_page(), "PNG")

    [page] = split(data, filename)

    assert page.data == data


def test_it_reads_the_upload_from_its_start() -> None:
    data = image_bytes(text_page(), "PNG")
    upload = io.BytesIO(data)
    upload.seek(0, io.SEEK_END)  # as a form that already peeked at it might leave it

    [page] = split_upload(upload, filename="folio.png")

    assert page.data == data


def test_it_names_the_file_without_the_clients_folders() -> None:
    message = rejection(b"", "C:\\Users\\hafiz\\Desktop\\nothing.png")

    assert message == "nothing.png is empty."


@pytest.mark.parametrize(
    "head, kind",
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00", "png"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "jpeg"),
        (b"II*\x00\x08\x00\x00\x00", "tiff"),
        (b"MM\x00*\x00\x00\x00\x08", "tiff"),
        (b"%PDF-1.4\n", "pdf"),
        (b"\xef\xbb\xbf%PDF-1.4\n", "pdf"),
        (b"GIF89a", None),
        (b"PK\x03\x04", None),
        (b"", None),
    ],
)
def test_it_detects_the_kind_of_file_from_its_first_bytes(head: bytes, kind: str | None) -> None:
    assert detect_kind(head) == kind
