"""Smoke test of the federation benchmark: three hub processes start, every document of both
paths (1 hub and 3 hubs) arrives exactly once by push with a valid signature, and every
figure is printed and positive. No timing assertions."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "federation.py"
ONE = "Hưng Bình → h41 → Lê Lợi"
THREE = "Hưng Bình → h41 → vn → h42 → Bắc Hà"
NUMBER = r"([\d,]+(?:\.\d+)?)"


def figures(stdout: str, label: str) -> list[float]:
    """The numbers printed after ``label`` on its row: n, senders, [docs/s,] p50, p99, max."""
    for line in stdout.splitlines():
        if line.startswith(label):
            cells = re.findall(rf"(?<!\S){NUMBER}(?!\S)", line[len(label) :])
            return [float(c.replace(",", "")) for c in cells]
    raise AssertionError(f"missing row {label!r}:\n{stdout}")


@pytest.mark.slow
def test_federation_bench_quick_delivers_everything_once() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    out = proc.stdout
    assert proc.returncode == 0, out + proc.stderr
    assert "PROBLEMS" not in out

    for label in ("per post: a new httpx client each time", "per post: one kept-alive"):
        n, senders, p50, p99, top = figures(out, label)[:5]
        assert n > 0 and senders == 1 and 0 < p50 <= p99 <= top
    for name, way in (("1 hub", ONE), ("3 hubs", THREE)):
        n, senders, p50, p99, top = figures(out, f"latency, {name}: {way}")[:5]
        assert n > 0 and senders == 1 and 0 < p50 <= p99 <= top
        n, senders, docs_s, p50, p99, top = figures(out, f"throughput, {name}: {way}")[:6]
        assert n > 0 and senders >= 2 and docs_s > 0 and 0 < p50 <= p99 <= top

    # every document of each path (warm-up, latency and throughput) exactly once, where due,
    # naming the hubs it passed in its TraceHeaders, the sender's bytes intact
    checks = re.findall(
        r"delivery check, (1 hub|3 hubs): (\d+) of (\d+) documents arrived exactly once "
        r"at (\S+); (\d+) at a wrong system; (\d+) with TraceHeaders ([^;]+); "
        r"(\d+) with the sender's bytes intact",
        out,
    )
    assert {c[0] for c in checks} == {"1 hub", "3 hubs"}, out
    for name, once, total, system, wrong, traced, hops, intact in checks:
        assert int(total) > 0 and once == total == traced == intact and wrong == "0", out
        assert (system, hops) == (
            ("qlvb.leloi", "h41") if name == "1 hub" else ("qlvb.bacha", "h41 → vn → h42")
        )
    pushes = re.search(
        r"pushes: (\d+) with a valid signature .*?, (\d+) refused; (\d+) unknown", out
    )
    assert pushes is not None, out
    assert int(pushes[1]) == sum(int(c[2]) for c in checks)
    assert pushes[2] == "0" and pushes[3] == "0"

    assert re.search(r"goal: p50 < 100 ms across three hubs — (MET|MISSED) \(p50 [\d.]+ ms", out)
    for step in ("(h41 intake)", "vn intake)", "h42 intake)", "(h42 dispatcher)", "push POST)"):
        assert step in out, f"missing step {step!r}:\n{out}"
    assert "hub exit codes: vn 0, h41 0, h42 0" in out, out
