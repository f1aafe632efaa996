"""``lienthong edxml …`` and ``lienthong code``: read, check and write edXML packages."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lienthong.core.cli_output import dump, fail
from lienthong.edxml.cli_code import code_command
from lienthong.edxml.errors import Code, EdxmlError, Problem

__all__ = ["code_command", "edxml_app"]

edxml_app = typer.Typer(help="Gói tin edXML (QCVN 102:2016) / edXML packages", no_args_is_help=True)
EXIT_INVALID = 1
EXIT_UNREADABLE = 2


def _fail(exc: EdxmlError, as_json: bool) -> typer.Exit:
    return fail(exc.problem.to_dict(), as_json, EXIT_UNREADABLE)


@edxml_app.command("inspect")
def inspect_command(
    file: Path = typer.Argument(..., help="Tệp .edxml / the .edxml file"),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Xem nội dung gói tin / show what a package holds."""
    from lienthong.edxml.parser import parse
    from lienthong.edxml.view import to_json

    try:
        package = parse(file)
    except EdxmlError as exc:
        raise _fail(exc, json_out) from None
    try:
        data = to_json(package)
    finally:
        package.close()
    if json_out:
        dump(data)
    else:
        _show(data)


@edxml_app.command("validate")
def validate_command(
    file: Path = typer.Argument(..., help="Tệp .edxml / the .edxml file"),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
    registered: list[str] = typer.Option(
        [],
        "--registered",
        help="Mã không chuẩn đã đăng ký (lặp lại), ví dụ vxp.saas.03 / a registered "
        "non-standard identifier (repeatable)",
    ),
    directory: Path | None = typer.Option(
        None,
        "--directory",
        help="Tệp danh bạ xuất bằng 'agency export' (CSV/JSON): mã trong đó coi như đã đăng "
        "ký / a directory export file: its codes count as registered",
    ),
) -> None:
    """Kiểm tra gói tin: 0 hợp lệ, 1 không hợp lệ, 2 không đọc được / exit 0 valid,
    1 invalid, 2 unreadable. Mã ngoài cấu trúc chuẩn (vxp.saas.03) là lỗi, trừ khi được nêu
    bằng --registered hoặc có trong --directory (khi đó là cảnh báo) / identifiers outside
    the standard form are errors unless named by --registered or --directory (then a
    warning)."""
    from lienthong.edxml.parser import parse
    from lienthong.edxml.validate import validate

    known = set(registered)
    if directory is not None:
        try:
            known |= _directory_codes(directory)
        except (OSError, ValueError) as exc:
            raise _fail(
                EdxmlError.of(Code.SPEC_INVALID, detail=f"{directory}: {exc}"), json_out
            ) from None
    try:
        package = parse(file)
    except EdxmlError as exc:
        raise _fail(exc, json_out) from None
    try:
        problems = validate(package, registered=known)
    finally:
        package.close()
    errors = [p for p in problems if p.is_error]
    if json_out:
        dump({"ok": not errors, "kind": package.kind, "problems": [p.to_dict() for p in problems]})
    else:
        _show_problems(problems)
        console = Console()
        if errors:
            console.print(f"[bold red]Không hợp lệ / invalid[/]: {len(errors)} lỗi / error(s)")
        else:
            console.print("[bold green]Hợp lệ / valid[/]")
    if errors:
        raise typer.Exit(EXIT_INVALID)


#: What ``edxml build --example`` prints: a realistic specification to start from (the
#: shape of ``inspect --json``). Its attachment is read from ``cong-van-215.pdf`` beside the
#: specification file.
EXAMPLE_SPEC: dict[str, Any] = {
    "kind": "edoc",
    "from": {
        "organ_id": "000.00.12.H41",
        "organization_in_charge": "UBND tỉnh Nghệ An",
        "organ_name": "Sở Thông tin và Truyền thông tỉnh Nghệ An",
        "organ_add": "Số 16 Trường Thi, Thành phố Vinh, Tỉnh Nghệ An",
        "email": "stttt@nghean.gov.vn",
        "telephone": "0238 3598 555",
    },
    "to": [
        {
            "organ_id": "000.00.00.G22",
            "organization_in_charge": "Chính phủ",
            "organ_name": "Văn phòng Chính phủ",
            "email": "vpcp@chinhphu.vn",
        }
    ],
    "code": {"number": "215", "notation": "STTTT-VP"},
    "promulgation": {"place": "Nghệ An", "date": "2024-03-05"},
    "document_type": {"type": 1, "type_detail": 0, "type_name": "Công văn"},
    "subject": "V/v triển khai kết nối trục liên thông văn bản quốc gia",
    "content": "Đề nghị các đơn vị hoàn thành kết nối trước ngày 31/3/2024.",
    "signer": {
        "competence": "KT. GIÁM ĐỐC",
        "position": "Phó Giám đốc",
        "full_name": "Lê Văn Hùng",
    },
    "priority": 1,
    "other_info": {"promulgation_amount": 3, "page_amount": 2},
    "attachments": [
        {
            "path": "cong-van-215.pdf",
            "name": "Công văn 215-STTTT-VP.pdf",
            "description": "Bản ký số",
            "content_type": "application/pdf",
        }
    ],
}

_BUILD_HELP = """Tạo gói tin từ đặc tả JSON / build a package from a JSON specification.

The specification has the shape of `inspect --json` (start from `--example`). Each
`attachments[].path` is read relative to the specification file's folder. Left out,
`document_id` is derived as `OrganId,yyyy/MM/dd,number/notation` (from `from.organ_id`,
`promulgation.date`, `code`), a first `trace` entry and the business block of a new document
are added; `signature` and `warnings` (from inspect) are ignored. Exit 1 when the package
breaks a rule (every violation listed), 2 when the specification cannot be read."""


@edxml_app.command("build", help=_BUILD_HELP)
def build_command(
    spec: Path | None = typer.Argument(None, help="Đặc tả JSON / JSON specification"),
    out: Path | None = typer.Option(None, "-o", "--output", help="Tệp .edxml ghi ra / output file"),
    example: bool = typer.Option(
        False, "--example", help="In một đặc tả mẫu / print an example specification"
    ),
) -> None:
    from lienthong.edxml.builder import BuildError, write
    from lienthong.edxml.view import from_spec

    if example:
        dump(EXAMPLE_SPEC)
        return
    if spec is None or out is None:
        raise _fail(
            EdxmlError.of(
                Code.SPEC_INVALID,
                detail="give a specification and -o OUTPUT (or --example to print one)",
            ),
            False,
        )
    try:
        data = json.loads(spec.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(EdxmlError.of(Code.SPEC_INVALID, detail=str(exc)), False) from None
    tmp = out.with_name(out.name + ".part")
    try:
        package = from_spec(data, spec.parent)
        with tmp.open("wb") as fh:
            write(package, fh)
        tmp.replace(out)
    except BuildError as exc:
        _show_problems(exc.problems)
        raise typer.Exit(EXIT_INVALID) from None
    except EdxmlError as exc:
        raise _fail(exc, False) from None
    except OSError as exc:
        raise _fail(
            EdxmlError.of(Code.OUTPUT_UNWRITABLE, detail=f"{out}: {exc.strerror}"), False
        ) from None
    finally:
        tmp.unlink(missing_ok=True)
    Console(stderr=True).print(f"Đã ghi / written: {out}")


def _directory_codes(path: Path) -> set[str]:
    """The codes of a directory export (``lienthong agency export``): a JSON list of
    objects or a CSV with a ``code`` column."""
    text = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".json" or text.lstrip().startswith("["):
        rows = json.loads(text)
        if not isinstance(rows, list):
            raise ValueError("the JSON file must be a list of agencies")
    else:
        rows = list(csv.DictReader(io.StringIO(text)))
        if rows and "code" not in rows[0]:
            raise ValueError("the CSV file has no 'code' column")
    return {str(r.get("code") or "").strip() for r in rows if isinstance(r, dict)} - {""}


@edxml_app.command("extract")
def extract_command(
    file: Path = typer.Argument(..., help="Tệp .edxml / the .edxml file"),
    out_dir: Path = typer.Option(
        ..., "-o", "--output-dir", help="Thư mục ghi tệp đính kèm / folder for the attachments"
    ),
    force: bool = typer.Option(False, "--force", help="Ghi đè / overwrite existing files"),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Lấy tệp đính kèm ra khỏi gói tin / write a package's attachments to a folder
    (decoded, unzipped as the hub delivers them; names reduced to a plain file name). Exit
    1 when an attachment could not be decoded (the others are written), 2 when the package
    cannot be read or a file exists (without --force)."""
    from lienthong.edxml.parser import parse

    try:
        package = parse(file)
    except EdxmlError as exc:
        raise _fail(exc, json_out) from None
    written: list[dict[str, Any]] = []
    broken: list[dict[str, Any]] = []
    try:
        attachments = getattr(package, "attachments", [])
        names = _file_names([a.name for a in attachments])
        out_dir.mkdir(parents=True, exist_ok=True)
        for index, (att, name) in enumerate(zip(attachments, names, strict=True), start=1):
            if att.content is None:
                broken.append(
                    {
                        "index": index,
                        "name": att.name,
                        **(att.problem.to_dict() if att.problem else {}),
                    }
                )
                continue
            target = out_dir / name
            if target.exists() and not force:
                raise _fail(
                    EdxmlError.of(Code.OUTPUT_UNWRITABLE, detail=f"{target} exists (use --force)"),
                    json_out,
                )
            try:
                with target.open("wb") as fh:
                    for chunk in att.content.chunks():
                        fh.write(chunk)
            except OSError as exc:
                raise _fail(
                    EdxmlError.of(Code.OUTPUT_UNWRITABLE, detail=f"{target}: {exc.strerror}"),
                    json_out,
                ) from None
            written.append(
                {
                    "index": index,
                    "name": att.name,
                    "path": str(target),
                    "size": att.content.size,
                    "sha256": att.content.sha256,
                }
            )
    finally:
        package.close()
    if json_out:
        dump({"ok": not broken, "written": written, "problems": broken})
    else:
        console = Console(stderr=True, highlight=False)
        for w in written:
            console.print(f"{w['path']} ({w['size']} bytes)", markup=False)
        for b in broken:
            console.print(f"[red]#{b['index']} {b.get('name') or ''}: {b.get('code', '')}[/]")
        console.print(f"Đã ghi / written: {len(written)} tệp / file(s) → {out_dir}")
    if broken:
        raise typer.Exit(EXIT_INVALID)


def _file_names(declared: list[str | None]) -> list[str]:
    """Plain, distinct file names for the attachments: no folder part, no hidden or empty
    name (``../../etc/passwd`` → ``passwd``), a number added to repeats."""
    out: list[str] = []
    seen: set[str] = set()
    for i, raw in enumerate(declared, start=1):
        name = (raw or "").replace("\\", "/").split("/")[-1].strip().lstrip(".")
        name = "".join(c for c in name if c.isprintable()) or f"attachment-{i}"
        stem, dot, ext = name.rpartition(".")
        candidate, n = name, 1
        while candidate.lower() in seen:
            n += 1
            candidate = f"{stem} ({n}).{ext}" if dot and stem else f"{name} ({n})"
        seen.add(candidate.lower())
        out.append(candidate)
    return out


def _show_problems(problems: list[Problem]) -> None:
    if not problems:
        return
    table = Table("Mức / level", "Mã / code", "Trường / field", "Thông báo / message")
    for p in problems:
        style = "red" if p.is_error else "yellow"
        level = "lỗi" if p.is_error else "cảnh báo"
        table.add_row(
            f"[{style}]{level}[/]", p.code.value, p.field, f"{p.message_vi}\n{p.message_en}"
        )
    Console().print(table)


_LABELS = {
    "kind": "Loại gói tin",
    "document_id": "Mã văn bản (DocumentId)",
    "subject": "Trích yếu",
    "content": "Nội dung",
    "priority": "Độ khẩn",
    "due_date": "Hạn xử lý",
    "steering_type": "Loại chỉ đạo",
}


def _org(o: dict[str, Any]) -> str:
    return f"{o.get('organ_id', '')} — {o.get('organ_name', '')}"


def _show(data: dict[str, Any]) -> None:
    from lienthong.edxml.codes import Priority, StatusCode

    console = Console()
    table = Table(show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    kind = "Văn bản (edoc)" if data["kind"] == "edoc" else "Trạng thái (status)"
    table.add_row("Loại gói tin", kind)
    table.add_row("Nơi gửi", _org(data["from"]))
    if data["kind"] == "status":
        st = data["status"]
        code = StatusCode.from_wire(str(st.get("code", "")))
        table.add_row("Trạng thái", f"{st.get('code', '')} {code.vi if code else ''}")
        table.add_row("Mô tả", str(st.get("description", "")))
        table.add_row("Thời điểm", str(st.get("timestamp", "")))
        rf = st.get("response_for", {})
        table.add_row("Về văn bản", f"{rf.get('code', '')} ({rf.get('document_id', '')})")
        table.add_row("Gửi tới", str(rf.get("organ_id", "")))
        console.print(table)
        return
    for i, o in enumerate(data["to"], start=1):
        table.add_row("Nơi nhận" if i == 1 else "", _org(o))
    code = data.get("code", {})
    table.add_row("Số, ký hiệu", f"{code.get('number', '')}/{code.get('notation', '')}")
    prom = data.get("promulgation", {})
    table.add_row("Ban hành", f"{prom.get('place', '')}, {prom.get('date', '')}")
    table.add_row("Loại văn bản", str(data.get("document_type", {}).get("type_name", "")))
    for key in ("document_id", "subject", "due_date"):
        if key in data:
            table.add_row(_LABELS[key], str(data[key]))
    if "priority" in data:
        p = Priority.from_wire(str(data["priority"]))
        table.add_row(_LABELS["priority"], p.vi if p else str(data["priority"]))
    if "business" in data:
        table.add_row(
            "Nghiệp vụ",
            f"{data['business'].get('doc_type', '')} {data['business'].get('reason', '')}",
        )
    console.print(table)
    if data.get("attachments"):
        att = Table("Tệp đính kèm", "Kiểu", "Kích thước (byte)", "SHA-256")
        for a in data["attachments"]:
            size = str(a.get("size", "")) if "problem" not in a else a["problem"]["code"]
            att.add_row(
                a.get("name", ""), a.get("content_type", ""), size, a.get("sha256", "")[:16]
            )
        console.print(att)
