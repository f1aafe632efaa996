"""Settings of the office, from arguments, ``LIENTHONG_OFFICE_*`` variables, or defaults.

The embedded default needs nothing: SQLite and a local blob folder under the data directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

_PREFIX = "LIENTHONG_OFFICE_"


@dataclass(frozen=True)
class OfficeSettings:
    data_dir: Path = Path("lienthong-office")
    #: SQLAlchemy URL; empty = ``<data dir>/office.db`` (SQLite)
    database_url: str = ""
    #: blob store URL (as the hub's); empty = ``<data dir>/blobs``
    blob_url: str = ""
    #: trusted roots and CRLs for verifying received signatures; default ``<data dir>/trust``
    trust_dir: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8090
    #: idle lifetime of a login session
    session_minutes: int = 480
    #: failed logins in a row before the account is locked, and for how long
    max_failed_logins: int = 5
    lockout_minutes: int = 15
    #: seconds between two polls of the hub's inbox (the fallback when pushes are missed)
    poll_seconds: float = 30.0
    #: mark cookies ``Secure`` (behind HTTPS)
    secure_cookies: bool = False
    #: the address people open (links in e-mails), e.g. ``https://vanphong.nghean.gov.vn``
    public_url: str = ""
    #: e-mail notifications: an SMTP server (empty host = no e-mail)
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_from: str = "vanphong@localhost"
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'office.db').resolve()}"

    @property
    def effective_blob_url(self) -> str:
        return self.blob_url or str((self.data_dir / "blobs").resolve())

    @property
    def effective_trust_dir(self) -> Path:
        return self.trust_dir or self.data_dir / "trust"

    def with_(self, **changes: Any) -> OfficeSettings:
        return replace(self, **changes)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> OfficeSettings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        for name in cls.__dataclass_fields__:
            raw = env.get(_PREFIX + name.upper())
            if raw is not None:
                values[name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: _coerce(k, v) for k, v in values.items()})


def _coerce(name: str, value: Any) -> Any:
    if name in {"data_dir", "trust_dir"}:
        return Path(value)
    if name in {"port", "session_minutes", "max_failed_logins", "lockout_minutes", "smtp_port"}:
        return int(value)
    if name == "poll_seconds":
        return float(value)
    if name in {"secure_cookies", "smtp_starttls"}:
        return str(value).lower() in {"1", "true", "yes"} if isinstance(value, str) else value
    return value
