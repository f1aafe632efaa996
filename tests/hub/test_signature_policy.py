"""The hub verifies signatures on intake and applies its policy: require / flag / off."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF
from lxml import etree
from signxml.algorithms import DigestAlgorithm, SignatureMethod
from signxml.signer import XMLSigner

from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import (
    Attachment,
    Business,
    DocumentCode,
    Edoc,
    Organization,
    PromulgationInfo,
    ResponseFor,
)
from lienthong.hub import directory, intake, mailbox, signatures
from lienthong.hub.errors import HubError
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from lienthong.pki.credentials import Credentials
from lienthong.pki.pdf import sign_org, sign_person
from lienthong.pki.xmldsig import DS, sign_package
from support import new_status

SENDER = "000.00.00.H41"  # the agency of the test PKI's person and organisation


def _pdf() -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(0, 10, "QUYET DINH so 12/QD-UBND")
    return bytes(doc.output())


def _package(pdf: bytes, number: str, *extra: Attachment) -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=SENDER, organ_name="UBND tỉnh Nghệ An"),
            recipients=[Organization(organ_id="000.00.00.G22")],
            code=DocumentCode(number, "QĐ-UBND"),
            promulgation=PromulgationInfo("Nghệ An", "2026/11/27"),
            subject="Quyết định phê duyệt kế hoạch chuyển đổi số",
            attachments=[
                Attachment(
                    name="12-QD-UBND.signed.pdf",
                    content_type="application/pdf",
                    content=Blob.from_bytes(pdf),
                ),
                *extra,
            ],
        )
    )


def _signed_pdf(person: Any, org: Any) -> bytes:
    return sign_org(sign_person(_pdf(), person), org)


class _Sha1Signer(XMLSigner):
    """signxml with the legacy RSA-SHA1 / SHA-1 of the official samples allowed."""

    def check_deprecated_methods(self) -> None:
        return None


def _sha1_signed(package: bytes, creds: Credentials) -> bytes:
    """``package`` with a legacy RSA-SHA1 block as the last child of ``edXMLHeader``."""
    end = re.search(rb"</(?:[\w.-]+:)?edXMLHeader>", package)
    assert end is not None
    at = end.start()
    placeholder = f'<ds:Signature xmlns:ds="{DS}" Id="placeholder"/>'.encode()
    root = etree.fromstring(package[:at] + placeholder + package[at:])
    signer = _Sha1Signer(
        signature_algorithm=SignatureMethod.RSA_SHA1,
        digest_algorithm=DigestAlgorithm.SHA1,
        c14n_algorithm="http://www.w3.org/2001/10/xml-exc-c14n#",
    )
    result = signer.sign(root, key=creds.private_key, cert=[creds.certificate, *creds.chain])
    block = result.find(f".//{{{DS}}}Signature")
    return package[:at] + etree.tostring(block, with_tail=False) + package[at:]


@pytest.fixture
def make_hub(database_url: str, tmp_path: Path, trust_dir: Path) -> Any:
    hubs: list[Hub] = []

    def make(policy: str) -> Hub:
        hub = Hub(
            Settings(
                data_dir=tmp_path / f"data-{policy}",
                database_url=database_url,
                # hubs on one database share the key sealing its secrets
                secret_key_file=tmp_path / "secret.key",
                blob_url=str(tmp_path / "blobs"),
                signature_policy=policy,
                trust_dir=trust_dir,
            )
        )
        with hub.session() as s:
            if directory.find_agency(s, code=SENDER) is None:
                directory.add_agency(s, code=SENDER, name="UBND tỉnh Nghệ An")
                directory.add_agency(s, code="000.00.00.G22", name="Văn phòng Chính phủ")
            directory.add_system(s, system_id="h41", agencies=[SENDER])
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        hub.close()


def _accept(hub: Hub, data: bytes, tmp_path: Path) -> intake.AcceptResult:
    path = tmp_path / f"{hashlib.sha256(data).hexdigest()[:12]}.edxml"
    path.write_bytes(data)
    body = intake.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        return intake.accept(
            s,
            system=system,
            body=body,
            blobs=hub.blobs,
            limits=hub.limits,
            signature_policy=hub.settings.signature_policy,
            trust=hub.trust,
        )


def _signatures(hub: Hub, message_id: str) -> dict[str, Any]:
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        sig: dict[str, Any] = mailbox.timeline(s, system=system, message_id=message_id)["message"][
            "signatures"
        ]
    return sig


def test_require_accepts_a_document_signed_by_the_person_and_the_organisation(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    pdf = sign_org(sign_person(_pdf(), person_creds), org_creds)
    signed = sign_package(_package(pdf, "12"), org_creds)
    result = _accept(hub, signed, tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["pdf"] == "valid" and sig["package"] == "valid"
    roles = [s["role"] for s in sig["report"]["pdf"][0]["signatures"]]
    assert roles == ["person", "org"]


def test_require_refuses_an_unsigned_pdf_and_writes_nothing(make_hub: Any, tmp_path: Path) -> None:
    hub = make_hub("require")
    with pytest.raises(HubError) as info:
        _accept(hub, _package(_pdf(), "13"), tmp_path)
    assert info.value.code == "HUB_SIGNATURE_REQUIRED" and info.value.status == 422
    assert info.value.message_vi and info.value.message_en
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        assert mailbox.sent(s, system=system) == []


def test_require_refuses_a_pdf_signed_by_another_agency(
    make_hub: Any, other_agency_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    pdf = sign_person(_pdf(), other_agency_creds)
    with pytest.raises(HubError) as info:
        _accept(hub, _package(pdf, "14"), tmp_path)
    assert "SIG_WRONG_AGENCY" in info.value.message_en


def test_flag_accepts_and_records_what_is_wrong(
    make_hub: Any, revoked_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("flag")
    pdf = sign_person(_pdf(), revoked_creds)
    result = _accept(hub, _package(pdf, "15"), tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["pdf"] == "invalid" and sig["package"] == "unknown"
    assert sig["report"]["pdf"][0]["reason"] == "SIG_REVOKED"
    assert sig["report"]["package"]["reason"] == "SIG_NOT_SIGNED"


def test_off_verifies_nothing(make_hub: Any, tmp_path: Path) -> None:
    hub = make_hub("off")
    result = _accept(hub, _package(_pdf(), "16"), tmp_path)
    assert _signatures(hub, result.message_id) == {"package": None, "pdf": None, "report": None}


@pytest.mark.parametrize(
    ("name", "content_type", "prefix"),
    [
        ("phu-luc.bin", "application/octet-stream", b"\n"),  # found by its %PDF- header
        ("phu-luc.bin", "application/octet-stream", b"x" * 1000),
        ("PHU-LUC.PDF", "application/octet-stream", b"x" * 2000),  # by its name
        ("phu-luc", "application/pdf", b"x" * 2000),  # by its declared type
    ],
)
def test_require_does_not_skip_a_pdf_that_does_not_start_with_the_header(
    make_hub: Any,
    person_creds: Any,
    org_creds: Any,
    tmp_path: Path,
    name: str,
    content_type: str,
    prefix: bytes,
) -> None:
    """A signed PDF plus an unsigned one behind a leading newline (viewers still render
    it): the second must be verified, not skipped."""
    hub = make_hub("require")
    hidden = Attachment(
        name=name, content_type=content_type, content=Blob.from_bytes(prefix + _pdf())
    )
    data = _package(_signed_pdf(person_creds, org_creds), "20", hidden)
    with pytest.raises(HubError) as info:
        _accept(hub, data, tmp_path)
    assert info.value.code == "HUB_SIGNATURE_REQUIRED"
    assert name in info.value.message_en
    reports = info.value.details["signatures"]["pdf"]
    assert [(r["attachment"], r["verdict"]) for r in reports] == [
        ("12-QD-UBND.signed.pdf", "valid"),
        (name, reports[1]["verdict"]),
    ]
    assert reports[1]["verdict"] != "valid"


def test_a_non_pdf_attachment_is_not_verified(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    sheet = Attachment(
        name="du-toan.xlsx",
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        # a real workbook (an archive with no PDF inside); "%PDF-" in a broken archive
        # would be content the hub cannot check (see the tests at the end)
        content=Blob.from_bytes(_zip(("xl/workbook.xml", b"<workbook/>"))),
    )
    result = _accept(hub, _package(_signed_pdf(person_creds, org_creds), "21", sheet), tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["pdf"] == "valid"
    assert [r["attachment"] for r in sig["report"]["pdf"]] == ["12-QD-UBND.signed.pdf"]


def test_a_pdf_too_large_to_verify_is_unknown_and_refused_under_require(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    pdf = _signed_pdf(person_creds, org_creds)
    monkeypatch.setattr(signatures, "MAX_VERIFY_BYTES", len(pdf) - 1)
    data = _package(pdf, "22")
    with pytest.raises(HubError) as info:
        _accept(make_hub("require"), data, tmp_path)
    assert info.value.code == "HUB_SIGNATURE_REQUIRED"
    assert "too large to verify" in info.value.message_en

    hub = make_hub("flag")
    sig = _signatures(hub, _accept(hub, data, tmp_path).message_id)
    assert sig["pdf"] == "unknown"
    (report,) = sig["report"]["pdf"]
    assert report["verdict"] == "unknown" and report["reason"] == "SIG_UNSUPPORTED"
    assert "too large to verify" in report["message_en"]


@pytest.mark.parametrize(("signer", "missing"), [("person", "org"), ("org", "person")])
def test_require_refuses_a_document_without_both_signatures(
    make_hub: Any,
    person_creds: Any,
    org_creds: Any,
    tmp_path: Path,
    signer: str,
    missing: str,
) -> None:
    """Decree 30: the competent person's signature and the organisation's."""
    hub = make_hub("require")
    pdf = (
        sign_person(_pdf(), person_creds)
        if signer == "person"
        else sign_org(_pdf(), org_creds, over_person=False)
    )
    with pytest.raises(HubError) as info:
        _accept(hub, _package(pdf, "23"), tmp_path)
    assert info.value.code == "HUB_SIGNATURE_ROLES_MISSING" and info.value.status == 422
    assert "Decree 30" in info.value.message_en and "Nghị định 30" in info.value.message_vi
    assert info.value.details["missing_roles"] == [missing]
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        assert mailbox.sent(s, system=system) == []


def test_require_accepts_the_two_signatures_on_two_attachments(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    annex = Attachment(
        name="phu-luc.pdf",
        content_type="application/pdf",
        content=Blob.from_bytes(sign_org(_pdf(), org_creds, over_person=False)),
    )
    data = _package(sign_person(_pdf(), person_creds), "24", annex)
    sig = _signatures(hub, _accept(hub, data, tmp_path).message_id)
    assert sig["pdf"] == "valid"


def test_require_accepts_a_status_package(make_hub: Any, org_creds: Any, tmp_path: Path) -> None:
    """A status carries no PDF: only its package signature is checked."""
    hub = make_hub("require")
    unsigned = _accept(hub, build(new_status()), tmp_path)
    sig = _signatures(hub, unsigned.message_id)
    assert sig["pdf"] is None and sig["package"] == "unknown"

    signed = sign_package(build(new_status(status_code="05")), org_creds)
    sig = _signatures(hub, _accept(hub, signed, tmp_path).message_id)
    assert sig["pdf"] is None and sig["package"] == "valid"

    tampered = signed.replace("Tiếp nhận".encode(), "Từ chối".encode())
    assert tampered != signed
    with pytest.raises(HubError) as info:
        _accept(hub, tampered, tmp_path)
    assert info.value.code == "HUB_PACKAGE_SIGNATURE_INVALID"


def test_require_accepts_a_revocation_without_attachments(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    original = _accept(hub, _package(_signed_pdf(person_creds, org_creds), "25"), tmp_path)
    with hub.session() as s:
        document_id = mailbox.timeline(
            s, system=directory.get_system(s, system_id="h41"), message_id=original.message_id
        )["message"]["document_id"]
    revocation = Edoc(
        sender=Organization(organ_id=SENDER, organ_name="UBND tỉnh Nghệ An"),
        recipients=[Organization(organ_id="000.00.00.G22")],
        code=DocumentCode("25", "QĐ-UBND"),
        promulgation=PromulgationInfo("Nghệ An", "2026/11/27"),
        subject="Quyết định phê duyệt kế hoạch chuyển đổi số",
        response_for=[
            ResponseFor(
                organ_id=SENDER,
                code="25/QĐ-UBND",
                promulgation_date="2026/11/27",
                document_id=document_id,
            )
        ],
        business=Business(doc_type="1", reason="Thu hồi do sai sót về thể thức", paper="0"),
    )
    result = _accept(hub, build(revocation), tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["pdf"] is None and sig["package"] == "unknown"
    assert sig["report"]["pdf"] == []


def test_a_legacy_sha1_package_signature_is_unknown_not_valid(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    data = _sha1_signed(_package(_signed_pdf(person_creds, org_creds), "26"), org_creds)
    assert b"rsa-sha1" in data
    for policy in ("flag", "require"):  # undecidable never blocks
        hub = make_hub(policy)
        sig = _signatures(hub, _accept(hub, data, tmp_path).message_id)
        assert sig["pdf"] == "valid" and sig["package"] == "unknown"
        package = sig["report"]["package"]
        assert package["reason"] == "SIG_UNSUPPORTED" and package["note"] == "legacy SHA-1"
        assert package["signatures"][0]["algorithm"] == "rsa-sha1"


def test_the_hub_serves_the_ca_revocation_lists(
    database_url: str, tmp_path: Path, fresh_ca: Any
) -> None:
    from cryptography import x509
    from fastapi.testclient import TestClient

    from lienthong.hub.http.app import create_app

    person = fresh_ca.issue_person(agency=SENDER, name="Lê Văn Cường", position="Chuyên viên")
    fresh_ca.revoke(person.certificate.serial_number, reason="keyCompromise")
    hub = Hub(
        Settings(
            data_dir=tmp_path / "d", database_url=database_url, ca_dir=Path(fresh_ca.directory)
        )
    )
    try:
        with TestClient(create_app(hub, start_worker=False)) as http:
            issuing = http.get("/pki/issuing.crl")
            assert issuing.status_code == 200
            assert issuing.headers["content-type"] == "application/pkix-crl"
            crl = x509.load_der_x509_crl(issuing.content)
            assert (
                crl.get_revoked_certificate_by_serial_number(person.certificate.serial_number)
                is not None
            )
            assert http.get("/pki/root.crl").status_code == 200
            assert http.get("/pki/other.crl").status_code == 404
    finally:
        hub.close()


# ----------------------------------------------------------- content the policy must see
# (security review, issue 10 §3.6)


def _zip(*members: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return out.getvalue()


def _document(number: str, *attachments: tuple[str, str, bytes]) -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=SENDER, organ_name="UBND tỉnh Nghệ An"),
            recipients=[Organization(organ_id="000.00.00.G22")],
            code=DocumentCode(number, "QĐ-UBND"),
            promulgation=PromulgationInfo("Nghệ An", "2026/11/27"),
            subject="Quyết định phê duyệt kế hoạch chuyển đổi số",
            attachments=[
                Attachment(name=name, content_type=ctype, content=Blob.from_bytes(data))
                for name, ctype, data in attachments
            ],
        )
    )


@pytest.mark.parametrize(
    "attachment",
    [
        # an unsigned PDF inside a deflated .zip (kept as an archive: its name says so)
        ("ho-so.zip", "application/zip", _zip(("12-QD-UBND.pdf", _pdf()))),
        # two files zipped together (a real archive, never unwrapped), the PDF unnamed
        (
            "ho-so.bin",
            "application/octet-stream",
            _zip(("readme.txt", b"xem tep dinh kem"), ("tep", _pdf())),
        ),
        # a PDF renamed .doc, its header after 1,100 bytes of junk
        ("to-trinh.doc", "application/msword", b"\x00" * 1100 + _pdf()),
    ],
    ids=["pdf-in-zip", "pdf-in-archive-unnamed", "renamed-doc-late-header"],
)
def test_require_finds_an_unsigned_pdf_wherever_it_hides(
    make_hub: Any, tmp_path: Path, attachment: tuple[str, str, bytes]
) -> None:
    hub = make_hub("require")
    with pytest.raises(HubError) as refused:
        _accept(hub, _document("31", attachment), tmp_path)
    assert refused.value.code == "HUB_SIGNATURE_REQUIRED"


def test_require_verifies_a_signed_pdf_inside_an_archive(
    make_hub: Any, person_creds: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    signed = _signed_pdf(person_creds, org_creds)
    archive = _zip(("12-QD-UBND.pdf", signed), ("phu-luc.txt", b"phu luc"))
    result = _accept(hub, _document("32", ("ho-so.zip", "application/zip", archive)), tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["pdf"] == "valid"
    assert sig["report"]["pdf"][0]["attachment"] == "ho-so.zip/12-QD-UBND.pdf"


def _encrypted(archive: bytes) -> bytes:
    """The archive with every member flagged encrypted (zipfile cannot write real ones)."""
    data = bytearray(archive)
    for magic, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        at = data.find(magic)
        while at != -1:
            data[at + offset] |= 0x1
            at = data.find(magic, at + 4)
    return bytes(data)


def test_require_wants_a_package_signature_for_content_it_cannot_check(
    make_hub: Any, org_creds: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    locked = _encrypted(_zip(("a.txt", b"mot"), ("b.txt", b"hai")))
    attachment = ("ho-so-mat.zip", "application/zip", locked)
    with pytest.raises(HubError) as refused:
        _accept(hub, _document("33", attachment), tmp_path)
    assert refused.value.code == "HUB_SIGNATURE_UNCHECKABLE"
    # the sender vouches for it with a valid package signature: accepted
    signed = sign_package(_document("34", attachment), org_creds)
    result = _accept(hub, signed, tmp_path)
    sig = _signatures(hub, result.message_id)
    assert sig["package"] == "valid"
    assert sig["report"]["pdf"][0]["unchecked"] is True


def test_require_still_accepts_a_document_with_only_other_files(
    make_hub: Any, tmp_path: Path
) -> None:
    hub = make_hub("require")
    attachments = (
        ("bang-tinh.xlsx", "application/vnd.ms-excel", _zip(("xl/workbook.xml", b"<x/>"))),
        ("ghi-chu.txt", "text/plain", "Ghi chú".encode()),
    )
    assert _accept(hub, _document("35", *attachments), tmp_path).message_id
