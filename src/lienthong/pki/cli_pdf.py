"""``lienthong sign pdf`` and ``lienthong verify pdf``.

::

    lienthong sign pdf IN.pdf --cert FILE.p12 --password PW --role person|org \\
        [--image PNG] [--number-notation X] [--box X1,Y1,X2,Y2] -o OUT.pdf [--json]
    lienthong verify pdf FILE.pdf --trust DIR [--agency CODE] [--json]

``sign pdf --role person`` adds the signer's signature with the signer's image (blue PNG)
in the signature block; ``--role org`` the organisation's seal over the left third of the
person's image; ``--role org --number-notation X`` the organisation's signature of an
attachment in a separate file (no image; number/notation and time, top right of page 1).
Without ``--image`` a demo image is drawn from the certificate's name (a note says so).
``--password`` may come from ``LIENTHONG_P12_PASSWORD``.

``verify pdf`` exits 0 only when every signature is valid, 1 when the verdict is invalid or
unknown (also: no signature), 2 when the file, or the trust directory, cannot be read.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from lienthong.core.cli_output import dump, fail
from lienthong.pki.cli_groups import sign_app, verify_app
from lienthong.pki.credentials import Credentials, PkiCode, PkiError, TrustStore
from lienthong.pki.verdict import Report, Verdict

__all__ = ["sign_app", "sign_pdf_command", "verify_app", "verify_pdf_command"]

EXIT_INVALID = 1
EXIT_UNREADABLE = 2

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class RoleChoice(StrEnum):
    person = "person"
    org = "org"


def _fail(exc: PkiError, as_json: bool) -> typer.Exit:
    return fail(exc.to_dict(), as_json, EXIT_UNREADABLE)


def _usage(vi: str, en: str) -> PkiError:
    return PkiError.of(PkiCode.USAGE, detail_vi=vi, detail_en=en)


def _read(path: Path, what_vi: str, what_en: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError.of(PkiCode.FILE_NOT_FOUND, path=str(path)) from None
    except OSError as exc:
        raise _usage(
            f"Không đọc được {what_vi} {path}: {exc.strerror}",
            f"Cannot read the {what_en} {path}: {exc.strerror}",
        ) from None


def _box(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    from lienthong.pki.pdf import MM

    try:
        x1, y1, x2, y2 = (float(v) * MM for v in text.split(","))
    except ValueError:
        raise _usage(
            f"--box phải có dạng X1,Y1,X2,Y2 (mm, gốc ở góc dưới trái): {text}",
            f"--box must be X1,Y1,X2,Y2 (mm, origin at the bottom left): {text}",
        ) from None
    if x2 <= x1 or y2 <= y1:
        raise _usage(f"--box rỗng: {text}", f"--box is empty: {text}")
    return (x1, y1, x2, y2)


# ------------------------------------------------------------------------------ sign


@sign_app.command("pdf")
def sign_pdf_command(
    file: Path = typer.Argument(..., help="Tệp PDF cần ký / the PDF to sign"),
    cert: Path = typer.Option(..., "--cert", help="Tệp PKCS#12 (.p12) / the PKCS#12 file"),
    password: str = typer.Option(
        ...,
        "--password",
        envvar="LIENTHONG_P12_PASSWORD",
        help="Mật khẩu tệp .p12 / its password (env LIENTHONG_P12_PASSWORD)",
    ),
    role: RoleChoice = typer.Option(
        ..., "--role", help="person: người ký; org: cơ quan (dấu) / signer or organisation"
    ),
    output: Path = typer.Option(..., "-o", "--out", help="Tệp PDF đã ký / the signed PDF"),
    image: Path | None = typer.Option(
        None,
        "--image",
        help="Ảnh chữ ký (xanh) hoặc con dấu (đỏ), PNG nền trong suốt / signature or seal PNG",
    ),
    number_notation: str | None = typer.Option(
        None,
        "--number-notation",
        help="Số, ký hiệu văn bản (ký tệp đính kèm, --role org) / number and notation "
        "(attachment in a separate file, --role org)",
    ),
    box: str | None = typer.Option(
        None,
        "--box",
        help="Vùng ảnh chữ ký X1,Y1,X2,Y2 mm (gốc dưới trái) / image box in mm",
    ),
    page: int | None = typer.Option(
        None, "--page", help="Trang (0 = đầu, -1 = cuối) / page index (-1 = last)"
    ),
    reason: str | None = typer.Option(None, "--reason", help="Lý do ký / reason"),
    location: str | None = typer.Option(None, "--location", help="Nơi ký / location"),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Ký số PDF (PAdES) theo Nghị định 30/2020 / sign a PDF (PAdES) as Decree 30 lays out."""
    from lienthong.pki import pdf as pdf_sign

    try:
        if number_notation is not None and role is not RoleChoice.org:
            raise _usage(
                "--number-notation chỉ dùng với --role org (tệp đính kèm)",
                "--number-notation goes with --role org (an attachment)",
            )
        if number_notation is not None and image is not None:
            raise _usage(
                "Chữ ký số trên tệp đính kèm không có hình ảnh: bỏ --image",
                "The attachment signature has no image: drop --image",
            )
        creds = Credentials.from_p12(cert, password)
        data = _read(file, "tệp PDF", "PDF file")
        picture = _read(image, "ảnh", "image") if image is not None else None
        rect = _box(box)
        extra: dict[str, Any] = {"location": location}
        if reason is not None:
            extra["reason"] = reason
        if picture is None and number_notation is None:
            err.print(
                "Chú ý: không có --image, dùng ảnh mẫu / note: no --image, using a demo image",
                style="yellow",
            )
        try:
            if role is RoleChoice.person:
                signed = pdf_sign.sign_person(
                    data,
                    creds,
                    image=picture,
                    box=rect or pdf_sign.PERSON_BOX,
                    page=-1 if page is None else page,
                    **extra,
                )
            elif number_notation is not None:
                signed = pdf_sign.sign_attachment_org(
                    data, creds, number_notation=number_notation, **extra
                )
            else:
                signed = pdf_sign.sign_org(data, creds, seal=picture, box=rect, page=page, **extra)
        except ValueError as exc:
            raise _usage(f"Không ký được: {exc}", f"Cannot sign: {exc}") from None
        except Exception as exc:  # pyHanko on a damaged or encrypted PDF
            raise _usage(
                f"Không đọc/ký được tệp PDF {file}: {exc}",
                f"Cannot read or sign the PDF {file}: {exc}",
            ) from None
        try:
            output.write_bytes(signed)
        except OSError as exc:
            raise _usage(
                f"Không ghi được {output}: {exc.strerror}",
                f"Cannot write {output}: {exc.strerror}",
            ) from None
    except PkiError as exc:
        raise _fail(exc, json_out) from None

    identity = creds.identity
    result = {
        "ok": True,
        "output": str(output),
        "role": str(role),
        "attachment": number_notation is not None,
        "name": identity.name,
        "agency": identity.agency,
        "serial": identity.serial,
        "bytes": len(signed),
    }
    if json_out:
        dump(result)
    else:
        out.print(f"[green]Đã ký / signed[/] → {output}")
        out.print(f"{identity.name} ({identity.agency or '?'}, {role})", markup=False)


# ------------------------------------------------------------------------------ verify


@verify_app.command("pdf")
def verify_pdf_command(
    file: Path = typer.Argument(..., help="Tệp PDF đã ký / the signed PDF"),
    trust: Path = typer.Option(
        ..., "--trust", help="Thư mục kho tin cậy (gốc, CRL) / trust directory (roots, CRLs)"
    ),
    agency: str | None = typer.Option(
        None, "--agency", help="Mã định danh cơ quan gửi / the sending agency's code"
    ),
    json_out: bool = typer.Option(False, "--json", help="In JSON / print JSON"),
) -> None:
    """Kiểm tra chữ ký số trên PDF: 0 hợp lệ, 1 không hợp lệ/chưa xác định, 2 không đọc
    được / verify a PDF's signatures: exit 0 valid, 1 invalid or unknown, 2 unreadable."""
    from lienthong.pki.pdf import is_unreadable, verify_pdf

    try:
        store = TrustStore.load(trust)
        data = _read(file, "tệp PDF", "PDF file")
    except PkiError as exc:
        raise _fail(exc, json_out) from None
    report = verify_pdf(data, store, expected_agency=agency)
    unreadable = is_unreadable(report)
    if json_out:
        dump({"file": str(file), **report.to_dict()})
    else:
        _show(report)
    if unreadable:
        raise typer.Exit(EXIT_UNREADABLE)
    if report.verdict is not Verdict.VALID:
        raise typer.Exit(EXIT_INVALID)


_VERDICT_STYLE = {Verdict.VALID: "green", Verdict.INVALID: "red", Verdict.UNKNOWN: "yellow"}


def _yes(value: bool | None) -> str:
    return "?" if value is None else ("có / yes" if value else "không / no")


def _show(report: Report) -> None:
    verdict = report.verdict
    style = _VERDICT_STYLE[verdict]
    out.print(f"[bold {style}]{verdict.upper()}[/]", end="")
    if report.reason:
        out.print(f" [{style}]{report.reason}[/]")
    else:
        out.print()
    if not report.signatures:
        out.print("Không có chữ ký số / no digital signature")
        return
    table = Table(show_lines=False)
    for column in (
        "#",
        "Vai trò / role",
        "Người ký / signer",
        "Cơ quan / agency",
        "Thời điểm ký / signed at",
        "Toàn vẹn / intact",
        "Tin cậy / trusted",
        "Thu hồi / revoked",
        "Kết luận / verdict",
    ):
        table.add_column(column)
    for i, sig in enumerate(report.signatures, 1):
        outcome = str(sig.verdict) + (f" {sig.reason}" if sig.reason else "")
        table.add_row(
            str(i),
            str(sig.role or "?"),
            sig.name or "?",
            sig.agency or "?",
            sig.signed_at or "?",
            _yes(sig.intact),
            _yes(sig.trusted),
            _yes(sig.revoked),
            f"[{_VERDICT_STYLE[sig.verdict]}]{outcome}[/]",
        )
    out.print(table)
    for sig in report.signatures:
        if sig.message_vi:
            out.print(f"- {sig.message_vi} / {sig.message_en}", markup=False)
