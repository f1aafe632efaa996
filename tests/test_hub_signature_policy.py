"""The hub verifies signatures on intake and applies its policy: require / flag / off."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest
from fpdf import FPDF

from lienthong.core.settings import Settings
from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment, DocumentCode, Edoc, Organization, PromulgationInfo
from lienthong.hub import directory, service
from lienthong.hub.app import Hub
from lienthong.hub.errors import HubError
from lienthong.pki.pdf import sign_org, sign_person
from lienthong.pki.xmldsig import sign_package

SENDER = "000.00.00.H41"  # the agency of the test PKI's person and organisation


def _pdf() -> bytes:
    doc = FPDF()
    doc.add_page()
    doc.set_font("helvetica", size=12)
    doc.cell(0, 10, "QUYET DINH so 12/QD-UBND")
    return bytes(doc.output())


def _package(pdf: bytes, number: str) -> bytes:
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
                )
            ],
        )
    )


@pytest.fixture
def make_hub(database_url: str, tmp_path: Path, trust_dir: Path) -> Any:
    hubs: list[Hub] = []

    def make(policy: str) -> Hub:
        hub = Hub(
            Settings(
                data_dir=tmp_path / f"data-{policy}",
                database_url=database_url,
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


def _accept(hub: Hub, data: bytes, tmp_path: Path) -> service.AcceptResult:
    path = tmp_path / f"{hashlib.sha256(data).hexdigest()[:12]}.edxml"
    path.write_bytes(data)
    body = service.Body(path, hashlib.sha256(data).hexdigest(), len(data))
    with hub.session() as s:
        system = directory.get_system(s, system_id="h41")
        return service.accept(
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
        sig: dict[str, Any] = service.timeline(s, system=system, message_id=message_id)["message"][
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
        assert service.sent(s, system=system) == []


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


def test_the_hub_serves_the_ca_revocation_lists(
    database_url: str, tmp_path: Path, fresh_ca: Any
) -> None:
    from cryptography import x509
    from fastapi.testclient import TestClient

    from lienthong.hub.app import create_app

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
