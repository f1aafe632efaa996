"""Smoke test of the hub intake benchmark: a real hub starts, every phase runs and every
row is printed. No timing assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "hub_intake.py"
LABELS = (
    "baseline: HTTP floor GET /healthz",
    "baseline: raw SQLite durable commit (20 KB row)",
    "REST POST /api/v1/packages",
    "VDXP POST /sendEdoc (VdxpClient, HMAC)",
    "receive: REST GET message + POST ack",
    "receive: VDXP getEdoc + updateStatus",
    "accept → available, idle hub",
    "accept → available, under load",
    "same, server side (audit log), idle",
    "same, server side (audit log), load",
)


@pytest.mark.slow
def test_hub_bench_quick_runs_and_prints_every_row() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for label in LABELS:
        assert label in proc.stdout, f"missing row {label!r}:\n{proc.stdout}"
    assert "hub process RSS" in proc.stdout
    assert "errors 0" in proc.stdout
