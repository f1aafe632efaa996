"""Shapes of the admin API (``/api/admin/v1``): dead letters and the outbox, as the hub
answers them and an operator's client reads them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class TargetOut(BaseModel):
    type: str = Field(description="relay (to a peer hub), push (to a system), dispatch")
    id: str | None = Field(description="the peer hub or the system (null for dispatch)")


class ReasonOut(BaseModel):
    code: str = Field(description="stable code of the last failure, e.g. HUB_RELAY_EXPIRED")
    detail: str = Field(description="what the target answered (e.g. HTTP 422), free text")


class DeadLetterRecipientOut(BaseModel):
    agency: str
    state: str
    failure_code: str | None
    peer: str | None = Field(description="the peer hub the recipient is reached through")


class DeadLetterOut(BaseModel):
    id: int = Field(description="the outbox entry")
    state: str = Field(description="dead; pending or inflight once replayed; done when sent")
    target: TargetOut
    attempts: int
    reason: ReasonOut | None = Field(description="null once replayed")
    created_at: datetime | None = Field(
        description="queued (or replayed) at; the 48 h lifetime counts from here"
    )
    updated_at: datetime | None = Field(
        description="last change: for a dead letter, when it was given up"
    )
    next_at: datetime = Field(description="when the next attempt is due (pending only)")
    message_id: str
    kind: str = Field(description="edoc or status")
    sender: str = Field(description="the sending agency")
    sender_system: str = Field(description="the system (or peer hub) that sent it here")
    size: int
    accepted_at: datetime
    recipients: list[DeadLetterRecipientOut]


class DeadLettersOut(BaseModel):
    items: list[DeadLetterOut]
    next_after: int | None = Field(description="cursor for the next page (null: no more)")


class OutboxCountOut(BaseModel):
    target: TargetOut
    state: str
    count: int


class OldestOut(BaseModel):
    id: int
    target: TargetOut
    message_id: str
    created_at: datetime
    age_seconds: float


class OutboxSummaryOut(BaseModel):
    by_state: dict[str, int] = Field(description="pending, inflight, done, dead (and any other)")
    by_target: list[OutboxCountOut]
    oldest_pending: OldestOut | None = Field(
        description="the oldest entry still waiting (pending or in flight); null: none"
    )
