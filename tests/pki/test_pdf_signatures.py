"""PDF signatures (PAdES) laid out as Decree 30 asks, their verification, and the CLI.

The test document is one A4 page made with fpdf2: Vietnamese text and the signature block
"KT. CHỦ TỊCH / PHÓ CHỦ TỊCH / (signature) / Nguyễn Văn An" placed around
:data:`lienthong.pki.pdf.PERSON_BOX`. The visual checks render page 1 with pypdfium2 at
100 dpi and find the blue (signature) and red (seal) ink by colour.

``LIENTHONG_WRITE_DOCS=1 pytest tests/pki/test_pdf_signatures.py -k visual`` rewrites
``docs/images/signed-example.png``.
"""

from __future__ import annotations

import io
import json
import os
import random
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from cryptography import x509
from fpdf import FPDF
from PIL import Image, ImageChops, ImageFilter
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from typer.testing import CliRunner

from lienthong.cli import app
from lienthong.pki import images
from lienthong.pki.ca import CertificateAuthority
from lienthong.pki.credentials import Credentials, TrustStore
from lienthong.pki.pdf import (
    MM,
    PERSON_BOX,
    VN_TZ,
    FileSigner,
    is_unreadable,
    sign_attachment_org,
    sign_org,
    sign_person,
    signature_rects,
    verify_pdf,
)
from lienthong.pki.verdict import Reason, Report, Role, Verdict
from pki_factory import AGENCY, AGENCY_NAME, OTHER_AGENCY, P12_PASSWORD, without_chain

DPI = 100
SIGNER = "Nguyễn Văn An"
DOCS_IMAGE = Path(__file__).resolve().parents[2] / "docs" / "images" / "signed-example.png"

# --------------------------------------------------------------------------- documents


def make_pdf(signer: str = SIGNER, *, pages: int = 1) -> bytes:
    """An A4 decision (quyết định) with the signature block around PERSON_BOX."""
    font = str(images.stamp_font_path())
    doc = FPDF(unit="mm", format="A4")
    doc.set_creator("lienthong-test")
    doc.set_auto_page_break(False)
    doc.add_font("Serif", "", font)
    for number in range(pages):
        doc.add_page()
        doc.set_font("Serif", size=12)
        doc.set_xy(20, 22)
        doc.cell(w=75, h=6, text="ỦY BAN NHÂN DÂN", align="C")
        doc.set_xy(20, 28)
        doc.cell(w=75, h=6, text="TỈNH NGHỆ AN", align="C")
        doc.set_xy(95, 22)
        doc.cell(w=100, h=6, text="CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", align="C")
        doc.set_xy(95, 28)
        doc.cell(w=100, h=6, text="Độc lập - Tự do - Hạnh phúc", align="C")
        doc.set_xy(20, 38)
        doc.cell(w=75, h=6, text="Số: 123/QĐ-UBND", align="C")
        doc.set_xy(95, 38)
        doc.cell(w=100, h=6, text="Nghệ An, ngày 14 tháng 5 năm 2026", align="C")
        doc.set_font("Serif", size=14)
        doc.set_xy(20, 55)
        doc.cell(w=170, h=7, text="QUYẾT ĐỊNH", align="C")
        doc.set_font("Serif", size=13)
        doc.set_xy(20, 62)
        doc.cell(w=170, h=7, text="Về việc phê duyệt kế hoạch chuyển đổi số năm 2026", align="C")
        doc.set_xy(30, 80)
        doc.multi_cell(
            w=155,
            h=7,
            text=(
                "Điều 1. Phê duyệt kế hoạch chuyển đổi số của tỉnh năm 2026 kèm theo "
                "Quyết định này.\nĐiều 2. Quyết định có hiệu lực kể từ ngày ký.\n"
                "Điều 3. Chánh Văn phòng, Giám đốc các sở chịu trách nhiệm thi hành."
            ),
        )
        if number < pages - 1:
            continue
        # the signature block: centred on PERSON_BOX; mm from the top of the page
        x1, y1, x2, y2 = (v / MM for v in PERSON_BOX)
        centre, width = (x1 + x2) / 2, 80
        box_top_from_top = 297 - y2
        doc.set_font("Serif", size=13)
        doc.set_xy(centre - width / 2, box_top_from_top - 16)
        doc.cell(w=width, h=6, text="KT. CHỦ TỊCH", align="C")
        doc.set_xy(centre - width / 2, box_top_from_top - 10)
        doc.cell(w=width, h=6, text="PHÓ CHỦ TỊCH", align="C")
        doc.set_xy(centre - width / 2, 297 - y1 + 3)
        doc.cell(w=width, h=6, text=signer, align="C")
    return bytes(doc.output())


@pytest.fixture(scope="module")
def unsigned() -> bytes:
    return make_pdf()


@dataclass
class Town:
    """A CA of its own whose person is the document's signer, Nguyễn Văn An."""

    ca: CertificateAuthority
    trust: TrustStore
    person: Credentials
    org: Credentials


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Town:
    ca = CertificateAuthority.init(tmp_path_factory.mktemp("town") / "ca")
    person = ca.issue_person(
        agency=AGENCY, name=SIGNER, position="Phó Chủ tịch", organization=AGENCY_NAME
    )
    org = ca.issue_org(agency=AGENCY, name=AGENCY_NAME)
    return Town(ca=ca, trust=ca.trust_store(), person=person, org=org)


@pytest.fixture(scope="module")
def signed(unsigned: bytes, town: Town) -> bytes:
    """Person, then organisation."""
    return sign_org(sign_person(unsigned, town.person), town.org)


@pytest.fixture(scope="session")
def trust(trust_dir: Path) -> TrustStore:
    return TrustStore.load(trust_dir)


def single(report: Report) -> Any:
    assert len(report.signatures) == 1, report.to_dict()
    return report.signatures[0]


# --------------------------------------------------------------------------- valid


def test_person_and_org_signatures_verify(signed: bytes, town: Town) -> None:
    report = verify_pdf(signed, town.trust, expected_agency=AGENCY)
    assert report.verdict is Verdict.VALID, report.to_dict()
    assert report.reason is None
    person, org = report.signatures
    assert (person.role, org.role) == (Role.PERSON, Role.ORG)
    assert person.name == SIGNER == "Nguyễn Văn An"
    assert org.name == AGENCY_NAME == "Ủy ban nhân dân tỉnh Nghệ An"
    for sig in (person, org):
        assert sig.verdict is Verdict.VALID and sig.reason is None
        assert sig.agency == AGENCY
        assert sig.intact and sig.trusted and sig.revoked is False
        assert sig.signed_at is not None and sig.signed_at.endswith("+07:00")
        assert sig.algorithm == "SHA256 RSA-2048"
    # the JSON shape the CLI prints, Vietnamese intact
    data = json.loads(json.dumps(report.to_dict(), ensure_ascii=False))
    assert data["verdict"] == "valid"
    assert data["signatures"][0]["name"] == "Nguyễn Văn An"
    assert data["signatures"][1]["role"] == "org"


def test_signature_fields_and_geometry(signed: bytes) -> None:
    (p_name, p_role, p_rect, p_page), (o_name, o_role, o_rect, o_page) = signature_rects(signed)
    assert (p_name, p_role, o_name, o_role) == ("Person1", Role.PERSON, "Org1", Role.ORG)
    assert p_page == o_page == 0
    # the signer's image: fitted (50 x 20 mm) and centred in PERSON_BOX
    x1, y1, x2, y2 = p_rect
    assert (x2 - x1) / MM == pytest.approx(50, abs=0.1)
    assert (y2 - y1) / MM == pytest.approx(20, abs=0.1)
    assert (x1 + x2) / 2 == pytest.approx((PERSON_BOX[0] + PERSON_BOX[2]) / 2)
    # the seal: 38 mm (real size from the PNG's DPI), right edge a third into the image
    sx1, sy1, sx2, sy2 = o_rect
    assert (sx2 - sx1) / MM == pytest.approx(images.SEAL_DIAMETER_MM, abs=0.1)
    assert sx2 == pytest.approx(x1 + (x2 - x1) / 3, abs=0.01)
    assert (sy1 + sy2) / 2 == pytest.approx((y1 + y2) / 2, abs=0.01)


def test_ecdsa_keys_sign_and_verify(unsigned: bytes, pki: Any, trust: TrustStore) -> None:
    signed = sign_org(sign_person(unsigned, pki.person_ec), pki.org_ec)
    report = verify_pdf(signed, trust, expected_agency=AGENCY)
    assert report.verdict is Verdict.VALID, report.to_dict()
    assert [s.algorithm for s in report.signatures] == ["SHA256 ECDSA-secp256r1"] * 2


def test_a_key_signer_is_pluggable(unsigned: bytes, person_creds: Any, trust: TrustStore) -> None:
    """Any object with certificate, chain and sign() signs (a token, a remote service)."""

    class CountingToken:
        def __init__(self, inner: FileSigner) -> None:
            self.inner = inner
            self.calls: list[str] = []

        @property
        def certificate(self) -> x509.Certificate:
            return self.inner.certificate

        @property
        def chain(self) -> list[x509.Certificate]:
            return list(self.inner.chain)

        def sign(self, data: bytes, hash_algorithm: str) -> bytes:
            self.calls.append(hash_algorithm)
            return self.inner.sign(data, hash_algorithm)

    token = CountingToken(FileSigner(person_creds))
    signed = sign_person(unsigned, token, image=images.signature_image("x"))
    assert token.calls == ["sha256"]  # one real signature; the size estimate used no key
    assert single(verify_pdf(signed, trust)).verdict is Verdict.VALID


# --------------------------------------------------------------------------- invalid


def test_a_byte_changed_after_signing_is_modified(signed: bytes, town: Town) -> None:
    marker = b"(lienthong-test)"
    assert signed.count(marker) == 1  # the creator, inside the signed byte range
    tampered = signed.replace(marker, b"(lienthong-Test)")
    report = verify_pdf(tampered, town.trust)
    assert report.verdict is Verdict.INVALID
    assert report.reason is Reason.MODIFIED
    assert all(s.reason is Reason.MODIFIED and not s.intact for s in report.signatures)
    assert report.signatures[0].name == SIGNER  # still says who signed


def test_content_added_by_a_later_update_is_modified(signed: bytes, town: Town) -> None:
    """An incremental update after the last signature that paints over the page."""
    writer = IncrementalPdfFileWriter(io.BytesIO(signed), strict=False)
    stream = generic.StreamObject(stream_data=b"q 1 1 1 rg 100 150 300 120 re f Q")
    writer.add_stream_to_page(0, writer.add_object(stream))
    out = io.BytesIO()
    writer.write(out)
    report = verify_pdf(out.getvalue(), town.trust)
    assert report.verdict is Verdict.INVALID
    assert [s.reason for s in report.signatures] == [Reason.MODIFIED, Reason.MODIFIED]
    assert [s.intact for s in report.signatures] == [False, False]


def test_a_later_signature_keeps_the_earlier_intact(unsigned: bytes, town: Town) -> None:
    once = sign_person(unsigned, town.person)
    twice = sign_org(once, town.org)
    first = verify_pdf(once, town.trust).signatures[0]
    assert first.verdict is Verdict.VALID and first.intact
    assert [s.intact for s in verify_pdf(twice, town.trust).signatures] == [True, True]


AMOUNT = "1.000.000 VND"
FORGED_AMOUNT = "999.000.000 VND"


def _name(key: str) -> generic.NameObject:
    return generic.NameObject(key)


def _amount_appearance(text: str) -> generic.StreamObject:
    """The appearance of the text field "amount" showing ``text`` (Helvetica 12 pt)."""
    font = generic.DictionaryObject(
        {
            _name("/Type"): _name("/Font"),
            _name("/Subtype"): _name("/Type1"),
            _name("/BaseFont"): _name("/Helvetica"),
        }
    )
    return generic.StreamObject(
        {
            _name("/Type"): _name("/XObject"),
            _name("/Subtype"): _name("/Form"),
            _name("/BBox"): generic.ArrayObject(generic.NumberObject(n) for n in (0, 0, 200, 24)),
            _name("/Resources"): generic.DictionaryObject(
                {_name("/Font"): generic.DictionaryObject({_name("/Helv"): font})}
            ),
        },
        stream_data=f"/Tx BMC BT /Helv 12 Tf 2 6 Td ({text}) Tj ET EMC".encode(),
    )


def with_amount_field(pdf: bytes) -> bytes:
    """``pdf`` with a filled-in text field "amount" on page 1 (added before signing)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    page_ref = writer.root["/Pages"].raw_get("/Kids").get_object().raw_get(0)
    page = page_ref.get_object()
    field = writer.add_object(
        generic.DictionaryObject(
            {
                _name("/Type"): _name("/Annot"),
                _name("/Subtype"): _name("/Widget"),
                _name("/FT"): _name("/Tx"),
                _name("/T"): generic.TextStringObject("amount"),
                _name("/V"): generic.TextStringObject(AMOUNT),
                _name("/DA"): generic.TextStringObject("/Helv 12 Tf 0 g"),
                _name("/Rect"): generic.ArrayObject(
                    generic.NumberObject(n) for n in (300, 700, 500, 724)
                ),
                _name("/F"): generic.NumberObject(4),
                _name("/P"): page_ref,
                _name("/AP"): generic.DictionaryObject(
                    {_name("/N"): writer.add_object(_amount_appearance(AMOUNT))}
                ),
            }
        )
    )
    assert "/Annots" not in page
    page[_name("/Annots")] = generic.ArrayObject([field])
    writer.mark_update(page_ref)
    writer.root[_name("/AcroForm")] = generic.DictionaryObject(
        {_name("/Fields"): generic.ArrayObject([field])}
    )
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def change_amount(pdf: bytes, how: str) -> bytes:
    """An incremental update that makes the field "amount" say FORGED_AMOUNT: ``value``
    (/V only), ``appearance`` (a new /AP stream only), ``both``, or ``in-place`` (the
    existing appearance stream rewritten)."""
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf), strict=False)
    form_fields = writer.root["/AcroForm"]["/Fields"]
    (field_ref,) = (
        form_fields.raw_get(i) for i in range(len(form_fields)) if form_fields[i]["/T"] == "amount"
    )
    field = field_ref.get_object()
    if how in ("value", "both"):
        field[_name("/V")] = generic.TextStringObject(FORGED_AMOUNT)
    if how in ("appearance", "both"):
        field[_name("/AP")] = generic.DictionaryObject(
            {_name("/N"): writer.add_object(_amount_appearance(FORGED_AMOUNT))}
        )
    if how == "in-place":
        stream_ref = field["/AP"].raw_get("/N").reference
        writer.objects[(stream_ref.generation, stream_ref.idnum)] = _amount_appearance(
            FORGED_AMOUNT
        )
    else:
        writer.mark_update(field_ref)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.fixture(scope="module")
def form_signed(unsigned: bytes, town: Town) -> bytes:
    """A document with a text field "amount", signed by the person, then the org."""
    return sign_org(sign_person(with_amount_field(unsigned), town.person), town.org)


def test_a_document_with_a_text_field_signs_and_verifies(form_signed: bytes, town: Town) -> None:
    report = verify_pdf(form_signed, town.trust, expected_agency=AGENCY)
    assert report.verdict is Verdict.VALID, report.to_dict()
    assert [(s.role, s.intact) for s in report.signatures] == [
        (Role.PERSON, True),
        (Role.ORG, True),
    ]


def test_a_further_signature_after_signing_stays_valid(form_signed: bytes, town: Town) -> None:
    """A third signature (a new, visible signature field) is a FORM_FILLING change that
    touches only a signature field: every earlier signature stays intact."""
    thrice = sign_attachment_org(form_signed, town.org, number_notation="123/QĐ-UBND")
    report = verify_pdf(thrice, town.trust, expected_agency=AGENCY)
    assert report.verdict is Verdict.VALID, report.to_dict()
    assert len(report.signatures) == 3
    assert all(s.intact and s.reason is None for s in report.signatures)


@pytest.mark.parametrize("how", ["both", "value", "appearance", "in-place"])
def test_a_form_field_filled_in_after_signing_is_modified(
    form_signed: bytes, town: Town, how: str
) -> None:
    """The amount changed from 1.000.000 to 999.000.000 VND by an incremental update after
    both signatures: pyHanko rates it FORM_FILLING (like a new signature), but the field
    is a text field, so every signature made before it is MODIFIED."""
    tampered = change_amount(form_signed, how)
    assert tampered.startswith(form_signed)  # an incremental update
    report = verify_pdf(tampered, town.trust, expected_agency=AGENCY)
    assert report.verdict is Verdict.INVALID
    assert report.reason is Reason.MODIFIED
    assert [(s.reason, s.intact) for s in report.signatures] == [(Reason.MODIFIED, False)] * 2


def test_a_form_field_filled_in_between_signatures(unsigned: bytes, town: Town) -> None:
    """Changed after the person's signature but before the org's: only the person's
    signature is MODIFIED; the org signed the document as it then was."""
    once = sign_person(with_amount_field(unsigned), town.person)
    twice = sign_org(change_amount(once, "both"), town.org)
    person, org = verify_pdf(twice, town.trust).signatures
    assert (person.reason, person.intact) == (Reason.MODIFIED, False)
    assert (org.reason, org.intact) == (None, True)


def test_a_ca_name_over_64_bytes_signs_and_verifies_without_warnings(
    unsigned: bytes, tmp_path: Path
) -> None:
    """cryptography warns about name attributes past 64 UTF-8 bytes (RFC 5280 counts 64
    characters): signing and verifying under such a CA, in the API and the CLI, stays
    quiet (a warning turned into an error would make the verdict ``malformed``)."""
    name = "Cơ quan chứng thực số thử nghiệm Ủy ban nhân dân tỉnh Nghệ An"
    assert len(name) <= 64 < len(name.encode())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="Attribute's length")
        ca = CertificateAuthority.init(tmp_path / "ca", name=name)
        person = ca.issue_person(
            agency=AGENCY, name=SIGNER, position="Phó Chủ tịch", organization=AGENCY_NAME
        )
        org = ca.issue_org(agency=AGENCY, name=AGENCY_NAME)
        ca.export_trust(tmp_path / "trust")
        signed = sign_org(sign_person(unsigned, person), org)
        report = verify_pdf(signed, TrustStore.load(tmp_path / "trust"), expected_agency=AGENCY)
        assert report.verdict is Verdict.VALID, report.to_dict()
        (tmp_path / "signed.pdf").write_bytes(signed)
        result = CliRunner().invoke(
            app,
            ["verify", "pdf", str(tmp_path / "signed.pdf"), "--trust", str(tmp_path / "trust")],
            catch_exceptions=False,
        )
        assert result.exit_code == 0, result.output


def test_wrong_trust_root_is_untrusted(signed: bytes, pki: Any) -> None:
    report = verify_pdf(signed, TrustStore.load(pki.stranger_trust_dir))
    assert report.verdict is Verdict.INVALID
    assert {s.reason for s in report.signatures} == {Reason.UNTRUSTED}
    assert not any(s.trusted for s in report.signatures)
    assert all(s.intact for s in report.signatures)  # the document itself is fine


def test_certificate_of_an_unrelated_ca_is_untrusted(
    unsigned: bytes, stranger_creds: Any, trust: TrustStore
) -> None:
    sig = single(verify_pdf(sign_person(unsigned, stranger_creds), trust))
    assert (sig.verdict, sig.reason, sig.trusted) == (Verdict.INVALID, Reason.UNTRUSTED, False)


def test_expired_certificate(unsigned: bytes, expired_creds: Any, trust: TrustStore) -> None:
    sig = single(verify_pdf(sign_person(unsigned, expired_creds), trust))
    assert (sig.verdict, sig.reason) == (Verdict.INVALID, Reason.EXPIRED)
    assert sig.message_en and "expired" in sig.message_en


def test_revoked_certificate(unsigned: bytes, revoked_creds: Any, trust: TrustStore) -> None:
    sig = single(verify_pdf(sign_person(unsigned, revoked_creds), trust))
    assert (sig.verdict, sig.reason, sig.revoked) == (Verdict.INVALID, Reason.REVOKED, True)
    assert sig.name == "Hoàng Văn Thu Hồi"


def test_revoked_on_a_fresh_ca_after_signing(unsigned: bytes, fresh_ca: Any) -> None:
    """Revocation after the signature still counts (no timestamp: checked at now)."""
    creds = fresh_ca.issue_person(agency=AGENCY, name="Đặng Thị Mai", position="Chuyên viên")
    signed = sign_person(unsigned, creds)
    assert single(verify_pdf(signed, fresh_ca.trust_store())).verdict is Verdict.VALID
    fresh_ca.revoke(creds.certificate.serial_number, reason="keyCompromise")
    sig = single(verify_pdf(signed, fresh_ca.trust_store()))
    assert (sig.reason, sig.revoked) == (Reason.REVOKED, True)


def test_missing_intermediate_is_untrusted(
    unsigned: bytes, person_creds: Any, trust: TrustStore
) -> None:
    bare = without_chain(person_creds)
    signed = sign_person(unsigned, bare)
    assert trust.intermediates == []  # the store does not hold the issuing CA either
    sig = single(verify_pdf(signed, trust))
    assert (sig.verdict, sig.reason, sig.trusted) == (Verdict.INVALID, Reason.UNTRUSTED, False)
    # the same signature verifies once the store holds the intermediate
    with_issuing = TrustStore(trust.roots, trust.crls, person_creds.chain)
    assert single(verify_pdf(signed, with_issuing)).verdict is Verdict.VALID


def test_signer_of_another_agency(
    unsigned: bytes, other_agency_creds: Any, person_creds: Any, trust: TrustStore
) -> None:
    signed = sign_person(unsigned, other_agency_creds)
    sig = single(verify_pdf(signed, trust, expected_agency=AGENCY))
    assert (sig.verdict, sig.reason, sig.agency) == (
        Verdict.INVALID,
        Reason.WRONG_AGENCY,
        OTHER_AGENCY,
    )
    assert sig.trusted and sig.intact  # nothing else is wrong
    assert single(verify_pdf(signed, trust)).verdict is Verdict.VALID  # no sender given
    own = sign_person(unsigned, person_creds)
    assert single(verify_pdf(own, trust, expected_agency=AGENCY.lower())).verdict is (Verdict.VALID)


def test_no_crl_in_the_trust_store_is_unknown(signed: bytes, town: Town) -> None:
    report = verify_pdf(signed, TrustStore(roots=town.trust.roots))
    assert report.verdict is Verdict.UNKNOWN
    assert report.reason is Reason.NO_REVOCATION_INFO
    assert all(s.revoked is None for s in report.signatures)


def test_unsigned_pdf_is_unknown(unsigned: bytes, town: Town) -> None:
    report = verify_pdf(unsigned, town.trust)
    assert (report.verdict, report.reason, report.signatures) == (
        Verdict.UNKNOWN,
        Reason.NOT_SIGNED,
        [],
    )
    assert not is_unreadable(report)


@pytest.mark.parametrize(
    "data",
    [b"", b"garbage bytes, not a PDF", b"%PDF-1.7\n%%EOF", bytes(range(256)) * 8],
    ids=["empty", "text", "header-only", "binary"],
)
def test_garbage_is_malformed_without_exception(data: bytes, town: Town) -> None:
    report = verify_pdf(data, town.trust)
    assert report.verdict is Verdict.INVALID
    assert report.reason is Reason.MALFORMED
    assert is_unreadable(report)


def test_damaged_signed_pdfs_never_raise(signed: bytes, town: Town) -> None:
    rng = random.Random(20260514)
    variants = [
        signed[: len(signed) // 2],
        signed[:-200],
        signed.replace(b"/ByteRange", b"/ByteRangX"),
    ]
    for _ in range(12):
        data = bytearray(signed)
        for _ in range(rng.randint(1, 20)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        variants.append(bytes(data))
    for data in variants:
        report = verify_pdf(data, town.trust)  # must not raise
        assert report.verdict is not Verdict.VALID or data == signed


def test_sign_org_needs_a_person_signature_to_overlap(unsigned: bytes, town: Town) -> None:
    with pytest.raises(ValueError, match="person"):
        sign_org(unsigned, town.org)
    # explicitly without one: placed as if the signer's image filled PERSON_BOX
    alone = sign_org(unsigned, town.org, over_person=False)
    assert single(verify_pdf(alone, town.trust)).role is Role.ORG


# --------------------------------------------------------------------------- visual


def render(pdf: bytes, page: int = 0) -> Image.Image:
    doc = pdfium.PdfDocument(pdf)
    try:
        doc.init_forms()  # signature appearances are widget annotations
        image: Image.Image = doc[page].render(scale=DPI / 72, may_draw_forms=True).to_pil()
        return image.convert("RGB")
    finally:
        doc.close()


def _band_mask(band: Image.Image, low: int = 0, high: int = 255) -> Image.Image:
    return band.point(lambda v: 255 if low <= v <= high else 0)


def _all(*masks: Image.Image) -> Image.Image:
    result = masks[0]
    for mask in masks[1:]:
        result = ImageChops.darker(result, mask)
    return result


def blue_mask(img: Image.Image) -> Image.Image:
    r, g, b = img.split()
    return _all(
        _band_mask(b, 120),
        _band_mask(ImageChops.subtract(b, r), 60),
        _band_mask(ImageChops.subtract(b, g), 40),
    )


def red_mask(img: Image.Image) -> Image.Image:
    r, g, b = img.split()
    return _all(
        _band_mask(r, 150),
        _band_mask(ImageChops.subtract(r, g), 80),
        _band_mask(ImageChops.subtract(r, b), 80),
    )


def dark_mask(img: Image.Image) -> Image.Image:
    return _all(*(_band_mask(band, 0, 109) for band in img.split()))


def ink_box(mask: Image.Image) -> tuple[int, int, int, int] | None:
    """Bounding box (x0, y0, x1, y1; pixels, top-left origin) of the mask's ink."""
    return mask.getbbox()


def px(mm: float) -> float:
    return mm / 25.4 * DPI


def test_visual_seal_overlaps_left_third_of_signature(signed: bytes) -> None:
    img = render(signed)
    assert img.size == (827, 1170)  # A4 at 100 dpi
    blue, red = ink_box(blue_mask(img)), ink_box(red_mask(img))
    assert blue is not None and red is not None
    bx0, by0, bx1, by1 = blue
    rx0, ry0, rx1, ry1 = red
    width = bx1 - bx0
    # the seal at real size: 38 mm across (±1 mm)
    assert abs((rx1 - rx0) - px(images.SEAL_DIAMETER_MM)) <= px(1)
    assert abs((ry1 - ry0) - px(images.SEAL_DIAMETER_MM)) <= px(1)
    # it overlaps about a third of the signature, on its left
    overlap = (min(rx1, bx1) - max(rx0, bx0)) / width
    assert 0.20 <= overlap <= 0.45, overlap
    assert rx0 < bx0 < rx1 < bx0 + width / 2
    # vertically it covers the signature
    assert ry0 <= by0 + (by1 - by0) / 2 <= ry1
    # the signature lies between the position lines and the name, in the right half
    x1, y1, x2, y2 = (v / MM for v in PERSON_BOX)
    assert bx0 >= px(x1) - 2 and bx1 <= px(x2) + 2
    assert by0 >= px(297 - y2) - 2 and by1 <= px(297 - y1) + 2
    assert bx0 > img.width / 2
    if os.environ.get("LIENTHONG_WRITE_DOCS") == "1":
        save_example(img)


def save_example(img: Image.Image) -> None:
    DOCS_IMAGE.parent.mkdir(parents=True, exist_ok=True)
    img.quantize(colors=128, method=Image.Quantize.MEDIANCUT).save(DOCS_IMAGE, optimize=True)
    assert DOCS_IMAGE.stat().st_size < 200_000


def test_docs_example_is_small() -> None:
    assert DOCS_IMAGE.is_file(), "run with LIENTHONG_WRITE_DOCS=1 to create it"
    assert DOCS_IMAGE.stat().st_size < 200_000


def test_visual_attachment_stamp_top_right(
    unsigned: bytes, org_creds: Any, trust: TrustStore
) -> None:
    at = datetime.now(VN_TZ).replace(microsecond=0) - timedelta(minutes=5)
    signed = sign_attachment_org(unsigned, org_creds, number_notation="123/QĐ-UBND", at=at)
    sig = single(verify_pdf(signed, trust, expected_agency=AGENCY))
    assert sig.verdict is Verdict.VALID, sig
    assert (sig.role, sig.signed_at) == (Role.ORG, at.isoformat())
    assert sig.signed_at.endswith("+07:00")
    ((name, role, _rect, page),) = signature_rects(signed)
    assert (name, role, page) == ("OrgAttachment1", Role.ORG, 0)
    # the stamp's ink: what signing added to the rendered page
    before, after = render(unsigned), render(signed)
    changed = _band_mask(ImageChops.difference(after, before).convert("L"), 1)
    added = Image.composite(after, Image.new("RGB", after.size, "white"), changed)
    box = ink_box(dark_mask(added))
    assert box is not None
    x0, y0, x1, y1 = box
    assert x0 > after.width * 0.55 and y1 < after.height * 0.12  # top right of page 1
    assert after.width - x1 == pytest.approx(px(20), abs=px(1.5))  # 20 mm right margin
    assert y0 == pytest.approx(px(7), abs=px(2.5))  # 7 mm from the top
    assert (y1 - y0) < px(10)  # two lines of 10 pt
    # no image: no coloured blob (pdfium draws annotation text with 1-pixel colour
    # fringes, LCD-style, hence the erosion)
    for mask in (blue_mask(added), red_mask(added)):
        assert ink_box(mask.filter(ImageFilter.MinFilter(3))) is None


def test_attachment_stamp_text_is_embedded_with_vietnamese_glyphs(
    unsigned: bytes, org_creds: Any
) -> None:
    at = datetime.now(VN_TZ).replace(microsecond=0)
    signed = sign_attachment_org(unsigned, org_creds, number_notation="45/TB-VPCP", at=at)
    # the stamp's font is embedded (a subset), not a standard 14 font
    assert b"/FontFile2" in signed[len(unsigned) :]
    with pytest.raises(ValueError):
        sign_attachment_org(unsigned, org_creds, number_notation="  ")


# --------------------------------------------------------------------------- images


def test_demo_images_are_transparent_and_sized() -> None:
    seal = Image.open(io.BytesIO(images.seal_image("Ủy ban nhân dân tỉnh Nghệ An")))
    sig = Image.open(io.BytesIO(images.signature_image(SIGNER)))
    assert seal.mode == sig.mode == "RGBA"
    assert seal.getpixel((0, 0))[3] == 0 and sig.getpixel((0, 0))[3] == 0  # type: ignore[index]
    size = images.image_size_mm(images.seal_image("Ủy ban nhân dân tỉnh Nghệ An"))
    assert size is not None and size[0] == pytest.approx(38, abs=0.2)
    assert images.signature_image(SIGNER) == images.signature_image(SIGNER)  # deterministic
    opaque = [p for p in rgba_pixels(seal) if p[3] > 200]
    assert opaque and all(p[0] > 150 and p[1] < 80 for p in opaque)  # red ink
    opaque = [p for p in rgba_pixels(sig) if p[3] > 200]
    assert opaque and all(p[2] > 120 and p[0] < 80 for p in opaque)  # blue ink


def rgba_pixels(img: Image.Image) -> list[bytes]:
    data = img.tobytes()
    return [data[i : i + 4] for i in range(0, len(data), 4)]


def test_stamp_font_has_vietnamese(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    path = images.stamp_font_path("Đặng Thị Ngọc Ưng Ở Ữ ỹ")
    assert path.is_file()
    # a configured font that lacks the letters is skipped
    bogus = tmp_path / "bogus.ttf"
    bogus.write_bytes(b"not a font")
    monkeypatch.setenv("LIENTHONG_STAMP_FONT", str(bogus))
    assert images.stamp_font_path("Ư") != bogus


# --------------------------------------------------------------------------- CLI


runner = CliRunner()


def test_cli_sign_and_verify(tmp_path: Path, pki: Any, unsigned: bytes) -> None:
    source = tmp_path / "qd.pdf"
    source.write_bytes(unsigned)
    seal_png = tmp_path / "seal.png"
    seal_png.write_bytes(images.seal_image(AGENCY_NAME))
    common = ["--password", P12_PASSWORD, "--json"]
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(source),
            "--cert",
            str(pki.p12["person"]),
            "--role",
            "person",
            "-o",
            str(tmp_path / "1.pdf"),
            *common,
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["ok"] and data["role"] == "person" and data["name"] == "Nguyễn Thị Ngọc Trâm"
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(tmp_path / "1.pdf"),
            "--cert",
            str(pki.p12["org"]),
            "--role",
            "org",
            "--image",
            str(seal_png),
            "-o",
            str(tmp_path / "2.pdf"),
            *common,
        ],
    )
    assert result.exit_code == 0, result.output

    verify = ["verify", "pdf", str(tmp_path / "2.pdf"), "--trust", str(pki.trust_dir)]
    result = runner.invoke(app, [*verify, "--agency", AGENCY, "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["verdict"] == "valid"
    keys = {"name", "agency", "role", "signed_at", "intact", "trusted", "revoked", "reason"}
    assert all(keys <= set(s) for s in data["signatures"])
    assert [s["role"] for s in data["signatures"]] == ["person", "org"]
    assert data["signatures"][1]["name"] == AGENCY_NAME

    result = runner.invoke(app, verify)  # the human table
    assert result.exit_code == 0 and "VALID" in result.stdout

    result = runner.invoke(app, [*verify, "--agency", OTHER_AGENCY, "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reason"] == "SIG_WRONG_AGENCY"


def test_cli_attachment_and_exit_codes(tmp_path: Path, pki: Any, unsigned: bytes) -> None:
    source = tmp_path / "phu-luc.pdf"
    source.write_bytes(unsigned)
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(source),
            "--cert",
            str(pki.p12["org"]),
            "--password",
            P12_PASSWORD,
            "--role",
            "org",
            "--number-notation",
            "123/QĐ-UBND",
            "-o",
            str(tmp_path / "a.pdf"),
        ],
    )
    assert result.exit_code == 0, result.output
    trust_args = ["--trust", str(pki.trust_dir), "--json"]
    assert (
        runner.invoke(app, ["verify", "pdf", str(tmp_path / "a.pdf"), *trust_args]).exit_code == 0
    )
    # unsigned → unknown → 1
    result = runner.invoke(app, ["verify", "pdf", str(source), *trust_args])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["verdict"] == "unknown"
    # garbage → 2 (unreadable), still a JSON report
    garbage = tmp_path / "garbage.pdf"
    garbage.write_bytes(b"\x00not a pdf")
    result = runner.invoke(app, ["verify", "pdf", str(garbage), *trust_args])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["reason"] == "SIG_MALFORMED"
    # missing file, missing trust directory → 2
    assert (
        runner.invoke(app, ["verify", "pdf", str(tmp_path / "nope.pdf"), *trust_args]).exit_code
        == 2
    )
    result = runner.invoke(
        app, ["verify", "pdf", str(source), "--trust", str(tmp_path / "none"), "--json"]
    )
    assert (
        result.exit_code == 2
        and json.loads(result.stdout)["error"]["code"] == "PKI_TRUST_NOT_FOUND"
    )
    # wrong password, number-notation with --role person → 2
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(source),
            "--cert",
            str(pki.p12["org"]),
            "--password",
            "sai",
            "--role",
            "org",
            "-o",
            str(tmp_path / "x.pdf"),
            "--json",
        ],
    )
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "PKI_P12_BAD_PASSWORD"
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(source),
            "--cert",
            str(pki.p12["person"]),
            "--password",
            P12_PASSWORD,
            "--role",
            "person",
            "--number-notation",
            "1/QĐ",
            "-o",
            str(tmp_path / "x.pdf"),
        ],
    )
    assert result.exit_code == 2
    # seal without a person's signature → a clear error, exit 2
    result = runner.invoke(
        app,
        [
            "sign",
            "pdf",
            str(source),
            "--cert",
            str(pki.p12["org"]),
            "--password",
            P12_PASSWORD,
            "--role",
            "org",
            "-o",
            str(tmp_path / "x.pdf"),
            "--json",
        ],
    )
    assert result.exit_code == 2 and not (tmp_path / "x.pdf").exists()


# --------------------------------------------------------------------------- timing


def test_sign_and_verify_times(
    unsigned: bytes, town: Town, capsys: pytest.CaptureFixture[str]
) -> None:
    """Not a benchmark: a guard against gross regressions (e.g. re-loading keys)."""
    sign_person(unsigned, town.person)  # warm caches (demo image, font)
    n = 5
    start = time.perf_counter()
    for _ in range(n):
        once = sign_person(unsigned, town.person)
    sign_ms = (time.perf_counter() - start) / n * 1000
    both = sign_org(once, town.org)
    start = time.perf_counter()
    for _ in range(n):
        verify_pdf(both, town.trust)
    verify_ms = (time.perf_counter() - start) / n * 1000
    with capsys.disabled():
        print(f"\n[pdf] sign (person) {sign_ms:.0f} ms, verify (2 signatures) {verify_ms:.0f} ms")
    assert sign_ms < 1000 and verify_ms < 1000
