"""Secrets stored sealed (AES-256-GCM) with keys kept outside the database.

A :class:`Keyring` holds one current key and any number of older ones: new values are
sealed with the current key, values sealed with an older key still open, and
:meth:`Keyring.rotated` gives the ring that a rotation writes (a new current key, the old
ones kept until every value is sealed again). A sealed value is the text
``lt-sealed:v1:<key id>:<base64 nonce‖ciphertext>``, bound to what it belongs to (``aad``,
e.g. ``system:<id>``), so a sealed value copied onto another row does not open. A value
without the prefix is clear text written before sealing existed: :meth:`Keyring.open` gives
it back as it is, and the owner seals it again.

Keys come from an environment variable (``id:base64key`` separated by commas, current
first) or a key file (one ``id:base64key`` a line, current first), created on first use
with mode 0600.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PREFIX = "lt-sealed:v1:"


class SealingError(Exception):
    """A key ring that cannot be read, or a sealed value no key of the ring opens."""


@dataclass(frozen=True)
class Keyring:
    #: (key id, 32-byte key), the current key first.
    keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def generate(cls) -> Keyring:
        return cls(((_new_key()),))

    @classmethod
    def parse(cls, text: str) -> Keyring:
        """``id:base64key`` entries separated by commas or new lines, current first."""
        keys: list[tuple[str, bytes]] = []
        for entry in text.replace(",", "\n").splitlines():
            entry = entry.strip()
            if not entry or entry.startswith("#"):
                continue
            kid, sep, b64 = entry.partition(":")
            try:
                key = base64.b64decode(b64, validate=True)
            except (binascii.Error, ValueError):
                key = b""
            if not sep or not kid.isalnum() or len(key) != 32:
                raise SealingError("a key entry must be id:base64 of 32 bytes")
            keys.append((kid, key))
        if not keys:
            raise SealingError("no key")
        return cls(tuple(keys))

    def dump(self) -> str:
        return "".join(f"{kid}:{base64.b64encode(key).decode()}\n" for kid, key in self.keys)

    @property
    def current(self) -> str:
        return self.keys[0][0]

    def rotated(self) -> Keyring:
        """A new current key, the old ones kept (to open what they sealed)."""
        return Keyring((_new_key(), *self.keys))

    def only_current(self) -> Keyring:
        return Keyring(self.keys[:1])

    def seal(self, value: str, *, aad: str) -> str:
        kid, key = self.keys[0]
        nonce = secrets.token_bytes(12)
        sealed = AESGCM(key).encrypt(nonce, value.encode(), aad.encode())
        return f"{PREFIX}{kid}:{base64.b64encode(nonce + sealed).decode()}"

    def open(self, stored: str, *, aad: str) -> str:
        if not is_sealed(stored):
            return stored  # clear text from before sealing
        kid, _, b64 = stored[len(PREFIX) :].partition(":")
        key = dict(self.keys).get(kid)
        if key is None:
            raise SealingError(f"sealed with key {kid!r}, which is not in the key ring")
        try:
            raw = base64.b64decode(b64, validate=True)
            return AESGCM(key).decrypt(raw[:12], raw[12:], aad.encode()).decode()
        except (binascii.Error, ValueError, InvalidTag):
            raise SealingError(f"a value sealed with key {kid!r} does not open") from None

    def needs_sealing(self, stored: str) -> bool:
        """Clear text, or sealed with a key that is not the current one."""
        return not stored.startswith(f"{PREFIX}{self.current}:")


def is_sealed(stored: str) -> bool:
    return stored.startswith(PREFIX)


def _new_key() -> tuple[str, bytes]:
    key = secrets.token_bytes(32)
    return hashlib.sha256(key).hexdigest()[:8], key


def load_key_file(path: Path) -> Keyring:
    """The ring in ``path``, created (mode 0600, never overwritten) when missing."""
    try:
        return Keyring.parse(path.read_text(encoding="ascii"))
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    write_key_file(path, Keyring.generate(), replace=False)
    return Keyring.parse(path.read_text(encoding="ascii"))


def write_key_file(path: Path, ring: Keyring, *, replace: bool = True) -> None:
    """Write ``ring`` to ``path`` atomically, mode 0600. ``replace=False``: keep a file
    another process created meanwhile."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(ring.dump())
            fh.flush()
            os.fsync(fh.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):  # another process made it first
                os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
