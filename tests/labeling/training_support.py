"""A tiny dataset release for the training tests.

`make_release` goes the way staff do: rendered line images (Pillow and a Debian naskh font)
are imported as ground truth (`labeling.groundtruth`), one document per document id, and the
real builder (`labeling.releases`) makes the release, with a seed that puts the requested
documents in the eval split. `release_zip` writes the same layout by hand, for the tests of
`labeling.tesstrain` that run without Django's database.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.core.files.base import ContentFile
from django.db import transaction

from accounts.models import User
from labeling import files
from labeling.groundtruth import import_ground_truth
from labeling.models import DatasetRelease, Document, OcrModel, ReleaseStatus
from labeling.releases import build_release, create_release, split_documents
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


def import_documents(
    *, owner: User, lines: Sequence[tuple[str, str, int]]
) -> tuple[dict[int, Document], dict[int, str]]:
    """Import `lines` (text, split, document key) as ground truth, one document per key,
    from rendered line images: the documents by key, and the split wanted for each document
    (by its id)."""
    documents: dict[int, Document] = {}
    wanted: dict[int, str] = {}
    with tempfile.TemporaryDirectory() as scratch:
        for key in sorted({document for _, _, document in lines}):
            folder = Path(scratch) / str(key)
            folder.mkdir()
            for index, (text, split, document) in enumerate(lines):
                if document == key:
                    render_line(text, size=32, padding=8).save(folder / f"{index:04d}.png")
                    (folder / f"{index:04d}.gt.txt").write_text(text + "\n", encoding="utf-8")
                    split_of_key = split
            documents[key] = import_ground_truth(
                folder=folder, title=f"Document {key}", license="cc0-1.0", owner=owner
            ).document
            wanted[documents[key].pk] = split_of_key
    return documents, wanted


def split_seed(wanted: dict[int, str]) -> tuple[float, int]:
    """An eval share and a seed with which the release builder splits the documents as
    `wanted` (document id to "train"/"eval")."""
    share = sum(split == "eval" for split in wanted.values()) / len(wanted)
    seed = next(
        seed
        for seed in range(1000)
        if split_documents(list(wanted), eval_share=share, seed=seed) == wanted
    )
    return share, seed


def make_release(
    *,
    created_by: User,
    lines: Sequence[tuple[str, str, int]],
    status: str = ReleaseStatus.DONE,
) -> DatasetRelease:
    """A release built by `labeling.releases` from `lines` (text, split, document id), each
    document imported from rendered line images; `status` other than done is set afterwards
    (a release that is not published)."""
    # May make releases (given directly: a transactional test's flush removes the groups).
    created_by.user_permissions.add(Permission.objects.get(codename="add_datasetrelease"))
    documents, wanted = import_documents(owner=created_by, lines=lines)
    share, seed = split_seed(wanted)
    release = create_release(
        created_by=User.objects.get(pk=created_by.pk),  # fresh permissions
        documents=list(documents.values()),
        eval_share=share,
        seed=seed,
    )
    build_release(release_id=release.pk)
    release.refresh_from_db()
    assert release.status == ReleaseStatus.DONE, release.error
    if status != ReleaseStatus.DONE:
        DatasetRelease.objects.filter(pk=release.pk).update(status=status)
        release.refresh_from_db()
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
