"""Federation: peer hubs, the routes to them, and the hop check of incoming relays.

A recipient served by this hub is delivered locally; otherwise it goes to the peer that
serves its level-1 code (``H41``, ``G12``), else to the default peer (``*``, normally the
parent hub). An identifier outside the standard form (``vxp.saas.03``) has no level-1 part:
it goes to the peer its directory entry names (``Agency.via_peer``), else to the default.
Relays are outbox entries (``relay:<peer>``, see :mod:`lienthong.hub.outbox`). The hops
travel in the ``X-Lienthong-Hops`` header (:mod:`lienthong.protocol.hops`) and a hub
refuses a package that already passed through it (``HUB_LOOP``).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.edxml.agency import level1_of
from lienthong.hub.errors import HubError
from lienthong.hub.models import Agency, Peer
from lienthong.hub.sealed import set_peer_key
from lienthong.protocol.hops import HOPS_HEADER, MAX_HOPS, hop_tokens, parse_hops


def add_peer(
    session: Session,
    *,
    peer_id: str,
    url: str,
    api_key: str,
    serves: list[str],
    role: str = "provincial",
) -> Peer:
    """Add or update a route to a peer hub. The national hub is the root: it has no default
    (``*``) peer above it."""
    codes = [c.strip().upper() if c.strip() != "*" else "*" for c in serves if c.strip()]
    if role == "national" and "*" in codes:
        raise HubError(
            "PEER_INVALID",
            "Trục quốc gia không có trục mặc định (*) ở trên",
            "The national hub has no default (*) peer above it",
            field="serves",
            status=422,
        )
    if not peer_id.strip() or not url.startswith(("http://", "https://")) or not codes:
        raise HubError(
            "PEER_INVALID",
            "Trục ngang hàng cần mã, URL http(s) và mã cấp 1 phục vụ",
            "A peer needs an id, an http(s) URL and the level-1 codes it serves",
            status=422,
        )
    peer = session.get(Peer, peer_id) or Peer(id=peer_id)
    peer.url, peer.serves, peer.active = url.rstrip("/"), ",".join(codes), True
    set_peer_key(session, peer, api_key)
    session.add(peer)
    return peer


def route_for(session: Session, code: str, *, via: str | None = None) -> Peer | None:
    """The peer that serves ``code``'s level-1 part, else the default (``*``) peer. A
    non-standard identifier has no level-1 part: the peer ``via`` (its directory entry's)
    when it is active, else the default."""
    if via is not None:
        named = session.get(Peer, via)
        if named is not None and named.active:
            return named
    level1 = level1_of(code)
    default = None
    for peer in session.scalars(select(Peer).where(Peer.active.is_(True)).order_by(Peer.id)):
        served = peer.serves.split(",")
        if level1 is not None and level1 in served:
            return peer
        if "*" in served and default is None:
            default = peer
    return default


def peer_at(session: Session, *, url: str) -> str | None:
    """The id of the peer hub at ``url`` (a directory feed's source), if there is one."""
    wanted = url.rstrip("/")
    for peer in session.scalars(select(Peer).order_by(Peer.id)):
        if peer.url.rstrip("/") == wanted:
            return peer.id
    return None


def peer_of_system(session: Session, system_id: str) -> Peer | None:
    """The peer route a peer system stands for: the peer ``<id>`` for the system
    ``hub.<id>`` (the naming of ``lienthong system add hub.<id> --peer``), or the peer of
    the same id as the system."""
    for peer_id in (system_id.removeprefix("hub."), system_id):
        peer = session.get(Peer, peer_id)
        if peer is not None and peer.active:
            return peer
    return None


def may_relay_as(session: Session, *, system_id: str, code: str) -> bool:
    """Whether the peer system ``system_id`` may send as ``code`` (a canonical code known
    to this hub's directory): only when this hub's route for that code is that peer — a
    default (``*``) peer thus only for codes no other peer serves."""
    mine = peer_of_system(session, system_id)
    agency = session.get(Agency, code)
    via = agency.via_peer if agency is not None and agency.nonstandard else None
    route = route_for(session, code, via=via)
    return mine is not None and route is not None and route.id == mine.id


def check_hops(value: str | None, hub_id: str) -> str:
    """The hop list of an incoming relay, checked: well formed, not too long, and not
    through this hub already (a routing loop)."""
    tokens = hop_tokens(value)
    if tokens is None:
        raise HubError(
            "HUB_HOPS_INVALID",
            f"Tiêu đề {HOPS_HEADER} không hợp lệ (tối đa {MAX_HOPS} trục, dạng ma-truc@giay)",
            f"Invalid {HOPS_HEADER} header (at most {MAX_HOPS} hubs, as hub-id@epoch-seconds)",
            field=HOPS_HEADER,
            status=422,
        )
    if hub_id in {hop.hub_id for hop in parse_hops(value)}:
        raise HubError(
            "HUB_LOOP",
            f"Gói tin đã đi qua trục {hub_id}: vòng lặp định tuyến",
            f"The package already passed through hub {hub_id}: routing loop",
            field=HOPS_HEADER,
            status=422,
        )
    return ",".join(tokens)
