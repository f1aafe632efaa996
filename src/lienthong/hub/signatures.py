"""The intake step that verifies signatures and applies the hub's policy.

* The **PDF signatures** (PAdES) of the attachments are what give a document its legal
  value (Decree 30: the competent person's signature plus the organisation's), so under
  ``require`` every PDF attachment must verify and at least one must be signed.
* The **package signature** (XML-DSig in ``edXMLHeader``) is often a placeholder in real
  platform traffic: absent or undecidable never blocks; a provably *invalid* one (content
  changed, revoked, untrusted) does under ``require``.
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

from lienthong.edxml.model import Edoc, Package
from lienthong.hub.errors import HubError
from lienthong.pki.credentials import TrustStore
from lienthong.pki.verdict import Report, Verdict

#: Larger inputs are not verified on the request path (recorded as unknown).
MAX_VERIFY_BYTES = 64 * 1024 * 1024
_PDF_MAGIC = b"%PDF-"


@dataclass
class SignatureSummary:
    package: Verdict | None = None
    pdf: Verdict | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def json(self) -> str:
        return json.dumps(self.details, ensure_ascii=False, separators=(",", ":"))


def load_trust(directory: Path | None) -> TrustStore:
    if directory is None or not directory.is_dir():
        return TrustStore(roots=[], crls=[], intermediates=[])
    return TrustStore.load(directory)


def verify(
    package: Package, raw: Path, *, trust: TrustStore, sender: str, policy: str
) -> SignatureSummary | None:
    """Verify what the policy asks for; raise a typed 422 when ``require`` is not met."""
    if policy == "off":
        return None
    from lienthong.pki.xmldsig import verify_package

    summary = SignatureSummary()
    size = raw.stat().st_size
    if size <= MAX_VERIFY_BYTES:
        report = verify_package(raw.read_bytes(), trust, expected_agency=sender)
        summary.package = report.verdict
        summary.details["package"] = report.to_dict()
    if isinstance(package, Edoc):
        summary.pdf, summary.details["pdf"] = _pdfs(package, trust, sender)
    if policy == "require":
        _enforce(summary)
    return summary


def _pdfs(edoc: Edoc, trust: TrustStore, sender: str) -> tuple[Verdict | None, list[Any]]:
    from lienthong.pki.pdf import verify_pdf

    reports: list[tuple[str, Report]] = []
    for att in edoc.attachments:
        blob = att.content
        if blob is None or blob.size > MAX_VERIFY_BYTES or blob.head(5) != _PDF_MAGIC:
            continue
        reports.append(
            (att.name or "", verify_pdf(blob.read_bytes(), trust, expected_agency=sender))
        )
    if not reports:
        return None, []
    verdicts = {r.verdict for _, r in reports}
    overall = (
        Verdict.INVALID
        if Verdict.INVALID in verdicts
        else Verdict.UNKNOWN
        if Verdict.UNKNOWN in verdicts
        else Verdict.VALID
    )
    return overall, [{"attachment": name, **r.to_dict()} for name, r in reports]


def _enforce(summary: SignatureSummary) -> None:
    if summary.pdf is not Verdict.VALID:
        reason = _first_reason(summary.details.get("pdf") or [])
        raise HubError(
            "HUB_SIGNATURE_REQUIRED",
            "Trục yêu cầu văn bản PDF có chữ ký số hợp lệ của người ký và của cơ quan"
            + (f" ({reason})" if reason else " (không có tệp PDF được ký)"),
            "This hub requires PDF attachments with valid signatures"
            + (f" ({reason})" if reason else " (no signed PDF attachment)"),
            field="AttachmentEncoded",
            status=422,
            details={"signatures": summary.details},
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


def _first_reason(reports: list[dict[str, Any]]) -> str | None:
    for r in reports:
        if r.get("verdict") != "valid":
            return str(r.get("reason"))
    return None
