"""The ``lienthong sign …`` and ``lienthong verify …`` command groups.

They live here, apart from their commands, so that each kind of document adds its own
sub-command without importing the others: :mod:`lienthong.pki.cli_pdf` adds ``pdf`` and
the package signatures' module adds ``edxml`` (``@sign_app.command("edxml")``).
:mod:`lienthong.cli` imports every such module and mounts the two apps.
"""

from __future__ import annotations

import typer

__all__ = ["sign_app", "verify_app"]

sign_app = typer.Typer(
    help="Ký số tài liệu / sign documents (pdf, edxml)",
    no_args_is_help=True,
)
verify_app = typer.Typer(
    help="Kiểm tra chữ ký số / verify signatures (pdf, edxml)",
    no_args_is_help=True,
)


@sign_app.callback()
def _sign_group() -> None:
    """Ký số tài liệu / sign documents."""


@verify_app.callback()
def _verify_group() -> None:
    """Kiểm tra chữ ký số: 0 hợp lệ, 1 không hợp lệ hoặc chưa xác định, 2 không đọc được /
    verify signatures: exit 0 valid, 1 invalid or unknown, 2 unreadable."""
