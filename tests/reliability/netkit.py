"""What the reliability tests share: a network of real hubs (lienthong.devnet.network), small
distinct documents, paging through an inbox, waiting with a bound, printing counts."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from lienthong.devnet.network import HubPlan, standard_plans
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Edoc, Organization, PromulgationInfo

HUNG_BINH = "000.01.31.H41"  # commune of Nghệ An, system qlvb.hungbinh at hub h41
BAC_HA = "000.01.31.H42"  # commune of Hà Tĩnh, system qlvb.bacha at hub h42
GOVERNMENT_OFFICE = "000.00.00.G22"  # at the national hub, system qlvb.g22


def three_hubs() -> list[HubPlan]:
    """National + the two provincial hubs: the commune → commune path crosses all three."""
    return [p for p in standard_plans() if p.hub_id in {"vn", "h41", "h42"}]


def document(n: int, *, to: list[str], run: str = "") -> bytes:
    return build(
        Edoc(
            sender=Organization(organ_id=HUNG_BINH, organ_name="UBND phường Hưng Bình"),
            recipients=[Organization(organ_id=code) for code in to],
            code=DocumentCode(str(n), f"UBND{run}"),
            promulgation=PromulgationInfo("Vinh", "2026/11/27"),
            subject=f"Báo cáo số {n} về chuyển đổi số của phường",
        )
    )


def wait_until(
    what: str, done: Callable[[], bool], *, timeout: float, show: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not reached within {timeout:.0f} s ({show()})")
        time.sleep(0.25)


def report(capsys: Any, title: str, **counts: Any) -> None:
    """Counts for the CI log, printed past pytest's capture."""
    line = f"[reliability] {title}: " + ", ".join(f"{k}={v}" for k, v in counts.items())
    with capsys.disabled():
        print(f"\n{line}", flush=True)
