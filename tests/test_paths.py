"""Where files live: platformdirs' answer, moved by one variable, private folders."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from platformdirs import user_config_path, user_data_path

from aprender_shell import paths


@pytest.mark.parametrize("xdg", [None, "", "  ", "/custom/data"])
def test_data_dir_is_platformdirs_user_data_path(
    xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APRENDER_SHELL_HOME")
    if xdg is None:
        monkeypatch.delenv("XDG_DATA_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_DATA_HOME", xdg)
    assert paths.data_dir() == user_data_path("aprender-shell", appauthor=False)
    assert paths.default_model_path() == paths.data_dir() / "model.apbundle"


@pytest.mark.parametrize("xdg", [None, "", "/custom/config"])
def test_config_dir_is_platformdirs_user_config_path(
    xdg: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("APRENDER_SHELL_HOME")
    if xdg is None:
        monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    else:
        monkeypatch.setenv("XDG_CONFIG_HOME", xdg)
    assert paths.config_dir() == user_config_path("aprender-shell", appauthor=False)
    assert paths.history_filter_path() == paths.config_dir() / "history_filter"


def test_one_variable_moves_everything(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("APRENDER_SHELL_HOME", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    assert paths.default_model_path().parent == tmp_path / "elsewhere"
    assert paths.runtime_dir().is_relative_to(tmp_path / "elsewhere")
    assert paths.history_filter_path() == tmp_path / "elsewhere" / "history_filter"


def test_private_dir_is_created_and_tightened(tmp_path: Path) -> None:
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    for folder in (tmp_path / "new" / "nested", loose):
        paths.ensure_private_dir(folder)
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
