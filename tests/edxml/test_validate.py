"""Validation rules: typed, bilingual problems with a field path; soft rules warn on input
and are errors on output (``for_output=True``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import prepare
from lienthong.edxml.errors import Code, Problem, Severity
from lienthong.edxml.model import (
    Attachment,
    Business,
    DocumentCode,
    DocumentType,
    Edoc,
    ManifestReference,
    Organization,
    OtherInfo,
    Package,
    PromulgationInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    Status,
    TraceHeader,
)
from lienthong.edxml.parser import parse
from lienthong.edxml.validate import errors, validate

MakeEdoc = Callable[..., Edoc]
MakeStatus = Callable[..., Status]


def found(problems: list[Problem]) -> set[tuple[Code, str, Severity]]:
    return {(p.code, p.field, p.severity) for p in problems}


def codes_at(problems: list[Problem], field: str) -> list[Code]:
    return [p.code for p in problems if p.field == field]


def only(problems: list[Problem], code: Code, field: str) -> Problem:
    matching = [p for p in problems if p.code is code and p.field == field]
    assert len(matching) == 1, f"{code} at {field} not found once in {found(problems)}"
    return matching[0]


def assert_well_formed(problems: list[Problem]) -> None:
    for p in problems:
        assert p.field, p
        assert p.message_vi.strip(), p
        assert p.message_en.strip(), p
        assert p.message_vi != p.message_en, p
        assert p.severity in (Severity.ERROR, Severity.WARNING)


def edoc_with_attachments(
    make_edoc: MakeEdoc, attachment_ids: list[str | None], manifest_ids: list[str | None]
) -> Edoc:
    return make_edoc(
        attachments=[
            Attachment(
                content_id=cid,
                name=f"Tệp {i}.pdf",
                content_type="application/pdf",
                content=Blob.from_bytes(b"%PDF-1.4 " + str(i).encode()),
            )
            for i, cid in enumerate(attachment_ids, start=1)
        ],
        manifest=[
            ManifestReference(content_id=cid, content_type="application/pdf")
            for cid in manifest_ids
        ],
    )


# --------------------------------------------------------------------------- baselines


def test_factory_packages_are_valid(make_edoc: MakeEdoc, make_status: MakeStatus) -> None:
    assert validate(make_edoc()) == []
    assert validate(prepare(make_edoc()), for_output=True) == []
    assert validate(make_status()) == []
    assert validate(make_status(), for_output=True) == []


def test_validate_does_not_change_the_package(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(document_id=None, business=None)
    validate(edoc, for_output=True)
    assert edoc.document_id is None and edoc.business is None


def test_errors_keeps_only_errors(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(subject=None)
    edoc.sender.organ_id = "28.22.H17"
    problems = validate(edoc)
    assert {p.severity for p in problems} == {Severity.ERROR, Severity.WARNING}
    assert errors(problems) == [p for p in problems if p.severity is Severity.ERROR]
    assert [p.code for p in errors(problems)] == [Code.REQUIRED]


# --------------------------------------------------------------------------- required


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: setattr(e.sender, "organ_id", None), "MessageHeader/From/OrganId"),
        (lambda e: setattr(e.sender, "organ_id", "  "), "MessageHeader/From/OrganId"),
        (lambda e: setattr(e, "recipients", []), "MessageHeader/To"),
        (
            lambda e: e.recipients.append(Organization(organ_name="Sở Y tế")),
            "MessageHeader/To[2]/OrganId",
        ),
        (
            lambda e: setattr(e, "code", DocumentCode(None, "UBND-VP")),
            "MessageHeader/Code/CodeNumber",
        ),
        (lambda e: setattr(e, "code", DocumentCode("12", "")), "MessageHeader/Code/CodeNotation"),
        (lambda e: setattr(e, "subject", None), "MessageHeader/Subject"),
        (lambda e: setattr(e, "subject", " \n\t"), "MessageHeader/Subject"),
    ],
    ids=[
        "from-organ-id",
        "from-organ-id-blank",
        "no-to",
        "to-without-organ-id",
        "code-number",
        "code-notation",
        "subject",
        "subject-blank",
    ],
)
@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_required_edoc_fields(
    change: Callable[[Edoc], None], field: str, for_output: bool, make_edoc: MakeEdoc
) -> None:
    edoc = prepare(make_edoc())
    change(edoc)
    problems = validate(edoc, for_output=for_output)
    p = only(problems, Code.REQUIRED, field)
    assert p.is_error
    assert p.message_vi == "Thiếu trường bắt buộc"
    assert p.message_en == "A required field is missing"
    assert [q for q in problems if q.is_error] == [p]


def test_document_id_is_required_on_output_only(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(document_id=None)
    assert validate(edoc) == []
    assert found(validate(edoc, for_output=True)) == {
        (Code.REQUIRED, "MessageHeader/DocumentId", Severity.ERROR)
    }


def test_missing_trace_header_warns_on_input_and_fails_on_output(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(trace_headers=[], document_id="X")
    assert found(validate(edoc)) == {
        (Code.REQUIRED, "TraceHeaderList/TraceHeader", Severity.WARNING)
    }
    assert found(validate(edoc, for_output=True)) == {
        (Code.REQUIRED, "TraceHeaderList/TraceHeader", Severity.ERROR)
    }


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: setattr(s.sender, "organ_id", None), "MessageHeader/From/OrganId"),
        (
            lambda s: setattr(s.response_for, "organ_id", ""),
            "MessageHeader/ResponseFor/OrganId",
        ),
        (
            lambda s: setattr(s.response_for, "document_id", None),
            "MessageHeader/ResponseFor/DocumentId",
        ),
        (lambda s: setattr(s, "status_code", None), "MessageHeader/StatusCode"),
        (lambda s: setattr(s, "timestamp", " "), "MessageHeader/Timestamp"),
    ],
    ids=["from", "response-for-organ", "response-for-document", "status-code", "timestamp"],
)
def test_required_status_fields(
    change: Callable[[Status], None], field: str, make_status: MakeStatus
) -> None:
    status = make_status()
    change(status)
    problems = validate(status)
    assert found(problems) == {(Code.REQUIRED, field, Severity.ERROR)}


def test_empty_response_for_is_accepted_in_an_edoc(make_edoc: MakeEdoc) -> None:
    # real packages carry <ResponseFor> with empty children (edoc.edxml)
    edoc = make_edoc(response_for=[ResponseFor("", "", "", "")])
    assert validate(edoc) == []


# --------------------------------------------------------------------------- recipients


def test_duplicate_recipients(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(
        recipients=[
            Organization(organ_id="000.00.00.G22"),
            Organization(organ_id="000.00.00.H14"),
            Organization(organ_id="000.00.00.G22"),
        ]
    )
    problems = validate(edoc)
    p = only(problems, Code.DUPLICATE_RECIPIENT, "MessageHeader/To[3]/OrganId")
    assert p.is_error
    assert "000.00.00.G22" in p.message_vi and "000.00.00.G22" in p.message_en
    assert [q.code for q in problems] == [Code.DUPLICATE_RECIPIENT]


def test_duplicate_recipients_despite_surrounding_whitespace(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(
        recipients=[
            Organization(organ_id="000.00.00.G22"),
            Organization(organ_id=" 000.00.00.G22 "),
        ]
    )
    problems = validate(edoc)
    assert Code.DUPLICATE_RECIPIENT in codes_at(problems, "MessageHeader/To[2]/OrganId")
    assert Code.AGENCY_CODE_WHITESPACE in codes_at(problems, "MessageHeader/To[2]/OrganId")


def test_distinct_recipients_are_fine(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(
        recipients=[Organization(organ_id="000.00.00.G22"), Organization(organ_id="000.00.01.G22")]
    )
    assert validate(edoc) == []


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize("value", ["2024/02/30", "2024-02-03", "2024/2/3", "03/02/2024", "hôm nay"])
@pytest.mark.parametrize(
    ("where", "field"),
    [
        ("promulgation", "MessageHeader/PromulgationInfo/PromulgationDate"),
        ("due_date", "MessageHeader/DueDate"),
        ("response_for", "MessageHeader/ResponseFor[1]/PromulgationDate"),
    ],
)
def test_bad_dates(value: str, where: str, field: str, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(document_id="X")
    if where == "promulgation":
        edoc.promulgation = PromulgationInfo(place="Nghệ An", date=value)
    elif where == "due_date":
        edoc.due_date = value
    else:
        edoc.response_for = [ResponseFor(organ_id="000.00.00.G22", promulgation_date=value)]
    problems = validate(edoc)
    p = only(problems, Code.DATE_FORMAT, field)
    assert p.is_error
    assert value in p.message_vi and value in p.message_en
    assert "yyyy/MM/dd" in p.message_en


@pytest.mark.parametrize("value", ["2024/02/29", "2000/01/01", "2024/12/31"])
def test_good_dates(value: str, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(promulgation=PromulgationInfo(place="Hà Nội", date=value), due_date=value)
    assert validate(edoc) == []


def test_status_response_for_date_is_checked(make_status: MakeStatus) -> None:
    status = make_status()
    status.response_for.promulgation_date = "2015/13/01"
    assert found(validate(status)) == {
        (Code.DATE_FORMAT, "MessageHeader/ResponseFor/PromulgationDate", Severity.ERROR)
    }


@pytest.mark.parametrize(
    "value",
    [
        "2024-02-03 10:00:00",
        "2024/02/03 10:00",
        "2024/02/03T10:00:00",
        "2024/02/03 24:00:00",
        "2024/02/30 10:00:00",
        "2024/02/03",
    ],
)
def test_bad_timestamps(value: str, make_edoc: MakeEdoc, make_status: MakeStatus) -> None:
    edoc = make_edoc(
        trace_headers=[
            TraceHeader("000.00.12.H41", "2024/03/05 08:30:00"),
            TraceHeader("000.00.00.G22", value),
        ]
    )
    assert found(validate(edoc)) == {
        (Code.TIMESTAMP_FORMAT, "TraceHeaderList/TraceHeader[2]/Timestamp", Severity.ERROR)
    }
    status = make_status(timestamp=value)
    p = only(validate(status), Code.TIMESTAMP_FORMAT, "MessageHeader/Timestamp")
    assert value in p.message_vi and "yyyy/MM/dd HH:mm:ss" in p.message_en


def test_future_promulgation_date_is_soft(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(promulgation=PromulgationInfo(place="Nghệ An", date="2999/01/01"))
    field = "MessageHeader/PromulgationInfo/PromulgationDate"
    assert found(validate(edoc)) == {(Code.FUTURE_DATE, field, Severity.WARNING)}
    prepared = prepare(edoc)
    assert (Code.FUTURE_DATE, field, Severity.ERROR) in found(validate(prepared, for_output=True))


# --------------------------------------------------------------------------- ranges


@pytest.mark.parametrize("value", ["0", "1", "2", "3", "4"])
def test_priority_in_range(value: str, make_edoc: MakeEdoc) -> None:
    assert validate(make_edoc(other_info=OtherInfo(priority=value))) == []


@pytest.mark.parametrize("value", ["5", "7", "-1", "01", "khẩn"])
@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_priority_out_of_range(value: str, for_output: bool, make_edoc: MakeEdoc) -> None:
    edoc = prepare(make_edoc(other_info=OtherInfo(priority=value)))
    problems = validate(edoc, for_output=for_output)
    assert found(problems) == {
        (Code.OUT_OF_RANGE, "MessageHeader/OtherInfo/Priority", Severity.ERROR)
    }
    assert "0, 1, 2, 3, 4" in problems[0].message_en


@pytest.mark.parametrize(("value", "ok"), [("1", True), ("2", True), ("0", False), ("3", False)])
def test_document_type(value: str, ok: bool, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(document_type=DocumentType(type=value, type_detail="0", type_name="Công văn"))
    expected = (
        set() if ok else {(Code.OUT_OF_RANGE, "MessageHeader/DocumentType/Type", Severity.ERROR)}
    )
    assert found(validate(edoc)) == expected


def test_type_detail_must_be_a_number(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(document_type=DocumentType(type="1", type_detail="a", type_name="Công văn"))
    assert found(validate(edoc)) == {
        (Code.NOT_A_NUMBER, "MessageHeader/DocumentType/TypeDetail", Severity.ERROR)
    }


@pytest.mark.parametrize(
    ("value", "ok"),
    [("0", True), ("1", True), ("2", True), ("3", True), ("4", False), ("x", False)],
)
def test_business_doc_type(value: str, ok: bool, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(business=Business(doc_type=value, reason="Lý do", paper="0"))
    field = "TraceHeaderList/Bussiness/BussinessDocType"
    expected = set() if ok else {(Code.OUT_OF_RANGE, field, Severity.ERROR)}
    assert found(validate(edoc)) == expected


@pytest.mark.parametrize(
    ("attr", "value", "field"),
    [
        ("steering", "5", "MessageHeader/SteeringType"),
        ("paper", "2", "TraceHeaderList/Bussiness/Paper"),
        ("promulgation_amount", "70000", "MessageHeader/OtherInfo/PromulgationAmount"),
        ("page_amount", "1000", "MessageHeader/OtherInfo/PageAmount"),
    ],
)
def test_soft_ranges(attr: str, value: str, field: str, make_edoc: MakeEdoc) -> None:
    edoc = prepare(make_edoc())
    if attr == "steering":
        edoc.steering_type = value
    elif attr == "paper":
        edoc.business = Business(doc_type="0", reason="Văn bản điện tử mới", paper=value)
    else:
        edoc.other_info = replace(OtherInfo(priority="0"), **{attr: value})
    assert found(validate(edoc)) == {(Code.OUT_OF_RANGE, field, Severity.WARNING)}
    assert found(validate(edoc, for_output=True)) == {(Code.OUT_OF_RANGE, field, Severity.ERROR)}


@pytest.mark.parametrize("value", ["ba", "-1", "1.5", "2 trang"])
def test_amounts_must_be_numbers(value: str, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(other_info=OtherInfo(promulgation_amount=value, page_amount=value))
    assert found(validate(edoc)) == {
        (Code.NOT_A_NUMBER, "MessageHeader/OtherInfo/PromulgationAmount", Severity.ERROR),
        (Code.NOT_A_NUMBER, "MessageHeader/OtherInfo/PageAmount", Severity.ERROR),
    }


@pytest.mark.parametrize("code", ["01", "02", "03", "04", "05", "06", "13", "15", "16"])
def test_known_status_codes(code: str, make_status: MakeStatus) -> None:
    status = make_status(status_code=code)
    assert validate(status) == []
    assert validate(status, for_output=True) == []


@pytest.mark.parametrize("code", ["07", "12", "14", "99", "00"])
def test_unknown_two_digit_status_code_warns_on_input_fails_on_output(
    code: str, make_status: MakeStatus
) -> None:
    status = make_status(status_code=code)
    field = "MessageHeader/StatusCode"
    assert found(validate(status)) == {(Code.OUT_OF_RANGE, field, Severity.WARNING)}
    assert found(validate(status, for_output=True)) == {(Code.OUT_OF_RANGE, field, Severity.ERROR)}


@pytest.mark.parametrize("code", ["1", "001", "ab", "1a", "６"])
@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_malformed_status_code_is_an_error(
    code: str, for_output: bool, make_status: MakeStatus
) -> None:
    problems = validate(make_status(status_code=code), for_output=for_output)
    assert found(problems) == {(Code.OUT_OF_RANGE, "MessageHeader/StatusCode", Severity.ERROR)}
    assert code in problems[0].message_vi


# --------------------------------------------------------------------------- Decree 30 lengths


def _set(obj: Any, path: str, value: str) -> None:
    *parents, last = path.split(".")
    for part in parents:
        obj = getattr(obj, part)
    if last.endswith("[0]"):
        getattr(obj, last[:-3])[0] = value
    else:
        setattr(obj, last, value)


LENGTHS = [
    ("code.number", 11, "MessageHeader/Code/CodeNumber"),
    ("code.notation", 30, "MessageHeader/Code/CodeNotation"),
    ("subject", 500, "MessageHeader/Subject"),
    ("content", 500, "MessageHeader/Content"),
    ("promulgation.place", 50, "MessageHeader/PromulgationInfo/Place"),
    ("document_type.type_name", 100, "MessageHeader/DocumentType/TypeName"),
    ("signer.position", 100, "MessageHeader/SignerInfo/Position"),
    ("signer.full_name", 50, "MessageHeader/SignerInfo/FullName"),
    ("other_info.sphere_of_promulgation", 100, "MessageHeader/OtherInfo/SphereOfPromulgation"),
    ("other_info.typer_notation", 10, "MessageHeader/OtherInfo/TyperNotation"),
    ("other_info.appendixes[0]", 250, "MessageHeader/OtherInfo/Appendixes/Appendix[1]"),
    ("to_places[0]", 150, "MessageHeader/ToPlaces/Place[1]"),
    ("sender.organ_name", 200, "MessageHeader/From/OrganName"),
    ("sender.organization_in_charge", 500, "MessageHeader/From/OrganizationInCharge"),
    ("sender.organ_add", 500, "MessageHeader/From/OrganAdd"),
    ("sender.email", 100, "MessageHeader/From/Email"),
    ("sender.telephone", 20, "MessageHeader/From/Telephone"),
    ("recipients[0]", 20, "MessageHeader/To[1]/Fax"),
    ("attachments[0]", 200, "AttachmentEncoded/Attachment[1]/AttachmentName"),
]


def _edoc_for_lengths(make_edoc: MakeEdoc, make_attachment: Callable[..., Attachment]) -> Edoc:
    edoc = make_edoc(
        other_info=OtherInfo(priority="0", appendixes=["Phụ lục"]),
        to_places=["Như trên;"],
        attachments=[make_attachment(content_id="cid:1")],
        manifest=[ManifestReference(content_id="cid:1")],
    )
    return prepare(edoc)


def _fill(edoc: Edoc, path: str, value: str) -> None:
    if path == "recipients[0]":
        edoc.recipients[0].fax = value
    elif path == "attachments[0]":
        edoc.attachments[0].name = value
    else:
        _set(edoc, path, value)


@pytest.mark.parametrize(("path", "limit", "field"), LENGTHS, ids=[x[0] for x in LENGTHS])
def test_decree_30_lengths(
    path: str,
    limit: int,
    field: str,
    make_edoc: MakeEdoc,
    make_attachment: Callable[..., Attachment],
) -> None:
    # characters, not bytes: "ệ" is three bytes in UTF-8
    at_limit = _edoc_for_lengths(make_edoc, make_attachment)
    _fill(at_limit, path, "ệ" * limit)
    assert validate(at_limit) == []
    assert validate(at_limit, for_output=True) == []

    over = _edoc_for_lengths(make_edoc, make_attachment)
    _fill(over, path, "ệ" * (limit + 1))
    assert found(validate(over)) == {(Code.TOO_LONG, field, Severity.WARNING)}
    output = validate(over, for_output=True)
    assert found(output) == {(Code.TOO_LONG, field, Severity.ERROR)}
    assert str(limit + 1) in output[0].message_en and str(limit) in output[0].message_vi
    assert "Nghị định 30" in output[0].message_vi


def test_lengths_ignore_surrounding_whitespace(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc(code=DocumentCode(number="  " + "1" * 11 + "\n", notation="UBND-VP"))
    assert validate(edoc) == []


def test_status_staff_email_length(make_status: MakeStatus) -> None:
    status = make_status(staff=StaffInfo(staff="Trâm", email="a" * 101))
    assert found(validate(status)) == {
        (Code.TOO_LONG, "MessageHeader/StaffInfo/Email", Severity.WARNING)
    }


# --------------------------------------------------------------------------- attachments


@pytest.mark.parametrize(
    ("attachment_id", "manifest_id"),
    [
        ("cid:209", "cid:209"),
        ("209", "cid:209"),
        ("cid:209", "209"),
        ("209", "209"),
        ("CID:209", "209"),
    ],
)
def test_manifest_and_attachments_pair_with_or_without_cid(
    attachment_id: str, manifest_id: str, make_edoc: MakeEdoc
) -> None:
    edoc = edoc_with_attachments(make_edoc, [attachment_id], [manifest_id])
    assert validate(edoc) == []


def test_sample_with_cid_on_one_side_only_still_pairs(sample: Callable[[str], Path]) -> None:
    raw = sample("edoc_revocation.edxml").read_bytes()
    edited = raw.replace(b"<ContentId>cid:209</ContentId>", b"<ContentId>209</ContentId>")
    assert edited != raw
    edoc = parse(edited)
    assert isinstance(edoc, Edoc)
    assert edoc.attachments[0].content_id == "209"
    assert edoc.manifest[0].content_id == "cid:209"
    assert validate(edoc) == []


def test_manifest_entry_without_attachment(make_edoc: MakeEdoc) -> None:
    edoc = edoc_with_attachments(make_edoc, ["cid:a"], ["cid:a", "cid:b"])
    problems = validate(edoc)
    p = only(problems, Code.ATTACHMENT_UNPAIRED, "edXMLManifest/Reference[2]/ContentId")
    assert p.is_error
    assert "'b'" in p.message_vi and "'b'" in p.message_en
    assert "manifest" in p.message_en
    assert len(problems) == 1


def test_attachment_missing_from_manifest(make_edoc: MakeEdoc) -> None:
    edoc = edoc_with_attachments(make_edoc, ["cid:a", "cid:b"], ["cid:a"])
    problems = validate(edoc)
    p = only(problems, Code.ATTACHMENT_UNPAIRED, "AttachmentEncoded/Attachment[2]/ContentId")
    assert "'b'" in p.message_en
    assert len(problems) == 1


def test_manifest_is_not_checked_on_output(make_edoc: MakeEdoc) -> None:
    # the builder writes the manifest from the attachments themselves
    edoc = prepare(edoc_with_attachments(make_edoc, ["cid:a"], []))
    assert validate(edoc, for_output=True) == []
    assert codes_at(validate(edoc), "AttachmentEncoded/Attachment[1]/ContentId") == [
        Code.ATTACHMENT_UNPAIRED
    ]


def test_duplicate_content_ids(make_edoc: MakeEdoc) -> None:
    edoc = edoc_with_attachments(make_edoc, ["cid:a", "a"], ["cid:a"])
    problems = validate(edoc)
    only(problems, Code.ATTACHMENT_DUPLICATE, "AttachmentEncoded/Attachment[2]/ContentId")


def test_attachment_without_content_id_on_input(make_edoc: MakeEdoc) -> None:
    edoc = edoc_with_attachments(make_edoc, [None], [])
    assert found(validate(edoc)) == {
        (Code.REQUIRED, "AttachmentEncoded/Attachment[1]/ContentId", Severity.ERROR)
    }


def test_attachment_problem_from_parsing_is_an_error(sample: Callable[[str], Path]) -> None:
    edoc = parse(sample("edoc.edxml"))
    problems = validate(edoc)
    p = only(
        problems, Code.BASE64_INVALID, "AttachmentEncoded/Attachment[1]/ContentTransferEncoded"
    )
    assert p.is_error


# --------------------------------------------------------------------------- agency codes


def test_legacy_agency_code_warns_on_input(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc()
    edoc.sender.organ_id = "28.22.H17"
    problems = validate(edoc)
    p = only(problems, Code.AGENCY_CODE_LEGACY, "MessageHeader/From/OrganId")
    assert p.severity is Severity.WARNING
    assert "000.28.22.H17" in p.message_vi and "000.28.22.H17" in p.message_en
    assert errors(problems) == []


def test_legacy_agency_code_fails_on_output(make_edoc: MakeEdoc) -> None:
    edoc = prepare(make_edoc())
    edoc.recipients[0].organ_id = "22.H17"
    problems = validate(edoc, for_output=True)
    assert found(problems) == {
        (Code.AGENCY_CODE_LEGACY, "MessageHeader/To[1]/OrganId", Severity.ERROR)
    }


def test_legacy_code_in_a_status(make_status: MakeStatus) -> None:
    status = make_status()
    status.response_for.organ_id = "01.02.G22"
    assert found(validate(status)) == {
        (Code.AGENCY_CODE_LEGACY, "MessageHeader/ResponseFor/OrganId", Severity.WARNING)
    }


@pytest.mark.parametrize(
    "value", ["H41", "000.00.00.h41", "000-00-00-H41", "Sở Y tế", "0000.00.00.H41"]
)
def test_unreadable_agency_code_is_an_error(value: str, make_edoc: MakeEdoc) -> None:
    edoc = make_edoc()
    edoc.sender.organ_id = value
    problems = validate(edoc)
    p = only(problems, Code.AGENCY_CODE_INVALID, "MessageHeader/From/OrganId")
    assert p.is_error
    assert value in p.message_vi


def test_agency_code_gap_warns(make_edoc: MakeEdoc) -> None:
    edoc = make_edoc()
    edoc.sender.organ_id = "002.00.20.H13"
    assert found(validate(edoc)) == {
        (Code.AGENCY_CODE_GAP, "MessageHeader/From/OrganId", Severity.WARNING)
    }


# --------------------------------------------------------------------------- every problem


def _kitchen_sink_edoc(make_edoc: MakeEdoc) -> Edoc:
    edoc = make_edoc(
        recipients=[
            Organization(organ_id="000.00.00.G22", fax="0" * 21),
            Organization(organ_id="000.00.00.G22"),
            Organization(organ_id="28.22.H17"),
            Organization(organ_id="không có mã"),
            Organization(organ_name="Sở Y tế"),
            Organization(organ_id=" 000.00.00.H14"),
        ],
        code=DocumentCode(number="1" * 12, notation=None),
        promulgation=PromulgationInfo(place="P" * 51, date="2024/02/30"),
        document_type=DocumentType(type="9", type_detail="x", type_name="T" * 101),
        subject=None,
        content="C" * 501,
        signer=SignerInfo(position="P" * 101, full_name="N" * 51),
        due_date="2024-03-31",
        other_info=OtherInfo(
            priority="9",
            sphere_of_promulgation="S" * 101,
            typer_notation="T" * 11,
            promulgation_amount="99999",
            page_amount="nhiều",
            appendixes=["A" * 251],
        ),
        response_for=[ResponseFor(promulgation_date="hôm qua")],
        steering_type="7",
        to_places=["P" * 151],
        trace_headers=[TraceHeader("000.00.12.H41", "2024/03/05")],
        business=Business(doc_type="8", paper="3"),
        attachments=[
            Attachment(content_id="cid:x", name="N" * 201, content=Blob.from_bytes(b"1")),
            Attachment(content_id="x", content=Blob.from_bytes(b"2")),
            Attachment(content=Blob.from_bytes(b"3")),
        ],
        manifest=[ManifestReference(content_id="cid:y")],
    )
    edoc.sender.organ_id = "002.00.20.H13"
    edoc.sender.email = " " + "e" * 101
    return edoc


def _kitchen_sink_status(make_status: MakeStatus) -> Status:
    status = make_status(status_code="1", timestamp="2024/02/30 10:00:00")
    status.sender.organ_id = " 000.00.00.H41"
    status.sender.organ_name = "O" * 201
    status.response_for = ResponseFor(organ_id="28.22.H17", promulgation_date="x")
    status.staff = StaffInfo(email="e" * 101)
    return status


@pytest.mark.parametrize("for_output", [False, True], ids=["input", "output"])
def test_every_problem_is_typed_bilingual_and_located(
    for_output: bool, make_edoc: MakeEdoc, make_status: MakeStatus
) -> None:
    packages: list[Package] = [_kitchen_sink_edoc(make_edoc), _kitchen_sink_status(make_status)]
    for package in packages:
        problems = validate(package, for_output=for_output)
        assert len(problems) >= 8
        assert_well_formed(problems)
        assert all(isinstance(p.code, Code) for p in problems)
        for p in problems:
            d = p.to_dict()
            assert d["code"] == p.code.value and d["field"] == p.field
            assert d["message_vi"] == p.message_vi and d["message_en"] == p.message_en
    edoc_codes = {p.code for p in validate(packages[0], for_output=for_output)}
    assert edoc_codes >= {
        Code.REQUIRED,
        Code.DUPLICATE_RECIPIENT,
        Code.AGENCY_CODE_LEGACY,
        Code.AGENCY_CODE_INVALID,
        Code.AGENCY_CODE_GAP,
        Code.AGENCY_CODE_WHITESPACE,
        Code.DATE_FORMAT,
        Code.TIMESTAMP_FORMAT,
        Code.OUT_OF_RANGE,
        Code.NOT_A_NUMBER,
        Code.TOO_LONG,
        Code.ATTACHMENT_DUPLICATE,
    }
    if not for_output:
        assert Code.ATTACHMENT_UNPAIRED in edoc_codes


def test_soft_rules_warn_on_input_and_fail_on_output_hard_ones_always_fail(
    make_edoc: MakeEdoc, make_status: MakeStatus
) -> None:
    edoc = prepare(_kitchen_sink_edoc(make_edoc))
    edoc.attachments[2].content_id = "cid:z"
    # pair the manifest (an input-only rule) so that both modes see the same rules
    edoc.manifest = [ManifestReference(content_id=a.content_id) for a in edoc.attachments]
    input_ = found(validate(edoc))
    output = found(validate(edoc, for_output=True))
    hard = {x for x in input_ if x[2] is Severity.ERROR}
    soft = {(c, f) for c, f, s in input_ if s is Severity.WARNING}
    assert hard <= output
    assert {(c, f, Severity.ERROR) for c, f in soft} <= output
    assert soft >= {
        (Code.TOO_LONG, "MessageHeader/Content"),
        (Code.AGENCY_CODE_LEGACY, "MessageHeader/To[3]/OrganId"),
        (Code.AGENCY_CODE_GAP, "MessageHeader/From/OrganId"),
        (Code.OUT_OF_RANGE, "MessageHeader/SteeringType"),
    }
