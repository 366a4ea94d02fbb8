"""Line crops are cut once: the first request for a line of a page decodes the scan once and
caches every line's crop; later requests never open the scan; a moved box is a new crop."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse

from accounts.models import User
from labeling import boxes
from labeling.crops import PageCrops
from labeling.models import Document
from labeling.ocr import BBox

pytestmark = pytest.mark.django_db


def test_a_pages_crops_are_cut_once_and_a_moved_box_gets_a_new_one(
    user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    lines = list(page.lines.order_by("order"))
    opened: list[str] = []
    real_open = default_storage.open

    def counting_open(name: str, mode: str = "rb") -> Any:
        opened.append(name)
        return real_open(name, mode)

    monkeypatch.setattr(default_storage, "open", counting_open)
    client = client_for(user)
    with page.image.open("rb") as stored:
        expected = PageCrops(stored.read())
    opened.clear()

    served = [client.get(reverse("labeling:line_crop", args=[ln.pk])) for ln in lines]
    assert [r.status_code for r in served] == [200, 200, 200]
    assert opened == [page.image.name]  # one decoding for the whole page
    for response, line in zip(served, lines, strict=True):
        assert response.content == expected.png(line.bbox)  # the bytes releases export

    boxes.move_box(line=lines[0], user=user, box=BBox(20, 5, 380, 55))
    moved = client.get(reverse("labeling:line_crop", args=[lines[0].pk]))
    assert moved.content == expected.png(BBox(20, 5, 380, 55))
    assert len(opened) == 2  # the new box was cut from the scan
    expected.close()


def test_the_line_editor_prefetches_the_next_lines_crop(
    user: User, read_document: Callable[..., Document], client_for: Callable[[User], Client]
) -> None:
    page = read_document(predictions=("الف", "بى", "جيم")).pages.get()
    first, second, _third = page.lines.order_by("order")
    shown = client_for(user).get(reverse("labeling:line", args=[first.pk])).content.decode()
    crop = f"{reverse('labeling:line_crop', args=[second.pk])}?box={second.crop_key}"
    assert f'<link rel="prefetch" as="image" href="{crop}">' in shown


def test_the_page_view_shows_a_scaled_preview_made_once_and_the_full_scan_on_zoom(
    user: User,
    other_user: User,
    read_document: Callable[..., Document],
    client_for: Callable[[User], Client],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io

    from django.core.files.base import ContentFile
    from PIL import Image

    from labeling import crop_cache
    from tests.conftest import png_bytes

    page = read_document().pages.get()
    client = client_for(user)
    # A narrow scan is its own preview: the page view asks for the scan only.
    body = client.get(reverse("labeling:page", args=[page.pk])).content.decode()
    assert "size=preview" not in body
    assert client.get(reverse("labeling:page_image", args=[page.pk]), {"size": "preview"})[
        "Content-Type"
    ].startswith("image/png")

    page.image.save("wide.png", ContentFile(png_bytes(3000, 4000)), save=False)
    page.width, page.height = 3000, 4000
    page.save()
    body = client.get(reverse("labeling:page", args=[page.pk])).content.decode()
    version = crop_cache.image_version(page)
    preview_url = f"{reverse('labeling:page_image', args=[page.pk])}?v={version}&amp;size=preview"
    assert f'data-preview-url="{preview_url}"' in body
    assert 'data-preview-width="1200" data-preview-height="1600"' in body

    opened: list[str] = []
    real_open = default_storage.open

    def counting_open(name: str, mode: str = "rb") -> Any:
        opened.append(name)
        return real_open(name, mode)

    monkeypatch.setattr(default_storage, "open", counting_open)
    url = reverse("labeling:page_image", args=[page.pk])
    first = client.get(url, {"v": version, "size": "preview"})
    again = client.get(url, {"v": version, "size": "preview"})
    assert first["Content-Type"] == "image/jpeg" and again.content == first.content
    assert opened == [page.image.name]  # scaled once, then from the cache
    assert Image.open(io.BytesIO(first.content)).size == (1200, 1600)
    full = client.get(url, {"v": version})
    assert Image.open(io.BytesIO(b"".join(full.streaming_content))).size == (3000, 4000)
    # Someone else's page: neither the scan nor its preview.
    other = client_for(other_user).get(url, {"size": "preview"})
    assert other.status_code == 404
