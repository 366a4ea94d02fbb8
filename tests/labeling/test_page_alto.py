"""PAGE XML and ALTO downloads: every file valid against the shipped schemas, lines with their
boxes, order and the best text there is, for the owner and (pool documents) for staff."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from django.urls import reverse
from lxml import etree

from accounts.models import User
from labeling.exports.xml import FORMATS
from labeling.models import (
    Document,
    Line,
    LineStatus,
    OcrModel,
    OcrStatus,
    Page,
    Transcription,
    Visibility,
)
from tests.conftest import png_bytes

pytestmark = pytest.mark.django_db

PAGE_NS = {"pc": "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"}
ALTO_NS = {"a": "http://www.loc.gov/standards/alto/ns-v4#"}

OWN = "عثمانلی مملکتنده مطبعه‌نك آچیلمسی"  # with ZWNJ
AGREED = "استانبولده بو قیش پك صوغوق"
PREDICTED = "کتابخانه‌ده اسکی یازمه"
OTHERS = "بر باشقه‌سنك اوقودیغی"


def add_page(
    doc: Document, number: int, lines: list[tuple[str, float]], status: str = OcrStatus.DONE
) -> Page:
    page = Page(
        document=doc,
        number=number,
        sha256=f"{doc.pk:032x}{number:032x}",
        width=600,
        height=80 * max(len(lines), 1),
        source_name="scan.pdf",
        source_index=number - 1,
        ocr_status=status,
        ocr_model=OcrModel.default(),
    )
    page.image.save(f"p{number}.png", ContentFile(png_bytes(600, page.height)), save=False)
    page.save()
    for order, (prediction, confidence) in enumerate(lines, start=1):
        Line.objects.create(
            page=page,
            order=order,
            left=20 + order,
            top=(order - 1) * 80 + 10,
            right=580 - order,
            bottom=order * 80 - 10,
            prediction=prediction,
            confidence=confidence,
            in_pool=doc.visibility == Visibility.POOL,
        )
    return page


@pytest.fixture
def document(user: User, other_user: User) -> Document:
    """Three pages: one line the owner corrected, one agreed by labelers (another person's
    label, not the owner's), one only read by Tesseract; a second page; a page not read yet."""
    doc = Document.objects.create(owner=user, title="Defter-i Hakani", visibility=Visibility.POOL)
    first = add_page(
        doc, 1, [("عثمانلى مملكتنده", 61.5), ("استانبولده بو", 70.0), (PREDICTED, 88.25)]
    )
    own, agreed, _predicted = first.lines.order_by("order")
    Transcription.objects.create(line=own, user=user, text=OWN, kept_prediction=False)
    Transcription.objects.create(line=agreed, user=other_user, text=OTHERS, kept_prediction=False)
    Line.objects.filter(pk=agreed.pk).update(
        status=LineStatus.AGREED, consensus_text=AGREED, agreement=0.75
    )
    add_page(doc, 2, [("پادشاهك فرمانی", 45.0)])
    add_page(doc, 3, [], status=OcrStatus.QUEUED)
    return doc


def download(client: Client, doc: Document, fmt: str) -> zipfile.ZipFile:
    response = client.get(reverse("labeling:document_xml", args=[doc.pk, fmt]))
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/zip"
    assert f"defter-i-hakani-{fmt}.zip" in response["Content-Disposition"]
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def xml_files(archive: zipfile.ZipFile, fmt: str) -> dict[str, etree._Element]:
    return {
        name.rsplit("/", 1)[1]: etree.fromstring(archive.read(name))
        for name in archive.namelist()
        if name.endswith(".xml")
    }


@pytest.mark.parametrize("fmt", ["page", "alto"])
def test_every_page_of_a_document_is_valid_against_the_shipped_schema(
    fmt: str, document: Document, user: User, client_for: Callable[[User], Client]
) -> None:
    archive = download(client_for(user), document, fmt)

    assert archive.testzip() is None
    folder = f"defter-i-hakani-{fmt}"
    assert sorted(archive.namelist()) == sorted(
        [f"{folder}/{n:04d}.png" for n in (1, 2, 3)]
        + [f"{folder}/{fmt}/{n:04d}.xml" for n in (1, 2, 3)]
    )
    schema = FORMATS[fmt].schema()
    for name, root in xml_files(archive, fmt).items():
        assert schema.validate(root), (name, schema.error_log)
    page = document.pages.get(number=2)
    with page.image.open("rb") as image:
        assert archive.read(f"{folder}/0002.png") == image.read()


def test_the_schemas_catch_what_the_exporters_must_not_write() -> None:
    # Guards the validation itself: a PAGE file without its image size, an ALTO String
    # without its CONTENT, are refused.
    page = etree.fromstring(
        b'<PcGts xmlns="http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15">'
        b"<Metadata><Creator>x</Creator><Created>2024-01-01T00:00:00Z</Created>"
        b'<LastChange>2024-01-01T00:00:00Z</LastChange></Metadata><Page imageFilename="a.png"/>'
        b"</PcGts>"
    )
    alto = etree.fromstring(
        b'<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Description><MeasurementUnit>'
        b'pixel</MeasurementUnit></Description><Layout><Page ID="p" PHYSICAL_IMG_NR="1">'
        b'<PrintSpace><TextBlock ID="b"><TextLine><String/></TextLine></TextBlock></PrintSpace>'
        b"</Page></Layout></alto>"
    )
    assert not FORMATS["page"].schema().validate(page)
    assert not FORMATS["alto"].schema().validate(alto)


def test_page_xml_lines_have_boxes_order_direction_and_the_best_text(
    document: Document, user: User, client_for: Callable[[User], Client]
) -> None:
    files = xml_files(download(client_for(user), document, "page"), "page")
    first = files["0001.xml"]

    page = first.find("pc:Page", PAGE_NS)
    assert page is not None
    assert (page.get("imageFilename"), page.get("imageWidth"), page.get("imageHeight")) == (
        "0001.png",
        "600",
        "240",
    )
    region = page.find("pc:TextRegion", PAGE_NS)
    assert region is not None
    assert region.get("readingDirection") == "right-to-left"
    ref = page.find("pc:ReadingOrder/pc:OrderedGroup/pc:RegionRefIndexed", PAGE_NS)
    assert ref is not None and ref.get("regionRef") == region.get("id")

    lines = region.findall("pc:TextLine", PAGE_NS)
    db_lines = list(document.pages.get(number=1).lines.order_by("order"))
    assert [line.get("id") for line in lines] == [f"line-{ln.pk}" for ln in db_lines]
    assert [line.get("index") for line in lines] == ["0", "1", "2"]
    assert lines[0].find("pc:Coords", PAGE_NS).get("points") == "21,10 579,10 579,70 21,70"  # type: ignore[union-attr]

    def equiv(line: etree._Element) -> etree._Element:
        found = line.find("pc:TextEquiv", PAGE_NS)
        assert found is not None
        return found

    texts = [equiv(line).findtext("pc:Unicode", namespaces=PAGE_NS) for line in lines]
    assert texts == [OWN, AGREED, PREDICTED]
    assert [equiv(line).get("comments") for line in lines] == [
        "transcription",
        "consensus",
        "prediction",
    ]
    assert "textSource {type:consensus;}" in (lines[1].get("custom") or "")
    assert [equiv(line).get("conf") for line in lines] == [None, "0.75", "0.8825"]

    not_read = files["0003.xml"].find("pc:Page", PAGE_NS)
    assert not_read is not None and not_read.find("pc:TextRegion", PAGE_NS) is None


def test_alto_lines_have_boxes_order_language_and_the_best_text(
    document: Document, user: User, client_for: Callable[[User], Client]
) -> None:
    files = xml_files(download(client_for(user), document, "alto"), "alto")
    first = files["0001.xml"]

    assert first.findtext(
        "a:Description/a:sourceImageInformation/a:fileName", namespaces=ALTO_NS
    ) == ("0001.png")
    page = first.find("a:Layout/a:Page", ALTO_NS)
    assert page is not None and (page.get("WIDTH"), page.get("HEIGHT")) == ("600", "240")
    block = page.find("a:PrintSpace/a:TextBlock", ALTO_NS)
    assert block is not None and block.get("LANG") == "und-Arab"
    lines = block.findall("a:TextLine", ALTO_NS)
    assert [
        (ln.get("HPOS"), ln.get("VPOS"), ln.get("WIDTH"), ln.get("HEIGHT")) for ln in lines
    ] == [
        ("21", "10", "558", "60"),
        ("22", "90", "556", "60"),
        ("23", "170", "554", "60"),
    ]
    strings = [line.find("a:String", ALTO_NS) for line in lines]
    assert [s.get("CONTENT") for s in strings if s is not None] == [OWN, AGREED, PREDICTED]
    assert [s.get("TAGREFS") for s in strings if s is not None] == [
        "source-transcription",
        "source-consensus",
        "source-prediction",
    ]
    assert [s.get("WC") for s in strings if s is not None] == [None, "0.75", "0.8825"]
    tags = {tag.get("ID") for tag in first.findall("a:Tags/a:OtherTag", ALTO_NS)}
    assert tags == {"source-transcription", "source-consensus", "source-prediction"}


def test_staff_download_pool_documents_and_nobody_anothers_private_one(
    document: Document,
    make_user: Callable[..., User],
    make_moderator: Callable[..., User],
    client_for: Callable[[User], Client],
) -> None:
    staff = client_for(make_moderator())
    stranger = client_for(make_user())
    url = reverse("labeling:document_xml", args=[document.pk, "alto"])

    assert staff.get(url).status_code == 200
    assert stranger.get(url).status_code == 404
    assert Client().get(url).status_code == 302  # to the sign-in page

    Document.objects.filter(pk=document.pk).update(visibility=Visibility.PRIVATE)
    assert staff.get(url).status_code == 404
    assert (
        staff.get(reverse("labeling:document_xml", args=[document.pk, "hocr"])).status_code == 404
    )


def test_the_document_page_links_both_exports(
    document: Document, user: User, client_for: Callable[[User], Client]
) -> None:
    body = client_for(user).get(reverse("labeling:document", args=[document.pk])).content.decode()

    assert reverse("labeling:document_xml", args=[document.pk, "page"]) in body
    assert reverse("labeling:document_xml", args=[document.pk, "alto"]) in body


def test_the_admin_links_a_pool_documents_exports_for_staff(
    document: Document, make_moderator: Callable[..., User], client_for: Callable[[User], Client]
) -> None:
    body = client_for(make_moderator()).get(reverse("admin:labeling_document_changelist"))

    assert reverse("labeling:document_xml", args=[document.pk, "page"]) in body.content.decode()
