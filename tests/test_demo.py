"""`make demo` runs the main job: a hub on the embedded default with sample traffic."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_demo_runs_a_hub_and_exchanges_documents(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "LIENTHONG_DEMO_DIR": str(tmp_path / "demo"),
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
    assert (tmp_path / "demo" / "hub.db").exists()
    verify = subprocess.run(
        [
            sys.executable,
            "-m",
            "lienthong",
            "audit",
            "verify",
            "--data-dir",
            str(tmp_path / "demo"),
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
