"""Settings from environment variables (``LIENTHONG_*``) or one TOML file.

Precedence: explicit arguments > environment > the file named by ``LIENTHONG_CONFIG`` >
defaults. The embedded default needs nothing: SQLite and a local folder under the data
directory, created on first start.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

_PREFIX = "LIENTHONG_"
ROLES = ("national", "provincial", "ministry")


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
    #: Signatures on intake: ``require`` (reject unless the PDF signatures are valid and
    #: the package signature is not invalid), ``flag`` (accept and record), ``off``.
    signature_policy: str = "flag"
    #: Trusted roots and CRLs for verification (PEM/DER files); default ``<data dir>/trust``.
    trust_dir: Path | None = None
    #: A lienthong CA directory whose CRLs this hub serves at ``/pki/root.crl`` and
    #: ``/pki/issuing.crl``.
    ca_dir: Path | None = None
    #: How long a process holds a relay or push it claimed; a crashed process's claims
    #: are taken over after this (a claim outliving it may be posted twice: harmless).
    relay_lease_seconds: int = 60
    host: str = "127.0.0.1"
    port: int = 8080
    #: Attachment and package limits of the parser are derived from max_package_bytes.
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hub.db').resolve()}"

    @property
    def effective_blob_url(self) -> str:
        return self.blob_url or str((self.data_dir / "blobs").resolve())

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @classmethod
    def load(cls, environ: dict[str, str] | None = None, **overrides: Any) -> Settings:
        env = dict(os.environ if environ is None else environ)
        values: dict[str, Any] = {}
        config = env.get(f"{_PREFIX}CONFIG")
        if config:
            with open(config, "rb") as fh:
                values.update(tomllib.load(fh))
        for f in fields(cls):
            raw = env.get(_PREFIX + f.name.upper())
            if raw is not None and f.name != "extra":
                values[f.name] = raw
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**{k: _coerce(k, v) for k, v in values.items() if k in _FIELD_NAMES})


_FIELD_NAMES = {f.name for f in fields(Settings)}


def _coerce(name: str, value: Any) -> Any:
    if name in {"data_dir", "trust_dir", "ca_dir"}:
        return Path(value)
    if name == "signature_policy" and str(value) not in {"require", "flag", "off"}:
        raise ValueError(f"signature_policy must be require, flag or off, not {value!r}")
    if name == "role" and str(value) not in ROLES:
        raise ValueError(f"role must be national, provincial or ministry, not {value!r}")
    if name in {"max_package_bytes", "signature_window_seconds", "port", "relay_lease_seconds"}:
        return int(value)
    return value
