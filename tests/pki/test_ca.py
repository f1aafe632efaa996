"""The certificate authority, credentials, trust stores and ``lienthong pki …``."""

from __future__ import annotations

import asyncio
import json
import stat
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator.errors import (
    ExpiredError,
    PathBuildingError,
    PathValidationError,
    RevokedError,
)
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.pki.ca import CertificateAuthority
from lienthong.pki.credentials import (
    EKU_DOCUMENT_SIGNING,
    EKU_MS_DOCUMENT_SIGNING,
    POLICY_ORG,
    POLICY_PERSON,
    Credentials,
    Identity,
    PkiError,
    TrustStore,
    _quiet_names,
    identity_of,
    is_self_signed,
    issuer_of,
    name_text,
    subject_of,
)
from lienthong.pki.revocation import check_certificate, revocation_entry
from lienthong.pki.verdict import Reason, Role
from pki_factory import AGENCY, AGENCY_NAME, P12_PASSWORD, PERSON_NAME, PkiWorld, without_chain

LONG_NAME = "Sở Thông tin và Truyền thông tỉnh Bà Rịa - Vũng Tàu"  # 51 chars, 65 UTF-8 bytes
#: 61 characters, 80 UTF-8 bytes: cryptography warns about every name read with it
LONG_CA_NAME = "Cơ quan chứng thực số thử nghiệm Ủy ban nhân dân tỉnh Nghệ An"


def ext(cert: x509.Certificate, kind: type[Any]) -> Any:
    return cert.extensions.get_extension_for_class(kind)


def crl_number(crl: x509.CertificateRevocationList) -> int:
    number: int = ext(crl, x509.CRLNumber).value.crl_number  # type: ignore[arg-type]
    return number


def raises_code(code: str) -> Any:
    return pytest.raises(PkiError, match=rf"\[{code}\]")


# ------------------------------------------------------------------------------ init / open


def test_init_writes_the_layout_and_opens_again(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    files = {p.name for p in (tmp_path / "ca").iterdir()}
    assert files == {
        "root.pem",
        "root.key",
        "issuing.pem",
        "issuing.key",
        "index.json",
        "issuing.crl",
        "root.crl",
    }
    for key in ("root.key", "issuing.key"):
        path = tmp_path / "ca" / key
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert b"BEGIN PRIVATE KEY" in path.read_bytes()  # PKCS#8, unencrypted
    again = CertificateAuthority.open(tmp_path / "ca")
    assert again.root == ca.root and again.issuing == ca.issuing
    creds = again.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec")
    creds.certificate.verify_directly_issued_by(ca.issuing)
    assert [e["serial"] for e in again.issued()] == [identity_of(creds.certificate).serial]
    assert len(CertificateAuthority.open(tmp_path / "ca").issued()) == 1


def test_password_protected_ca(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca", password="khóa-bí-mật")
    for key in ("root.key", "issuing.key"):
        assert b"BEGIN ENCRYPTED PRIVATE KEY" in (tmp_path / "ca" / key).read_bytes()

    with raises_code("PKI_CA_BAD_PASSWORD") as caught:
        CertificateAuthority.open(tmp_path / "ca", password="sai")
    assert caught.value.code == "PKI_CA_BAD_PASSWORD"
    assert caught.value.message_vi == "Sai mật khẩu CA"

    # without the password: register, certificates and CRLs are readable, signing is not
    readonly = CertificateAuthority.open(tmp_path / "ca")
    assert readonly.root == ca.root and readonly.issued() == []
    assert crl_number(readonly.crl()) == 1
    with raises_code("PKI_CA_PASSWORD_REQUIRED"):
        readonly.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec")
    with raises_code("PKI_CA_PASSWORD_REQUIRED"):
        readonly.renew_crls()

    good = CertificateAuthority.open(tmp_path / "ca", password="khóa-bí-mật")
    creds = good.issue_person(agency=AGENCY, name="A", position="B", key_type="ec")
    with raises_code("PKI_CA_PASSWORD_REQUIRED"):
        readonly.revoke(creds.certificate.serial_number)
    good.revoke(creds.certificate.serial_number)
    assert len(list(good.crl())) == 1


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    before = (tmp_path / "ca" / "root.pem").read_bytes()
    with raises_code("PKI_CA_EXISTS"):
        CertificateAuthority.init(tmp_path / "ca", name="khác")
    assert (tmp_path / "ca" / "root.pem").read_bytes() == before
    assert CertificateAuthority.open(tmp_path / "ca").root == ca.root


def test_open_without_a_ca(tmp_path: Path) -> None:
    with raises_code("PKI_CA_NOT_FOUND"):
        CertificateAuthority.open(tmp_path / "nothing")
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "root.pem").write_text("không phải PEM")
    (tmp_path / "broken" / "index.json").write_text("{}")
    with raises_code("PKI_CA_CORRUPT"):
        CertificateAuthority.open(tmp_path / "broken")


# ------------------------------------------------------------------------------ extensions


def test_root_and_issuing_ca_extensions(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca", crl_base_url="https://crl.example.vn/pki/")
    root, issuing = ca.root, ca.issuing
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    assert isinstance(root.public_key(), ec.EllipticCurvePublicKey)
    assert root.public_key().curve.name == "secp384r1"  # type: ignore[union-attr]
    assert ext(root, x509.BasicConstraints).value.ca is True
    assert ext(root, x509.BasicConstraints).critical
    for cert in (root, issuing):
        usage = ext(cert, x509.KeyUsage).value
        assert usage.key_cert_sign and usage.crl_sign and not usage.digital_signature
    root_ski = ext(root, x509.SubjectKeyIdentifier).value.digest

    issuing.verify_directly_issued_by(root)
    constraints = ext(issuing, x509.BasicConstraints).value
    assert constraints.ca is True and constraints.path_length == 0
    assert ext(issuing, x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
    points = ext(issuing, x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name] == ["https://crl.example.vn/pki/root.crl"]
    assert ca.issuing_crl_url == "https://crl.example.vn/pki/issuing.crl"


def test_person_certificate_extensions(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca", crl_base_url="https://crl.example.vn/pki")
    creds = ca.issue_person(
        agency=AGENCY,
        name=PERSON_NAME,
        position="Phó Chủ tịch",
        organization=AGENCY_NAME,
        email="tram@nghean.gov.vn",
    )
    cert = creds.certificate
    assert isinstance(creds.private_key, rsa.RSAPrivateKey) and creds.private_key.key_size == 2048
    assert creds.key_type == "rsa"
    assert creds.chain == [ca.issuing]
    cert.verify_directly_issued_by(ca.issuing)

    usage = ext(cert, x509.KeyUsage)
    assert usage.critical
    assert usage.value.digital_signature and usage.value.content_commitment
    assert not usage.value.key_cert_sign and not usage.value.key_encipherment
    assert set(ext(cert, x509.ExtendedKeyUsage).value) == {
        ExtendedKeyUsageOID.EMAIL_PROTECTION,
        EKU_MS_DOCUMENT_SIGNING,
        EKU_DOCUMENT_SIGNING,
    }
    assert ext(cert, x509.BasicConstraints).value.ca is False
    assert ext(cert, x509.SubjectKeyIdentifier).value.digest
    assert (
        ext(cert, x509.AuthorityKeyIdentifier).value.key_identifier
        == ext(ca.issuing, x509.SubjectKeyIdentifier).value.digest
    )
    points = ext(cert, x509.CRLDistributionPoints).value
    assert [n.value for p in points for n in p.full_name] == [
        "https://crl.example.vn/pki/issuing.crl"
    ]
    policies = [p.policy_identifier for p in ext(cert, x509.CertificatePolicies).value]
    assert policies == [POLICY_PERSON]
    assert POLICY_PERSON.dotted_string.startswith("2.25.")
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.USER_ID)[0].value == f"MDDT:{AGENCY}"
    assert subject.get_attributes_for_oid(NameOID.TITLE)[0].value == "Phó Chủ tịch"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == PERSON_NAME
    assert subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == AGENCY_NAME
    assert subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)[0].value == "VN"
    assert list(ext(cert, x509.SubjectAlternativeName).value) == [
        x509.RFC822Name("tram@nghean.gov.vn")
    ]
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=730)


def test_org_certificate_extensions_and_ec_keys(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    creds = ca.issue_org(agency=AGENCY, name=LONG_NAME, key_type="ec", valid_days=30)
    cert = creds.certificate
    assert isinstance(creds.private_key, ec.EllipticCurvePrivateKey)
    assert creds.private_key.curve.name == "secp256r1"
    assert [p.policy_identifier for p in ext(cert, x509.CertificatePolicies).value] == [POLICY_ORG]
    assert cert.subject.get_attributes_for_oid(NameOID.TITLE) == []
    # 51 characters but 65 UTF-8 bytes: the 64 limit of RFC 5280 is on characters
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert identity_of(cert).name == LONG_NAME
        assert LONG_NAME in repr(creds)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == timedelta(days=30)
    with pytest.raises(x509.ExtensionNotFound):
        ext(cert, x509.SubjectAlternativeName)


def test_issue_validates_its_input(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    with raises_code("PKI_AGENCY_INVALID"):
        ca.issue_org(agency="H41", name=AGENCY_NAME, key_type="ec")
    with raises_code("PKI_KEY_TYPE"):
        ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="dsa")  # type: ignore[arg-type]
    with raises_code("PKI_NAME_REQUIRED"):
        ca.issue_person(agency=AGENCY, name="  ", position="Chuyên viên", key_type="ec")
    with raises_code("PKI_NAME_REQUIRED"):
        ca.issue_person(agency=AGENCY, name=PERSON_NAME, position="", key_type="ec")
    with raises_code("PKI_VALIDITY"):
        ca.issue_org(agency=AGENCY, name="x" * 65, key_type="ec")
    with raises_code("PKI_VALIDITY"):
        ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec", valid_days=0)
    assert ca.issued() == []
    # a legacy short code is accepted and stored in canonical form
    creds = ca.issue_org(agency="12.H41", name=AGENCY_NAME, key_type="ec")
    assert identity_of(creds.certificate).agency == "000.00.12.H41"


def test_leaf_validity_is_capped_by_the_issuing_ca(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    creds = ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec", valid_days=100_000)
    assert creds.certificate.not_valid_after_utc == ca.issuing.not_valid_after_utc


# ------------------------------------------------------------------------------ identity


def test_identity_of_person_and_org(pki: PkiWorld) -> None:
    person = identity_of(pki.person.certificate)
    assert person == Identity(
        name=PERSON_NAME,
        agency=AGENCY,
        role=Role.PERSON,
        position="Phó Chủ tịch",
        serial=f"{pki.person.certificate.serial_number:X}",
        issuer="lienthong CA (thử nghiệm) - CA trung gian",
        organization=AGENCY_NAME,
    )
    org = identity_of(pki.org.certificate)
    assert (org.name, org.agency, org.role, org.position) == (
        AGENCY_NAME,
        AGENCY,
        Role.ORG,
        None,
    )
    assert identity_of(pki.other_person.certificate).agency == "000.00.00.G22"
    assert pki.org.identity.to_dict()["role"] == "org"


def test_identity_of_a_foreign_certificate(pki: PkiWorld) -> None:
    root = identity_of(pki.ca.root)
    assert (root.agency, root.role, root.position) == (None, None, None)
    assert root.name == root.issuer == "lienthong CA (thử nghiệm)"


def test_identity_reads_a_bare_agency_uid() -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, "Trần Văn A"),
            x509.NameAttribute(NameOID.USER_ID, "CMND:012345678"),
            x509.NameAttribute(NameOID.USER_ID, "000.00.01.H53"),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(255)
        .not_valid_before(now)
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    identity = identity_of(cert)
    assert (identity.agency, identity.serial, identity.role) == ("000.00.01.H53", "FF", None)


# ------------------------------------------------------------------------------ PKCS#12


def test_p12_round_trip_keeps_vietnamese_names(pki: PkiWorld, tmp_path: Path) -> None:
    for creds in (pki.person, pki.org, pki.org_ec):
        data = creds.to_p12("mật khẩu có dấu")
        back = Credentials.from_p12(data, "mật khẩu có dấu")
        assert back.certificate == creds.certificate
        assert back.chain == creds.chain == [pki.ca.issuing]
        assert back.private_key.public_key() == creds.private_key.public_key()
        assert identity_of(back.certificate) == identity_of(creds.certificate)
        loaded = pkcs12.load_pkcs12(data, "mật khẩu có dấu".encode())
        assert loaded.cert is not None
        assert loaded.cert.friendly_name == identity_of(creds.certificate).name.encode()  # type: ignore[union-attr]
    # from a path (str and Path), as the factory wrote them
    path = pki.p12["person"]
    assert Credentials.from_p12(str(path), P12_PASSWORD).certificate == pki.person.certificate
    assert Credentials.from_p12(path, P12_PASSWORD).identity.name == "Nguyễn Thị Ngọc Trâm"
    named = pki.org.to_p12("pw", friendly_name="Con dấu UBND")
    loaded = pkcs12.load_pkcs12(named, b"pw")
    assert loaded.cert is not None and loaded.cert.friendly_name == "Con dấu UBND".encode()


def test_p12_errors(pki: PkiWorld, tmp_path: Path) -> None:
    data = pki.person.to_p12("đúng")
    with raises_code("PKI_P12_BAD_PASSWORD") as caught:
        Credentials.from_p12(data, "sai")
    assert "mật khẩu" in caught.value.message_vi.lower()
    with raises_code("PKI_P12_BAD_PASSWORD"):
        Credentials.from_p12(b"not a pkcs12 file", "x")
    with raises_code("PKI_FILE_NOT_FOUND"):
        Credentials.from_p12(tmp_path / "missing.p12", "x")
    with raises_code("PKI_P12_PASSWORD_REQUIRED"):
        pki.person.to_p12("")


def test_p12_drops_a_bundled_root(pki: PkiWorld) -> None:
    data = pkcs12.serialize_key_and_certificates(
        b"x",
        pki.person.private_key,
        pki.person.certificate,
        [pki.ca.root, pki.ca.issuing],
        serialization.BestAvailableEncryption(b"pw"),
    )
    assert Credentials.from_p12(data, "pw").chain == [pki.ca.issuing]


def test_repr_shows_no_key_material(pki: PkiWorld) -> None:
    text = repr(pki.person)
    assert "Nguyễn Thị Ngọc Trâm" in text and "RSA-2048" in text
    key = pki.person.private_key
    assert isinstance(key, rsa.RSAPrivateKey)
    secret = key.private_numbers()
    for number in (secret.d, secret.p, secret.q):
        assert str(number)[:12] not in text and f"{number:x}"[:12] not in text
    assert "PRIVATE" not in text and "PRIVATE" not in str(pki.person)
    assert "ECDSA-secp256r1" in repr(pki.org_ec)


# ------------------------------------------------------------------------------ revocation


def test_revoke_updates_the_crl(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    creds = ca.issue_person(agency=AGENCY, name=PERSON_NAME, position="Chuyên viên", key_type="ec")
    other = ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec")
    before = ca.crl()
    assert crl_number(before) == 1 and list(before) == []
    root_number = crl_number(ca.root_crl())

    when = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    ca.revoke(creds.certificate.serial_number, reason="key-compromise", at=when)
    crl = ca.crl()
    assert crl_number(crl) == 2
    assert crl.is_signature_valid(ca.issuing.public_key())  # type: ignore[arg-type]
    assert crl.issuer == ca.issuing.subject
    assert crl.next_update_utc is not None
    assert crl.next_update_utc - crl.last_update_utc == timedelta(days=7)
    assert (
        ext(crl, x509.AuthorityKeyIdentifier).value.key_identifier  # type: ignore[arg-type]
        == ext(ca.issuing, x509.SubjectKeyIdentifier).value.digest
    )
    entry = crl.get_revoked_certificate_by_serial_number(creds.certificate.serial_number)
    assert entry is not None
    assert entry.revocation_date_utc == when
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == (
        x509.ReasonFlags.key_compromise
    )
    assert crl.get_revoked_certificate_by_serial_number(other.certificate.serial_number) is None
    assert crl_number(ca.root_crl()) == root_number  # the root's CRL is untouched

    register = {e["serial"]: e for e in ca.issued()}
    revoked = register[identity_of(creds.certificate).serial]
    assert revoked["revoked"] is True and revoked["reason"] == "keyCompromise"
    assert register[identity_of(other.certificate).serial]["revoked"] is False
    # persisted
    reopened = CertificateAuthority.open(tmp_path / "ca")
    assert crl_number(reopened.crl()) == 2

    # "unspecified" leaves the reason code out (RFC 5280)
    ca.revoke(other.certificate.serial_number)
    crl = ca.crl()
    assert crl_number(crl) == 3 and len(list(crl)) == 2
    entry = crl.get_revoked_certificate_by_serial_number(other.certificate.serial_number)
    assert entry is not None
    with pytest.raises(x509.ExtensionNotFound):
        entry.extensions.get_extension_for_class(x509.CRLReason)

    ca.renew_crls()
    assert crl_number(ca.crl()) == 4 and crl_number(ca.root_crl()) == root_number + 1
    assert len(list(ca.crl())) == 2


def test_revoke_errors(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    creds = ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec")
    serial = creds.certificate.serial_number
    with raises_code("PKI_UNKNOWN_SERIAL"):
        ca.revoke(12345)
    with raises_code("PKI_BAD_REASON") as caught:
        ca.revoke(serial, reason="chán")
    assert "keyCompromise" in caught.value.message_en
    with raises_code("PKI_CANNOT_REVOKE_ROOT"):
        ca.revoke(ca.root.serial_number)
    ca.revoke(serial, reason="cessation_of_operation")
    with raises_code("PKI_ALREADY_REVOKED"):
        ca.revoke(serial, reason="superseded")
    assert crl_number(ca.crl()) == 2  # the failed calls changed nothing
    entry = ca.crl().get_revoked_certificate_by_serial_number(serial)
    assert entry is not None
    reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason
    assert reason is x509.ReasonFlags.cessation_of_operation


def test_revoking_the_issuing_ca_goes_on_the_root_crl(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    ca.revoke(ca.issuing.serial_number, reason="cACompromise")
    root_crl = ca.root_crl()
    assert root_crl.get_revoked_certificate_by_serial_number(ca.issuing.serial_number)
    assert root_crl.is_signature_valid(ca.root.public_key())  # type: ignore[arg-type]
    assert crl_number(root_crl) == 2 and crl_number(ca.crl()) == 1


# ------------------------------------------------------------------------------ long names


def test_quiet_names_hides_only_the_byte_length_warning() -> None:
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        with _quiet_names():
            warnings.warn("Attribute's length must be >= 1 and <= 64, but it was 80", stacklevel=1)
            warnings.warn("something else", UserWarning, stacklevel=1)
            warnings.warn("Attribute's length (not a UserWarning)", FutureWarning, stacklevel=1)
        warnings.warn("Attribute's length, outside", UserWarning, stacklevel=1)
    assert [str(w.message) for w in seen] == [
        "something else",
        "Attribute's length (not a UserWarning)",
        "Attribute's length, outside",
    ]


def test_names_over_64_bytes_are_read_without_warnings(tmp_path: Path, cli_env: None) -> None:
    """RFC 5280 limits names to 64 characters, cryptography warns past 64 UTF-8 bytes:
    a CA with a Vietnamese name must work without that warning anywhere (the CA, the
    trust store, the revocation check, the CLI); certificates and CRLs are read back
    from disk so nothing reuses a name already parsed."""
    assert len(LONG_CA_NAME) <= 64 < len(LONG_CA_NAME.encode())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Attribute's length")
        ca = CertificateAuthority.init(tmp_path / "ca", name=LONG_CA_NAME)
        person = ca.issue_person(agency=AGENCY, name=PERSON_NAME, position="Phó Chủ tịch")
        org = ca.issue_org(agency=AGENCY, name=LONG_NAME, key_type="ec")
        ca.revoke(person.certificate.serial_number, reason="superseded")
        ca.export_trust(tmp_path / "trust")

        reopened = CertificateAuthority.open(tmp_path / "ca")
        assert reopened.name == LONG_CA_NAME
        store = TrustStore.load(tmp_path / "trust")
        (root,) = store.roots
        assert is_self_signed(root) and name_text(subject_of(root)) == f"CN={LONG_CA_NAME},C=VN"
        issuing = x509.load_pem_x509_certificate(
            reopened.issuing.public_bytes(serialization.Encoding.PEM)
        )
        assert not is_self_signed(issuing) and issuer_of(issuing) == subject_of(root)
        crl = store.crl_for(issuing)
        assert crl is not None and issuer_of(crl) == subject_of(issuing)

        def fresh(creds: Credentials) -> x509.Certificate:
            return x509.load_der_x509_certificate(
                creds.certificate.public_bytes(serialization.Encoding.DER)
            )

        revoked = check_certificate(fresh(person), extra_certs=[issuing], trust=store)
        assert revoked.reason is Reason.REVOKED
        assert revocation_entry(fresh(person), candidates=[issuing], trust=store) is not None
        good = check_certificate(fresh(org), extra_certs=[issuing], trust=store)
        assert good.reason is None and good.trusted
        assert identity_of(fresh(org)).issuer == identity_of(issuing).name
        assert LONG_NAME in repr(org)

        for args in (
            ["list", "--dir", str(tmp_path / "ca"), "--json"],
            ["list", "--dir", str(tmp_path / "ca")],
            ["crl", "--dir", str(tmp_path / "ca"), "--json"],
            ["trust", "show", str(tmp_path / "trust"), "--json"],
            ["trust", "show", str(tmp_path / "trust")],
            ["trust", "import", str(tmp_path / "trust2"), str(tmp_path / "trust" / "root.crl")],
        ):
            result = run(*args)
            assert result.exit_code == 0, (args, result.output)
        result = run("init", "--dir", str(tmp_path / "ca2"), "--name", LONG_CA_NAME, "--json")
        assert result.exit_code == 0, result.output
        assert as_json(result)["root"]["name"] == LONG_CA_NAME


# ------------------------------------------------------------------------------ trust store


def test_trust_store_of_the_ca(pki: PkiWorld) -> None:
    store = pki.ca.trust_store()
    assert store.roots == [pki.ca.root]
    assert store.intermediates == []  # signatures carry the issuing CA
    assert {crl.issuer for crl in store.crls} == {pki.ca.root.subject, pki.ca.issuing.subject}
    assert store.crl_for(pki.ca.issuing) == pki.ca.crl()
    assert store.crl_for(pki.stranger_ca.issuing) is None
    assert sorted(p.name for p in pki.trust_dir.iterdir()) == [
        "issuing.crl",
        "root.crl",
        "root.pem",
    ]
    loaded = TrustStore.load(pki.trust_dir)
    assert loaded.roots == [pki.ca.root] and len(loaded.crls) == 2


def test_trust_store_loads_several_roots_in_pem_and_der(pki: PkiWorld, tmp_path: Path) -> None:
    trust = tmp_path / "trust"
    trust.mkdir()
    pem, der = serialization.Encoding.PEM, serialization.Encoding.DER
    (trust / "gov-root.pem").write_bytes(pki.ca.root.public_bytes(pem))
    (trust / "public-ca.cer").write_bytes(pki.stranger_ca.root.public_bytes(der))  # DER
    (trust / "issuing.crt").write_bytes(pki.ca.issuing.public_bytes(der))  # → intermediate
    (trust / "issuing.crl").write_bytes(pki.ca.crl().public_bytes(der))
    (trust / "root.crl").write_bytes(pki.ca.root_crl().public_bytes(pem))  # PEM CRL
    (trust / "stranger.crl").write_bytes(pki.stranger_ca.crl().public_bytes(der))
    (trust / "README.txt").write_text("không phải chứng thư")
    store = TrustStore.load(trust)
    assert store.roots == [pki.ca.root, pki.stranger_ca.root]
    assert store.intermediates == [pki.ca.issuing]
    assert len(store.crls) == 3

    # a PEM bundle holding both roots, and a duplicate, adds nothing twice
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    (bundle / "roots.pem").write_bytes(
        pki.ca.root.public_bytes(pem) + pki.stranger_ca.root.public_bytes(pem)
    )
    (bundle / "again.pem").write_bytes(pki.ca.root.public_bytes(pem))
    assert len(TrustStore.load(bundle).roots) == 2
    assert TrustStore.load(bundle).add_pem(pki.ca.root.public_bytes(pem)) == []


def test_trust_store_keeps_the_newest_crl_and_saves(tmp_path: Path) -> None:
    ca = CertificateAuthority.init(tmp_path / "ca")
    old = ca.crl()
    creds = ca.issue_org(agency=AGENCY, name=AGENCY_NAME, key_type="ec")
    ca.revoke(creds.certificate.serial_number, reason="superseded")
    new = ca.crl()
    store = TrustStore(roots=[ca.root], crls=[new])
    assert store.add_crl(old) is False and store.crls == [new]
    store = TrustStore(roots=[ca.root], crls=[old])
    assert store.add_crl(new) is True and store.crls == [new]

    # save next to an export with an older CRL: the file is replaced, root not duplicated
    trust = tmp_path / "trust"
    CertificateAuthority.init(tmp_path / "ca2").export_trust(trust)  # another root
    (trust / "issuing.crl").write_bytes(old.public_bytes(serialization.Encoding.DER))
    store.add_pem(ca.root.public_bytes(serialization.Encoding.PEM))
    store.save(trust)
    store.save(trust)  # idempotent
    loaded = TrustStore.load(trust)
    assert ca.root in loaded.roots and len(loaded.roots) == 2
    assert x509.load_der_x509_crl((trust / "issuing.crl").read_bytes()) == new
    assert new in loaded.crls and old not in loaded.crls
    assert len(list(trust.glob("*.pem"))) == 2


def test_export_trust_refreshes_but_never_replaces_another_root(
    pki: PkiWorld, tmp_path: Path
) -> None:
    trust = tmp_path / "trust"
    ca = CertificateAuthority.init(tmp_path / "ca")
    ca.export_trust(trust)
    ca.renew_crls()
    ca.export_trust(trust)  # same root: the CRLs are refreshed
    assert crl_number(x509.load_der_x509_crl((trust / "issuing.crl").read_bytes())) == 2
    with raises_code("PKI_OUTPUT_EXISTS"):
        pki.ca.export_trust(trust)
    assert TrustStore.load(trust).roots == [ca.root]
    result = run("trust", "export", "--dir", str(pki.ca_dir), "--out", str(trust), "--json")
    assert result.exit_code == 2 and as_json(result)["error"]["code"] == "PKI_OUTPUT_EXISTS"


def test_trust_store_errors(tmp_path: Path) -> None:
    with raises_code("PKI_TRUST_NOT_FOUND"):
        TrustStore.load(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "root.pem").write_bytes(
        b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
    )
    with raises_code("PKI_TRUST_UNREADABLE"):
        TrustStore.load(bad)


# ------------------------------------------------------------------------------ chains


def validate(
    store: TrustStore,
    creds: Credentials,
    *,
    moment: datetime | None = None,
    revocation_mode: str = "require",
) -> None:
    """pyhanko-certvalidator with the store's CRLs, revocation required, no fetching."""
    der = serialization.Encoding.DER
    context = ValidationContext(
        trust_roots=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in store.roots],
        other_certs=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in store.intermediates],
        crls=[c.public_bytes(der) for c in store.crls],
        allow_fetching=False,
        revocation_mode=revocation_mode,
        moment=moment,
    )
    validator = CertificateValidator(
        asn1_x509.Certificate.load(creds.certificate.public_bytes(der)),
        intermediate_certs=[asn1_x509.Certificate.load(c.public_bytes(der)) for c in creds.chain],
        validation_context=context,
    )
    asyncio.run(validator.async_validate_usage({"digital_signature", "non_repudiation"}))


def test_chain_validates_with_crls(pki: PkiWorld) -> None:
    store = TrustStore.load(pki.trust_dir)
    for creds in (pki.person, pki.person_ec, pki.org, pki.org_ec, pki.other_person):
        validate(store, creds)


def test_chain_failures(pki: PkiWorld) -> None:
    store = TrustStore.load(pki.trust_dir)
    with pytest.raises(RevokedError):
        validate(store, pki.revoked)
    with pytest.raises(ExpiredError):
        validate(store, pki.expired)
    with pytest.raises(PathBuildingError):
        validate(store, pki.stranger)  # unrelated CA
    with pytest.raises(PathBuildingError):
        validate(store, without_chain(pki.person))  # missing intermediate
    with pytest.raises(PathValidationError):
        validate(TrustStore(roots=store.roots), pki.person)  # no CRLs: revocation required
    # the stranger is fine under its own trust store; the expired cert was fine back then
    validate(TrustStore.load(pki.stranger_trust_dir), pki.stranger)
    start = pki.expired.certificate.not_valid_before_utc
    validate(
        TrustStore(roots=store.roots),
        pki.expired,
        moment=start + timedelta(days=1),
        revocation_mode="soft-fail",
    )


def test_chain_with_cryptography_verifier(pki: PkiWorld) -> None:
    """The path signxml builds (cryptography.x509.verification, client verifier)."""

    def verifier(roots: list[x509.Certificate]) -> Any:
        ee = ExtensionPolicy.permit_all().require_present(x509.KeyUsage, Criticality.AGNOSTIC, None)
        return (
            PolicyBuilder()
            .store(Store(roots))
            .extension_policies(ee_policy=ee, ca_policy=ExtensionPolicy.webpki_defaults_ca())
            .build_client_verifier()
        )

    chain = verifier([pki.ca.root]).verify(pki.person.certificate, pki.person.chain).chain
    assert chain == [pki.person.certificate, pki.ca.issuing, pki.ca.root]
    verifier([pki.ca.root]).verify(pki.org_ec.certificate, pki.org_ec.chain)
    with pytest.raises(VerificationError):
        verifier([pki.ca.root]).verify(pki.stranger.certificate, pki.stranger.chain)
    with pytest.raises(VerificationError):
        verifier([pki.ca.root]).verify(pki.person.certificate, [])
    with pytest.raises(VerificationError):
        verifier([pki.stranger_ca.root]).verify(pki.person.certificate, pki.person.chain)


# ------------------------------------------------------------------------------ CLI

runner = CliRunner()


def run(*args: str, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["pki", *args], env=env or {}, catch_exceptions=False)


def as_json(result: Any) -> Any:
    return json.loads(result.stdout)


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LIENTHONG_CA_PASSWORD", "LIENTHONG_P12_PASSWORD", "LIENTHONG_CA_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_cli_init_issue_list_revoke(tmp_path: Path, cli_env: None) -> None:
    ca_dir = str(tmp_path / "ca")
    result = run("init", "--dir", ca_dir, "--ca-password", "ca-bí-mật-1", "--json")
    assert result.exit_code == 0, result.output
    data = as_json(result)
    assert data["ok"] and data["encrypted"] is True
    assert data["root"]["name"] == "lienthong CA (thử nghiệm)"
    assert "ca-bí-mật-1" not in result.output

    out = tmp_path / "tram.p12"
    result = run(
        "issue",
        "person",
        "--dir",
        ca_dir,
        "--agency",
        AGENCY,
        "--name",
        PERSON_NAME,
        "--position",
        "Phó Chủ tịch",
        "--org",
        AGENCY_NAME,
        "--out",
        str(out),
        "--password",
        "p12-bí-mật-2",
        "--ca-password",
        "ca-bí-mật-1",
        "--json",
    )
    assert result.exit_code == 0, result.output
    issued = as_json(result)
    assert (issued["name"], issued["agency"], issued["role"], issued["position"]) == (
        PERSON_NAME,
        AGENCY,
        "person",
        "Phó Chủ tịch",
    )
    assert issued["key_type"] == "rsa"
    assert "bí-mật" not in result.output and "PRIVATE" not in result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    creds = Credentials.from_p12(out, "p12-bí-mật-2")
    assert creds.identity.serial == issued["serial"]

    # passwords from the environment; ECDSA key
    env = {"LIENTHONG_CA_PASSWORD": "ca-bí-mật-1", "LIENTHONG_P12_PASSWORD": "p12-bí-mật-3"}
    org_out = tmp_path / "ubnd.p12"
    args = ["--dir", ca_dir, "--agency", AGENCY, "--name", AGENCY_NAME, "--out", str(org_out)]
    result = run("issue", "org", *args, "--key", "ec", "--json", env=env)
    assert result.exit_code == 0, result.output
    org = as_json(result)
    assert org["role"] == "org" and org["key_type"] == "ec"
    assert Credentials.from_p12(org_out, "p12-bí-mật-3").key_type == "ec"

    # refuses to overwrite the .p12
    result = run("issue", "org", *args, "--json", env=env)
    assert result.exit_code == 2
    assert as_json(result)["error"]["code"] == "PKI_OUTPUT_EXISTS"

    result = run("list", "--dir", ca_dir, "--json")
    assert result.exit_code == 0
    listed = as_json(result)["certificates"]
    assert [e["serial"] for e in listed] == [issued["serial"], org["serial"]]
    assert not any(e["revoked"] for e in listed)
    assert "certificate" not in listed[0]
    result = run("list", "--dir", ca_dir)
    assert result.exit_code == 0 and issued["serial"] in result.stdout

    # revoke by .p12 file, then by serial
    result = run(
        "revoke",
        str(out),
        "--dir",
        ca_dir,
        "--password",
        "p12-bí-mật-2",
        "--reason",
        "affiliationChanged",
        "--json",
        env={"LIENTHONG_CA_PASSWORD": "ca-bí-mật-1"},
    )
    assert result.exit_code == 0, result.output
    revoked = as_json(result)
    assert revoked["serial"] == issued["serial"] and revoked["reason"] == "affiliationChanged"
    assert revoked["crl_number"] == 2
    result = run("revoke", "--dir", ca_dir, "--serial", org["serial"].lower(), "--json", env=env)
    assert result.exit_code == 0, result.output
    assert as_json(result)["crl_number"] == 3
    listed = as_json(run("list", "--dir", ca_dir, "--json"))["certificates"]
    assert [e["revoked"] for e in listed] == [True, True]

    crl = CertificateAuthority.open(ca_dir).crl()
    assert {r.serial_number for r in crl} == {
        creds.certificate.serial_number,
        int(org["serial"], 16),
    }
    result = run("crl", "--dir", ca_dir, "--renew", "--json", env=env)
    assert result.exit_code == 0, result.output
    assert as_json(result)["issuing"]["number"] == 4
    assert sorted(as_json(result)["issuing"]["revoked"]) == sorted(
        [issued["serial"], org["serial"]]
    )


def test_cli_errors_exit_2_without_traceback(tmp_path: Path, cli_env: None) -> None:
    ca_dir = str(tmp_path / "ca")
    assert run("init", "--dir", ca_dir, "--ca-password", "đúng").exit_code == 0

    result = run("init", "--dir", ca_dir)
    assert result.exit_code == 2
    assert "PKI_CA_EXISTS" in result.stderr and "không ghi đè" in result.stderr
    assert "Traceback" not in result.output

    args = ["--dir", ca_dir, "--agency", AGENCY, "--name", AGENCY_NAME, "--key", "ec"]
    out = ["--out", str(tmp_path / "x.p12"), "--password", "p"]
    result = run("issue", "org", *args, *out, "--ca-password", "sai", "--json")
    assert result.exit_code == 2
    error = as_json(result)["error"]
    assert error["code"] == "PKI_CA_BAD_PASSWORD" and error["message_vi"] == "Sai mật khẩu CA"
    assert "sai" not in json.dumps(error)

    result = run("issue", "org", *args, *out, "--json")
    assert as_json(result)["error"]["code"] == "PKI_CA_PASSWORD_REQUIRED"
    result = run("issue", "org", *args[:4], "--agency", "X41", *args[6:], *out, "--json")
    assert result.exit_code == 2
    result = run("issue", "org", "--dir", ca_dir, "--agency", "X41", "--name", "A", *out, "--json")
    assert as_json(result)["error"]["code"] == "PKI_AGENCY_INVALID"
    assert not (tmp_path / "x.p12").exists()

    result = run("revoke", "--dir", ca_dir, "--json")
    assert result.exit_code == 2 and as_json(result)["error"]["code"] == "PKI_USAGE"
    result = run("revoke", "--dir", ca_dir, "--serial", "ABC", "--ca-password", "đúng")
    assert result.exit_code == 2 and "PKI_UNKNOWN_SERIAL" in result.stderr
    result = run("revoke", "--dir", ca_dir, "--serial", "xyz", "--json")
    assert as_json(result)["error"]["code"] == "PKI_UNKNOWN_SERIAL"
    result = run("list", "--dir", str(tmp_path / "none"), "--json")
    assert result.exit_code == 2 and as_json(result)["error"]["code"] == "PKI_CA_NOT_FOUND"
    result = run("revoke", str(tmp_path / "none.p12"), "--dir", ca_dir, "--password", "x")
    assert result.exit_code == 2 and "PKI_FILE_NOT_FOUND" in result.stderr
    assert "Traceback" not in result.output


def test_cli_trust_export_import_show(pki: PkiWorld, tmp_path: Path, cli_env: None) -> None:
    trust = tmp_path / "trust"
    result = run("trust", "export", "--dir", str(pki.ca_dir), "--out", str(trust), "--json")
    assert result.exit_code == 0, result.output
    assert sorted(Path(f).name for f in as_json(result)["files"]) == [
        "issuing.crl",
        "root.crl",
        "root.pem",
    ]

    # add the unrelated CA's root (PEM) and its CRL; a second import adds nothing
    stranger_root = pki.stranger_trust_dir / "root.pem"
    result = run("trust", "import", str(trust), str(stranger_root), "--json")
    assert result.exit_code == 0, result.output
    added = as_json(result)["added"]
    assert [(a["kind"], a["name"]) for a in added] == [("root", "CA lạ (không tin cậy)")]
    for crl in ("issuing.crl", "root.crl"):
        result = run("trust", "import", str(trust), str(pki.stranger_trust_dir / crl))
        assert result.exit_code == 0 and "CRL" in result.stdout
    result = run("trust", "import", str(trust), str(stranger_root), "--json")
    assert as_json(result)["added"] == []

    store = TrustStore.load(trust)
    assert set(store.roots) == {pki.ca.root, pki.stranger_ca.root}
    validate(store, pki.stranger)
    validate(store, pki.person)

    # an intermediate is accepted but is no trust anchor
    issuing = tmp_path / "issuing.pem"
    issuing.write_bytes(pki.ca.issuing.public_bytes(serialization.Encoding.PEM))
    result = run("trust", "import", str(trust), str(issuing))
    assert result.exit_code == 0 and "trung gian" in result.stdout

    result = run("trust", "show", str(trust), "--json")
    shown = as_json(result)
    assert len(shown["roots"]) == 2 and len(shown["intermediates"]) == 1
    assert len(shown["crls"]) == 4
    assert run("trust", "show", str(trust)).exit_code == 0

    result = run("trust", "import", str(tmp_path / "new"), str(tmp_path / "nope.pem"), "--json")
    assert result.exit_code == 2 and as_json(result)["error"]["code"] == "PKI_FILE_NOT_FOUND"
    result = run("trust", "show", str(tmp_path / "nope"), "--json")
    assert as_json(result)["error"]["code"] == "PKI_TRUST_NOT_FOUND"


def test_cli_human_output_is_vietnamese_first(tmp_path: Path, cli_env: None) -> None:
    result = run("init", "--dir", str(tmp_path / "ca"))
    assert result.exit_code == 0
    assert result.stdout.startswith("Đã tạo CA / CA created")
    assert "không được mã hóa" in result.stderr  # no password: warned
    result = run(
        "issue",
        "person",
        "--dir",
        str(tmp_path / "ca"),
        "--agency",
        AGENCY,
        "--name",
        PERSON_NAME,
        "--position",
        "Chánh Văn phòng",
        "--key",
        "ec",
        "--out",
        str(tmp_path / "p.p12"),
        env={"LIENTHONG_P12_PASSWORD": "bí-mật"},
    )
    assert result.exit_code == 0, result.output
    assert "Đã cấp chứng thư số" in result.stdout and "bí-mật" not in result.output
    assert "Chánh Văn phòng" in result.stdout
