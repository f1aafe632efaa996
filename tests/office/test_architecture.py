"""The office and the shared web part reach hubs only through ``lienthong.client`` (as a
vendor's software would): they never import the hub, the demo, the devnet or the dashboard."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "lienthong"
FORBIDDEN = ("lienthong.hub", "lienthong.demo", "lienthong.devnet", "lienthong.dashboard")


def _imports(path: Path) -> list[str]:
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.extend(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("part", ["office", "web"])
def test_no_import_of_the_hub(part: str) -> None:
    files = sorted((SRC / part).rglob("*.py"))
    assert files
    bad = [
        f"{f.relative_to(SRC)}: {name}"
        for f in files
        for name in _imports(f)
        if name.startswith(FORBIDDEN) or (part == "web" and name.startswith("lienthong.office"))
    ]
    assert bad == []
