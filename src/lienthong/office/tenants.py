"""Agencies (tenants), their units and registers, and people. Keyword-only, session first;
the caller commits."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.core.text import fold
from lienthong.edxml.agency import is_valid_agency_code
from lienthong.office import audit
from lienthong.office.accounts import Principal, check_password_rules
from lienthong.office.errors import OfficeError, invalid, not_found
from lienthong.office.models import Agency, HolidayOverride, Register, Role, Unit, User
from lienthong.web.security import hash_password

#: the incoming register every new agency gets (Decree 30 Art. 22)
DEFAULT_INCOMING_REGISTER = "Sổ văn bản đến"


def _check_code(code: str) -> str:
    code = code.strip()
    if not is_valid_agency_code(code):
        raise invalid(
            "AGENCY_CODE_INVALID",
            f"Mã định danh không hợp lệ: {code!r}",
            f"Invalid agency identification code: {code!r}",
            "code",
        )
    return code


def add_agency(session: Session, *, code: str, name: str, parent: str | None = None) -> Agency:
    """Create an agency (or rename / re-parent an existing one) with its default register."""
    code = _check_code(code)
    if not name.strip():
        raise invalid(
            "AGENCY_NAME_REQUIRED", "Tên cơ quan là bắt buộc", "A name is required", "name"
        )
    if parent:
        parent = _check_code(parent)
        if parent == code or session.get(Agency, parent) is None:
            raise invalid(
                "AGENCY_PARENT_UNKNOWN",
                f"Không có cơ quan cấp trên {parent}",
                f"No parent agency {parent}",
                "parent",
            )
    agency = session.get(Agency, code)
    if agency is None:
        agency = Agency(code=code, name=name.strip(), parent_code=parent or None)
        session.add(agency)
        session.flush()
        session.add(Register(agency_code=code, name=DEFAULT_INCOMING_REGISTER, kind="incoming"))
    else:
        agency.name = name.strip()
        agency.parent_code = parent or None
    session.flush()
    return agency


def import_agencies(session: Session, *, path: Path) -> list[Agency]:
    """Agencies from a CSV (``code,name,parent`` with a header) or JSON file (a list of
    ``{"code", "name", "parent"}``); parents may come later in the file than children."""
    text = path.read_text(encoding="utf-8-sig")
    rows: list[dict[str, str]]
    if path.suffix.lower() == ".json":
        rows = [{k: str(v or "") for k, v in r.items()} for r in json.loads(text)]
    else:
        rows = [
            {k.strip(): (v or "").strip() for k, v in r.items()}
            for r in csv.DictReader(io.StringIO(text))
        ]
    done: list[Agency] = []
    pending = rows
    while pending:
        later = []
        for row in pending:
            parent = row.get("parent") or None
            if (
                parent
                and session.get(Agency, parent) is None
                and any(r.get("code") == parent for r in pending)
            ):
                later.append(row)
                continue
            done.append(add_agency(session, code=row["code"], name=row["name"], parent=parent))
        if len(later) == len(pending):
            raise invalid(
                "AGENCY_PARENT_CYCLE",
                "Các cơ quan cấp trên tạo thành vòng lặp",
                "The parents form a cycle",
                "parent",
            )
        pending = later
    return done


def get_agency(session: Session, *, code: str) -> Agency:
    agency = session.get(Agency, code.strip())
    if agency is None:
        raise not_found(f"cơ quan {code}", f"agency {code}")
    return agency


def list_agencies(session: Session) -> Sequence[Agency]:
    return session.scalars(select(Agency).order_by(Agency.code)).all()


def subtree(session: Session, *, code: str) -> set[str]:
    """The agency and every agency below it."""
    parents = {c: p for c, p in session.execute(select(Agency.code, Agency.parent_code)).all()}
    out = {code}
    changed = True
    while changed:
        changed = False
        for child, parent in parents.items():
            if parent in out and child not in out:
                out.add(child)
                changed = True
    return out


def ensure_unit(session: Session, *, agency: str, name: str) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.agency_code == agency, Unit.name == name))
    if unit is None:
        unit = Unit(agency_code=agency, name=name)
        session.add(unit)
        session.flush()
    return unit


def units(session: Session, *, agency: str) -> Sequence[Unit]:
    return session.scalars(select(Unit).where(Unit.agency_code == agency).order_by(Unit.name)).all()


def registers(session: Session, *, agency: str, kind: str = "incoming") -> Sequence[Register]:
    return session.scalars(
        select(Register)
        .where(Register.agency_code == agency, Register.kind == kind)
        .order_by(Register.id)
    ).all()


def add_register(session: Session, *, agency: str, name: str, kind: str = "incoming") -> Register:
    get_agency(session, code=agency)
    register = Register(agency_code=agency, name=name.strip(), kind=kind)
    session.add(register)
    session.flush()
    return register


def add_user(
    session: Session,
    *,
    username: str,
    agency: str,
    role: str,
    full_name: str,
    password: str,
    unit: str | None = None,
    title: str = "",
    email: str = "",
    by: str = "cli",
) -> User:
    username = username.strip().lower()
    if not username or len(username) > 100 or any(c.isspace() for c in username):
        raise invalid(
            "USERNAME_INVALID", "Tên đăng nhập không hợp lệ", "Invalid username", "username"
        )
    if role not in {r.value for r in Role}:
        raise invalid(
            "ROLE_INVALID",
            f"Vai trò không hợp lệ: {role} (clerk, leader, officer, admin)",
            f"Invalid role: {role} (clerk, leader, officer, admin)",
            "role",
        )
    get_agency(session, code=agency)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise OfficeError(
            "USERNAME_TAKEN",
            f"Tên đăng nhập {username} đã có",
            f"The username {username} is taken",
            field="username",
            status=409,
        )
    check_password_rules(password)
    unit_row = ensure_unit(session, agency=agency, name=unit.strip()) if unit else None
    user = User(
        username=username,
        agency_code=agency,
        role=role,
        full_name=full_name.strip() or username,
        unit_id=unit_row.id if unit_row else None,
        title=title,
        email=email,
        password_hash=hash_password(password),
        active=True,
        failed_logins=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session, event="user.added", username=username, agency=agency, detail=f"{role} by {by}"
    )
    return user


def users(session: Session, *, agency: str, role: str | None = None) -> Sequence[User]:
    q = select(User).where(User.agency_code == agency, User.active.is_(True))
    if role:
        q = q.where(User.role == role)
    return session.scalars(q.order_by(User.full_name)).all()


@dataclass(frozen=True)
class Person:
    id: int
    username: str
    full_name: str
    role: str
    unit: str
    title: str


def people(session: Session, *, agency: str) -> list[Person]:
    rows = session.execute(
        select(User, Unit.name)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .where(User.agency_code == agency, User.active.is_(True))
    ).all()
    out = [Person(u.id, u.username, u.full_name, u.role, n or "", u.title) for u, n in rows]
    return sorted(out, key=lambda p: fold(p.full_name))


# --------------------------------------------------------------------------- administration


def _require_admin(who: Principal) -> None:
    if who.role != Role.ADMIN:
        raise OfficeError(
            "ROLE_FORBIDDEN",
            "Chỉ quản trị viên được làm việc này",
            "Only an administrator may do this",
            status=403,
        )


def admin_scope(session: Session, *, who: Principal) -> list[str]:
    """The agencies ``who`` administers: every agency for the province's administrator (an
    admin of an agency without a parent), else their own."""
    _require_admin(who)
    if who.provincial_admin:
        return [a.code for a in list_agencies(session)]
    return [who.agency_code]


def _in_scope(session: Session, who: Principal, agency: str) -> None:
    if agency not in admin_scope(session, who=who):
        raise not_found(f"cơ quan {agency}", f"agency {agency}")


def admin_add_user(
    session: Session,
    *,
    who: Principal,
    username: str,
    agency: str,
    role: str,
    full_name: str,
    password: str,
    unit: str | None = None,
    title: str = "",
) -> User:
    _in_scope(session, who, agency)
    return add_user(
        session,
        username=username,
        agency=agency,
        role=role,
        full_name=full_name,
        password=password,
        unit=unit or None,
        title=title,
        by=who.username,
    )


def admin_add_agency(
    session: Session, *, who: Principal, code: str, name: str, parent: str | None
) -> Agency:
    _require_admin(who)
    if not who.provincial_admin:
        raise OfficeError(
            "ROLE_FORBIDDEN",
            "Chỉ quản trị viên cấp tỉnh được thêm cơ quan",
            "Only the province's administrator may add agencies",
            status=403,
        )
    agency = add_agency(session, code=code, name=name, parent=parent or None)
    audit.record(session, event="agency.added", username=who.username, agency=agency.code)
    return agency


def admin_unlock(session: Session, *, who: Principal, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise not_found("người dùng", "user")
    _in_scope(session, who, user.agency_code)
    user.locked_until = None
    user.failed_logins = 0
    audit.record(
        session,
        event="account.unlocked",
        username=user.username,
        agency=user.agency_code,
        detail=f"by {who.username}",
    )
    return user


@dataclass(frozen=True)
class Account:
    id: int
    username: str
    full_name: str
    role: str
    unit: str
    title: str
    locked: bool


def accounts_of(session: Session, *, who: Principal, agency: str) -> list[Account]:
    from lienthong.office.models import utcnow

    _in_scope(session, who, agency)
    now = utcnow()
    rows = session.execute(
        select(User, Unit.name)
        .outerjoin(Unit, Unit.id == User.unit_id)
        .where(User.agency_code == agency)
        .order_by(User.username)
    ).all()
    out = []
    for u, unit in rows:
        locked_until = u.locked_until
        if locked_until is not None and locked_until.tzinfo is None:
            locked_until = locked_until.replace(tzinfo=now.tzinfo)
        out.append(
            Account(
                u.id,
                u.username,
                u.full_name,
                u.role,
                unit or "",
                u.title,
                bool(locked_until and locked_until > now),
            )
        )
    return out


def admin_set_day(session: Session, *, who: Principal, day: date, working: bool, note: str) -> None:
    """The province's admin records an announced day swap (a day off, or a worked Saturday)."""
    from lienthong.office.workdays import set_override

    _require_admin(who)
    if not who.provincial_admin:
        raise OfficeError(
            "ROLE_FORBIDDEN",
            "Chỉ quản trị viên cấp tỉnh được sửa lịch làm việc",
            "Only the province's administrator may change the calendar",
            status=403,
        )
    set_override(session, day=day, working=working, note=note[:200])
    audit.record(
        session,
        event="calendar.changed",
        username=who.username,
        detail=f"{day.isoformat()} {'working' if working else 'off'} {note}",
    )


def calendar_overrides(session: Session) -> Sequence[HolidayOverride]:
    return session.scalars(select(HolidayOverride).order_by(HolidayOverride.day.desc())).all()
