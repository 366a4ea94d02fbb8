"""Printing the figures: the labelers' calibration, the policy table, the anchoring guard's
case, the sensitivity block and the winner."""

from __future__ import annotations

from typing import Any

from bench.consensus.measure import TARGET_CER, TARGET_LABELS, Calibration, meets_target
from bench.consensus.policies import NO_GUARD, PLATFORM

Figures = dict[str, dict[str, float]]


def describe_labelers(calibration: Calibration) -> None:
    print("\nSimulated single labels against the truth (all drawn slots, before any policy):")
    for (kind, mode), (edits, chars, exact, count) in sorted(calibration.items()):
        print(
            f"  {kind:<9} {mode:<10} CER {100 * edits / chars:5.2f}%, "
            f"line exactly right {100 * exact / count:5.1f}%"
        )


def print_table(figures: Figures, notes: dict[str, str]) -> None:
    header = (
        f"{'policy':<21}{'labels/line':>14}{'at 2':>7}{'agreed':>8}{'disputed':>9}"
        f"{'agreed CER':>16}{'wrong':>7}{'blind':>7}{'blind~C':>8}{'prefill~C':>10}{'kept':>6}"
        f"{'blind=P':>8}{'K-only':>8}{'K-err':>7}"
    )
    print(header)
    print("-" * len(header))
    for name, f in figures.items():
        labels = f"{f['labels_per_line']:.3f}±{f['labels_per_line_se']:.3f}"
        cer = f"{100 * f['agreed_cer']:.3f}±{100 * f['agreed_cer_se']:.3f}%"
        print(
            f"{name:<21}{labels:>14}{100 * f['settled_at_two_share']:>6.1f}%"
            f"{100 * f['agreed_share']:>7.1f}%"
            f"{100 * f['disputed_share']:>8.1f}%"
            f"{cer:>16}{100 * f['wrong_agreed_share']:>6.1f}%{100 * f['blind_label_share']:>6.1f}%"
            f"{100 * f['blind_agree_rate']:>7.1f}%{100 * f['prefilled_agree_rate']:>9.1f}%"
            f"{100 * f['prefilled_kept_rate']:>5.1f}%{100 * f['blind_as_predicted_rate']:>7.1f}%"
            f"{100 * f['kept_only_share']:>7.1f}%{100 * f['kept_only_error_share']:>6.1f}%"
        )
    print()
    for name, note in notes.items():
        print(f"  {name}: {note}")
    print(
        "  labels/line and agreed CER: mean over all lines and replicates ± standard error over"
        " replicates;\n  at 2: lines settled with exactly 2 labels; wrong: agreed lines whose"
        " consensus differs\n  from the truth; blind: share of labels given blind; blind~C /"
        " prefill~C: share of blind /\n  prefilled labels on agreed lines that agree with the"
        " consensus; kept: share of prefilled labels\n  that kept the prediction unchanged;"
        " blind=P: share of blind labels that happen to equal it;\n  K-only: share of agreed"
        " lines whose agreeing labels all kept the prediction; K-err: their\n  share of the"
        " agreed lines' character errors."
    )


def anchoring_guard(figures: Figures) -> dict[str, Any]:
    """What the platform's anchoring guard is for, and what it costs: `no_guard` is the same
    rule (2 of up to 4) without it."""
    without, guarded = figures[NO_GUARD], figures[PLATFORM]
    return {
        "without": NO_GUARD,
        "with": PLATFORM,
        "kept_only_share": without["kept_only_share"],
        "kept_only_error_share": without["kept_only_error_share"],
        "kept_only_wrong_share": without["kept_only_wrong_share"],
        "labels_per_line": [without["labels_per_line"], guarded["labels_per_line"]],
        "extra_labels_share": round(guarded["labels_per_line"] / without["labels_per_line"] - 1, 4),
        "agreed_cer": [without["agreed_cer"], guarded["agreed_cer"]],
        "agreed_share": [without["agreed_share"], guarded["agreed_share"]],
        "kept_only_share_with_guard": guarded["kept_only_share"],
    }


def print_anchoring_guard(guard: dict[str, Any]) -> None:
    (labels0, labels1), (cer0, cer1) = guard["labels_per_line"], guard["agreed_cer"]
    agreed0, agreed1 = guard["agreed_share"]
    print(
        f"\nAnchoring guard ({guard['with']} against {guard['without']}, the same rule without it):"
    )
    print(
        f"  without it, {100 * guard['kept_only_share']:.1f}% of agreed lines are agreed only by"
        " labels that kept Tesseract's prediction;\n  they hold"
        f" {100 * guard['kept_only_error_share']:.1f}% of the agreed lines' character errors"
        f" ({100 * guard['kept_only_wrong_share']:.1f}% of the agreed lines that are wrong)"
    )
    print(
        f"  with it: {labels0:.3f} -> {labels1:.3f} labels/line"
        f" ({100 * guard['extra_labels_share']:+.1f}%), agreed CER {100 * cer0:.3f}% ->"
        f" {100 * cer1:.3f}%, agreed lines {100 * agreed0:.1f}% -> {100 * agreed1:.1f}%;"
        f" agreed only by kept labels: {100 * guard['kept_only_share_with_guard']:.1f}%"
    )


SENSITIVITY_SHOWN = (
    "labels_per_line",
    "agreed_cer",
    "disputed_share",
    "blind_agree_rate",
    "prefilled_agree_rate",
    "prefilled_kept_rate",
    "blind_as_predicted_rate",
)


def print_sensitivity_header(replicates: int) -> None:
    print(
        f"\nSensitivity ({replicates} replicates each): labels/line, agreed CER, disputed, "
        "blind~C, prefill~C, kept, blind=P"
    )


def print_scenario(label: str, figures: Figures, calibration: Calibration) -> None:
    edits, chars, _, _ = calibration["careful", "blind"]
    meeting = [name for name, f in figures.items() if meets_target(f)]
    print(
        f"  {label} (careful blind CER {100 * edits / chars:.2f}%; "
        f"meeting the target: {', '.join(meeting) or 'none'})"
    )
    for name, f in figures.items():
        print(
            f"    {name:<21}{f['labels_per_line']:>7.3f}{100 * f['agreed_cer']:>9.3f}%"
            f"{100 * f['disputed_share']:>8.1f}%{100 * f['blind_agree_rate']:>8.1f}%"
            f"{100 * f['prefilled_agree_rate']:>9.1f}%{100 * f['prefilled_kept_rate']:>6.1f}%"
            f"{100 * f['blind_as_predicted_rate']:>6.1f}%"
        )


def print_winner(name: str, figures: dict[str, float], met: bool) -> None:
    print()
    if met:
        print(
            f"Winner: {name}, {figures['labels_per_line']:.3f} labels/line at "
            f"{100 * figures['agreed_cer']:.3f}% agreed CER: meets the target "
            f"(<= {TARGET_LABELS} labels/line at <= {100 * TARGET_CER:.1f}% CER)."
        )
    else:
        print(
            f"No policy meets both targets. Closest: {name}, {figures['labels_per_line']:.3f} "
            f"labels/line at {100 * figures['agreed_cer']:.3f}% agreed CER (the cheapest that "
            "meets the CER target, or the most accurate if none does)."
        )
