"""Each system's clock zone (issue 10 §2).

The SDK's timestamp (``ddMMyyyy'T'HHmmss+SSSS``) carries no zone: the client writes its own
local time. A client on a server left at UTC is 7 hours off Vietnam's time and used to be
refused for ever. A system is registered with the zone its clock writes in (default
Asia/Ho_Chi_Minh, changeable later), and a refusal names the zone it assumed and the hub's
time in that zone. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import text
from typer.testing import CliRunner

from lienthong.cli import app as cli_app
from lienthong.client.vdxp import VdxpClient, VdxpClientError
from lienthong.core.db import make_engine, migrate
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import MIGRATIONS, Hub
from lienthong.hub.settings import Settings
from lienthong.protocol.xroad import VN_TZ, parse_timestamp

BASE = "http://testserver"
H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
SDK_TIME = re.compile(r"\b(\d{8}T\d{6})\b")


class Cli:
    def __init__(self, data_dir: Path, env: dict[str, str | None], settings: Settings) -> None:
        self.data_dir, self.env, self.settings = data_dir, env, settings
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Any:
        argv = [*args, "--data-dir", str(self.data_dir)]
        result = self.runner.invoke(cli_app, argv, env=self.env)
        assert result.exit_code == code, (argv, result.output, result.exception)
        return result


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Cli:
    data_dir = tmp_path / "data"
    env: dict[str, str | None] = {
        "LIENTHONG_DATA_DIR": None,
        "LIENTHONG_BLOB_URL": None,
        "LIENTHONG_CONFIG": None,
        "LIENTHONG_DATABASE_URL": None,
        "COLUMNS": "200",
        "NO_COLOR": "1",
    }
    if database_url.startswith("sqlite"):
        settings = Settings(data_dir=data_dir)
    else:
        settings = Settings(data_dir=data_dir, database_url=database_url)
        env["LIENTHONG_DATABASE_URL"] = database_url
    return Cli(data_dir, env, settings)


@pytest.fixture
def http(cli: Cli) -> Iterator[TestClient]:
    cli("agency", "add", H41, "UBND tỉnh Nghệ An")  # migrates the database first
    hub = Hub(cli.settings)
    try:
        with TestClient(create_app(hub, start_worker=False)) as client:
            yield client
    finally:
        hub.close()


def refusal(client: VdxpClient) -> str:
    with pytest.raises(VdxpClientError) as info:
        client.count_receive_edoc()
    data = info.value.response
    assert data is not None and data["code"] == "AUTH_STALE_TIMESTAMP", data
    assert info.value.http_status == 401
    desc: str = data["ErrorDesc"]
    return desc


GAP = re.compile(r"(\d+) h (\d+) min (\d+) s (behind|ahead)")


def gap(desc: str) -> tuple[timedelta, str]:
    """How far off the refusal says the client's clock is, to the minute (the request took
    some milliseconds on its way)."""
    match = GAP.search(desc)
    assert match, desc
    hours, minutes, seconds = (int(g) for g in match.groups()[:3])
    total = round((hours * 3600 + minutes * 60 + seconds) / 60)
    return timedelta(minutes=total), match.group(4)


def hub_time_named(desc: str, zone: Any) -> datetime:
    """The hub's time the refusal gives (in the SDK's format), read in ``zone``."""
    match = SDK_TIME.search(desc.partition(" / ")[2].split("hub's time", 1)[1])
    assert match, desc
    return parse_timestamp(match.group(1) + "+0000", zone)


def test_a_client_on_utc_is_refused_with_the_zone_and_hub_time_until_its_zone_is_set(
    cli: Cli, http: TestClient
) -> None:
    added = json.loads(cli("system", "add", "qlvb.utc", "--agency", H41, "--json").stdout)
    assert added["clock_zone"] == "Asia/Ho_Chi_Minh"  # the default
    secret = added["secret"]
    on_utc = VdxpClient(BASE, "qlvb.utc", secret, http=http, clock_zone=UTC)
    in_vietnam = VdxpClient(BASE, "qlvb.utc", secret, http=http)
    assert in_vietnam.count_receive_edoc()["count"] == 0

    # the UTC client: refused, and the refusal says what to fix
    desc = refusal(on_utc)
    vi, _, en = desc.partition(" / ")
    assert "Asia/Ho_Chi_Minh" in vi and "Asia/Ho_Chi_Minh" in en
    assert gap(en) == (timedelta(hours=7), "behind")
    assert "lienthong system set qlvb.utc --clock-zone" in en
    # the hub's time in the assumed zone, as the SDK writes it: Vietnam's time now
    assert abs(hub_time_named(desc, VN_TZ) - datetime.now(UTC)) < timedelta(minutes=2)

    # set the zone (credentials unchanged): the same client is accepted at once
    changed = json.loads(cli("system", "set", "qlvb.utc", "--clock-zone", "UTC", "--json").stdout)
    assert changed == {"system_id": "qlvb.utc", "clock_zone": "UTC"}
    assert on_utc.count_receive_edoc()["count"] == 0
    assert on_utc.get_received_list()["data"] == []
    # now a client writing Vietnam's time is the one 7 hours off
    desc = refusal(in_vietnam)
    assert "clock zone UTC" in desc and gap(desc) == (timedelta(hours=7), "ahead")
    assert abs(hub_time_named(desc, UTC) - datetime.now(UTC)) < timedelta(minutes=2)

    listed = json.loads(cli("system", "list", "--json").stdout)
    assert [(r["system_id"], r["clock_zone"]) for r in listed] == [("qlvb.utc", "UTC")]
    # registering again (new credentials) keeps the zone unless told otherwise
    again = json.loads(cli("system", "add", "qlvb.utc", "--agency", H41, "--json").stdout)
    assert again["clock_zone"] == "UTC" and again["secret"] != secret
    again = cli("system", "add", "qlvb.utc", "--agency", H41, "--clock-zone", "Asia/Bangkok")
    [row] = json.loads(cli("system", "list", "--json").stdout)
    assert row["clock_zone"] == "Asia/Bangkok"


def test_any_iana_zone_daylight_saving_included(cli: Cli, http: TestClient) -> None:
    added = json.loads(
        cli(
            "system",
            "add",
            "qlvb.ny",
            "--agency",
            H41,
            "--clock-zone",
            "America/New_York",
            "--json",
        ).stdout
    )
    assert added["clock_zone"] == "America/New_York"
    new_york = ZoneInfo("America/New_York")
    client = VdxpClient(BASE, "qlvb.ny", added["secret"], http=http, clock_zone=new_york)
    assert client.count_receive_edoc()["count"] == 0
    assert "America/New_York" in refusal(VdxpClient(BASE, "qlvb.ny", added["secret"], http=http))


def test_an_unknown_zone_is_refused_and_nothing_changes(cli: Cli, http: TestClient) -> None:
    bad = cli("system", "add", "qlvb.x", "--agency", H41, "--clock-zone", "Asia/Hanoi", code=2)
    assert "SYSTEM_CLOCK_ZONE_INVALID" in bad.stderr
    assert json.loads(cli("system", "list", "--json").stdout) == []
    cli("system", "add", "qlvb.x", "--agency", H41)
    for zone in ("Mars/Olympus", "../../etc/passwd", "", "Asia"):
        bad = cli("system", "set", "qlvb.x", "--clock-zone", zone, code=2)
        assert "SYSTEM_CLOCK_ZONE_INVALID" in bad.stderr, zone
    missing = cli("system", "set", "qlvb.nobody", "--clock-zone", "UTC", code=2)
    assert "SYSTEM_NOT_FOUND" in missing.stderr
    [row] = json.loads(cli("system", "list", "--json").stdout)
    assert row["clock_zone"] == "Asia/Ho_Chi_Minh"


def test_systems_registered_before_the_migration_keep_vietnams_zone(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, "0008")
        with engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO system (id, name, secret, api_key_hash, legacy_sdk, peer, active,"
                    " created_at) VALUES ('old.sys', '', 's', :h, false, false, true, :at)"
                ),
                {"h": "0" * 64, "at": datetime.now(UTC)},
            )
        migrate(engine, MIGRATIONS)
        with engine.connect() as connection:
            zone = connection.execute(text("SELECT clock_zone FROM system")).scalar_one()
        assert zone == "Asia/Ho_Chi_Minh"
    finally:
        engine.dispose()
