"""The hops a package took between hubs: ``X-Lienthong-Hops: h41@1795764601,vn@1795764602``
(hub id ``@`` the epoch second that hub accepted it, oldest first). Sent by a hub relaying to
a peer; a hub refuses a package that already passed through it (a routing loop)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

__all__ = ["HOPS_HEADER", "MAX_HOPS", "Hop", "format_hops", "hop_tokens", "parse_hops"]

HOPS_HEADER = "X-Lienthong-Hops"
MAX_HOPS = 16
_HOP = re.compile(r"([A-Za-z0-9._-]{1,64})(?:@(\d{1,12}))?")


@dataclass(frozen=True)
class Hop:
    """A hub a package passed through, and when that hub accepted it."""

    hub_id: str
    at: datetime | None = None

    @property
    def token(self) -> str:
        return f"{self.hub_id}@{int(self.at.timestamp())}" if self.at else self.hub_id


def parse_hops(value: str | None) -> list[Hop]:
    """``h41@1795764601,vn@1795764602`` → hops, oldest first (bad tokens are skipped:
    what is stored was checked on the way in)."""
    hops = []
    for token in (value or "").split(","):
        match = _HOP.fullmatch(token.strip())
        if match:
            at = datetime.fromtimestamp(int(match[2]), UTC) if match[2] else None
            hops.append(Hop(match[1], at))
    return hops


def hop_tokens(value: str | None) -> list[str] | None:
    """The tokens of a header value if it is well formed and not too long, else None."""
    tokens = [t.strip() for t in (value or "").split(",") if t.strip()]
    if len(tokens) > MAX_HOPS or not all(_HOP.fullmatch(t) for t in tokens):
        return None
    return tokens


def format_hops(hops: list[Hop]) -> str:
    return ",".join(h.token for h in hops)
