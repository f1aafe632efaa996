"""Client commands of the ``lienthong`` command: ``send``, ``inbox``, ``fetch``, ``ack``,
``status``, ``timeline`` — a connected system's work against a hub's REST API v1, through
:class:`lienthong.client.rest.HubClient` like any other program."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lienthong.client.rest import HubClient, HubClientError
from lienthong.core.cli_output import dump, fail

T = TypeVar("T")

HubUrl = typer.Option(
    "http://127.0.0.1:8080", "--hub", envvar="LIENTHONG_HUB_URL", help="Địa chỉ trục / hub URL"
)
ApiKey = typer.Option(
    ...,
    "--api-key",
    envvar="LIENTHONG_API_KEY",
    help="Khóa API của hệ thống / the system's API key",
)
JsonOut = typer.Option(False, "--json", help="In JSON / print JSON")

err = Console(stderr=True)


def _client(hub: str, api_key: str) -> HubClient:
    return HubClient(hub, api_key)


def _client_call(fn: Callable[[], T]) -> T:
    try:
        return fn()
    except HubClientError as exc:
        raise fail(
            {"code": exc.code, "message_vi": exc.message_vi, "message_en": exc.message_en}, False
        ) from None


def send(file: Path, hub: str = HubUrl, api_key: str = ApiKey, json_out: bool = JsonOut) -> None:
    """Gửi gói tin .edxml / send a package."""
    c = _client(hub, api_key)
    result = _client_call(lambda: c.send(file.read_bytes()))
    if json_out:
        dump(result)
        return
    Console().print(f"{result['code']}: {result['message_id']}")
    for r in result["recipients"]:
        Console().print(f"  {r['agency']}: {r['state']} {r.get('failure_code') or ''}")


def inbox(
    hub: str = HubUrl,
    api_key: str = ApiKey,
    kind: str | None = typer.Option(None, "--kind", help="edoc | status"),
    json_out: bool = JsonOut,
) -> None:
    """Hộp thư đến / list the inbox."""
    c = _client(hub, api_key)
    items = _client_call(lambda: c.inbox(kind=kind))
    if json_out:
        dump(items)
        return
    table = Table("Mã gói tin", "Loại", "Nơi gửi", "Nơi nhận", "Số, ký hiệu", "Trích yếu")
    for i in items:
        table.add_row(
            i["message_id"],
            i["kind"],
            i["sender"],
            i["recipient"],
            f"{i.get('code_number') or ''}/{i.get('code_notation') or ''}",
            i.get("subject") or "",
        )
    Console().print(table)


def fetch(
    message_id: str,
    out: Path = typer.Option(..., "-o", "--output"),
    hub: str = HubUrl,
    api_key: str = ApiKey,
) -> None:
    """Tải gói tin / fetch a package to a file."""
    c = _client(hub, api_key)
    data = _client_call(lambda: c.fetch(message_id))
    out.write_bytes(data)
    err.print(f"Đã lưu / saved {len(data)} bytes → {out}")


def ack(
    message_id: str,
    hub: str = HubUrl,
    api_key: str = ApiKey,
    fail: bool = typer.Option(False, "--fail", help="báo lỗi / report failure"),
) -> None:
    """Xác nhận đã nhận / acknowledge receipt (transport)."""
    c = _client(hub, api_key)
    _client_call(lambda: c.ack(message_id, ok=not fail))
    err.print("Đã xác nhận / acknowledged")


def status(
    message_id: str,
    code: str = typer.Argument(..., help="01…06, 13, 15, 16"),
    agency: str = typer.Option(..., "--agency", help="cơ quan báo / reporting agency"),
    description: str = typer.Option("", "--description"),
    hub: str = HubUrl,
    api_key: str = ApiKey,
) -> None:
    """Gửi trạng thái xử lý / send a processing status for a document."""
    c = _client(hub, api_key)
    result = _client_call(
        lambda: c.status(message_id, agency=agency, status_code=code, description=description)
    )
    err.print(f"{result['code']}: {result['message_id']}")


def timeline(
    message_id: str, hub: str = HubUrl, api_key: str = ApiKey, json_out: bool = JsonOut
) -> None:
    """Diễn biến theo từng nơi nhận / per-recipient timeline."""
    c = _client(hub, api_key)
    data = _client_call(lambda: c.timeline(message_id))
    if json_out:
        dump(data)
        return
    table = Table("Nơi nhận", "Trạng thái", "Nghiệp vụ", "Lỗi")
    for r in data["recipients"]:
        table.add_row(
            r["agency"], r["state"], r.get("business_status") or "", r.get("failure_code") or ""
        )
    Console().print(table)


def register(app: typer.Typer) -> None:
    for fn in (send, inbox, fetch, ack, status, timeline):
        app.command(fn.__name__)(fn)
