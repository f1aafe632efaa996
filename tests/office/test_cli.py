"""``lienthong office …``: tenants and people from the command line, connecting to a hub."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.office import hubsync
from lienthong.office.models import User
from lienthong.office.runtime import Office
from lienthong.office.settings import OfficeSettings

from .officekit import HubWorld

runner = CliRunner()


def _run(*args: str, data_dir: Path, database_url: str) -> tuple[int, str]:
    result = runner.invoke(
        app, ["office", *args, "--data-dir", str(data_dir), "--database-url", database_url]
    )
    return result.exit_code, result.output


def test_agencies_and_people_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "office"
    code, out = _run(
        "agency",
        "add",
        "000.00.00.H41",
        "UBND tỉnh Nghệ An",
        data_dir=data,
        database_url=database_url,
    )
    assert code == 0, out
    assert json.loads(out)["code"] == "000.00.00.H41"
    csv_file = tmp_path / "agencies.csv"
    # a child listed before its parent is fine
    csv_file.write_text(
        "code,name,parent\n"
        "000.01.31.H41,UBND phường Hưng Bình,000.00.31.H41\n"
        "000.00.31.H41,UBND thành phố Vinh,000.00.00.H41\n",
        encoding="utf-8",
    )
    code, out = _run("agency", "import", str(csv_file), data_dir=data, database_url=database_url)
    assert code == 0, out
    assert json.loads(out)["imported"] == 2
    code, out = _run("agency", "list", data_dir=data, database_url=database_url)
    listed = {a["code"]: a["parent"] for a in json.loads(out)}
    assert listed == {
        "000.00.00.H41": None,
        "000.00.31.H41": "000.00.00.H41",
        "000.01.31.H41": "000.00.31.H41",
    }
    code, out = _run(
        "user", "add", "vanthu.hb",
        "--agency", "000.01.31.H41", "--role", "clerk", "--name", "Lê Thị Hà",
        "--unit", "Văn phòng", "--title", "Văn thư", "--password", "Mat-khau-2026",
        data_dir=data, database_url=database_url,
    )  # fmt: skip
    assert code == 0, out
    office = Office(OfficeSettings(data_dir=data, database_url=database_url))
    try:
        user = office.read(lambda s: s.query(User).filter_by(username="vanthu.hb").one())
        assert user.role == "clerk" and user.agency_code == "000.01.31.H41"
        assert user.password_hash.startswith("$argon2id$")
        assert "Mat-khau-2026" not in user.password_hash
    finally:
        office.close()


def test_bad_input_gives_a_typed_error(database_url: str, tmp_path: Path) -> None:
    data = tmp_path / "office"
    code, out = _run("agency", "add", "not-a-code", "X", data_dir=data, database_url=database_url)
    assert code != 0 and "AGENCY_CODE_INVALID" in out
    _run("agency", "add", "000.00.00.H41", "UBND tỉnh", data_dir=data, database_url=database_url)
    code, out = _run(
        "user", "add", "a", "--agency", "000.00.00.H41", "--role", "boss", "--name", "A",
        "--password", "Mat-khau-2026", data_dir=data, database_url=database_url,
    )  # fmt: skip
    assert code != 0 and "ROLE_INVALID" in out
    code, out = _run(
        "user", "add", "b", "--agency", "000.00.00.H41", "--role", "clerk", "--name", "B",
        "--password", "ngan", data_dir=data, database_url=database_url,
    )  # fmt: skip
    assert code != 0 and "PASSWORD_TOO_SHORT" in out


def test_connect_checks_the_key_against_the_hub(
    database_url: str, tmp_path: Path, hub_world: HubWorld
) -> None:
    data = tmp_path / "office"
    code, out = _run(
        "connect", "--hub", hub_world.url, "--api-key", "lt_wrong",
        data_dir=data, database_url=database_url,
    )  # fmt: skip
    assert code != 0 and "AUTH" in out.upper()
    code, out = _run(
        "connect", "--hub", hub_world.url, "--api-key", hub_world.office_key,
        "--push-secret", hub_world.office_secret, data_dir=data, database_url=database_url,
    )  # fmt: skip
    assert code == 0, out
    office = Office(OfficeSettings(data_dir=data, database_url=database_url))
    try:
        conn = hubsync.connection(office)
        assert conn is not None
        assert (conn.hub_url, conn.api_key) == (hub_world.url, hub_world.office_key)
        assert conn.push_secret == hub_world.office_secret
    finally:
        office.close()
