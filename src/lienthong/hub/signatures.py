"""The intake step that verifies signatures and applies the hub's policy.

* The **PDF signatures** (PAdES) of the attachments are what give a document its legal
  value (Decree 30: the competent person's signature plus the organisation's). An
  attachment is a PDF when its declared content type is ``application/pdf``, its name
  ends with ``.pdf`` (any case), or ``%PDF-`` occurs anywhere in it (junk before the
  header, a renamed ``.doc``, hides nothing). An attachment that is a ZIP archive (a
  ``.zip``, a ``.docx``, several files zipped together) is opened and each member is
  judged the same way; a PDF member is verified as ``<archive>/<member>``. A PDF larger
  than :data:`MAX_VERIFY_BYTES` is not verified on the request path and counts as
  ``unknown`` (``SIG_UNSUPPORTED``, the details say why).
* Content the hub **cannot check** — an attachment that does not decode, an encrypted,
  broken or nested archive, a member over the limits — is listed under ``unchecked``;
  under ``require`` such a document is accepted only with a valid package signature
  (``HUB_SIGNATURE_UNCHECKABLE``): the sender vouches for what the hub cannot see.
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

import io
import json
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lienthong.edxml.attachments import Blob
from lienthong.edxml.model import Attachment, Edoc, Package
from lienthong.hub.errors import HubError
from lienthong.hub.settings import SignaturePolicy
from lienthong.pki.credentials import TrustStore
from lienthong.pki.verdict import MESSAGES, Reason, Role, Verdict

#: Larger inputs are not verified on the request path (recorded as unknown).
MAX_VERIFY_BYTES = 64 * 1024 * 1024
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"
#: Members of one archive inspected at most (more: the archive counts as unchecked).
MAX_ARCHIVE_MEMBERS = 1000
#: Compression ratio beyond which a member is not inflated (and counts as unchecked).
_MAX_RATIO = 100
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


def _declared_pdf(name: str, content_type: str | None = None) -> bool:
    ctype = (content_type or "").split(";", 1)[0].strip().lower()
    return ctype in _PDF_TYPES or name.strip().lower().endswith(".pdf")


def _has_pdf_header(chunks: Iterable[bytes]) -> bool:
    """``%PDF-`` anywhere (across chunk boundaries)."""
    tail = b""
    for chunk in chunks:
        if _PDF_MAGIC in tail + chunk:
            return True
        tail = chunk[-(len(_PDF_MAGIC) - 1) :]
    return False


def _is_pdf(att: Attachment) -> bool:
    """Declared ``application/pdf``, named ``*.pdf``, or ``%PDF-`` anywhere in it."""
    if _declared_pdf(att.name or "", att.content_type):
        return True
    blob = att.content
    return blob is not None and _has_pdf_header(blob.chunks())


def _pdfs(edoc: Edoc, trust: TrustStore, sender: str) -> tuple[Verdict | None, list[Any]]:
    entries: list[dict[str, Any]] = []
    for att in edoc.attachments:
        name = att.name or ""
        blob = att.content
        if blob is None:
            if _declared_pdf(name, att.content_type):
                entries.append({"attachment": name, **_undecodable()})
            continue
        if blob.head(4) == _ZIP_MAGIC:
            entries += _archive(name, blob, trust, sender)
        elif _is_pdf(att):
            entries.append({"attachment": name, **_verify_pdf(blob, trust, sender)})
    pdfs = [e for e in entries if not e.get("unchecked")]
    if not pdfs:
        return None, entries
    verdicts = {e["verdict"] for e in pdfs}
    overall = (
        Verdict.INVALID
        if Verdict.INVALID.value in verdicts
        else Verdict.UNKNOWN
        if Verdict.UNKNOWN.value in verdicts
        else Verdict.VALID
    )
    return overall, entries


def _verify_pdf(blob: Blob | bytes, trust: TrustStore, sender: str) -> dict[str, Any]:
    from lienthong.pki.pdf import verify_pdf

    size = blob.size if isinstance(blob, Blob) else len(blob)
    if size > MAX_VERIFY_BYTES:
        return _skipped(*_too_large(size))
    data = blob.read_bytes() if isinstance(blob, Blob) else blob
    result: dict[str, Any] = verify_pdf(data, trust, expected_agency=sender).to_dict()
    return result


def _undecodable() -> dict[str, Any]:
    return _skipped(
        "nội dung tệp không giải mã được, không kiểm tra được chữ ký",
        "the attachment's content could not be decoded, signatures not checked",
    )


def _unchecked(name: str, vi: str, en: str) -> dict[str, Any]:
    """Content the hub cannot look into (an ``unchecked`` entry, not a PDF verdict)."""
    return {"attachment": name, "unchecked": True, "message_vi": vi, "message_en": en}


def _archive(name: str, blob: Blob, trust: TrustStore, sender: str) -> list[dict[str, Any]]:
    """The PDF members of a ZIP attachment, verified; what cannot be looked into, listed
    as unchecked."""
    if blob.size > MAX_VERIFY_BYTES:
        return [_unchecked(name, *_too_large(blob.size))]
    try:
        with zipfile.ZipFile(io.BytesIO(blob.read_bytes())) as archive:
            members = [i for i in archive.infolist() if not i.is_dir()]
            if len(members) > MAX_ARCHIVE_MEMBERS:
                return [
                    _unchecked(
                        name,
                        f"tệp nén có hơn {MAX_ARCHIVE_MEMBERS} tệp",
                        f"an archive of more than {MAX_ARCHIVE_MEMBERS} files",
                    )
                ]
            out: list[dict[str, Any]] = []
            for info in members:
                label = f"{name}/{info.filename}"
                if info.flag_bits & 0x1:
                    out.append(_unchecked(label, "tệp nén có mật khẩu", "an encrypted member"))
                    continue
                if info.file_size > MAX_VERIFY_BYTES or info.file_size > _MAX_RATIO * max(
                    info.compress_size, 1
                ) + (64 << 10):
                    out.append(
                        _unchecked(label, "tệp quá lớn để kiểm tra", "a member too large to check")
                    )
                    continue
                with archive.open(info) as member:
                    data = member.read(MAX_VERIFY_BYTES + 1)
                if data[:4] == _ZIP_MAGIC:
                    out.append(_unchecked(label, "tệp nén lồng nhau", "a nested archive"))
                elif _declared_pdf(info.filename) or _PDF_MAGIC in data:
                    out.append({"attachment": label, **_verify_pdf(data, trust, sender)})
            return out
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        EOFError,
        RuntimeError,
        NotImplementedError,
    ):
        return [_unchecked(name, "tệp nén hỏng", "a broken archive")]


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
    entries: list[dict[str, Any]] = summary.details.get("pdf") or []
    pdfs = [e for e in entries if not e.get("unchecked")]
    unchecked = [e for e in entries if e.get("unchecked")]
    if unchecked and summary.package is not Verdict.VALID:
        first = unchecked[0]
        raise HubError(
            "HUB_SIGNATURE_UNCHECKABLE",
            f"Trục không kiểm tra được nội dung ({first['attachment']}: {first['message_vi']}); "
            "văn bản như vậy phải có chữ ký số hợp lệ của gói tin",
            f"This hub cannot check the content ({first['attachment']}: "
            f"{first['message_en']}); such a document needs a valid package signature",
            field="AttachmentEncoded",
            status=422,
            details={"signatures": summary.details},
        )
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
