"""PAGE XML (2019-07-15) and ALTO 4.2 for a document: one file per page, with the page images,
in one zip, so the work goes on in eScriptorium or Transkribus.

Each line is written with its box, its place in the reading order and one text: the owner's
own transcription where they made one, else the line's agreed or approved consensus, else
Tesseract's prediction. Which one it is, is said on the line (PAGE: `TextLine@custom` and
`TextEquiv@comments`; ALTO: `String@TAGREFS` to a tag in `Tags`), with a confidence where
there is one (Tesseract's, or the share of agreeing labels).

The zip (`DocumentXml.chunks`) is made while it is sent: one page image at a time is read
from storage, so memory stays flat however many pages the document has. Its layout is the
one Transkribus imports, and eScriptorium matches the XML to images by file name:

    <slug>-page/0001.png   <slug>-page/page/0001.xml     (PAGE)
    <slug>-alto/0001.png   <slug>-alto/alto/0001.xml     (ALTO)
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from pathlib import Path, PurePosixPath
from typing import ClassVar

from django.utils import timezone
from django.utils.text import slugify
from lxml import etree

from labeling.models import Document, Line, LineStatus, OcrModel, Page, Transcription
from labeling.ocr import BBox
from labeling.streams import Sink

SCHEMAS = Path(__file__).resolve().parent / "schemas"
CREATOR = "Ottoman OCR ground-truth platform"
XSI = "http://www.w3.org/2001/XMLSchema-instance"

# The platform's pages are in Arabic script, right to left; the language of a document is not
# recorded (Ottoman Turkish mostly, imported books may be Arabic), so only the script is said.
ALTO_LANGUAGE = "und-Arab"
PAGE_SCRIPT = "Arab - Arabic"

_CHUNK = 1024 * 1024


class TextSource(StrEnum):
    """Where a line's exported text comes from, most trusted first."""

    TRANSCRIPTION = "transcription"  # the document owner's own reading
    CONSENSUS = "consensus"  # labelers agreed (and a moderator may have approved it)
    PREDICTION = "prediction"  # Tesseract's reading, nobody checked it


SOURCE_DESCRIPTIONS = {
    TextSource.TRANSCRIPTION: "The document owner's own transcription",
    TextSource.CONSENSUS: (
        "The checked text: labelers' agreed or approved consensus, or imported ground truth"
    ),
    TextSource.PREDICTION: "Tesseract's reading, not checked by a person",
}


@dataclass(frozen=True)
class LineText:
    """One line as exported: `confidence` is 0..1, or None when there is none to give."""

    id: str
    order: int
    bbox: BBox
    text: str
    source: TextSource
    confidence: float | None


@dataclass(frozen=True)
class PageText:
    number: int
    image_name: str  # the image's file name in the zip, which the XML refers to
    width: int
    height: int
    lines: tuple[LineText, ...]
    model: str  # the OCR model that read it, or ""


def line_text(line: Line, *, own: str | None) -> tuple[str, TextSource, float | None]:
    """The text exported for `line`, where it comes from, and its confidence."""
    if own is not None:
        return own, TextSource.TRANSCRIPTION, None
    if line.status in (LineStatus.AGREED, LineStatus.APPROVED) and line.consensus_text:
        return line.consensus_text, TextSource.CONSENSUS, line.agreement
    return line.prediction, TextSource.PREDICTION, round(min(max(line.confidence, 0), 100) / 100, 4)


def image_name(page: Page) -> str:
    """`0003.png`: the page's number and its stored image's extension."""
    extension = PurePosixPath(page.image.name or "").suffix.lower() or ".png"
    return f"{page.number:04d}{extension}"


def document_pages(*, document: Document) -> Iterator[tuple[Page, PageText]]:
    """The document's pages in order, each with what its XML says."""
    own = dict(
        Transcription.objects.filter(
            line__page__document=document, user_id=document.owner_id
        ).values_list("line_id", "text")
    )
    models = dict(OcrModel.objects.values_list("pk", "name"))
    lines: dict[int, list[LineText]] = {}
    for line in Line.objects.filter(page__document=document).order_by("page_id", "order"):
        text, source, confidence = line_text(line, own=own.get(line.pk))
        lines.setdefault(line.page_id, []).append(
            LineText(
                id=f"line-{line.pk}",
                order=line.order,
                bbox=line.bbox,
                text=text,
                source=source,
                confidence=confidence,
            )
        )
    for page in document.pages.order_by("number"):
        yield (
            page,
            PageText(
                number=page.number,
                image_name=image_name(page),
                width=page.width,
                height=page.height,
                lines=tuple(lines.get(page.pk, ())),
                model=models.get(page.ocr_model_id, "") if page.ocr_model_id else "",
            ),
        )


def _points(box: BBox) -> str:
    """The box's corners, clockwise from top left; right and bottom are exclusive, as in the
    ALTO WIDTH and HEIGHT of the same line, so a reader that takes the polygon's extent gets
    back the same box."""
    left, top, right, bottom = box.left, box.top, box.right, box.bottom
    return f"{left},{top} {right},{top} {right},{bottom} {left},{bottom}"


def _union(boxes: Iterable[BBox]) -> BBox:
    boxes = list(boxes)
    return BBox(
        min(b.left for b in boxes),
        min(b.top for b in boxes),
        max(b.right for b in boxes),
        max(b.bottom for b in boxes),
    )


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _about(page: PageText, title: str) -> str:
    about = f"{title}, page {page.number}."
    return f"{about} Read by Tesseract with {page.model}." if page.model else about


def _serialize(root: etree._Element) -> bytes:
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True))


class XmlFormat:
    """One exchange format: its name (also the folder of its files in the zip), its schema,
    and how a page is written."""

    name: ClassVar[str]
    schema_file: ClassVar[str]

    def render(self, page: PageText, *, title: str, created: datetime, changed: datetime) -> bytes:
        raise NotImplementedError

    def schema(self) -> etree.XMLSchema:
        return _schema(self.schema_file)


@cache
def _schema(file: str) -> etree.XMLSchema:
    # no_network: the ALTO schema imports XLink from the copy beside it (see LICENSES.md).
    parser = etree.XMLParser(no_network=True)
    return etree.XMLSchema(etree.parse(str(SCHEMAS / file), parser))


class PageXml(XmlFormat):
    name = "page"
    schema_file = "pagecontent.xsd"
    namespace = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"

    def render(self, page: PageText, *, title: str, created: datetime, changed: datetime) -> bytes:
        ns = self.namespace
        root = etree.Element(f"{{{ns}}}PcGts", nsmap={None: ns, "xsi": XSI})
        root.set(f"{{{XSI}}}schemaLocation", f"{ns} {ns}/pagecontent.xsd")
        metadata = etree.SubElement(root, f"{{{ns}}}Metadata")
        etree.SubElement(metadata, f"{{{ns}}}Creator").text = CREATOR
        etree.SubElement(metadata, f"{{{ns}}}Created").text = _timestamp(created)
        etree.SubElement(metadata, f"{{{ns}}}LastChange").text = _timestamp(changed)
        etree.SubElement(metadata, f"{{{ns}}}Comments").text = _about(page, title)

        element = etree.SubElement(
            root,
            f"{{{ns}}}Page",
            imageFilename=page.image_name,
            imageWidth=str(page.width),
            imageHeight=str(page.height),
            primaryScript=PAGE_SCRIPT,
            readingDirection="right-to-left",
            textLineOrder="top-to-bottom",
        )
        if not page.lines:
            return _serialize(root)  # a page not read yet, or with no text found
        region_id = f"region-{page.number}"
        order = etree.SubElement(element, f"{{{ns}}}ReadingOrder")
        group = etree.SubElement(order, f"{{{ns}}}OrderedGroup", id=f"reading-order-{page.number}")
        etree.SubElement(group, f"{{{ns}}}RegionRefIndexed", index="0", regionRef=region_id)
        region = etree.SubElement(
            element,
            f"{{{ns}}}TextRegion",
            id=region_id,
            custom="readingOrder {index:0;}",
            type="paragraph",
            readingDirection="right-to-left",
            textLineOrder="top-to-bottom",
            primaryScript=PAGE_SCRIPT,
        )
        etree.SubElement(
            region, f"{{{ns}}}Coords", points=_points(_union(ln.bbox for ln in page.lines))
        )
        for index, line in enumerate(page.lines):
            # Transkribus keeps the reading order and other facts in `custom`, as CSS-like tags.
            text_line = etree.SubElement(
                region,
                f"{{{ns}}}TextLine",
                id=line.id,
                index=str(index),
                readingDirection="right-to-left",
                custom=f"readingOrder {{index:{index};}} textSource {{type:{line.source};}}",
            )
            etree.SubElement(text_line, f"{{{ns}}}Coords", points=_points(line.bbox))
            equiv = etree.SubElement(
                text_line, f"{{{ns}}}TextEquiv", index="0", comments=str(line.source)
            )
            if line.confidence is not None:
                equiv.set("conf", f"{line.confidence:g}")
            etree.SubElement(equiv, f"{{{ns}}}Unicode").text = line.text
        return _serialize(root)


class Alto(XmlFormat):
    name = "alto"
    schema_file = "alto-4-2.xsd"
    namespace = "http://www.loc.gov/standards/alto/ns-v4#"

    def render(self, page: PageText, *, title: str, created: datetime, changed: datetime) -> bytes:
        ns = self.namespace
        root = etree.Element(f"{{{ns}}}alto", nsmap={None: ns, "xsi": XSI}, SCHEMAVERSION="4.2")
        root.set(
            f"{{{XSI}}}schemaLocation", f"{ns} http://www.loc.gov/standards/alto/v4/alto-4-2.xsd"
        )
        description = etree.SubElement(root, f"{{{ns}}}Description")
        etree.SubElement(description, f"{{{ns}}}MeasurementUnit").text = "pixel"
        image = etree.SubElement(description, f"{{{ns}}}sourceImageInformation")
        etree.SubElement(image, f"{{{ns}}}fileName").text = page.image_name
        step = etree.SubElement(description, f"{{{ns}}}Processing", ID="export")
        etree.SubElement(step, f"{{{ns}}}processingDateTime").text = _timestamp(changed)
        etree.SubElement(step, f"{{{ns}}}processingStepDescription").text = _about(page, title)
        software = etree.SubElement(step, f"{{{ns}}}processingSoftware")
        etree.SubElement(software, f"{{{ns}}}softwareName").text = CREATOR

        tags = etree.SubElement(root, f"{{{ns}}}Tags")
        for source in TextSource:
            etree.SubElement(
                tags,
                f"{{{ns}}}OtherTag",
                ID=f"source-{source}",
                TYPE="textSource",
                LABEL=str(source),
                DESCRIPTION=SOURCE_DESCRIPTIONS[source],
            )

        layout = etree.SubElement(root, f"{{{ns}}}Layout")
        element = etree.SubElement(
            layout,
            f"{{{ns}}}Page",
            ID=f"page-{page.number}",
            PHYSICAL_IMG_NR=str(page.number),
            WIDTH=str(page.width),
            HEIGHT=str(page.height),
        )
        space = etree.SubElement(
            element,
            f"{{{ns}}}PrintSpace",
            HPOS="0",
            VPOS="0",
            WIDTH=str(page.width),
            HEIGHT=str(page.height),
        )
        if not page.lines:
            return _serialize(root)
        block = etree.SubElement(
            space,
            f"{{{ns}}}TextBlock",
            ID=f"block-{page.number}",
            LANG=ALTO_LANGUAGE,
            **_position(_union(ln.bbox for ln in page.lines)),
        )
        # ALTO has no reading order of its own: the order of the elements is the order.
        for line in page.lines:
            text_line = etree.SubElement(
                block, f"{{{ns}}}TextLine", ID=line.id, LANG=ALTO_LANGUAGE, **_position(line.bbox)
            )
            # One String per line, as eScriptorium writes it: the words' boxes are not known.
            string = etree.SubElement(
                text_line,
                f"{{{ns}}}String",
                CONTENT=line.text,
                TAGREFS=f"source-{line.source}",
                **_position(line.bbox),
            )
            if line.confidence is not None:
                string.set("WC", f"{line.confidence:g}")
        return _serialize(root)


def _position(box: BBox) -> dict[str, str]:
    return {
        "HPOS": str(box.left),
        "VPOS": str(box.top),
        "WIDTH": str(box.width),
        "HEIGHT": str(box.height),
    }


FORMATS: dict[str, XmlFormat] = {fmt.name: fmt for fmt in (PageXml(), Alto())}


@dataclass(frozen=True)
class DocumentXml:
    """A document's pages in one format, as a zip made while it is sent."""

    document: Document
    format: XmlFormat

    @property
    def folder(self) -> str:
        slug = slugify(self.document.title) or f"document-{self.document.pk}"
        return f"{slug}-{self.format.name}"

    @property
    def filename(self) -> str:
        return f"{self.folder}.zip"

    def files(self) -> Iterator[tuple[Page, PageText, bytes]]:
        """Each page with its XML."""
        created = self.document.created_at
        changed = timezone.now()
        for page, text in document_pages(document=self.document):
            xml = self.format.render(
                text, title=self.document.title, created=created, changed=changed
            )
            yield page, text, xml

    def chunks(self) -> Iterator[bytes]:
        """The zip's bytes: images stored as they are (already compressed), XML deflated."""
        sink = Sink()
        stamp = _now_tuple()
        # An unseekable output: zipfile writes each entry's sizes after its data.
        with zipfile.ZipFile(sink, "w") as archive:
            for page, text, xml in self.files():
                stem = PurePosixPath(text.image_name).stem
                image = zipfile.ZipInfo(f"{self.folder}/{text.image_name}", stamp)
                image.compress_type = zipfile.ZIP_STORED
                with archive.open(image, "w") as target, page.image.open("rb") as source:
                    for chunk in source.chunks(_CHUNK):
                        target.write(chunk)
                        yield sink.take()
                entry = zipfile.ZipInfo(f"{self.folder}/{self.format.name}/{stem}.xml", stamp)
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, xml)
                yield sink.take()
        yield sink.take()


def _now_tuple() -> tuple[int, int, int, int, int, int]:
    now = timezone.localtime()
    return (now.year, now.month, now.day, now.hour, now.minute, now.second)
