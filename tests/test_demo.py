"""`make demo` runs the main job: a hub on the embedded default with sample traffic, its
documents signed with a test PKI and verified by the hub."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path


def test_demo_runs_a_hub_and_exchanges_documents(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    env = {
        **os.environ,
        "LIENTHONG_DEMO_DIR": str(demo),
        "LIENTHONG_DEMO_ROUNDS": "2",
        "LIENTHONG_DEMO_INTERVAL": "0",
        "LIENTHONG_PORT": "0",
        "COLUMNS": "200",
    }
    done = subprocess.run(
        [sys.executable, "-m", "lienthong.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Đã gửi / sent 2" in done.stdout
    assert (demo / "hub.db").exists()
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "lienthong",
            "audit",
            "verify",
            "--data-dir",
            str(demo),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert '"ok": true' in verify.stdout

    # the PKI at work: a test CA, its trust, and the hub's verdicts read from the timeline
    assert (demo / "ca" / "index.json").is_file()
    assert (demo / "trust" / "root.pem").is_file()
    assert "PDF: valid" in done.stdout, done.stdout
    with sqlite3.connect(demo / "hub.db") as db:
        verdicts = db.execute(
            "SELECT pdf_signature, package_signature FROM message WHERE kind = 'edoc'"
        ).fetchall()
    assert ("valid", "valid") in verdicts, verdicts
    hint = f"lienthong verify pdf {demo / 'signed-sample.pdf'} --trust {demo / 'trust'}"
    assert hint in done.stdout
    by_hand = subprocess.run(
        [
            sys.executable,
            "-m",
            "lienthong",
            "verify",
            "pdf",
            str(demo / "signed-sample.pdf"),
            "--trust",
            str(demo / "trust"),
            "--json",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr
