"""Deadlines in working days: weekends and Vietnam's public holidays skipped, with the
administrator's overrides for announced day swaps."""

from __future__ import annotations

from datetime import date

from lienthong.office import workdays
from lienthong.office.runtime import Office

from .officekit import Province


def test_weekends_and_tet_are_not_working_days() -> None:
    # Friday 13/02/2026 + 1 working day: the weekend, then Tết (16–20/02/2026) → 23/02
    assert workdays.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 23)
    # Thursday 30/04/2026 and Friday 01/05 are holidays: Wednesday 29/04 + 1 → Monday 04/05
    assert workdays.add_working_days(date(2026, 4, 29), 1) == date(2026, 5, 4)
    # an ordinary week
    assert workdays.add_working_days(date(2026, 10, 5), 5) == date(2026, 10, 12)
    # Ngày Văn hóa Việt Nam (24/11, a holiday from 2026) moves a deadline by one day
    assert workdays.add_working_days(date(2026, 11, 23), 5) == date(2026, 12, 1)
    assert not workdays.is_working_day(date(2026, 9, 2))  # Quốc khánh


def test_an_announced_swap_overrides_the_calendar(office: Office, province: Province) -> None:
    # the government swaps Saturday 09/05/2026 (worked) for Monday 04/05/2026 (off)
    office.run(
        lambda s: workdays.set_override(s, day=date(2026, 5, 4), working=False, note="nghỉ bù")
    )
    office.run(
        lambda s: workdays.set_override(s, day=date(2026, 5, 9), working=True, note="làm bù")
    )
    overrides = office.read(workdays.overrides)
    assert workdays.add_working_days(date(2026, 4, 29), 1, overrides) == date(2026, 5, 5)
    assert workdays.add_working_days(date(2026, 5, 8), 1, overrides) == date(2026, 5, 9)
