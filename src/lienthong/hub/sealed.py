"""The secrets the hub must keep usable — each system's HMAC secret (to verify its signed
requests and sign its pushes) and each peer's API key (to relay to it) — are stored sealed
with the hub's key ring (:mod:`lienthong.core.sealing`), kept outside the database:
``LIENTHONG_SECRET_KEYS`` or the key file ``LIENTHONG_SECRET_KEY_FILE`` (default
``<data dir>/secret.key``, created 0600 on first start).

Every unit of work carries the ring (``session.info``, set by
:class:`lienthong.hub.runtime.Database`). Rows written before sealing, or sealed with an
older key, are sealed again with the current key at start (:func:`reseal_all`) and by
``lienthong hub rotate-key``.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.core.sealing import Keyring, SealingError
from lienthong.hub.errors import HubError
from lienthong.hub.models import Peer, System

KEYRING = "lienthong.keyring"


def keyring(session: Session) -> Keyring:
    ring = session.info.get(KEYRING)
    if not isinstance(ring, Keyring):
        raise RuntimeError("a hub session carries its key ring (Database sets it)")
    return ring


def _system_aad(system_id: str) -> str:
    return f"system:{system_id}"


def _peer_aad(peer_id: str) -> str:
    return f"peer:{peer_id}"


def set_system_secret(session: Session, system: System, secret: str) -> None:
    system.secret = keyring(session).seal(secret, aad=_system_aad(system.id))


def system_secret(session: Session, system: System) -> str:
    return _open(session, system.secret, _system_aad(system.id))


def set_peer_key(session: Session, peer: Peer, api_key: str) -> None:
    peer.api_key = keyring(session).seal(api_key, aad=_peer_aad(peer.id))


def peer_key(session: Session, peer: Peer) -> str:
    return _open(session, peer.api_key, _peer_aad(peer.id))


def _open(session: Session, stored: str, aad: str) -> str:
    try:
        return keyring(session).open(stored, aad=aad)
    except SealingError as exc:
        raise HubError(
            "HUB_SECRET_KEY_MISSING",
            "Không mở được khóa bí mật đã lưu: khóa niêm phong của trục không đúng "
            "(mọi tiến trình của một trục phải dùng cùng LIENTHONG_SECRET_KEYS hoặc tệp khóa)",
            f"A stored secret does not open: {exc} (every process of one hub needs the same "
            "LIENTHONG_SECRET_KEYS or key file)",
            status=500,
        ) from None


def reseal_all(session: Session) -> int:
    """Seal with the current key every secret stored in clear or under an older key;
    the number of values sealed again."""
    ring = keyring(session)
    count = 0
    for system in session.scalars(select(System)):
        if ring.needs_sealing(system.secret):
            set_system_secret(session, system, system_secret(session, system))
            count += 1
    for peer in session.scalars(select(Peer)):
        if ring.needs_sealing(peer.api_key):
            set_peer_key(session, peer, peer_key(session, peer))
            count += 1
    return count
