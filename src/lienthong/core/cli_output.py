"""What every command prints the same way: JSON on stdout, and a typed error (code, then
the Vietnamese and English messages) on stderr or as ``{"ok": false, "error": …}``."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

#: exit status of a command that could not do its work (unreadable input, bad arguments)
EXIT_UNREADABLE = 2

_err = Console(stderr=True, highlight=False)


def dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: dict[str, Any], as_json: bool, code: int = EXIT_UNREADABLE) -> typer.Exit:
    """Report ``error`` (a problem's ``to_dict()``) and return the exit to raise."""
    if as_json:
        dump({"ok": False, "error": error})
    else:
        _err.print(f"[bold red]Lỗi / Error[/] [{error.get('code', '')}]")
        _err.print(str(error.get("message_vi", "")), markup=False)
        _err.print(str(error.get("message_en", "")), markup=False, style="dim")
    return typer.Exit(code)
