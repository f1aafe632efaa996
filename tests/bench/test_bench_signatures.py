"""Smoke test of the signature benchmark: the test PKI is built, every micro measurement
and every hub phase (policies off / flag / require, a real hub in a child process) runs and
every row is printed. No timing assertions."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "signatures.py"
LABELS = (
    "PDF verify_pdf, RSA-2048 (person + org)",
    "bare: 2 x RSA-2048 verify + SHA-256",
    "PDF verify_pdf, ECDSA P-256 (person + org)",
    "bare: 2 x ECDSA P-256 verify + SHA-256",
    "package verify_package, RSA-SHA256",
    "bare: RSA-2048 verify + SHA-256",
    "package verify_package, ECDSA-SHA256",
    "bare: ECDSA P-256 verify + SHA-256",
    "check_certificate (path + CRLs), 1 leaf",
    "bare: 2 cert + 2 CRL sigs, ECDSA P-384",
    "PDF sign_person + sign_org, RSA-2048",
    "bare: 2 x RSA-2048 sign",
    "PDF sign_person + sign_org, ECDSA P-256",
    "bare: 2 x ECDSA P-256 sign",
    "package sign_package, RSA-SHA256",
    "bare: RSA-2048 sign",
    "package sign_package, ECDSA-SHA256",
    "bare: ECDSA P-256 sign",
    "hub POST /api/v1/packages, policy off, 1 client",
    "hub POST /api/v1/packages, policy off, 4 clients",
    "hub POST /api/v1/packages, policy flag, 1 client",
    "hub POST /api/v1/packages, policy flag, 4 clients",
    "hub POST /api/v1/packages, policy require, 1 client",
    "hub POST /api/v1/packages, policy require, 4 clients",
)


@pytest.mark.slow
def test_signature_bench_quick_runs_and_prints_every_row() -> None:
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for label in LABELS:
        assert label in proc.stdout, f"missing row {label!r}:\n{proc.stdout}"
    assert "× bare" in proc.stdout and "× off" in proc.stdout
    assert "pdf valid, package valid (checked)" in proc.stdout
    assert "HUB_SIGNATURE_REQUIRED" in proc.stdout
