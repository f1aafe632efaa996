"""The operators' admin API (``/api/admin/v1``): dead letters and the outbox.

An operator's own bearer key only (``lienthong operator add NAME``); a system's key is
refused (403 ``AUTH_OPERATOR_KEY_REQUIRED``). Metadata only, never a package: see
:mod:`lienthong.hub.deadletters`.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi import Path as FastApiPath

from lienthong.hub import deadletters
from lienthong.hub.http.deps import HubDep, OperatorCaller
from lienthong.protocol.admin import DeadLetterOut, DeadLettersOut, OutboxSummaryOut

router = APIRouter(prefix="/api/admin/v1", tags=["admin"])

_MAX_ID = 2**62
_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Thiếu hoặc sai khóa API / missing or wrong API key"},
    403: {"description": "Khóa của hệ thống, không phải người vận hành / a system's key"},
}
_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"description": "Không có thư chết này / no such dead letter"}
}
EntryId = Annotated[int, FastApiPath(ge=1, le=_MAX_ID, description="the dead letter's id")]


@router.get(
    "/deadletters",
    response_model=DeadLettersOut,
    responses=_ERRORS,
    summary="Thư chết / dead letters (relays and pushes given up), oldest first",
)
def list_dead_letters(
    hub: HubDep,
    _caller: OperatorCaller,
    target_type: Annotated[
        Literal["relay", "push", "report"] | None,
        Query(
            description="relay: to a peer hub; push: to a system's callback URL; report: "
            "failed deliveries reported back to the hub a package came from"
        ),
    ] = None,
    target_id: Annotated[
        str | None,
        Query(max_length=100, pattern=r"^[^\x00]+$", description="the peer hub or the system"),
    ] = None,
    after: Annotated[int, Query(ge=0, le=_MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> DeadLettersOut:
    return hub.read(
        deadletters.dead_letter_page,
        target_type=target_type,
        target_id=target_id,
        after=after,
        limit=limit,
    )


@router.get(
    "/deadletters/{entry_id}",
    response_model=DeadLetterOut,
    responses={**_ERRORS, **_NOT_FOUND},
    summary="Một thư chết / one dead letter (or one replayed since: see its state)",
)
def show_dead_letter(hub: HubDep, _caller: OperatorCaller, entry_id: EntryId) -> DeadLetterOut:
    return hub.read(deadletters.get_dead_letter, entry_id=entry_id)


@router.post(
    "/deadletters/{entry_id}/replay",
    response_model=DeadLetterOut,
    responses={
        **_ERRORS,
        **_NOT_FOUND,
        409: {"description": "không phải thư chết / not a dead letter (details.state)"},
    },
    summary="Gửi lại một thư chết / put a dead letter back in the queue",
)
def replay(hub: HubDep, operator: OperatorCaller, entry_id: EntryId) -> DeadLetterOut:
    out = hub.run(
        deadletters.replay_dead_letter, entry_id=entry_id, operator=operator.name, via="api"
    )
    hub.wake()
    return out


@router.get(
    "/outbox",
    response_model=OutboxSummaryOut,
    responses=_ERRORS,
    summary="Hàng đợi gửi đi / outbox summary: counts by state and target, oldest waiting",
)
def get_outbox(hub: HubDep, _caller: OperatorCaller) -> OutboxSummaryOut:
    return hub.read(deadletters.outbox_summary)
