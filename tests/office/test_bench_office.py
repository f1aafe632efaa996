"""Smoke test of bench/office.py: it runs on a small office and prints every row (no timing
assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "office.py"


@pytest.mark.slow
def test_bench_office_quick_runs_and_prints_every_row() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    for label in (
        "incoming.search",
        "bare SQL LIKE",
        "pages: my work (/)",
        "pages: one document",
        "pages: handling slip",
        "pages: baseline: /healthz",
    ):
        assert label in proc.stdout, label
