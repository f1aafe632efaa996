"""``lienthong pki …``: the certificate authority and trust stores from the command line.

::

    lienthong pki init --dir DIR [--name NAME] [--crl-url URL] [--ca-password PW]
    lienthong pki issue org --dir DIR --agency CODE --name NAME --out FILE.p12 --password PW \\
        [--ca-password CAPW]
    lienthong pki issue person --dir DIR --agency CODE --name NAME --position POS \\
        --out FILE.p12 --password PW [--org AGENCY_NAME] [--ca-password CAPW]
    lienthong pki revoke --dir DIR (FILE.p12 --password PW | --serial HEX) [--reason R] \\
        [--ca-password CAPW] [--trust-dir TRUSTDIR ...]
    lienthong pki list --dir DIR
    lienthong pki crl --dir DIR [--renew]
    lienthong pki trust export --dir DIR --out TRUSTDIR
    lienthong pki trust import TRUSTDIR FILE.pem
    lienthong pki trust show TRUSTDIR
    lienthong pki trust refresh TRUSTDIR (--url CRL_URL ... | --ca DIR)

``--password`` is always a .p12 file's password, ``--ca-password`` always the CA keys'.
Every command takes ``--json``. Passwords can come from the environment so that they need
not appear on command lines: ``LIENTHONG_CA_PASSWORD`` (the CA's keys) and
``LIENTHONG_P12_PASSWORD`` (the PKCS#12 file); ``LIENTHONG_CA_DIR`` gives ``--dir``.
Typed errors exit with status 2 and print their code and a Vietnamese and English message
(with ``--json``: ``{"ok": false, "error": {...}}`` on stdout). Passwords are never printed.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from rich.console import Console
from rich.table import Table

from lienthong.core.cli_output import dump, fail
from lienthong.pki.credentials import (
    Credentials,
    PkiCode,
    PkiError,
    TrustStore,
    identity_of,
    issuer_of,
    name_text,
    parse_serial,
    serial_hex,
    subject_of,
)
from lienthong.pki.crl_refresh import refresh_trust_dir

__all__ = ["pki_app"]

pki_app = typer.Typer(
    help="Chứng thư số: CA, cấp, thu hồi, kho tin cậy / PKI: CA, issuing, revocation, trust",
    no_args_is_help=True,
)
issue_app = typer.Typer(
    help="Cấp chứng thư số / issue a certificate (org | person)", no_args_is_help=True
)
trust_app = typer.Typer(help="Kho tin cậy / trust stores", no_args_is_help=True)
pki_app.add_typer(issue_app, name="issue")
pki_app.add_typer(trust_app, name="trust")

EXIT_ERROR = 2

CaDir = typer.Option(..., "--dir", envvar="LIENTHONG_CA_DIR", help="Thư mục CA / the CA directory")
CaPassword = typer.Option(
    None,
    "--ca-password",
    envvar="LIENTHONG_CA_PASSWORD",
    help="Mật khẩu khóa CA / the CA keys' password (env LIENTHONG_CA_PASSWORD)",
)
JsonOut = typer.Option(False, "--json", help="In JSON / print JSON")

out = Console(highlight=False)
err = Console(stderr=True, highlight=False)


class KeyChoice(StrEnum):
    rsa = "rsa"
    ec = "ec"


# ------------------------------------------------------------------------------ output


def _fail(exc: PkiError, as_json: bool) -> typer.Exit:
    return fail(exc.to_dict(), as_json, EXIT_ERROR)


@contextmanager
def _typed_errors(as_json: bool) -> Iterator[None]:
    try:
        yield
    except PkiError as exc:
        raise _fail(exc, as_json) from None


def _usage(vi: str, en: str) -> PkiError:
    return PkiError.of(PkiCode.USAGE, detail_vi=vi, detail_en=en)


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex(":").upper()


def _cert_json(cert: x509.Certificate) -> dict[str, Any]:
    identity = identity_of(cert)
    return {
        "serial": identity.serial,
        "subject": name_text(subject_of(cert)),
        "name": identity.name,
        "agency": identity.agency,
        "role": str(identity.role) if identity.role else None,
        "position": identity.position,
        "organization": identity.organization,
        "issuer": identity.issuer,
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
        "sha256": _fingerprint(cert),
    }


def _show(rows: list[tuple[str, Any]]) -> None:
    for label, value in rows:
        if value is not None:
            out.print(f"[bold]{label}[/]: ", end="")
            out.print(str(value), markup=False)


def _open_ca(directory: Path, password: str | None) -> Any:
    from lienthong.pki.ca import CertificateAuthority

    return CertificateAuthority.open(directory, password=password or None)


# ------------------------------------------------------------------------------ init


@pki_app.command("init")
def init_command(
    directory: Path = CaDir,
    name: str = typer.Option(
        "lienthong CA (thử nghiệm)", "--name", help="Tên CA gốc / the root CA's name"
    ),
    crl_url: str = typer.Option(
        "http://127.0.0.1:8080/pki",
        "--crl-url",
        help="Địa chỉ gốc phát hành CRL, ghi vào mọi chứng thư / base URL written into every "
        "certificate as where its CRL is (URL/issuing.crl, URL/root.crl): the address of the "
        "hub run with LIENTHONG_CA_DIR=this folder, as every verifier reaches it. The default "
        "only suits a test on one machine; it cannot be changed later.",
    ),
    password: str | None = typer.Option(
        None,
        "--ca-password",
        envvar="LIENTHONG_CA_PASSWORD",
        help="Mật khẩu mã hóa khóa CA / password encrypting the CA keys "
        "(env LIENTHONG_CA_PASSWORD); every later command that signs asks for it",
    ),
    p12_password: str | None = typer.Option(None, "--password", hidden=True),
    json_out: bool = JsonOut,
) -> None:
    """Tạo CA gốc và CA trung gian / create a root and an issuing CA (with their CRLs)."""
    from lienthong.pki.ca import CertificateAuthority

    with _typed_errors(json_out):
        if p12_password is not None:
            raise _usage(
                "Mật khẩu khóa CA là --ca-password (--password là mật khẩu tệp .p12)",
                "The CA keys' password is --ca-password (--password is a .p12 file's password)",
            )
        ca = CertificateAuthority.init(
            directory, name=name, crl_base_url=crl_url, password=password or None
        )
    data: dict[str, Any] = {
        "ok": True,
        "directory": str(directory),
        "encrypted": bool(password),
        "root": _cert_json(ca.root),
        "issuing": _cert_json(ca.issuing),
        "crl_urls": [ca.root_crl_url, ca.issuing_crl_url],
    }
    if json_out:
        dump(data)
        return
    out.print(f"[green]Đã tạo CA / CA created[/] trong / in {directory}")
    _show(
        [
            ("CA gốc / root", name_text(subject_of(ca.root))),
            ("SHA-256", data["root"]["sha256"]),
            ("CA trung gian / issuing CA", name_text(subject_of(ca.issuing))),
            ("CRL", ", ".join(data["crl_urls"])),
        ]
    )
    if not password:
        err.print(
            "[yellow]Cảnh báo / warning[/]: khóa CA không được mã hóa "
            "(--password) / the CA keys are not encrypted"
        )


# ------------------------------------------------------------------------------ issue


def _issue(
    *,
    directory: Path,
    out_file: Path,
    password: str,
    ca_password: str | None,
    force: bool,
    json_out: bool,
    make: Callable[[Any], Credentials],
) -> None:
    with _typed_errors(json_out):
        if not password:
            raise PkiError.of(PkiCode.P12_PASSWORD_REQUIRED)
        if out_file.exists() and not force:
            raise PkiError.of(PkiCode.OUTPUT_EXISTS, path=str(out_file))
        ca = _open_ca(directory, ca_password)
        creds = make(ca)
        data = creds.to_p12(password)
        try:
            out_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(out_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
        except OSError as exc:
            raise _usage(
                f"Không ghi được {out_file}: {exc.strerror}",
                f"Cannot write {out_file}: {exc.strerror}",
            ) from None
    info = _cert_json(creds.certificate)
    if json_out:
        dump({"ok": True, "out": str(out_file), "key_type": creds.key_type, **info})
        return
    out.print(f"[green]Đã cấp chứng thư số / certificate issued[/] → {out_file}")
    _show(
        [
            ("Số hiệu / serial", info["serial"]),
            ("Chủ thể / subject", info["subject"]),
            ("Mã cơ quan / agency", info["agency"]),
            ("Vai trò / role", info["role"]),
            ("Hiệu lực đến / valid until", info["not_after"]),
        ]
    )


P12Out = typer.Option(..., "--out", "-o", help="Tệp PKCS#12 ghi ra / the .p12 file to write")
P12Password = typer.Option(
    ...,
    "--password",
    envvar="LIENTHONG_P12_PASSWORD",
    help="Mật khẩu bảo vệ tệp .p12 / the .p12 password (env LIENTHONG_P12_PASSWORD)",
)
KeyOpt = typer.Option(KeyChoice.rsa, "--key", help="rsa (RSA-2048) | ec (ECDSA P-256)")
DaysOpt = typer.Option(730, "--valid-days", help="Số ngày hiệu lực / days valid")
ForceOpt = typer.Option(False, "--force", help="Ghi đè tệp .p12 / overwrite the .p12 file")
EmailOpt = typer.Option(None, "--email", help="Thư điện tử (SAN) / e-mail (SAN)")


@issue_app.command("org")
def issue_org_command(
    directory: Path = CaDir,
    agency: str = typer.Option(..., "--agency", help="Mã định danh cơ quan / agency code"),
    name: str = typer.Option(..., "--name", help="Tên cơ quan / organisation name"),
    out_file: Path = P12Out,
    password: str = P12Password,
    key: KeyChoice = KeyOpt,
    valid_days: int = DaysOpt,
    email: str | None = EmailOpt,
    ca_password: str | None = CaPassword,
    force: bool = ForceOpt,
    json_out: bool = JsonOut,
) -> None:
    """Cấp chứng thư số cho cơ quan, tổ chức / issue an organisation's certificate."""
    _issue(
        directory=directory,
        out_file=out_file,
        password=password,
        ca_password=ca_password,
        force=force,
        json_out=json_out,
        make=lambda ca: ca.issue_org(
            agency=agency, name=name, key_type=key.value, valid_days=valid_days, email=email
        ),
    )


@issue_app.command("person")
def issue_person_command(
    directory: Path = CaDir,
    agency: str = typer.Option(..., "--agency", help="Mã định danh cơ quan / agency code"),
    name: str = typer.Option(..., "--name", help="Họ và tên / full name"),
    position: str = typer.Option(..., "--position", help="Chức vụ / position"),
    organization: str | None = typer.Option(
        None, "--org", help="Tên cơ quan (O=) / the agency's name"
    ),
    out_file: Path = P12Out,
    password: str = P12Password,
    key: KeyChoice = KeyOpt,
    valid_days: int = DaysOpt,
    email: str | None = EmailOpt,
    ca_password: str | None = CaPassword,
    force: bool = ForceOpt,
    json_out: bool = JsonOut,
) -> None:
    """Cấp chứng thư số cho cá nhân / issue a person's certificate."""
    _issue(
        directory=directory,
        out_file=out_file,
        password=password,
        ca_password=ca_password,
        force=force,
        json_out=json_out,
        make=lambda ca: ca.issue_person(
            agency=agency,
            name=name,
            position=position,
            organization=organization,
            key_type=key.value,
            valid_days=valid_days,
            email=email,
        ),
    )


# ------------------------------------------------------------------------------ revoke


@pki_app.command("revoke")
def revoke_command(
    file: Path | None = typer.Argument(
        None, help="Tệp .p12 của chứng thư cần thu hồi / the certificate's .p12 file"
    ),
    directory: Path = CaDir,
    serial: str | None = typer.Option(
        None, "--serial", help="Số hiệu (hex, như 'pki list') / serial number (hex)"
    ),
    password: str | None = typer.Option(
        None,
        "--password",
        envvar="LIENTHONG_P12_PASSWORD",
        help="Mật khẩu tệp .p12 / the .p12 password",
    ),
    reason: str = typer.Option(
        "unspecified",
        "--reason",
        help="keyCompromise | affiliationChanged | superseded | cessationOfOperation | "
        "privilegeWithdrawn | unspecified",
    ),
    ca_password: str | None = CaPassword,
    trust_dirs: list[Path] = typer.Option(
        [],
        "--trust-dir",
        help="Cập nhật ngay CRL của kho tin cậy này (lặp lại) / bring this trust folder's "
        "CRLs up to date at once (repeatable)",
    ),
    json_out: bool = JsonOut,
) -> None:
    """Thu hồi chứng thư số và phát hành lại CRL / revoke a certificate, re-issue the CRL.

    Trust folders exported earlier keep the old CRL (the certificate still passes there)
    until refreshed: with --trust-dir here, by "pki trust refresh" on each machine, or by
    themselves on a hub run with LIENTHONG_CA_DIR=this CA folder (within a minute)."""
    with _typed_errors(json_out):
        if (file is None) == (serial is None):
            raise _usage(
                "Chỉ rõ tệp .p12 hoặc --serial (một trong hai)",
                "Give either a .p12 file or --serial (exactly one)",
            )
        if file is not None:
            number = Credentials.from_p12(file, password or "").certificate.serial_number
        else:
            number = parse_serial(serial or "")
        ca = _open_ca(directory, ca_password)
        ca.revoke(number, reason=reason)
        crl = ca.root_crl() if number == ca.issuing.serial_number else ca.crl()
        for t in trust_dirs:
            refresh_trust_dir(t, [ca.root_crl(), ca.crl()])
    entry = crl.get_revoked_certificate_by_serial_number(number)
    crl_number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    data = {
        "ok": True,
        "serial": serial_hex(number),
        "reason": _reason_name(reason),
        "revoked_at": entry.revocation_date_utc.isoformat() if entry else None,
        "crl_number": crl_number,
        "next_update": crl.next_update_utc.isoformat() if crl.next_update_utc else None,
        "crl_urls": [ca.issuing_crl_url, ca.root_crl_url],
        "trust_dirs_refreshed": [str(t) for t in trust_dirs],
        "next_steps": _after_revoke(directory, ca.issuing_crl_url, ca.root_crl_url),
    }
    if json_out:
        dump(data)
        return
    out.print(f"[green]Đã thu hồi / revoked[/] {data['serial']} ({data['reason']})")
    out.print(f"CRL số / number {crl_number}, cập nhật tiếp / next update {data['next_update']}")
    for t in data["trust_dirs_refreshed"]:
        out.print(f"[green]Đã cập nhật CRL / CRLs refreshed[/] → {t}")
    err.print("[yellow]Tiếp theo / next[/]:")
    for step in data["next_steps"]:
        err.print(f"  • {step}", markup=False)


def _after_revoke(ca_dir: Path, issuing_url: str, root_url: str) -> list[str]:
    """What the operator must still do for the revocation to reach every verifier."""
    return [
        f"Trục chạy với LIENTHONG_CA_DIR={ca_dir} phát hành CRL mới ngay và tự cập nhật kho tin "
        f"cậy của mình trong vòng 1 phút / a hub run with LIENTHONG_CA_DIR={ca_dir} publishes "
        "the new CRL at once and refreshes its own trust folder within a minute.",
        "Mọi kho tin cậy khác (đã xuất trước đây) vẫn coi chứng thư là hợp lệ cho tới khi cập "
        "nhật / every other trust folder exported earlier still says VALID until refreshed: "
        f"lienthong pki trust refresh TRUSTDIR --url {issuing_url} --url {root_url} "
        f"(or --ca {ca_dir} on this machine); schedule it (docs/operations.md).",
    ]


def _reason_name(reason: str) -> str:
    from lienthong.pki.ca import normalize_reason

    return normalize_reason(reason)


# ------------------------------------------------------------------------------ list, crl


@pki_app.command("list")
def list_command(directory: Path = CaDir, json_out: bool = JsonOut) -> None:
    """Sổ chứng thư số đã cấp / the register of issued certificates."""
    with _typed_errors(json_out):
        ca = _open_ca(directory, None)
    entries = ca.issued()
    if json_out:
        dump({"ok": True, "ca": ca.name, "certificates": entries})
        return
    table = Table(title=f"{ca.name} — {len(entries)} chứng thư / certificates")
    table.add_column("Số hiệu / serial", no_wrap=True)
    for column in ("Vai trò", "Họ tên / tên", "Mã cơ quan", "Hết hạn", ""):
        table.add_column(column)
    for entry in entries:
        table.add_row(
            entry["serial"],
            entry["role"],
            entry["name"],
            entry["agency"],
            entry["not_after"][:10],
            f"thu hồi / revoked ({entry['reason']})" if entry["revoked"] else "",
        )
    out.print(table)


@pki_app.command("crl")
def crl_command(
    directory: Path = CaDir,
    renew: bool = typer.Option(False, "--renew", help="Ký lại CRL / re-sign both CRLs"),
    ca_password: str | None = CaPassword,
    json_out: bool = JsonOut,
) -> None:
    """Xem (hoặc ký lại) CRL / show (or re-sign) the CRLs; they are valid 7 days."""
    with _typed_errors(json_out):
        ca = _open_ca(directory, ca_password)
        if renew:
            ca.renew_crls()
        crls = {"issuing": ca.crl(), "root": ca.root_crl()}
    data: dict[str, Any] = {"ok": True, "renewed": renew}
    for label, crl in crls.items():
        data[label] = {
            "number": crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number,
            "this_update": crl.last_update_utc.isoformat(),
            "next_update": crl.next_update_utc.isoformat() if crl.next_update_utc else None,
            "revoked": [serial_hex(r.serial_number) for r in crl],
            "url": ca.issuing_crl_url if label == "issuing" else ca.root_crl_url,
        }
    if json_out:
        dump(data)
        return
    for label in ("issuing", "root"):
        info = data[label]
        out.print(
            f"[bold]{label}.crl[/] số / number {info['number']}, "
            f"cập nhật tiếp / next update {info['next_update']}, "
            f"{len(info['revoked'])} thu hồi / revoked"
        )


# ------------------------------------------------------------------------------ trust


@trust_app.command("export")
def trust_export_command(
    directory: Path = CaDir,
    out_dir: Path = typer.Option(..., "--out", "-o", help="Thư mục kho tin cậy / trust dir"),
    json_out: bool = JsonOut,
) -> None:
    """Xuất gốc và CRL cho bên kiểm tra / export root.pem, root.crl, issuing.crl."""
    with _typed_errors(json_out):
        ca = _open_ca(directory, None)
        try:
            ca.export_trust(out_dir)
        except OSError as exc:
            raise _usage(
                f"Không ghi được {out_dir}: {exc.strerror}",
                f"Cannot write {out_dir}: {exc.strerror}",
            ) from None
    files = [str(out_dir / name) for name in ("root.pem", "root.crl", "issuing.crl")]
    if json_out:
        dump({"ok": True, "out": str(out_dir), "files": files, "root": _cert_json(ca.root)})
        return
    out.print(f"[green]Đã xuất kho tin cậy / trust exported[/] → {out_dir}")
    for name in files:
        out.print(f"  {name}", markup=False)


def _read_crls(path: Path) -> list[x509.CertificateRevocationList]:
    data = path.read_bytes()
    try:
        if b"-----BEGIN" in data:
            return [x509.load_pem_x509_crl(data)]
        return [x509.load_der_x509_crl(data)]
    except ValueError:
        return []


@trust_app.command("import")
def trust_import_command(
    trust_dir: Path = typer.Argument(..., help="Thư mục kho tin cậy / trust directory"),
    file: Path = typer.Argument(..., help="Tệp PEM/DER (chứng thư gốc hoặc CRL) / the file"),
    json_out: bool = JsonOut,
) -> None:
    """Thêm chứng thư gốc (hoặc CRL) vào kho tin cậy / add a root (or a CRL)."""
    with _typed_errors(json_out):
        if not file.is_file():
            raise PkiError.of(PkiCode.FILE_NOT_FOUND, path=str(file))
        store = TrustStore.load(trust_dir) if trust_dir.exists() else TrustStore()
        crls = _read_crls(file) if file.suffix.lower() == ".crl" else []
        added: list[dict[str, Any]] = []
        if crls:
            for crl in crls:
                if store.add_crl(crl):
                    added.append({"kind": "crl", "issuer": name_text(issuer_of(crl))})
        else:
            for cert in store.add_pem(file):
                kind = "root" if cert in store.roots else "intermediate"
                added.append({"kind": kind, **_cert_json(cert)})
        store.save(trust_dir)
    if json_out:
        dump({"ok": True, "trust_dir": str(trust_dir), "added": added})
        return
    if not added:
        out.print("Không có gì mới / nothing new: đã có trong kho / already in the store")
    for item in added:
        label = {"root": "gốc / root", "intermediate": "trung gian / intermediate"}.get(
            item["kind"], "CRL"
        )
        out.print(f"[green]Đã thêm / added[/] {label}: ", end="")
        out.print(item.get("subject") or item.get("issuer"), markup=False)
    if any(item["kind"] == "intermediate" for item in added):
        err.print(
            "[yellow]Lưu ý / note[/]: chứng thư không tự ký nên không là gốc tin cậy / "
            "not self-signed, so it is not a trust anchor"
        )


@trust_app.command("refresh")
def trust_refresh_command(
    trust_dir: Path = typer.Argument(..., help="Thư mục kho tin cậy / trust directory"),
    urls: list[str] = typer.Option(
        [],
        "--url",
        help="Địa chỉ một CRL (lặp lại) / a CRL's URL, e.g. https://hub/pki/issuing.crl "
        "(repeatable)",
    ),
    ca_dir: Path | None = typer.Option(
        None, "--ca", help="Thư mục CA trên máy này / a CA folder on this machine"
    ),
    json_out: bool = JsonOut,
) -> None:
    """Cập nhật CRL của kho tin cậy / bring a trust folder's CRLs up to date (after a
    revocation; schedule it). Only newer CRLs replace held ones; a hub reloads its trust
    folder within a minute."""
    from lienthong.pki.crl_refresh import crls_from_ca, crls_from_urls

    with _typed_errors(json_out):
        if not urls and ca_dir is None:
            raise _usage(
                "Chỉ rõ --url (CRL của CA) hoặc --ca (thư mục CA)",
                "Give --url (the CA's CRLs) or --ca (the CA folder)",
            )
        crls = (crls_from_ca(ca_dir) if ca_dir else []) + (crls_from_urls(urls) if urls else [])
        updated = refresh_trust_dir(trust_dir, crls)
    if json_out:
        dump({"ok": True, "trust_dir": str(trust_dir), "updated": updated})
        return
    if not updated:
        out.print("Đã mới nhất / already up to date")
    for issuer in updated:
        out.print("[green]Đã cập nhật CRL / CRL updated[/]: ", end="")
        out.print(issuer, markup=False)


@trust_app.command("show")
def trust_show_command(
    trust_dir: Path = typer.Argument(..., help="Thư mục kho tin cậy / trust directory"),
    json_out: bool = JsonOut,
) -> None:
    """Xem kho tin cậy / show a trust store's roots, intermediates and CRLs."""
    with _typed_errors(json_out):
        store = TrustStore.load(trust_dir)
    data: dict[str, Any] = {
        "ok": True,
        "roots": [_cert_json(c) for c in store.roots],
        "intermediates": [_cert_json(c) for c in store.intermediates],
        "crls": [
            {
                "issuer": name_text(issuer_of(crl)),
                "this_update": crl.last_update_utc.isoformat(),
                "next_update": crl.next_update_utc.isoformat() if crl.next_update_utc else None,
                "revoked": len(list(crl)),
            }
            for crl in store.crls
        ],
    }
    if json_out:
        dump(data)
        return
    for label, key in (("Gốc / roots", "roots"), ("Trung gian / intermediates", "intermediates")):
        out.print(f"[bold]{label}[/]: {len(data[key])}")
        for cert in data[key]:
            out.print(f"  {cert['subject']}  {cert['sha256'][:23]}…", markup=False)
    out.print(f"[bold]CRL[/]: {len(data['crls'])}")
    for crl in data["crls"]:
        out.print(f"  {crl['issuer']} → {crl['next_update']}", markup=False)
