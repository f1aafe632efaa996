"""The intake step that verifies signatures and applies the hub's policy.

* The **PDF signatures** (PAdES) of the attachments are what give a document its legal
  value (Decree 30: the competent person's signature plus the organisation's). An
  attachment is a PDF when its declared content type is ``application/pdf``, its name
  ends with ``.pdf`` (any case), or ``%PDF-`` occurs within its first 1024 bytes (where
  viewers look for the header, so a leading newline or junk does not hide one). A PDF
  larger than :data:`MAX_VERIFY_BYTES` is not verified on the request path and counts as
  ``unknown`` (``SIG_UNSUPPORTED``, the details say why).
* Under ``require`` an edoc package that carries at least one PDF attachment must have
  **every** PDF attachment ``valid`` and, over its PDFs, at least one valid ``person`` and
  one valid ``org`` signature (``HUB_SIGNATURE_REQUIRED``, ``HUB_SIGNATURE_ROLES_MISSING``).
  A status package, or a document without any PDF (a revocation without attachments, a
  document with only other files), is checked only for its package signature.
* The **package signature** (XML-DSig in ``edXMLHeader``) is often a placeholder in real
  platform traffic: absent or undecidable never blocks; a provably *invalid* one (content
  changed, revoked, untrusted) does under ``require``. Legacy SHA-1 blocks are verified
  with ``allow_sha1=False``: ``unknown`` / ``SIG_UNSUPPORTED`` with the note
  ``legacy SHA-1``, so statistics never count them as valid.
* ``flag`` verifies and records the verdicts; ``off`` skips verification.

Verdicts are stored on the message (``package_signature``, ``pdf_signature``,
``signature_report``) and shown on the timeline, so statistics can count signed and
unsigned documents by agency.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lienthong.edxml.model import Attachment, Edoc, Package
from lienthong.hub.errors import HubError
from lienthong.hub.settings import SignaturePolicy
from lienthong.pki.credentials import TrustStore
from lienthong.pki.verdict import MESSAGES, Reason, Role, Verdict

#: Larger inputs are not verified on the request path (recorded as unknown).
MAX_VERIFY_BYTES = 64 * 1024 * 1024
_PDF_MAGIC = b"%PDF-"
#: the header may start anywhere in the first 1024 bytes (as PDF viewers accept it)
_PDF_SNIFF = 1024 + len(_PDF_MAGIC)
_PDF_TYPES = {"application/pdf", "application/x-pdf"}
_SHA1_NOTE = "legacy SHA-1"


@dataclass
class SignatureSummary:
    package: Verdict | None = None
    pdf: Verdict | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def json(self) -> str:
        return json.dumps(self.details, ensure_ascii=False, separators=(",", ":"))


def verify(
    package: Package, raw: Path, *, trust: TrustStore, sender: str, policy: SignaturePolicy
) -> SignatureSummary | None:
    """Verify what the policy asks for; raise a typed 422 when ``require`` is not met."""
    if policy == "off":
        return None
    summary = SignatureSummary()
    summary.package, summary.details["package"] = _package(raw, trust, sender)
    if isinstance(package, Edoc):
        summary.pdf, summary.details["pdf"] = _pdfs(package, trust, sender)
    if policy == "require":
        _enforce(summary)
    return summary


def _package(raw: Path, trust: TrustStore, sender: str) -> tuple[Verdict, dict[str, Any]]:
    from lienthong.pki.xmldsig import verify_package

    size = raw.stat().st_size
    if size > MAX_VERIFY_BYTES:
        return Verdict.UNKNOWN, _skipped(*_too_large(size))
    report = verify_package(raw.read_bytes(), trust, expected_agency=sender, allow_sha1=False)
    details = report.to_dict()
    sig = report.signatures[0] if report.signatures else None
    if (
        sig is not None
        and sig.reason is Reason.UNSUPPORTED
        and _SHA1_NOTE in (sig.message_en or "")
    ):
        details["note"] = _SHA1_NOTE
    return report.verdict, details


def _is_pdf(att: Attachment) -> bool:
    """Declared ``application/pdf``, named ``*.pdf``, or ``%PDF-`` in the first 1024 bytes."""
    ctype = (att.content_type or "").split(";", 1)[0].strip().lower()
    if ctype in _PDF_TYPES:
        return True
    if (att.name or "").strip().lower().endswith(".pdf"):
        return True
    blob = att.content
    return blob is not None and _PDF_MAGIC in blob.head(_PDF_SNIFF)


def _pdfs(edoc: Edoc, trust: TrustStore, sender: str) -> tuple[Verdict | None, list[Any]]:
    from lienthong.pki.pdf import verify_pdf

    entries: list[dict[str, Any]] = []
    for att in edoc.attachments:
        if not _is_pdf(att):
            continue
        name = att.name or ""
        blob = att.content
        if blob is None:
            entry = _skipped(
                "nội dung tệp không giải mã được, không kiểm tra được chữ ký",
                "the attachment's content could not be decoded, signatures not checked",
            )
        elif blob.size > MAX_VERIFY_BYTES:
            entry = _skipped(*_too_large(blob.size))
        else:
            report = verify_pdf(blob.read_bytes(), trust, expected_agency=sender)
            entry = report.to_dict()
        entries.append({"attachment": name, **entry})
    if not entries:
        return None, []
    verdicts = {e["verdict"] for e in entries}
    overall = (
        Verdict.INVALID
        if Verdict.INVALID.value in verdicts
        else Verdict.UNKNOWN
        if Verdict.UNKNOWN.value in verdicts
        else Verdict.VALID
    )
    return overall, entries


def _too_large(size: int) -> tuple[str, str]:
    limit = MAX_VERIFY_BYTES // (1024 * 1024)
    return (
        f"tệp quá lớn để kiểm tra khi tiếp nhận ({size} byte > {limit} MB)",
        f"too large to verify on intake ({size} bytes > {limit} MB)",
    )


def _skipped(vi: str, en: str) -> dict[str, Any]:
    """A not-verified input, in the shape of :meth:`Report.to_dict` (``unknown``)."""
    base_vi, base_en = MESSAGES[Reason.UNSUPPORTED]
    return {
        "verdict": str(Verdict.UNKNOWN),
        "reason": str(Reason.UNSUPPORTED),
        "signatures": [],
        "message_vi": f"{base_vi}: {vi}",
        "message_en": f"{base_en}: {en}",
    }


def _enforce(summary: SignatureSummary) -> None:
    pdfs: list[dict[str, Any]] = summary.details.get("pdf") or []
    if summary.pdf is not None and summary.pdf is not Verdict.VALID:
        problem = _first_problem(pdfs)
        vi, en = problem if problem else ("không có tệp PDF được ký", "no signed PDF attachment")
        raise HubError(
            "HUB_SIGNATURE_REQUIRED",
            f"Trục yêu cầu mọi tệp PDF có chữ ký số hợp lệ của người ký và của cơ quan ({vi})",
            f"This hub requires every PDF attachment to carry valid signatures ({en})",
            field="AttachmentEncoded",
            status=422,
            details={"signatures": summary.details},
        )
    if summary.pdf is Verdict.VALID:
        roles = {
            s.get("role")
            for r in pdfs
            for s in r.get("signatures") or []
            if s.get("verdict") == Verdict.VALID.value
        }
        missing = [role for role in (Role.PERSON, Role.ORG) if role.value not in roles]
        if missing:
            vi = " và ".join(_ROLE_VI[r] for r in missing)
            en = " and ".join(_ROLE_EN[r] for r in missing)
            raise HubError(
                "HUB_SIGNATURE_ROLES_MISSING",
                "Theo Nghị định 30/2020/NĐ-CP văn bản phải có chữ ký số hợp lệ của người có "
                f"thẩm quyền và của cơ quan, tổ chức; thiếu {vi}",
                "Decree 30/2020 requires a valid signature of the competent person and one of "
                f"the organisation on the document; missing {en}",
                field="AttachmentEncoded",
                status=422,
                details={"signatures": summary.details, "missing_roles": [str(r) for r in missing]},
            )
    if summary.package is Verdict.INVALID:
        reason = (summary.details.get("package") or {}).get("reason")
        raise HubError(
            "HUB_PACKAGE_SIGNATURE_INVALID",
            f"Chữ ký số của gói tin không hợp lệ ({reason})",
            f"The package signature is invalid ({reason})",
            field="edXMLHeader/Signature",
            status=422,
            details={"signatures": summary.details},
        )


_ROLE_VI = {Role.PERSON: "chữ ký số của người có thẩm quyền", Role.ORG: "chữ ký số của cơ quan"}
_ROLE_EN = {
    Role.PERSON: "the competent person's signature",
    Role.ORG: "the organisation's signature",
}


def _first_problem(reports: list[dict[str, Any]]) -> tuple[str, str] | None:
    for r in reports:
        if r.get("verdict") != Verdict.VALID.value:
            reason, name = r.get("reason"), r.get("attachment") or "?"
            vi, en = f"{reason}, tệp {name}", f"{reason}, attachment {name}"
            if r.get("message_en"):  # a PDF that was not verified says why
                vi, en = f"{vi}: {r.get('message_vi')}", f"{en}: {r.get('message_en')}"
            return vi, en
    return None
