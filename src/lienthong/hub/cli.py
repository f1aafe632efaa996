"""Hub commands: ``lienthong hub serve``, ``hub prune``, ``agency …``, ``system …``, ``peer …``,
``deadletter …``, ``operator …``, ``audit verify`` (the client commands ``send``, ``inbox``,
… are in :mod:`lienthong.client.cli`).

Commands that touch a hub's data take ``--data-dir`` (default ``LIENTHONG_DATA_DIR``, else
``./lienthong-data``); the database and blob store follow the settings
(``LIENTHONG_DATABASE_URL``, ``LIENTHONG_BLOB_URL``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from lienthong.core.cli_output import dump, fail
from lienthong.hub.errors import HubError
from lienthong.hub.settings import Settings

hub_app = typer.Typer(help="Trục liên thông / the exchange hub", no_args_is_help=True)
agency_app = typer.Typer(help="Danh bạ cơ quan / agency directory", no_args_is_help=True)
system_app = typer.Typer(help="Hệ thống kết nối / connected systems", no_args_is_help=True)
audit_app = typer.Typer(help="Nhật ký kiểm toán / audit log", no_args_is_help=True)

DataDir = typer.Option(
    None,
    "--data-dir",
    envvar="LIENTHONG_DATA_DIR",
    help="Thư mục dữ liệu / data directory (default ./lienthong-data)",
)
JsonOut = typer.Option(False, "--json", help="In JSON / print JSON")
ClockZone = typer.Option(
    None,
    "--clock-zone",
    help="Múi giờ đồng hồ của hệ thống, dùng để kiểm tra XroadVnpt-timestamp / the zone of "
    "the system's clock, for the freshness of XroadVnpt-timestamp (IANA name, e.g. UTC; "
    "default: Asia/Ho_Chi_Minh, or the zone it has when registered again)",
)

err = Console(stderr=True)


def _settings(data_dir: Path | None, **overrides: Any) -> Settings:
    try:
        return Settings.load(data_dir=data_dir, **overrides)
    except (OSError, ValueError) as exc:
        raise fail(
            {
                "code": "HUB_SETTINGS_INVALID",
                "field": "LIENTHONG_CONFIG",
                "message_vi": f"Cấu hình không hợp lệ: {exc}",
                "message_en": f"Invalid settings: {exc}",
            },
            False,
        ) from None


@contextmanager
def _hub(data_dir: Path | None, *, create: bool = False, json_out: bool = False) -> Iterator[Any]:
    """The hub's database (migrated), for commands that work on a hub's data. Only the
    commands that set a hub up (``create``: adding agencies, systems, peers, operators)
    create an empty hub where there is none; the others refuse a folder that holds no hub
    and say where they looked (exit 2)."""
    from sqlalchemy.exc import OperationalError

    from lienthong.core.db import redact_url
    from lienthong.hub.runtime import Database

    settings = _settings(data_dir)
    try:
        database = Database(settings) if create else Database.existing(settings)
    except HubError as exc:
        raise fail(exc.to_dict(), json_out) from None
    except OperationalError as exc:
        where = redact_url(settings.effective_database_url)
        reason = str(exc.orig or exc).splitlines()[0]
        raise fail(
            {
                "code": "HUB_DATABASE_UNREACHABLE",
                "field": "database_url",
                "message_vi": f"Không mở được cơ sở dữ liệu {where}: {reason}",
                "message_en": f"Cannot open the database {where}: {reason}",
            },
            json_out,
        ) from None
    try:
        yield database
    finally:
        database.close()


def _fail(exc: HubError) -> typer.Exit:
    return fail(exc.to_dict(), False)


# ------------------------------------------------------------------------------ hub


@hub_app.command("serve")
def serve(
    data_dir: Path | None = DataDir,
    host: str = typer.Option(None, "--host", help="default 127.0.0.1"),
    port: int = typer.Option(None, "--port", help="default 8080"),
) -> None:
    """Chạy trục / run the hub (national-platform API at the root, REST API at /api/v1)."""
    from lienthong.core import logging as jsonlog
    from lienthong.hub.http.app import serve as serve_http
    from lienthong.hub.runtime import Hub

    settings = _settings(data_dir, host=host, port=port)
    jsonlog.configure(settings.log_level)
    hub = Hub(settings)
    err.print(
        f"lienthong hub: dữ liệu / data {settings.data_dir.resolve()}, "
        f"http://{settings.host}:{settings.port}"
        + (f", quản trị / admin http://{settings.admin_listen}" if settings.admin_listen else "")
    )
    try:
        serve_http(hub)
    finally:
        hub.close()


@hub_app.command("prune")
def prune(data_dir: Path | None = DataDir, json_out: bool = JsonOut) -> None:
    """Dọn theo thời hạn lưu giữ / apply the retention settings now (a running hub also does
    it every minute): expire deliveries never acknowledged within
    LIENTHONG_DELIVERY_LIFETIME_DAYS, delete outbox entries done more than
    LIENTHONG_OUTBOX_RETENTION_DAYS ago, forget stale signatures. Messages, payloads and the
    audit chain are kept (it stays verifiable: "audit verify")."""
    with _hub(data_dir, json_out=json_out) as hub:
        result = hub.prune(via="cli")
        settings = hub.settings
    data = {
        "expired_deliveries": result.expired,
        "outbox_entries_deleted": result.outbox_deleted,
        "signatures_forgotten": result.signatures_forgotten,
        "delivery_lifetime_days": settings.delivery_lifetime_days,
        "outbox_retention_days": settings.outbox_retention_days,
    }
    if json_out:
        dump(data)
        return
    err.print(
        f"Hết hạn / expired: {result.expired} nơi nhận / deliveries "
        f"(sau / after {settings.delivery_lifetime_days or '∞'} ngày / days); "
        f"xóa / deleted: {result.outbox_deleted} mục hàng đợi đã xong / done outbox entries "
        f"(sau / after {settings.outbox_retention_days or '∞'} ngày / days); "
        f"quên / forgot: {result.signatures_forgotten} chữ ký / signatures"
    )


@hub_app.command("rotate-key")
def rotate_key(data_dir: Path | None = DataDir) -> None:
    """Đổi khóa niêm phong bí mật / rotate the key sealing stored secrets.

    With the key file: a new key is written first, every stored secret (systems' HMAC
    secrets, peers' API keys) is sealed again with it, then the old keys leave the file.
    With LIENTHONG_SECRET_KEYS: put the new key first in the variable, run this, then
    remove the old keys from the variable."""
    from lienthong.core.sealing import write_key_file
    from lienthong.hub import sealed
    from lienthong.hub.runtime import Database, load_keyring

    settings = _settings(data_dir)
    path = settings.effective_secret_key_file
    if not settings.secret_keys:
        write_key_file(path, load_keyring(settings).rotated())
    database = Database(settings)  # seals again every value not under the current key
    try:
        database.run(sealed.reseal_all)  # (the start did it already: a no-op check)
        ring = database.keyring
    finally:
        database.close()
    if not settings.secret_keys:
        write_key_file(path, ring.only_current())
        err.print(f"Khóa mới / new key {ring.current} in {path}; old keys removed")
    else:
        err.print(
            f"Đã niêm phong lại bằng khóa / sealed again with key {ring.current}; remove the "
            "old keys from LIENTHONG_SECRET_KEYS"
        )


@hub_app.command("backup")
def hub_backup(
    dest: Path = typer.Argument(..., help="Thư mục sao lưu / backup folder"),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Sao lưu trục đang chạy (SQLite) / back up a hub while it runs (SQLite): a consistent
    database snapshot, the payloads it refers to (checked), the trust folder. Again into the
    same folder copies only new payloads. Exit 1 if a payload is missing or damaged."""
    from lienthong.hub import backup

    try:
        report = backup.backup(_settings(data_dir), dest)
    except HubError as exc:
        raise fail(exc.to_dict(), json_out) from None
    if json_out:
        dump({"ok": report.ok, **report.__dict__})
    else:
        err.print(
            f"Đã sao lưu / backed up → {report.folder}: {report.messages} gói tin / messages, "
            f"{report.payloads} tệp / payloads ({report.payloads_copied} mới / new), "
            f"nhật ký / audit {report.audit_records} bản ghi / records"
        )
        for key in report.missing_payloads:
            err.print(f"[red]Thiếu hoặc hỏng / missing or damaged[/]: {key}")
    if not report.ok:
        raise typer.Exit(1)


@hub_app.command("restore")
def hub_restore(
    source: Path = typer.Argument(..., help="Thư mục sao lưu / backup folder"),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Khôi phục bản sao lưu vào một thư mục mới / restore a backup into a new data folder,
    then check it (audit chain intact, every payload present). Exit 1 if the check fails."""
    from lienthong.hub import backup

    try:
        report = backup.restore(source, _settings(data_dir))
    except HubError as exc:
        raise fail(exc.to_dict(), json_out) from None
    if json_out:
        dump({"ok": report.ok, **report.__dict__})
    else:
        state = "[green]toàn vẹn / intact[/]" if report.audit_ok else "[red]HỎNG / BROKEN[/]"
        err.print(
            f"Đã khôi phục / restored → {report.folder}: {report.messages} gói tin / messages, "
            f"nhật ký / audit {state} ({report.audit_records}), thiếu / missing "
            f"{len(report.payloads_missing)}"
        )
    if not report.ok:
        raise typer.Exit(1)


# ------------------------------------------------------------------------------ agencies


@agency_app.command("add")
def agency_add(
    code: str,
    name: str,
    parent: str | None = typer.Option(None, "--parent", help="Mã cơ quan cấp trên / parent code"),
    email: str | None = typer.Option(None, "--email"),
    phone: str | None = typer.Option(None, "--phone"),
    old_code: str | None = typer.Option(None, "--old-code"),
    nonstandard: bool = typer.Option(
        False,
        "--nonstandard",
        help="Mã ngoài cấu trúc NNN.NN.NN.XNN, đăng ký có chủ ý (vxp.saas.03) / an identifier "
        "outside the standard form, registered on purpose",
    ),
    via: str | None = typer.Option(
        None,
        "--via",
        help="Chỉ mã không chuẩn: trục ngang hàng đi tới đơn vị này (mặc định: trục mặc định) "
        "/ non-standard only: the peer hub it is reached through (default: the default peer)",
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Thêm hoặc sửa cơ quan / add or update an agency."""
    from lienthong.hub import directory

    try:
        with _hub(data_dir, create=True) as hub, hub.session() as s:
            agency = directory.add_agency(
                s,
                code=code,
                name=name,
                parent_code=parent,
                email=email,
                phone=phone,
                old_code=old_code,
                nonstandard=nonstandard,
                via_peer=via,
                parent_must_exist=True,
            )
            level = agency.level if agency.level is not None else "? (không chuẩn / non-standard)"
            err.print(f"Đã lưu / saved: {agency.code} — {agency.name} (cấp / level {level})")
    except HubError as exc:
        raise _fail(exc) from None


@agency_app.command("import")
def agency_import(file: Path, data_dir: Path | None = DataDir) -> None:
    """Nhập danh bạ từ CSV hoặc JSON / import agencies from CSV or JSON."""
    from lienthong.hub import directory

    try:
        rows = directory.read_agency_rows(file)
    except (OSError, ValueError) as exc:
        raise _fail(
            HubError(
                "DIRECTORY_IMPORT_FORMAT",
                f"Không đọc được {file}: {exc}",
                f"Cannot read {file}: {exc}",
            )
        ) from None
    except HubError as exc:
        raise _fail(exc) from None
    with _hub(data_dir, create=True) as hub, hub.session() as s, Progress(console=err) as progress:
        task = progress.add_task("Nhập / importing", total=len(rows))
        result = directory.import_agencies(
            s, rows=rows, progress=lambda n: progress.advance(task, n)
        )
    err.print(
        f"Thêm mới / created {result.created}, cập nhật / updated {result.updated}, "
        f"lỗi / errors {len(result.errors)}"
    )
    for e in result.errors[:20]:
        err.print(f"  dòng / row {e['row']} {e['code']}: {e['error']['message_vi']}")
    if result.errors:
        raise typer.Exit(1)


@agency_app.command("sync")
def agency_sync(
    hub_url: str = typer.Option(..., "--from", help="Trục nguồn / source hub or platform URL"),
    system_id: str = typer.Option(..., "--system-id", envvar="LIENTHONG_SYNC_SYSTEM_ID"),
    secret: str = typer.Option(..., "--secret", envvar="LIENTHONG_SYNC_SECRET"),
    full: bool = typer.Option(False, "--full", help="Lấy toàn bộ / full, not incremental"),
    peer: str | None = typer.Option(
        None,
        "--peer",
        help="Trục ngang hàng của nguồn này (mặc định: trục có cùng URL) / the peer hub this "
        "source is (default: the peer with this URL)",
    ),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Đồng bộ danh bạ từ trục khác (getSynchronizeUnit) / pull the directory of another
    hub (or the national platform) incrementally. Đơn vị có mã không chuẩn (vxp.saas.03) được
    đăng ký là không chuẩn, đi qua trục nguồn / units with non-standard identifiers are
    registered as such, reached through the source's peer hub."""
    from lienthong.client.vdxp import VdxpClient, VdxpClientError
    from lienthong.hub import directory, federation

    with _hub(data_dir, create=True) as hub:
        with hub.session() as s:
            since = 0 if full else directory.last_synced_version(s, source=hub_url)
        try:
            with VdxpClient(hub_url, system_id, secret) as client:
                rows = client.get_synchronize_unit(since_version=since or None).get("data", [])
        except VdxpClientError as exc:
            raise _fail(
                HubError(
                    "DIRECTORY_SYNC_FAILED",
                    f"Không đồng bộ được: {exc}",
                    f"Synchronisation failed: {exc}",
                )
            ) from None
        with hub.session() as s:
            via = peer or federation.peer_at(s, url=hub_url)
            result = directory.apply_synchronisation(s, source=hub_url, rows=rows, via_peer=via)
    data = result.__dict__
    if json_out:
        dump(data)
    else:
        err.print(
            f"Nhận / received {result.received}: thêm / created {result.created}, "
            f"cập nhật / updated {result.updated}, ngừng / deactivated "
            f"{result.deactivated}, lỗi / errors {len(result.errors)}; "
            f"phiên bản / version {result.version}"
        )
    if result.errors:
        raise typer.Exit(1)


@agency_app.command("register-up")
def agency_register_up(
    hub_url: str = typer.Option(..., "--to", help="Trục cấp trên / the upstream hub URL"),
    under: str = typer.Option(
        ..., "--under", help="Cơ quan gốc / the root agency, e.g. 000.00.00.H41"
    ),
    system_id: str = typer.Option(..., "--system-id", envvar="LIENTHONG_UP_SYSTEM_ID"),
    secret: str = typer.Option(..., "--secret", envvar="LIENTHONG_UP_SECRET"),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Đăng ký các đơn vị của mình với trục cấp trên (registerAgency) / register this hub's
    agencies below a root with the upstream hub."""
    from lienthong.client.vdxp import VdxpClient, VdxpClientError
    from lienthong.hub import directory

    with _hub(data_dir, json_out=json_out) as hub, hub.session() as s:
        rows = directory.registration_rows(s, under=under)
    done, refused = [], []
    with VdxpClient(hub_url, system_id, secret) as client:
        for row in rows:
            if row["code"] == directory.canonical_code(under):
                continue  # the root itself is registered by the upstream operator
            try:
                client.register_agency(row)
                done.append(row["code"])
            except VdxpClientError as exc:
                code = (exc.response or {}).get("code", exc.error_code)
                refused.append({"code": row["code"], "error": code})
    if json_out:
        dump({"registered": done, "refused": refused})
    else:
        err.print(f"Đã đăng ký / registered {len(done)}, bị từ chối / refused {len(refused)}")
        for r in refused[:20]:
            err.print(f"  {r['code']}: {r['error']}")
    if refused:
        raise typer.Exit(1)


@agency_app.command("export")
def agency_export(file: Path, data_dir: Path | None = DataDir) -> None:
    """Xuất danh bạ ra CSV hoặc JSON (theo đuôi tệp) / export to CSV or JSON."""
    from lienthong.hub import directory

    with _hub(data_dir) as hub, hub.session() as s:
        rows = directory.export_agencies(s)
    directory.write_agency_export(rows, file)
    err.print(f"Đã xuất / exported {len(rows)} → {file}")


@agency_app.command("list")
def agency_list(
    query: str = typer.Argument("", help="tìm không dấu / diacritic-insensitive"),
    limit: int = 50,
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Liệt kê, tìm cơ quan / list or search agencies."""
    from lienthong.hub import directory

    with _hub(data_dir, json_out=json_out) as hub, hub.session() as s:
        rows = directory.search_agencies(s, query=query, limit=limit)
        data = [
            {
                "code": a.code,
                "name": a.name,
                "level": a.level,
                "parent_code": a.parent_code,
                "active": a.active,
                "nonstandard": a.nonstandard,
                "via_peer": a.via_peer,
            }
            for a in rows
        ]
    if json_out:
        dump(data)
        return
    table = Table("Mã định danh", "Tên cơ quan", "Cấp", "Cấp trên", "Hoạt động")
    for a in data:
        table.add_row(
            str(a["code"]),
            str(a["name"]),
            "?" if a["level"] is None else str(a["level"]),
            str(a["parent_code"] or ""),
            "có" if a["active"] else "không",
        )
    Console().print(table)


# ------------------------------------------------------------------------------ systems


@system_app.command("add")
def system_add(
    system_id: str,
    agency: list[str] = typer.Option(
        ..., "--agency", help="Cơ quan hệ thống phục vụ (lặp lại) / agency served (repeatable)"
    ),
    secret: str | None = typer.Option(None, "--secret", help="default: generated"),
    name: str = typer.Option("", "--name"),
    legacy_sdk: bool = typer.Option(
        False,
        "--legacy-sdk",
        help="SDK cũ ký lại cùng chữ ký: miễn kiểm tra thời điểm / "
        "old SDK repeats signatures: no freshness check",
    ),
    callback: str | None = typer.Option(None, "--callback", help="URL nhận đẩy / push URL"),
    peer: bool = typer.Option(
        False,
        "--peer",
        help="Trục ngang hàng chuyển tiếp / a peer hub relaying for its own agencies",
    ),
    clock_zone: str | None = ClockZone,
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Đăng ký hệ thống; in khóa bí mật và khóa API (chỉ một lần) / register a system and
    print its secret and API key (shown once)."""
    from lienthong.hub import directory

    try:
        with _hub(data_dir, create=True) as hub, hub.session() as s:
            new = directory.add_system(
                s,
                system_id=system_id,
                agencies=agency,
                secret=secret,
                name=name,
                legacy_sdk=legacy_sdk,
                callback_url=callback,
                clock_zone=clock_zone,
            )
            new.system.peer = peer
            agencies = sorted(directory.served_agencies(s, system_id=system_id))
    except HubError as exc:
        raise _fail(exc) from None
    data = {
        "system_id": system_id,
        "agencies": agencies,
        "secret": new.secret,
        "api_key": new.api_key,
        "legacy_sdk": legacy_sdk,
        "clock_zone": new.system.clock_zone,
    }
    if json_out:
        dump(data)
        return
    console = Console()
    console.print(f"Hệ thống / system: [bold]{system_id}[/] — {', '.join(agencies)}")
    console.print(f"secret (systemid/secret của SDK): {new.secret}", markup=False)
    console.print(f"API key (REST, Authorization: Bearer): {new.api_key}", markup=False)
    console.print(
        "Lưu lại ngay: không hiển thị lại / store them now: not shown again", style="yellow"
    )


@system_app.command("set")
def system_set(
    system_id: str,
    clock_zone: str = typer.Option(
        ...,
        "--clock-zone",
        help="Múi giờ đồng hồ của hệ thống / the zone of the system's clock (IANA name)",
    ),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Đổi thiết lập của hệ thống, giữ nguyên khóa / change a system's settings, keeping its
    credentials."""
    from lienthong.hub import directory

    try:
        with _hub(data_dir) as hub, hub.session() as s:
            system = directory.set_clock_zone(s, system_id=system_id, clock_zone=clock_zone)
            data = {"system_id": system.id, "clock_zone": system.clock_zone}
    except HubError as exc:
        raise _fail(exc) from None
    if json_out:
        dump(data)
        return
    Console().print(
        f"Hệ thống / system [bold]{system_id}[/]: múi giờ / clock zone {data['clock_zone']}"
    )


@system_app.command("list")
def system_list(data_dir: Path | None = DataDir, json_out: bool = JsonOut) -> None:
    """Liệt kê hệ thống / list systems (never their credentials)."""
    from lienthong.hub import directory

    rows: list[dict[str, Any]] = []
    with _hub(data_dir) as hub, hub.session() as s:
        for sys_ in directory.list_systems(s):
            rows.append(
                {
                    "system_id": sys_.id,
                    "agencies": sorted(directory.served_agencies(s, system_id=sys_.id)),
                    "legacy_sdk": sys_.legacy_sdk,
                    "clock_zone": sys_.clock_zone,
                    "active": sys_.active,
                }
            )
    if json_out:
        dump(rows)
        return
    table = Table("Hệ thống", "Cơ quan", "SDK cũ", "Múi giờ", "Hoạt động")
    for row in rows:
        table.add_row(
            str(row["system_id"]),
            ", ".join(row["agencies"]),
            "có" if row["legacy_sdk"] else "",
            str(row["clock_zone"]),
            "có" if row["active"] else "không",
        )
    Console().print(table)


# ------------------------------------------------------------------------------ audit


@audit_app.command("verify")
def audit_verify(data_dir: Path | None = DataDir, json_out: bool = JsonOut) -> None:
    """Tính lại chuỗi băm của nhật ký / recompute the audit log's hash chain. Exit 0 when
    intact, 1 naming the first tampered record."""
    from lienthong.hub import audit

    with _hub(data_dir, json_out=json_out) as hub, hub.session() as s:
        result = audit.verify(s)
    if json_out:
        dump(result.__dict__)
    elif result.ok:
        Console().print(
            f"[green]Toàn vẹn / intact[/]: {result.records} bản ghi / records, "
            f"head {result.head_hash[:16]}…"
        )
    else:
        Console().print(
            f"[red]Bị sửa / tampered[/]: bản ghi / record #{result.first_bad_seq} — {result.reason}"
        )
    if not result.ok:
        raise typer.Exit(1)


peer_app = typer.Typer(help="Trục ngang hàng / peer hubs", no_args_is_help=True)
deadletter_app = typer.Typer(help="Thư chết / dead letters", no_args_is_help=True)


@peer_app.command("add")
def peer_add(
    peer_id: str,
    url: str = typer.Option(..., "--url", help="Địa chỉ trục kia / the peer hub's URL"),
    api_key: str = typer.Option(
        ...,
        "--api-key",
        envvar="LIENTHONG_PEER_API_KEY",
        help="Khóa API trục kia cấp / the API key the peer gave us",
    ),
    serves: list[str] = typer.Option(
        ..., "--serves", help="Mã cấp 1 (H41, G12) hoặc * (mặc định) / level-1 codes or *"
    ),
    data_dir: Path | None = DataDir,
) -> None:
    """Thêm hoặc sửa trục ngang hàng / add or update a peer hub route.

    The peer's id must be its hub id (hops are recorded by hub id): when the peer answers,
    its /healthz is checked and a different id is refused."""
    import httpx

    from lienthong.hub import federation

    try:
        answered = httpx.get(url.rstrip("/") + "/healthz", timeout=5).json().get("hub")
    except (httpx.HTTPError, ValueError, AttributeError):
        answered = None
        err.print(
            "[yellow]Chưa kiểm tra được mã trục kia (không trả lời) / could not check the "
            "peer's hub id (no answer)[/]"
        )
    if answered is not None and answered != peer_id:
        err.print(
            f"[red]Trục kia tự xưng '{answered}', không phải '{peer_id}': mã trục ngang hàng "
            f"phải là LIENTHONG_HUB_ID của nó / the peer calls itself '{answered}', not "
            f"'{peer_id}': a peer's id must be its LIENTHONG_HUB_ID[/]"
        )
        raise typer.Exit(1)
    try:
        with _hub(data_dir, create=True) as hub, hub.session() as s:
            peer = federation.add_peer(
                s,
                peer_id=peer_id,
                url=url,
                api_key=api_key,
                serves=serves,
                role=hub.settings.role,
            )
            err.print(f"Đã lưu / saved: {peer.id} → {peer.url} ({peer.serves})")
    except HubError as exc:
        raise _fail(exc) from None


@peer_app.command("list")
def peer_list(data_dir: Path | None = DataDir) -> None:
    """Liệt kê trục ngang hàng / list peer hubs (never their keys)."""
    from sqlalchemy import select

    from lienthong.hub.models import Peer

    with _hub(data_dir) as hub, hub.session() as s:
        table = Table("Trục", "Địa chỉ", "Phục vụ", "Hoạt động")
        for p in s.scalars(select(Peer).order_by(Peer.id)):
            table.add_row(p.id, p.url, p.serves, "có" if p.active else "không")
    Console().print(table)


@deadletter_app.command("list")
def deadletter_list(
    target_type: str | None = typer.Option(
        None,
        "--target-type",
        help="relay (tới trục khác / to a peer) | push (tới hệ thống) | report (báo lỗi "
        "về trục trước / failures reported upstream)",
    ),
    target_id: str | None = typer.Option(None, "--target", help="trục hoặc hệ thống / id"),
    limit: int = typer.Option(1000, "--limit"),
    data_dir: Path | None = DataDir,
    json_out: bool = JsonOut,
) -> None:
    """Thư chết: gói tin không chuyển được / relays and pushes given up, with their typed
    reason (the same records as GET /api/admin/v1/deadletters)."""
    from lienthong.hub import deadletters

    if target_type not in (None, "relay", "push", "report"):
        raise _fail(
            HubError(
                "REQUEST_INVALID",
                "--target-type phải là relay, push hoặc report",
                "--target-type must be relay, push or report",
                field="target_type",
            )
        )
    with _hub(data_dir, json_out=json_out) as hub:
        page = hub.read(
            deadletters.dead_letter_page,
            target_type=target_type,
            target_id=target_id,
            limit=limit,
        )
    if json_out:
        dump([item.model_dump(mode="json") for item in page.items])
        return
    table = Table("#", "Gói tin", "Chuyển tới", "Số lần", "Lý do", "Bỏ cuộc lúc / given up")
    for e in page.items:
        table.add_row(
            str(e.id),
            e.message_id,
            f"{e.target.type}:{e.target.id or ''}",
            str(e.attempts),
            f"{e.reason.code}: {e.reason.detail}" if e.reason else "",
            e.updated_at.isoformat(timespec="seconds") if e.updated_at else "",
        )
    Console().print(table)


@deadletter_app.command("show")
def deadletter_show(entry_id: int, data_dir: Path | None = DataDir) -> None:
    """Chi tiết một thư chết / one dead letter: target, reason, times, the message's sender
    and recipients (JSON, like GET /api/admin/v1/deadletters/{id})."""
    from lienthong.hub import deadletters

    try:
        with _hub(data_dir) as hub:
            entry = hub.read(deadletters.get_dead_letter, entry_id=entry_id)
    except HubError as exc:
        raise _fail(exc) from None
    dump(entry.model_dump(mode="json"))


@deadletter_app.command("replay")
def deadletter_replay(entry_id: int, data_dir: Path | None = DataDir) -> None:
    """Gửi lại một thư chết / put a dead letter back in the queue (written to the audit
    log, "via: cli")."""
    import getpass

    from lienthong.hub import deadletters

    try:
        user: str | None = getpass.getuser()
    except (KeyError, OSError):  # no user name in this environment
        user = None
    try:
        with _hub(data_dir) as hub:
            hub.run(
                deadletters.replay_dead_letter,
                entry_id=entry_id,
                operator=None,
                via=f"cli:{user}" if user else "cli",
            )
    except HubError as exc:
        raise _fail(exc) from None
    err.print(f"Đã xếp lại / queued again: #{entry_id}")


# ------------------------------------------------------------------------------ operators

operator_app = typer.Typer(
    help="Người vận hành: khóa API quản trị / operators: admin API keys", no_args_is_help=True
)


@operator_app.command("add")
def operator_add(name: str, data_dir: Path | None = DataDir, json_out: bool = JsonOut) -> None:
    """Thêm người vận hành và in khóa API (chỉ một lần); thêm lại = cấp khóa mới / add an
    operator and print its API key (shown once); adding again issues a new key."""
    from lienthong.hub import operators

    try:
        with _hub(data_dir, create=True) as hub, hub.session() as s:
            new = operators.add_operator(s, name=name)
            operator = new.operator.name
    except HubError as exc:
        raise _fail(exc) from None
    if json_out:
        dump({"name": operator, "api_key": new.api_key})
        return
    console = Console()
    console.print(f"Người vận hành / operator: [bold]{operator}[/]")
    console.print(f"API key (/api/admin/v1, Authorization: Bearer): {new.api_key}", markup=False)
    console.print(
        "Lưu lại ngay: không hiển thị lại / store it now: not shown again", style="yellow"
    )


@operator_app.command("list")
def operator_list(data_dir: Path | None = DataDir, json_out: bool = JsonOut) -> None:
    """Liệt kê người vận hành / list operators (never their keys)."""
    from lienthong.hub import operators

    with _hub(data_dir, json_out=json_out) as hub:
        rows = [
            {"name": o.name, "created_at": o.created_at.isoformat(timespec="seconds")}
            for o in hub.read(operators.list_operators)
        ]
    if json_out:
        dump(rows)
        return
    table = Table("Người vận hành", "Tạo lúc / created")
    for r in rows:
        table.add_row(r["name"], r["created_at"])
    Console().print(table)


@operator_app.command("remove")
def operator_remove(name: str, data_dir: Path | None = DataDir) -> None:
    """Xóa người vận hành: khóa hết hiệu lực ngay / remove an operator: its key stops
    working at once."""
    from lienthong.hub import operators

    try:
        with _hub(data_dir) as hub, hub.session() as s:
            operators.remove_operator(s, name=name)
    except HubError as exc:
        raise _fail(exc) from None
    err.print(f"Đã xóa / removed: {name}")


def register(app: typer.Typer) -> None:
    app.add_typer(hub_app, name="hub")
    app.add_typer(peer_app, name="peer")
    app.add_typer(deadletter_app, name="deadletter")
    app.add_typer(operator_app, name="operator")
    app.add_typer(agency_app, name="agency")
    app.add_typer(system_app, name="system")
    app.add_typer(audit_app, name="audit")
