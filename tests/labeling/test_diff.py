"""The character diff a moderator reads: raw and after the Ottoman normalization."""

from labeling.review.diff import Run, RunKind, compare, runs


def joined(parts: tuple[Run, ...]) -> tuple[str, str]:
    return "".join(r.reference for r in parts), "".join(r.text for r in parts)


def test_equal_texts_are_one_same_run() -> None:
    assert runs("كتاب", "كتاب") == (Run(RunKind.SAME, "كتاب", "كتاب"),)


def test_a_changed_letter_is_a_replace_between_same_runs() -> None:
    assert runs("كتاب", "كتیب") == (
        Run(RunKind.SAME, "كت", "كت"),
        Run(RunKind.REPLACE, "ا", "ی"),
        Run(RunKind.SAME, "ب", "ب"),
    )


def test_missing_and_extra_letters_are_delete_and_insert() -> None:
    assert runs("سلطان", "سلان") == (
        Run(RunKind.SAME, "سل", "سل"),
        Run(RunKind.DELETE, "ط", ""),
        Run(RunKind.SAME, "ان", "ان"),
    )
    assert runs("وطن", "وطنم") == (Run(RunKind.SAME, "وطن", "وطن"), Run(RunKind.INSERT, "", "م"))


def test_the_runs_give_both_texts_back() -> None:
    reference, text = "دولت عليه عثمانيه", "دولت علیهٔ عثمانیه"
    assert joined(runs(reference, text)) == (reference, text)
    assert joined(runs("", text)) == ("", text)
    assert joined(runs(reference, "")) == (reference, "")


def test_persian_keheh_differs_raw_and_agrees_after_normalization() -> None:
    result = compare("كتاب", "کتاب")  # Arabic kaf against Persian keheh
    assert not result.raw_equal
    assert result.raw[0] == Run(RunKind.REPLACE, "ك", "ک")
    assert result.normalized_equal
    assert result.normalized == (Run(RunKind.SAME, "كتاب", "كتاب"),)


def test_harakat_and_zwnj_disappear_in_the_normalized_runs() -> None:
    result = compare("مطبعهنك", "مطبعه\u200cنكَ")
    assert [r.kind for r in result.raw] == [
        RunKind.SAME,
        RunKind.INSERT,
        RunKind.SAME,
        RunKind.INSERT,
    ]
    assert result.normalized_equal


def test_a_real_difference_stays_after_normalization() -> None:
    result = compare("سلطان", "سلطانم")
    assert not result.normalized_equal
    assert result.normalized[-1] == Run(RunKind.INSERT, "", "م")


def test_one_changed_letter_in_a_line_of_repeated_words_is_one_run() -> None:
    # difflib's longest-block matching turned this one letter into a shifted half-line.
    reference = "الله " * 60
    text = reference[:100] + "ی" + reference[101:]
    changed = [r for r in runs(reference, text) if r.kind != RunKind.SAME]
    assert changed == [Run(RunKind.REPLACE, reference[100], "ی")]
