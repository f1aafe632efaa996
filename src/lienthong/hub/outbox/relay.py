"""Sending from the outbox: relays to peer hubs, pushes to agency systems' callbacks, and
reports of failed deliveries back to the hub a relayed package came from.

One round is claim (with a lease, in a short transaction) → post (outside any transaction,
several at once, over kept-alive connections) → settle (one short transaction per entry).

A target — a peer hub or a system's callback, i.e. an outbox action — that fails
transiently (unreachable, 5xx, 429, refused credentials) is *open*: its entries are not
claimed until the target's own backoff (at most :data:`PROBE_CAP`) has passed; then one
entry probes it. A success
closes it and brings its queue forward, so a peer coming back after an outage gets its
backlog at once, while during the outage it receives one request per backoff interval
however long the queue is (no retry storm). The state is per process: with several
processes, each probes on its own. A permanent refusal of one package (a 4xx about that
package) says the target is alive: it does not open it.

A claim whose turn comes after half its lease (a slow or overloaded machine: more claims
than posts in flight, each slow) is not posted but given back: past its lease another
process may take it over, and both would post it.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import httpx
from sqlalchemy.orm import Session

from lienthong.core.blobstore import BlobStore
from lienthong.hub.metrics import Metrics
from lienthong.hub.outbox import queue, reports
from lienthong.hub.outbox.queue import Claim, Outcome, Target
from lienthong.hub.settings import Settings
from lienthong.hub.trace import with_trace
from lienthong.protocol.hops import HOPS_HEADER, Hop, format_hops, parse_hops
from lienthong.protocol.push import push_headers

log = logging.getLogger("lienthong.hub.relay")

#: the longest a failing target goes without a probe (a replayed dead letter waits at most this)
PROBE_CAP = timedelta(seconds=60)
_LABEL = re.compile(r"[A-Z][A-Z0-9_]{0,47}")
#: what a connection closed by the server while idle in the pool raises on reuse
_STALE_CONNECTION = (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)
#: refusals about us or the moment, not about the package: retried
_TRANSIENT_4XX = frozenset({401, 403, 408, 409, 425, 429})


class Breaker:
    """Which targets are failing, and until when not to try them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._failing: dict[str, tuple[int, float]] = {}  # action → (failures, retry at)

    def blocked(self) -> list[str]:
        now = self._clock()
        with self._lock:
            return sorted(a for a, (_, at) in self._failing.items() if at > now)

    def failing(self, action: str) -> bool:
        with self._lock:
            return action in self._failing

    def is_open(self, action: str) -> bool:
        with self._lock:
            state = self._failing.get(action)
        return state is not None and state[1] > self._clock()

    def record(self, action: str, outcome: Outcome) -> None:
        with self._lock:
            if outcome.ok or outcome.permanent:
                self._failing.pop(action, None)
                return
            failures, until = self._failing.get(action, (0, 0.0))
            if until > self._clock():
                return  # a sibling of the same round already counted this failure
            failures += 1
            wait = min(queue.backoff(failures), PROBE_CAP).total_seconds()
            self._failing[action] = (failures, self._clock() + wait)

    def clear(self, action: str) -> bool:
        """Forget that ``action`` was failing; returns whether it was."""
        with self._lock:
            return self._failing.pop(action, None) is not None

    def reset(self) -> None:
        with self._lock:
            self._failing.clear()


T = TypeVar("T")


class RelayHost(Protocol):
    """What the relayer needs of its hub (:class:`lienthong.hub.runtime.Hub`)."""

    settings: Settings
    blobs: BlobStore

    @property
    def metrics(self) -> Metrics: ...

    def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    def read(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T: ...

    def wake(self) -> None: ...


class Relayer:
    """The sending side of one hub process."""

    def __init__(self, hub: RelayHost, *, concurrency: int = 8) -> None:
        self.hub = hub
        self.breaker = Breaker()
        self.concurrency = concurrency
        self._pool: ThreadPoolExecutor | None = None
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def _http(self) -> tuple[ThreadPoolExecutor, httpx.Client]:
        with self._lock:
            if self._client is None or self._pool is None:
                self._client = httpx.Client(
                    headers={"User-Agent": f"lienthong/{self.hub.settings.hub_id} ({os.getpid()})"},
                    timeout=httpx.Timeout(30, connect=5),
                    limits=httpx.Limits(
                        max_connections=4 * self.concurrency,
                        max_keepalive_connections=2 * self.concurrency,
                        # well under the servers' idle timeouts (uvicorn's: 5 s), so that we
                        # rarely reuse a connection the other side is closing
                        keepalive_expiry=2.0,
                    ),
                )
                self._pool = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix="lienthong-relay"
                )
            return self._pool, self._client

    def close(self) -> None:
        with self._lock:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
            if self._client is not None:
                self._client.close()
            self._pool = self._client = None

    def peer_alive(self, peer_id: str) -> None:
        """The peer just relayed to us, so it is up: if we were waiting to probe it, its
        queue goes now instead of after the rest of its backoff."""
        action = str(queue.Action.relay(peer_id))
        if self.breaker.clear(action):
            self.hub.run(queue.bring_forward, action=action)
            self.hub.wake()

    def run_once(self) -> int:
        """One round; returns how many attempts were made."""
        blocked = self.breaker.blocked()
        lease = timedelta(seconds=self.hub.settings.relay_lease_seconds)
        owner = self.hub.settings.effective_instance_id
        claims = self.hub.run(
            queue.claim,
            limit=4 * self.concurrency,
            exclude=blocked,
            lease=lease,
            owner=owner,
        )
        if not claims:
            return 0
        probing: set[str] = set()
        attempts: list[Claim] = []
        held: list[Claim] = []
        for c in claims:
            if self.breaker.failing(c.action):  # its wait is over: one entry probes it
                if c.action in probing:
                    held.append(c)
                    continue
                probing.add(c.action)
            attempts.append(c)
        pool, client = self._http()
        futures = {pool.submit(self._attempt, client, c, lease / 2): c for c in attempts}
        made = 0
        for future in as_completed(futures):
            c = futures[future]
            outcome = future.result()
            if outcome is None:  # a sibling found the target failing first, or it grew old
                held.append(c)
                continue
            made += 1

            def settle(s: Session, c: Claim = c, o: Outcome = outcome) -> str:
                return queue.settle(
                    s,
                    entry_id=c.entry_id,
                    outcome=o,
                    drain=c.action in probing,
                    claimed_at=c.claimed_at,
                )

            if self.hub.run(settle) == queue.State.DEAD:
                self._given_up(c, outcome)
        if held:
            self.hub.run(queue.release, entry_ids=[c.entry_id for c in held], owner=owner)
        self.hub.metrics.inc("lienthong_relay_attempts_total", made)
        return made

    def _attempt(self, client: httpx.Client, c: Claim, fresh_for: timedelta) -> Outcome | None:
        if self.breaker.is_open(c.action):
            return None
        if c.claimed_at is not None and datetime.now(UTC) - c.claimed_at > fresh_for:
            self.hub.metrics.inc("lienthong_relay_claims_given_back_total")
            return None  # its lease is running out: given back, not posted late
        outcome = self._post(client, c)
        self.breaker.record(c.action, outcome)
        if not outcome.ok:
            code = outcome.code if _LABEL.fullmatch(outcome.code) else "OTHER"  # peer-chosen
            self.hub.metrics.inc(f'lienthong_relay_failures_total{{code="{code}"}}')
            # a refusal of this package is for good (an operator must look): a warning; a
            # peer that does not answer is retried: information
            (log.warning if outcome.permanent else log.info)(
                "relay.refused" if outcome.permanent else "relay.failed",
                extra={
                    "target": c.action,
                    "message_id": c.message_id,
                    "code": outcome.code,
                    "detail": outcome.detail,
                },
            )
        return outcome

    def _given_up(self, c: Claim, outcome: Outcome) -> None:
        code = outcome.code if _LABEL.fullmatch(outcome.code) else "OTHER"
        self.hub.metrics.inc(f'lienthong_relay_dead_total{{code="{code}"}}')
        log.warning(
            "relay.dead_letter",
            extra={
                "target": c.action,
                "message_id": c.message_id,
                "code": outcome.code,
                "detail": outcome.detail,
            },
        )

    def _post(self, client: httpx.Client, c: Claim) -> Outcome:
        """One attempt: a relay to a peer hub's REST API (the package streamed), a report
        to it, or a push to a system's callback (signed ``X-Lienthong-Signature: hex
        HMAC-SHA256(system secret, body)``). A connection the target closed while it was
        idle in our pool (its keep-alive ran out as we reused it: a race that a busy machine
        makes likely) is not the target failing: the request goes once more at once (the
        pool drops the broken connection; a repeat is harmless: relays are deduplicated,
        reports idempotent, pushes carry their message id)."""
        try:
            return self._send(client, c)
        except _STALE_CONNECTION:
            pass
        try:
            return self._send(client, c)
        except (httpx.HTTPError, OSError) as exc:
            return Outcome(ok=False, code="HUB_RELAY_UNREACHABLE", detail=type(exc).__name__)

    def _send(self, client: httpx.Client, c: Claim) -> Outcome:
        """One request (its transport errors raised to :meth:`_post`)."""
        hops = [*parse_hops(c.hops), Hop(self.hub.settings.hub_id, c.accepted_at)]
        try:
            if c.target is Target.RELAY:
                headers = {
                    "Authorization": f"Bearer {c.secret}",
                    HOPS_HEADER: format_hops(hops),
                    "Content-Type": "application/xml",
                }
                with self.hub.blobs.open(c.payload_key) as fh:  # streamed, not read whole
                    response = client.post(
                        c.url,
                        params={"kind": c.kind},
                        content=iter(lambda: fh.read(1 << 20), b""),
                        headers=headers,
                    )
            elif c.target is Target.REPORT:
                body = self.hub.read(
                    reports.report_body, message_id=c.message_id, hub_id=self.hub.settings.hub_id
                )
                response = client.post(
                    c.url,
                    content=body,
                    headers={
                        "Authorization": f"Bearer {c.secret}",
                        "Content-Type": "application/json",
                    },
                )
            else:
                with self.hub.blobs.open(c.payload_key) as fh:  # as a fetch gives it:
                    data = with_trace(
                        fh, 0, c.trace_prefix, hops
                    ).read()  # the signature covers it all
                headers = push_headers(
                    secret=c.secret, body=data, kind=c.kind, message_id=c.message_id
                )
                response = client.post(c.url, content=data, headers=headers)
        except _STALE_CONNECTION:
            raise
        except (httpx.HTTPError, OSError) as exc:
            return Outcome(ok=False, code="HUB_RELAY_UNREACHABLE", detail=type(exc).__name__)
        if 200 <= response.status_code < 300:
            return Outcome(ok=True)
        try:
            code = str(response.json()["error"]["code"])
        except (ValueError, KeyError, TypeError):
            code = f"HTTP_{response.status_code}"
        permanent = 400 <= response.status_code < 500 and response.status_code not in _TRANSIENT_4XX
        return Outcome(
            ok=False, permanent=permanent, code=code, detail=f"HTTP {response.status_code}"
        )
