"""What ``deploy/`` ships for production stays true: every systemd unit runs a ``lienthong``
command that exists, as the ``lienthong`` user, the hub restarts on failure and writes only
its data folder, every timer has its service, and the example settings file is one the hub
loads (an unknown name in it is refused, not ignored)."""

from __future__ import annotations

import configparser
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.hub.settings import Settings

DEPLOY = Path(__file__).resolve().parents[1] / "deploy"
UNITS = sorted((DEPLOY / "systemd").glob("*.service"))


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8").replace("\\\n", " "))
    return parser


@pytest.mark.parametrize("unit", UNITS, ids=lambda p: p.name)
def test_every_service_runs_an_existing_command_as_the_lienthong_user(unit: Path) -> None:
    service = _unit(unit)["Service"]
    assert service["User"] == "lienthong" and service["Group"] == "lienthong"
    argv = shlex.split(service["ExecStart"])
    assert argv[0] == "/opt/lienthong/.venv/bin/lienthong"
    words = [a for a in argv[1:] if not a.startswith("/") and not a.startswith("-")]
    words = [w for w in words if not w.startswith("https://")]
    result = CliRunner().invoke(app, [*words, "--help"])
    assert result.exit_code == 0, (unit.name, words, result.output)


def test_the_hub_service_restarts_and_writes_only_its_data_folder() -> None:
    unit = _unit(DEPLOY / "systemd" / "lienthong-hub.service")
    service = unit["Service"]
    assert service["Restart"] == "on-failure"
    assert service["ProtectSystem"] == "strict"
    assert service["ReadWritePaths"] == "/var/lib/lienthong"
    assert service["Environment"] == "LIENTHONG_CONFIG=/etc/lienthong/hub.toml"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_every_timer_has_its_service() -> None:
    for timer in (DEPLOY / "systemd").glob("*.timer"):
        assert timer.with_suffix(".service").is_file(), timer.name
        assert "OnCalendar" in _unit(timer)["Timer"]


def test_the_example_settings_file_loads() -> None:
    settings = Settings.load(environ={"LIENTHONG_CONFIG": str(DEPLOY / "hub.toml")})
    assert settings.data_dir == Path("/var/lib/lienthong")
    assert settings.hub_id == "h41" and settings.port == 8080
    assert settings.log_level == "info"


def test_a_misspelt_setting_in_the_file_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "hub.toml"
    config.write_text('hub_id = "h41"\nmax_package_byte = 5\n', encoding="utf-8")
    with pytest.raises(ValueError, match=r"unknown setting.*max_package_byte.*valid:"):
        Settings.load(environ={"LIENTHONG_CONFIG": str(config)})
    result = CliRunner().invoke(
        app, ["audit", "verify"], env={"LIENTHONG_CONFIG": str(config), "LIENTHONG_DATA_DIR": None}
    )
    assert result.exit_code == 2 and "HUB_SETTINGS_INVALID" in result.output


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze missing")
def test_systemd_finds_nothing_to_say_about_the_units(tmp_path: Path) -> None:
    """``systemd-analyze verify`` on the units (with this checkout's ``lienthong`` in place
    of /opt/lienthong's): an unknown directive or a bad value would be reported."""
    here = Path(sys.executable).parent / "lienthong"
    for unit in (DEPLOY / "systemd").iterdir():
        text = unit.read_text(encoding="utf-8")
        (tmp_path / unit.name).write_text(
            text.replace("/opt/lienthong/.venv/bin/lienthong", str(here)), encoding="utf-8"
        )
    result = subprocess.run(
        ["systemd-analyze", "verify", *sorted(str(p) for p in tmp_path.iterdir())],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
