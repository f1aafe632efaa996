from __future__ import annotations

import unicodedata
from typing import Any

import pytest

from lienthong.core.text import fold
from lienthong.edxml.codes import (
    AdminDocType,
    AuthorityMarker,
    BusinessDocType,
    Confidentiality,
    CopyForm,
    DocumentClass,
    Priority,
    StatusCode,
    StatusSender,
    SteeringType,
    authority_marker,
    authority_markers,
    document_type_by_abbreviation,
    document_type_by_name,
)


class TestFold:
    def test_removes_diacritics_and_d_stroke_and_lowercases(self) -> None:
        assert fold("Đồng Tháp") == "dong thap"

    def test_handles_horn_and_breve_letters(self) -> None:
        assert fold("Thượng khẩn, Ủy ban, Hỏa tốc") == "thuong khan, uy ban, hoa toc"

    def test_is_independent_of_unicode_normal_form(self) -> None:
        text = "Quyết định"
        assert fold(unicodedata.normalize("NFD", text)) == fold(text) == "quyet dinh"

    def test_leaves_ascii_untouched_except_case(self) -> None:
        assert fold("QD-UBND 12/2024") == "qd-ubnd 12/2024"


class TestStatusCode:
    def test_has_exactly_the_nine_known_wire_codes(self) -> None:
        assert [s.value for s in StatusCode] == [
            "01", "02", "03", "04", "05", "06", "13", "15", "16",
        ]  # fmt: skip

    @pytest.mark.parametrize(
        ("wire", "vi"),
        [
            ("01", "Đã đến"),
            ("02", "Từ chối tiếp nhận"),
            ("03", "Đã tiếp nhận, vào sổ"),
            ("04", "Phân công xử lý"),
            ("05", "Đang xử lý"),
            ("06", "Hoàn thành xử lý"),
            ("13", "Yêu cầu lấy lại"),
            ("15", "Đồng ý cập nhật/lấy lại"),
            ("16", "Từ chối cập nhật/lấy lại"),
        ],
    )
    def test_carries_vietnamese_labels(self, wire: str, vi: str) -> None:
        status = StatusCode.from_wire(wire)
        assert status is not None
        assert status.label() == status.label("vi") == status.vi == vi

    def test_carries_english_labels(self) -> None:
        assert StatusCode.ARRIVED.label("en") == "Arrived"
        assert StatusCode.WITHDRAWAL_REQUESTED.en == "Withdrawal requested"

    def test_only_the_withdrawal_request_is_sent_by_the_sender(self) -> None:
        senders = {s for s in StatusCode if s.sender is StatusSender.SENDER}
        assert senders == {StatusCode.WITHDRAWAL_REQUESTED}
        assert StatusCode.ARRIVED.sender is StatusSender.RECEIVER
        assert StatusSender.SENDER.label() == "Bên gửi"

    def test_is_a_string_equal_to_its_wire_value(self) -> None:
        assert StatusCode("03") is StatusCode.ACCEPTED
        assert isinstance(StatusCode.ACCEPTED, str)
        assert StatusCode.ACCEPTED.value == "03"
        assert f"{StatusCode.ACCEPTED}" == "03"

    @pytest.mark.parametrize("wire", ["07", "14", "1", "", "xx", None])
    def test_lookup_returns_none_for_unknown_values(self, wire: str | None) -> None:
        assert StatusCode.from_wire(wire) is None

    def test_lookup_ignores_surrounding_whitespace(self) -> None:
        assert StatusCode.from_wire(" 06\n") is StatusCode.COMPLETED


class TestIntegerCodeLists:
    def test_business_doc_type_values_and_labels(self) -> None:
        assert [(t.value, t.vi) for t in BusinessDocType] == [
            (0, "Văn bản điện tử mới"),
            (1, "Thu hồi"),
            (2, "Cập nhật"),
            (3, "Thay thế"),
        ]
        assert BusinessDocType.REVOKE.label("en") == "Revocation"

    def test_priority_values_and_labels(self) -> None:
        assert [(p.value, p.vi) for p in Priority] == [
            (0, "Thường"),
            (1, "Khẩn"),
            (2, "Thượng khẩn"),
            (3, "Hỏa tốc"),
            (4, "Hỏa tốc hẹn giờ"),
        ]

    def test_timed_immediate_priority_maps_to_immediate_under_decree_30(self) -> None:
        assert Priority.IMMEDIATE_TIMED.decree30 is Priority.IMMEDIATE
        assert Priority.URGENT.decree30 is Priority.URGENT

    def test_steering_type_values_and_labels(self) -> None:
        assert [(s.value, s.vi) for s in SteeringType] == [
            (0, "Không phải chỉ đạo"),
            (1, "Chỉ đạo"),
            (2, "Báo cáo chỉ đạo"),
        ]

    def test_document_class_is_administrative_or_legal_normative(self) -> None:
        assert DocumentClass(1) is DocumentClass.ADMINISTRATIVE
        assert DocumentClass.LEGAL_NORMATIVE.vi == "Văn bản quy phạm pháp luật"
        assert [c.value for c in DocumentClass] == [1, 2]

    def test_members_are_plain_integers(self) -> None:
        assert isinstance(Priority.URGENT, int)
        assert Priority.URGENT + 1 == 2
        assert str(Priority.URGENT) == "1"

    @pytest.mark.parametrize(
        ("wire", "expected"),
        [("0", Priority.NORMAL), (" 3 ", Priority.IMMEDIATE), (4, Priority.IMMEDIATE_TIMED)],
    )
    def test_lookup_accepts_strings_and_integers(self, wire: str | int, expected: Priority) -> None:
        assert Priority.from_wire(wire) is expected

    @pytest.mark.parametrize("wire", ["5", "-1", 9, "", "x", "1.0", "١", None])
    def test_lookup_returns_none_for_unknown_values(self, wire: str | int | None) -> None:
        assert Priority.from_wire(wire) is None
        assert BusinessDocType.from_wire(wire) is None

    def test_document_class_lookup_rejects_zero(self) -> None:
        assert DocumentClass.from_wire("0") is None
        assert DocumentClass.from_wire("2") is DocumentClass.LEGAL_NORMATIVE


class TestConfidentiality:
    def test_levels_are_ordered_from_secret_to_ultra_secret(self) -> None:
        assert [c.vi for c in sorted(Confidentiality)] == ["Mật", "Tối mật", "Tuyệt mật"]
        assert Confidentiality.ULTRA_SECRET > Confidentiality.SECRET

    def test_is_not_an_edxml_priority(self) -> None:
        assert not set(Confidentiality.__members__) & set(Priority.__members__)
        assert not {c.vi for c in Confidentiality} & {p.vi for p in Priority}


DECREE_30 = {
    "Nghị quyết": "NQ", "Quyết định": "QĐ", "Chỉ thị": "CT", "Quy chế": "QC",
    "Quy định": "QyĐ", "Thông cáo": "TC", "Thông báo": "TB", "Hướng dẫn": "HD",
    "Chương trình": "CTr", "Kế hoạch": "KH", "Phương án": "PA", "Đề án": "ĐA",
    "Dự án": "DA", "Báo cáo": "BC", "Biên bản": "BB", "Tờ trình": "TTr",
    "Hợp đồng": "HĐ", "Công điện": "CĐ", "Công văn": None, "Thư công": None,
    "Bản ghi nhớ": "BGN", "Bản thỏa thuận": "BTT", "Giấy ủy quyền": "GUQ", "Giấy mời": "GM",
    "Giấy giới thiệu": "GGT", "Giấy nghỉ phép": "GNP", "Phiếu gửi": "PG",
    "Phiếu chuyển": "PC", "Phiếu báo": "PB",
}  # fmt: skip


class TestAdminDocType:
    def test_lists_exactly_the_decree_30_types_with_their_abbreviations(self) -> None:
        assert {t.value: t.abbreviation for t in AdminDocType} == DECREE_30

    def test_labels_are_the_vietnamese_name_and_an_english_name(self) -> None:
        assert AdminDocType.SUBMISSION.label() == "Tờ trình"
        assert AdminDocType.SUBMISSION.label("en") == "Submission"

    def test_official_and_public_letters_have_no_abbreviation(self) -> None:
        assert AdminDocType.OFFICIAL_LETTER.abbreviation is None
        assert AdminDocType.PUBLIC_LETTER.abbreviation is None

    @pytest.mark.parametrize(
        ("name", "expected"),
        [
            ("Công văn", AdminDocType.OFFICIAL_LETTER),
            ("CÔNG VĂN", AdminDocType.OFFICIAL_LETTER),
            ("cong van", AdminDocType.OFFICIAL_LETTER),
            ("  Quyet   dinh ", AdminDocType.DECISION),
            ("Quyết định (cá biệt)", AdminDocType.DECISION),
            ("Nghị quyết (cá biệt)", AdminDocType.RESOLUTION),
            ("Đề án", AdminDocType.PROPOSAL),
            ("de an", AdminDocType.PROPOSAL),
            ("Dự án", AdminDocType.PROJECT),
            ("Bản thoả thuận", AdminDocType.AGREEMENT),
            (unicodedata.normalize("NFD", "Giấy ủy quyền"), AdminDocType.AUTHORISATION),
        ],
    )
    def test_finds_a_type_by_name_ignoring_case_and_diacritics(
        self, name: str, expected: AdminDocType
    ) -> None:
        assert document_type_by_name(name) is expected

    @pytest.mark.parametrize("name", ["", None, "Thông tư", "Luật", "Văn bản"])
    def test_name_lookup_returns_none_for_unknown_names(self, name: str | None) -> None:
        assert document_type_by_name(name) is None

    def test_folded_names_are_unique(self) -> None:
        assert len({fold(t.value) for t in AdminDocType}) == len(AdminDocType)

    @pytest.mark.parametrize(("name", "abbreviation"), [(n, a) for n, a in DECREE_30.items() if a])
    def test_finds_every_type_by_its_abbreviation(self, name: str, abbreviation: str) -> None:
        found = document_type_by_abbreviation(abbreviation)
        assert found is not None
        assert found.value == name

    @pytest.mark.parametrize("abbreviation", ["QYĐ", "qđ", "CTR", "TTR", "QD", "Qyđ"])
    def test_abbreviation_lookup_is_case_sensitive(self, abbreviation: str) -> None:
        assert document_type_by_abbreviation(abbreviation) is None

    @pytest.mark.parametrize("abbreviation", ["GN", "TTh", "NP", "UQ", "GT"])
    def test_rejects_the_2011_abbreviations(self, abbreviation: str) -> None:
        assert document_type_by_abbreviation(abbreviation) is None

    @pytest.mark.parametrize("abbreviation", ["", None, "SY", "XYZ"])
    def test_abbreviation_lookup_returns_none_for_unknown_values(
        self, abbreviation: str | None
    ) -> None:
        assert document_type_by_abbreviation(abbreviation) is None

    def test_abbreviation_lookup_accepts_decomposed_unicode(self) -> None:
        assert document_type_by_abbreviation(" QyĐ ") is AdminDocType.REGULATION
        assert document_type_by_abbreviation(unicodedata.normalize("NFD", "ĐA")) is (
            AdminDocType.PROPOSAL
        )


class TestCopyForm:
    def test_copy_forms_and_their_abbreviations(self) -> None:
        assert {c.value: c.vi for c in CopyForm} == {
            "SY": "Bản sao y",
            "TrS": "Bản trích sao",
            "SL": "Bản sao lục",
        }

    def test_copy_form_lookup_is_case_sensitive_and_never_raises(self) -> None:
        assert CopyForm.from_wire("TrS") is CopyForm.EXTRACT
        assert CopyForm.from_wire("TRS") is None
        assert CopyForm.from_wire(None) is None


class TestAuthorityMarker:
    def test_markers_and_meanings(self) -> None:
        assert {m.value: m.vi for m in AuthorityMarker} == {
            "TM.": "Thay mặt",
            "KT.": "Ký thay",
            "TL.": "Thừa lệnh",
            "TUQ.": "Thừa ủy quyền",
            "Q.": "Quyền",
        }
        assert AuthorityMarker.BY_ORDER.label("en") == "By order of the head"

    @pytest.mark.parametrize(
        ("competence", "expected"),
        [
            ("KT. CHỦ TỊCH", AuthorityMarker.SIGNED_FOR),
            ("TL. BO TRUONG", AuthorityMarker.BY_ORDER),
            ("TM. ỦY BAN NHÂN DÂN", AuthorityMarker.ON_BEHALF),
            ("TUQ. GIÁM ĐỐC", AuthorityMarker.BY_AUTHORISATION),
            ("Q. GIÁM ĐỐC", AuthorityMarker.ACTING),
            ("  kt. chủ tịch", AuthorityMarker.SIGNED_FOR),
            ("KT.CHỦ TỊCH", AuthorityMarker.SIGNED_FOR),
        ],
    )
    def test_extracts_the_marker_from_a_competence(
        self, competence: str, expected: AuthorityMarker
    ) -> None:
        assert authority_marker(competence) is expected

    @pytest.mark.parametrize(
        "competence", ["Quyền 1", "CHỦ TỊCH", "Giám đốc", "", None, "KT CHỦ TỊCH", "TKT. X"]
    )
    def test_returns_none_without_a_marker(self, competence: str | None) -> None:
        assert authority_marker(competence) is None

    def test_lists_nested_markers_in_order_and_returns_the_first(self) -> None:
        competence = "TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
        assert authority_markers(competence) == [
            AuthorityMarker.ON_BEHALF,
            AuthorityMarker.SIGNED_FOR,
        ]
        assert authority_marker(competence) is AuthorityMarker.ON_BEHALF


@pytest.mark.parametrize(
    "enum",
    [
        StatusSender, StatusCode, BusinessDocType, Priority, SteeringType, DocumentClass,
        Confidentiality, AdminDocType, CopyForm, AuthorityMarker,
    ],
)  # fmt: skip
def test_every_member_has_a_vietnamese_and_an_english_label(enum: Any) -> None:
    for member in enum:
        assert member.label("vi") and member.label("en")
        assert member.label("vi") != member.label("en")
