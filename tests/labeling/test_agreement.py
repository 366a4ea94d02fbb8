"""The agreement rule on its own: texts in, verdict out."""

from labeling.review.agreement import Rules, Verdict, decide

RULES = Rules(labels_needed=2, max_labels=4, threshold=0.0)


def test_no_labels_leave_the_line_open_wanting_two() -> None:
    outcome = decide([], RULES)
    assert outcome.verdict == Verdict.OPEN
    assert outcome.labels_wanted == 2


def test_two_equal_labels_agree() -> None:
    outcome = decide(["دولت عثمانیه", "دولت عثمانیه"], RULES)
    assert outcome.verdict == Verdict.AGREED
    assert outcome.consensus_text == "دولت عثمانیه"
    assert outcome.agreement == 1.0


def test_labels_equal_after_ottoman_normalization_agree_and_keep_the_common_raw_form() -> None:
    # Arabic kaf and yeh (ك ي) against the Persian forms (ک ی), and a tatweel.
    outcome = decide(["كتابی", "کتابی", "كتـابی"], Rules(labels_needed=3, max_labels=4))
    assert outcome.verdict == Verdict.AGREED
    assert outcome.consensus_text == "كتابی"


def test_a_disagreement_asks_for_one_more_label() -> None:
    outcome = decide(["سلطان", "سلطنت"], RULES)
    assert outcome.verdict == Verdict.OPEN
    assert outcome.labels_wanted == 3


def test_a_third_label_settles_it() -> None:
    outcome = decide(["سلطان", "سلطنت", "سلطان"], RULES)
    assert outcome.verdict == Verdict.AGREED
    assert outcome.consensus_text == "سلطان"
    assert outcome.group == (0, 2)
    assert round(outcome.agreement or 0, 2) == 0.67


def test_four_different_labels_are_disputed() -> None:
    outcome = decide(["بر", "ایکی", "اوچ", "دورت"], RULES)
    assert outcome.verdict == Verdict.DISPUTED


def test_a_threshold_lets_near_readings_agree() -> None:
    texts = ["استانبولده بو قیش", "استانبولده بو قش"]
    assert decide(texts, RULES).verdict == Verdict.OPEN
    assert (
        decide(texts, Rules(labels_needed=2, max_labels=4, threshold=0.1)).verdict == Verdict.AGREED
    )


def test_harakat_do_not_break_agreement() -> None:
    assert decide(["كِتَاب", "كتاب"], RULES).verdict == Verdict.AGREED


def test_the_anchoring_guard_wants_a_blind_third_label() -> None:
    outcome = decide(["كتاب", "كتاب"], RULES, anchored=[True, True])
    assert outcome.verdict == Verdict.OPEN
    assert (outcome.labels_wanted, outcome.blind_next) == (3, True)
    settled = decide(["كتاب", "كتاب", "كتاب"], RULES, anchored=[True, True, False])
    assert settled.verdict == Verdict.AGREED


def test_one_independent_label_in_the_group_is_enough() -> None:
    outcome = decide(["كتاب", "كتاب"], RULES, anchored=[True, False])
    assert outcome.verdict == Verdict.AGREED and not outcome.blind_next
