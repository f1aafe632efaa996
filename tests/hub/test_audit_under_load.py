"""The audit chain of a live hub: ``audit.verify`` while appends commit reports no
tampering, and a record slipped in past the head is still caught."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from lienthong.hub import audit
from lienthong.hub.models import AuditEvent, AuditHead
from lienthong.hub.runtime import Hub

H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
TIMEOUT = 120


# ------------------------------------------------------------------------------ audit


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_verify_while_appends_continue_reports_no_tampering(hub: Hub) -> None:
    def one(s: Any) -> None:
        audit.append(s, event=audit.Event.FETCHED, agency_code=H41)

    def many(s: Any) -> None:  # a longer chain: each verify reads for a while
        for _ in range(1500):
            one(s)

    hub.run(many)
    stop = threading.Event()
    appended = 0
    errors: list[BaseException] = []

    def writer() -> None:
        nonlocal appended
        try:
            while not stop.is_set():
                hub.run(one)
                appended += 1
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        results = []
        for _ in range(25):
            with hub.session() as s:
                results.append(audit.verify(s))
            results.append(hub.read(audit.verify))
    finally:
        stop.set()
        thread.join(TIMEOUT)
    assert not errors
    assert appended > 0, "the writer never appended while verifying"
    bad = [(r.reason, r.first_bad_seq) for r in results if not r.ok]
    assert bad == []
    assert all(r.records >= 1500 for r in results)
    with hub.session() as s:
        final = audit.verify(s)
    assert final.ok and final.records == 1500 + appended


def test_a_record_past_the_head_is_still_detected(hub: Hub) -> None:
    """Verify reads up to the head only; a record written behind append()'s back (the head
    left alone) must not go unnoticed for that."""
    for _ in range(3):
        hub.run(lambda s: audit.append(s, event=audit.Event.FETCHED, agency_code=H41))
    with hub.session() as s:
        head = s.get(AuditHead, 1)
        assert head is not None and head.seq == 3
        at = datetime.now(UTC)
        detail = '{"forged":true}'
        canonical = audit._canonical(4, at, audit.Event.REVOKED, None, H41, None, detail)
        s.add(
            AuditEvent(
                seq=4,
                at=at,
                event=audit.Event.REVOKED,
                message_id=None,
                agency_code=H41,
                system_id=None,
                detail=detail,
                prev_hash=head.hash,
                hash=audit.chain_hash(head.hash, canonical),
            )
        )
    with hub.session() as s:
        result = audit.verify(s)
    assert not result.ok
    assert result.first_bad_seq == 4
    assert result.reason == "records past the head"
