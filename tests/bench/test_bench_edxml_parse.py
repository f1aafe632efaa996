"""Smoke test of the parse benchmark: it runs, and prints every row. No timing assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "edxml_parse.py"
LABELS = (
    "small: bare lxml.etree.fromstring",
    "small: parse(bytes)",
    "large: bare lxml fromstring huge_tree",
    "large: parse(path) streaming",
    "peak RSS: bare lxml huge_tree",
    "peak RSS: parse(path) streaming",
)


@pytest.mark.slow
def test_bench_quick_runs_and_prints_every_row() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for label in LABELS:
        assert label in proc.stdout, f"missing row {label!r}:\n{proc.stdout}"
    assert "vs lxml" in proc.stdout
