"""Signing credentials, what a certificate says about its holder, trust stores, typed errors.

How a certificate carries identity
----------------------------------

Certificates issued by :class:`lienthong.pki.ca.CertificateAuthority` (and read by the PDF
and package verifiers through :func:`identity_of`) describe their holder like this:

* subject ``CN=<name>``: the person's full name, or the organisation's name;
* subject ``UID=MDDT:<agency code>`` (``NameOID.USER_ID``): the agency identification code
  (mã định danh điện tử, canonical ``NNN.NN.NN.XNN``, e.g. ``MDDT:000.00.00.H41``). This
  follows the ``UID=<kind>:<number>`` habit of Vietnamese CAs (``CMND:…``, ``MST:…``). A
  ``UID`` holding a bare canonical code is read too;
* persons also ``title=<position>`` (``NameOID.TITLE``, e.g. ``Phó Giám đốc``) and
  ``O=<agency name>`` when known; organisations ``O=<their own name>``; always ``C=VN``;
* the role is a certificate policy (``certificatePolicies``): :data:`POLICY_ORG` for an
  organisation's certificate (its "seal"), :data:`POLICY_PERSON` for a person's.

Both policy OIDs sit under :data:`POLICY_ARC`, a ``2.25.<UUID>`` arc (ITU-T X.667: anyone may
mint one without registration). It is a **placeholder** until the OIDs of the government's
specialised CA (Ban Cơ yếu Chính phủ) are known; swap the constants then and keep reading the
old arc for certificates already issued.

Every issued certificate also has KeyUsage digitalSignature + nonRepudiation
(contentCommitment), ExtendedKeyUsage emailProtection, Microsoft document signing
(``1.3.6.1.4.1.311.10.3.12``) and id-kp-documentSigning (``1.3.6.1.5.5.7.3.36``),
AuthorityKeyIdentifier / SubjectKeyIdentifier, BasicConstraints CA=false and a CRL
distribution point.

Errors are :class:`PkiError` with a stable ``code`` (``PKI_*``) and messages in Vietnamese
and English.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from lienthong.pki.verdict import Role

__all__ = [
    "EKU_DOCUMENT_SIGNING",
    "EKU_MS_DOCUMENT_SIGNING",
    "MDDT_PREFIX",
    "POLICY_ARC",
    "POLICY_ORG",
    "POLICY_PERSON",
    "Credentials",
    "Identity",
    "PkiCode",
    "PkiError",
    "PrivateKey",
    "TrustStore",
    "identity_of",
    "is_self_signed",
    "issuer_of",
    "name_text",
    "subject_of",
]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

#: placeholder arc (a UUID OID, X.667) until the government CA's policy OIDs are known
POLICY_ARC = "2.25.41626665627139470364059347533564885091"
#: certificate policy of an organisation's certificate (chữ ký số của cơ quan, tổ chức)
POLICY_ORG = x509.ObjectIdentifier(f"{POLICY_ARC}.1.1")
#: certificate policy of a person's certificate (chữ ký số của người có thẩm quyền)
POLICY_PERSON = x509.ObjectIdentifier(f"{POLICY_ARC}.1.2")
#: prefix of the subject UID that holds the agency code
MDDT_PREFIX = "MDDT:"
#: Microsoft "Document Signing" EKU (Adobe / Office accept it)
EKU_MS_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.4.1.311.10.3.12")
#: id-kp-documentSigning (RFC 9336)
EKU_DOCUMENT_SIGNING = x509.ObjectIdentifier("1.3.6.1.5.5.7.3.36")


# ------------------------------------------------------------------------------ errors


class PkiCode(StrEnum):
    """Stable error codes. Never rename a value: clients match on them."""

    CA_EXISTS = "PKI_CA_EXISTS"
    CA_NOT_FOUND = "PKI_CA_NOT_FOUND"
    CA_CORRUPT = "PKI_CA_CORRUPT"
    CA_PASSWORD_REQUIRED = "PKI_CA_PASSWORD_REQUIRED"
    CA_BAD_PASSWORD = "PKI_CA_BAD_PASSWORD"
    AGENCY_INVALID = "PKI_AGENCY_INVALID"
    NAME_REQUIRED = "PKI_NAME_REQUIRED"
    KEY_TYPE = "PKI_KEY_TYPE"
    VALIDITY = "PKI_VALIDITY"
    UNKNOWN_SERIAL = "PKI_UNKNOWN_SERIAL"
    ALREADY_REVOKED = "PKI_ALREADY_REVOKED"
    BAD_REASON = "PKI_BAD_REASON"
    CANNOT_REVOKE_ROOT = "PKI_CANNOT_REVOKE_ROOT"
    P12_PASSWORD_REQUIRED = "PKI_P12_PASSWORD_REQUIRED"
    P12_BAD_PASSWORD = "PKI_P12_BAD_PASSWORD"
    P12_UNREADABLE = "PKI_P12_UNREADABLE"
    KEY_UNSUPPORTED = "PKI_KEY_UNSUPPORTED"
    FILE_NOT_FOUND = "PKI_FILE_NOT_FOUND"
    OUTPUT_EXISTS = "PKI_OUTPUT_EXISTS"
    TRUST_NOT_FOUND = "PKI_TRUST_NOT_FOUND"
    TRUST_UNREADABLE = "PKI_TRUST_UNREADABLE"
    USAGE = "PKI_USAGE"


MESSAGES: dict[PkiCode, tuple[str, str]] = {
    PkiCode.CA_EXISTS: (
        "Thư mục {path} đã có CA; không ghi đè",
        "{path} already holds a CA; it is not overwritten",
    ),
    PkiCode.CA_NOT_FOUND: (
        "Không tìm thấy CA trong thư mục {path} (chạy 'lienthong pki init' trước)",
        "No CA found in {path} (run 'lienthong pki init' first)",
    ),
    PkiCode.CA_CORRUPT: (
        "Tệp {path} của CA bị hỏng hoặc không đọc được: {detail}",
        "The CA file {path} is damaged or unreadable: {detail}",
    ),
    PkiCode.CA_PASSWORD_REQUIRED: (
        "Khóa của CA được bảo vệ bằng mật khẩu; hãy cung cấp mật khẩu CA "
        "(--ca-password hoặc LIENTHONG_CA_PASSWORD)",
        "The CA keys are password-protected; give the CA password "
        "(--ca-password or LIENTHONG_CA_PASSWORD)",
    ),
    PkiCode.CA_BAD_PASSWORD: ("Sai mật khẩu CA", "Wrong CA password"),
    PkiCode.AGENCY_INVALID: (
        "Mã định danh cơ quan không hợp lệ: {value} (dạng NNN.NN.NN.XNN)",
        "Invalid agency identification code: {value} (form NNN.NN.NN.XNN)",
    ),
    PkiCode.NAME_REQUIRED: ("Thiếu {what}", "{what_en} is required"),
    PkiCode.KEY_TYPE: (
        "Loại khóa không hỗ trợ: {value} (chọn rsa hoặc ec)",
        "Unsupported key type: {value} (choose rsa or ec)",
    ),
    PkiCode.VALIDITY: (
        "Thời hạn không hợp lệ: {detail}",
        "Invalid validity period: {detail}",
    ),
    PkiCode.UNKNOWN_SERIAL: (
        "CA này chưa cấp chứng thư số có số hiệu {serial}",
        "This CA issued no certificate with serial number {serial}",
    ),
    PkiCode.ALREADY_REVOKED: (
        "Chứng thư số {serial} đã bị thu hồi lúc {at}",
        "Certificate {serial} was already revoked at {at}",
    ),
    PkiCode.BAD_REASON: (
        "Lý do thu hồi không hợp lệ: {value} (chọn: {allowed})",
        "Invalid revocation reason: {value} (choose: {allowed})",
    ),
    PkiCode.CANNOT_REVOKE_ROOT: (
        "Không thể thu hồi chứng thư gốc; hãy gỡ nó khỏi kho tin cậy",
        "The root certificate cannot be revoked; remove it from the trust stores instead",
    ),
    PkiCode.P12_PASSWORD_REQUIRED: (
        "Tệp PKCS#12 phải được bảo vệ bằng mật khẩu (không để trống)",
        "A PKCS#12 file must be protected by a password (not empty)",
    ),
    PkiCode.P12_BAD_PASSWORD: (
        "Sai mật khẩu, hoặc tệp không phải PKCS#12 (.p12/.pfx)",
        "Wrong password, or not a PKCS#12 (.p12/.pfx) file",
    ),
    PkiCode.P12_UNREADABLE: (
        "Tệp PKCS#12 không dùng được: {detail}",
        "The PKCS#12 file cannot be used: {detail}",
    ),
    PkiCode.KEY_UNSUPPORTED: (
        "Loại khóa không hỗ trợ: {detail} (chỉ RSA hoặc ECDSA)",
        "Unsupported key type: {detail} (RSA or ECDSA only)",
    ),
    PkiCode.FILE_NOT_FOUND: ("Không tìm thấy tệp {path}", "File not found: {path}"),
    PkiCode.OUTPUT_EXISTS: (
        "Tệp {path} đã tồn tại; không ghi đè",
        "{path} already exists; it is not overwritten",
    ),
    PkiCode.TRUST_NOT_FOUND: (
        "Không tìm thấy kho tin cậy {path}",
        "Trust store not found: {path}",
    ),
    PkiCode.TRUST_UNREADABLE: (
        "Không đọc được {path} trong kho tin cậy: {detail}",
        "Cannot read {path} in the trust store: {detail}",
    ),
    PkiCode.USAGE: ("{detail_vi}", "{detail_en}"),
}


class PkiError(Exception):
    """A typed PKI error: ``code`` (``PKI_*``), ``message_vi``, ``message_en``."""

    def __init__(self, code: PkiCode | str, message_vi: str, message_en: str) -> None:
        super().__init__(f"[{code}] {message_en}")
        self.code = str(code)
        self.message_vi = message_vi
        self.message_en = message_en

    @classmethod
    def of(cls, code: PkiCode, **fields: Any) -> PkiError:
        vi, en = MESSAGES[code]
        return cls(code, vi.format(**fields), en.format(**fields))

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message_vi": self.message_vi, "message_en": self.message_en}


# ------------------------------------------------------------------------------ credentials


def _read_input(data_or_path: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(data_or_path, bytes | bytearray | memoryview):
        return bytes(data_or_path)
    path = Path(data_or_path)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise PkiError.of(PkiCode.FILE_NOT_FOUND, path=str(path)) from None
    except OSError as exc:
        raise PkiError.of(PkiCode.P12_UNREADABLE, detail=f"{path}: {exc.strerror}") from None


def _key_description(key: PrivateKey) -> str:
    if isinstance(key, rsa.RSAPrivateKey):
        return f"RSA-{key.key_size}"
    return f"ECDSA-{key.curve.name}"


def is_self_signed(cert: x509.Certificate) -> bool:
    """True when ``cert`` names itself as issuer and its own key verifies its signature."""
    if issuer_of(cert) != subject_of(cert):
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _order_chain(leaf: x509.Certificate, pool: list[x509.Certificate]) -> list[x509.Certificate]:
    """Intermediates from the leaf's issuer upwards; leftovers appended in their order."""
    remaining = list(pool)
    ordered: list[x509.Certificate] = []
    current = leaf
    while True:
        found = next((c for c in remaining if _issued_by(current, c)), None)
        if found is None:
            break
        ordered.append(found)
        remaining.remove(found)
        current = found
    return ordered + remaining


@dataclass(frozen=True)
class Credentials:
    """A signing key, its certificate and the intermediates up to (not including) the root."""

    private_key: PrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)

    def to_p12(self, password: str, friendly_name: str | None = None) -> bytes:
        """A PKCS#12 file (AES-256-CBC, PBKDF2, HMAC-SHA-256) protected by ``password``.

        ``friendly_name`` defaults to the certificate's common name (UTF-8)."""
        if not password:
            raise PkiError.of(PkiCode.P12_PASSWORD_REQUIRED)
        name = friendly_name if friendly_name is not None else identity_of(self.certificate).name
        encryption = (
            serialization.PrivateFormat.PKCS12.encryption_builder()
            .kdf_rounds(100_000)
            .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
            .hmac_hash(hashes.SHA256())
            .build(password.encode("utf-8"))
        )
        return pkcs12.serialize_key_and_certificates(
            name.encode("utf-8") if name else None,
            self.private_key,
            self.certificate,
            self.chain or None,
            encryption,
        )

    @classmethod
    def from_p12(cls, data_or_path: bytes | str | os.PathLike[str], password: str) -> Credentials:
        """Read a PKCS#12 file (bytes, or a path). A self-signed root inside is dropped
        from :attr:`chain`. Wrong password → :class:`PkiError` ``PKI_P12_BAD_PASSWORD``."""
        data = _read_input(data_or_path)
        try:
            loaded = pkcs12.load_pkcs12(data, password.encode("utf-8") if password else None)
        except ValueError:
            raise PkiError.of(PkiCode.P12_BAD_PASSWORD) from None
        key = loaded.key
        if loaded.cert is None or key is None:
            raise PkiError.of(
                PkiCode.P12_UNREADABLE,
                detail="no private key or certificate / thiếu khóa hoặc chứng thư",
            )
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise PkiError.of(PkiCode.KEY_UNSUPPORTED, detail=type(key).__name__)
        certificate = loaded.cert.certificate
        if certificate.public_key() != key.public_key():
            raise PkiError.of(
                PkiCode.P12_UNREADABLE,
                detail="the key does not match the certificate / khóa không khớp chứng thư",
            )
        extra = [c.certificate for c in loaded.additional_certs]
        extra = [c for c in extra if not is_self_signed(c) and c != certificate]
        return cls(private_key=key, certificate=certificate, chain=_order_chain(certificate, extra))

    @property
    def identity(self) -> Identity:
        return identity_of(self.certificate)

    @property
    def key_type(self) -> str:
        """``rsa`` or ``ec``."""
        return "rsa" if isinstance(self.private_key, rsa.RSAPrivateKey) else "ec"

    def __repr__(self) -> str:
        return (
            f"Credentials(subject={name_text(subject_of(self.certificate))!r}, "
            f"serial={self.certificate.serial_number:X}, "
            f"key={_key_description(self.private_key)}, chain={len(self.chain)})"
        )

    __str__ = __repr__


# ------------------------------------------------------------------------------ identity


@dataclass(frozen=True)
class Identity:
    """What a certificate says about its holder (see the module docstring)."""

    name: str | None  # subject CN
    agency: str | None  # agency code from UID=MDDT:…
    role: Role | None  # from the certificate policies
    position: str | None  # subject title (persons)
    serial: str  # serial number, upper-case hex without separators
    issuer: str  # issuer's CN (its full RFC 4514 name when it has no CN)
    organization: str | None = None  # subject O

    def to_dict(self) -> dict[str, str | None]:
        return {
            "name": self.name,
            "agency": self.agency,
            "role": str(self.role) if self.role else None,
            "position": self.position,
            "organization": self.organization,
            "serial": self.serial,
            "issuer": self.issuer,
        }


@contextlib.contextmanager
def _quiet_names() -> Iterator[None]:
    """cryptography warns when a name attribute exceeds 64 UTF-8 *bytes*; RFC 5280 limits
    characters, and Vietnamese names with diacritics legitimately pass 64 bytes. It warns
    each time it builds an ``x509.Name`` (reading ``subject``/``issuer`` of a certificate
    or CRL, making a ``NameAttribute``), so those reads go through this (or
    :func:`subject_of`/:func:`issuer_of`); other warnings still show."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Attribute's length", category=UserWarning)
        yield


def subject_of(cert: x509.Certificate) -> x509.Name:
    """``cert.subject`` (without cryptography's byte-length warning)."""
    with _quiet_names():
        return cert.subject


def issuer_of(item: x509.Certificate | x509.CertificateRevocationList) -> x509.Name:
    """``item.issuer`` of a certificate or CRL (without the byte-length warning)."""
    with _quiet_names():
        return item.issuer


def name_text(name: x509.Name) -> str:
    """``name`` as an RFC 4514 string (without cryptography's byte-length warning)."""
    with _quiet_names():
        return name.rfc4514_string()


def _attr(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    for attribute in name.get_attributes_for_oid(oid):
        value = attribute.value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return None


def _agency_from_uids(name: x509.Name) -> str | None:
    from lienthong.edxml.agency import is_valid_agency_code

    values = [
        a.value if isinstance(a.value, str) else a.value.decode("utf-8", "replace")
        for a in name.get_attributes_for_oid(NameOID.USER_ID)
    ]
    for value in values:
        if value.upper().startswith(MDDT_PREFIX):
            return value[len(MDDT_PREFIX) :].strip()
    for value in values:
        if is_valid_agency_code(value.strip()):
            return value.strip()
    return None


def _role(cert: x509.Certificate) -> Role | None:
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return None
    oids = {p.policy_identifier for p in policies}
    if POLICY_PERSON in oids:
        return Role.PERSON
    if POLICY_ORG in oids:
        return Role.ORG
    return None


def serial_hex(serial: int) -> str:
    """The display form of a serial number (upper-case hex)."""
    return f"{serial:X}"


def parse_serial(text: str) -> int:
    """Read a serial given as hex (as printed by this package: ``1A2B…``, ``0x1a2b``,
    ``1a:2b``). Raises :class:`PkiError` ``PKI_UNKNOWN_SERIAL`` when unreadable."""
    cleaned = text.strip().replace(":", "").replace(" ", "")
    if cleaned.lower().startswith("0x"):
        cleaned = cleaned[2:]
    try:
        return int(cleaned, 16)
    except ValueError:
        raise PkiError.of(PkiCode.UNKNOWN_SERIAL, serial=text) from None


def identity_of(cert: x509.Certificate) -> Identity:
    """Read the holder's identity from ``cert`` (works on any certificate; fields this
    package's convention does not find are ``None``)."""
    with _quiet_names():
        issuer = _attr(cert.issuer, NameOID.COMMON_NAME) or cert.issuer.rfc4514_string()
        return Identity(
            name=_attr(cert.subject, NameOID.COMMON_NAME),
            agency=_agency_from_uids(cert.subject),
            role=_role(cert),
            position=_attr(cert.subject, NameOID.TITLE),
            serial=serial_hex(cert.serial_number),
            issuer=issuer,
            organization=_attr(cert.subject, NameOID.ORGANIZATION_NAME),
        )


# ------------------------------------------------------------------------------ trust store


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _is_root(cert: x509.Certificate) -> bool:
    return _is_ca(cert) and is_self_signed(cert)


def _load_certs(data: bytes) -> list[x509.Certificate]:
    if b"-----BEGIN" in data:
        return x509.load_pem_x509_certificates(data)
    return [x509.load_der_x509_certificate(data)]


def _load_crls(data: bytes) -> list[x509.CertificateRevocationList]:
    if b"-----BEGIN" not in data:
        return [x509.load_der_x509_crl(data)]
    crls = []
    marker = b"-----BEGIN X509 CRL-----"
    for chunk in data.split(marker)[1:]:
        crls.append(x509.load_pem_x509_crl(marker + chunk))
    return crls


def _crl_number(crl: x509.CertificateRevocationList) -> int:
    try:
        return crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    except x509.ExtensionNotFound:
        return -1


def _crl_key(crl: x509.CertificateRevocationList) -> tuple[bytes, bytes]:
    """Identifies the CRL's issuer: its name and (when present) its AKI key id."""
    key_id = b""
    with contextlib.suppress(x509.ExtensionNotFound):
        aki = crl.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
        key_id = aki.key_identifier or b""
    return issuer_of(crl).public_bytes(), key_id


def _newer(a: x509.CertificateRevocationList, b: x509.CertificateRevocationList) -> bool:
    """True when ``a`` supersedes ``b`` (higher CRL number, else later thisUpdate)."""
    return (_crl_number(a), a.last_update_utc) > (_crl_number(b), b.last_update_utc)


def _atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


CERT_SUFFIXES = (".pem", ".crt", ".cer")
CRL_SUFFIXES = (".crl",)


class TrustStore:
    """Trusted roots (the government CA's and public CAs'), CRLs and optional extra
    intermediates, as the verifiers need them.

    Only :attr:`roots` are trust anchors; :attr:`intermediates` just help build paths.
    Only the newest CRL of each issuer is kept."""

    def __init__(
        self,
        roots: Iterable[x509.Certificate] = (),
        crls: Iterable[x509.CertificateRevocationList] = (),
        intermediates: Iterable[x509.Certificate] = (),
    ) -> None:
        self.roots: list[x509.Certificate] = []
        self.crls: list[x509.CertificateRevocationList] = []
        self.intermediates: list[x509.Certificate] = []
        for cert in roots:
            self._append(self.roots, cert)
        for cert in intermediates:
            self._append(self.intermediates, cert)
        for crl in crls:
            self.add_crl(crl)

    def __repr__(self) -> str:
        return (
            f"TrustStore(roots={len(self.roots)}, intermediates={len(self.intermediates)}, "
            f"crls={len(self.crls)})"
        )

    def _known(self) -> set[str]:
        return {_fingerprint(c) for c in self.roots + self.intermediates}

    def _append(self, target: list[x509.Certificate], cert: x509.Certificate) -> bool:
        if _fingerprint(cert) in self._known():
            return False
        target.append(cert)
        return True

    def add_certificate(self, cert: x509.Certificate) -> str | None:
        """Add one certificate: a self-signed CA becomes a root, anything else an
        intermediate. Returns ``"root"``/``"intermediate"``, or ``None`` if already held."""
        if _is_root(cert):
            return "root" if self._append(self.roots, cert) else None
        return "intermediate" if self._append(self.intermediates, cert) else None

    def add_crl(self, crl: x509.CertificateRevocationList) -> bool:
        """Add a CRL, replacing an older one of the same issuer. False if not newer."""
        key = _crl_key(crl)
        for index, held in enumerate(self.crls):
            if _crl_key(held) == key:
                if _newer(crl, held):
                    self.crls[index] = crl
                    return True
                return False
        self.crls.append(crl)
        return True

    def add_pem(self, path_or_bytes: bytes | str | os.PathLike[str]) -> list[x509.Certificate]:
        """Add the certificates (PEM bundle or one DER certificate) of a file or bytes;
        returns those that were new."""
        data = _read_input(path_or_bytes)
        where = "<bytes>" if isinstance(path_or_bytes, bytes) else str(path_or_bytes)
        try:
            certs = _load_certs(data)
        except ValueError as exc:
            raise PkiError.of(PkiCode.TRUST_UNREADABLE, path=where, detail=str(exc)) from None
        return [c for c in certs if self.add_certificate(c)]

    def crl_for(self, issuer: x509.Certificate) -> x509.CertificateRevocationList | None:
        """The CRL signed by ``issuer``, if held."""
        key = issuer.public_key()
        if not isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey):
            return None
        for crl in self.crls:
            if issuer_of(crl) == subject_of(issuer) and crl.is_signature_valid(key):
                return crl
        return None

    def roots_pem(self) -> bytes:
        """All roots as one PEM bundle (e.g. for signxml's ``ca_pem_file``)."""
        return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in self.roots)

    @classmethod
    def load(cls, directory: str | os.PathLike[str]) -> TrustStore:
        """Every ``*.pem``/``*.crt``/``*.cer`` (PEM or DER; a self-signed CA → root, else
        intermediate) and every ``*.crl`` (DER or PEM) of ``directory``."""
        path = Path(directory)
        if not path.is_dir():
            raise PkiError.of(PkiCode.TRUST_NOT_FOUND, path=str(path))
        store = cls()
        for file in sorted(path.iterdir()):
            suffix = file.suffix.lower()
            if not file.is_file() or file.name.startswith("."):
                continue
            if suffix in CERT_SUFFIXES:
                store.add_pem(file)
            elif suffix in CRL_SUFFIXES:
                try:
                    crls = _load_crls(file.read_bytes())
                except ValueError as exc:
                    raise PkiError.of(
                        PkiCode.TRUST_UNREADABLE, path=str(file), detail=str(exc)
                    ) from None
                for crl in crls:
                    store.add_crl(crl)
        return store

    def save(self, directory: str | os.PathLike[str]) -> None:
        """Write the store to ``directory`` (created if needed) so that :meth:`load` reads
        it back. Certificates already in a file there are not written again; a CRL
        replaces an older CRL file of the same issuer."""
        path = Path(directory)
        path.mkdir(parents=True, exist_ok=True)
        present: set[str] = set()
        crl_files: dict[tuple[bytes, bytes], tuple[Path, x509.CertificateRevocationList]] = {}
        for file in sorted(path.iterdir()):
            if not file.is_file() or file.name.startswith("."):
                continue
            suffix = file.suffix.lower()
            try:
                if suffix in CERT_SUFFIXES:
                    present.update(_fingerprint(c) for c in _load_certs(file.read_bytes()))
                elif suffix in CRL_SUFFIXES:
                    for crl in _load_crls(file.read_bytes()):
                        crl_files[_crl_key(crl)] = (file, crl)
            except ValueError:
                continue
        for kind, certs in (("root", self.roots), ("intermediate", self.intermediates)):
            for cert in certs:
                fp = _fingerprint(cert)
                if fp not in present:
                    pem = cert.public_bytes(serialization.Encoding.PEM)
                    _atomic_write(path / f"{kind}-{fp[:16]}.pem", pem)
                    present.add(fp)
        for crl in self.crls:
            key = _crl_key(crl)
            der = crl.public_bytes(serialization.Encoding.DER)
            if key in crl_files:
                file, held = crl_files[key]
                if _newer(crl, held):
                    _atomic_write(file, der)
            else:
                digest = hashlib.sha256(key[0] + key[1]).hexdigest()[:16]
                _atomic_write(path / f"crl-{digest}.crl", der)


def load_trust(directory: str | os.PathLike[str] | None) -> TrustStore:
    """The trust store of a folder of roots and CRLs; an empty one where there is no folder
    (every verdict then ``unknown``, never a silent pass)."""
    if directory is None or not os.path.isdir(directory):
        return TrustStore(roots=[], crls=[], intermediates=[])
    return TrustStore.load(directory)
