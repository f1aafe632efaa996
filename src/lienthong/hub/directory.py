"""The directory: agencies (mã định danh) and the systems that connect to the hub.

Keyword-only functions, session first; the caller (request, CLI command) commits.

The directory is the authority on identifiers outside the standard form (``vxp.saas.03``,
the national platform's hosted units): such an identifier is accepted in packages only when
an agency row registers it as non-standard — added by an operator who says so
(``nonstandard=True``, ``lienthong agency add --nonstandard``) or received by directory
synchronisation. Its level is unknown (``None``) and it is routed by ``via_peer``.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from lienthong.core.text import fold
from lienthong.edxml.agency import is_nonstandard_identifier, is_standard, parse_agency_code
from lienthong.edxml.errors import EdxmlError
from lienthong.edxml.validate import unregistered
from lienthong.hub import audit
from lienthong.hub.errors import HubError
from lienthong.hub.models import Agency, Counter, Peer, System, SystemAgency, utcnow
from lienthong.hub.sealed import set_system_secret
from lienthong.protocol.xroad import DEFAULT_CLOCK_ZONE, clock_zone

EXPORT_FIELDS = (
    "code",
    "name",
    "parent_code",
    "level",
    "email",
    "phone",
    "active",
    "old_code",
    "nonstandard",
    "via_peer",
)


def _next_version(session: Session, name: str = "directory") -> int:
    row = session.execute(
        select(Counter).where(Counter.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = Counter(name=name, value=0)
        session.add(row)
    row.value += 1
    session.flush()
    return row.value


def canonical_code(code: str) -> str:
    try:
        parsed, _ = parse_agency_code(code)
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem, status=422) from None
    return parsed.canonical


def is_registered(session: Session, code: str) -> bool:
    """Whether ``code`` is a non-standard identifier registered in this directory: an
    agency registered as non-standard, or the old code of an agency (a hosted unit that
    the platform has since given a standard code)."""
    code = code.strip()
    agency = session.get(Agency, code)
    if agency is not None:
        return agency.nonstandard
    if not code or is_standard(code):
        return False
    return (
        session.scalars(select(Agency.code).where(Agency.old_code == code).limit(1)).first()
        is not None
    )


def registry(session: Session) -> Callable[[str], bool]:
    """The lookup that edXML validation asks which non-standard identifiers are registered."""
    return lambda code: is_registered(session, code)


def resolve_code(session: Session, code: str, *, field: str = "code") -> str:
    """The directory's form of ``code``: the canonical form of a standard code, or a
    registered non-standard identifier as it is; anything else is refused
    (``AGENCY_CODE_INVALID``, naming both ways out)."""
    if is_registered(session, code):
        agency = find_agency(session, code=code)
        assert agency is not None
        return agency.code
    try:
        return canonical_code(code)
    except HubError:
        raise HubError.from_problem(unregistered(code, field), status=422) from None


def add_agency(
    session: Session,
    *,
    code: str,
    name: str,
    parent_code: str | None = None,
    email: str | None = None,
    phone: str | None = None,
    old_code: str | None = None,
    active: bool = True,
    nonstandard: bool = False,
    via_peer: str | None = None,
    parent_must_exist: bool = False,
) -> Agency:
    """Create or update an agency. The parent defaults to the code's structural parent;
    with ``parent_must_exist`` a parent named explicitly must be in the directory (an
    operator's typo; imports may list children before their parents).

    An identifier outside the standard form is refused unless ``nonstandard`` says it is
    meant (``nonstandard=True``); ``via_peer`` (non-standard only) names the peer hub
    it is reached through."""
    if nonstandard:
        return _add_nonstandard(
            session,
            code=code,
            name=name,
            parent_code=parent_code,
            email=email,
            phone=phone,
            old_code=old_code,
            active=active,
            via_peer=via_peer,
        )
    if via_peer:
        raise HubError(
            "DIRECTORY_VIA_PEER_NONSTANDARD_ONLY",
            "Chỉ mã không chuẩn mới khai báo trục đi qua; mã chuẩn định tuyến theo mã cấp 1",
            "Only a non-standard identifier names the peer it is reached through; a "
            "standard code is routed by its level-1 part",
            field="via_peer",
            status=422,
        )
    try:
        parsed, _ = parse_agency_code(code)
    except EdxmlError as exc:
        raise HubError(
            exc.code.value,
            exc.problem.message_vi + "; mã không chuẩn (vxp.saas.03) phải đăng ký rõ là "
            "không chuẩn (agency add --nonstandard, cột nonstandard khi nhập)",
            exc.problem.message_en + "; an identifier outside the standard form "
            "(vxp.saas.03) must be registered explicitly as non-standard (agency add "
            "--nonstandard, the nonstandard column of an import)",
            field="code",
            status=422,
            details={"problems": [exc.problem.to_dict()]},
        ) from None
    if not name.strip():
        raise HubError(
            "DIRECTORY_NAME_REQUIRED",
            "Tên cơ quan là bắt buộc",
            "The agency name is required",
            field="name",
            status=422,
        )
    if parent_code:
        parent_code = canonical_code(parent_code)
        if parent_must_exist and find_agency(session, code=parent_code) is None:
            raise HubError(
                "DIRECTORY_PARENT_UNKNOWN",
                f"Cơ quan cấp trên {parent_code} không có trong danh bạ: thêm nó trước",
                f"The parent agency {parent_code} is not in the directory: add it first",
                field="parent_code",
                status=422,
            )
    elif parsed.parent is not None:
        parent_code = parsed.parent.canonical
    agency = session.get(Agency, parsed.canonical)
    if agency is None:
        agency = Agency(code=parsed.canonical)
        session.add(agency)
    agency.name = name.strip()
    agency.name_folded = fold(name)
    agency.parent_code = parent_code
    agency.level = parsed.level
    agency.nonstandard = False
    agency.via_peer = None
    agency.email = email or None
    agency.phone = phone or None
    agency.old_code = old_code or None
    agency.active = active
    agency.updated_at = utcnow()
    agency.version = _next_version(session)
    audit.append(
        session,
        event=audit.Event.AGENCY_CHANGED,
        agency_code=agency.code,
        detail={"name": agency.name, "active": active},
    )
    return agency


def _add_nonstandard(
    session: Session,
    *,
    code: str,
    name: str,
    parent_code: str | None,
    email: str | None,
    phone: str | None,
    old_code: str | None,
    active: bool,
    via_peer: str | None,
) -> Agency:
    code = code.strip()
    if is_standard(code):
        raise HubError(
            "DIRECTORY_CODE_IS_STANDARD",
            f"'{code}' là mã định danh theo cấu trúc chuẩn: đăng ký không cần --nonstandard",
            f"'{code}' is an identification code in the standard form: register it "
            "without --nonstandard",
            field="code",
            status=422,
        )
    if not is_nonstandard_identifier(code):
        raise HubError(
            "DIRECTORY_IDENTIFIER_INVALID",
            f"Mã không chuẩn '{code}' không hợp lệ: chỉ chữ, số và . _ : -, tối đa 32 ký "
            "tự, không phải 'null'",
            f"Non-standard identifier '{code}' is not acceptable: letters, digits and "
            ". _ : - only, at most 32 characters, not 'null'",
            field="code",
            status=422,
        )
    if not name.strip():
        raise HubError(
            "DIRECTORY_NAME_REQUIRED",
            "Tên cơ quan là bắt buộc",
            "The agency name is required",
            field="name",
            status=422,
        )
    if via_peer and session.get(Peer, via_peer) is None:
        raise HubError(
            "PEER_NOT_FOUND",
            f"Không có trục ngang hàng {via_peer}",
            f"No peer hub {via_peer}",
            field="via_peer",
            status=422,
        )
    agency = session.get(Agency, code)
    if agency is None:
        agency = Agency(code=code)
        session.add(agency)
    agency.name = name.strip()
    agency.name_folded = fold(name)
    agency.parent_code = resolve_code(session, parent_code, field="parent") if parent_code else None
    agency.level = None
    agency.nonstandard = True
    agency.via_peer = via_peer or None
    agency.email = email or None
    agency.phone = phone or None
    agency.old_code = old_code or None
    agency.active = active
    agency.updated_at = utcnow()
    agency.version = _next_version(session)
    audit.append(
        session,
        event=audit.Event.AGENCY_CHANGED,
        agency_code=agency.code,
        detail={"name": agency.name, "active": active, "nonstandard": True, "via": via_peer},
    )
    return agency


def _parse(code: str) -> Any:
    try:
        return parse_agency_code(code)
    except EdxmlError as exc:
        raise HubError.from_problem(exc.problem, status=422) from None


def deactivate_agency(session: Session, *, code: str) -> Agency:
    agency = get_agency(session, code=code)
    agency.active = False
    agency.updated_at = utcnow()
    agency.version = _next_version(session)
    audit.append(
        session, event=audit.Event.AGENCY_CHANGED, agency_code=agency.code, detail={"active": False}
    )
    return agency


def get_agency(session: Session, *, code: str) -> Agency:
    agency = find_agency(session, code=code)
    if agency is None:
        raise HubError(
            "AGENCY_NOT_FOUND",
            f"Không có cơ quan {code} trong danh bạ",
            f"No agency {code} in the directory",
            field="code",
            status=404,
        )
    return agency


def find_agency(session: Session, *, code: str) -> Agency | None:
    """By current code, canonical form of a legacy short code, or old code."""
    code = code.strip()
    agency = session.get(Agency, code)
    if agency is not None:
        return agency
    try:
        parsed, _ = parse_agency_code(code)
        agency = session.get(Agency, parsed.canonical)
    except EdxmlError:
        agency = None
    if agency is not None:
        return agency
    return session.scalars(select(Agency).where(Agency.old_code == code).limit(1)).first()


def search_agencies(
    session: Session,
    *,
    query: str = "",
    limit: int = 50,
    offset: int = 0,
    active_only: bool = False,
) -> list[Agency]:
    """Diacritic-insensitive search over names (``đ`` = ``d``) and codes."""
    stmt = select(Agency)
    q = query.strip()
    if q:
        pattern = f"%{fold(q)}%"
        stmt = stmt.where(
            or_(
                Agency.name_folded.like(pattern),
                Agency.code.ilike(f"%{q}%"),
                Agency.old_code.ilike(f"%{q}%"),
            )
        )
    if active_only:
        stmt = stmt.where(Agency.active.is_(True))
    return list(session.scalars(stmt.order_by(Agency.code).limit(limit).offset(offset)))


def changes_since(session: Session, *, version: int = 0, limit: int = 10000) -> list[Agency]:
    return list(
        session.scalars(
            select(Agency).where(Agency.version > version).order_by(Agency.version).limit(limit)
        )
    )


def count_agencies(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Agency)) or 0)


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def read_agency_rows(path: str | Path) -> list[dict[str, Any]]:
    """Rows from a CSV (header row with the export field names) or a JSON list."""
    p = Path(path)
    text = p.read_text(encoding="utf-8-sig")
    if p.suffix.lower() == ".json" or text.lstrip().startswith("["):
        data = json.loads(text)
        if not isinstance(data, list):
            raise HubError(
                "DIRECTORY_IMPORT_FORMAT",
                "Tệp JSON phải là một danh sách",
                "The JSON file must be a list",
                status=422,
            )
        return [dict(r) for r in data]
    return list(csv.DictReader(io.StringIO(text)))


def import_agencies(
    session: Session,
    *,
    rows: Sequence[dict[str, Any]],
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Upsert many agencies; a bad row is reported, the others are imported.

    Parents are imported before children (sorted by level) so parent links resolve.
    """
    result = ImportResult()
    ordered = sorted(enumerate(rows, start=1), key=lambda r: _level_of(r[1]))
    for line, row in ordered:
        code = str(row.get("code") or "").strip()
        try:
            existed = find_agency(session, code=code) is not None if code else False
            with session.begin_nested():
                add_agency(
                    session,
                    code=code,
                    name=str(row.get("name") or ""),
                    parent_code=_opt(row.get("parent_code") or row.get("parent")),
                    email=_opt(row.get("email")),
                    phone=_opt(row.get("phone")),
                    old_code=_opt(row.get("old_code")),
                    active=_bool(row.get("active", True)),
                    nonstandard=_flag(row.get("nonstandard")),
                    via_peer=_opt(row.get("via_peer")),
                )
            if existed:
                result.updated += 1
            else:
                result.created += 1
        except HubError as exc:
            result.errors.append({"row": line, "code": code, "error": exc.to_dict()})
        if progress is not None:
            progress(1)
    return result


def _level_of(row: dict[str, Any]) -> int:
    try:
        parsed, _ = parse_agency_code(str(row.get("code") or ""))
        return int(parsed.level)
    except EdxmlError:
        return 9


def _opt(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _flag(value: Any) -> bool:
    """A yes/no cell whose blank means no (``nonstandard``)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return False
    return _bool(value)


def _bool(value: Any) -> bool:
    """A yes/no cell; blank means the default (active)."""
    if isinstance(value, bool):
        return value
    if value is None or not str(value).strip():
        return True
    return str(value).strip().lower() not in {"0", "false", "no", "khong", "không"}


def export_agencies(session: Session) -> list[dict[str, Any]]:
    return [
        {f: getattr(a, f) for f in EXPORT_FIELDS}
        for a in session.scalars(select(Agency).order_by(Agency.code))
    ]


def write_agency_export(rows: Iterable[dict[str, Any]], path: str | Path) -> None:
    p = Path(path)
    rows = list(rows)
    if p.suffix.lower() == ".json":
        p.write_text(json.dumps(rows, ensure_ascii=False, indent=2), encoding="utf-8")
        return
    with p.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=EXPORT_FIELDS)
        writer.writeheader()
        writer.writerows(rows)


# ------------------------------------------------------------------------------ systems


def hash_api_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_api_key(prefix: str = "lt_") -> str:
    """A fresh bearer key (256 random bits); only its :func:`hash_api_key` is stored."""
    return prefix + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class NewSystem:
    system: System
    secret: str
    api_key: str

    def __repr__(self) -> str:  # never print credentials by accident
        return f"NewSystem(system_id={self.system.id!r})"


def add_system(
    session: Session,
    *,
    system_id: str,
    agencies: Sequence[str],
    secret: str | None = None,
    name: str = "",
    legacy_sdk: bool = False,
    callback_url: str | None = None,
    clock_zone: str | None = None,
) -> NewSystem:
    """Register a system (or re-register: new credentials, new agency list). Without
    ``clock_zone`` a new system gets Vietnam's zone and an existing one keeps its own."""
    zone = None if clock_zone is None else checked_clock_zone(clock_zone)
    if not system_id.strip():
        raise HubError(
            "SYSTEM_ID_REQUIRED",
            "Mã hệ thống là bắt buộc",
            "A system id is required",
            field="system_id",
            status=422,
        )
    codes = []
    for code in agencies:
        agency = get_agency(session, code=code)
        codes.append(agency.code)
    if not codes:
        raise HubError(
            "SYSTEM_AGENCY_REQUIRED",
            "Hệ thống phải phục vụ ít nhất một cơ quan",
            "A system must serve at least one agency",
            field="agency",
            status=422,
        )
    secret = secret or secrets.token_urlsafe(32)
    api_key = new_api_key()
    system = session.get(System, system_id)
    if system is None:
        system = System(id=system_id)
        session.add(system)
    system.name = name
    set_system_secret(session, system, secret)
    system.api_key_hash = hash_api_key(api_key)
    system.legacy_sdk = legacy_sdk
    system.callback_url = callback_url
    system.clock_zone = zone or system.clock_zone or DEFAULT_CLOCK_ZONE
    system.active = True
    session.flush()
    session.execute(delete(SystemAgency).where(SystemAgency.system_id == system_id))
    for code in dict.fromkeys(codes):
        session.add(SystemAgency(system_id=system_id, agency_code=code))
    audit.append(
        session,
        event=audit.Event.SYSTEM_CHANGED,
        system_id=system_id,
        detail={"agencies": codes, "legacy_sdk": legacy_sdk, "clock_zone": system.clock_zone},
    )
    return NewSystem(system=system, secret=secret, api_key=api_key)


def checked_clock_zone(name: str) -> str:
    """``name`` as stored, if it names a time zone; ``SYSTEM_CLOCK_ZONE_INVALID`` if not."""
    try:
        clock_zone(name)
    except ValueError:
        raise HubError(
            "SYSTEM_CLOCK_ZONE_INVALID",
            f"{name[:64]!r} không phải múi giờ (tên IANA, ví dụ Asia/Ho_Chi_Minh, UTC)",
            f"{name[:64]!r} is not a time zone (an IANA name such as Asia/Ho_Chi_Minh, UTC)",
            field="clock_zone",
            status=422,
        ) from None
    return name.strip()


def set_clock_zone(session: Session, *, system_id: str, clock_zone: str) -> System:
    """Change the zone a system's clock writes its timestamps in (credentials unchanged)."""
    zone = checked_clock_zone(clock_zone)
    system = session.get(System, system_id)
    if system is None:
        raise HubError(
            "SYSTEM_NOT_FOUND",
            f"Không có hệ thống {system_id!r}",
            f"No system {system_id!r}",
            field="system_id",
            status=404,
        )
    if system.clock_zone != zone:
        system.clock_zone = zone
        audit.append(
            session,
            event=audit.Event.SYSTEM_CHANGED,
            system_id=system_id,
            detail={"clock_zone": zone},
        )
    return system


def get_system(session: Session, *, system_id: str) -> System | None:
    system = session.get(System, system_id)
    return system if system is not None and system.active else None


def system_by_api_key(session: Session, *, api_key: str) -> System | None:
    system = session.scalars(
        select(System).where(System.api_key_hash == hash_api_key(api_key))
    ).first()
    return system if system is not None and system.active else None


def served_agencies(session: Session, *, system_id: str) -> set[str]:
    return set(
        session.scalars(select(SystemAgency.agency_code).where(SystemAgency.system_id == system_id))
    )


def list_systems(session: Session) -> list[System]:
    return list(session.scalars(select(System).order_by(System.id)))


# ------------------------------------------------------------------------ synchronisation


@dataclass
class SyncResult:
    received: int = 0
    created: int = 0
    updated: int = 0
    deactivated: int = 0
    version: int = 0
    errors: list[dict[str, Any]] = field(default_factory=list)


def last_synced_version(session: Session, *, source: str) -> int:
    row = session.get(Counter, f"sync:{source}"[:64])
    return row.value if row is not None else 0


def apply_synchronisation(
    session: Session,
    *,
    source: str,
    rows: Sequence[dict[str, Any]],
    via_peer: str | None = None,
) -> SyncResult:
    """Apply a directory feed in the platform's ``getSynchronizeUnit`` shape (``code``,
    ``name``, ``pid``, ``mail``, ``deleted``, ``version``, ``oldCode``/``code102``) and
    remember the highest version seen for ``source``, so the next pull is incremental.
    Parents before children; a bad row is reported, the others applied.

    A unit whose code is outside the standard form (the platform's ``vxp.saas.03``) is
    registered as non-standard, reached through ``via_peer`` (the peer hub the feed comes
    from; None: the default peer) — unless this hub registered it itself (served here)."""
    result = SyncResult(received=len(rows))
    ordered = sorted(rows, key=lambda r: _level_of(r))
    for row in ordered:
        code = str(row.get("code") or "").strip()
        try:
            with session.begin_nested():
                existing = find_agency(session, code=code) if code else None
                if row.get("deleted") in (True, "true", "1", 1):
                    if existing is not None and existing.active:
                        deactivate_agency(session, code=existing.code)
                        result.deactivated += 1
                else:
                    pid = row.get("pid")
                    nonstandard = bool(code) and not is_standard(code)
                    add_agency(
                        session,
                        code=code,
                        name=str(row.get("name") or ""),
                        parent_code=str(pid)
                        if pid and find_agency(session, code=str(pid))
                        else None,
                        email=_opt(row.get("mail")),
                        old_code=_opt(row.get("oldCode") or row.get("code102")),
                        nonstandard=nonstandard,
                        via_peer=_via(session, existing, via_peer) if nonstandard else None,
                    )
                    if existing is None:
                        result.created += 1
                    else:
                        result.updated += 1
        except HubError as exc:
            result.errors.append({"code": code, "error": exc.to_dict()})
        version = row.get("version")
        if isinstance(version, int) or (isinstance(version, str) and version.isdigit()):
            result.version = max(result.version, int(version))
    if result.version:
        key = f"sync:{source}"[:64]
        counter = session.get(Counter, key)
        if counter is None:
            session.add(Counter(name=key, value=result.version))
        else:
            counter.value = max(counter.value, result.version)
    return result


def _via(session: Session, existing: Agency | None, via_peer: str | None) -> str | None:
    """Where a synchronised non-standard unit is reached: through the feed's peer, except
    a unit a local (non-peer) system of this hub serves, which stays here."""
    if existing is not None and existing.via_peer is None:
        local = session.scalars(
            select(SystemAgency.system_id)
            .join(System, System.id == SystemAgency.system_id)
            .where(SystemAgency.agency_code == existing.code, System.peer.is_(False))
            .limit(1)
        ).first()
        if local is not None:
            return None
    return via_peer


def registration_rows(session: Session, *, under: str) -> list[dict[str, Any]]:
    """The active agencies at or below ``under``, parents first, in the shape of the
    platform's ``registerAgency`` body — what a provincial hub registers upstream."""
    root = canonical_code(under)
    suffix = root.split(".")[-1]
    rows = []
    for agency in session.scalars(
        select(Agency)
        .where(Agency.active.is_(True), Agency.nonstandard.is_(False))
        .order_by(Agency.level, Agency.code)
    ):  # a non-standard unit is under no root: the platform registers its own
        parsed, _ = _parse(agency.code)
        lineage = {agency.code} | {a.canonical for a in parsed.ancestors()}
        if root in lineage and agency.code.endswith(suffix):
            rows.append(
                {
                    "id": agency.code,
                    "code": agency.code,
                    "name": agency.name,
                    "pcode": agency.parent_code or "",
                    "mail": agency.email or "",
                    "mobile": agency.phone or "",
                }
            )
    return rows


# ----------------------------------------------------------------------------- self-service


def may_manage(session: Session, *, system: System, code: str) -> None:
    """A system manages the agencies it serves and everything below them."""
    canonical = resolve_code(session, code)
    served = served_agencies(session, system_id=system.id)
    lineage = {canonical}
    if not is_registered(session, canonical):  # a non-standard identifier has no ancestors
        parsed, _ = parse_agency_code(canonical)
        lineage |= {a.canonical for a in parsed.ancestors()}
    if not lineage & served:
        raise HubError(
            "HUB_NOT_YOUR_AGENCY",
            f"Hệ thống {system.id} không quản lý cơ quan {code}",
            f"System {system.id} does not manage agency {code}",
            field="code",
            status=403,
        )


def register_agency(
    session: Session,
    *,
    system: System,
    code: str,
    name: str = "",
    parent_code: str = "",
    email: str | None = None,
    phone: str | None = None,
) -> None:
    """A connected system registers an agency below one it manages (the national platform's
    ``registerAgency``): a new agency becomes served by that system; an existing one may only
    have its contact data changed, and only by the system that already serves it (not its
    status, not who serves it)."""
    code = canonical_code(code)
    may_manage(session, system=system, code=code)
    existing = session.get(Agency, code)
    if existing is not None:
        if code not in served_agencies(session, system_id=system.id):
            raise HubError(
                "HUB_NOT_YOUR_AGENCY",
                f"Cơ quan {code} đã có và do hệ thống khác phục vụ",
                f"Agency {code} exists and is served by another system",
                field="code",
                status=403,
            )
        add_agency(
            session,
            code=code,
            name=name or existing.name,
            parent_code=existing.parent_code,
            email=email or existing.email,
            phone=phone or existing.phone,
            old_code=existing.old_code,
            active=existing.active,
        )
        return
    parent = parent_code if parent_code and session.get(Agency, parent_code) is not None else None
    agency = add_agency(session, code=code, name=name, parent_code=parent, email=email, phone=phone)
    session.add(SystemAgency(system_id=system.id, agency_code=agency.code))


def unregister_agency(session: Session, *, system: System, code: str) -> None:
    """The national platform's ``deleteAgency``: only for an agency the system serves."""
    canonical = resolve_code(session, code, field="AgencyCode")
    if canonical not in served_agencies(session, system_id=system.id):
        raise HubError(
            "HUB_NOT_YOUR_AGENCY",
            f"Hệ thống {system.id} không phục vụ cơ quan {code}",
            f"System {system.id} does not serve agency {code}",
            field="AgencyCode",
            status=403,
        )
    deactivate_agency(session, code=canonical)
