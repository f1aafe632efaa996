"""Authenticity shown to the clerk: the PDF signatures of a received document are verified
with the PKI against the office's trust store (Decree 30 Art. 21)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from fpdf import FPDF

from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment, Organization
from lienthong.office import incoming
from lienthong.office.http.app import create_app
from lienthong.office.models import Document
from lienthong.pki.pdf import sign_org, sign_person

from .officekit import DEJAVU, DEPARTMENT, edoc, make_office, provision, web_login

SIGNING_AGENCY = "000.00.00.H41"  # the session test PKI's agency


def _pdf() -> bytes:
    doc = FPDF(unit="mm", format="A4")
    doc.add_page()
    doc.add_font("DejaVu", "", DEJAVU)
    doc.set_font("DejaVu", size=12)
    doc.multi_cell(0, 8, "QUYẾT ĐỊNH về việc giao chỉ tiêu kế hoạch năm 2027")
    return bytes(doc.output())


def _receive(office: Any, pdf: bytes, message_id: str) -> Document:
    package = edoc(
        to=DEPARTMENT,
        attachments=[
            Attachment(
                name="quyet-dinh.pdf", content_type="application/pdf", content=Blob.from_bytes(pdf)
            )
        ],
    )
    package.sender = Organization(organ_id=SIGNING_AGENCY, organ_name="UBND tỉnh Nghệ An (mẫu)")
    received = office.run(
        lambda s: incoming.receive(
            s, data=build(package), message_id=message_id, blobs=office.blobs, trust=office.trust
        )
    )
    [doc] = received.documents
    return doc


def test_signed_documents_show_valid_and_tampered_ones_invalid(
    database_url: str, tmp_path: Path, trust_dir: Path, person_creds: Any, org_creds: Any
) -> None:
    office = make_office(database_url, tmp_path, trust_dir=trust_dir)
    try:
        provision(office)
        signed = sign_org(sign_person(_pdf(), person_creds), org_creds)
        good = _receive(office, signed, "m-signed")
        assert good.signature_verdict == "valid"
        tampered = bytearray(signed)
        at = tampered.index(b"giao") if b"giao" in tampered else len(tampered) // 3
        tampered[at] ^= 0x01
        bad = _receive(office, bytes(tampered), "m-tampered")
        assert bad.signature_verdict in {"invalid", "unknown"}
        assert bad.signature_verdict != "valid"
        unsigned = _receive(office, _pdf(), "m-unsigned")
        assert unsigned.signature_verdict != "valid"
        with TestClient(create_app(office, start_worker=False), follow_redirects=False) as web:
            web_login(web, "vanthu.vp")
            page = web.get(f"/documents/{good.id}").text
            assert "Chữ ký số hợp lệ" in page and "quyet-dinh.pdf" in page
            assert (
                person_creds.certificate.subject.rfc4514_string().split("CN=")[-1].split(",")[0]
                in page
            )
    finally:
        office.close()
