"""The ``lienthong`` command as a whole: ``--version``, and help texts free of the
reStructuredText double backticks of the docstrings they come from."""

from __future__ import annotations

from typing import Any

from typer.main import get_command
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.core.version import version


def _paths(command: Any, path: list[str]) -> list[list[str]]:
    out = [path]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        out += _paths(sub, [*path, name])
    return out


def test_version_is_printed() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.startswith(f"lienthong {version()} ")
    assert version() != "0+unknown"  # the installed package's own version


def test_no_help_text_shows_double_backticks() -> None:
    runner = CliRunner(env={"COLUMNS": "250", "NO_COLOR": "1"})
    paths = _paths(get_command(app), [])
    assert len(paths) > 40  # every command and group, not just the root
    stray = [" ".join(p) for p in paths if "``" in runner.invoke(app, [*p, "--help"]).output]
    assert stray == []
