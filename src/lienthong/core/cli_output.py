"""What every command prints the same way: JSON on stdout, and a typed error (code, then
the Vietnamese and English messages) on stderr or as ``{"ok": false, "error": …}``."""

from __future__ import annotations

import json
import sys
from typing import Any

import typer
from rich.console import Console

#: exit status of a command whose input was refused or found invalid (a hub refusing a
#: package, ``edxml validate`` finding errors)
EXIT_REFUSED = 1
#: exit status of a command that could not do its work (unreadable input, bad arguments,
#: no hub answering)
EXIT_UNREADABLE = 2

_err = Console(stderr=True, highlight=False)


def dump(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


def fail(error: dict[str, Any], as_json: bool, code: int = EXIT_UNREADABLE) -> typer.Exit:
    """Report ``error`` (a problem's or a hub error's ``to_dict()``: code, field, messages,
    ``details.problems``) and return the exit to raise. Every problem is shown, each with
    its field."""
    if as_json:
        dump({"ok": False, "error": error})
        return typer.Exit(code)
    field = error.get("field")
    where = f" — {field}" if field else ""
    _err.print(f"[bold red]Lỗi / Error[/] [{error.get('code', '')}]{where}", highlight=False)
    _err.print(str(error.get("message_vi", "")), markup=False)
    _err.print(str(error.get("message_en", "")), markup=False, style="dim")
    details = error.get("details") or {}
    problems = details.get("problems") if isinstance(details, dict) else None
    if isinstance(problems, list) and len(problems) > 1:
        _err.print(f"{len(problems)} lỗi / problems:", markup=False)
        for p in problems:
            at = f" {p.get('field')}" if p.get("field") else ""
            _err.print(
                f"  • [{p.get('code', '')}]{at}: {p.get('message_vi', '')} / "
                f"{p.get('message_en', '')}",
                markup=False,
            )
    return typer.Exit(code)
