"""The official sample packages of the national platform, read by the parser.

Expectations are read off the sample files themselves (kind from the file name, status code
from the number in the name, attachment content recomputed here with ``zipfile``).
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lienthong.edxml.errors import Code, EdxmlError, Severity
from lienthong.edxml.model import NS, XMLDSIG_NS, Edoc, Status
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import validate

ZIPPED_SAMPLES = ("edoc_revocation.edxml", "edoc_update.edxml", "edoc_replacement.edxml")
DOC = "7816/VPCP-TTĐT"
DOCUMENT_ID = "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
RSA_SHA1 = "http://www.w3.org/2000/09/xmldsig#rsa-sha1"
_CTE = re.compile(
    rb"<(?:\w+:)?ContentTransferEncoded[^>]*>([^<]*)</(?:\w+:)?ContentTransferEncoded>"
)


def expected_status_code(name: str) -> str:
    """``status_finish_06.edxml`` → ``06``; the unnumbered ``status.edxml`` is an 01."""
    m = re.search(r"_(\d{2})\.edxml$", name)
    return m.group(1) if m else "01"


def unzip_attachment(raw_package: bytes) -> bytes:
    """The single file inside the package's ZIP-wrapped attachment, found without lienthong."""
    found = _CTE.findall(raw_package)
    assert len(found) == 1
    wrapped = base64.b64decode(found[0], validate=False)
    with zipfile.ZipFile(io.BytesIO(wrapped)) as archive:
        names = archive.namelist()
        assert len(names) == 1
        return archive.read(names[0])


def parse_edoc(path: Path) -> Edoc:
    package = parse(path)
    assert isinstance(package, Edoc)
    return package


def parse_edoc_bytes(data: bytes) -> Edoc:
    package = parse(data)
    assert isinstance(package, Edoc)
    return package


def parse_status(path: Path) -> Status:
    package = parse(path)
    assert isinstance(package, Status)
    return package


# --------------------------------------------------------------------------- the set


def test_the_sample_folder_holds_the_official_set(
    samples_dir: Path, sample_corpus: dict[str, bytes]
) -> None:
    names = set(sample_corpus)
    assert {n for n in names if n.startswith("edoc")} == {
        "edoc.edxml",
        "edoc_new.edxml",
        "edoc_replacement.edxml",
        "edoc_revocation.edxml",
        "edoc_update.edxml",
    }
    assert sorted(expected_status_code(n) for n in names if n.startswith("status")) == [
        "01",
        "01",
        "02",
        "03",
        "04",
        "05",
        "06",
        "13",
        "15",
        "16",
    ]


def test_every_sample_file_parses_to_the_kind_its_name_says(
    sample_corpus: dict[str, bytes],
) -> None:
    seen = 0
    for name, data in sample_corpus.items():
        if name == "edoc_new.edxml":
            continue  # unreadable on purpose, see below
        package = parse(data)
        expected = "status" if name.startswith("status") else "edoc"
        assert package.kind == expected, name
        assert isinstance(package, Status if expected == "status" else Edoc), name
        package.close()
        seen += 1
    assert seen == len(sample_corpus) - 1


# --------------------------------------------------------------------------- status


def test_status_samples_carry_the_code_of_their_file_name(
    status_sample_name: str, sample: Callable[[str], Path]
) -> None:
    status = parse_status(sample(status_sample_name))
    assert status.status_code == expected_status_code(status_sample_name)
    # the withdrawal request (13) comes from the original sender, the others from the receiver
    sender = "000.00.00.G22" if status_sample_name.endswith("_13.edxml") else "000.00.00.H41"
    assert status.sender.organ_id == sender
    assert status.response_for.code == DOC
    assert status.response_for.document_id == DOCUMENT_ID
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}", status.timestamp or "")
    assert status.description  # Vietnamese free text, never empty in the samples
    assert status.staff is not None and status.staff.staff
    assert status.signature is None  # status samples are not signed
    assert [p for p in validate(status) if p.is_error] == []


def test_status_sample_values(sample: Callable[[str], Path]) -> None:
    status = parse_status(sample("status.edxml"))
    assert status.sender.organ_name == "UBND Tỉnh Nghệ An"
    assert status.response_for.organ_id == "000.00.00.G22"
    assert status.response_for.promulgation_date == "2018/09/28"
    assert status.timestamp == "2018/09/28 17:25:11"
    assert status.staff is not None
    assert status.staff.staff == "Nguyễn Thị Ngọc Trâm"
    assert status.description is not None
    assert status.description.startswith("Văn thư - Phòng Văn thư - Lưu trữ: Đã đến")


def test_cancellation_is_addressed_to_the_original_receiver(
    sample: Callable[[str], Path],
) -> None:
    # 13 is sent by the original sender, so ResponseFor/OrganId is the receiver (H41).
    status = parse_status(sample("status_cancellation_13.edxml"))
    assert status.response_for.organ_id == "000.00.00.H41"
    finish = parse_status(sample("status_finish_06.edxml"))
    assert finish.response_for.organ_id == "000.00.00.G22"


# --------------------------------------------------------------------------- edoc family


@pytest.mark.parametrize("name", ZIPPED_SAMPLES)
def test_edoc_samples_share_the_document_codes(name: str, sample: Callable[[str], Path]) -> None:
    edoc = parse_edoc(sample(name))
    assert edoc.code.number == "7816"
    assert edoc.code.notation == "VPCP-TTĐT"
    assert edoc.code.text == DOC
    assert edoc.document_id == DOCUMENT_ID
    assert edoc.sender.organ_id == "000.00.00.G22"
    assert edoc.sender.organ_name == "Văn phòng Chính phủ"
    assert edoc.subject == "V/v kết nối, liên thông phần mềm quản lý văn bản"
    assert edoc.promulgation is not None
    assert edoc.promulgation.place == "Hà Nội"
    assert edoc.promulgation.date == "2018/09/28"
    assert edoc.document_type is not None
    assert edoc.document_type.type_name == "Công văn"
    assert edoc.trace_headers[0].organ_id == "000.00.00.G22"
    assert edoc.trace_headers[0].timestamp == "2018/09/28 00:00:00"


@pytest.mark.parametrize(
    ("name", "doc_type", "reason"),
    [
        ("edoc_revocation.edxml", "1", "Thu hồi văn bản điện tử"),
        ("edoc_update.edxml", "2", "Cập nhật văn bản điện tử"),
        ("edoc_replacement.edxml", "3", "Văn bản thay thế"),
    ],
)
def test_business_doc_type_of_each_sample(
    name: str, doc_type: str, reason: str, sample: Callable[[str], Path]
) -> None:
    edoc = parse_edoc(sample(name))
    assert edoc.business is not None
    assert edoc.business.doc_type == doc_type
    assert edoc.business.reason == reason
    assert edoc.business.paper == "0"
    assert edoc.business.staff is not None
    assert edoc.business.staff.staff == "Nguyễn Thị Ngọc Trâm"
    assert edoc.business.staff.email == "vanthuvanphong@gov.vn"


def test_revocation_has_three_recipients(sample: Callable[[str], Path]) -> None:
    edoc = parse_edoc(sample("edoc_revocation.edxml"))
    assert [o.organ_id for o in edoc.recipients] == [
        "000.00.00.H41",
        "000.00.00.H14",
        "000.00.00.G17",
    ]
    assert [o.organ_name for o in edoc.recipients] == [
        "UBND Tỉnh Nghệ An",
        "UBND Tỉnh Cao Bằng",
        "Sở Thông tin truyền thông Hải Phòng",
    ]
    assert len(edoc.response_for) == 1
    rf = edoc.response_for[0]
    assert (rf.organ_id, rf.code, rf.promulgation_date) == (
        "000.00.00.H14",
        "267/VPCP-TTĐT",
        "2018/09/28",
    )
    assert rf.document_id == "000.00.04.G14,2012/08/06,267/VPCP-TTĐT"
    assert edoc.to_places == ["Cac bo va co quan ngang bo", "Uy ban nhan dan cac tinh, TP"]
    assert edoc.other_info is not None
    assert edoc.other_info.appendixes == [
        "Công văn về việc kết nối, liên thông phần mềm quản lý văn bản"
    ]
    assert edoc.business is not None
    assert edoc.business.document_info is None
    assert edoc.business.replacements is None


def test_update_lists_receivers_with_their_type(sample: Callable[[str], Path]) -> None:
    edoc = parse_edoc(sample("edoc_update.edxml"))
    assert edoc.business is not None
    assert edoc.business.document_id == "000.00.00.G22,2014/02/30,7806/VPCP-TTĐT"
    info = edoc.business.document_info
    assert info is not None
    assert (info.document_info, info.document_receiver) == ("1", "1")
    assert info.receivers is not None
    assert [(r.organ_id, r.receiver_type) for r in info.receivers] == [
        ("000.00.00.H41", "0"),
        ("000.00.00.H14", "1"),
    ]


def test_replacement_lists_two_replaced_documents(sample: Callable[[str], Path]) -> None:
    edoc = parse_edoc(sample("edoc_replacement.edxml"))
    assert edoc.business is not None
    replacements = edoc.business.replacements
    assert replacements is not None
    assert len(replacements) == 2
    for rep in replacements:
        assert rep.document_id == "000.00.00.G22,2014/01/30,7806/VPCP-TTĐT"
        assert rep.organ_ids == ["000.00.00.H41", "000.00.00.H14"]
    assert edoc.business.document_info is None


@pytest.mark.parametrize("name", ZIPPED_SAMPLES)
def test_zip_wrapped_attachment_is_unwrapped(name: str, sample: Callable[[str], Path]) -> None:
    path = sample(name)
    inner = unzip_attachment(path.read_bytes())
    assert len(inner) == 388347
    edoc = parse_edoc(path)
    try:
        assert len(edoc.attachments) == 1
        att = edoc.attachments[0]
        assert att.problem is None
        assert att.unwrapped_zip is True
        assert att.content is not None
        assert att.content.size == 388347
        assert att.content.sha256 == hashlib.sha256(inner).hexdigest()
        assert att.content.read_bytes() == inner
        assert att.content_id == "cid:209"
        assert att.bare_id == "209"
        assert att.name == "1896_QD-TTg_m_294779.doc"
        assert att.content_type == "application/zip"  # as declared on the wire
        assert [(r.content_id, r.attachment_name) for r in edoc.manifest] == [
            ("cid:209", "1896_QD-TTg_m_294779.doc")
        ]
    finally:
        edoc.close()


@pytest.mark.parametrize("name", ZIPPED_SAMPLES)
def test_vnpt_samples_are_valid(name: str, sample: Callable[[str], Path]) -> None:
    assert [p for p in validate(parse_edoc(sample(name))) if p.is_error] == []


# --------------------------------------------------------------------------- signatures


@pytest.mark.parametrize("name", ZIPPED_SAMPLES)
def test_vnpt_signature_is_unprefixed_in_the_edxml_namespace(
    name: str, sample: Callable[[str], Path]
) -> None:
    signature = parse_edoc(sample(name)).signature
    assert signature is not None
    assert signature.namespace == NS
    assert signature.signature_method == RSA_SHA1
    assert signature.digest_method == "http://www.w3.org/2000/09/xmldsig#sha1"
    assert signature.has_certificate is True


def test_edoc_sample_signature_is_in_the_xmldsig_namespace(sample: Callable[[str], Path]) -> None:
    signature = parse_edoc(sample("edoc.edxml")).signature
    assert signature is not None
    assert signature.namespace == XMLDSIG_NS
    assert signature.signature_method == RSA_SHA1
    assert signature.has_certificate is True


# --------------------------------------------------------------------------- edoc_new


def test_edoc_new_has_stray_bytes_before_the_declaration(sample: Callable[[str], Path]) -> None:
    path = sample("edoc_new.edxml")
    assert path.read_bytes()[:4] == b"1212"
    with pytest.raises(EdxmlError) as info:
        parse(path)
    problem = info.value.problem
    assert info.value.code is Code.STRAY_BYTES
    assert problem.code.value == "EDXML_STRAY_BYTES"
    assert problem.is_error
    for message in (problem.message_vi, problem.message_en):
        assert "'1212'" in message
        assert "4" in message
    assert "byte lạ" in problem.message_vi
    assert "stray byte" in problem.message_en


def test_edoc_new_is_unreadable_from_bytes_and_streams_too(sample: Callable[[str], Path]) -> None:
    data = sample("edoc_new.edxml").read_bytes()
    for source in (data, io.BytesIO(data)):
        with pytest.raises(EdxmlError) as info:
            parse(source)
        assert info.value.code is Code.STRAY_BYTES


def test_edoc_new_without_its_stray_bytes_is_a_new_document(
    sample: Callable[[str], Path],
) -> None:
    edoc = parse_edoc_bytes(sample("edoc_new.edxml").read_bytes()[4:])
    assert edoc.business is not None
    assert edoc.business.doc_type == "0"
    assert edoc.business.reason == "Văn bản điện tử mới"
    assert edoc.code.number == "74fass22"
    assert edoc.attachments[0].content is not None
    assert edoc.attachments[0].content.size == 388347


# --------------------------------------------------------------------------- edoc.edxml


def test_edoc_sample_with_undeclared_prefixes_parses(sample: Callable[[str], Path]) -> None:
    edoc = parse_edoc(sample("edoc.edxml"))
    assert edoc.code.number == "12234555512"
    assert edoc.code.notation == "PRO-TEST-CASE1"
    # DocumentId sits after SteeringType in this hand-edited sample
    assert edoc.document_id == "9fbfbad2-f1f8-4256-a2eb-50fb1061cddb"
    assert edoc.sender.organ_id == "002.00.20.H13"
    assert [o.organ_id for o in edoc.recipients] == ["000.00.15.H51"]
    assert edoc.steering_type == "1"
    # an empty ResponseFor: elements present, values empty
    assert len(edoc.response_for) == 1
    assert edoc.response_for[0].organ_id == ""
    assert edoc.response_for[0].is_empty
    # legacy short agency code in the trace
    assert edoc.trace_headers[0].organ_id == "01.02.G22"
    # the manifest uses the undeclared xlink: prefix, the attachment the edXML: one
    assert [r.content_id for r in edoc.manifest] == ["cid:36b8a92e-f054-11e7-842b-005056b672fc"]
    assert len(edoc.attachments) == 1
    att = edoc.attachments[0]
    assert att.name == "GUIDE_INSTALL OPENVPN.SIGNED.PDF"
    assert att.content_type == "application/pdf"
    assert att.bare_id == "36b8a92e-f054-11e7-842b-005056b672fc"


def test_edoc_sample_placeholder_attachment_is_a_problem_not_a_failure(
    sample: Callable[[str], Path],
) -> None:
    edoc = parse_edoc(sample("edoc.edxml"))
    att = edoc.attachments[0]
    assert att.content is None
    assert att.problem is not None
    assert att.problem.code is Code.BASE64_INVALID
    assert att.problem.field == "AttachmentEncoded/Attachment[1]/ContentTransferEncoded"

    errors = [p for p in validate(edoc) if p.is_error]
    assert [(p.code, p.field) for p in errors] == [
        (Code.BASE64_INVALID, "AttachmentEncoded/Attachment[1]/ContentTransferEncoded")
    ]
    warnings = {p.code for p in validate(edoc) if p.severity is Severity.WARNING}
    assert Code.AGENCY_CODE_GAP in warnings  # 002.00.20.H13 skips level 3


def test_edoc_sample_is_refused_in_strict_mode(sample: Callable[[str], Path]) -> None:
    with pytest.raises(EdxmlError) as info:
        parse(sample("edoc.edxml"), strict=True)
    assert info.value.code is Code.BASE64_INVALID
    assert info.value.problem.field.startswith("AttachmentEncoded/Attachment[1]")


def test_samples_parse_the_same_from_path_bytes_and_stream(
    readable_sample_name: str, sample: Callable[[str], Path]
) -> None:
    from lienthong.edxml.view import to_json

    path = sample(readable_sample_name)
    data = path.read_bytes()
    views = [to_json(parse(src)) for src in (path, str(path), data, io.BytesIO(data))]
    assert views[0]["kind"] in ("edoc", "status")
    assert all(v == views[0] for v in views[1:])
