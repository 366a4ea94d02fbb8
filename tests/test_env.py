"""Settings helpers are strict: a malformed value is an error, never a silent default."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from ottoman_ocr.env import env_bool, env_int, env_list, env_str


@pytest.mark.parametrize(
    ("raw", "expected"), [("true", True), ("False", False), ("1", True), ("off", False)]
)
def test_it_reads_booleans(monkeypatch: pytest.MonkeyPatch, raw: str, expected: bool) -> None:
    monkeypatch.setenv("X_FLAG", raw)
    assert env_bool("X_FLAG", not expected) is expected


def test_a_boolean_that_is_not_true_or_false_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_FLAG", "flase")
    with pytest.raises(ImproperlyConfigured, match="X_FLAG"):
        env_bool("X_FLAG", False)


def test_unset_or_empty_means_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_FLAG", raising=False)
    monkeypatch.setenv("X_EMPTY", "  ")
    assert env_bool("X_FLAG", True) is True
    assert env_str("X_EMPTY", "d") == "d"
    assert env_int("X_EMPTY", 7) == 7
    assert env_list("X_EMPTY", ["a"]) == ["a"]


def test_numbers_and_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("X_N", "12")
    monkeypatch.setenv("X_L", "a.org, b.org,")
    assert env_int("X_N", 0) == 12
    assert env_list("X_L", []) == ["a.org", "b.org"]
    monkeypatch.setenv("X_N", "twelve")
    with pytest.raises(ImproperlyConfigured):
        env_int("X_N", 0)
    monkeypatch.setenv("X_N", "0")
    with pytest.raises(ImproperlyConfigured, match="at least 1"):
        env_int("X_N", 5, minimum=1)


def test_production_settings_refuse_to_start_without_a_secret_key() -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SECRET_KEY", "DJANGO_DEBUG")}
    env["DJANGO_SETTINGS_MODULE"] = "ottoman_ocr.settings"
    result = subprocess.run(
        [sys.executable, "-c", "import ottoman_ocr.wsgi"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
