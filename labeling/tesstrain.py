"""Fine-tune a float Tesseract model on line pairs: the recipe of ../shared/DESIGN.md as functions.

No Django here: `labeling.training` (the Job), `manage.py train`, the benchmark and the CLI
(`python -m labeling.tesstrain`) call the same code. Paths in, dataclasses out; every
failure a person should read is a `TrainingError` whose message says what to do.

The recipe (measured on 2 cores with Debian's Tesseract 5.3):
1. a `.box` file per line with the characters in *visual* order (Arabic script: the reverse
   of the logical text, combining marks kept with their base) — in logical order the
   fine-tuned model gets worse with every iteration;
2. `tesseract LINE.png BASE --psm 13 lstm.train` → `BASE.lstmf`, lines in parallel;
3. the start model's unicharset merged with the lines' (`unicharset_extractor --norm_mode 2`,
   `merge_unicharsets`), then `combine_lang_model --lang_is_rtl --pass_through_recoder`
   (without the pass-through recoder the remapped model collapses);
4. `lstmtraining --continue_from START.lstm --old_traineddata START.traineddata
   --traineddata NEW.traineddata --reset_learning_rate`, stopped at an iteration or time
   limit, then `--stop_training` from the *last* checkpoint (it beat the lowest-training-
   error one on unseen books) → a float `.traineddata` that can be trained again.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import os
import queue
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import zipfile
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath

from PIL import Image, ImageFilter, ImageFont
from rapidfuzz.distance import Levenshtein

from labeling import ocr, ottoman
from labeling.synthetic import render_line

__all__ = [
    "EvalLine",
    "Evaluation",
    "LstmfSet",
    "Pair",
    "Progress",
    "ReleaseDir",
    "Scores",
    "StartModel",
    "TrainingError",
    "TrainingResult",
    "build_traineddata",
    "check_start_model",
    "evaluate",
    "folder_pairs",
    "make_lstmf",
    "make_synthetic_lstmf",
    "mixed",
    "prepare_lines",
    "read_release",
    "synthetic_fonts",
    "train",
    "unpack_release",
    "visual_order",
    "write_box",
]

_TAIL_LINES = 40
_OMP_ONE = {"OMP_THREAD_LIMIT": "1"}
# "At iteration 100/100/100, mean rms=1.9%, delta=6.1%, BCER train=23.4%, BWER train=61.3%, …"
_PROGRESS_RE = re.compile(
    r"At iteration (\d+)/(\d+)/(\d+), mean rms=([\d.]+)%, delta=([\d.]+)%, "
    r"BCER train=([\d.]+)%, BWER train=([\d.]+)%",
    re.IGNORECASE,
)
_PR_SET_PDEATHSIG = 1


class TrainingError(Exception):
    """Training cannot go on; the message is safe to show to staff."""


# --------------------------------------------------------------------------- processes


def _die_with_parent() -> None:
    """preexec_fn: a child killed with its parent (even a SIGKILLed worker) and in its own
    process group, so cancelling kills lstmtraining's whole group and nothing is orphaned."""
    os.setpgrp()
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _run(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 3600.0,
) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            [str(part) for part in command],
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError as error:
        raise TrainingError(
            f"{command[0]} is not installed (Debian: tesseract-ocr and its training tools)"
        ) from error
    except subprocess.TimeoutExpired as error:
        raise TrainingError(f"{command[0]} timed out after {timeout:g} s") from error


def _tail(text: str, lines: int = 12) -> str:
    kept = [line for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:]) or "no message"


def _workers(jobs: int | None) -> int:
    return max(1, jobs if jobs is not None else (os.cpu_count() or 1))


# --------------------------------------------------------------------------- releases


@dataclass(frozen=True)
class Pair:
    """One line image and its text (logical order, as in the .gt.txt)."""

    name: str
    image: Path
    text: str
    document: str = ""  # a label for per-document figures: the document's id or title
    split: str = "train"


@dataclass(frozen=True)
class ReleaseDir:
    root: Path
    train: list[Pair]
    eval: list[Pair]


def unpack_release(zip_path: Path, dest: Path) -> Path:
    """Extract a release zip under `dest`; return its `release-N/` folder.

    Refuses members that would land outside `dest` (absolute paths, "..").
    """
    dest = dest.resolve()
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for member in archive.infolist():
                path = PurePosixPath(member.filename)
                if path.is_absolute() or ".." in path.parts:
                    raise TrainingError(f"The release zip holds an unsafe path: {member.filename}")
            archive.extractall(dest)
    except zipfile.BadZipFile as error:
        raise TrainingError(f"The release file is not a readable zip: {error}") from error
    roots = [p for p in dest.iterdir() if p.is_dir() and (p / "list.train").exists()]
    if len(roots) != 1:
        raise TrainingError("The release zip has no release-N/ folder with a list.train")
    return roots[0]


def read_release(root: Path) -> ReleaseDir:
    """Read a release folder: list.train / list.eval name the lines, the .gt.txt files hold
    their texts and manifest.jsonl their documents."""
    documents: dict[str, str] = {}
    manifest = root / "manifest.jsonl"
    if manifest.exists():
        for raw in manifest.read_text(encoding="utf-8").splitlines():
            if not raw.strip():
                continue
            entry = json.loads(raw)
            label = entry.get("document_title") or entry.get("document") or ""
            if entry.get("document") not in (None, "") and entry.get("document_title"):
                label = f"{entry['document_title']} (#{entry['document']})"
            documents[str(entry.get("name", ""))] = str(label)

    def pairs(split: str) -> list[Pair]:
        listing = root / f"list.{split}"
        if not listing.exists():
            return []
        found = []
        for raw in listing.read_text(encoding="utf-8").splitlines():
            relative = raw.strip()
            if not relative:
                continue
            image = (root / relative).resolve()
            if not image.is_relative_to(root.resolve()):
                raise TrainingError(f"list.{split} names a file outside the release: {relative}")
            name = image.name.removesuffix(".png")
            gt = image.with_name(f"{name}.gt.txt")
            text = gt.read_text(encoding="utf-8").strip("\n") if gt.exists() else ""
            found.append(
                Pair(
                    name=name, image=image, text=text, document=documents.get(name, ""), split=split
                )
            )
        return found

    return ReleaseDir(root=root, train=pairs("train"), eval=pairs("eval"))


# --------------------------------------------------------------------------- box and lstmf


def _clusters(text: str) -> list[str]:
    """Base characters with the combining marks that follow them."""
    clusters: list[str] = []
    for ch in text:
        if clusters and unicodedata.combining(ch):
            clusters[-1] += ch
        else:
            clusters.append(ch)
    return clusters


def visual_order(text: str) -> list[str]:
    """The line's characters as the box file needs them: NFC, right-to-left lines reversed
    (what the eye meets from left to right), combining marks kept after their base."""
    text = unicodedata.normalize("NFC", text.strip())
    clusters = _clusters(text)
    if ottoman.looks_ottoman(text):
        clusters.reverse()
    return clusters


def write_box(*, image: Path, text: str, box: Path) -> None:
    """A tesstrain line box file: one box per character, each the whole image, then a tab."""
    with Image.open(image) as opened:
        width, height = opened.size
    rows = [f"{cluster} 0 0 {width} {height} 0" for cluster in visual_order(text)]
    rows.append(f"\t 0 0 {width} {height} 0")
    box.write_text("\n".join(rows) + "\n", encoding="utf-8")


@dataclass
class LstmfSet:
    files: list[Path]
    boxes: list[Path]
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (name, why)


def _one_lstmf(pair: Pair, work: Path) -> tuple[Path, Path] | tuple[str, str]:
    """The box file and `.lstmf` of one line under `work`, or (name, why not)."""
    if not pair.text.strip():
        return (pair.name, "no text")
    # Names may hold dots ("book.Title-000001"): suffixes are appended, never replaced.
    base = work / pair.name
    image = work / f"{pair.name}.png"
    box = work / f"{pair.name}.box"
    lstmf = work / f"{pair.name}.lstmf"
    try:
        if pair.image != image:
            with Image.open(pair.image) as opened:
                if opened.format == "PNG" and opened.mode in ("1", "L", "RGB", "RGBA"):
                    shutil.copyfile(pair.image, image)
                else:
                    opened.convert("RGB").save(image)
        write_box(image=image, text=pair.text, box=box)
    except (OSError, ValueError) as error:
        return (pair.name, f"unreadable image: {error}")
    result = _run(
        ["tesseract", image, base, "--psm", "13", "lstm.train"], env=_OMP_ONE, timeout=120
    )
    if result.returncode != 0 or not lstmf.exists() or lstmf.stat().st_size == 0:
        return (pair.name, f"tesseract: {_tail(result.stderr, 2)}")
    return (lstmf, box)


def _collect(outcomes: Iterable[tuple[Path, Path] | tuple[str, str]]) -> LstmfSet:
    made = LstmfSet(files=[], boxes=[])
    for first, second in outcomes:
        if isinstance(first, Path) and isinstance(second, Path):
            made.files.append(first)
            made.boxes.append(second)
        else:
            made.skipped.append((str(first), str(second)))
    return made


def make_lstmf(pairs: Iterable[Pair], work: Path, *, jobs: int | None = None) -> LstmfSet:
    """A box file and an `.lstmf` per line under `work`, lines in parallel (one Tesseract
    thread each). A line that cannot be made (no text, unreadable image, Tesseract fails) is
    skipped and counted."""
    work.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(max_workers=_workers(jobs)) as pool:
        return _collect(pool.map(lambda pair: _one_lstmf(pair, work), list(pairs)))


# --------------------------------------------------------------------------- synthetic lines

# Naskh faces only (Debian: fonts-hosny-amiri, fonts-sil-scheherazade, fonts-noto-core): the
# books are printed naskh; Kufi, Nastaliq and the Quran faces would teach other shapes.
SYNTHETIC_FONTS: tuple[Path, ...] = (
    Path("/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Regular.ttf"),
    Path("/usr/share/fonts/truetype/scheherazade/Scheherazade-Regular.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Regular.ttf"),
    Path("/usr/share/fonts/opentype/fonts-hosny-amiri/Amiri-Bold.ttf"),
    Path("/usr/share/fonts/truetype/scheherazade/Scheherazade-Bold.ttf"),
    Path("/usr/share/fonts/truetype/noto/NotoNaskhArabic-Bold.ttf"),
)


def synthetic_fonts() -> list[Path]:
    """The installed fonts of `SYNTHETIC_FONTS`."""
    return [font for font in SYNTHETIC_FONTS if font.is_file()]


_NOTDEF = "\ue000"  # a private-use character no naskh font draws: its mask is the .notdef box
_coverage_lock = threading.Lock()
_coverage: dict[tuple[Path, str], bool] = {}
_faces: dict[Path, tuple[ImageFont.FreeTypeFont, bytes]] = {}


def _font_draws(font: Path, text: str) -> bool:
    """Whether the font has a glyph for every character of `text` (a missing one would be
    drawn as the .notdef box and teach the model a wrong shape)."""

    def mask(face: ImageFont.FreeTypeFont, ch: str) -> bytes:
        return bytes(face.getmask(ch))

    with _coverage_lock:
        if font not in _faces:
            face = ImageFont.truetype(str(font), 24)
            _faces[font] = (face, mask(face, _NOTDEF))
        face, notdef = _faces[font]
        for ch in set(text) - {" ", "\u200c", "\u200d"}:
            key = (font, ch)
            if key not in _coverage:
                _coverage[key] = unicodedata.combining(ch) > 0 or mask(face, ch) != notdef
            if not _coverage[key]:
                return False
    return True


@dataclass(frozen=True)
class _Rendering:
    name: str
    text: str
    fonts: tuple[Path, ...]  # the first that draws every character is used
    size: int
    padding: tuple[int, int]  # (horizontal, vertical) pixels of white around the ink
    blur: float  # Gaussian blur radius before thresholding: thicker or thinner strokes
    threshold: int  # 0: keep grey levels; else binarize at this level


def _render(plan: _Rendering, work: Path) -> Pair | tuple[str, str]:
    font = next((f for f in plan.fonts if _font_draws(f, plan.text)), None)
    if font is None:
        return (plan.name, "no font draws every character")
    horizontal, vertical = plan.padding
    line = render_line(plan.text, font_path=font, size=plan.size, padding=vertical)
    if horizontal != vertical:
        wider = Image.new("L", (line.width + 2 * (horizontal - vertical), line.height), 255)
        wider.paste(line, (horizontal - vertical, 0))
        line = wider
    if plan.blur > 0:
        line = line.filter(ImageFilter.GaussianBlur(plan.blur))
    if plan.threshold:
        line = line.point(lambda value: 255 if value > plan.threshold else 0)
    image = work / f"{plan.name}.png"
    line.save(image)
    return Pair(name=plan.name, image=image, text=plan.text, document="synthetic")


def make_synthetic_lstmf(
    texts: Sequence[str],
    work: Path,
    *,
    ratio: float = 1.0,
    fonts: Sequence[Path] | None = None,
    seed: int = 0,
    jobs: int | None = None,
) -> LstmfSet:
    """Render about `ratio * len(texts)` lines from `texts` (each text in one font, the
    fonts taken in turn; sizes, margins and stroke weight varied) and make their box files
    and `.lstmf` as for real lines. Against over-fitting the training books' typefaces.

    A text goes to the next font when its font lacks a character, and is skipped and
    counted when none draws it all; with no font installed the set is empty and says why
    in `skipped`."""
    work.mkdir(parents=True, exist_ok=True)
    fonts = list(fonts) if fonts is not None else synthetic_fonts()
    usable = [" ".join(text.split()) for text in texts if text.strip()]
    wanted = round(len(usable) * max(ratio, 0.0))
    if not fonts or not usable or wanted == 0:
        why = "no Arabic-script font installed" if not fonts else "nothing asked"
        return LstmfSet(files=[], boxes=[], skipped=[("synthetic", why)] if wanted else [])
    rng = random.Random(seed)
    order = list(range(len(usable)))
    rng.shuffle(order)
    plans = []
    for number in range(wanted):
        text = usable[order[number % len(order)]]
        size = rng.randint(32, 52)
        plans.append(
            _Rendering(
                name=f"synthetic-{number:06d}",
                text=text,
                fonts=tuple(fonts[number % len(fonts) :] + fonts[: number % len(fonts)]),
                size=size,
                padding=(rng.randint(4, 24), rng.randint(3, max(4, size // 4))),
                blur=rng.choice((0.0, 0.0, 0.5, 0.8, 1.0)),
                threshold=rng.choice((0, 0, 112, 128, 144)),
            )
        )

    def one(plan: _Rendering) -> tuple[Path, Path] | tuple[str, str]:
        try:
            rendered = _render(plan, work)
        except (OSError, ValueError) as error:
            return (plan.name, f"cannot render: {error}")
        if isinstance(rendered, tuple):
            return rendered
        return _one_lstmf(rendered, work)

    with ThreadPoolExecutor(max_workers=_workers(jobs)) as pool:
        return _collect(pool.map(one, plans))


def mixed(real: LstmfSet, synthetic: LstmfSet, *, seed: int = 0) -> LstmfSet:
    """Both sets in one, the `.lstmf` shuffled (lstmtraining takes them in list order)."""
    files = real.files + synthetic.files
    random.Random(seed).shuffle(files)
    return LstmfSet(
        files=files,
        boxes=real.boxes + synthetic.boxes,
        skipped=real.skipped + synthetic.skipped,
    )


def prepare_lines(
    pairs: Sequence[Pair], work: Path, *, synthetic: float = 0.0, jobs: int | None = None
) -> LstmfSet:
    """The training lines' `.lstmf` (under `work/real`) and, when `synthetic` > 0, about
    `synthetic` times as many lines rendered from their texts in Debian's naskh fonts
    (under `work/synthetic`), shuffled together."""
    real = make_lstmf(pairs, work / "real", jobs=jobs)
    if synthetic <= 0:
        return real
    rendered = make_synthetic_lstmf(
        [pair.text for pair in pairs], work / "synthetic", ratio=synthetic, jobs=jobs
    )
    return mixed(real, rendered)


# --------------------------------------------------------------------------- models


@dataclass(frozen=True)
class StartModel:
    traineddata: Path
    lstm: Path
    unicharset: Path
    version: str


def check_start_model(traineddata: Path, work: Path) -> StartModel:
    """Unpack a start model under `work` and check lstmtraining can continue from it.

    Refuses a missing or corrupt file, a model without an LSTM, and an integer ("fast")
    model such as Debian's language packs, each with a message saying so.
    """
    name = traineddata.name
    if not traineddata.is_file():
        raise TrainingError(f"The start model file {name} is missing")
    work.mkdir(parents=True, exist_ok=True)
    prefix = work / "start."
    unpacked = _run(["combine_tessdata", "-u", traineddata, prefix], timeout=300)
    lstm = work / "start.lstm"
    unicharset = work / "start.lstm-unicharset"
    if unpacked.returncode != 0:
        raise TrainingError(
            f"The start model {name} is not a readable .traineddata file (corrupt or truncated)"
        )
    if not lstm.exists() or not unicharset.exists():
        raise TrainingError(
            f"The start model {name} has no LSTM model: only LSTM models can be fine-tuned"
        )
    version_file = work / "start.version"
    version = version_file.read_text(errors="replace").strip() if version_file.exists() else ""
    probe = _run(
        [
            "lstmtraining",
            "--stop_training",
            "--continue_from",
            lstm,
            "--traineddata",
            traineddata,
            "--model_output",
            work / "start-probe.traineddata",
        ],
        timeout=300,
    )
    output = probe.stdout + probe.stderr
    if "integer" in output.lower():
        raise TrainingError(
            f'The start model {name} is an integer ("fast") model, such as Debian\'s language '
            'packs: it cannot be fine-tuned. Start from a float ("best") model, e.g. from '
            "tessdata_best."
        )
    if probe.returncode != 0:
        raise TrainingError(
            f"lstmtraining cannot continue from the start model {name}: {_tail(output, 3)}"
        )
    (work / "start-probe.traineddata").unlink(missing_ok=True)
    return StartModel(traineddata=traineddata, lstm=lstm, unicharset=unicharset, version=version)


def build_traineddata(
    *, start: StartModel, boxes: Sequence[Path], work: Path, lang: str = "trained"
) -> Path:
    """The new model's starter traineddata: the start model's characters plus the lines'
    (so ڭ ۋ ، and digits Persian lacks can be learnt), right to left, pass-through recoder."""
    if not boxes:
        raise TrainingError("No training line could be prepared, so there is nothing to learn")
    work.mkdir(parents=True, exist_ok=True)
    extracted = work / "lines.unicharset"
    result = _run(
        ["unicharset_extractor", "--output_unicharset", extracted, "--norm_mode", "2", *boxes],
        timeout=600,
    )
    if result.returncode != 0 or not extracted.exists():
        raise TrainingError(f"unicharset_extractor failed: {_tail(result.stderr, 3)}")
    merged = work / "merged.unicharset"
    result = _run(["merge_unicharsets", start.unicharset, extracted, merged], timeout=300)
    if result.returncode != 0 or not merged.exists():
        raise TrainingError(f"merge_unicharsets failed: {_tail(result.stderr, 3)}")
    script_dir = work / "script"
    script_dir.mkdir(exist_ok=True)
    # combine_lang_model refuses an empty radical-stroke table; a comment line is enough
    # for a model that is not Han.
    (script_dir / "radical-stroke.txt").write_text("# not used for Arabic script\n")
    output = work / "lang"
    (output / lang).mkdir(parents=True, exist_ok=True)  # combine_lang_model does not make it
    result = _run(
        [
            "combine_lang_model",
            "--input_unicharset",
            merged,
            "--script_dir",
            script_dir,
            "--output_dir",
            output,
            "--lang",
            lang,
            "--lang_is_rtl",
            "--pass_through_recoder",
        ],
        timeout=300,
    )
    traineddata = output / lang / f"{lang}.traineddata"
    if result.returncode != 0 or not traineddata.exists():
        raise TrainingError(f"combine_lang_model failed: {_tail(result.stderr, 3)}")
    return traineddata


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class Progress:
    """One of lstmtraining's reports (every 100 iterations)."""

    iteration: int  # training iterations (lines seen, counting the skipped ones)
    learning_iteration: int
    bcer: float  # character error on the training lines, 0..1
    bwer: float
    elapsed: float  # seconds since lstmtraining started


@dataclass
class TrainingResult:
    traineddata: Path
    iterations: int
    bcer: float | None
    stopped: str  # "iterations", "minutes", or "target" (training error under 1%)
    seconds: float
    curve: list[Progress]
    log_tail: str


class _Cancelled(Exception):
    pass


def _reader(stream: Iterable[str], lines: queue.Queue[str | None]) -> None:
    for line in stream:
        lines.put(line.rstrip("\n"))
    lines.put(None)


def _kill_group(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def train(
    *,
    start: StartModel,
    traineddata: Path,
    lstmf: Sequence[Path],
    work: Path,
    max_iterations: int,
    max_minutes: float,
    learning_rate: float,
    output: Path,
    on_progress: Callable[[Progress, str], None] | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_start: Callable[[int], None] | None = None,
    poll_seconds: float = 1.0,
) -> TrainingResult:
    """Run lstmtraining until `max_iterations` or `max_minutes`, then write the last
    checkpoint as a float model to `output`.

    `on_progress(progress, log_tail)` is called after each report; `should_cancel()` is asked
    every `poll_seconds` and, when true, the process group is killed and `TrainingCancelled`
    raised. lstmtraining runs in its own process group and dies with this process.
    """
    if not lstmf:
        raise TrainingError("No training line could be prepared, so there is nothing to learn")
    work.mkdir(parents=True, exist_ok=True)
    listfile = work / "list.train"
    listfile.write_text("\n".join(str(p) for p in lstmf) + "\n", encoding="utf-8")
    checkpoints = work / "checkpoints"
    checkpoints.mkdir(exist_ok=True)
    base = checkpoints / "model"
    last = checkpoints / "model_checkpoint"
    safe = work / "last.checkpoint"
    command = [
        "lstmtraining",
        "--continue_from",
        str(start.lstm),
        "--old_traineddata",
        str(start.traineddata),
        "--traineddata",
        str(traineddata),
        "--model_output",
        str(base),
        "--train_listfile",
        str(listfile),
        "--max_iterations",
        str(max_iterations),
        "--learning_rate",
        f"{learning_rate:g}",
        "--reset_learning_rate",
    ]
    tail: list[str] = []
    curve: list[Progress] = []
    started = time.monotonic()
    deadline = started + max_minutes * 60
    try:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            preexec_fn=_die_with_parent,
        )
    except FileNotFoundError as error:
        raise TrainingError("lstmtraining is not installed (Debian: tesseract-ocr)") from error
    if on_start is not None:
        on_start(process.pid)
    lines: queue.Queue[str | None] = queue.Queue()
    assert process.stdout is not None
    threading.Thread(target=_reader, args=(process.stdout, lines), daemon=True).start()
    stopped = "iterations"
    try:
        finished = False
        while not finished:
            if should_cancel is not None and should_cancel():
                raise _Cancelled
            if time.monotonic() >= deadline:
                stopped = "minutes"
                break
            try:
                line = lines.get(timeout=poll_seconds)
            except queue.Empty:
                continue
            while line is not None:
                tail = [*tail[-(_TAIL_LINES - 1) :], line]
                match = _PROGRESS_RE.search(line)
                if match:
                    # The checkpoint is complete once its report is printed; keep a copy,
                    # because stopping on time may kill the process while it writes the next.
                    if last.exists():
                        shutil.copyfile(last, safe)
                    progress = Progress(
                        iteration=int(match.group(2)),
                        learning_iteration=int(match.group(1)),
                        bcer=float(match.group(6)) / 100,
                        bwer=float(match.group(7)) / 100,
                        elapsed=time.monotonic() - started,
                    )
                    curve.append(progress)
                    if on_progress is not None:
                        on_progress(progress, "\n".join(tail))
                try:
                    line = lines.get_nowait()
                except queue.Empty:
                    break
            else:
                finished = True
    except _Cancelled:
        _kill_group(process)
        raise TrainingCancelled("Cancelled") from None
    except BaseException:
        _kill_group(process)
        raise
    if stopped == "minutes":
        _kill_group(process)
        checkpoint = safe
    else:
        process.wait()
        if process.returncode != 0:
            raise TrainingError(
                f"lstmtraining failed (exit {process.returncode}): {_tail(chr(10).join(tail), 4)}"
            )
        checkpoint = last
        if curve and curve[-1].iteration < max_iterations:
            stopped = "target"  # lstmtraining's own stop: training error under 1%
    seconds = time.monotonic() - started
    if not checkpoint.exists():
        raise TrainingError(
            "lstmtraining stopped before it wrote a checkpoint: give it more minutes "
            "or iterations (it reports every 100)"
        )
    output.parent.mkdir(parents=True, exist_ok=True)
    result = _run(
        [
            "lstmtraining",
            "--stop_training",
            "--continue_from",
            checkpoint,
            "--traineddata",
            traineddata,
            "--model_output",
            output,
        ],
        timeout=600,
    )
    if result.returncode != 0 or not output.exists():
        raise TrainingError(f"Writing the trained model failed: {_tail(result.stderr, 3)}")
    return TrainingResult(
        traineddata=output,
        iterations=curve[-1].iteration if curve else max_iterations,
        bcer=curve[-1].bcer if curve else None,
        stopped=stopped,
        seconds=seconds,
        curve=curve,
        log_tail="\n".join(tail),
    )


class TrainingCancelled(Exception):
    """`should_cancel` said stop; lstmtraining has been killed."""


# --------------------------------------------------------------------------- evaluation


@dataclass
class Scores:
    """Error counts over some lines; rates are errors / reference length."""

    lines: int = 0
    chars: int = 0
    char_errors: int = 0
    words: int = 0
    word_errors: int = 0
    chars_normalized: int = 0
    char_errors_normalized: int = 0
    words_normalized: int = 0
    word_errors_normalized: int = 0

    def add(self, reference: str, hypothesis: str, normalize: Callable[[str], str]) -> None:
        self.lines += 1
        for suffix, ref, hyp in (
            ("", " ".join(reference.split()), " ".join(hypothesis.split())),
            ("_normalized", normalize(reference), normalize(hypothesis)),
        ):
            chars = f"chars{suffix}"
            words = f"words{suffix}"
            setattr(self, chars, getattr(self, chars) + len(ref))
            setattr(
                self,
                f"char_errors{suffix}",
                getattr(self, f"char_errors{suffix}") + Levenshtein.distance(ref, hyp),
            )
            setattr(self, words, getattr(self, words) + len(ref.split()))
            setattr(
                self,
                f"word_errors{suffix}",
                getattr(self, f"word_errors{suffix}")
                + Levenshtein.distance(ref.split(), hyp.split()),
            )

    def rates(self) -> dict[str, float | int]:
        def rate(errors: int, total: int) -> float:
            return errors / total if total else 0.0

        return {
            "lines": self.lines,
            "cer": rate(self.char_errors, self.chars),
            "wer": rate(self.word_errors, self.words),
            "cer_normalized": rate(self.char_errors_normalized, self.chars_normalized),
            "wer_normalized": rate(self.word_errors_normalized, self.words_normalized),
        }


@dataclass(frozen=True)
class EvalLine:
    name: str
    document: str
    reference: str
    read: str


@dataclass
class Evaluation:
    overall: dict[str, float | int]
    documents: dict[str, dict[str, float | int]]
    lines: list[EvalLine]
    failed: int  # lines Tesseract could not read (counted as read empty)

    def as_json(self) -> dict[str, object]:
        return {"overall": self.overall, "documents": self.documents, "failed": self.failed}


def evaluate(
    pairs: Sequence[Pair],
    *,
    language: str,
    tessdata_dir: Path | None = None,
    normalize: Callable[[str], str] = ottoman.normalize,
    jobs: int | None = None,
    psm: int = 13,
) -> Evaluation:
    """Read each line with `tesseract --psm 13` and the given model (lines in parallel, one
    thread each); CER and WER, raw (whitespace collapsed) and normalized, per document and
    overall, as total errors over total reference length."""
    failed = 0

    def read(pair: Pair) -> str | None:
        try:
            return ocr.read_line(
                pair.image.read_bytes(), language=language, tessdata_dir=tessdata_dir, psm=psm
            ).text
        except ocr.OcrError as error:
            if "language data" in str(error) or "not installed" in str(error):
                raise TrainingError(str(error)) from error
            return None

    with ThreadPoolExecutor(max_workers=_workers(jobs)) as pool:
        readings = list(pool.map(read, pairs))
    overall = Scores()
    per_document: dict[str, Scores] = {}
    lines = []
    for pair, reading in zip(pairs, readings, strict=True):
        if reading is None:
            failed += 1
            reading = ""
        reference = unicodedata.normalize("NFC", pair.text)
        overall.add(reference, reading, normalize)
        per_document.setdefault(pair.document, Scores()).add(reference, reading, normalize)
        lines.append(EvalLine(pair.name, pair.document, reference, reading))
    return Evaluation(
        overall=overall.rates(),
        documents={name: scores.rates() for name, scores in sorted(per_document.items())},
        lines=lines,
        failed=failed,
    )


# --------------------------------------------------------------------------- CLI


def folder_pairs(
    folder: Path, *, split: str = "eval", only: Sequence[str] | None = None
) -> list[Pair]:
    """Pairs from a folder of NAME.png + NAME.gt.txt, or from its sub-folders (one per book,
    the book's folder name as its document; `only` these books when given)."""
    books = sorted(p for p in folder.iterdir() if p.is_dir()) or [folder]
    if only is not None:
        books = [book for book in books if book.name in only]
    pairs = []
    for book in books:
        for image in sorted(book.glob("*.png")):
            gt = image.with_name(image.name.removesuffix(".png") + ".gt.txt")
            if gt.exists():
                pairs.append(
                    Pair(
                        name=f"{book.name}-{image.stem}",
                        image=image,
                        text=gt.read_text(encoding="utf-8").strip("\n"),
                        document=book.name,
                        split=split,
                    )
                )
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m labeling.tesstrain",
        description="Fine-tune a float Tesseract model on line pairs and evaluate it.",
    )
    parser.add_argument("--release", type=Path, help="a release zip or folder")
    parser.add_argument("--train-dir", type=Path, help="folder(s) of NAME.png + NAME.gt.txt")
    parser.add_argument("--eval-dir", type=Path)
    parser.add_argument("--start", type=Path, required=True, help="float .traineddata")
    parser.add_argument("--iterations", type=int, default=100000)
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--work", type=Path)
    parser.add_argument(
        "--synthetic",
        type=float,
        default=0.0,
        metavar="RATIO",
        help="also render RATIO times as many lines from the training texts in naskh fonts",
    )
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="tesstrain-"))
    try:
        if args.release:
            root = args.release
            if root.is_file():
                root = unpack_release(root, work / "release")
            release = read_release(root)
            train_pairs, eval_pairs = release.train, release.eval
        else:
            train_pairs = folder_pairs(args.train_dir, split="train")
            eval_pairs = folder_pairs(args.eval_dir) if args.eval_dir else []
        start = check_start_model(args.start, work / "start")
        made = prepare_lines(train_pairs, work / "lines", synthetic=args.synthetic)
        print(f"lines: {len(made.files)} prepared, {len(made.skipped)} skipped", flush=True)
        starter = build_traineddata(start=start, boxes=made.boxes, work=work / "model")

        def show(progress: Progress, _tail: str) -> None:
            print(
                f"iteration {progress.iteration}: BCER {progress.bcer:.2%} "
                f"({progress.elapsed:.0f} s)",
                flush=True,
            )

        result = train(
            start=start,
            traineddata=starter,
            lstmf=made.files,
            work=work / "train",
            max_iterations=args.iterations,
            max_minutes=args.minutes,
            learning_rate=args.learning_rate,
            output=args.out,
            on_progress=show,
        )
        print(json.dumps({**asdict(result), "traineddata": str(result.traineddata)}, default=str))
        if eval_pairs:
            evaluation = evaluate(
                eval_pairs, language=args.out.stem, tessdata_dir=args.out.parent.resolve()
            )
            print(json.dumps(evaluation.as_json(), ensure_ascii=False))
    except TrainingError as error:
        print(error, file=sys.stderr)
        return 1
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
