"""A tiny dataset release for the training tests, in the layout `labeling.releases` writes.

Until the release builder is merged the tests make the zip themselves: rendered lines (Pillow
and a Debian naskh font), `manifest.jsonl`, `list.train`/`list.eval`, `lines/NAME.png` and
`lines/NAME.gt.txt`, stored through `labeling.files` on a published `DatasetRelease`.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from labeling import files
from labeling.models import DatasetRelease, OcrModel, ReleaseStatus
from labeling.synthetic import SAMPLE_LINES, render_line

FAS = Path(settings.BASE_DIR).parent / "shared/models/fas.traineddata"


def short_lines(count: int = 20) -> list[str]:
    """`count` short Ottoman lines (three or four words) cut from the sample sentences."""
    words = " ".join(SAMPLE_LINES).split()
    lines = []
    position = 0
    while len(lines) < count:
        size = 3 + len(lines) % 2
        chunk = [words[(position + i) % len(words)] for i in range(size)]
        lines.append(" ".join(chunk))
        position += size
    return lines


def release_zip(number: int, lines: Sequence[tuple[str, str, int]]) -> bytes:
    """The zip of release `number` with (text, split, document id) lines."""
    root = f"release-{number}"
    buffer = io.BytesIO()
    manifest = []
    lists: dict[str, list[str]] = {"train": [], "eval": []}
    sums = []
    with zipfile.ZipFile(buffer, "w") as archive:
        for index, (text, split, document) in enumerate(lines):
            name = f"d{document}-p1-l{index:04d}"
            png = io.BytesIO()
            render_line(text, size=32, padding=8).save(png, format="PNG")
            gt = (text + "\n").encode()
            archive.writestr(f"{root}/lines/{name}.png", png.getvalue())
            archive.writestr(f"{root}/lines/{name}.gt.txt", gt)
            sums += [
                f"{hashlib.sha256(png.getvalue()).hexdigest()}  lines/{name}.png",
                f"{hashlib.sha256(gt).hexdigest()}  lines/{name}.gt.txt",
            ]
            lists[split].append(f"lines/{name}.png")
            manifest.append(
                {
                    "name": name,
                    "document": document,
                    "document_title": f"Document {document}",
                    "text": text,
                    "split": split,
                    "box": [0, 0, 1, 1],
                }
            )
        archive.writestr(
            f"{root}/manifest.jsonl",
            "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in manifest),
        )
        for split, names in lists.items():
            archive.writestr(f"{root}/list.{split}", "".join(n + "\n" for n in names))
        archive.writestr(f"{root}/README.md", f"# Release {number}\n")
        archive.writestr(f"{root}/SHA256SUMS", "\n".join(sums) + "\n")
    return buffer.getvalue()


def make_release(
    *,
    created_by: User,
    lines: Sequence[tuple[str, str, int]],
    number: int = 1,
    status: str = ReleaseStatus.DONE,
) -> DatasetRelease:
    """A published release holding `lines` (text, split, document id)."""
    data = release_zip(number, lines)
    name = files.store(files.unique_name("releases", f"release-{number}", "zip"), ContentFile(data))
    with transaction.atomic():
        release = DatasetRelease.objects.create(
            number=number,
            created_by=created_by,
            status=status,
            file=name,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        files.adopt([name])
    return release


def tiny_lines(train: int = 16, eval_: int = 4) -> list[tuple[str, str, int]]:
    texts = short_lines(train + eval_)
    return [(t, "train", 1 + i % 2) for i, t in enumerate(texts[:train])] + [
        (t, "eval", 3) for t in texts[train:]
    ]


def fas_model() -> OcrModel:
    """The float Persian model from ../shared as a trainable OcrModel (skips without it)."""
    if not FAS.is_file():
        pytest.skip(f"needs the float start model {FAS} (../shared/models/fas.traineddata)")
    if shutil.which("lstmtraining") is None:
        pytest.skip("needs lstmtraining (Debian: tesseract-ocr)")
    existing = OcrModel.objects.filter(name="fas-best").first()
    if existing is not None:
        return existing
    with FAS.open("rb") as handle:
        name = files.store(
            files.unique_name("models/fasbest", "fasbest", "traineddata"),
            ContentFile(handle.read()),
        )
    with transaction.atomic():
        model = OcrModel.objects.create(
            name="fas-best", language="fasbest", traineddata=name, trainable=True
        )
        files.adopt([name])
    return model
