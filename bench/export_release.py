"""Release build + streamed download against `zip` of the same files.

Usage, from the repository root:
    .venv/bin/python bench/export_release.py [--sizes 10000 100000] [--lines-per-document 1000]

Sets up a scratch SQLite database and storage in a temporary OTTOMAN_VAR_DIR, then for each
size N makes N synthetic line pairs the fast way (bulk rows; small rendered line PNGs written
straight into storage, each line a page of its own, as `import_ground_truth` stores them) and
the same pairs as a plain tesstrain folder on disk (`lines/NAME.png` + `lines/NAME.gt.txt`).

- ours: a child process runs `create_release` + `build_release` (crops, zip to a temporary
  file, SHA-256, store, publish) and then downloads the release through the staff download
  view (FileResponse, 1 MB blocks), timing both; its peak RSS is `peak_rss_mb`.
- zip: `zip -q -r` of the folder (deflates everything at level 6), and `zip -q -r -n
  .png:.txt` (stores the line images and texts, deflates the rest, as our release does: the
  like-for-like one).

`ratio_*` = zip time / our time, with plain `zip -q` (the issue's comparison); `ratio_*_like`
with `zip -n .png:.txt`. Our time includes what `zip` does not do: reading the rows, cutting
each crop from its stored page, SHA-256 of every file, README and manifest, storing the zip
and downloading it. The last line printed is one JSON object.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

TEXTS = [
    "سلام عليكم",
    "كتاب ڭ دولت",
    "دولت علیه عثمانیه",
    "١٣٢٥ سنه سی",
    "بو كتابك مؤلفی",
    "استانبول مطبعه سی",
    "ایكی یوز اللی",
    "حضرت سلطان",
]


def configure(var_dir: str) -> None:
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/db.sqlite3"
    os.environ["OTTOMAN_VAR_DIR"] = var_dir
    os.environ["DJANGO_SETTINGS_MODULE"] = "ottoman_ocr.test_settings"
    os.environ["CELERY_TASK_ALWAYS_EAGER"] = "false"


def render_lines() -> list[bytes]:
    """A few distinct small line PNGs (Amiri if installed, else Pillow's default font)."""
    from PIL import Image, ImageDraw, ImageFont

    fonts = sorted(Path("/usr/share/fonts").rglob("Amiri-Regular.ttf"))
    font = ImageFont.truetype(str(fonts[0]), 24) if fonts else ImageFont.load_default()
    images = []
    for index, text in enumerate(TEXTS):
        image = Image.new("L", (360 + 8 * index, 40), 255)
        ImageDraw.Draw(image).text((350, 4), text, font=font, fill=0, anchor="ra")
        buffer = io.BytesIO()
        image.save(buffer, "PNG")
        images.append(buffer.getvalue())
    return images


def make_pairs(count: int, per_document: int, folder: Path) -> None:
    """Rows and storage files for `count` approved imported lines, and the same pairs in
    `folder/lines`. Returns nothing: the child process reads them from the database."""
    from django.conf import settings
    from django.utils import timezone

    from accounts.models import User
    from labeling.models import Document, Line, LineProvenance, LineStatus, OcrStatus, Page

    images = render_lines()
    owner = User.objects.filter(is_superuser=True).first() or User.objects.create_superuser(
        email="bench@example.org", password="bench-password-123"
    )
    media = Path(settings.MEDIA_ROOT)
    (folder / "lines").mkdir(parents=True)
    now = timezone.now()
    made = 0
    while made < count:
        size = min(per_document, count - made)
        doc = Document.objects.create(
            owner=owner,
            title=f"Bench book {made // per_document + 1}",
            visibility="pool",
            license="cc0-1.0",
            pool_consent_at=now,
        )
        pages = []
        for number in range(1, size + 1):
            data = images[(made + number) % len(images)]
            name = f"pages/b{doc.pk}/{number:06d}.png"
            pages.append(
                Page(
                    document=doc,
                    number=number,
                    image=name,
                    sha256=f"{doc.pk:032x}{number:032x}",
                    width=360 + 8 * ((made + number) % len(images)),
                    height=40,
                    source_name=f"{number}.png",
                    ocr_status=OcrStatus.DONE,
                )
            )
            target = media / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        pages = Page.objects.bulk_create(pages, batch_size=2000)
        lines = []
        for page in pages:
            text = TEXTS[(made + page.number) % len(TEXTS)]
            lines.append(
                Line(
                    page=page,
                    order=1,
                    left=0,
                    top=0,
                    right=page.width,
                    bottom=page.height,
                    provenance=LineProvenance.IMPORTED,
                    status=LineStatus.APPROVED,
                    consensus_text=text,
                    in_pool=True,
                )
            )
        lines = Line.objects.bulk_create(lines, batch_size=2000)
        for line, page in zip(lines, pages, strict=True):
            name = f"d{doc.pk:06d}-p{page.number:04d}-l{line.pk:08d}"
            shutil.copyfile(media / page.image.name, folder / "lines" / f"{name}.png")
            (folder / "lines" / f"{name}.gt.txt").write_text(f"{line.consensus_text}\n")
        made += size


def child(count: int) -> None:
    """Build and download the release of everything; print one JSON line of figures."""
    import django

    django.setup()
    from django.test import Client

    from accounts.models import User
    from labeling.models import DatasetRelease, ReleaseStatus
    from labeling.releases import build_release, create_release

    staff = User.objects.get(email="bench@example.org")
    started = time.perf_counter()
    release = create_release(created_by=staff, eval_share=0.1, seed=0)
    build_release(release_id=release.pk)
    built = time.perf_counter()
    release = DatasetRelease.objects.get(pk=release.pk)
    assert release.status == ReleaseStatus.DONE, release.error
    assert release.summary["lines"] == count, release.summary
    client = Client(HTTP_HOST="localhost")
    client.force_login(staff)
    response = client.get(f"/releases/{release.pk}/download.zip")
    received = 0
    for chunk in response.streaming_content:  # type: ignore[attr-defined]
        received += len(chunk)
    done = time.perf_counter()
    assert received == release.size
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "build_s": built - started,
                "download_s": done - built,
                "size": release.size,
                "peak_rss_mb": peak_kb / 1024,
            }
        )
    )


def timed(command: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=cwd, check=True)
    return time.perf_counter() - started


def run_size(count: int, per_document: int, root: Path) -> dict[str, float]:
    var_dir = root / f"var-{count}"
    var_dir.mkdir()
    configure(str(var_dir))
    import django
    from django.core.management import call_command

    django.setup()
    from django.db import connections

    call_command("migrate", verbosity=0)
    folder = root / f"release-{count}"
    started = time.perf_counter()
    make_pairs(count, per_document, folder)
    connections.close_all()
    print(f"{count} pairs made in {time.perf_counter() - started:.1f} s")
    result = subprocess.run(
        [sys.executable, __file__, "--child", str(count)],
        cwd=REPO,
        env=os.environ.copy(),
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise RuntimeError(f"the build failed:\n{result.stdout}\n{result.stderr}")
    ours = json.loads(result.stdout.strip().splitlines()[-1])
    zip_plain = timed(["zip", "-q", "-r", str(root / f"plain-{count}.zip"), folder.name], root)
    zip_like = timed(
        ["zip", "-q", "-r", "-n", ".png:.txt", str(root / f"like-{count}.zip"), folder.name],
        root,
    )
    our_seconds = ours["build_s"] + ours["download_s"]
    figures = {
        "ours_s": our_seconds,
        "build_s": ours["build_s"],
        "download_s": ours["download_s"],
        "zip_s": zip_plain,
        "zip_like_s": zip_like,
        "ratio": zip_plain / our_seconds,
        "ratio_like": zip_like / our_seconds,
        "peak_rss_mb": ours["peak_rss_mb"],
        "size_mb": ours["size"] / 1e6,
        "zip_size_mb": (root / f"plain-{count}.zip").stat().st_size / 1e6,
    }
    print(
        f"{count} pairs: ours {our_seconds:.2f} s (build {ours['build_s']:.2f} s + download "
        f"{ours['download_s']:.2f} s, {figures['size_mb']:.1f} MB, peak RSS "
        f"{ours['peak_rss_mb']:.0f} MB); zip -q {zip_plain:.2f} s "
        f"({figures['zip_size_mb']:.1f} MB), zip -q -n .png:.txt {zip_like:.2f} s; ratio "
        f"{figures['ratio']:.2f} (zip -n .png:.txt: {figures['ratio_like']:.2f})"
    )
    for path in root.iterdir():  # keep the disk free for the next size
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--lines-per-document", type=int, default=1000)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--root", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        if os.environ.get("BENCH_PROFILE"):
            import cProfile

            cProfile.runctx("child(args.child)", globals(), locals(), os.environ["BENCH_PROFILE"])
        else:
            child(args.child)
        return
    if args.one:
        print(json.dumps(run_size(args.one, args.lines_per_document, Path(args.root))))
        return
    if shutil.which("zip") is None:
        sys.exit("bench/export_release.py needs the zip command (Debian package zip)")
    results = {}
    for count in args.sizes:
        # Each size in its own process, so one size's database and memory do not touch the next.
        with tempfile.TemporaryDirectory(prefix="bench-release-") as root:
            result = subprocess.run(
                [
                    *(sys.executable, __file__, "--one", str(count), "--root", root),
                    *("--lines-per-document", str(args.lines_per_document)),
                ],
                cwd=REPO,
                check=False,
                capture_output=True,
                text=True,
            )
            if result.returncode:
                sys.exit(f"size {count} failed:\n{result.stdout}\n{result.stderr}")
            lines = result.stdout.strip().splitlines()
            print("\n".join(lines[:-1]))
            results[count] = json.loads(lines[-1])
    summary: dict[str, float | int | str] = {}
    for count, figures in results.items():
        label = f"{count // 1000}k"
        summary[f"ratio_{label}"] = round(figures["ratio"], 2)
        summary[f"ratio_{label}_like"] = round(figures["ratio_like"], 2)
        summary[f"ours_s_{label}"] = round(figures["ours_s"], 2)
        summary[f"zip_s_{label}"] = round(figures["zip_s"], 2)
        summary[f"zip_like_s_{label}"] = round(figures["zip_like_s"], 2)
    summary["peak_rss_mb"] = round(max(f["peak_rss_mb"] for f in results.values()), 1)
    summary["database"] = "sqlite"
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
