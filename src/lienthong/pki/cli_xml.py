"""``lienthong sign edxml`` and ``lienthong verify edxml``: package signatures (XML-DSig).

::

    lienthong sign edxml IN.edxml --cert FILE.p12 --password PW -o OUT.edxml \\
        [--algorithm rsa-sha256|ecdsa-sha256|…] [--json]
    lienthong verify edxml FILE.edxml --trust DIR [--agency CODE] [--no-sha1] [--json]

``verify edxml`` prints, with ``--json``, the same shape as ``verify pdf``: ``file``,
``verdict``, ``reason`` and ``signatures`` [{``name``, ``agency``, ``role``, ``signed_at``,
``intact``, ``trusted``, ``revoked``, ``reason``, …}] (one entry: the package signature).
Exit 0 only when the verdict is valid, 1 when it is invalid or unknown (also: not signed),
2 when the file is not a readable edXML package or the trust directory cannot be read.
``--password`` may come from ``LIENTHONG_P12_PASSWORD``.

The commands are plain functions; :func:`register` adds them to the ``sign`` and
``verify`` groups (:mod:`lienthong.pki.cli_groups`).
"""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from lienthong.core.cli_output import dump, fail
from lienthong.edxml.errors import EdxmlError
from lienthong.pki.credentials import Credentials, PkiCode, PkiError, TrustStore
from lienthong.pki.verdict import Report, Verdict

__all__ = ["register", "sign_edxml_command", "verify_edxml_command"]

EXIT_INVALID = 1
EXIT_UNREADABLE = 2

_out = Console(highlight=False)


def register(sign_app: typer.Typer, verify_app: typer.Typer) -> None:
    """Add ``edxml`` to the ``sign`` and ``verify`` command groups."""
    sign_app.command("edxml")(sign_edxml_command)
    verify_app.command("edxml")(verify_edxml_command)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError.of(PkiCode.FILE_NOT_FOUND, path=str(path)) from None
    except OSError as exc:
        raise PkiError.of(
            PkiCode.USAGE,
            detail_vi=f"Không đọc được {path}: {exc.strerror}",
            detail_en=f"Cannot read {path}: {exc.strerror}",
        ) from None


# ------------------------------------------------------------------------------ sign


def sign_edxml_command(
    file: Path = typer.Argument(..., help="Gói tin .edxml cần ký / the package to sign"),
    cert: Path = typer.Option(..., "--cert", help="Tệp PKCS#12 (.p12) / the PKCS#12 file"),
    password: str = typer.Option(
        ...,
        "--password",
        envvar="LIENTHONG_P12_PASSWORD",
        help="Mật khẩu tệp .p12 / its password (env LIENTHONG_P12_PASSWORD)",
    ),
    output: Path = typer.Option(..., "-o", "--out", help="Gói tin đã ký / the signed package"),
    algorithm: str | None = typer.Option(
        None,
        "--algorithm",
        help="rsa-sha256 (khóa RSA) | ecdsa-sha256 (khóa EC) | …-sha384 | …-sha512",
    ),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Ký gói tin edXML (XML-DSig, phần tử cuối của edXMLHeader) / sign an edXML package
    (enveloped XML-DSig, last child of edXMLHeader)."""
    from lienthong.pki.xmldsig import sign_package

    try:
        creds = Credentials.from_p12(cert, password)
        data = _read(file)
        signed = sign_package(data, creds, algorithm=algorithm)
        tmp = output.with_name(output.name + ".part")
        try:
            tmp.write_bytes(signed)
            tmp.replace(output)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise PkiError.of(
                PkiCode.USAGE,
                detail_vi=f"Không ghi được {output}: {exc.strerror}",
                detail_en=f"Cannot write {output}: {exc.strerror}",
            ) from None
    except PkiError as exc:
        raise fail(exc.to_dict(), json_out) from None
    except EdxmlError as exc:
        raise fail(exc.problem.to_dict(), json_out) from None

    identity = creds.identity
    result = {
        "ok": True,
        "output": str(output),
        "name": identity.name,
        "agency": identity.agency,
        "role": str(identity.role) if identity.role else None,
        "serial": identity.serial,
        "algorithm": algorithm or ("rsa-sha256" if creds.key_type == "rsa" else "ecdsa-sha256"),
        "bytes": len(signed),
    }
    if json_out:
        dump(result)
    else:
        _out.print(f"[green]Đã ký / signed[/] → {output}")
        _out.print(
            f"{identity.name} ({identity.agency or '?'}, {result['algorithm']})", markup=False
        )


# ------------------------------------------------------------------------------ verify


def verify_edxml_command(
    file: Path = typer.Argument(..., help="Gói tin .edxml / the edXML package"),
    trust: Path = typer.Option(
        ..., "--trust", help="Thư mục kho tin cậy (gốc, CRL) / trust directory (roots, CRLs)"
    ),
    agency: str | None = typer.Option(
        None, "--agency", help="Mã định danh cơ quan gửi / the sending agency's code"
    ),
    sha1: bool = typer.Option(
        True,
        "--sha1/--no-sha1",
        help="Chấp nhận chữ ký cũ RSA-SHA1 / accept legacy RSA-SHA1 blocks",
    ),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Kiểm tra chữ ký số của gói tin: 0 hợp lệ, 1 không hợp lệ/chưa xác định, 2 không đọc
    được / verify a package signature: exit 0 valid, 1 invalid or unknown, 2 unreadable."""
    from lienthong.edxml.parser import parse
    from lienthong.pki.xmldsig import verify_package

    try:
        store = TrustStore.load(trust)
        data = _read(file)
    except PkiError as exc:
        raise fail(exc.to_dict(), json_out) from None
    try:  # "unreadable" means what the edXML library cannot read, as for `edxml validate`
        parse(data).close()
    except EdxmlError as exc:
        raise fail(exc.problem.to_dict(), json_out) from None
    report = verify_package(data, store, expected_agency=agency, allow_sha1=sha1)
    if json_out:
        dump({"file": str(file), **report.to_dict()})
    else:
        _show(report)
    if report.verdict is not Verdict.VALID:
        raise typer.Exit(EXIT_INVALID)


_STYLE = {Verdict.VALID: "green", Verdict.INVALID: "red", Verdict.UNKNOWN: "yellow"}


def _yes(value: bool | None) -> str:
    return "?" if value is None else ("có / yes" if value else "không / no")


def _show(report: Report) -> None:
    verdict = report.verdict
    style = _STYLE[verdict]
    _out.print(
        f"[bold {style}]{verdict.upper()}[/]"
        + (f" [{style}]{report.reason}[/]" if report.reason else "")
    )
    table = Table()
    for column in (
        "Người ký / signer",
        "Cơ quan / agency",
        "Vai trò / role",
        "Thuật toán / algorithm",
        "Toàn vẹn / intact",
        "Tin cậy / trusted",
        "Thu hồi / revoked",
        "Kết luận / verdict",
    ):
        table.add_column(column)
    for sig in report.signatures:
        outcome = str(sig.verdict) + (f" {sig.reason}" if sig.reason else "")
        table.add_row(
            sig.name or "?",
            sig.agency or "?",
            str(sig.role or "?"),
            sig.algorithm or "?",
            _yes(sig.intact),
            _yes(sig.trusted),
            _yes(sig.revoked),
            f"[{_STYLE[sig.verdict]}]{outcome}[/]",
        )
    _out.print(table)
    for sig in report.signatures:
        if sig.message_vi:
            _out.print(f"- {sig.message_vi}\n  {sig.message_en}", markup=False)
