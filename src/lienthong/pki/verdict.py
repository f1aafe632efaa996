"""Verdicts of signature verification, shared by PDF and package signatures.

A verdict is ``valid`` only when the signature is intact, chains to a trusted root and is
not revoked; ``invalid`` when something is provably wrong (content changed after signing,
bad signature value, revoked or expired certificate, untrusted root, signer of another
agency); ``unknown`` when it cannot be decided (no revocation information, unsupported
algorithm, no signature at all). Every non-valid verdict carries a stable reason code and
a message in Vietnamese and English.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    UNKNOWN = "unknown"


class Role(StrEnum):
    PERSON = "person"
    ORG = "org"


class Reason(StrEnum):
    """Stable reason codes (clients match on them)."""

    MODIFIED = "SIG_MODIFIED"  # content changed after signing / digest mismatch
    BAD_SIGNATURE = "SIG_BAD_SIGNATURE"  # the signature value does not verify
    UNTRUSTED = "SIG_UNTRUSTED"  # no path to a trusted root (wrong root, missing intermediate)
    EXPIRED = "SIG_EXPIRED"  # certificate not valid at signing time
    REVOKED = "SIG_REVOKED"
    NO_REVOCATION_INFO = "SIG_NO_REVOCATION_INFO"
    WRONG_AGENCY = "SIG_WRONG_AGENCY"  # signer belongs to another agency than the sender
    WRONG_USAGE = "SIG_WRONG_USAGE"  # certificate not for signing
    UNSUPPORTED = "SIG_UNSUPPORTED"  # algorithm or structure not supported
    NOT_SIGNED = "SIG_NOT_SIGNED"
    MALFORMED = "SIG_MALFORMED"


MESSAGES: dict[Reason, tuple[str, str]] = {
    Reason.MODIFIED: (
        "Nội dung đã bị thay đổi sau khi ký",
        "The content was changed after signing",
    ),
    Reason.BAD_SIGNATURE: ("Giá trị chữ ký không hợp lệ", "The signature value does not verify"),
    Reason.UNTRUSTED: (
        "Chứng thư số không dẫn tới gốc tin cậy",
        "The certificate does not chain to a trusted root",
    ),
    Reason.EXPIRED: (
        "Chứng thư số hết hạn hoặc chưa có hiệu lực khi ký",
        "The certificate was expired or not yet valid when signing",
    ),
    Reason.REVOKED: ("Chứng thư số đã bị thu hồi", "The certificate has been revoked"),
    Reason.NO_REVOCATION_INFO: (
        "Không có thông tin thu hồi (CRL) để kiểm tra",
        "No revocation information (CRL) to check against",
    ),
    Reason.WRONG_AGENCY: (
        "Người ký thuộc cơ quan khác với cơ quan gửi",
        "The signer belongs to another agency than the sender",
    ),
    Reason.WRONG_USAGE: (
        "Chứng thư số không dùng để ký",
        "The certificate is not meant for signing",
    ),
    Reason.UNSUPPORTED: (
        "Thuật toán hoặc cấu trúc chữ ký không được hỗ trợ",
        "Unsupported signature algorithm or structure",
    ),
    Reason.NOT_SIGNED: ("Không có chữ ký số", "There is no digital signature"),
    Reason.MALFORMED: ("Chữ ký số bị lỗi cấu trúc", "The signature is malformed"),
}

#: reasons that make a verdict ``unknown`` rather than ``invalid``
UNDECIDED = {Reason.NO_REVOCATION_INFO, Reason.UNSUPPORTED, Reason.NOT_SIGNED}


@dataclass
class SignatureReport:
    """One signature's facts (PDF: one per signature field; package: the one block)."""

    verdict: Verdict
    name: str | None = None  # the signer's common name
    agency: str | None = None  # agency identification code in the certificate
    role: Role | None = None
    signed_at: str | None = None  # ISO 8601
    intact: bool = False
    trusted: bool = False
    revoked: bool | None = None  # None: could not be checked
    reason: Reason | None = None
    message_vi: str | None = None
    message_en: str | None = None
    algorithm: str | None = None
    serial: str | None = None

    @classmethod
    def failed(cls, reason: Reason, **facts: Any) -> SignatureReport:
        vi, en = MESSAGES[reason]
        verdict = Verdict.UNKNOWN if reason in UNDECIDED else Verdict.INVALID
        return cls(verdict=verdict, reason=reason, message_vi=vi, message_en=en, **facts)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("verdict", "role", "reason"):
            if data[key] is not None:
                data[key] = str(data[key])
        return data


@dataclass
class Report:
    """The overall verdict of a document: valid only when every signature is valid."""

    signatures: list[SignatureReport] = field(default_factory=list)

    @property
    def verdict(self) -> Verdict:
        if not self.signatures:
            return Verdict.UNKNOWN
        verdicts = {s.verdict for s in self.signatures}
        if Verdict.INVALID in verdicts:
            return Verdict.INVALID
        if Verdict.UNKNOWN in verdicts:
            return Verdict.UNKNOWN
        return Verdict.VALID

    @property
    def reason(self) -> Reason | None:
        if not self.signatures:
            return Reason.NOT_SIGNED
        for s in self.signatures:
            if s.verdict is not Verdict.VALID:
                return s.reason
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": str(self.verdict),
            "reason": str(self.reason) if self.reason else None,
            "signatures": [s.to_dict() for s in self.signatures],
        }
