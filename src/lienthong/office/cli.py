"""``lienthong office …``: serve the shared e-office, manage tenants and people, connect it
to the provincial hub. Every command takes ``--data-dir`` (``LIENTHONG_OFFICE_DATA_DIR``)
and optionally ``--database-url`` (``LIENTHONG_OFFICE_DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from lienthong.core.cli_output import dump, fail

if TYPE_CHECKING:
    from lienthong.office.runtime import Office

office_app = typer.Typer(
    help="Hệ thống quản lý văn bản dùng chung của tỉnh / provincial shared e-office",
    no_args_is_help=True,
)
agency_app = typer.Typer(help="Cơ quan (đơn vị sử dụng) / agencies (tenants)", no_args_is_help=True)
user_app = typer.Typer(help="Người dùng / people", no_args_is_help=True)
office_app.add_typer(agency_app, name="agency")
office_app.add_typer(user_app, name="user")

DataDir = typer.Option(
    None, "--data-dir", envvar="LIENTHONG_OFFICE_DATA_DIR", help="thư mục dữ liệu / data folder"
)
DatabaseUrl = typer.Option(
    None, "--database-url", envvar="LIENTHONG_OFFICE_DATABASE_URL", help="SQLAlchemy URL"
)


def _office(data_dir: Path | None, database_url: str | None) -> Office:
    from lienthong.office.runtime import Office
    from lienthong.office.settings import OfficeSettings

    return Office(OfficeSettings.load(data_dir=data_dir, database_url=database_url))


def _run(data_dir: Path | None, database_url: str | None, fn: Any, as_json: bool = False) -> Any:
    from lienthong.office.errors import OfficeError

    office = _office(data_dir, database_url)
    try:
        with office.session() as s:
            return fn(s)
    except OfficeError as exc:
        raise fail(exc.to_dict(), as_json) from None
    finally:
        office.close()


@office_app.command("serve")
def serve(
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
    host: str = typer.Option("127.0.0.1", "--host"),
    port: int = typer.Option(8090, "--port"),
) -> None:
    """Chạy văn phòng điện tử (web) / run the e-office web application."""
    import uvicorn

    from lienthong.office.http.app import create_app

    office = _office(data_dir, database_url)
    typer.echo(f"lienthong office: http://{host}:{port}/")
    try:
        uvicorn.run(create_app(office), host=host, port=port, log_level="info")
    finally:
        office.close()


@agency_app.command("add")
def agency_add(
    code: str,
    name: str,
    parent: str | None = typer.Option(None, "--parent", help="mã cơ quan cấp trên"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Thêm (hoặc sửa) một cơ quan / add or update an agency."""
    from lienthong.office import tenants

    def fn(s: Any) -> dict[str, Any]:
        a = tenants.add_agency(s, code=code, name=name, parent=parent)
        return {"code": a.code, "name": a.name, "parent": a.parent_code}

    dump(_run(data_dir, database_url, fn))


@agency_app.command("import")
def agency_import(
    file: Path,
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Nhập cơ quan từ CSV (code,name,parent) hoặc JSON / import agencies."""
    from lienthong.office import tenants

    def fn(s: Any) -> dict[str, Any]:
        done = tenants.import_agencies(s, path=file)
        return {"imported": len(done), "codes": [a.code for a in done]}

    dump(_run(data_dir, database_url, fn))


@agency_app.command("list")
def agency_list(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Liệt kê cơ quan / list agencies."""
    from lienthong.office import tenants

    def fn(s: Any) -> list[dict[str, Any]]:
        return [
            {"code": a.code, "name": a.name, "parent": a.parent_code}
            for a in tenants.list_agencies(s)
        ]

    dump(_run(data_dir, database_url, fn))


@user_app.command("add")
def user_add(
    username: str,
    agency: str = typer.Option(..., "--agency"),
    role: str = typer.Option(..., "--role", help="clerk | leader | officer | admin"),
    name: str = typer.Option(..., "--name"),
    unit: str | None = typer.Option(None, "--unit"),
    title: str = typer.Option("", "--title"),
    email: str = typer.Option("", "--email"),
    password: str = typer.Option(
        ..., "--password", prompt=True, hide_input=True, confirmation_prompt=True
    ),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Thêm người dùng / add a person."""
    from lienthong.office import tenants

    def fn(s: Any) -> dict[str, Any]:
        u = tenants.add_user(
            s,
            username=username,
            agency=agency,
            role=role,
            full_name=name,
            password=password,
            unit=unit,
            title=title,
            email=email,
        )
        return {"id": u.id, "username": u.username, "agency": u.agency_code, "role": u.role}

    dump(_run(data_dir, database_url, fn))


@office_app.command("connect")
def connect(
    hub: str = typer.Option(..., "--hub", help="URL của trục tỉnh / the provincial hub's URL"),
    api_key: str = typer.Option(..., "--api-key", envvar="LIENTHONG_OFFICE_API_KEY"),
    push_secret: str = typer.Option(
        "",
        "--push-secret",
        envvar="LIENTHONG_OFFICE_PUSH_SECRET",
        help="khóa bí mật của hệ thống để kiểm tra gói đẩy / the system's secret (pushes)",
    ),
    check: bool = typer.Option(True, "--check/--no-check", help="thử gọi trục / try the hub"),
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Kết nối văn phòng với trục tỉnh / connect the office to its provincial hub."""
    from lienthong.client.rest import HubClient, HubClientError
    from lienthong.office import hubsync

    if check:
        try:
            with HubClient(hub, api_key, timeout=10.0) as client:
                client.inbox(limit=1)
        except HubClientError as exc:
            raise fail(
                {"code": exc.code, "message_vi": exc.message_vi, "message_en": exc.message_en},
                False,
            ) from None
    _run(
        data_dir,
        database_url,
        lambda s: hubsync.connect(s, hub_url=hub, api_key=api_key, push_secret=push_secret),
    )
    dump({"hub": hub, "push": bool(push_secret), "callback_path": "/hub/push"})


@office_app.command("poll")
def poll(data_dir: Path | None = DataDir, database_url: str | None = DatabaseUrl) -> None:
    """Lấy văn bản đang chờ trên trục và gửi trạng thái / poll the hub once, send statuses."""
    from lienthong.office import worker

    office = _office(data_dir, database_url)
    try:
        dump(worker.work_once(office))
    finally:
        office.close()


@office_app.command("sample")
def sample(
    data_dir: Path | None = DataDir,
    database_url: str | None = DatabaseUrl,
) -> None:
    """Tạo tỉnh mẫu (cơ quan, người dùng mọi vai trò) / provision the sample province."""
    from lienthong.office import sample as sample_module

    dump({"logins": _run(data_dir, database_url, sample_module.provision)})
