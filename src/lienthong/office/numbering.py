"""Arrival numbers: sequential per register per year, through a locked counter row.

Never ``MAX()+1``. The counter row is created if missing (an insert that ignores a
conflict), then read ``FOR UPDATE`` — on PostgreSQL a row lock that queues concurrent
registrations; on SQLite every write transaction starts with ``BEGIN IMMEDIATE``
(:mod:`lienthong.core.db`), which serialises them. The increment commits with the document
it numbers, so a number is either used or was never given; a registered document is never
deleted, so no number is ever reused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from lienthong.office.models import Counter


def next_number(session: Session, *, register_id: int, year: int) -> int:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(Counter)
        .values(register_id=register_id, year=year, last_number=0)
        .on_conflict_do_nothing(index_elements=["register_id", "year"])
    )
    counter = session.scalars(
        select(Counter)
        .where(Counter.register_id == register_id, Counter.year == year)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    counter.last_number += 1
    session.flush()
    return counter.last_number


def last_number(session: Session, *, register_id: int, year: int) -> int:
    counter = session.get(Counter, (register_id, year))
    return counter.last_number if counter else 0
