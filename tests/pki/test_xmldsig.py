"""Package signatures (XML-DSig on edXML) and the shared certificate checks.

Signing: the block is the last child of ``edXMLHeader``, carries the chain, covers the whole
package, replaces an existing block and leaves every other byte alone. Verification: valid
RSA and ECDSA signatures, then every way a signature can fail (changed byte, wrong root,
expired, revoked, missing intermediate, other agency, unsigned, the official samples' dummy
blocks, the VNPT dialect with legacy RSA-SHA1, hostile XML) gives the right verdict and a
typed reason without raising. The CLI is driven through a local Typer app wired with
:func:`lienthong.pki.cli_xml.register`.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from lxml import etree
from signxml import SignatureConfiguration, XMLVerifier
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner
from typer.testing import CliRunner, Result

from lienthong.edxml.builder import build
from lienthong.edxml.errors import Code, EdxmlError
from lienthong.edxml.model import NS, XMLDSIG_NS, Edoc, Organization
from lienthong.edxml.parser import parse
from lienthong.pki.ca import CertificateAuthority
from lienthong.pki.cli_xml import register
from lienthong.pki.credentials import Credentials, PkiError, TrustStore
from lienthong.pki.revocation import check_certificate, check_certificate_async
from lienthong.pki.verdict import UNDECIDED, Reason, Report, Role, SignatureReport, Verdict
from lienthong.pki.xmldsig import SIGNING_ALGORITHMS, sign_package, verify_package
from pki_factory import AGENCY, P12_PASSWORD, PkiWorld, without_chain
from support import EDOC_SAMPLES, STATUS_SAMPLES

DS = XMLDSIG_NS
SUBJECT = "V/v đề nghị phối hợp triển khai chữ ký số chuyên dùng Chính phủ năm 2024"
SENDER_NAME = "Ủy ban nhân dân tỉnh Nghệ An"
ATTACHMENT = bytes(range(256)) * 40  # 10 KB, every byte value


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def trust(trust_dir: Path) -> TrustStore:
    return TrustStore.load(trust_dir)


@pytest.fixture(scope="module")
def package(make_edoc: Callable[..., Edoc], make_attachment: Callable[..., Any]) -> bytes:
    """A document of UBND tỉnh Nghệ An (the agency of the test certificates), Vietnamese
    subject and signer, one attachment."""
    edoc = make_edoc(
        sender=Organization(
            organ_id=AGENCY,
            organization_in_charge=SENDER_NAME,
            organ_name=SENDER_NAME,
            organ_add="Số 03, đường Trường Thi, Thành phố Vinh, Tỉnh Nghệ An",
            email="ubnd@nghean.gov.vn",
        ),
        subject=SUBJECT,
        attachments=[make_attachment("Công văn 215-UBND-KSTT.pdf", ATTACHMENT)],
    )
    return build(edoc)


@pytest.fixture(scope="module")
def signed(package: bytes, pki: PkiWorld) -> bytes:
    return sign_package(package, pki.org)


def only(report: Report) -> SignatureReport:
    assert len(report.signatures) == 1
    return report.signatures[0]


def assert_fails(report: Report, reason: Reason) -> SignatureReport:
    sig = only(report)
    assert sig.reason is reason, (sig.reason, sig.message_en)
    expected = Verdict.UNKNOWN if reason in UNDECIDED else Verdict.INVALID
    assert sig.verdict is expected
    assert report.verdict is expected
    assert report.reason is reason
    assert sig.message_vi and sig.message_en
    return sig


def without_block(signed: bytes) -> bytes:
    """The signed package minus the line the signature block was written on."""
    begin = signed.index(b"<ds:Signature")
    end = signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    line_start = signed.rindex(b"\n", 0, begin) + 1
    assert not signed[line_start:begin].strip()
    assert signed[end : end + 1] == b"\n"
    return signed[:line_start] + signed[end + 1 :]


def header_of(data: bytes) -> Any:
    root = etree.fromstring(data)
    return root.find(f"{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader")


# ------------------------------------------------------------------------------ valid


@pytest.mark.parametrize(
    ("label", "role", "algorithm"),
    [
        ("org", Role.ORG, "rsa-sha256"),
        ("org_ec", Role.ORG, "ecdsa-sha256"),
        ("person", Role.PERSON, "rsa-sha256"),
        ("person_ec", Role.PERSON, "ecdsa-sha256"),
    ],
)
def test_rsa_and_ecdsa_signatures_verify(
    package: bytes, pki: PkiWorld, trust: TrustStore, label: str, role: Role, algorithm: str
) -> None:
    creds = pki.credentials(label)
    report = verify_package(sign_package(package, creds), trust, expected_agency=AGENCY)
    sig = only(report)
    assert report.verdict is Verdict.VALID and report.reason is None
    assert sig.verdict is Verdict.VALID and sig.reason is None
    assert (sig.intact, sig.trusted, sig.revoked) == (True, True, False)
    assert sig.name == creds.identity.name and sig.agency == AGENCY and sig.role is role
    assert sig.algorithm == algorithm
    assert sig.serial == creds.identity.serial
    assert sig.signed_at is None  # XML-DSig carries no signing time
    assert sig.message_en is None


def test_vietnamese_names_survive_and_json_shape(signed: bytes, trust: TrustStore) -> None:
    data = verify_package(signed, trust).to_dict()
    assert data["verdict"] == "valid" and data["reason"] is None
    (sig,) = data["signatures"]
    assert sig["name"] == SENDER_NAME
    for key in ("name", "agency", "role", "signed_at", "intact", "trusted", "revoked", "reason"):
        assert key in sig
    assert sig["role"] == "org"
    json.dumps(data, ensure_ascii=False)  # serialisable as it is


@pytest.mark.parametrize("algorithm", ["rsa-sha384", "rsa-sha512"])
def test_other_rsa_algorithms(
    package: bytes, pki: PkiWorld, trust: TrustStore, algorithm: str
) -> None:
    sig = only(verify_package(sign_package(package, pki.org, algorithm=algorithm), trust))
    assert sig.verdict is Verdict.VALID and sig.algorithm == algorithm


def test_ecdsa_sha384(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    sig = only(verify_package(sign_package(package, pki.org_ec, algorithm="ecdsa-sha384"), trust))
    assert sig.verdict is Verdict.VALID and sig.algorithm == "ecdsa-sha384"


@pytest.mark.parametrize(
    ("label", "algorithm"),
    [("org", "ecdsa-sha256"), ("org_ec", "rsa-sha256"), ("org", "rsa-sha1"), ("org", "md5")],
)
def test_algorithm_must_fit_the_key(
    package: bytes, pki: PkiWorld, label: str, algorithm: str
) -> None:
    with pytest.raises(PkiError) as info:
        sign_package(package, pki.credentials(label), algorithm=algorithm)
    assert info.value.code == "PKI_USAGE"
    assert "rsa-sha256" in SIGNING_ALGORITHMS and "rsa-sha1" not in SIGNING_ALGORITHMS


# ------------------------------------------------------------------------------ placement


def test_block_is_the_last_child_of_the_header_with_the_chain(signed: bytes, pki: PkiWorld) -> None:
    header = header_of(signed)
    elements = [c for c in header if isinstance(c.tag, str)]
    block = elements[-1]
    assert block.tag == f"{{{DS}}}Signature"
    assert [c.tag for c in block] == [
        f"{{{DS}}}{n}" for n in ("SignedInfo", "SignatureValue", "KeyInfo")
    ]
    ref = block.find(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    assert ref.get("URI") == ""
    transforms = [t.get("Algorithm") for t in ref.iterfind(f"{{{DS}}}Transforms/{{{DS}}}Transform")]
    assert transforms == [
        "http://www.w3.org/2000/09/xmldsig#enveloped-signature",
        "http://www.w3.org/2001/10/xml-exc-c14n#",
    ]
    assert (
        ref.find(f"{{{DS}}}DigestMethod").get("Algorithm")
        == "http://www.w3.org/2001/04/xmlenc#sha256"
    )
    c14n = block.find(f"{{{DS}}}SignedInfo/{{{DS}}}CanonicalizationMethod").get("Algorithm")
    assert c14n == "http://www.w3.org/2001/10/xml-exc-c14n#"
    certs = [
        x509.load_der_x509_certificate(base64.b64decode("".join(e.text.split())))
        for e in block.iterfind(f"{{{DS}}}KeyInfo/{{{DS}}}X509Data/{{{DS}}}X509Certificate")
    ]
    assert certs == [pki.org.certificate, *pki.org.chain]
    assert pki.ca.root not in certs


def test_everything_but_the_block_is_byte_identical(package: bytes, signed: bytes) -> None:
    assert without_block(signed) == package
    assert signed.count(b"<ds:Signature xmlns") == 1
    # the block sits on its own line, indented one step deeper than </edXML:edXMLHeader>
    assert b"\n      <ds:Signature xmlns:ds=" in signed
    assert b"</ds:Signature>\n    </edXML:edXMLHeader>" in signed


def test_signed_package_parses_with_attachments_unchanged(package: bytes, signed: bytes) -> None:
    before, after = parse(package), parse(signed)
    assert isinstance(before, Edoc) and isinstance(after, Edoc)
    assert after.subject == SUBJECT
    assert after.signer.full_name == before.signer.full_name
    assert after.signature is not None and after.signature.namespace == DS
    assert after.signature.has_certificate
    assert [a.content.sha256 for a in after.attachments if a.content] == [
        a.content.sha256 for a in before.attachments if a.content
    ]
    assert after.attachments[0].content is not None
    assert after.attachments[0].content.read_bytes() == ATTACHMENT
    before.close()
    after.close()


def test_signxml_verifies_our_signature_against_the_root(signed: bytes, trust_dir: Path) -> None:
    """Interop: an independent verifier (signxml, cryptography's path builder) agrees."""
    config = SignatureConfiguration(location=f"./{{{NS}}}edXMLEnvelope/{{{NS}}}edXMLHeader/")
    result = XMLVerifier().verify(
        signed, ca_pem_file=str(trust_dir / "root.pem"), expect_config=config
    )
    assert SUBJECT.encode() in result.signed_data


def test_an_existing_block_is_replaced(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    first = sign_package(package, pki.org)
    second = sign_package(first, pki.org_ec)
    assert second.count(b"<ds:Signature xmlns") == 1
    assert without_block(second) == package
    sig = only(verify_package(second, trust))
    assert sig.verdict is Verdict.VALID and sig.algorithm == "ecdsa-sha256"


@pytest.mark.parametrize("name", ["edoc_update.edxml", "edoc_replacement.edxml"])
def test_signing_an_official_sample_replaces_its_dummy_block(
    sample: Callable[[str], Path], pki: PkiWorld, trust: TrustStore, name: str
) -> None:
    data = sample(name).read_bytes()
    signed = sign_package(data, pki.org)
    header = header_of(signed)
    blocks = [c for c in header if isinstance(c.tag, str) and c.tag.endswith("Signature")]
    assert [b.tag for b in blocks] == [f"{{{DS}}}Signature"]
    assert b"MIIFqTCCBJG" not in signed  # the truncated certificate went with its block
    tail = data[data.index(b"</edXML:edXMLHeader>") :]
    assert signed.endswith(tail)  # body and attachments untouched
    assert only(verify_package(signed, trust)).verdict is Verdict.VALID
    edoc = parse(signed)
    assert isinstance(edoc, Edoc) and edoc.signature is not None
    edoc.close()


def test_minified_package_gets_the_block_inline(
    package: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    flat = re.sub(rb">\s+<", b"><", package)
    signed = sign_package(flat, pki.org)
    assert b"</ds:Signature></edXML:edXMLHeader>" in signed
    assert only(verify_package(signed, trust)).verdict is Verdict.VALID


def test_signing_unreadable_packages_raises_typed_errors(pki: PkiWorld, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    cases = {
        b"": Code.EMPTY,
        b"not xml at all": Code.MALFORMED,
        (
            f'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file://{secret}">]>'
            f'<edXML xmlns="{NS}"><edXMLEnvelope><edXMLHeader>&x;</edXMLHeader>'
            "</edXMLEnvelope></edXML>"
        ).encode(): Code.DOCTYPE_FORBIDDEN,
        f'<edXML xmlns="{NS}"><edXMLEnvelope/></edXML>'.encode(): Code.REQUIRED,
    }
    for data, code in cases.items():
        with pytest.raises(EdxmlError) as info:
            sign_package(data, pki.org)
        assert info.value.problem.code is code, data


# ------------------------------------------------------------------------------ failures


@pytest.mark.parametrize("where", ["subject", "attachment"])
def test_one_byte_changed_after_signing_is_modified(
    signed: bytes, trust: TrustStore, where: str
) -> None:
    if where == "subject":
        at = signed.index(SUBJECT.encode())  # "V/v …": an ASCII byte, still valid UTF-8
        tampered = signed[:at] + b"W" + signed[at + 1 :]
    else:
        start = signed.index(b'QCVN_102_2016">', signed.index(b"ContentTransferEncoded")) + 15
        at = start + 100
        flipped = b"A" if signed[at : at + 1] != b"A" else b"B"
        tampered = signed[:at] + flipped + signed[at + 1 :]
    assert len(tampered) == len(signed) and tampered != signed
    sig = assert_fails(verify_package(tampered, trust), Reason.MODIFIED)
    assert sig.intact is False
    assert sig.trusted is True  # the certificate itself is fine
    assert sig.name == SENDER_NAME


def test_tampered_signature_value_is_bad_signature(signed: bytes, trust: TrustStore) -> None:
    m = re.search(rb"<ds:SignatureValue>(.*?)</ds:SignatureValue>", signed, re.S)
    assert m is not None
    value = bytearray(base64.b64decode(m.group(1)))
    value[10] ^= 0x01
    tampered = signed[: m.start(1)] + base64.b64encode(bytes(value)) + signed[m.end(1) :]
    sig = assert_fails(verify_package(tampered, trust), Reason.BAD_SIGNATURE)
    assert sig.name == SENDER_NAME


def test_certificate_swapped_in_key_info_is_bad_signature(
    signed: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    m = re.search(rb"<ds:X509Certificate>(.*?)</ds:X509Certificate>", signed, re.S)
    assert m is not None
    ours = base64.b64decode(m.group(1))
    assert ours == pki.org.certificate.public_bytes(Encoding.DER)
    other = base64.b64encode(pki.other_person.certificate.public_bytes(Encoding.DER))
    swapped = signed[: m.start(1)] + other + signed[m.end(1) :]
    assert_fails(verify_package(swapped, trust), Reason.BAD_SIGNATURE)


def test_wrong_root_is_untrusted(signed: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    sig = assert_fails(
        verify_package(signed, TrustStore.load(pki.stranger_trust_dir)), Reason.UNTRUSTED
    )
    assert sig.intact is True and sig.trusted is False
    # and the other way round: a certificate of an unrelated CA
    stranger = sign_package(signed, pki.stranger)
    assert_fails(verify_package(stranger, trust), Reason.UNTRUSTED)


def test_empty_trust_store_trusts_nothing(signed: bytes) -> None:
    assert_fails(verify_package(signed, TrustStore()), Reason.UNTRUSTED)


def test_expired_certificate(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    sig = assert_fails(verify_package(sign_package(package, pki.expired), trust), Reason.EXPIRED)
    assert sig.intact is True and sig.trusted is False


def test_expired_certificate_was_fine_while_valid(
    package: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    """``at`` checks certificates at another moment (when a CRL valid then is held)."""
    cert = pki.expired.certificate
    at = cert.not_valid_before_utc + timedelta(days=1)
    sig = only(verify_package(sign_package(package, pki.expired), trust, at=at))
    # the chain was sound then; today's CRLs postdate `at`, so revocation is undecided
    assert sig.reason is Reason.NO_REVOCATION_INFO and sig.verdict is Verdict.UNKNOWN
    assert sig.trusted is True and sig.intact is True and sig.revoked is None


def test_revoked_certificate(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    sig = assert_fails(verify_package(sign_package(package, pki.revoked), trust), Reason.REVOKED)
    assert sig.revoked is True and sig.trusted is False and sig.intact is True


def test_missing_intermediate_is_untrusted(
    package: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    signed = sign_package(package, without_chain(pki.org))
    header = header_of(signed)
    assert len(header.findall(f".//{{{DS}}}X509Certificate")) == 1
    assert not trust.intermediates
    sig = assert_fails(verify_package(signed, trust), Reason.UNTRUSTED)
    assert sig.intact is True
    # the store's intermediates help to build the path (they are not anchors)
    helped = TrustStore(roots=trust.roots, crls=trust.crls, intermediates=[pki.ca.issuing])
    assert only(verify_package(signed, helped)).verdict is Verdict.VALID


def test_signer_of_another_agency(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    signed = sign_package(package, pki.other_person)
    edoc = parse(signed)
    assert isinstance(edoc, Edoc)
    sender = edoc.sender.organ_id
    edoc.close()
    assert sender == AGENCY
    sig = assert_fails(verify_package(signed, trust, expected_agency=sender), Reason.WRONG_AGENCY)
    assert sig.agency == "000.00.00.G22" and sig.trusted is True and sig.intact is True
    # without an expected agency nothing is compared
    assert verify_package(signed, trust).verdict is Verdict.VALID
    # codes compare without regard to case and surrounding blanks
    assert (
        verify_package(
            sign_package(package, pki.org), trust, expected_agency=" 000.00.00.h41 "
        ).verdict
        is Verdict.VALID
    )


def test_no_revocation_information_is_unknown(signed: bytes, trust: TrustStore) -> None:
    sig = assert_fails(
        verify_package(signed, TrustStore(roots=trust.roots)), Reason.NO_REVOCATION_INFO
    )
    assert sig.trusted is True and sig.revoked is None and sig.intact is True


def test_unsigned_package_is_unknown(package: bytes, trust: TrustStore) -> None:
    sig = assert_fails(verify_package(package, trust), Reason.NOT_SIGNED)
    assert sig.intact is False and sig.name is None


def test_dotnet_empty_digital_signature_is_not_signed(package: bytes, trust: TrustStore) -> None:
    data = package.replace(
        b"</edXML:edXMLHeader>", b"<edXML:DigitalSignature/></edXML:edXMLHeader>"
    )
    sig = assert_fails(verify_package(data, trust), Reason.NOT_SIGNED)
    assert sig.message_en is not None and "DigitalSignature" in sig.message_en


# ------------------------------------------------------------------------------ samples


@pytest.mark.parametrize("name", EDOC_SAMPLES + STATUS_SAMPLES)
@pytest.mark.parametrize("allow_sha1", [True, False])
def test_official_samples_give_typed_non_valid_verdicts(
    sample: Callable[[str], Path], trust: TrustStore, name: str, allow_sha1: bool
) -> None:
    report = verify_package(sample(name).read_bytes(), trust, allow_sha1=allow_sha1)
    sig = only(report)
    assert report.verdict is not Verdict.VALID
    assert isinstance(sig.reason, Reason)
    if name.startswith("status"):
        assert sig.reason is Reason.NOT_SIGNED
    elif name == "edoc.edxml":  # a real VNPT-CA certificate, dummy values, RSA-SHA1
        assert sig.reason is (Reason.BAD_SIGNATURE if allow_sha1 else Reason.UNSUPPORTED)
        assert sig.algorithm == "rsa-sha1"
        assert sig.name  # read from the (untrusted) certificate
        assert sig.trusted is False
    else:  # VNPT dialect, truncated certificate "MIIFqTCCBJG"
        assert sig.reason is Reason.MALFORMED
        assert sig.algorithm == "rsa-sha1"


def test_unreadable_sample_is_malformed_not_an_exception(
    sample: Callable[[str], Path], trust: TrustStore
) -> None:
    assert_fails(verify_package(sample("edoc_new.edxml").read_bytes(), trust), Reason.MALFORMED)


# ------------------------------------------------------------------------------ legacy / VNPT


class _LegacySigner(XMLSigner):
    """signxml with SHA-1 explicitly allowed, writing an unprefixed block (default
    namespace) as .NET signers do."""

    def check_deprecated_methods(self) -> None:
        return None

    def _ds_tag(self, tag: str) -> Any:
        return etree.QName(DS, tag)


def vnpt_signed(package: bytes, creds: Credentials) -> bytes:
    """A legacy RSA-SHA1 block (inclusive C14N, SHA-1 digest) as the VNPT SDK writes it:
    unprefixed, inheriting the edXML default namespace of the root."""
    end = package.index(b"</edXML:edXMLHeader>")
    placeholder = f'<Signature xmlns="{DS}" Id="placeholder"/>'.encode()
    root = etree.fromstring(package[:end] + placeholder + package[end:])
    signer = _LegacySigner(
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
        c14n_algorithm="http://www.w3.org/TR/2001/REC-xml-c14n-20010315",
    )
    signer.namespaces = {None: DS}
    result = signer.sign(root, key=creds.private_key, cert=[creds.certificate, *creds.chain])
    block = result.find(f".//{{{DS}}}Signature")
    text = etree.tostring(block, encoding="UTF-8", with_tail=False)
    text = re.sub(rb' xmlns(?::edXML)?="[^"]*"', b"", text)  # now in the edXML namespace
    assert text.startswith(b"<Signature><SignedInfo>")
    return package[:end] + text + package[end:]


def test_vnpt_legacy_rsa_sha1_block_verifies_when_allowed(
    package: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    data = vnpt_signed(package, pki.org)
    edoc = parse(data)
    assert isinstance(edoc, Edoc) and edoc.signature is not None
    assert edoc.signature.namespace == NS  # the parser sees the VNPT dialect
    edoc.close()
    sig = only(verify_package(data, trust, expected_agency=AGENCY))
    assert sig.verdict is Verdict.VALID, sig.message_en
    assert sig.algorithm == "rsa-sha1"
    assert sig.message_en is not None and "VNPT dialect" in sig.message_en
    assert "SHA-1" in sig.message_en
    assert sig.message_vi is not None and "VNPT" in sig.message_vi


def test_vnpt_legacy_block_is_unsupported_when_sha1_refused(
    package: bytes, pki: PkiWorld, trust: TrustStore
) -> None:
    sig = assert_fails(
        verify_package(vnpt_signed(package, pki.org), trust, allow_sha1=False),
        Reason.UNSUPPORTED,
    )
    assert sig.algorithm == "rsa-sha1" and sig.name == SENDER_NAME


def test_vnpt_block_tampered_is_modified(package: bytes, pki: PkiWorld, trust: TrustStore) -> None:
    data = vnpt_signed(package, pki.org).replace(SUBJECT.encode(), SUBJECT.upper().encode())
    assert_fails(verify_package(data, trust), Reason.MODIFIED)


# ------------------------------------------------------------------------------ hostile


def test_xxe_and_doctype_are_malformed_and_read_no_file(
    signed: bytes, trust: TrustStore, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-42")
    body = signed.split(b"?>", 1)[1]
    attacks = [
        f'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY x SYSTEM "file://{secret}">]>'.encode()
        + body.replace(b"<edXML:Content>", b"<edXML:Content>&x;", 1),
        b'<!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/evil.dtd">' + body,
        b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;'
        b'&a;&a;&a;&a;&a;&a;">]>' + body.replace(b"<edXML:Content>", b"<edXML:Content>&b;", 1),
    ]
    for data in attacks:
        report = verify_package(data, trust)
        assert_fails(report, Reason.MALFORMED)
        assert "TOP-SECRET-42" not in json.dumps(report.to_dict(), ensure_ascii=False)


def _block(inner: str, ns: str = DS) -> str:
    return f'<Signature xmlns="{ns}">{inner}</Signature>'


_HOSTILE_BLOCKS = {
    "empty block": (_block(""), Reason.MALFORMED),
    "empty SignedInfo": (
        _block("<SignedInfo/><SignatureValue>AAAA</SignatureValue>"),
        Reason.MALFORMED,
    ),
    "garbage text": (_block("<SignedInfo>&lt;x&gt;</SignedInfo>"), Reason.MALFORMED),
}


@pytest.mark.parametrize("case", sorted(_HOSTILE_BLOCKS))
def test_junk_blocks_never_raise(package: bytes, trust: TrustStore, case: str) -> None:
    block, reason = _HOSTILE_BLOCKS[case]
    data = package.replace(b"</edXML:edXMLHeader>", block.encode() + b"</edXML:edXMLHeader>")
    assert_fails(verify_package(data, trust), reason)


def _edit_signed(signed: bytes, old: bytes, new: bytes) -> bytes:
    assert old in signed, old
    return signed.replace(old, new, 1)


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        (b'<ds:Reference URI="">', b'<ds:Reference URI="#doc">', Reason.UNSUPPORTED),
        (
            b"xmldsig#enveloped-signature",
            b"xmldsig#base64",
            Reason.UNSUPPORTED,
        ),
        (b"xmldsig-more#rsa-sha256", b"xmldsig-more#rsa-md5", Reason.UNSUPPORTED),
        (b"xmlenc#sha256", b"xmlenc#ripemd160", Reason.UNSUPPORTED),
        (
            b'xml-exc-c14n#"/><ds:SignatureMethod',
            b'xml-c14n-2#"/><ds:SignatureMethod',
            Reason.UNSUPPORTED,
        ),
        (b"xmldsig-more#rsa-sha256", b"xmldsig-more#ecdsa-sha256", Reason.BAD_SIGNATURE),
        (b"<ds:DigestValue>", b"<ds:DigestValue>!!", Reason.MALFORMED),
        (b"<ds:X509Certificate>", b"<ds:X509Certificate>MIIFqTCCBJG", Reason.MALFORMED),
    ],
    ids=[
        "reference-to-an-id",
        "no-enveloped-transform",
        "unknown-signature-method",
        "unknown-digest",
        "unknown-c14n",
        "algorithm-for-another-key-type",
        "digest-not-base64",
        "certificate-damaged",
    ],
)
def test_edited_blocks_never_raise(
    signed: bytes, trust: TrustStore, old: bytes, new: bytes, reason: Reason
) -> None:
    assert_fails(verify_package(_edit_signed(signed, old, new), trust), reason)


def test_key_info_is_outside_the_signed_data(signed: bytes, trust: TrustStore) -> None:
    edited = signed.replace(b"<ds:KeyInfo>", "<ds:KeyInfo><ds:KeyName>tên</ds:KeyName>".encode(), 1)
    assert only(verify_package(edited, trust)).verdict is Verdict.VALID


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   ",
        b"\x00\x01\x02",
        b"<",
        b"<edXML/>",
        b'<edXML xmlns="urn:other"><edXMLEnvelope/></edXML>',
        f'<edXML xmlns="{NS}"><edXMLEnvelope><edXMLHeader/></edXMLEnvelope></edXML>'.encode(),
        b"<?xml version='1.0' encoding='UTF-16'?><a/>",
        b"\xff\xfe<\x00a\x00/\x00>\x00",
    ],
)
def test_garbage_never_raises(data: bytes, trust: TrustStore) -> None:
    report = verify_package(data, trust)
    assert report.verdict is not Verdict.VALID
    assert only(report).reason in {Reason.MALFORMED, Reason.NOT_SIGNED}


def test_two_blocks_are_unsupported(signed: bytes, trust: TrustStore) -> None:
    begin = signed.index(b"<ds:Signature")
    end = signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    doubled = signed[:end] + signed[begin:end] + signed[end:]
    assert_fails(verify_package(doubled, trust), Reason.UNSUPPORTED)


def test_signature_outside_the_header_is_unsupported(signed: bytes, trust: TrustStore) -> None:
    begin = signed.index(b"<ds:Signature")
    end = signed.index(b"</ds:Signature>") + len(b"</ds:Signature>")
    moved = signed[:begin] + signed[end:]
    moved = moved.replace(b"</edXML:edXMLBody>", signed[begin:end] + b"</edXML:edXMLBody>")
    assert_fails(verify_package(moved, trust), Reason.UNSUPPORTED)


# ------------------------------------------------------------------------------ revocation.py


def test_revoked_certificate_without_crl_distribution_point_is_caught(
    fresh_ca: CertificateAuthority,
) -> None:
    """python-stack.md §2: a CRL must not be ignored because the certificate names none."""
    issuing_key = fresh_ca.keys.issuing
    now = datetime.now(UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Không có CRL DP")]))
        .issuer_name(fresh_ca.issuing.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, True, False, False, False, False, False, False, False),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(fresh_ca.issuing.public_key()),
            critical=False,
        )
        .sign(issuing_key, hashes.SHA384())
    )
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(fresh_ca.issuing.subject)
        .last_update(now - timedelta(minutes=5))
        .next_update(now + timedelta(days=7))
        .add_extension(x509.CRLNumber(1000), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(fresh_ca.issuing.public_key()),
            critical=False,
        )
        .add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(cert.serial_number)
            .revocation_date(now - timedelta(minutes=10))
            .build()
        )
        .sign(issuing_key, hashes.SHA384())
    )
    store = TrustStore(roots=[fresh_ca.root], crls=[fresh_ca.root_crl(), crl])
    check = check_certificate(cert, extra_certs=[fresh_ca.issuing], trust=store)
    assert check.reason is Reason.REVOKED and check.revoked is True and not check.ok
    # revoked later than the moment asked about: not revoked then
    earlier = check_certificate(
        cert, extra_certs=[fresh_ca.issuing], trust=store, at=now - timedelta(hours=1)
    )
    assert earlier.revoked is not True


def test_check_certificate_outcomes(pki: PkiWorld, trust: TrustStore) -> None:
    ok = check_certificate(pki.org.certificate, extra_certs=pki.org.chain, trust=trust)
    assert ok.ok and ok.trusted and ok.revoked is False and not ok.expired
    expired = check_certificate(pki.expired.certificate, extra_certs=pki.expired.chain, trust=trust)
    assert expired.reason is Reason.EXPIRED and expired.expired
    revoked = check_certificate(pki.revoked.certificate, extra_certs=pki.revoked.chain, trust=trust)
    assert revoked.reason is Reason.REVOKED and revoked.revoked is True
    lonely = check_certificate(pki.org.certificate, trust=trust)
    assert lonely.reason is Reason.UNTRUSTED and not lonely.trusted
    no_crl = check_certificate(
        pki.org.certificate, extra_certs=pki.org.chain, trust=TrustStore(roots=trust.roots)
    )
    assert no_crl.reason is Reason.NO_REVOCATION_INFO and no_crl.trusted and no_crl.revoked is None
    assert no_crl.detail


def test_check_certificate_inside_a_running_event_loop(pki: PkiWorld, trust: TrustStore) -> None:
    async def main() -> tuple[bool, bool]:
        sync = check_certificate(pki.org.certificate, extra_certs=pki.org.chain, trust=trust)
        native = await check_certificate_async(
            pki.org.certificate, extra_certs=pki.org.chain, trust=trust
        )
        return sync.ok, native.ok

    assert asyncio.run(main()) == (True, True)


# ------------------------------------------------------------------------------ size


def test_large_package_signs_and_verifies_quickly(
    make_edoc: Callable[..., Edoc],
    make_attachment: Callable[..., Any],
    pki: PkiWorld,
    trust: TrustStore,
) -> None:
    edoc = make_edoc(
        sender=Organization(organ_id=AGENCY, organ_name=SENDER_NAME),
        attachments=[make_attachment("Hồ sơ.pdf", os.urandom(3_800_000))],
    )
    data = build(edoc)
    assert len(data) > 5_000_000
    signed = sign_package(data, pki.org)
    assert without_block(signed) == data
    start = time.perf_counter()
    report = verify_package(signed, trust)
    elapsed = time.perf_counter() - start
    assert report.verdict is Verdict.VALID
    assert elapsed < 2.0  # tens of ms on the reference VM; generous for CI
    tampered = signed[:-2000] + (b"A" if signed[-2000:-1999] != b"A" else b"B") + signed[-1999:]
    assert only(verify_package(tampered, trust)).reason is Reason.MODIFIED


# ------------------------------------------------------------------------------ CLI


@pytest.fixture
def cli() -> typer.Typer:
    sign_group = typer.Typer(no_args_is_help=True)
    verify_group = typer.Typer(no_args_is_help=True)

    @sign_group.callback()
    def _sign() -> None:
        """sign"""

    @verify_group.callback()
    def _verify() -> None:
        """verify"""

    register(sign_group, verify_group)
    app = typer.Typer(no_args_is_help=True)
    app.add_typer(sign_group, name="sign")
    app.add_typer(verify_group, name="verify")
    return app


def run(app: typer.Typer, *args: str | Path) -> Result:
    runner = CliRunner(env={"COLUMNS": "200", "NO_COLOR": "1"})
    return runner.invoke(app, [str(a) for a in args])


def json_of(result: Result) -> Any:
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return json.loads(result.stdout)


def test_cli_sign_then_verify(
    cli: typer.Typer, package: bytes, pki: PkiWorld, trust_dir: Path, tmp_path: Path
) -> None:
    source = tmp_path / "Công văn 215.edxml"
    source.write_bytes(package)
    out = tmp_path / "signed.edxml"
    result = run(
        cli,
        "sign",
        "edxml",
        source,
        "--cert",
        pki.p12["org_ec"],
        "--password",
        P12_PASSWORD,
        "-o",
        out,
        "--json",
    )
    assert result.exit_code == 0, result.output
    info = json_of(result)
    assert info["ok"] is True and info["algorithm"] == "ecdsa-sha256"
    assert info["name"] == SENDER_NAME and info["agency"] == AGENCY
    assert without_block(out.read_bytes()) == package

    result = run(cli, "verify", "edxml", out, "--trust", trust_dir, "--agency", AGENCY, "--json")
    assert result.exit_code == 0, result.output
    data = json_of(result)
    assert data["verdict"] == "valid" and data["reason"] is None
    assert data["file"] == str(out)
    (sig,) = data["signatures"]
    assert {
        k: sig[k]
        for k in ("name", "agency", "role", "signed_at", "intact", "trusted", "revoked", "reason")
    } == {
        "name": SENDER_NAME,
        "agency": AGENCY,
        "role": "org",
        "signed_at": None,
        "intact": True,
        "trusted": True,
        "revoked": False,
        "reason": None,
    }
    # human output
    result = run(cli, "verify", "edxml", out, "--trust", trust_dir)
    assert result.exit_code == 0 and "VALID" in result.stdout


def test_cli_verify_failures_exit_1(
    cli: typer.Typer,
    signed: bytes,
    package: bytes,
    trust_dir: Path,
    tmp_path: Path,
    sample: Callable[[str], Path],
) -> None:
    good = tmp_path / "good.edxml"
    good.write_bytes(signed)
    result = run(
        cli, "verify", "edxml", good, "--trust", trust_dir, "--agency", "000.00.00.G22", "--json"
    )
    assert result.exit_code == 1
    assert json_of(result)["reason"] == "SIG_WRONG_AGENCY"

    bad = tmp_path / "bad.edxml"
    bad.write_bytes(signed.replace(SUBJECT.encode(), SUBJECT.replace("2024", "2025").encode()))
    result = run(cli, "verify", "edxml", bad, "--trust", trust_dir, "--json")
    assert result.exit_code == 1
    data = json_of(result)
    assert data["verdict"] == "invalid" and data["signatures"][0]["reason"] == "SIG_MODIFIED"

    unsigned = tmp_path / "unsigned.edxml"
    unsigned.write_bytes(package)
    result = run(cli, "verify", "edxml", unsigned, "--trust", trust_dir, "--json")
    assert result.exit_code == 1
    assert json_of(result)["verdict"] == "unknown"

    result = run(
        cli, "verify", "edxml", sample("edoc.edxml"), "--trust", trust_dir, "--no-sha1", "--json"
    )
    assert result.exit_code == 1
    assert json_of(result)["reason"] == "SIG_UNSUPPORTED"

    result = run(cli, "verify", "edxml", bad, "--trust", trust_dir)
    assert result.exit_code == 1 and "SIG_MODIFIED" in result.stdout


def test_cli_unreadable_inputs_exit_2(
    cli: typer.Typer,
    signed: bytes,
    pki: PkiWorld,
    trust_dir: Path,
    tmp_path: Path,
    sample: Callable[[str], Path],
) -> None:
    good = tmp_path / "good.edxml"
    good.write_bytes(signed)
    cases = [
        ("verify", "edxml", sample("edoc_new.edxml"), "--trust", trust_dir, "--json"),
        ("verify", "edxml", tmp_path / "missing.edxml", "--trust", trust_dir, "--json"),
        ("verify", "edxml", good, "--trust", tmp_path / "no-such-dir", "--json"),
        (
            "sign",
            "edxml",
            good,
            "--cert",
            pki.p12["org"],
            "--password",
            "sai",
            "-o",
            tmp_path / "x",
            "--json",
        ),
        (
            "sign",
            "edxml",
            sample("edoc_new.edxml"),
            "--cert",
            pki.p12["org"],
            "--password",
            P12_PASSWORD,
            "-o",
            tmp_path / "y",
            "--json",
        ),
        (
            "sign",
            "edxml",
            good,
            "--cert",
            pki.p12["org"],
            "--password",
            P12_PASSWORD,
            "--algorithm",
            "ecdsa-sha256",
            "-o",
            tmp_path / "z",
            "--json",
        ),
    ]
    for args in cases:
        result = run(cli, *args)
        assert result.exit_code == 2, (args, result.output)
        data = json_of(result)
        assert data["ok"] is False and data["error"]["code"]
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_cli_password_from_environment(
    cli: typer.Typer, package: bytes, pki: PkiWorld, tmp_path: Path
) -> None:
    source = tmp_path / "in.edxml"
    source.write_bytes(package)
    runner = CliRunner(env={"LIENTHONG_P12_PASSWORD": P12_PASSWORD})
    result = runner.invoke(
        cli,
        [
            "sign",
            "edxml",
            str(source),
            "--cert",
            str(pki.p12["person"]),
            "-o",
            str(tmp_path / "o.edxml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert (tmp_path / "o.edxml").read_bytes().count(b"<ds:Signature xmlns") == 1
