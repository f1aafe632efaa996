"""A hub pulls another hub's directory incrementally (getSynchronizeUnit semantics)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from lienthong.client.vdxp import VdxpClient
from lienthong.hub import directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings


def _pull(local: Hub, remote_http: TestClient, secret: str) -> directory.SyncResult:
    source = "http://national"
    with local.session() as s:
        since = directory.last_synced_version(s, source=source)
    client = VdxpClient("http://testserver", "sync.h41", secret, http=remote_http)
    rows = client.get_synchronize_unit(since_version=since or None)["data"]
    with local.session() as s:
        return directory.apply_synchronisation(s, source=source, rows=rows)


def test_a_provincial_hub_follows_the_national_directory(database_url: str, tmp_path: Path) -> None:
    national = Hub(Settings(data_dir=tmp_path / "n", database_url=database_url))
    provincial = Hub(Settings(data_dir=tmp_path / "p", database_url=f"sqlite:///{tmp_path}/p.db"))
    try:
        with national.session() as s:
            directory.add_agency(s, code="000.00.00.G22", name="Văn phòng Chính phủ")
            directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
            directory.add_agency(s, code="000.00.18.G12", name="Tổng cục Thuế", old_code="18.G12")
            secret = directory.add_system(
                s, system_id="sync.h41", agencies=["000.00.00.H41"]
            ).secret
        with TestClient(create_app(national, start_worker=False)) as http:
            first = _pull(provincial, http, secret)
            assert (first.created, first.updated) == (3, 0)
            with national.session() as s:
                directory.add_agency(s, code="000.00.00.G09", name="Bộ Nội vụ")
                directory.deactivate_agency(s, code="000.00.00.G22")
            second = _pull(provincial, http, secret)
        assert second.received == 2 and second.created == 1 and second.deactivated == 1
        with provincial.session() as s:
            assert directory.get_agency(s, code="000.00.00.G09").name == "Bộ Nội vụ"
            assert directory.get_agency(s, code="000.00.00.G22").active is False
            assert directory.find_agency(s, code="18.G12") is not None  # old code kept
    finally:
        national.close()
        provincial.close()


def test_a_bad_row_is_reported_and_the_rest_applied(hub: Any) -> None:
    rows = [
        # not a code, and no identifier either (a non-standard one such as vxp.saas.03
        # would be registered as such: see test_nonstandard_identifiers.py)
        {"code": "không phải mã", "name": "?", "version": 3},
        {"code": "000.00.00.H53", "name": "UBND tỉnh Tây Ninh", "version": 4},
    ]
    with hub.session() as s:
        result = directory.apply_synchronisation(s, source="x", rows=rows)
    assert result.created == 1 and len(result.errors) == 1 and result.version == 4
    with hub.session() as s:
        assert directory.last_synced_version(s, source="x") == 4


def test_the_sync_command_reports_an_unreachable_source(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from lienthong.cli import app

    result = CliRunner().invoke(
        app,
        [
            "agency",
            "sync",
            "--from",
            "http://127.0.0.1:9",
            "--system-id",
            "x",
            "--secret",
            "y",
            "--data-dir",
            str(tmp_path / "d"),
        ],
    )
    assert result.exit_code == 2
    assert "DIRECTORY_SYNC_FAILED" in result.output


def test_a_provincial_hub_registers_its_units_with_the_national_hub(
    database_url: str, tmp_path: Path
) -> None:
    national = Hub(Settings(data_dir=tmp_path / "n", database_url=database_url))
    provincial = Hub(Settings(data_dir=tmp_path / "p", database_url=f"sqlite:///{tmp_path}/p.db"))
    try:
        with national.session() as s:
            directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
            secret = directory.add_system(s, system_id="hub.h41", agencies=["000.00.00.H41"]).secret
        with provincial.session() as s:
            directory.add_agency(s, code="000.00.00.H41", name="UBND tỉnh Nghệ An")
            directory.add_agency(s, code="000.00.31.H41", name="UBND thành phố Vinh")
            directory.add_agency(s, code="000.01.31.H41", name="UBND phường Hưng Bình")
            directory.add_agency(s, code="000.00.00.H53", name="UBND tỉnh Tây Ninh")  # not ours
            rows = directory.registration_rows(s, under="000.00.00.H41")
        assert [r["code"] for r in rows] == ["000.00.00.H41", "000.00.31.H41", "000.01.31.H41"]
        with TestClient(create_app(national, start_worker=False)) as http:
            client = VdxpClient("http://testserver", "hub.h41", secret, http=http)
            for row in rows[1:]:
                client.register_agency(row)
        with national.session() as s:
            served = directory.served_agencies(s, system_id="hub.h41")
            ward = directory.get_agency(s, code="000.01.31.H41")
        assert served == {"000.00.00.H41", "000.00.31.H41", "000.01.31.H41"}
        assert ward.parent_code == "000.00.31.H41" and ward.name == "UBND phường Hưng Bình"
    finally:
        national.close()
        provincial.close()
