"""Ground truth made elsewhere, brought in: a folder in tesstrain's layout becomes an approved
pool document, so a lab starts from the line pairs it already has.

tesstrain's layout is one folder of line images (`NAME.png` or `NAME.tif`) each with its text
beside it (`NAME.gt.txt`: one line, logical order). Each image becomes a page of its own with
one line covering it exactly, so the crop labelers see and releases export (`ocr.crop_line`)
is the image itself. The whole folder is checked before anything is stored, and every
problem is reported, each naming its file; then the files are stored and the rows written in
one transaction, so a folder is imported whole or not at all.
"""

from __future__ import annotations

import re
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from labeling import files
from labeling.documents import upload_limits
from labeling.models import (
    Document,
    License,
    Line,
    LineProvenance,
    LineStatus,
    ModerationAction,
    ModerationDecision,
    OcrStatus,
    Page,
    Visibility,
)
from labeling.uploads import PageImage, UploadLimits, UploadRejected, inspect_upload, iter_pages

IMAGE_SUFFIXES = (".png", ".tif", ".tiff")
TEXT_SUFFIX = ".gt.txt"


class ImportRefused(Exception):
    """The folder cannot be imported; `problems` says why, one message per file at fault."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class GroundTruthLine:
    """One checked pair: the line image's path and its text (NFC, one line)."""

    image: Path
    text: str


@dataclass(frozen=True)
class Imported:
    document: Document
    lines: int
    seconds: float


def _natural(name: str) -> list[int | str]:
    """Sort key: "2.png" before "10.png", whatever the zero padding."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def read_text(path: Path) -> str:
    """The text of a .gt.txt file as stored: NFC, without its trailing line break.

    Raises ImportRefused (one problem) when it is not UTF-8, empty or more than one line.
    """
    name = path.name
    try:
        raw = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ImportRefused([_("%(name)s is not UTF-8 text.") % {"name": name}]) from None
    except OSError as exc:
        message = _("%(name)s cannot be read: %(error)s") % {"name": name, "error": exc.strerror}
        raise ImportRefused([message]) from None
    text = unicodedata.normalize("NFC", raw.rstrip("\r\n"))
    if len(text.splitlines()) > 1:
        raise ImportRefused(
            [_("%(name)s holds more than one line of text; a line image has one.") % {"name": name}]
        )
    if not text.strip():
        raise ImportRefused([_("%(name)s is empty.") % {"name": name}])
    return text


def line_image(path: Path, *, limits: UploadLimits) -> PageImage:
    """The line image decoded and ready to store as a page, checked as an upload is (kind by
    content, size, pixels, damage). Raises ImportRefused (one problem) when it will not do."""
    try:
        with path.open("rb") as file:
            info = inspect_upload(file, filename=path.name, limits=limits)
            if info.page_count != 1:
                message = _("%(name)s has %(count)d pages; a line image has one.") % {
                    "name": path.name,
                    "count": info.page_count,
                }
                raise ImportRefused([message])
            file.seek(0)
            return next(iter_pages(file.read(), filename=path.name, limits=limits))
    except UploadRejected as exc:
        raise ImportRefused([str(exc)]) from None
    except OSError as exc:
        message = _("%(name)s cannot be read: %(error)s") % {
            "name": path.name,
            "error": exc.strerror,
        }
        raise ImportRefused([message]) from None


def check_folder(folder: Path, *, limits: UploadLimits | None = None) -> list[GroundTruthLine]:
    """Every pair of the folder, checked, in natural order of the file names.

    Raises ImportRefused listing every problem: an image without its .gt.txt, a .gt.txt
    without an image, two images for one text, a text that is empty, not UTF-8 or more than
    one line, an image that is unreadable or over the upload limits.
    """
    limits = limits or upload_limits()
    if not folder.is_dir():
        raise ImportRefused([_("%(folder)s is not a folder.") % {"folder": folder}])
    images: dict[str, list[Path]] = {}
    texts: dict[str, Path] = {}
    for path in folder.iterdir():
        if not path.is_file():
            continue
        if path.name.endswith(TEXT_SUFFIX):
            texts[path.name.removesuffix(TEXT_SUFFIX)] = path
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            images.setdefault(path.stem, []).append(path)

    problems: list[str] = []
    pairs: list[GroundTruthLine] = []
    for stem in sorted(images.keys() | texts.keys(), key=_natural):
        candidates = sorted(images.get(stem, []))
        text_path = texts.get(stem)
        if text_path is None:
            for image in candidates:
                problems.append(
                    _("%(image)s has no %(text)s beside it.")
                    % {"image": image.name, "text": f"{stem}{TEXT_SUFFIX}"}
                )
            continue
        if not candidates:
            problems.append(
                _("%(text)s has no line image (%(stem)s.png or %(stem)s.tif) beside it.")
                % {"text": text_path.name, "stem": stem}
            )
            continue
        if len(candidates) > 1:
            problems.append(
                _("%(images)s all belong to %(text)s; keep one.")
                % {"images": ", ".join(p.name for p in candidates), "text": text_path.name}
            )
            continue
        try:
            text = read_text(text_path)
            line_image(candidates[0], limits=limits)
        except ImportRefused as exc:
            problems += exc.problems
            continue
        pairs.append(GroundTruthLine(image=candidates[0], text=text))
    if problems:
        raise ImportRefused(problems)
    if not pairs:
        raise ImportRefused(
            [
                _("%(folder)s holds no line images with their .gt.txt (NAME.png + NAME.gt.txt).")
                % {"folder": folder}
            ]
        )
    return pairs


def import_ground_truth(
    *, folder: Path, title: str, license: str, owner: User, limits: UploadLimits | None = None
) -> Imported:
    """Import the folder as one approved pool document owned by `owner`, a staff member who
    vouches for the licence (their consent is recorded as the owner's).

    Each line image is a page with one line covering it exactly: provenance "imported",
    status approved, consensus the .gt.txt text, and one `import` decision by `owner` naming
    the folder. All or nothing: ImportRefused (every problem) before anything is stored; a
    failure while storing discards the files already stored and writes no row.
    """
    started = time.perf_counter()
    limits = limits or upload_limits()
    refusals = []
    if not owner.is_staff:
        refusals.append(
            _("%(person)s is not staff; only staff may import ground truth.") % {"person": owner}
        )
    if not title.strip():
        refusals.append(_("Give the document a title."))
    if license not in License.values or license == License.NONE:
        refusals.append(
            _("%(license)r is not a licence the site knows; use one of %(known)s.")
            % {"license": license, "known": ", ".join(v for v in License.values if v)}
        )
    if refusals:
        raise ImportRefused(refusals)
    pairs = check_folder(folder, limits=limits)

    names: list[str] = []
    try:
        stored = list(_store(pairs, names, limits=limits))
        with transaction.atomic():
            document = _write_rows(
                folder=folder, title=title.strip(), license=license, owner=owner, stored=stored
            )
            files.adopt(names)
    finally:
        files.discard(names)  # only what no committed row adopted
    return Imported(document=document, lines=len(stored), seconds=time.perf_counter() - started)


def _store(
    pairs: list[GroundTruthLine], names: list[str], *, limits: UploadLimits
) -> Iterator[tuple[GroundTruthLine, PageImage, str]]:
    """Store each line image (journalled), appending its name to `names` as it goes."""
    for pair in pairs:
        image = line_image(pair.image, limits=limits)
        name = files.unique_name(f"pages/{image.sha256[:2]}", image.sha256[:16], image.extension)
        names.append(files.store(name, ContentFile(image.data)))
        yield pair, image, names[-1]


def _write_rows(
    *,
    folder: Path,
    title: str,
    license: str,
    owner: User,
    stored: list[tuple[GroundTruthLine, PageImage, str]],
) -> Document:
    now = timezone.now()
    document = Document.objects.create(
        owner=owner,
        title=title,
        visibility=Visibility.POOL,
        license=license,
        pool_consent_at=now,
    )
    pages = Page.objects.bulk_create(
        Page(
            document=document,
            number=number,
            image=name,
            sha256=image.sha256,
            width=image.width,
            height=image.height,
            source_name=pair.image.name[:255],
            ocr_status=OcrStatus.DONE,
            ocr_finished_at=now,
        )
        for number, (pair, image, name) in enumerate(stored, start=1)
    )
    lines = Line.objects.bulk_create(
        Line(
            page=page,
            order=1,
            left=0,
            top=0,
            right=image.width,
            bottom=image.height,
            provenance=LineProvenance.IMPORTED,
            status=LineStatus.APPROVED,
            consensus_text=pair.text,
            in_pool=True,
            labels_wanted=document.labels_needed,
        )
        for page, (pair, image, _name) in zip(pages, stored, strict=True)
    )
    reason = _("Imported from the folder %(folder)s") % {"folder": folder.resolve()}
    ModerationDecision.objects.bulk_create(
        ModerationDecision(
            line=line,
            moderator=owner,
            action=ModerationAction.IMPORT,
            text=line.consensus_text,
            reason=reason,
        )
        for line in lines
    )
    return document
