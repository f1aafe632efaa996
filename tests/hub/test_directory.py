"""The hub's directory: agencies (add, update, search, import, export, incremental sync,
deactivation) and connected systems (credentials, API keys) — through the Python API and
the ``lienthong agency …`` / ``lienthong system …`` commands, on SQLite and PostgreSQL.

Agency codes and names below are sample data.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from lienthong.cli import app as cli_app
from lienthong.hub import directory, sealed
from lienthong.hub.errors import HubError
from lienthong.hub.models import Agency, System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings

NGHE_AN = "000.00.00.H41"
STTTT = "000.00.12.H41"  # Sở Thông tin và Truyền thông, level 2
VP_SO = "000.01.12.H41"  # Văn phòng Sở, level 3
PHONG_HC = "001.01.12.H41"  # Phòng Hành chính, level 4
DONG_THAP = "000.00.00.H20"
HA_NOI = "000.00.00.H26"
HA_NAM = "000.00.00.H24"
VPCP = "000.00.00.G22"


def add(hub: Hub, code: str, name: str, **kw: Any) -> Agency:
    with hub.session() as s:
        return directory.add_agency(s, code=code, name=name, **kw)


def get(hub: Hub, code: str) -> Agency:
    with hub.session() as s:
        return directory.get_agency(s, code=code)


def search(hub: Hub, query: str, **kw: Any) -> list[str]:
    with hub.session() as s:
        return [a.code for a in directory.search_agencies(s, query=query, **kw)]


def export(hub: Hub) -> list[dict[str, Any]]:
    with hub.session() as s:
        return directory.export_agencies(s)


def import_rows(hub: Hub, rows: list[dict[str, Any]]) -> directory.ImportResult:
    with hub.session() as s:
        return directory.import_agencies(s, rows=rows)


# --------------------------------------------------------------------------- agencies


def test_the_parent_defaults_to_the_structural_parent_and_the_level_follows_the_code(
    hub: Hub,
) -> None:
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An")
    add(hub, STTTT, "Sở Thông tin và Truyền thông tỉnh Nghệ An")
    add(hub, VP_SO, "Văn phòng Sở Thông tin và Truyền thông")
    add(hub, PHONG_HC, "Phòng Hành chính - Tổng hợp")
    add(hub, "000.28.22.H17", "UBND xã Thạch Hòa")

    assert [(get(hub, c).parent_code, get(hub, c).level) for c in (NGHE_AN, STTTT)] == [
        (None, 1),
        (NGHE_AN, 2),
    ]
    assert (get(hub, VP_SO).parent_code, get(hub, VP_SO).level) == (STTTT, 3)
    assert (get(hub, PHONG_HC).parent_code, get(hub, PHONG_HC).level) == (VP_SO, 4)
    assert get(hub, "000.28.22.H17").parent_code == "000.00.22.H17"


def test_an_explicit_parent_wins_and_is_stored_in_canonical_form(hub: Hub) -> None:
    agency = add(hub, VP_SO, "Văn phòng (trực thuộc UBND tỉnh)", parent_code="00.H41")
    assert agency.parent_code == NGHE_AN


def test_adding_an_existing_code_updates_it(hub: Hub) -> None:
    first = add(hub, STTTT, "Sở Thông tin và Truyền thông tỉnh Nghệ An")
    second = add(
        hub,
        STTTT,
        "  Sở Khoa học và Công nghệ tỉnh Nghệ An  ",
        email="skhcn@nghean.gov.vn",
        phone="0238 3844 500",
        old_code="H41.12",
    )
    assert second.version > first.version
    with hub.session() as s:
        assert directory.count_agencies(s) == 1
    stored = get(hub, STTTT)
    assert stored.name == "Sở Khoa học và Công nghệ tỉnh Nghệ An"
    assert (stored.email, stored.phone, stored.old_code) == (
        "skhcn@nghean.gov.vn",
        "0238 3844 500",
        "H41.12",
    )
    assert get(hub, "H41.12").code == STTTT  # found by its old code too
    assert get(hub, "00.12.H41").code == STTTT  # and by the legacy short form


@pytest.mark.parametrize("code", ["ABC", "000.00.00", "000.00.00.H4", "0000.00.00.H41", ""])
def test_an_invalid_code_is_a_typed_422(hub: Hub, code: str) -> None:
    with pytest.raises(HubError) as info:
        add(hub, code, "Cơ quan không hợp lệ")
    assert info.value.status == 422
    assert info.value.code == "AGENCY_CODE_INVALID"
    with hub.session() as s:
        assert directory.count_agencies(s) == 0


def test_a_name_is_required(hub: Hub) -> None:
    with pytest.raises(HubError) as info:
        add(hub, STTTT, "   ")
    assert (info.value.status, info.value.code, info.value.field) == (
        422,
        "DIRECTORY_NAME_REQUIRED",
        "name",
    )


def test_search_ignores_diacritics_and_case(hub: Hub) -> None:
    add(hub, DONG_THAP, "UBND tỉnh Đồng Tháp")
    add(hub, HA_NOI, "UBND thành phố Hà Nội")
    add(hub, HA_NAM, "UBND tỉnh Hà Nam")
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An")

    assert search(hub, "dong thap") == [DONG_THAP]
    assert search(hub, "ĐỒNG THÁP") == [DONG_THAP]
    assert search(hub, "Đồng Tháp") == [DONG_THAP]
    assert search(hub, "ha noi") == [HA_NOI]
    assert search(hub, "Hà Nội") == [HA_NOI]
    assert search(hub, "ha n") == [HA_NAM, HA_NOI]
    assert search(hub, "H41") == [NGHE_AN]
    assert search(hub, "") == [DONG_THAP, HA_NAM, HA_NOI, NGHE_AN]
    assert search(hub, "ubnd", limit=2, offset=1) == [HA_NAM, HA_NOI]


def test_search_by_code_fragment_ignores_case_on_every_engine(hub: Hub) -> None:
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An")
    add(hub, VPCP, "Văn phòng Chính phủ")
    assert search(hub, "h41") == search(hub, "H41") == [NGHE_AN]
    assert search(hub, "g22") == [VPCP]


def test_deactivation_keeps_the_agency_findable_but_marks_it_inactive(hub: Hub) -> None:
    before = add(hub, DONG_THAP, "UBND tỉnh Đồng Tháp")
    add(hub, HA_NOI, "UBND thành phố Hà Nội")
    with hub.session() as s:
        after = directory.deactivate_agency(s, code=DONG_THAP)
    assert after.active is False
    assert after.version > before.version
    assert get(hub, DONG_THAP).active is False
    assert search(hub, "dong thap") == [DONG_THAP]
    assert search(hub, "", active_only=True) == [HA_NOI]
    with hub.session() as s, pytest.raises(HubError) as info:
        directory.deactivate_agency(s, code="000.00.00.H99")
    assert (info.value.status, info.value.code) == (404, "AGENCY_NOT_FOUND")


def test_changes_since_returns_only_what_changed_after_a_version(hub: Hub) -> None:
    a = add(hub, DONG_THAP, "UBND tỉnh Đồng Tháp")
    b = add(hub, HA_NOI, "UBND thành phố Hà Nội")
    mark = max(a.version, b.version)

    add(hub, HA_NOI, "Ủy ban nhân dân thành phố Hà Nội")
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An")
    with hub.session() as s:
        directory.deactivate_agency(s, code=DONG_THAP)
        changed = directory.changes_since(s, version=mark)
        everything = directory.changes_since(s, version=0)
        latest = max(x.version for x in everything)
        nothing = directory.changes_since(s, version=latest)

    assert [x.code for x in changed] == [HA_NOI, NGHE_AN, DONG_THAP]
    assert changed[0].name == "Ủy ban nhân dân thành phố Hà Nội"
    assert changed[2].active is False
    versions = [x.version for x in changed]
    assert versions == sorted(versions) and versions[0] > mark
    assert {x.code for x in everything} == {DONG_THAP, HA_NOI, NGHE_AN}
    assert nothing == []


# --------------------------------------------------------------------------- import / export

ROWS: list[dict[str, Any]] = [
    # children first on purpose; one bad code and one missing name in between
    {"code": PHONG_HC, "name": "Phòng Hành chính - Tổng hợp", "active": "1"},
    {"code": VP_SO, "name": "Văn phòng Sở", "email": "vanphong@stttt.nghean.gov.vn"},
    {"code": "12.H4", "name": "Mã sai"},
    {"code": STTTT, "name": "Sở Thông tin và Truyền thông tỉnh Nghệ An", "phone": "0238 3598 555"},
    {"code": NGHE_AN, "name": "UBND tỉnh Nghệ An"},
    {"code": "000.00.13.H41", "name": ""},
]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    if path.suffix == ".json":
        path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
        return path
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=directory.EXPORT_FIELDS, restval="")
        writer.writeheader()
        writer.writerows(rows)
    return path


@pytest.fixture(params=["csv", "json"])
def fmt(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def test_import_reports_bad_rows_and_imports_the_others_parents_first(
    hub: Hub, tmp_path: Path, fmt: str
) -> None:
    path = write_rows(tmp_path / f"danh-ba.{fmt}", ROWS)
    rows = directory.read_agency_rows(path)
    assert [r["code"] for r in rows] == [r["code"] for r in ROWS]
    ticks: list[int] = []
    with hub.session() as s:
        result = directory.import_agencies(s, rows=rows, progress=ticks.append)

    assert (result.created, result.updated) == (4, 0)
    assert sum(ticks) == len(ROWS)
    assert sorted((e["row"], e["code"], e["error"]["code"]) for e in result.errors) == [
        (3, "12.H4", "AGENCY_CODE_INVALID"),
        (6, "000.00.13.H41", "DIRECTORY_NAME_REQUIRED"),
    ]
    chain = [get(hub, c) for c in (NGHE_AN, STTTT, VP_SO, PHONG_HC)]
    assert [a.parent_code for a in chain] == [None, NGHE_AN, STTTT, VP_SO]
    # parents were written before their children, whatever the file order
    assert [a.version for a in chain] == sorted(a.version for a in chain)
    assert get(hub, VP_SO).email == "vanphong@stttt.nghean.gov.vn"
    assert get(hub, STTTT).phone == "0238 3598 555"

    again = import_rows(hub, directory.read_agency_rows(path))
    assert (again.created, again.updated, len(again.errors)) == (0, 4, 2)


def test_a_blank_active_cell_keeps_the_agency_active(hub: Hub, tmp_path: Path) -> None:
    """Only an explicit "no" value deactivates; a blank cell is "not given"."""
    path = tmp_path / "danh-ba.csv"
    path.write_text(
        "code,name,active\n"
        f"{NGHE_AN},UBND tỉnh Nghệ An,\n"
        f"{STTTT},Sở Thông tin và Truyền thông tỉnh Nghệ An,0\n",
        encoding="utf-8",
    )
    result = import_rows(hub, directory.read_agency_rows(path))
    assert result.errors == []
    assert get(hub, NGHE_AN).active is True
    assert get(hub, STTTT).active is False


def test_a_json_file_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "danh-ba.json"
    path.write_text(json.dumps({"code": NGHE_AN}), encoding="utf-8")
    with pytest.raises(HubError) as info:
        directory.read_agency_rows(path)
    assert (info.value.status, info.value.code) == (422, "DIRECTORY_IMPORT_FORMAT")


def test_export_and_import_round_trip(hub: Hub, tmp_path: Path, fmt: str) -> None:
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An", email="ubnd@nghean.gov.vn", phone="0238 3844 000")
    add(hub, STTTT, 'Sở Thông tin và Truyền thông, tỉnh "Nghệ An"', old_code="H41.12")
    add(hub, VP_SO, "Văn phòng (trực thuộc UBND tỉnh)", parent_code=NGHE_AN)
    add(hub, DONG_THAP, "UBND tỉnh Đồng Tháp", active=False)
    original = export(hub)
    assert [r["code"] for r in original] == sorted([NGHE_AN, STTTT, VP_SO, DONG_THAP])

    path = tmp_path / f"export.{fmt}"
    directory.write_agency_export(original, path)
    # the directory drifts …
    for row in original:
        add(hub, row["code"], "Tên tạm", email="tam@example.vn", old_code="X")
    assert export(hub) != original
    # … and the export brings it back
    result = import_rows(hub, directory.read_agency_rows(path))
    assert (result.updated, result.errors) == (4, [])
    assert export(hub) == original


# --------------------------------------------------------------------------- systems


@pytest.fixture
def agencies(hub: Hub) -> Hub:
    add(hub, NGHE_AN, "UBND tỉnh Nghệ An")
    add(hub, STTTT, "Sở Thông tin và Truyền thông tỉnh Nghệ An")
    add(hub, VPCP, "Văn phòng Chính phủ")
    return hub


def test_a_new_system_gets_a_secret_and_an_api_key_that_finds_it(agencies: Hub) -> None:
    hub = agencies
    with hub.session() as s:
        new = directory.add_system(s, system_id="vpdt.nghean", agencies=[NGHE_AN, "00.12.H41"])
    assert new.secret and new.api_key and new.secret != new.api_key
    with hub.session() as s:
        found = directory.system_by_api_key(s, api_key=new.api_key)
        assert found is not None and found.id == "vpdt.nghean"
        assert directory.system_by_api_key(s, api_key=new.api_key + "x") is None
        assert directory.system_by_api_key(s, api_key="") is None
        assert directory.served_agencies(s, system_id="vpdt.nghean") == {NGHE_AN, STTTT}
        stored = s.get(System, "vpdt.nghean")
        assert stored is not None and sealed.system_secret(s, stored) == new.secret
        columns = [str(getattr(stored, c.key)) for c in System.__table__.columns]
        assert not any(new.api_key in v for v in columns)  # only its hash is kept
        assert not any(new.secret in v for v in columns)  # sealed


def test_a_given_secret_is_kept(agencies: Hub) -> None:
    with agencies.session() as s:
        new = directory.add_system(s, system_id="sdk.vpcp", agencies=[VPCP], secret="bí-mật-SDK")
    assert new.secret == "bí-mật-SDK"


def test_registering_again_rotates_the_credentials(agencies: Hub) -> None:
    hub = agencies
    with hub.session() as s:
        old = directory.add_system(s, system_id="vpdt.nghean", agencies=[NGHE_AN])
    with hub.session() as s:
        new = directory.add_system(s, system_id="vpdt.nghean", agencies=[STTTT])
    assert new.api_key != old.api_key and new.secret != old.secret
    with hub.session() as s:
        assert directory.system_by_api_key(s, api_key=old.api_key) is None
        found = directory.system_by_api_key(s, api_key=new.api_key)
        assert found is not None and found.id == "vpdt.nghean"
        assert directory.served_agencies(s, system_id="vpdt.nghean") == {STTTT}
        assert [x.id for x in directory.list_systems(s)] == ["vpdt.nghean"]


def test_the_new_system_value_never_shows_its_credentials(agencies: Hub) -> None:
    with agencies.session() as s:
        new = directory.add_system(s, system_id="vpdt.nghean", agencies=[NGHE_AN])
    for shown in (repr(new), str(new), f"{new}", f"{[new]}"):
        assert "vpdt.nghean" in shown
        assert new.secret not in shown and new.api_key not in shown


def test_a_system_needs_known_agencies(agencies: Hub) -> None:
    with agencies.session() as s, pytest.raises(HubError) as unknown:
        directory.add_system(s, system_id="x", agencies=["000.00.00.H99"])
    assert (unknown.value.status, unknown.value.code) == (404, "AGENCY_NOT_FOUND")
    with agencies.session() as s, pytest.raises(HubError) as none:
        directory.add_system(s, system_id="x", agencies=[])
    assert (none.value.status, none.value.code) == (422, "SYSTEM_AGENCY_REQUIRED")
    with agencies.session() as s:
        assert directory.list_systems(s) == []


# --------------------------------------------------------------------------- CLI


class Cli:
    def __init__(self, data_dir: Path, env: dict[str, str | None], settings: Settings) -> None:
        self.data_dir = data_dir
        self.env = env
        self.settings = settings
        self.runner = CliRunner()

    def __call__(self, *args: str | Path, code: int = 0) -> Any:
        argv = [str(a) for a in args] + ["--data-dir", str(self.data_dir)]
        result = self.runner.invoke(cli_app, argv, env=self.env)
        assert result.exit_code == code, (argv, result.output, result.exception)
        return result

    def hub(self) -> Hub:
        return Hub(self.settings)


@pytest.fixture
def cli(database_url: str, tmp_path: Path) -> Iterator[Cli]:
    """The CLI on this test's database: on SQLite the default database inside the data
    directory; on PostgreSQL the URL given through ``LIENTHONG_DATABASE_URL``."""
    data_dir = tmp_path / "cli-data"
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
    yield Cli(data_dir, env, settings)


def test_cli_agency_add_and_list(cli: Cli) -> None:
    cli("agency", "add", DONG_THAP, "UBND tỉnh Đồng Tháp")
    cli("agency", "add", "000.00.05.H20", "Sở Nội vụ tỉnh Đồng Tháp", "--email", "snv@dongthap.vn")
    cli("agency", "add", HA_NOI, "UBND thành phố Hà Nội")

    listed = json.loads(cli("agency", "list", "dong thap", "--json").stdout)
    assert listed == [
        {
            "code": DONG_THAP,
            "name": "UBND tỉnh Đồng Tháp",
            "level": 1,
            "parent_code": None,
            "active": True,
            "nonstandard": False,
            "via_peer": None,
        },
        {
            "code": "000.00.05.H20",
            "name": "Sở Nội vụ tỉnh Đồng Tháp",
            "level": 2,
            "parent_code": DONG_THAP,
            "active": True,
            "nonstandard": False,
            "via_peer": None,
        },
    ]
    assert [a["code"] for a in json.loads(cli("agency", "list", "ha noi", "--json").stdout)] == [
        HA_NOI
    ]
    table = cli("agency", "list", "ha noi").stdout
    assert HA_NOI in table and "Hà Nội" in table


def test_cli_agency_add_refuses_an_invalid_code(cli: Cli) -> None:
    result = cli("agency", "add", "12.H4", "Mã sai", code=2)
    assert "AGENCY_CODE_INVALID" in result.stderr
    assert json.loads(cli("agency", "list", "--json").stdout) == []


def test_cli_agency_import_and_export(cli: Cli, tmp_path: Path, fmt: str) -> None:
    good = [r for r in ROWS if r["code"] in (NGHE_AN, STTTT, VP_SO, PHONG_HC)]
    cli("agency", "import", write_rows(tmp_path / f"tot.{fmt}", good))
    bad = cli("agency", "import", write_rows(tmp_path / f"co-loi.{fmt}", ROWS), code=1)
    assert "12.H4" in bad.stderr

    out = tmp_path / f"xuat.{fmt}"
    cli("agency", "export", out)
    exported = directory.read_agency_rows(out)
    assert [r["code"] for r in exported] == sorted([NGHE_AN, STTTT, VP_SO, PHONG_HC])
    parents = {r["code"]: r["parent_code"] or None for r in exported}
    assert parents == {NGHE_AN: None, STTTT: NGHE_AN, VP_SO: STTTT, PHONG_HC: VP_SO}
    hub = cli.hub()
    try:
        stored = export(hub)
    finally:
        hub.close()
    assert [(r["code"], r["name"]) for r in exported] == [(r["code"], r["name"]) for r in stored]


def test_cli_system_add_prints_credentials_once_and_list_never_does(cli: Cli) -> None:
    cli("agency", "add", NGHE_AN, "UBND tỉnh Nghệ An")
    cli("agency", "add", STTTT, "Sở Thông tin và Truyền thông tỉnh Nghệ An")
    result = cli("system", "add", "vpdt.nghean", "--agency", STTTT, "--agency", NGHE_AN, "--json")
    data = json.loads(result.stdout)
    assert data["system_id"] == "vpdt.nghean"
    assert data["agencies"] == [NGHE_AN, STTTT]
    assert data["secret"] and data["api_key"]
    hub = cli.hub()
    try:
        with hub.session() as s:
            found = directory.system_by_api_key(s, api_key=data["api_key"])
            assert found is not None and found.id == "vpdt.nghean"
            assert sealed.system_secret(s, found) == data["secret"]
    finally:
        hub.close()

    listed = cli("system", "list")
    assert "vpdt.nghean" in listed.stdout and NGHE_AN in listed.stdout
    for secret in (data["secret"], data["api_key"]):
        assert secret not in listed.output


def test_cli_system_add_with_an_unknown_agency_fails(cli: Cli) -> None:
    result = cli("system", "add", "x", "--agency", "000.00.00.H99", "--json", code=2)
    assert "AGENCY_NOT_FOUND" in result.stderr
    assert "api_key" not in result.stdout


def test_the_agencies_table_is_what_the_cli_wrote(cli: Cli) -> None:
    cli("agency", "add", STTTT, "Sở Thông tin và Truyền thông tỉnh Nghệ An", "--old-code", "H41.12")
    hub = cli.hub()
    try:
        with hub.session() as s:
            (agency,) = s.scalars(select(Agency))
    finally:
        hub.close()
    assert (agency.code, agency.parent_code, agency.level, agency.old_code) == (
        STTTT,
        NGHE_AN,
        2,
        "H41.12",
    )
