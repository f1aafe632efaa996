"""Admin commands that read or change a hub's data refuse a folder (or a database) that holds
no hub and say where they looked — a nightly ``audit verify`` run in the wrong working
directory fails instead of passing on an empty hub it just created. The commands that set a
hub up still create it; ``agency add --parent`` refuses a parent not in the directory."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from lienthong.cli import app

CLEAN_ENV: dict[str, str | None] = {
    "LIENTHONG_DATA_DIR": None,
    "LIENTHONG_BLOB_URL": None,
    "LIENTHONG_CONFIG": None,
    "LIENTHONG_DATABASE_URL": None,
    "COLUMNS": "400",
    "NO_COLOR": "1",
}

READERS = [
    ("audit", "verify"),
    ("hub", "prune"),
    ("deadletter", "list"),
    ("deadletter", "show", "1"),
    ("deadletter", "replay", "1"),
    ("agency", "list"),
    ("agency", "export", "out.json"),
    ("system", "list"),
    ("peer", "list"),
    ("operator", "list"),
    ("operator", "remove", "ops"),
]


def run(*args: str, env: dict[str, str | None] | None = None) -> Result:
    return CliRunner().invoke(app, list(args), env={**CLEAN_ENV, **(env or {})})


@pytest.mark.parametrize("command", READERS, ids=lambda c: " ".join(c))
def test_a_command_reading_a_hub_refuses_a_folder_without_one(
    command: tuple[str, ...], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "not-a-hub"
    monkeypatch.chdir(tmp_path)  # `agency export out.json` writes nothing here either
    result = run(*command, "--data-dir", str(folder))
    assert result.exit_code == 2, result.output
    flat = "".join(result.output.split())  # rich wraps long paths
    assert "HUB_NOT_FOUND" in flat
    assert "".join(str(folder.resolve()).split()) in flat
    assert "--data-dir" in flat and "LIENTHONG_DATA_DIR" in flat
    assert not folder.exists(), "nothing is created where no hub was"
    assert not (tmp_path / "out.json").exists()


def test_audit_verify_in_the_default_folder_names_it_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = run("audit", "verify", "--json")
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "HUB_NOT_FOUND"
    assert error["details"]["data_dir"] == str(tmp_path / "lienthong-data")
    assert not (tmp_path / "lienthong-data").exists()


def test_a_database_url_without_a_hub_is_refused_too(postgresql_url: str, tmp_path: Path) -> None:
    result = run(
        "audit",
        "verify",
        "--data-dir",
        str(tmp_path / "d"),
        env={"LIENTHONG_DATABASE_URL": postgresql_url},
    )
    assert result.exit_code == 2, result.output
    assert "HUB_NOT_FOUND" in result.output and "holds no hub" in " ".join(result.output.split())


def test_setting_up_a_hub_still_creates_it_and_then_readers_find_it(tmp_path: Path) -> None:
    folder = tmp_path / "hub"
    added = run("agency", "add", "000.00.00.H41", "UBND tỉnh Nghệ An", "--data-dir", str(folder))
    assert added.exit_code == 0, added.output
    assert (folder / "hub.db").is_file()
    verified = run("audit", "verify", "--data-dir", str(folder), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["records"] == 1


def test_agency_add_refuses_an_unknown_parent(tmp_path: Path) -> None:
    folder = str(tmp_path / "hub")
    assert (
        run("agency", "add", "000.00.00.H41", "UBND tỉnh Nghệ An", "--data-dir", folder).exit_code
        == 0
    )
    refused = run(
        "agency",
        "add",
        "000.00.12.H41",
        "Sở TT&TT",
        "--parent",
        "000.00.00.H14",
        "--data-dir",
        folder,
    )
    assert refused.exit_code == 2
    assert "DIRECTORY_PARENT_UNKNOWN" in refused.output and "000.00.00.H14" in refused.output
    listed = run("agency", "list", "--data-dir", folder, "--json")
    assert [a["code"] for a in json.loads(listed.stdout)] == ["000.00.00.H41"]
    known = run(
        "agency",
        "add",
        "000.00.12.H41",
        "Sở TT&TT",
        "--parent",
        "000.00.00.H41",
        "--data-dir",
        folder,
    )
    assert known.exit_code == 0, known.output


def test_a_database_that_does_not_answer_is_named_without_its_password(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"postgresql://hub:bi-mat-123@127.0.0.1:{port}/lienthong"
    result = run("audit", "verify", "--json", env={"LIENTHONG_DATABASE_URL": url})
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["code"] == "HUB_DATABASE_UNREACHABLE"
    assert f"127.0.0.1:{port}/lienthong" in error["message_en"]
    assert "bi-mat-123" not in result.output
