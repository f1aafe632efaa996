"""The hub's settings, from environment variables (``LIENTHONG_*``) or one TOML file
(``LIENTHONG_CONFIG``); see :func:`lienthong.core.config.load`.

The embedded default needs nothing: SQLite and a local folder under the data directory,
created on first start.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from lienthong.core.config import load

ROLES = ("national", "provincial", "ministry")


class SignaturePolicy(StrEnum):
    """Signatures on intake: ``require`` (reject unless the PDF signatures are valid and the
    package signature is not invalid), ``flag`` (accept and record), ``off``."""

    REQUIRE = "require"
    FLAG = "flag"
    OFF = "off"


@dataclass(frozen=True)
class Settings:
    data_dir: Path = Path("lienthong-data")
    #: SQLAlchemy URL; empty = SQLite file in the data directory.
    database_url: str = ""
    #: Blob store URL (``file:``, ``s3://bucket?endpoint=…``, ``memory:``); empty = local folder.
    blob_url: str = ""
    #: Largest package accepted, checked before the body is read.
    max_package_bytes: int = 100 * 1024 * 1024
    #: Freshness window of the national platform's signed headers, in seconds.
    signature_window_seconds: int = 300
    #: Identity of this hub on trace headers and in logs.
    hub_id: str = "lienthong"
    #: ``national`` (the root: no default peer above it), ``provincial`` or ``ministry``
    #: (agencies it does not serve go to the peer serving their level-1 code, else up to
    #: its default ``*`` peer).
    role: str = "provincial"
    #: Signatures on intake (see :class:`SignaturePolicy`).
    signature_policy: SignaturePolicy = SignaturePolicy.FLAG
    #: Trusted roots and CRLs for verification (PEM/DER files); default ``<data dir>/trust``.
    trust_dir: Path | None = None
    #: A lienthong CA directory whose CRLs this hub serves at ``/pki/root.crl`` and
    #: ``/pki/issuing.crl``.
    ca_dir: Path | None = None
    #: How long a process holds a relay or push it claimed; a crashed process's claims
    #: are taken over after this (a claim outliving it may be posted twice: harmless).
    relay_lease_seconds: int = 60
    #: This process among the hub's processes (holder of its outbox claims): a process
    #: started again under the same id releases its predecessor's claims at once. Empty:
    #: ``<host name>:<port>``, distinct for processes on one machine and stable across
    #: restarts; set it when several processes share a host name and port (containers).
    instance_id: str = ""
    #: Retention (``lienthong hub prune``, also run by the hub every minute). A delivery
    #: still waiting in an inbox (available or fetched, not acknowledged) this many days
    #: after it was accepted becomes ``expired`` and leaves the inbox; 0: never.
    delivery_lifetime_days: int = 30
    #: Outbox entries done this many days ago are deleted (dead letters stay until
    #: replayed); 0: kept for ever.
    outbox_retention_days: int = 7
    #: Backpressure: a package that would be relayed to a peer with this many relays
    #: already waiting is refused with 503 ``HUB_BUSY`` and ``Retry-After`` (the sender, or
    #: the upstream hub's relay, tries again later); 0: no limit.
    max_relay_backlog: int = 10_000
    host: str = "127.0.0.1"
    port: int = 8080
    #: ``host:port`` of a second listener for the admin API, ``/metrics`` and the API docs;
    #: when set, the public listener answers 404 for them. Empty: one listener for all.
    admin_listen: str = ""
    #: Keys sealing the stored secrets (``id:base64`` of 32 bytes, current first, separated
    #: by commas); empty = the key file.
    secret_keys: str = field(default="", repr=False)
    #: The key file when ``secret_keys`` is empty; default ``<data dir>/secret.key``.
    secret_key_file: Path | None = None
    #: Level of the JSON log lines on stderr: ``debug``, ``info``, ``warning``, ``error``.
    log_level: str = "info"
    #: Attachment and package limits of the parser are derived from max_package_bytes.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def effective_secret_key_file(self) -> Path:
        return self.secret_key_file or self.data_dir / "secret.key"

    @property
    def effective_blob_url(self) -> str:
        return self.blob_url or str((self.data_dir / "blobs").resolve())

    @property
    def effective_instance_id(self) -> str:
        return self.instance_id or f"{socket.gethostname()}:{self.port}"

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Explicit arguments > environment > the ``LIENTHONG_CONFIG`` file > defaults."""
        return load(cls, prefix="LIENTHONG_", environ=environ, overrides=overrides, coerce=_coerce)


_INTEGERS = {
    "max_package_bytes",
    "signature_window_seconds",
    "port",
    "relay_lease_seconds",
    "delivery_lifetime_days",
    "outbox_retention_days",
    "max_relay_backlog",
}


def _coerce(name: str, value: Any) -> Any:
    if name in {"data_dir", "trust_dir", "ca_dir", "secret_key_file"}:
        return Path(value)
    if name == "signature_policy":
        if str(value) not in {p.value for p in SignaturePolicy}:
            raise ValueError(f"signature_policy must be require, flag or off, not {value!r}")
        return SignaturePolicy(str(value))
    if name == "log_level":
        if str(value).lower() not in {"debug", "info", "warning", "error"}:
            raise ValueError(f"log_level must be debug, info, warning or error, not {value!r}")
        return str(value).lower()
    if name == "role" and str(value) not in ROLES:
        raise ValueError(f"role must be national, provincial or ministry, not {value!r}")
    if name == "admin_listen" and str(value).strip():
        host, sep, port = str(value).strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"admin_listen must be host:port, not {value!r}")
    if name in _INTEGERS:
        value = int(value)
        if value < 0:
            raise ValueError(f"{name} must not be negative, not {value}")
        return value
    return value
