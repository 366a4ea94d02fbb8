"""Fine-tune Tesseract on released ground truth and compare it with stock `ara` on unseen books.

Usage, from the repository root:
    .venv/bin/python bench/train_model.py [--minutes 45] [--learning-rate 5e-4]
        [--heldout DIR] [--out FILE] [--books DIR] [--start FILE]
        [--synthetic RATIO] [--synthetic-max N]

On a temporary SQLite database and media folder (nothing else is touched): imports each
training book of ../shared/data/arabic-print-gt as a document
(`labeling.groundtruth.import_ground_truth`), builds a release of them
(`labeling.releases.create_release` / `build_release`), and fine-tunes the float
../shared/models/fas.traineddata on the release's lines with the recipe of
`labeling.tesstrain` (the functions a TrainingRun calls). Whole books are held out: by
default book_IbnQutayba.Adab and book_Jahiz.Hayawan are never imported, and both stock `ara`
(Debian's, `--psm 13`) and the trained model (`--psm 13`) read their lines. `--heldout DIR`
(one sub-folder per book of NAME.png + NAME.gt.txt) evaluates on another such folder
instead; the books of --books all train then.

Prints the figures and, last, one JSON object: `stock_cer` and `trained_cer` (normalized CER
as fractions), `reduction` (1 - trained/stock), raw CERs, `train_minutes`, `lines_train`,
iterations and the last training error (BCER).

`--synthetic RATIO` (default 1.0; 0 turns it off) adds about RATIO times as many lines
rendered from the training lines' own texts in Debian's naskh fonts (Amiri, Scheherazade,
Noto Naskh Arabic, regular and bold; sizes, margins and stroke weight varied), shuffled in
with the real ones (`labeling.tesstrain.make_synthetic_lstmf`), against over-fitting the
training books' typefaces. The default 1.0 is the ratio the augmented run was started with,
not yet a measured optimum; `--synthetic 0` gives the unaugmented baseline. Rendering and
line making are not counted in `--minutes` (77 s for 3,370 lines on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

DEFAULT_HELDOUT = ("book_IbnQutayba.Adab", "book_Jahiz.Hayawan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--books", type=Path, default=SHARED / "data/arabic-print-gt")
    parser.add_argument("--start", type=Path, default=SHARED / "models/fas.traineddata")
    parser.add_argument("--heldout", type=Path, help="one sub-folder per unseen book")
    parser.add_argument("--minutes", type=float, default=45)
    parser.add_argument("--iterations", type=int, default=1_000_000)
    parser.add_argument("--learning-rate", type=float, default=5e-4)
    parser.add_argument("--out", type=Path, help="keep the trained .traineddata here")
    parser.add_argument(
        "--synthetic",
        type=float,
        default=1.0,
        metavar="RATIO",
        help="add RATIO times the training lines rendered from their texts (0: none)",
    )
    parser.add_argument(
        "--synthetic-max",
        type=int,
        help="render at most this many synthetic lines (time budget)",
    )
    args = parser.parse_args()
    for needed in (args.books, args.start):
        if not needed.exists():
            print(f"bench/train_model.py skipped: {needed} is missing", file=sys.stderr)
            return 0

    scratch = Path(tempfile.mkdtemp(prefix="bench-train-"))
    os.environ.update(
        DJANGO_SETTINGS_MODULE="ottoman_ocr.settings",
        DJANGO_SECRET_KEY=f"bench-{secrets.token_hex(32)}",
        DATABASE_URL=f"sqlite:///{scratch / 'db.sqlite3'}",
        OTTOMAN_VAR_DIR=str(scratch / "var"),
        CELERY_TASK_ALWAYS_EAGER="false",
    )
    os.environ.pop("CELERY_BROKER_URL", None)
    try:
        return run(args, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def run(args: argparse.Namespace, scratch: Path) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from labeling import releases, tesstrain
    from labeling.groundtruth import import_ground_truth
    from labeling.models import License

    call_command("migrate", verbosity=0)
    staff = User.objects.create_superuser(email="bench@example.org", password=secrets.token_hex())
    books = sorted(p for p in args.books.iterdir() if p.is_dir())
    if args.heldout is None:
        train_books = [b for b in books if b.name not in DEFAULT_HELDOUT]
        heldout = tesstrain.folder_pairs(args.books, only=DEFAULT_HELDOUT)
    else:
        train_books = books
        heldout = tesstrain.folder_pairs(args.heldout)
    started = time.perf_counter()
    documents = []
    for book in train_books:
        # A throw-away database: the licence field only has to be one the site knows; the
        # shared books are CC BY-NC-SA and are never published from here.
        imported = import_ground_truth(
            folder=book, title=book.name, license=License.CC_BY_SA, owner=staff
        )
        documents.append(imported.document)
        print(f"imported {book.name}: {imported.lines} lines", flush=True)
    release = releases.create_release(created_by=staff, documents=documents, eval_share=0.0)
    releases.build_release(release_id=release.pk)
    release.refresh_from_db()
    print(f"release {release.number} built in {time.perf_counter() - started:.0f} s", flush=True)

    work = scratch / "work"
    with release.file.open("rb") as source, (scratch / "release.zip").open("wb") as target:
        shutil.copyfileobj(source, target)
    pairs = tesstrain.read_release(tesstrain.unpack_release(scratch / "release.zip", work / "r"))
    train_pairs = pairs.train + pairs.eval
    start = tesstrain.check_start_model(args.start, work / "start")
    began = time.perf_counter()
    made = tesstrain.make_lstmf(train_pairs, work / "lines")
    print(
        f"lines: {len(made.files)} prepared, {len(made.skipped)} skipped "
        f"in {time.perf_counter() - began:.0f} s",
        flush=True,
    )
    real_lines = len(made.files)
    if args.synthetic > 0:
        began = time.perf_counter()
        texts = [pair.text for pair in train_pairs]
        if args.synthetic_max is not None:
            texts = texts[: round(args.synthetic_max / args.synthetic)]
        rendered = tesstrain.make_synthetic_lstmf(texts, work / "synthetic", ratio=args.synthetic)
        print(
            f"synthetic: {len(rendered.files)} rendered, {len(rendered.skipped)} skipped "
            f"in {time.perf_counter() - began:.0f} s",
            flush=True,
        )
        made = tesstrain.mixed(made, rendered)
    starter = tesstrain.build_traineddata(start=start, boxes=made.boxes, work=work / "model")

    def show(progress: tesstrain.Progress, _tail: str) -> None:
        print(
            f"iteration {progress.iteration}: BCER {progress.bcer:.2%} at {progress.elapsed:.0f} s",
            flush=True,
        )

    output = work / "out" / "benchtrained.traineddata"
    result = tesstrain.train(
        start=start,
        traineddata=starter,
        lstmf=made.files,
        work=work / "train",
        max_iterations=args.iterations,
        max_minutes=args.minutes,
        learning_rate=args.learning_rate,
        output=output,
        on_progress=show,
    )
    print(f"trained: {result.iterations} iterations in {result.seconds / 60:.1f} min", flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(output, args.out)

    stock = tesstrain.evaluate(heldout, language="ara")
    trained = tesstrain.evaluate(heldout, language=output.stem, tessdata_dir=output.parent)
    for name, evaluation in (("stock ara", stock), ("trained", trained)):
        overall = evaluation.overall
        print(
            f"{name}: CER {overall['cer']:.2%} raw, {overall['cer_normalized']:.2%} normalized "
            f"on {overall['lines']} held-out lines",
            flush=True,
        )
        for document, figures in evaluation.documents.items():
            print(f"  {document}: {figures['cer_normalized']:.2%} normalized", flush=True)
    stock_cer = float(stock.overall["cer_normalized"])
    trained_cer = float(trained.overall["cer_normalized"])
    print(
        json.dumps(
            {
                "stock_cer": round(stock_cer, 4),
                "trained_cer": round(trained_cer, 4),
                "reduction": round(1 - trained_cer / stock_cer, 4) if stock_cer else None,
                "stock_cer_raw": round(float(stock.overall["cer"]), 4),
                "trained_cer_raw": round(float(trained.overall["cer"]), 4),
                "train_minutes": round(result.seconds / 60, 1),
                "lines_train": real_lines,
                "lines_synthetic": len(made.files) - real_lines,
                "synthetic_ratio": args.synthetic,
                "lines_heldout": len(heldout),
                "iterations": result.iterations,
                "bcer": result.bcer,
                "learning_rate": args.learning_rate,
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
