"""Logging in and out: Argon2 passwords, server-side sessions with an idle expiry, a CSRF
token per session, throttling and lock-out after repeated failures (each audited)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from lienthong.office import audit, notify
from lienthong.office.errors import OfficeError, invalid
from lienthong.office.models import Agency, Role, Unit, User, WebSession, utcnow
from lienthong.web.security import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    new_token,
    token_id,
    verify_password,
)

MIN_PASSWORD_LENGTH = 8


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise invalid(
            "PASSWORD_TOO_SHORT",
            f"Mật khẩu phải có ít nhất {MIN_PASSWORD_LENGTH} ký tự",
            f"The password must have at least {MIN_PASSWORD_LENGTH} characters",
            "password",
        )


def _aware(at: datetime | None) -> datetime | None:
    if at is not None and at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at


@dataclass(frozen=True)
class Principal:
    """The signed-in person as every view and service sees them."""

    user_id: int
    username: str
    full_name: str
    role: str
    agency_code: str
    agency_name: str
    unit_id: int | None
    unit_name: str
    title: str
    csrf_token: str
    #: an admin of an agency without a parent: the province's administrator
    provincial_admin: bool
    #: unread notifications
    unread: int = 0

    @property
    def staff(self) -> dict[str, str]:
        """Who acted, as a status package's StaffInfo carries it."""
        return {"department": self.unit_name or self.agency_name, "staff": self.full_name}


def bad_login() -> OfficeError:
    return OfficeError(
        "LOGIN_FAILED",
        "Tên đăng nhập hoặc mật khẩu không đúng",
        "Wrong username or password",
        field="password",
        status=401,
    )


def locked_error() -> OfficeError:
    return OfficeError(
        "ACCOUNT_LOCKED",
        "Tài khoản tạm khóa do đăng nhập sai nhiều lần; hãy thử lại sau",
        "The account is locked after repeated failed logins; try again later",
        field="username",
        status=429,
    )


@dataclass(frozen=True)
class LoginOutcome:
    token: str | None
    error: OfficeError | None


def login(
    session: Session,
    *,
    username: str,
    password: str,
    session_minutes: int,
    max_failed: int,
    lockout_minutes: int,
    remote: str = "",
) -> LoginOutcome:
    """A new session token for a right password; failures are counted and audited, and the
    account is locked for ``lockout_minutes`` after ``max_failed`` in a row. A failure is
    *returned* (not raised) so that the caller commits its count and its audit record."""
    username = username.strip().lower()
    user = session.scalar(select(User).where(User.username == username).with_for_update())
    now = utcnow()
    if user is None or not user.active:
        verify_password(DUMMY_HASH, password)  # same time as a real check
        audit.record(
            session, event="login.failed", username=username, remote=remote, detail="unknown user"
        )
        return LoginOutcome(None, bad_login())
    locked = _aware(user.locked_until)
    if locked is not None and locked > now:
        audit.record(
            session,
            event="login.refused_locked",
            username=username,
            agency=user.agency_code,
            remote=remote,
        )
        return LoginOutcome(None, locked_error())
    if not verify_password(user.password_hash, password):
        user.failed_logins += 1
        audit.record(
            session,
            event="login.failed",
            username=username,
            agency=user.agency_code,
            remote=remote,
            detail=f"failure {user.failed_logins}",
        )
        if user.failed_logins >= max_failed:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            audit.record(
                session,
                event="account.locked",
                username=username,
                agency=user.agency_code,
                remote=remote,
                detail=f"{max_failed} failures; locked {lockout_minutes} min",
            )
            return LoginOutcome(None, locked_error())
        return LoginOutcome(None, bad_login())
    user.failed_logins = 0
    user.locked_until = None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    token = new_token()
    session.add(
        WebSession(
            id=token_id(token),
            user_id=user.id,
            csrf_token=new_token(),
            expires_at=now + timedelta(minutes=session_minutes),
        )
    )
    audit.record(
        session, event="login.ok", username=username, agency=user.agency_code, remote=remote
    )
    session.flush()
    return LoginOutcome(token, None)


def principal(session: Session, *, token: str | None, session_minutes: int) -> Principal | None:
    """Who holds ``token``, or ``None`` (unknown or expired); slides the idle expiry."""
    if not token:
        return None
    ws = session.get(WebSession, token_id(token))
    now = utcnow()
    if ws is None:
        return None
    if (_aware(ws.expires_at) or now) <= now:
        session.delete(ws)
        return None
    user = session.get(User, ws.user_id)
    if user is None or not user.active:
        return None
    agency = session.get(Agency, user.agency_code)
    unit = session.get(Unit, user.unit_id) if user.unit_id else None
    # slide the expiry, but write at most once a minute
    new_expiry = now + timedelta(minutes=session_minutes)
    if new_expiry - (_aware(ws.expires_at) or now) > timedelta(minutes=1):
        ws.expires_at = new_expiry
    return Principal(
        user_id=user.id,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        agency_code=user.agency_code,
        agency_name=agency.name if agency else "",
        unit_id=user.unit_id,
        unit_name=unit.name if unit else "",
        title=user.title,
        csrf_token=ws.csrf_token,
        provincial_admin=user.role == Role.ADMIN and agency is not None and not agency.parent_code,
        unread=notify.unread(session, user_id=user.id),
    )


def logout(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.id == token_id(token)))


def change_password(
    session: Session, *, user_id: int, current: str, new: str, keep_token: str | None = None
) -> None:
    """Change one's own password; every other session of the user ends."""
    user = session.get(User, user_id)
    if user is None:
        raise bad_login()
    if not verify_password(user.password_hash, current):
        raise OfficeError(
            "PASSWORD_WRONG",
            "Mật khẩu hiện tại không đúng",
            "The current password is wrong",
            field="current",
            status=422,
        )
    check_password_rules(new)
    user.password_hash = hash_password(new)
    user.password_changed_at = utcnow()
    q = delete(WebSession).where(WebSession.user_id == user_id)
    if keep_token:
        q = q.where(WebSession.id != token_id(keep_token))
    session.execute(q)
    audit.record(session, event="password.changed", username=user.username, agency=user.agency_code)
