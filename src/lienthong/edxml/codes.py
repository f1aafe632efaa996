"""Code lists of edXML (QCVN 102:2016) and Decree 30/2020/NĐ-CP.

Every member carries a Vietnamese (``vi``) and an English (``en``) label; ``label(lang)``
picks one. ``from_wire`` and the ``*_by_*`` helpers return ``None`` for unknown values and
never raise, so unknown wire values can be kept as opaque strings.
"""

from __future__ import annotations

import re
import unicodedata
from enum import IntEnum, StrEnum
from typing import Self, cast

from lienthong.core.text import fold


class _Labelled:
    vi: str
    en: str

    def label(self, lang: str = "vi") -> str:
        """The English label for ``lang="en"``, the Vietnamese one otherwise."""
        return self.en if lang == "en" else self.vi


class _IntCode(_Labelled, IntEnum):
    """Integer code list; members are ``NAME = value, vi, en``.

    (Label defaults only let type checkers accept lookups such as ``Priority(1)``.)
    """

    _value_: int

    def __new__(cls, value: int, vi: str = "", en: str = "") -> Self:
        member = int.__new__(cls, value)
        member._value_ = value
        member.vi, member.en = vi, en
        return member

    @classmethod
    def from_wire(cls, value: str | int | None) -> Self | None:
        """The member for a wire value such as ``"1"`` or ``1``; ``None`` if unknown."""
        if isinstance(value, str):
            value = value.strip()
            if not (value.isascii() and value.isdigit()):
                return None
            value = int(value)
        return None if value is None else cast("Self | None", cls._value2member_map_.get(value))


class _StrCode(_Labelled, StrEnum):
    """String code list; members are ``NAME = value, vi, en``."""

    _value_: str

    def __new__(cls, value: str, vi: str = "", en: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.vi, member.en = vi, en
        return member

    @classmethod
    def from_wire(cls, value: str | None) -> Self | None:
        """The member for a wire value (surrounding whitespace ignored); ``None`` if unknown."""
        if value is None:
            return None
        key = unicodedata.normalize("NFC", value.strip())
        return cast("Self | None", cls._value2member_map_.get(key))


class StatusSender(_StrCode):
    """Which side of the original exchange sends a status."""

    RECEIVER = "receiver", "Bên nhận", "Receiver"
    SENDER = "sender", "Bên gửi", "Sender"


class StatusCode(_StrCode):
    """``StatusCode`` of a status package (§1.10). Codes 07–12 and 14 are not known."""

    sender: StatusSender

    ARRIVED = "01", "Đã đến", "Arrived"
    REJECTED = "02", "Từ chối tiếp nhận", "Rejected"
    ACCEPTED = "03", "Đã tiếp nhận, vào sổ", "Accepted and registered"
    ASSIGNED = "04", "Phân công xử lý", "Assigned for handling"
    PROCESSING = "05", "Đang xử lý", "Being processed"
    COMPLETED = "06", "Hoàn thành xử lý", "Processing completed"
    WITHDRAWAL_REQUESTED = "13", "Yêu cầu lấy lại", "Withdrawal requested", StatusSender.SENDER
    CHANGE_ACCEPTED = "15", "Đồng ý cập nhật/lấy lại", "Update/withdrawal accepted"
    CHANGE_REJECTED = "16", "Từ chối cập nhật/lấy lại", "Update/withdrawal refused"

    def __new__(
        cls, value: str, vi: str = "", en: str = "", sender: StatusSender = StatusSender.RECEIVER
    ) -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.vi, member.en, member.sender = vi, en, sender
        return member


def status_code_alias(value: str) -> str | None:
    """The status code meant by ``value``: ``"3"`` and ``" 03 "`` are ``"03"``; ``None``
    when it is no known code."""
    value = value.strip()
    if value.isascii() and value.isdigit() and len(value) <= 2:
        value = value.zfill(2)
    code = StatusCode.from_wire(value)
    return code.value if code else None


class BusinessDocType(_IntCode):
    """``Bussiness/BussinessDocType``."""

    NEW = 0, "Văn bản điện tử mới", "New document"
    REVOKE = 1, "Thu hồi", "Revocation"
    UPDATE = 2, "Cập nhật", "Update"
    REPLACE = 3, "Thay thế", "Replacement"


class Priority(_IntCode):
    """``OtherInfo/Priority`` (urgency only; secrecy is :class:`Confidentiality`)."""

    NORMAL = 0, "Thường", "Normal"
    URGENT = 1, "Khẩn", "Urgent"
    VERY_URGENT = 2, "Thượng khẩn", "Very urgent"
    IMMEDIATE = 3, "Hỏa tốc", "Immediate"
    IMMEDIATE_TIMED = 4, "Hỏa tốc hẹn giờ", "Immediate, timed"

    @property
    def decree30(self) -> Priority:
        """The Decree 30 level: the legacy "Hỏa tốc hẹn giờ" maps to "Hỏa tốc" (+ a time)."""
        return Priority.IMMEDIATE if self is Priority.IMMEDIATE_TIMED else self


class SteeringType(_IntCode):
    """``SteeringType`` (labels from a third-party UI; unverified)."""

    NOT_STEERING = 0, "Không phải chỉ đạo", "Not a directive"
    STEERING = 1, "Chỉ đạo", "Directive"
    STEERING_REPORT = 2, "Báo cáo chỉ đạo", "Report on a directive"


class DocumentClass(_IntCode):
    """``DocumentType/Type`` (meaning inferred; all samples use 1)."""

    ADMINISTRATIVE = 1, "Văn bản hành chính", "Administrative document"
    LEGAL_NORMATIVE = 2, "Văn bản quy phạm pháp luật", "Legal normative document"


class Confidentiality(_IntCode):
    """State-secret level (Decree 30 Annex I §II.2.a); ordered, numbers are internal only.

    Not part of edXML ``Priority``; secret documents must not be exchanged electronically.
    """

    SECRET = 1, "Mật", "Secret"
    TOP_SECRET = 2, "Tối mật", "Top secret"
    ULTRA_SECRET = 3, "Tuyệt mật", "Ultra secret"


class AdminDocType(_StrCode):
    """Administrative document types of Decree 30/2020 (Art. 7, Annex III §I).

    The value is the Vietnamese name (for ``DocumentType/TypeName``); ``abbreviation`` is
    ``None`` for Công văn and Thư công. Nghị quyết and Quyết định are the individual
    (cá biệt) ones.
    """

    abbreviation: str | None

    RESOLUTION = "Nghị quyết", "NQ", "Resolution"
    DECISION = "Quyết định", "QĐ", "Decision"
    DIRECTIVE = "Chỉ thị", "CT", "Directive"
    STATUTE = "Quy chế", "QC", "Statute"
    REGULATION = "Quy định", "QyĐ", "Regulation"
    COMMUNIQUE = "Thông cáo", "TC", "Communiqué"
    NOTICE = "Thông báo", "TB", "Notice"
    GUIDANCE = "Hướng dẫn", "HD", "Guidance"
    PROGRAMME = "Chương trình", "CTr", "Programme"
    PLAN = "Kế hoạch", "KH", "Plan"
    SCHEME = "Phương án", "PA", "Scheme"
    PROPOSAL = "Đề án", "ĐA", "Proposal"
    PROJECT = "Dự án", "DA", "Project"
    REPORT = "Báo cáo", "BC", "Report"
    MINUTES = "Biên bản", "BB", "Minutes"
    SUBMISSION = "Tờ trình", "TTr", "Submission"
    CONTRACT = "Hợp đồng", "HĐ", "Contract"
    TELEGRAM = "Công điện", "CĐ", "Official telegram"
    OFFICIAL_LETTER = "Công văn", None, "Official letter"
    PUBLIC_LETTER = "Thư công", None, "Public letter"
    MEMORANDUM = "Bản ghi nhớ", "BGN", "Memorandum of understanding"
    AGREEMENT = "Bản thỏa thuận", "BTT", "Agreement"
    AUTHORISATION = "Giấy ủy quyền", "GUQ", "Letter of authorisation"
    INVITATION = "Giấy mời", "GM", "Invitation"
    INTRODUCTION = "Giấy giới thiệu", "GGT", "Letter of introduction"
    LEAVE_PERMIT = "Giấy nghỉ phép", "GNP", "Leave permit"
    DISPATCH_SLIP = "Phiếu gửi", "PG", "Dispatch slip"
    TRANSFER_SLIP = "Phiếu chuyển", "PC", "Transfer slip"
    NOTIFICATION_SLIP = "Phiếu báo", "PB", "Notification slip"

    def __new__(cls, value: str, abbreviation: str | None = None, en: str = "") -> Self:
        member = str.__new__(cls, value)
        member._value_ = value
        member.vi, member.en, member.abbreviation = value, en, abbreviation
        return member


class CopyForm(_StrCode):
    """Copy forms (bản sao) of Decree 30; the value is the abbreviation."""

    TRUE_COPY = "SY", "Bản sao y", "True copy"
    EXTRACT = "TrS", "Bản trích sao", "Extract copy"
    TRANSCRIPT = "SL", "Bản sao lục", "Transcribed copy"


class AuthorityMarker(_StrCode):
    """Signing-authority markers of Decree 30 (Annex I §I.7), for ``SignerInfo/Competence``."""

    ON_BEHALF = "TM.", "Thay mặt", "On behalf of (a collective)"
    SIGNED_FOR = "KT.", "Ký thay", "Signed for the head (by a deputy)"
    BY_ORDER = "TL.", "Thừa lệnh", "By order of the head"
    BY_AUTHORISATION = "TUQ.", "Thừa ủy quyền", "By authorisation of the head"
    ACTING = "Q.", "Quyền", "Acting head"


def _name_key(name: str) -> str:
    key = " ".join(fold(name).split())
    return key.removesuffix("(ca biet)").strip()


_BY_NAME = {_name_key(t.value): t for t in AdminDocType}
_BY_ABBREVIATION = {t.abbreviation: t for t in AdminDocType if t.abbreviation}
_MARKERS = {m.value: m for m in AuthorityMarker}
_MARKER = re.compile(r"(?<!\S)(?:TUQ|TM|KT|TL|Q)\.", re.IGNORECASE)


def document_type_by_name(name: str | None) -> AdminDocType | None:
    """The Decree 30 type named ``name``, ignoring case, diacritics and "(cá biệt)"."""
    return _BY_NAME.get(_name_key(name)) if name else None


def document_type_by_abbreviation(abbreviation: str | None) -> AdminDocType | None:
    """The Decree 30 type for an abbreviation; case matters (``QyĐ``, ``CTr``, ``TTr``).

    The 2011 abbreviations (``GN``, ``TTh``, ``NP``, ``UQ``, ``GT``) are not accepted.
    """
    if not abbreviation:
        return None
    return _BY_ABBREVIATION.get(unicodedata.normalize("NFC", abbreviation.strip()))


def authority_markers(competence: str | None) -> list[AuthorityMarker]:
    """All markers in a ``Competence`` text, in order (``"TM. UBND KT. CHỦ TỊCH"`` → TM., KT.)."""
    if not competence:
        return []
    return [_MARKERS[m.group(0).upper()] for m in _MARKER.finditer(competence)]


def authority_marker(competence: str | None) -> AuthorityMarker | None:
    """The first marker in a ``Competence`` text (``"KT. CHỦ TỊCH"`` → KT.), or ``None``."""
    found = authority_markers(competence)
    return found[0] if found else None
