"""The client's config: where it lives, who may read it, which token goes to which server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest
from ottoman_ocr_client.config import (
    DEFAULT_SERVER,
    Config,
    Credentials,
    config_dir,
    normalize_server,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_it_lives_under_xdg_config_home(tmp_path: Path) -> None:
    assert config_dir({"XDG_CONFIG_HOME": str(tmp_path)}) == tmp_path / "ottoman-ocr"


def test_a_relative_xdg_config_home_is_ignored_as_the_spec_says() -> None:
    assert config_dir({"XDG_CONFIG_HOME": "relative/dir"}) == Path.home() / ".config/ottoman-ocr"
    assert config_dir({}) == Path.home() / ".config/ottoman-ocr"


def test_the_token_file_is_0600_in_a_0700_folder_whatever_the_umask(tmp_path: Path) -> None:
    folder = tmp_path / "ottoman-ocr"
    old = os.umask(0)
    try:
        config = Config.load(folder)
        config.remember("http://example.org:8000/", Credentials(token="secret", email="a@b.c"))
    finally:
        os.umask(old)
    assert mode(folder) == 0o700
    assert mode(folder / "config.json") == 0o600
    assert [p.name for p in folder.iterdir()] == ["config.json"]  # no temporary left


def test_an_existing_open_folder_is_closed_to_others(tmp_path: Path) -> None:
    folder = tmp_path / "ottoman-ocr"
    folder.mkdir(mode=0o755)
    Config.load(folder).remember("example.org", Credentials(token="k"))
    assert mode(folder) == 0o700


def test_a_token_is_kept_per_server_and_survives_a_reload(tmp_path: Path) -> None:
    config = Config.load(tmp_path)
    config.remember("http://a.example/", Credentials(token="ka", email="a@x", token_id=3))
    config.remember("http://b.example", Credentials(token="kb"))
    again = Config.load(tmp_path)
    assert again.credentials("http://a.example") == Credentials("ka", "a@x", 3)
    assert again.credentials("http://b.example/") == Credentials("kb", "", None)
    assert again.credentials("http://c.example") is None
    assert again.default_server == "http://b.example"
    again.forget("http://a.example")
    assert Config.load(tmp_path).credentials("http://a.example") is None


@pytest.mark.parametrize(
    ("option", "environ", "stored", "expected"),
    [
        ("http://opt", {"OTTOMAN_OCR_SERVER": "http://env"}, "http://cfg", "http://opt"),
        (None, {"OTTOMAN_OCR_SERVER": "http://env/"}, "http://cfg", "http://env"),
        (None, {}, "http://cfg", "http://cfg"),
        (None, {}, None, DEFAULT_SERVER),
    ],
)
def test_the_server_is_the_option_then_the_environment_then_the_last_used(
    tmp_path: Path, option: str | None, environ: dict[str, str], stored: str | None, expected: str
) -> None:
    config = Config(path=tmp_path / "config.json", default_server=stored)
    assert config.server(option, environ) == expected


def test_a_bare_host_gets_a_scheme_and_loses_its_trailing_slash() -> None:
    assert normalize_server(" example.org:8000/ ") == "http://example.org:8000"
    assert normalize_server("https://ocr.example/") == "https://ocr.example"
