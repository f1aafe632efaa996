"""``make demo``: a short showcase of the edXML library on the official sample packages.

Until the exchange hub exists, the demo reads every official sample, shows one document
and one status, builds a new package from a specification and reads it back.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from rich.console import Console

from lienthong.edxml.builder import build
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import validate
from lienthong.edxml.view import from_spec, to_json

SAMPLES = Path(
    os.environ.get(
        "LIENTHONG_SAMPLES",
        Path(__file__).parents[2] / ".." / "shared" / "interop" / "vdxp-samples",
    )
)

SPEC = {
    "kind": "edoc",
    "from": {"organ_id": "000.00.00.H41", "organ_name": "UBND tỉnh Nghệ An"},
    "to": [
        {"organ_id": "000.00.00.G22", "organ_name": "Văn phòng Chính phủ"},
        {"organ_id": "000.00.12.H41", "organ_name": "Sở Thông tin và Truyền thông"},
    ],
    "code": {"number": "123", "notation": "UBND-VX"},
    "promulgation": {"place": "Nghệ An", "date": "2026-11-27"},
    "document_type": {"type": 1, "type_detail": 0, "type_name": "Công văn"},
    "subject": "V/v triển khai kết nối trục liên thông văn bản",
    "priority": 1,
    "attachments": [{"path": "cong-van.pdf", "content_type": "application/pdf"}],
}


def main() -> None:
    console = Console()
    console.rule("[bold]lienthong — thư viện edXML / edXML library demo")
    console.print(f"Gói tin mẫu / sample packages: {SAMPLES.resolve()}\n")
    for path in sorted(SAMPLES.glob("*.edxml")):
        try:
            package = parse(path)
        except EdxmlError as exc:
            console.print(
                f"[red]✗[/] {path.name:40} {exc.problem.code.value}: {exc.problem.message_vi}"
            )
            continue
        errors = [p for p in validate(package) if p.is_error]
        mark = "[green]✓[/]" if not errors else "[yellow]![/]"
        console.print(f"{mark} {path.name:40} {package.kind:6} {len(errors)} lỗi / errors")
        package.close()
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "cong-van.pdf").write_bytes(b"%PDF-1.4\n% lienthong demo\n%%EOF\n")
        package = from_spec(SPEC, tmp)
        data = build(package)
        again = parse(data)
        console.rule("Gói tin mới tạo / a freshly built package")
        console.print_json(json.dumps(to_json(again), ensure_ascii=False))
        again.close()
    sample = SAMPLES / "edoc_update.edxml"
    console.print(f"\nThử / try: [bold].venv/bin/lienthong edxml inspect {sample}[/]")
    console.print("           [bold].venv/bin/lienthong code 000.01.32.H53[/]")


if __name__ == "__main__":
    main()
