"""Client commands of the ``lienthong`` command: ``send``, ``inbox``, ``fetch``, ``ack``,
``status``, ``timeline`` — a connected system's work against a hub's REST API v1, through
:class:`lienthong.client.rest.HubClient` like any other program.

Exit status, as ``lienthong edxml validate``: 0 done; 1 the hub refused (the package is
invalid, the key is wrong, …) or every recipient of a package failed; 2 the command could
not run (no hub answering at ``--hub``, an unreadable file, a bad argument). A refusal shows
the hub's code, the field at fault and every problem; ``--json`` prints
``{"ok": false, "error": …}`` instead.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from lienthong.client.rest import HubClient, HubClientError
from lienthong.core.cli_output import EXIT_REFUSED, EXIT_UNREADABLE, dump, fail
from lienthong.edxml.codes import StatusCode, status_code_alias

T = TypeVar("T")

#: What each processing status means (QCVN 102:2016 §1.10), for ``--help`` and the docs.
STATUS_HELP = (
    "01 đã đến / arrived · 02 từ chối tiếp nhận / rejected · 03 đã tiếp nhận, vào sổ / "
    "accepted and registered · 04 phân công xử lý / assigned · 05 đang xử lý / being "
    "processed · 06 hoàn thành / completed · 13 bên gửi yêu cầu lấy lại / the sender asks "
    "for it back · 15 đồng ý cập nhật, lấy lại / update or withdrawal accepted · 16 từ chối "
    "cập nhật, lấy lại / update or withdrawal refused. 3 = 03."
)

HubUrl = typer.Option(
    "http://127.0.0.1:8080",
    "--hub",
    envvar="LIENTHONG_HUB_URL",
    help="Địa chỉ trục / hub URL (or LIENTHONG_HUB_URL)",
)
ApiKey = typer.Option(
    ...,
    "--api-key",
    envvar="LIENTHONG_API_KEY",
    help="Khóa API của hệ thống / the system's API key (or LIENTHONG_API_KEY)",
)
JsonOut = typer.Option(False, "--json", help="In JSON / print JSON")

err = Console(stderr=True, highlight=False)


def _client(hub: str, api_key: str) -> HubClient:
    return HubClient(hub, api_key)


def _client_call(fn: Callable[[], T], json_out: bool = False) -> T:
    """``fn()``; a refusal by the hub exits 1, no answer (or a server error) exits 2."""
    try:
        return fn()
    except HubClientError as exc:
        code = EXIT_REFUSED if exc.refused else EXIT_UNREADABLE
        raise fail(exc.to_dict(), json_out, code) from None


def _local_error(code: str, vi: str, en: str, field: str, json_out: bool) -> typer.Exit:
    return fail(
        {"code": code, "field": field, "message_vi": vi, "message_en": en},
        json_out,
        EXIT_UNREADABLE,
    )


def send(
    file: Path = typer.Argument(..., help="Tệp .edxml / the .edxml package"),
    hub: str = HubUrl,
    api_key: str = ApiKey,
    json_out: bool = JsonOut,
) -> None:
    """Gửi gói tin .edxml / send a package. Exit 1 when the hub refuses it or every
    recipient failed (each recipient's reason is shown)."""
    try:
        package = file.read_bytes()
    except OSError as exc:
        raise _local_error(
            "FILE_UNREADABLE",
            f"Không đọc được {file}: {exc.strerror}",
            f"Cannot read {file}: {exc.strerror}",
            "file",
            json_out,
        ) from None
    c = _client(hub, api_key)
    result = _client_call(lambda: c.send(package), json_out)
    recipients = result.get("recipients", [])
    all_failed = bool(recipients) and all(r["state"] == "failed" for r in recipients)
    if json_out:
        dump({**result, "ok": not all_failed})
    else:
        out = Console(highlight=False)
        head = "FAILED" if all_failed else result["code"]
        out.print(f"{head}: {result['message_id']}", markup=False)
        for r in recipients:
            line = f"  {r['agency']}: {r['state']}"
            if r.get("failure_code"):
                line += f" [{r['failure_code']}] {r.get('failure_reason') or ''}"
            out.print(line.rstrip(), markup=False)
        if all_failed:
            err.print(
                "Không nơi nhận nào nhận được / no recipient can receive this package",
                style="red",
            )
    if all_failed:
        raise typer.Exit(EXIT_REFUSED)


def inbox(
    hub: str = HubUrl,
    api_key: str = ApiKey,
    kind: str | None = typer.Option(None, "--kind", help="edoc | status"),
    json_out: bool = JsonOut,
) -> None:
    """Hộp thư đến / list the inbox."""
    c = _client(hub, api_key)
    items = _client_call(lambda: c.inbox(kind=kind), json_out)
    if json_out:
        dump(items)
        return
    table = Table(
        "Mã gói tin", "Loại", "Nơi gửi", "Nơi nhận", "Số, ký hiệu", "Trích yếu", "Tiếp nhận"
    )
    for i in items:
        table.add_row(
            i["message_id"],
            i["kind"] if i["kind"] == "edoc" else f"status {i.get('status_code') or ''}",
            i["sender"],
            i["recipient"],
            f"{i.get('code_number') or ''}/{i.get('code_notation') or ''}",
            i.get("subject") or "",
            _local(i.get("accepted_at")),
        )
    Console().print(table)


def fetch(
    message_id: str,
    out: Path = typer.Option(..., "-o", "--output"),
    hub: str = HubUrl,
    api_key: str = ApiKey,
) -> None:
    """Tải gói tin / fetch a package to a file ("lienthong edxml extract" takes its
    attachments out)."""
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
    code: str = typer.Argument(..., help=STATUS_HELP),
    agency: str | None = typer.Option(
        None,
        "--agency",
        help="Cơ quan báo; bỏ trống khi hệ thống chỉ phục vụ một bên của văn bản / reporting "
        "agency; may be left out when the system serves one party of the document",
    ),
    description: str = typer.Option("", "--description"),
    recipient: str | None = typer.Option(
        None, "--recipient", help="Trạng thái 13: nơi nhận được yêu cầu / status 13: recipient"
    ),
    hub: str = HubUrl,
    api_key: str = ApiKey,
    json_out: bool = JsonOut,
) -> None:
    """Gửi trạng thái xử lý / send a processing status for a document.

    01 đã đến / arrived · 02 từ chối / rejected · 03 tiếp nhận, vào sổ / registered ·
    04 phân công / assigned · 05 đang xử lý / processing · 06 hoàn thành / completed ·
    13 bên gửi xin lấy lại / sender asks it back · 15 đồng ý / accepted · 16 từ chối /
    refused (an update or withdrawal)."""
    wanted = status_code_alias(code)
    if wanted is None:
        raise _local_error(
            "STATUS_CODE_INVALID",
            f"Mã trạng thái '{code}' không hợp lệ: dùng 01…06, 13, 15 hoặc 16",
            f"Unknown status code '{code}': use 01…06, 13, 15 or 16",
            "code",
            json_out,
        )
    c = _client(hub, api_key)
    result = _client_call(
        lambda: c.status(
            message_id,
            agency=agency,
            status_code=wanted,
            description=description,
            recipient=recipient,
        ),
        json_out,
    )
    if json_out:
        dump(result)
        return
    label = StatusCode(wanted)
    err.print(f"{result['code']}: {result['message_id']} ({wanted} {label.vi} / {label.en})")


#: Vietnam's time (no daylight saving): what people read, as dd/mm/yyyy (DESIGN §6.8).
VIETNAM = timezone(timedelta(hours=7))


def _local(at: str | None) -> str:
    """An ISO time from the hub, shown in Vietnam time as ``dd/mm/yyyy HH:MM:SS``."""
    if not at:
        return ""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")


def _status_label(code: str | None) -> str:
    if not code:
        return ""
    known = StatusCode.from_wire(code)
    return f"{code} {known.vi}" if known else code


def timeline(
    message_id: str, hub: str = HubUrl, api_key: str = ApiKey, json_out: bool = JsonOut
) -> None:
    """Diễn biến theo từng nơi nhận / per-recipient timeline: states with their reasons,
    the statuses received, signature verdicts and the audit events."""
    c = _client(hub, api_key)
    data = _client_call(lambda: c.timeline(message_id), json_out)
    if json_out:
        dump(data)
        return
    _show_timeline(data)


def _show_timeline(data: dict[str, Any]) -> None:
    out = Console(highlight=False)
    m = data.get("message", {})
    code = m.get("code") or {}
    number = f"{code.get('number') or ''}/{code.get('notation') or ''}".strip("/")
    out.print(f"Gói tin / message {m.get('message_id', '')} ({m.get('kind', '')})", markup=False)
    out.print(f"  Nơi gửi / from: {m.get('from', '')}   Số, ký hiệu: {number}", markup=False)
    if m.get("subject"):
        out.print(f"  Trích yếu / subject: {m['subject']}", markup=False)
    out.print(f"  Tiếp nhận / accepted: {_local(m.get('accepted_at'))}", markup=False)
    sig = m.get("signatures") or {}
    if sig.get("package") or sig.get("pdf"):
        out.print(
            f"  Chữ ký / signatures: gói tin / package {sig.get('package') or '-'}, "
            f"PDF {sig.get('pdf') or '-'}",
            markup=False,
        )
    table = Table("Nơi nhận", "Trạng thái", "Nghiệp vụ", "Lỗi / lý do", "Cập nhật (giờ VN)")
    for r in data.get("recipients", []):
        reason = " ".join(x for x in (r.get("failure_code"), r.get("failure_reason")) if x)
        table.add_row(
            r["agency"],
            r["state"],
            _status_label(r.get("business_status")),
            reason,
            _local(r.get("updated_at")),
        )
    out.print(table)
    if data.get("statuses"):
        st = Table("Trạng thái nhận được / statuses", "Từ", "Mô tả", "Lúc")
        for s in data["statuses"]:
            st.add_row(
                _status_label(s.get("status_code")),
                s.get("from") or "",
                s.get("description") or "",
                _local(s.get("at")),
            )
        out.print(st)
    if data.get("events"):
        ev = Table("#", "Sự kiện / event", "Cơ quan", "Hệ thống", "Lúc")
        for e in data["events"]:
            ev.add_row(
                str(e.get("seq", "")),
                e.get("event") or "",
                e.get("agency") or "",
                e.get("system") or "",
                _local(e.get("at")),
            )
        out.print(ev)


def register(app: typer.Typer) -> None:
    for fn in (send, inbox, fetch, ack, status, timeline):
        app.command(fn.__name__)(fn)
