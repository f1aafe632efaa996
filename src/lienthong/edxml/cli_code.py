"""``lienthong code``: read an agency identification code."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from lienthong.edxml.agency import agency_code_json
from lienthong.edxml.errors import EdxmlError

_KIND_VI = {"central": "trung ương", "province": "tỉnh, thành phố", "other": "khác"}


def code_command(
    code: str = typer.Argument(..., help="Mã định danh, ví dụ 000.00.01.H53 / agency code"),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Đọc mã định danh cơ quan, tổ chức / Read an agency identification code."""
    try:
        data = agency_code_json(code)
    except EdxmlError as exc:
        if json_out:
            typer.echo(json.dumps({"error": exc.problem.to_dict()}, ensure_ascii=False), err=True)
        else:
            typer.echo(f"Lỗi / Error: {exc.problem}", err=True)
        raise typer.Exit(2) from None
    if json_out:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    groups = data["groups"]
    table = Table(title="Mã định danh cơ quan, tổ chức", show_header=False)
    table.add_column("Trường", style="bold")
    table.add_column("Giá trị")
    table.add_row("Mã đầy đủ", data["canonical"])
    table.add_row("Cấp", str(data["level"]))
    table.add_row("Mã cấp 1", data["level1"])
    table.add_row("Loại (phỏng đoán)", f"{data['letter']} — {_KIND_VI[data['kind']]}")
    for level in (2, 3, 4):
        table.add_row(f"Nhóm cấp {level}", groups[f"level{level}"])
    table.add_row("Đơn vị cấp trên", data["parent"] or "—")
    table.add_row("Các cấp trên", ", ".join(data["ancestors"]) or "—")
    Console(highlight=False).print(table)
    for problem in data["warnings"]:
        message = f"{problem['message_vi']} / {problem['message_en']}"
        typer.echo(f"Cảnh báo / Warning [{problem['code']}]: {message}", err=True)
