"""Pages per second: the platform's read_page against the plain tesseract command line.

Usage, from the repository root: python bench/ocr_throughput.py [--pages 20] [--repeat 2]

Renders synthetic Ottoman pages into a temporary directory, then reads each page
with (a) labeling.ocr.read_page and (b) `tesseract page.png out -l ara tsv` as a
user would type it (the inherited environment, nothing set), plus (c) that same
command with OMP_THREAD_LIMIT=1, to separate read_page's own overhead from the
threading setting. The paths take turns page by page in rotating order, so drift
in machine load hits all; each page's time is its best of --repeat runs. The
last line printed is one JSON object comparing (a) and (b).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from labeling.ocr import read_page, tesseract_version  # noqa: E402
from labeling.synthetic import SAMPLE_LINES, render_page  # noqa: E402


def page_lines(index: int) -> list[str]:
    """Return 15 to 20 sample lines for page `index`, in an order that differs per page."""
    count = 15 + index % 6
    # 5 and 12 are coprime, so each page walks all sample lines from its own start.
    return [SAMPLE_LINES[(index * 7 + row * 5) % len(SAMPLE_LINES)] for row in range(count)]


def render_pages(directory: Path, pages: int) -> list[tuple[Path, int]]:
    """Write the pages as PNG; return each path with its number of rendered lines."""
    rendered = []
    for index in range(pages):
        lines = page_lines(index)
        path = directory / f"page{index:03d}.png"
        render_page(lines).save(path)
        rendered.append((path, len(lines)))
    return rendered


def run_platform(path: Path) -> int:
    return len(read_page(path, language="ara").lines)


def run_cli(path: Path) -> int:
    return _cli(path, env=None)


def run_cli_one_thread(path: Path) -> int:
    # Not part of the comparison: it shows what read_page costs beyond Tesseract
    # itself once both run single-threaded.
    return _cli(path, env={**os.environ, "OMP_THREAD_LIMIT": "1"})


def _cli(path: Path, *, env: dict[str, str] | None) -> int:
    out = path.with_name(path.stem + "-cli")
    subprocess.run(
        ["tesseract", str(path), str(out), "-l", "ara", "tsv"],
        check=True,
        capture_output=True,
        env=env,
    )
    rows = out.with_suffix(".tsv").read_text(encoding="utf-8").splitlines()[1:]
    # Count lines as read_page does: those with at least one word that has text.
    lines = set()
    for row in rows:
        fields = row.split("\t")
        if fields[0] == "5" and len(fields) == 12 and fields[11].strip():
            lines.add(tuple(fields[1:5]))
    return len(lines)


def timed(function: Callable[[Path], int], path: Path) -> tuple[float, int]:
    started = time.perf_counter()
    found = function(path)
    return time.perf_counter() - started, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=2, help="runs per page and path; best counts")
    args = parser.parse_args()

    print(f"tesseract {tesseract_version()}, {os.cpu_count()} CPUs")
    omp = os.environ.get("OMP_THREAD_LIMIT")
    print(f"OMP_THREAD_LIMIT in the environment (what the CLI run sees): {omp or 'not set'}")
    print("read_page always runs Tesseract with OMP_THREAD_LIMIT=1")

    paths = {"platform": run_platform, "cli": run_cli, "cli-1thr": run_cli_one_thread}
    best: dict[str, list[float]] = {name: [] for name in paths}
    mismatched: dict[str, int] = {name: 0 for name in paths}
    with tempfile.TemporaryDirectory(prefix="ocr-bench-") as temp:
        pages = render_pages(Path(temp), args.pages)
        print(f"rendered {len(pages)} pages, {sum(n for _, n in pages)} lines, into {temp}")
        for index, (path, expected) in enumerate(pages):
            times: dict[str, list[float]] = {name: [] for name in paths}
            for attempt in range(args.repeat):
                # Rotate the order so no path always runs first (or last) on a page.
                shift = (index + attempt) % len(paths)
                order = list(paths)[shift:] + list(paths)[:shift]
                for name in order:
                    seconds, found = timed(paths[name], path)
                    times[name].append(seconds)
                    if attempt == 0 and found != expected:
                        mismatched[name] += 1
            for name in paths:
                best[name].append(min(times[name]))
            print(
                f"page {index + 1:2d}/{len(pages)} ({expected} lines): "
                + ", ".join(f"{name} {min(times[name]):.2f} s" for name in paths),
                flush=True,
            )

    rates = {name: len(best[name]) / sum(best[name]) for name in paths}
    ratio = rates["platform"] / rates["cli"]
    for name in paths:
        print(
            f"{name:8s} {rates[name]:.3f} pages/s, {sum(best[name]):.1f} s in all, "
            f"line count off on {mismatched[name]}/{len(pages)} pages"
        )
    print(f"ratio platform/cli: {ratio:.2f}")
    overhead = rates["platform"] / rates["cli-1thr"]
    print(f"ratio platform/cli-1thr (read_page's own overhead): {overhead:.2f}")
    print(
        json.dumps(
            {
                "platform_pages_per_s": round(rates["platform"], 3),
                "cli_pages_per_s": round(rates["cli"], 3),
                "ratio": round(ratio, 2),
                "pages": len(pages),
            }
        )
    )


if __name__ == "__main__":
    main()
