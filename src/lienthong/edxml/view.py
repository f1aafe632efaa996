"""The JSON shape of a package (``lienthong edxml inspect --json``) and its inverse, the
build specification (``lienthong edxml build SPEC.json``).

Both directions use one table of field names so that ``inspect`` of a built package gives
back the specification's values. Dates are ISO (``YYYY-MM-DD``), timestamps ISO with the
Vietnam offset (the wire carries Vietnam local time), numeric codes are integers.
Absent values are left out.
"""

from __future__ import annotations

import os
from dataclasses import fields
from datetime import datetime
from pathlib import Path
from typing import Any

from lienthong.edxml.attachments import Blob
from lienthong.edxml.errors import Code, EdxmlError
from lienthong.edxml.model import (
    DATE_FORMAT,
    TIMESTAMP_FORMAT,
    Attachment,
    Business,
    BusinessDocumentInfo,
    DocumentCode,
    DocumentType,
    Edoc,
    Organization,
    OtherInfo,
    Package,
    PromulgationInfo,
    Receiver,
    ReplacementInfo,
    ResponseFor,
    SignerInfo,
    StaffInfo,
    Status,
    TraceHeader,
)

_INT_FIELDS = {
    "priority",
    "type",
    "type_detail",
    "steering_type",
    "doc_type",
    "paper",
    "promulgation_amount",
    "page_amount",
    "document_info",
    "document_receiver",
    "receiver_type",
}
_DATE_FIELDS = {"date", "due_date", "promulgation_date"}
_TIMESTAMP_FIELDS = {"timestamp"}
_VN_OFFSET = "+07:00"


# ------------------------------------------------------------------ wire <-> JSON scalars


def _out(name: str, value: str) -> Any:
    if name in _INT_FIELDS and value.isascii() and value.isdigit() and len(value) < 10:
        return int(value)
    if name in _DATE_FIELDS:
        try:
            return datetime.strptime(value, DATE_FORMAT).date().isoformat()
        except ValueError:
            return value
    if name in _TIMESTAMP_FIELDS:
        try:
            return datetime.strptime(value, TIMESTAMP_FORMAT).isoformat() + _VN_OFFSET
        except ValueError:
            return value
    return value


def _in(name: str, value: Any, path: str) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=f"{path}: expected text or a number")
    text = str(value)
    if name in _DATE_FIELDS:
        try:
            return datetime.fromisoformat(text).strftime(DATE_FORMAT)
        except ValueError:
            return text
    if name in _TIMESTAMP_FIELDS:
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            return text
        if parsed.tzinfo is not None:
            from lienthong.edxml.builder import VIETNAM

            parsed = parsed.astimezone(VIETNAM)
        return parsed.strftime(TIMESTAMP_FORMAT)
    return text


def _obj(obj: Any) -> dict[str, Any]:
    """A flat dataclass of wire strings → JSON dict (absent values dropped)."""
    out: dict[str, Any] = {}
    for f in fields(obj):
        value = getattr(obj, f.name)
        if isinstance(value, str):
            out[f.name] = _out(f.name, value)
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            out[f.name] = list(value)
    return out


def _from(cls: type[Any], data: Any, path: str) -> Any:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=f"{path}: expected an object")
    known = {f.name for f in fields(cls)}
    unknown = set(data) - known
    if unknown:
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=_unknown(path, unknown, known))
    lists = {f.name for f in fields(cls) if "list[" in str(f.type)}
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if value is None:
            continue
        where = f"{path}.{name}"
        if name in lists:
            if not isinstance(value, list):
                raise EdxmlError.of(Code.SPEC_INVALID, where, detail=f"{where}: expected a list")
            kwargs[name] = [_in(name, v, f"{where}[{i}]") for i, v in enumerate(value)]
        else:
            kwargs[name] = _in(name, value, where)
    return cls(**kwargs)


def _list(cls: type[Any], data: Any, path: str) -> list[Any]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=f"{path}: expected a list")
    return [_from(cls, item, f"{path}[{i}]") for i, item in enumerate(data)]


# ------------------------------------------------------------------ package -> JSON


def to_json(package: Package) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": package.kind, "from": _obj(package.sender)}
    if isinstance(package, Status):
        status: dict[str, Any] = {
            "code": package.status_code,
            "description": package.description,
            "timestamp": _out("timestamp", package.timestamp) if package.timestamp else None,
            "response_for": _obj(package.response_for),
        }
        out["status"] = {k: v for k, v in status.items() if v is not None}
        if package.staff is not None:
            out["staff"] = _obj(package.staff)
    else:
        _edoc_json(out, package)
    if package.signature is not None:
        out["signature"] = {
            "namespace": package.signature.namespace,
            "signature_method": package.signature.signature_method,
            "digest_method": package.signature.digest_method,
            "has_certificate": package.signature.has_certificate,
        }
    if package.warnings:
        out["warnings"] = [w.to_dict() for w in package.warnings]
    return out


def _edoc_json(out: dict[str, Any], e: Edoc) -> None:
    out["to"] = [_obj(o) for o in e.recipients]
    if e.document_id is not None:
        out["document_id"] = e.document_id
    out["code"] = _obj(e.code)
    if e.promulgation is not None:
        out["promulgation"] = _obj(e.promulgation)
    if e.document_type is not None:
        out["document_type"] = _obj(e.document_type)
    for name in ("subject", "content"):
        value = getattr(e, name)
        if value is not None:
            out[name] = value
    if e.signer is not None:
        out["signer"] = _obj(e.signer)
    if e.due_date is not None:
        out["due_date"] = _out("due_date", e.due_date)
    if e.other_info is not None:
        other = _obj(e.other_info)
        if "priority" in other:
            out["priority"] = other.pop("priority")
        out["other_info"] = other
    if e.response_for:
        out["response_for"] = [_obj(r) for r in e.response_for]
    if e.steering_type is not None:
        out["steering_type"] = _out("steering_type", e.steering_type)
    if e.to_places is not None:
        out["to_places"] = list(e.to_places)
    out["trace"] = [_obj(t) for t in e.trace_headers]
    if e.business is not None:
        b = e.business
        business = _obj(b)
        if b.document_info is not None:
            info = _obj(b.document_info)
            if b.document_info.receivers is not None:
                info["receivers"] = [_obj(r) for r in b.document_info.receivers]
            business["document_info"] = info
        if b.replacements is not None:
            business["replacements"] = [_obj(r) for r in b.replacements]
        if b.staff is not None:
            business["staff"] = _obj(b.staff)
        out["business"] = business
    out["attachments"] = [_attachment_json(a) for a in e.attachments]


def _attachment_json(a: Attachment) -> dict[str, Any]:
    out: dict[str, Any] = {
        k: v
        for k, v in (
            ("content_id", a.content_id),
            ("name", a.name),
            ("description", a.description),
            ("content_type", a.content_type),
        )
        if v is not None
    }
    if a.content is not None:
        out["size"] = a.content.size
        out["sha256"] = a.content.sha256
    if a.unwrapped_zip:
        out["unwrapped_zip"] = True
    if a.problem is not None:
        out["problem"] = a.problem.to_dict()
    return out


# ------------------------------------------------------------------ JSON spec -> package

_EDOC_KEYS = {
    "kind",
    "from",
    "to",
    "document_id",
    "code",
    "promulgation",
    "document_type",
    "subject",
    "content",
    "signer",
    "due_date",
    "priority",
    "other_info",
    "response_for",
    "steering_type",
    "to_places",
    "trace",
    "business",
    "attachments",
    "signature",
    "warnings",
}
_STATUS_KEYS = {"kind", "from", "status", "staff", "signature", "warnings"}


def from_spec(spec: dict[str, Any], base_dir: str | os.PathLike[str] = ".") -> Package:
    """A package from a build specification (the ``inspect --json`` shape; attachments
    are given by ``path``, relative to ``base_dir``). ``signature`` and ``warnings`` are
    accepted and ignored, so an inspect output can be fed back."""
    if not isinstance(spec, dict):
        raise EdxmlError.of(Code.SPEC_INVALID, detail="the specification must be a JSON object")
    kind = spec.get("kind", "edoc")
    if kind == "status":
        _only(spec, _STATUS_KEYS, "")
        status_spec = spec.get("status") or {}
        if not isinstance(status_spec, dict):
            raise EdxmlError.of(Code.SPEC_INVALID, "status", detail="status: expected an object")
        _only(status_spec, {"code", "description", "timestamp", "response_for"}, "status")
        return Status(
            sender=_from(Organization, spec.get("from") or {}, "from"),
            response_for=_from(
                ResponseFor, status_spec.get("response_for") or {}, "status.response_for"
            ),
            staff=_from(StaffInfo, spec.get("staff"), "staff"),
            status_code=_opt(status_spec, "code", "status"),
            description=_opt(status_spec, "description", "status"),
            timestamp=_opt(status_spec, "timestamp", "status"),
        )
    if kind != "edoc":
        raise EdxmlError.of(
            Code.SPEC_INVALID, "kind", detail=f"kind must be edoc or status, not {kind!r}"
        )
    _only(spec, _EDOC_KEYS, "")
    other = _from(OtherInfo, spec.get("other_info"), "other_info")
    if spec.get("priority") is not None:
        other = other or OtherInfo()
        other.priority = _in("priority", spec["priority"], "priority")
    edoc = Edoc(
        sender=_from(Organization, spec.get("from") or {}, "from"),
        recipients=_list(Organization, spec.get("to"), "to"),
        document_id=_opt(spec, "document_id", ""),
        code=_from(DocumentCode, spec.get("code") or {}, "code"),
        promulgation=_from(PromulgationInfo, spec.get("promulgation"), "promulgation"),
        document_type=_from(DocumentType, spec.get("document_type"), "document_type"),
        subject=_opt(spec, "subject", ""),
        content=_opt(spec, "content", ""),
        signer=_from(SignerInfo, spec.get("signer"), "signer"),
        due_date=_opt(spec, "due_date", ""),
        other_info=other,
        response_for=_list(ResponseFor, spec.get("response_for"), "response_for"),
        steering_type=_opt(spec, "steering_type", ""),
        to_places=_strings(spec.get("to_places"), "to_places"),
        trace_headers=_list(TraceHeader, spec.get("trace"), "trace"),
        business=_business(spec.get("business")),
    )
    edoc.attachments = _attachments(spec.get("attachments"), Path(base_dir))
    return edoc


def _only(data: dict[str, Any], allowed: set[str], path: str) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=_unknown(path, unknown, allowed))


def _unknown(path: str, unknown: set[str], allowed: set[str]) -> str:
    """``code: unknown field(s) code_number; valid fields: notation, number``."""
    where = f"{path}: " if path else ""
    return (
        f"{where}unknown field(s) {', '.join(sorted(unknown))}; "
        f"valid fields: {', '.join(sorted(allowed))}"
    )


def _opt(data: dict[str, Any], name: str, path: str) -> str | None:
    value = data.get(name)
    return None if value is None else _in(name, value, f"{path}.{name}".lstrip("."))


def _strings(data: Any, path: str) -> list[str] | None:
    if data is None:
        return None
    if not isinstance(data, list):
        raise EdxmlError.of(Code.SPEC_INVALID, path, detail=f"{path}: expected a list")
    return [_in(path, v, f"{path}[{i}]") for i, v in enumerate(data)]


def _business(data: Any) -> Business | None:
    if data is None:
        return None
    if not isinstance(data, dict):
        raise EdxmlError.of(Code.SPEC_INVALID, "business", detail="business: expected an object")
    flat = {k: v for k, v in data.items() if k not in {"document_info", "replacements", "staff"}}
    business: Business = _from(Business, flat, "business")
    info = data.get("document_info")
    if info is not None:
        if not isinstance(info, dict):
            raise EdxmlError.of(
                Code.SPEC_INVALID, "business.document_info", detail="expected an object"
            )
        receivers = info.get("receivers")
        flat_info = {k: v for k, v in info.items() if k != "receivers"}
        business.document_info = _from(BusinessDocumentInfo, flat_info, "business.document_info")
        if receivers is not None:
            business.document_info.receivers = _list(
                Receiver, receivers, "business.document_info.receivers"
            )
    if data.get("replacements") is not None:
        business.replacements = _list(
            ReplacementInfo, data["replacements"], "business.replacements"
        )
    business.staff = _from(StaffInfo, data.get("staff"), "business.staff")
    return business


def _attachments(data: Any, base: Path) -> list[Attachment]:
    if data is None:
        return []
    if not isinstance(data, list):
        raise EdxmlError.of(Code.SPEC_INVALID, "attachments", detail="attachments: expected a list")
    out = []
    for i, item in enumerate(data):
        path = f"attachments[{i}]"
        if not isinstance(item, dict):
            raise EdxmlError.of(Code.SPEC_INVALID, path, detail=f"{path}: expected an object")
        _only(
            item,
            {"content_id", "name", "description", "content_type", "path", "size", "sha256"},
            path,
        )
        file = item.get("path")
        if not isinstance(file, str):
            raise EdxmlError.of(
                Code.SPEC_INVALID, f"{path}.path", detail=f"{path}.path is required"
            )
        full = base / file
        try:
            blob = Blob.from_path(full)
        except OSError as exc:
            raise EdxmlError.of(
                Code.SPEC_INVALID, f"{path}.path", detail=f"{full}: {exc.strerror}"
            ) from None
        out.append(
            Attachment(
                content_id=_opt(item, "content_id", path),
                name=_opt(item, "name", path) or full.name,
                description=_opt(item, "description", path),
                content_type=_opt(item, "content_type", path),
                content=blob,
            )
        )
    return out
