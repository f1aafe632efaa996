"""Deadlines in working days: Monday to Friday, minus Vietnam's public holidays (the
``holidays`` package: Tết, Giỗ Tổ, 30/4, 1/5, Quốc khánh and their compensation days),
corrected by the administrator's overrides for announced day swaps."""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from lienthong.office.models import HolidayOverride


@lru_cache(maxsize=32)
def _public_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("VN", years=year).keys())


def overrides(session: Session) -> dict[date, bool]:
    rows = session.execute(select(HolidayOverride.day, HolidayOverride.working)).all()
    return {day: working for day, working in rows}


def is_working_day(day: date, overrides: dict[date, bool] | None = None) -> bool:
    if overrides and day in overrides:
        return overrides[day]
    return day.weekday() < 5 and day not in _public_holidays(day.year)


def add_working_days(start: date, days: int, overrides: dict[date, bool] | None = None) -> date:
    """The date ``days`` working days after ``start`` (``start`` itself not counted)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day, overrides):
            left -= 1
    return day


def set_override(session: Session, *, day: date, working: bool, note: str = "") -> None:
    row = session.get(HolidayOverride, day)
    if row is None:
        session.add(HolidayOverride(day=day, working=working, note=note))
    else:
        row.working, row.note = working, note
