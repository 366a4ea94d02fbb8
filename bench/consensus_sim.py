"""How many labels does a line need? Agreement policies over simulated labelers and real OCR.

Usage, from the repository root:
    .venv/bin/python bench/consensus_sim.py [--lines 300] [--seed 1] [--replicates 20]
        [--cutoffs 70,80] [--rate-scale 1.0] [--anchored-share 0.15]

Lines are real printed Arabic lines from ../shared/data/arabic-print-gt, read once by
Tesseract through the platform's labeling.ocr (bench/consensus/data.py). Simulated labelers
(careful, careless, anchored; bench/consensus/labelers.py) then label every line, one label
at a time, under each policy until the platform's own labeling.review.agreement.decide()
says agreed or disputed (bench/consensus/policies.py). `platform` is the platform's rule as it
stands (2 agreeing of up to 4, with the anchoring guard); the others are named variants.
Every policy sees the same labels in the same order (common random numbers), so the figures
differ only by when a policy stops. --replicates repeats this with fresh labeler draws over
the same lines; the ± figures are standard errors over replicates.

Printed: Tesseract's accuracy on the lines, the simulated labelers' accuracy, a table of the
policies, the anchoring guard's case (agreed lines agreed only by labels that kept the
prediction, and their share of the errors, without the guard; what the guard costs), a
sensitivity block (every rate scaled, no anchored labelers) and the winner. The last line
printed is one JSON object with all the figures.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.consensus import report  # noqa: E402
from bench.consensus.data import describe_lines, load_lines  # noqa: E402
from bench.consensus.labelers import kinds  # noqa: E402
from bench.consensus.measure import (  # noqa: E402
    TARGET_CER,
    TARGET_LABELS,
    Calibration,
    pick_winner,
    simulate,
)
from bench.consensus.policies import PLATFORM, policies  # noqa: E402


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--lines", type=int, default=300, help="lines in all (default 300)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--replicates", type=int, default=20, help="labeler draws per line (default 20)"
    )
    parser.add_argument(
        "--cutoffs", default="70,80", help="confidence cutoffs for adaptive_conf (0-100)"
    )
    parser.add_argument(
        "--rate-scale",
        type=float,
        default=1.0,
        help="multiply every typing error rate and miss probability (calibrate to real data)",
    )
    parser.add_argument(
        "--anchored-share", type=float, default=0.15, help="share of anchored labelers"
    )
    args = parser.parse_args(argv)
    scale, anchored = args.rate_scale, args.anchored_share
    started = time.perf_counter()

    lines, data = load_lines(args.lines, args.seed)
    describe_lines(lines)

    policy_list = policies([float(c) for c in args.cutoffs.split(",") if c.strip()])
    calibration: Calibration = {}
    base = simulate(
        lines,
        policy_list,
        kinds(scale, anchored),
        seed=args.seed,
        replicates=args.replicates,
        calibration=calibration,
    )
    report.describe_labelers(calibration)

    figures = {name: tally.figures() for name, tally in base.items()}
    print(
        f"\nPolicies over {len(lines)} lines x {args.replicates} replicates "
        f"(target: <= {TARGET_LABELS} labels/line at <= {100 * TARGET_CER:.1f}% CER)\n"
    )
    report.print_table(figures, {policy.name: policy.note for policy in policy_list})
    guard = report.anchoring_guard(figures)
    report.print_anchoring_guard(guard)
    winner, met = pick_winner(figures)

    # Sensitivity: the same lines and policies with every error rate scaled, down to rates at
    # which the target becomes reachable.
    scenarios = {
        "no anchored labelers (their share careful)": kinds(scale, 0.0),
        "worse: rates x1.5, 25% anchored": kinds(1.5 * scale, 0.25),
        "better: rates x0.67": kinds(0.67 * scale, anchored),
        "much better: rates x0.33": kinds(0.33 * scale, anchored),
        "near perfect: rates x0.2": kinds(0.2 * scale, anchored),
    }
    sens_replicates = max(args.replicates // 4, 2)
    report.print_sensitivity_header(sens_replicates)
    sensitivity: dict[str, dict[str, dict[str, float]]] = {}
    for label, kind_list in scenarios.items():
        seen: Calibration = {}
        tallies = simulate(
            lines,
            policy_list,
            kind_list,
            seed=args.seed,
            replicates=sens_replicates,
            calibration=seen,
        )
        sensitivity[label] = {
            name: {key: t.figures()[key] for key in report.SENSITIVITY_SHOWN}
            for name, t in tallies.items()
        }
        report.print_scenario(label, sensitivity[label], seen)

    report.print_winner(winner, figures[winner], met)
    seconds = time.perf_counter() - started
    print(f"Run time: {seconds:.1f} s")
    w = figures[winner]
    result = {
        "policy": winner,
        "target_met": met,
        "labels_per_line": w["labels_per_line"],
        "agreed_cer": w["agreed_cer"],
        "agreed_share": w["agreed_share"],
        "target": {"labels_per_line": TARGET_LABELS, "agreed_cer": TARGET_CER},
        "platform": figures[PLATFORM],
        "anchoring_guard": guard,
        "lines": len(lines),
        "replicates": args.replicates,
        "seed": args.seed,
        "rate_scale": scale,
        "anchored_share": anchored,
        "data": data,
        "seconds": round(seconds, 1),
        "policies": figures,
        "sensitivity": sensitivity,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
