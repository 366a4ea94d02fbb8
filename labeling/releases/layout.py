"""A release's folder written into a zip: line pairs, manifest, lists, README, catalogue
record and checksums (the layout is a contract: training reads it).

    release-<N>/README.md  htr-united.yml  manifest.jsonl  list.train  list.eval  SHA256SUMS
    release-<N>/lines/<NAME>.png  release-<N>/lines/<NAME>.gt.txt

Line images are stored as they are (PNG is already compressed: deflating it again costs time
and saves nothing), and so is each line's text: a few dozen bytes, which deflating shrinks by
about 1% while setting up a compressor per file costs more than writing the entry stored.
The files about the lines (manifest, lists, README, checksums) are deflated at zlib's default
level, as `zip` does. Files that depend on every line (manifest, lists) are spooled to
temporary files while the lines go in, so memory does not grow with the release.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from typing import IO

from labeling.crops import PageCrops
from labeling.releases.selection import EVAL, TRAIN, PagePairs, Pair

_SPOOL = 1024 * 1024
_CHUNK = 1024 * 1024
_DEFLATE_FROM = 1024  # bytes: smaller files are stored (see above)


@dataclass
class DocumentStats:
    id: int
    title: str
    license: str
    split: str
    lines: int = 0
    characters: int = 0


@dataclass
class Stats:
    """What the README and the row's summary say, gathered while the lines go in."""

    documents: dict[int, DocumentStats] = field(default_factory=dict)
    characters: Counter[str] = field(default_factory=Counter)
    splits: Counter[str] = field(default_factory=Counter)
    provenance: Counter[str] = field(default_factory=Counter)
    models: Counter[str] = field(default_factory=Counter)
    decisions: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    labels: int = 0
    labelers: set[int] = field(default_factory=set)

    def add(self, pair: Pair) -> None:
        document = self.documents.get(pair.document)
        if document is None:
            document = DocumentStats(pair.document, pair.document_title, pair.license, pair.split)
            self.documents[pair.document] = document
        document.lines += 1
        document.characters += len(pair.text)
        self.characters.update(pair.text)
        self.splits[pair.split] += 1
        self.provenance[pair.provenance] += 1
        self.models[pair.predicted_by or ""] += 1
        self.decisions[pair.decision or ""] += 1
        self.statuses[pair.status] += 1
        self.labels += pair.labels
        self.labelers.update(pair.labelers)

    @property
    def lines(self) -> int:
        return sum(self.splits.values())

    def summary(self) -> dict[str, int]:
        return {
            "documents": len(self.documents),
            "lines": self.lines,
            "train_lines": self.splits[TRAIN],
            "eval_lines": self.splits[EVAL],
            "characters": sum(self.characters.values()),
        }


def _spool() -> IO[bytes]:
    return tempfile.SpooledTemporaryFile(max_size=_SPOOL)


class _Forward:
    """A file seen as write-only: zipfile then writes each entry once, sizes after the data,
    instead of seeking back to patch every local header (20,000 seeks for 10,000 pairs)."""

    def __init__(self, target: IO[bytes]) -> None:
        self._target = target

    def write(self, data: bytes) -> int:
        return self._target.write(data)

    def flush(self) -> None:
        self._target.flush()


class ReleaseZip:
    """Writes one release folder into `target` (a file, seekable or not)."""

    def __init__(self, target: IO[bytes], *, folder: str, stamp: tuple[int, ...]) -> None:
        self.archive = zipfile.ZipFile(_Forward(target), "w", compression=zipfile.ZIP_DEFLATED)  # type: ignore[call-overload]
        self.folder = folder
        self.stamp = stamp
        self.sums: IO[bytes] = _spool()
        self.stats = Stats()
        self.manifest: IO[bytes] = _spool()
        self.lists: dict[str, IO[bytes]] = {
            TRAIN: _spool(),
            EVAL: _spool(),
        }

    def _info(self, path: str, *, deflate: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.folder}/{path}", self.stamp[:6])  # type: ignore[arg-type]
        info.compress_type = zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        info.external_attr = 0o644 << 16
        return info

    def write(self, path: str, data: bytes, *, deflate: bool = True) -> None:
        deflate = deflate and len(data) >= _DEFLATE_FROM
        self.archive.writestr(self._info(path, deflate=deflate), data)
        self._sum(path, hashlib.sha256(data).hexdigest())

    def _sum(self, path: str, digest: str) -> None:
        self.sums.write(f"{digest}  {path}\n".encode())

    def write_spooled(self, path: str, source: IO[bytes], *, listed: bool = True) -> None:
        """Copy a temporary file in, in chunks, hashing it on the way."""
        digest = hashlib.sha256()
        source.seek(0)
        with self.archive.open(self._info(path, deflate=True), "w") as target:
            while chunk := source.read(_CHUNK):
                digest.update(chunk)
                target.write(chunk)
        if listed:
            self._sum(path, digest.hexdigest())

    def add_pair(self, pair: Pair, png: bytes) -> None:
        name = pair.name
        self.write(f"lines/{name}.png", png, deflate=False)
        self.write(f"lines/{name}.gt.txt", f"{pair.text}\n".encode())
        self.manifest.write(json.dumps(pair.manifest(), ensure_ascii=False).encode() + b"\n")
        self.lists[pair.split].write(f"lines/{name}.png\n".encode())
        self.stats.add(pair)

    def add_page(self, page_pairs: PagePairs) -> None:
        """Every pair of a page: its image read from storage once, each crop cut from it."""
        with page_pairs.page.image.open("rb") as stored:
            crops = PageCrops(stored.read())
        try:
            for pair in page_pairs.pairs:
                self.add_pair(pair, crops.png(pair.bbox))
        finally:
            crops.close()

    def finish(self, *, readme: str, catalogue: str) -> None:
        """Write the files about the lines, then SHA256SUMS of every other file, and close."""
        self.write("README.md", readme.encode())
        self.write("htr-united.yml", catalogue.encode())
        self.write_spooled("manifest.jsonl", self.manifest)
        self.write_spooled("list.train", self.lists[TRAIN])
        self.write_spooled("list.eval", self.lists[EVAL])
        self.write_spooled("SHA256SUMS", self.sums, listed=False)
        self.close()

    def close(self) -> None:
        self.archive.close()
        for spooled in (self.manifest, self.sums):
            spooled.close()
        for spooled in self.lists.values():
            spooled.close()
