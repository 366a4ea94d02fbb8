"""Render Ottoman Turkish text to images with Debian's naskh fonts.

Tests and benchmarks need pages whose text is known exactly, and the project
must not depend on the shared book scans being present, so it draws its own.
No Django here: this module is used by tests, benchmarks and management
commands alike.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

__all__ = ["FONT_CANDIDATES", "SAMPLE_LINES", "default_font", "render_line", "render_page"]

# Debian packages: fonts-hosny-amiri, fonts-sil-scheherazade, fonts-noto-core.
FONT_CANDIDATES: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf"),
    Path("/usr/share/fonts/truetype/scheherazade/Scheherazade-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf"),
)

# Written for this project (no source text copied): everyday Ottoman prose that
# exercises پ چ ژ گ ڭ, ZWNJ (U+200C) before suffixes, and hamza-above izafet.
SAMPLE_LINES: tuple[str, ...] = (
    "عثمانلی مملکتنده مطبعه‌نك آچیلمسی کتابلری اوجوزلاتدی",
    "استانبولده بو قیش پك صوغوق و قارلی کچدی",
    "کتابخانه‌ده اسکی یازمه اثرلر دقتله صاقلانیور",
    "چوجقلر مکتبه گیتمك ایچون صباحلین ارکن قالقارلر",
    "پادشاهك فرمانی شهرك هر طرفنده اعلان اولندی",
    "ژورنال و غزته‌لر هر گون یڭی خبرلر نشر ایدرلر",
    "دڭیز کنارنده کوچك بر بالقجی کویی واردی",
    "معلم افندی درسدن صوڭره شاگردلره بر سؤال صوردی",
    "تجارت گمیلری لیمانه گلوب یوکلرینی بوشالتدیلر",
    "پازار گونی چارشو ایچنده بیوك بر قلابالق اولور",
    "آناطولینك ایچ طرفلرنده یوللر هنوز تمام دگلدی",
    "خانهٔ عتیقه‌نك باغچه‌سنده ایکی بیوك چنار آغاجی وار",
)

# raqm shapes with HarfBuzz; "ar" selects the fonts' Arabic rules, which are the
# ones Ottoman printing follows (no font here ships an Ottoman language system).
_LANGUAGE = "ar"
_DIRECTION = "rtl"


def default_font() -> Path:
    """Return the first installed naskh font of Amiri, Scheherazade, Noto Naskh Arabic.

    Raises FileNotFoundError naming the Debian packages when none is installed.
    """
    for candidate in FONT_CANDIDATES:
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(
        "No Arabic-script font found; install one of the Debian packages "
        "fonts-hosny-amiri, fonts-sil-scheherazade or fonts-noto-core "
        f"(looked for {', '.join(str(c) for c in FONT_CANDIDATES)})"
    )


def _font(font_path: str | Path | None, size: int) -> ImageFont.FreeTypeFont:
    path = Path(font_path) if font_path is not None else default_font()
    # Without raqm Pillow draws isolated letters left to right: unreadable Arabic.
    return ImageFont.truetype(str(path), size, layout_engine=ImageFont.Layout.RAQM)


def render_line(
    text: str, *, font_path: str | Path | None = None, size: int = 48, padding: int = 20
) -> Image.Image:
    """Render one line of right-to-left text, black on white, in mode "L".

    The image is the ink's bounding box grown by `padding` on every side.
    """
    font = _font(font_path, size)
    box = font.getbbox(text, direction=_DIRECTION, language=_LANGUAGE)
    left, top = math.floor(box[0]), math.floor(box[1])
    width = max(math.ceil(box[2]) - left, 1) + 2 * padding
    height = max(math.ceil(box[3]) - top, 1) + 2 * padding
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    draw.text(
        (padding - left, padding - top),
        text,
        fill=0,
        font=font,
        direction=_DIRECTION,
        language=_LANGUAGE,
    )
    return image


def render_page(
    lines: Sequence[str],
    *,
    font_path: str | Path | None = None,
    size: int = 40,
    width: int = 1700,
    margin: int = 120,
    line_spacing: float = 1.9,
) -> Image.Image:
    """Render lines as a printed page: right-aligned at width - margin, top to bottom.

    Lines are `size * line_spacing` pixels apart (baseline to baseline) and are
    not wrapped: a line wider than `width - 2 * margin` raises ValueError.
    """
    font = _font(font_path, size)
    pitch = round(size * line_spacing)
    height = 2 * margin + pitch * max(len(lines), 1)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    right_edge = width - margin
    for index, text in enumerate(lines):
        text_width = draw.textlength(text, font=font, direction=_DIRECTION, language=_LANGUAGE)
        if text_width > width - 2 * margin:
            raise ValueError(
                f"line {index + 1} is {text_width:.0f} px wide; "
                f"the page has {width - 2 * margin} px between its margins"
            )
        # The first baseline sits one size below the top margin, so ascenders stay inside it.
        baseline = margin + size + index * pitch
        draw.text(
            (right_edge, baseline),
            text,
            fill=0,
            font=font,
            anchor="rs",
            direction=_DIRECTION,
            language=_LANGUAGE,
        )
    return image
