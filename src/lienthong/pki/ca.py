"""A small certificate authority modelled on the government's specialised CA.

Two levels: a self-signed **root** (ECDSA P-384, 20 years) signs one **issuing CA** (P-384,
10 years, pathlen 0), which issues certificates to organisations (their "seal") and to
persons (the competent signer). Identity conventions (subject ``CN``, ``UID=MDDT:<agency>``,
``title``, ``O``; role as a certificate policy) are described in
:mod:`lienthong.pki.credentials`.

Directory layout (everything the CA needs, nothing else)::

    root.pem      root certificate                 root.key     its key (PKCS#8 PEM)
    issuing.pem   issuing CA certificate           issuing.key  its key (PKCS#8 PEM)
    index.json    register of issued certificates, CRL numbers, settings
    issuing.crl   CRL of the issuing CA (DER): revoked persons' and organisations' certs
    root.crl      CRL of the root (DER): covers the issuing CA

Keys are encrypted with the CA password when one is given (``BestAvailableEncryption``),
written with mode 0600. Every issued certificate names ``{crl_base_url}/issuing.crl`` as its
CRL distribution point, the issuing CA names ``{crl_base_url}/root.crl``; the hub serves both
files. CRLs are valid for 7 days (``nextUpdate``), carry an increasing CRL number and the
AuthorityKeyIdentifier; :meth:`CertificateAuthority.renew_crls` re-signs them.

The CA is meant for one operator at a time (no file locking); writes are atomic.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import CertificatePoliciesOID, ExtendedKeyUsageOID, NameOID

from lienthong.pki.credentials import (
    EKU_DOCUMENT_SIGNING,
    EKU_MS_DOCUMENT_SIGNING,
    MDDT_PREFIX,
    POLICY_ORG,
    POLICY_PERSON,
    Credentials,
    PkiCode,
    PkiError,
    PrivateKey,
    TrustStore,
    _atomic_write,
    _quiet_names,
    identity_of,
    name_text,
    serial_hex,
    subject_of,
)
from lienthong.pki.verdict import Role

__all__ = ["REASONS", "CertificateAuthority", "KeyType", "normalize_reason"]

KeyType = Literal["rsa", "ec"]

DEFAULT_NAME = "lienthong CA (thử nghiệm)"
DEFAULT_CRL_BASE_URL = "http://127.0.0.1:8080/pki"
ROOT_VALIDITY = timedelta(days=20 * 365 + 5)
ISSUING_VALIDITY = timedelta(days=10 * 365 + 2)
CRL_VALIDITY = timedelta(days=7)
#: a certificate's notBefore is set this far back by default (clock skew between machines)
BACKDATE = timedelta(minutes=5)
MAX_NAME_CHARS = 64  # ub-common-name, ub-organization-name, ub-title (RFC 5280)
FORMAT = 1

ROOT_CERT, ROOT_KEY, ROOT_CRL = "root.pem", "root.key", "root.crl"
ISSUING_CERT, ISSUING_KEY, ISSUING_CRL = "issuing.pem", "issuing.key", "issuing.crl"
INDEX = "index.json"
CA_FILES = (ROOT_CERT, ROOT_KEY, ISSUING_CERT, ISSUING_KEY, INDEX, ISSUING_CRL, ROOT_CRL)

#: accepted revocation reasons (RFC 5280 CRLReason), by their RFC names
REASONS: dict[str, x509.ReasonFlags] = {
    "unspecified": x509.ReasonFlags.unspecified,
    "keyCompromise": x509.ReasonFlags.key_compromise,
    "cACompromise": x509.ReasonFlags.ca_compromise,
    "affiliationChanged": x509.ReasonFlags.affiliation_changed,
    "superseded": x509.ReasonFlags.superseded,
    "cessationOfOperation": x509.ReasonFlags.cessation_of_operation,
    "privilegeWithdrawn": x509.ReasonFlags.privilege_withdrawn,
}
_REASON_LOOKUP = {name.lower(): name for name in REASONS}


def normalize_reason(reason: str) -> str:
    """``key-compromise``, ``key_compromise``, ``KEYCOMPROMISE`` → ``keyCompromise``."""
    key = reason.replace("-", "").replace("_", "").replace(" ", "").lower()
    if key not in _REASON_LOOKUP:
        raise PkiError.of(PkiCode.BAD_REASON, value=reason, allowed=", ".join(REASONS))
    return _REASON_LOOKUP[key]


# ------------------------------------------------------------------------------ helpers


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC).replace(microsecond=0)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    return _utc(moment).isoformat().replace("+00:00", "Z")


def _text_attr(oid: x509.ObjectIdentifier, value: str) -> x509.NameAttribute[str]:
    """A name attribute; the 64 limit is on characters (RFC 5280), not UTF-8 bytes as
    cryptography counts them, so Vietnamese names with diacritics are not cut short."""
    with _quiet_names():
        return x509.NameAttribute(oid, value, _validate=False)


def _checked(value: str | None, what_vi: str, what_en: str) -> str:
    text = (value or "").strip()
    if not text:
        raise PkiError.of(PkiCode.NAME_REQUIRED, what=what_vi, what_en=what_en)
    if len(text) > MAX_NAME_CHARS:
        raise PkiError.of(
            PkiCode.VALIDITY,
            detail=f"{what_en} longer than {MAX_NAME_CHARS} characters / {what_vi} quá dài",
        )
    return text


def _canonical_agency(agency: str) -> str:
    from lienthong.edxml.agency import parse_agency_code
    from lienthong.edxml.errors import EdxmlError

    try:
        code, _problems = parse_agency_code(agency)
    except EdxmlError:
        raise PkiError.of(PkiCode.AGENCY_INVALID, value=agency) from None
    return code.canonical


def _new_key(key_type: str) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise PkiError.of(PkiCode.KEY_TYPE, value=key_type)


def _hash_for(key: PrivateKey) -> hashes.SHA256 | hashes.SHA384:
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.key_size >= 384:
        return hashes.SHA384()
    return hashes.SHA256()


def _key_pem(key: PrivateKey, password: str | None) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password.encode("utf-8"))
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def _cert_pem(cert: x509.Certificate) -> str:
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _ski(cert: x509.Certificate) -> x509.SubjectKeyIdentifier:
    return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value


def _crl_dp(url: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint(
                full_name=[x509.UniformResourceIdentifier(url)],
                relative_name=None,
                reasons=None,
                crl_issuer=None,
            )
        ]
    )


def _ca_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=False,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=True,
        crl_sign=True,
        encipher_only=False,
        decipher_only=False,
    )


def _signing_key_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=True,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@dataclass
class _Keys:
    root: PrivateKey
    issuing: PrivateKey


# ------------------------------------------------------------------------------ the CA


class CertificateAuthority:
    """Root + issuing CA persisted in one directory. Create with :meth:`init`, reopen with
    :meth:`open`."""

    def __init__(
        self,
        directory: Path,
        root: x509.Certificate,
        issuing: x509.Certificate,
        index: dict[str, Any],
        keys: _Keys | None,
    ) -> None:
        self.directory = directory
        self.root = root
        self.issuing = issuing
        self._index = index
        self._keys = keys

    def __repr__(self) -> str:
        return f"CertificateAuthority({str(self.directory)!r}, name={self.name!r})"

    # -------------------------------------------------------------- creation / opening

    @classmethod
    def init(
        cls,
        directory: str | os.PathLike[str],
        *,
        name: str = DEFAULT_NAME,
        crl_base_url: str = DEFAULT_CRL_BASE_URL,
        password: str | None = None,
        now: datetime | None = None,
    ) -> CertificateAuthority:
        """Create a root and an issuing CA (and their empty CRLs) in ``directory``.

        ``now`` is the CA's clock at creation (the CA certificates' notBefore and the first
        CRLs' thisUpdate); tests date a CA back with it and then call :meth:`renew_crls`.

        Refuses (``PKI_CA_EXISTS``) when the directory already holds any CA file."""
        path = Path(directory)
        if any((path / name_).exists() for name_ in CA_FILES):
            raise PkiError.of(PkiCode.CA_EXISTS, path=str(path))
        ca_name = _checked(name, "tên CA", "CA name")
        base_url = crl_base_url.strip().rstrip("/")
        if not base_url:
            raise PkiError.of(PkiCode.NAME_REQUIRED, what="địa chỉ CRL", what_en="CRL URL")
        moment = _utc(now)

        root_key = ec.generate_private_key(ec.SECP384R1())
        root_name = x509.Name(
            [
                x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                _text_attr(NameOID.COMMON_NAME, ca_name),
            ]
        )
        root_ski = x509.SubjectKeyIdentifier.from_public_key(root_key.public_key())
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(moment)
            .not_valid_after(moment + ROOT_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(root_ski, critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                critical=False,
            )
            .sign(root_key, hashes.SHA384())
        )

        issuing_key = ec.generate_private_key(ec.SECP384R1())
        suffix = " - CA trung gian"
        issuing_cn = ca_name[: MAX_NAME_CHARS - len(suffix)] + suffix
        issuing = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
                        _text_attr(NameOID.COMMON_NAME, issuing_cn),
                    ]
                )
            )
            .issuer_name(subject_of(root))
            .public_key(issuing_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(moment)
            .not_valid_after(moment + ISSUING_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_ca_key_usage(), critical=True)
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(issuing_key.public_key()),
                critical=False,
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(root_ski),
                critical=False,
            )
            .add_extension(_crl_dp(f"{base_url}/{ROOT_CRL}"), critical=False)
            .add_extension(
                x509.CertificatePolicies(
                    [x509.PolicyInformation(CertificatePoliciesOID.ANY_POLICY, None)]
                ),
                critical=False,
            )
            .sign(root_key, hashes.SHA384())
        )

        index: dict[str, Any] = {
            "format": FORMAT,
            "name": ca_name,
            "crl_base_url": base_url,
            "encrypted": bool(password),
            "created_at": _iso(moment),
            "crl_numbers": {"root": 0, "issuing": 0},
            "issuing_ca": {
                "serial": serial_hex(issuing.serial_number),
                "revoked": False,
                "revoked_at": None,
                "reason": None,
            },
            "certificates": [],
        }
        path.mkdir(parents=True, exist_ok=True)
        ca = cls(path, root, issuing, index, _Keys(root_key, issuing_key))
        _atomic_write(path / ROOT_KEY, _key_pem(root_key, password), 0o600)
        _atomic_write(path / ISSUING_KEY, _key_pem(issuing_key, password), 0o600)
        _atomic_write(path / ROOT_CERT, _cert_pem(root).encode("ascii"))
        _atomic_write(path / ISSUING_CERT, _cert_pem(issuing).encode("ascii"))
        ca._write_crls(moment, root=True, issuing=True)
        return ca

    @classmethod
    def open(
        cls, directory: str | os.PathLike[str], password: str | None = None
    ) -> CertificateAuthority:
        """Open an existing CA. Without the password of an encrypted CA the register,
        certificates and CRLs are readable; issuing and revoking then raise
        ``PKI_CA_PASSWORD_REQUIRED``. A wrong password raises ``PKI_CA_BAD_PASSWORD``."""
        path = Path(directory)
        if not (path / ROOT_CERT).is_file() or not (path / INDEX).is_file():
            raise PkiError.of(PkiCode.CA_NOT_FOUND, path=str(path))
        root = cls._read_cert(path / ROOT_CERT)
        issuing = cls._read_cert(path / ISSUING_CERT)
        index = cls._read_index(path / INDEX)
        ca = cls(path, root, issuing, index, None)
        if password or not index.get("encrypted"):
            ca._keys = ca._load_keys(password or None)
        return ca

    @staticmethod
    def _read_cert(path: Path) -> x509.Certificate:
        try:
            return x509.load_pem_x509_certificate(path.read_bytes())
        except FileNotFoundError:
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail="missing") from None
        except (OSError, ValueError) as exc:
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail=str(exc)) from None

    def _load_key(self, file: str, password: str | None, cert: x509.Certificate) -> PrivateKey:
        path = self.directory / file
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail=str(exc)) from None
        encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
        if encrypted and not password:
            raise PkiError.of(PkiCode.CA_PASSWORD_REQUIRED)
        secret = password.encode("utf-8") if encrypted and password else None
        try:
            key = serialization.load_pem_private_key(data, secret)
        except ValueError:
            if encrypted:
                raise PkiError.of(PkiCode.CA_BAD_PASSWORD) from None
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail="bad key") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail="unsupported key")
        if key.public_key() != cert.public_key():
            raise PkiError.of(
                PkiCode.CA_CORRUPT, path=str(path), detail="key does not match certificate"
            )
        return key

    def _load_keys(self, password: str | None) -> _Keys:
        return _Keys(
            root=self._load_key(ROOT_KEY, password, self.root),
            issuing=self._load_key(ISSUING_KEY, password, self.issuing),
        )

    @property
    def keys(self) -> _Keys:
        if self._keys is None:
            raise PkiError.of(PkiCode.CA_PASSWORD_REQUIRED)
        return self._keys

    @property
    def name(self) -> str:
        return str(self._index.get("name", ""))

    @property
    def crl_base_url(self) -> str:
        return str(self._index["crl_base_url"])

    @property
    def issuing_crl_url(self) -> str:
        return f"{self.crl_base_url}/{ISSUING_CRL}"

    @property
    def root_crl_url(self) -> str:
        return f"{self.crl_base_url}/{ROOT_CRL}"

    # -------------------------------------------------------------- issuing

    def issue_org(
        self,
        *,
        agency: str,
        name: str,
        key_type: KeyType = "rsa",
        valid_days: int = 730,
        not_before: datetime | None = None,
        email: str | None = None,
    ) -> Credentials:
        """An organisation's certificate (its digital "seal"), ``O`` = ``CN`` = ``name``."""
        org_name = _checked(name, "tên cơ quan", "organisation name")
        return self._issue(
            role=Role.ORG,
            agency=agency,
            name=org_name,
            position=None,
            organization=org_name,
            key_type=key_type,
            valid_days=valid_days,
            not_before=not_before,
            email=email,
        )

    def issue_person(
        self,
        *,
        agency: str,
        name: str,
        position: str,
        key_type: KeyType = "rsa",
        valid_days: int = 730,
        not_before: datetime | None = None,
        organization: str | None = None,
        email: str | None = None,
    ) -> Credentials:
        """A person's certificate: ``CN`` = full name, ``title`` = position, ``O`` = the
        agency's name when given."""
        return self._issue(
            role=Role.PERSON,
            agency=agency,
            name=_checked(name, "họ tên", "name"),
            position=_checked(position, "chức vụ", "position"),
            organization=_checked(organization, "tên cơ quan", "organisation name")
            if organization
            else None,
            key_type=key_type,
            valid_days=valid_days,
            not_before=not_before,
            email=email,
        )

    def _issue(
        self,
        *,
        role: Role,
        agency: str,
        name: str,
        position: str | None,
        organization: str | None,
        key_type: str,
        valid_days: int,
        not_before: datetime | None,
        email: str | None,
    ) -> Credentials:
        code = _canonical_agency(agency)
        self._reload()
        if key_type not in ("rsa", "ec"):
            raise PkiError.of(PkiCode.KEY_TYPE, value=key_type)
        if valid_days < 1:
            raise PkiError.of(PkiCode.VALIDITY, detail=f"valid_days={valid_days} < 1")
        issuing_key = self.keys.issuing
        start = _utc(not_before) if not_before is not None else _utc(None) - BACKDATE
        end = min(start + timedelta(days=valid_days), self.issuing.not_valid_after_utc)
        if end <= start:
            raise PkiError.of(
                PkiCode.VALIDITY, detail="after the issuing CA expires / sau khi CA hết hạn"
            )
        key = _new_key(key_type)

        attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "VN")]
        if organization:
            attributes.append(_text_attr(NameOID.ORGANIZATION_NAME, organization))
        if position:
            attributes.append(_text_attr(NameOID.TITLE, position))
        attributes.append(_text_attr(NameOID.COMMON_NAME, name))
        attributes.append(x509.NameAttribute(NameOID.USER_ID, f"{MDDT_PREFIX}{code}"))
        policy = POLICY_PERSON if role is Role.PERSON else POLICY_ORG

        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name(attributes))
            .issuer_name(subject_of(self.issuing))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_signing_key_usage(), critical=True)
            .add_extension(
                x509.ExtendedKeyUsage(
                    [
                        ExtendedKeyUsageOID.EMAIL_PROTECTION,
                        EKU_MS_DOCUMENT_SIGNING,
                        EKU_DOCUMENT_SIGNING,
                    ]
                ),
                critical=False,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(self.issuing)),
                critical=False,
            )
            .add_extension(_crl_dp(self.issuing_crl_url), critical=False)
            .add_extension(
                x509.CertificatePolicies([x509.PolicyInformation(policy, None)]), critical=False
            )
        )
        if email:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.RFC822Name(email.strip())]), critical=False
            )
        cert = builder.sign(issuing_key, _hash_for(issuing_key))

        identity = identity_of(cert)
        self._index["certificates"].append(
            {
                "serial": identity.serial,
                "subject": name_text(subject_of(cert)),
                "name": identity.name,
                "agency": identity.agency,
                "role": str(role),
                "position": identity.position,
                "organization": identity.organization,
                "key_type": key_type,
                "not_before": _iso(cert.not_valid_before_utc),
                "not_after": _iso(cert.not_valid_after_utc),
                "issued_at": _iso(_utc(None)),
                "revoked": False,
                "revoked_at": None,
                "reason": None,
                "certificate": _cert_pem(cert),
            }
        )
        self._save_index()
        return Credentials(private_key=key, certificate=cert, chain=[self.issuing])

    # -------------------------------------------------------------- register

    def issued(self) -> list[dict[str, Any]]:
        """The register: one dict per issued certificate (``serial`` hex, ``subject``,
        ``name``, ``agency``, ``role``, ``position``, ``organization``, ``key_type``,
        ``not_before``, ``not_after``, ``issued_at``, ``revoked``, ``revoked_at``,
        ``reason``), oldest first."""
        self._reload()
        return [
            {k: v for k, v in entry.items() if k != "certificate"}
            for entry in self._index["certificates"]
        ]

    def _entry(self, serial: int) -> dict[str, Any] | None:
        wanted = serial_hex(serial)
        entries: list[dict[str, Any]] = self._index["certificates"]
        for entry in entries:
            if entry["serial"] == wanted:
                return entry
        return None

    def certificate(self, serial: int) -> x509.Certificate:
        """An issued certificate by serial number (``PKI_UNKNOWN_SERIAL`` if not ours)."""
        if serial == self.issuing.serial_number:
            return self.issuing
        if serial == self.root.serial_number:
            return self.root
        entry = self._entry(serial)
        if entry is None:
            raise PkiError.of(PkiCode.UNKNOWN_SERIAL, serial=serial_hex(serial))
        return x509.load_pem_x509_certificate(entry["certificate"].encode("ascii"))

    @staticmethod
    def _read_index(path: Path) -> dict[str, Any]:
        try:
            index = json.loads(path.read_text("utf-8"))
            if not isinstance(index, dict) or index.get("format") != FORMAT:
                raise ValueError("unknown register format")
        except (OSError, ValueError) as exc:
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail=str(exc)) from None
        return index

    def _reload(self) -> None:
        """Re-read the register (another process or instance may have changed it)."""
        self._index = self._read_index(self.directory / INDEX)

    def _save_index(self) -> None:
        data = json.dumps(self._index, ensure_ascii=False, indent=2) + "\n"
        _atomic_write(self.directory / INDEX, data.encode("utf-8"))

    # -------------------------------------------------------------- revocation

    def revoke(
        self, serial: int, *, reason: str = "unspecified", at: datetime | None = None
    ) -> None:
        """Revoke an issued certificate (or the issuing CA itself, listed on the root's
        CRL) and re-issue the CRL. ``reason``: one of :data:`REASONS` (``keyCompromise``,
        ``affiliationChanged``, ``superseded``, ``cessationOfOperation``, …; dashes,
        underscores and case are ignored)."""
        reason_name = normalize_reason(reason)
        self._reload()
        if serial == self.root.serial_number:
            raise PkiError.of(PkiCode.CANNOT_REVOKE_ROOT)
        if serial == self.issuing.serial_number:
            entry: dict[str, Any] | None = self._index["issuing_ca"]
        else:
            entry = self._entry(serial)
        if entry is None:
            raise PkiError.of(PkiCode.UNKNOWN_SERIAL, serial=serial_hex(serial))
        if entry["revoked"]:
            raise PkiError.of(
                PkiCode.ALREADY_REVOKED, serial=serial_hex(serial), at=entry["revoked_at"]
            )
        _ = self.keys  # fail before changing anything when the password is missing
        moment = _utc(at)
        entry.update(revoked=True, revoked_at=_iso(moment), reason=reason_name)
        is_issuing = serial == self.issuing.serial_number
        self._write_crls(_utc(None), root=is_issuing, issuing=not is_issuing)

    def renew_crls(self, now: datetime | None = None) -> None:
        """Re-sign both CRLs (new thisUpdate/nextUpdate, next CRL numbers)."""
        self._reload()
        self._write_crls(_utc(now), root=True, issuing=True)

    def _build_crl(
        self,
        issuer: x509.Certificate,
        key: PrivateKey,
        number: int,
        entries: list[dict[str, Any]],
        moment: datetime,
    ) -> x509.CertificateRevocationList:
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(subject_of(issuer))
            .last_update(moment)
            .next_update(moment + CRL_VALIDITY)
            .add_extension(x509.CRLNumber(number), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(_ski(issuer)),
                critical=False,
            )
        )
        for entry in entries:
            if not entry["revoked"]:
                continue
            revoked = (
                x509.RevokedCertificateBuilder()
                .serial_number(int(entry["serial"], 16))
                .revocation_date(datetime.fromisoformat(entry["revoked_at"]))
            )
            flag = REASONS[entry["reason"] or "unspecified"]
            if flag is not x509.ReasonFlags.unspecified:  # RFC 5280: omit for unspecified
                revoked = revoked.add_extension(x509.CRLReason(flag), critical=False)
            builder = builder.add_revoked_certificate(revoked.build())
        return builder.sign(key, _hash_for(key))

    def _write_crls(self, moment: datetime, *, root: bool, issuing: bool) -> None:
        keys = self.keys
        numbers = self._index["crl_numbers"]
        written: list[tuple[str, x509.CertificateRevocationList]] = []
        if issuing:
            numbers["issuing"] += 1
            crl = self._build_crl(
                self.issuing,
                keys.issuing,
                numbers["issuing"],
                self._index["certificates"],
                moment,
            )
            written.append((ISSUING_CRL, crl))
        if root:
            numbers["root"] += 1
            crl = self._build_crl(
                self.root, keys.root, numbers["root"], [self._index["issuing_ca"]], moment
            )
            written.append((ROOT_CRL, crl))
        self._save_index()
        for file, crl in written:
            _atomic_write(self.directory / file, crl.public_bytes(serialization.Encoding.DER))

    def _read_crl(self, file: str) -> x509.CertificateRevocationList:
        path = self.directory / file
        try:
            return x509.load_der_x509_crl(path.read_bytes())
        except (OSError, ValueError) as exc:
            raise PkiError.of(PkiCode.CA_CORRUPT, path=str(path), detail=str(exc)) from None

    def crl(self) -> x509.CertificateRevocationList:
        """The issuing CA's current CRL (covers persons' and organisations' certificates)."""
        return self._read_crl(ISSUING_CRL)

    def root_crl(self) -> x509.CertificateRevocationList:
        """The root's current CRL (covers the issuing CA)."""
        return self._read_crl(ROOT_CRL)

    # -------------------------------------------------------------- trust

    def trust_store(self) -> TrustStore:
        """What a verifier needs: the root as the only anchor, and both CRLs. The issuing
        CA is not included: signatures carry it (a signature without it is "untrusted")."""
        return TrustStore(roots=[self.root], crls=[self.root_crl(), self.crl()])

    def export_trust(self, directory: str | os.PathLike[str]) -> None:
        """Write ``root.pem``, ``root.crl`` and ``issuing.crl`` (DER) into ``directory``
        (created if needed) for ``--trust DIR``. Re-exporting refreshes the CRLs; a
        ``root.pem`` of another CA there is not replaced (``PKI_OUTPUT_EXISTS``): add more
        roots to a trust directory with :meth:`TrustStore.add_pem` / ``pki trust import``."""
        path = Path(directory)
        existing = path / ROOT_CERT
        if existing.is_file():
            try:
                held = x509.load_pem_x509_certificate(existing.read_bytes())
            except ValueError:
                held = None
            if held != self.root:
                raise PkiError.of(PkiCode.OUTPUT_EXISTS, path=str(existing))
        path.mkdir(parents=True, exist_ok=True)
        _atomic_write(path / ROOT_CERT, _cert_pem(self.root).encode("ascii"))
        for file, crl in ((ROOT_CRL, self.root_crl()), (ISSUING_CRL, self.crl())):
            _atomic_write(path / file, crl.public_bytes(serialization.Encoding.DER))
