"""Typed problems and errors of the edXML library.

Every problem names a stable ``code``, the ``field`` at fault (a path such as
``MessageHeader/To[2]/OrganId``) and a message in Vietnamese and in English. Messages are
built from one catalogue (:data:`MESSAGES`) so wording stays consistent and translatable.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Code(StrEnum):
    """Stable problem codes. Never rename a value: clients match on them."""

    # reading the bytes
    MALFORMED = "EDXML_MALFORMED"
    STRAY_BYTES = "EDXML_STRAY_BYTES"
    EMPTY = "EDXML_EMPTY"
    ENCODING = "EDXML_ENCODING"
    DOCTYPE_FORBIDDEN = "EDXML_DOCTYPE_FORBIDDEN"
    WRONG_ROOT = "EDXML_WRONG_ROOT"
    WRONG_NAMESPACE = "EDXML_WRONG_NAMESPACE"
    TOO_DEEP = "EDXML_TOO_DEEP"
    TOO_LARGE = "EDXML_TOO_LARGE"
    UNKNOWN_KIND = "EDXML_UNKNOWN_KIND"
    # attachments
    BASE64_INVALID = "EDXML_BASE64_INVALID"
    ATTACHMENT_TOO_LARGE = "EDXML_ATTACHMENT_TOO_LARGE"
    ZIP_BOMB = "EDXML_ZIP_BOMB"
    ZIP_INVALID = "EDXML_ZIP_INVALID"
    ATTACHMENT_UNPAIRED = "EDXML_ATTACHMENT_UNPAIRED"
    ATTACHMENT_DUPLICATE = "EDXML_ATTACHMENT_DUPLICATE"
    ATTACHMENT_CONTENT = "EDXML_ATTACHMENT_CONTENT"
    # validation of the content
    REQUIRED = "EDXML_REQUIRED"
    DUPLICATE_RECIPIENT = "EDXML_DUPLICATE_RECIPIENT"
    DATE_FORMAT = "EDXML_DATE_FORMAT"
    TIMESTAMP_FORMAT = "EDXML_TIMESTAMP_FORMAT"
    OUT_OF_RANGE = "EDXML_OUT_OF_RANGE"
    NOT_A_NUMBER = "EDXML_NOT_A_NUMBER"
    TOO_LONG = "EDXML_TOO_LONG"
    FUTURE_DATE = "EDXML_FUTURE_DATE"
    # agency identification codes
    AGENCY_CODE_INVALID = "AGENCY_CODE_INVALID"
    AGENCY_CODE_LEGACY = "AGENCY_CODE_LEGACY"
    AGENCY_CODE_GAP = "AGENCY_CODE_GAP"
    AGENCY_CODE_WHITESPACE = "AGENCY_CODE_WHITESPACE"
    AGENCY_CODE_NONSTANDARD = "AGENCY_CODE_NONSTANDARD"
    AGENCY_CODE_ABSENT = "AGENCY_CODE_ABSENT"
    # building
    SPEC_INVALID = "EDXML_SPEC_INVALID"
    OUTPUT_UNWRITABLE = "EDXML_OUTPUT_UNWRITABLE"


#: code -> (Vietnamese template, English template); templates use str.format fields.
MESSAGES: dict[Code, tuple[str, str]] = {
    Code.MALFORMED: (
        "Gói tin không phải XML hợp lệ (dòng {line}, cột {column}): {detail}",
        "The package is not well-formed XML (line {line}, column {column}): {detail}",
    ),
    Code.STRAY_BYTES: (
        "Có {count} byte lạ ({preview}) trước khai báo XML, tại đầu tệp (byte 0–{end})",
        "{count} stray byte(s) ({preview}) before the XML declaration, at the start "
        "of the file (bytes 0–{end})",
    ),
    Code.EMPTY: ("Gói tin rỗng", "The package is empty"),
    Code.ENCODING: (
        "Bảng mã không được hỗ trợ: {detail}; gói tin edXML phải dùng UTF-8",
        "Unsupported encoding: {detail}; edXML packages must be UTF-8",
    ),
    Code.DOCTYPE_FORBIDDEN: (
        "Gói tin chứa khai báo DOCTYPE/ENTITY; edXML không dùng DTD nên gói tin bị từ chối",
        "The package contains a DOCTYPE/ENTITY declaration; edXML uses no DTD, so it is refused",
    ),
    Code.WRONG_ROOT: (
        "Phần tử gốc phải là edXML, nhận được {detail}",
        "The root element must be edXML, got {detail}",
    ),
    Code.WRONG_NAMESPACE: (
        "Không gian tên không đúng: {detail}; cần http://www.mic.gov.vn/TBT/QCVN_102_2016",
        "Wrong namespace: {detail}; expected http://www.mic.gov.vn/TBT/QCVN_102_2016",
    ),
    Code.TOO_DEEP: (
        "Cấu trúc XML lồng quá sâu (quá {limit} cấp)",
        "The XML is nested too deeply (more than {limit} levels)",
    ),
    Code.TOO_LARGE: (
        "Gói tin vượt giới hạn kích thước: {detail}",
        "The package exceeds a size limit: {detail}",
    ),
    Code.UNKNOWN_KIND: (
        "Không nhận ra loại gói tin (không phải văn bản, không phải trạng thái)",
        "Unknown package kind (neither a document nor a status)",
    ),
    Code.BASE64_INVALID: (
        "Nội dung tệp đính kèm không phải base64 hợp lệ: {detail}",
        "The attachment content is not valid base64: {detail}",
    ),
    Code.ATTACHMENT_TOO_LARGE: (
        "Tệp đính kèm vượt giới hạn {limit} byte",
        "The attachment exceeds the limit of {limit} bytes",
    ),
    Code.ZIP_BOMB: (
        "Tệp nén đáng ngờ (zip bomb): {detail}",
        "Suspicious compressed file (zip bomb): {detail}",
    ),
    Code.ZIP_INVALID: (
        "Tệp nén ZIP bị hỏng: {detail}",
        "The ZIP file is damaged: {detail}",
    ),
    Code.ATTACHMENT_UNPAIRED: (
        "Tệp đính kèm {detail}",
        "Attachment {detail_en}",
    ),
    Code.ATTACHMENT_DUPLICATE: (
        "Mã tệp đính kèm {detail} bị trùng",
        "Duplicate attachment content id {detail}",
    ),
    Code.ATTACHMENT_CONTENT: (
        "Phần tử ContentTransferEncoded chỉ được chứa văn bản base64",
        "ContentTransferEncoded may contain base64 text only",
    ),
    Code.REQUIRED: ("Thiếu trường bắt buộc", "A required field is missing"),
    Code.DUPLICATE_RECIPIENT: (
        "Mã định danh nơi nhận {detail} bị lặp",
        "Recipient identification code {detail} is repeated",
    ),
    Code.DATE_FORMAT: (
        "Ngày '{value}' không đúng định dạng yyyy/MM/dd",
        "Date '{value}' is not in the yyyy/MM/dd format",
    ),
    Code.TIMESTAMP_FORMAT: (
        "Thời điểm '{value}' không đúng định dạng yyyy/MM/dd HH:mm:ss",
        "Timestamp '{value}' is not in the yyyy/MM/dd HH:mm:ss format",
    ),
    Code.OUT_OF_RANGE: (
        "Giá trị '{value}' không thuộc tập cho phép ({allowed})",
        "Value '{value}' is not one of the allowed values ({allowed})",
    ),
    Code.NOT_A_NUMBER: (
        "Giá trị '{value}' phải là số nguyên không âm",
        "Value '{value}' must be a non-negative integer",
    ),
    Code.TOO_LONG: (
        "Dài {length} ký tự, vượt giới hạn {limit} ký tự (Nghị định 30, Phụ lục VI)",
        "{length} characters long, over the limit of {limit} (Decree 30, Annex VI)",
    ),
    Code.FUTURE_DATE: (
        "Ngày ban hành '{value}' ở tương lai",
        "Promulgation date '{value}' is in the future",
    ),
    Code.AGENCY_CODE_INVALID: (
        "Mã định danh '{value}' không đúng cấu trúc NNN.NN.NN.XNN{detail}",
        "Identification code '{value}' does not match NNN.NN.NN.XNN{detail_en}",
    ),
    Code.AGENCY_CODE_LEGACY: (
        "Mã định danh '{value}' viết dạng rút gọn cũ; dạng đầy đủ là {canonical}",
        "Identification code '{value}' is in a legacy short form; full form is {canonical}",
    ),
    Code.AGENCY_CODE_GAP: (
        "Mã định danh '{value}' có cấp trung gian bằng 0 (cấp {level} nằm dưới cấp trống)",
        "Identification code '{value}' skips a level (level {level} under an empty level)",
    ),
    Code.AGENCY_CODE_WHITESPACE: (
        "Mã định danh '{value}' có khoảng trắng thừa ở đầu hoặc cuối; đã bỏ khoảng trắng",
        "Identification code '{value}' has surrounding whitespace; it was stripped",
    ),
    Code.AGENCY_CODE_NONSTANDARD: (
        "Mã định danh '{value}' không theo cấu trúc chuẩn NNN.NN.NN.XNN (QCVN 102:2016, "
        "QĐ 20/2020/QĐ-TTg); được chấp nhận vì đã đăng ký trong danh bạ là mã không chuẩn",
        "Identifier '{value}' is not in the standard form NNN.NN.NN.XNN (QCVN 102:2016, "
        "Decision 20/2020/QD-TTg); accepted because it is registered in the directory as a "
        "non-standard identifier",
    ),
    Code.AGENCY_CODE_ABSENT: (
        "Mã định danh '{value}' là rỗng hoặc 'null' trong khối không bắt buộc: coi như không có",
        "Identification code '{value}' is empty or 'null' in an optional block: treated as absent",
    ),
    Code.SPEC_INVALID: (
        "Đặc tả gói tin không hợp lệ: {detail}",
        "Invalid package specification: {detail}",
    ),
    Code.OUTPUT_UNWRITABLE: (
        "Không ghi được tệp kết quả: {detail}",
        "Cannot write the output file: {detail}",
    ),
}


@dataclass(frozen=True, slots=True)
class Problem:
    """One typed finding about a package: an error or a warning."""

    code: Code
    field: str
    message_vi: str
    message_en: str
    severity: Severity = Severity.ERROR
    line: int | None = None
    column: int | None = None

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def message(self, lang: str = "vi") -> str:
        return self.message_en if lang == "en" else self.message_vi

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "code": self.code.value,
            "severity": self.severity.value,
            "field": self.field,
            "message_vi": self.message_vi,
            "message_en": self.message_en,
        }
        if self.line is not None:
            out["line"] = self.line
            out["column"] = self.column
        return out

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"[{self.code.value}] {where}{self.message_vi} / {self.message_en}"


def problem(
    code: Code,
    field: str = "",
    *,
    severity: Severity = Severity.ERROR,
    line: int | None = None,
    column: int | None = None,
    **params: Any,
) -> Problem:
    """Build a :class:`Problem` from the message catalogue."""
    vi, en = MESSAGES[code]
    params.setdefault("detail", "")
    params.setdefault("detail_en", params["detail"])
    params.setdefault("line", line)
    params.setdefault("column", column)
    return Problem(
        code=code,
        field=field,
        message_vi=vi.format(**params),
        message_en=en.format(**params),
        severity=severity,
        line=line,
        column=column,
    )


def warning(code: Code, field: str = "", **params: Any) -> Problem:
    return problem(code, field, severity=Severity.WARNING, **params)


class EdxmlError(Exception):
    """A package (or a specification) that cannot be read or written at all."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(str(problem))
        self.problem = problem

    @property
    def code(self) -> Code:
        return self.problem.code

    @classmethod
    def of(cls, code: Code, field: str = "", **params: Any) -> EdxmlError:
        return cls(problem(code, field, **params))
