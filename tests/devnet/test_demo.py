"""`make demo` runs the main job: four hubs on one machine (national, ministry, two
provinces) on the embedded default, and traffic between a commune of each province and the
ministry that crosses the hubs both ways, its documents signed with a test PKI and verified
by every hub on the path."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

HUNG_BINH, MINISTRY, BAC_HA = "000.01.31.H41", "000.00.00.G12", "000.01.31.H42"
PROVINCE = "000.00.00.H41"  # a tenant of the e-office the demo starts beside the hubs
HUB_OF = {HUNG_BINH: "h41", MINISTRY: "g12", BAC_HA: "h42"}


def _rows(demo: Path, hub: str, sql: str) -> list[tuple[Any, ...]]:
    """Rows of a hub's database; hop lists (``h41@<accepted>,vn@<accepted>``) without
    their times."""
    with sqlite3.connect(demo / hub / "hub.db") as db:
        rows = db.execute(sql).fetchall()
    return [
        tuple(re.sub(r"@\d+", "", v) if isinstance(v, str) and "@" in v else v for v in row)
        for row in rows
    ]


def _lienthong(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "lienthong", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_demo_runs_a_network_of_hubs_and_exchanges_across_them(tmp_path: Path) -> None:
    demo = tmp_path / "demo"
    env = {
        **os.environ,
        "LIENTHONG_DEMO_DIR": str(demo),
        "LIENTHONG_DEMO_ROUNDS": "2",
        "LIENTHONG_DEMO_INTERVAL": "0",
        "LIENTHONG_PORT": "0",
        "COLUMNS": "250",
    }
    done = subprocess.run(
        [sys.executable, "-m", "lienthong.devnet.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "Đã gửi / sent 6, đã nhận / received 12" in out, out

    # the province's shared e-office runs beside the hubs, one connected system of h41: the
    # ministry's document to the provincial People's Committee arrived there each round and
    # its 01 came back through the hubs to the ministry
    assert re.search(r"the province's shared e-office: http://127\.0\.0\.1:\d+", out), out
    assert "vanthu" in out and "lanhdao" in out and "chuyenvien" in out
    assert "gửi tới / sent 2, đã nhận và báo 01 / taken and answered 01: 2" in out, out
    with sqlite3.connect(demo / "office" / "office.db") as db:
        arrived = db.execute(
            "SELECT count(*) FROM office_documents WHERE agency_code = ?", (PROVINCE,)
        ).fetchone()[0]
    assert arrived == 2
    ones = _rows(
        demo,
        "g12",
        "SELECT s.status_code FROM message s JOIN message m ON s.refers_to = m.id "
        f"WHERE s.kind = 'status' AND s.sender_code = '{PROVINCE}' "
        f"AND m.sender_code = '{MINISTRY}'",
    )
    assert ones == [("01",), ("01",)], ones

    # every party's documents reached the two others at their own hubs, relayed through the
    # national hub (the hops the last hub recorded), and were acknowledged there
    for party, hub in HUB_OF.items():
        received = _rows(
            demo,
            hub,
            "SELECT m.sender_code, m.hops, d.state FROM message m "
            f"JOIN delivery d ON d.message_id = m.id WHERE m.kind = 'edoc' "
            f"AND d.recipient_code = '{party}'",
        )
        expected = {
            (sender, f"{HUB_OF[sender]},vn", "acknowledged") for sender in HUB_OF if sender != party
        }
        assert set(received) == expected and len(received) == 4, (hub, received)
    assert "h41 → vn → g12" in out and "h41 → vn → h42" in out and "g12 → vn → h41" in out

    # the statuses came back across the hubs to the sender's hub, attached to its documents
    for party, hub in HUB_OF.items():
        back = _rows(
            demo,
            hub,
            "SELECT s.sender_code, s.status_code, s.hops FROM message s "
            "JOIN message m ON s.refers_to = m.id "
            f"WHERE s.kind = 'status' AND m.kind = 'edoc' AND m.sender_code = '{party}' "
            f"AND s.sender_code != '{PROVINCE}'",
        )
        expected_back = {
            (other, code, f"{HUB_OF[other]},vn")
            for other in HUB_OF
            if other != party
            for code in ("01", "03")
        }
        assert set(back) == expected_back and len(back) == 8, (hub, back)
        business = _rows(
            demo,
            hub,
            "SELECT d.business_status FROM delivery d JOIN message m ON d.message_id = m.id "
            f"WHERE m.kind = 'edoc' AND m.sender_code = '{party}' "
            f"AND d.recipient_code != '{PROVINCE}'",
        )
        assert business == [("03",)] * 4, (hub, business)
    assert "về tới nơi gửi / back at the senders 24" in out

    # the PKI at work: a test CA, its trust, and the same verdict at every hub of the path
    # (relays carry the sender's bytes unchanged)
    assert (demo / "ca" / "index.json").is_file()
    assert (demo / "trust" / "root.pem").is_file()
    verdicts: dict[str, set[tuple[str, str]]] = {}
    for hub in ("vn", *HUB_OF.values()):
        for document_id, pdf, package in _rows(
            demo,
            hub,
            "SELECT document_id, pdf_signature, package_signature FROM message WHERE kind = 'edoc'",
        ):
            verdicts.setdefault(document_id, set()).add((pdf, package))
    assert len(verdicts) == 8  # 6 between the parties, 2 to the e-office
    assert all(len(seen) == 1 for seen in verdicts.values()), verdicts
    assert {("valid", "valid"), ("valid", "unknown"), ("unknown", "unknown")} <= {
        seen.pop() for seen in verdicts.values()
    }
    assert "PDF: valid" in out
    hint = f"lienthong verify pdf {demo / 'signed-sample.pdf'} --trust {demo / 'trust'}"
    assert hint in out
    by_hand = _lienthong(
        env, "verify", "pdf", str(demo / "signed-sample.pdf"), "--trust", str(demo / "trust")
    )
    assert by_hand.returncode == 0, by_hand.stdout + by_hand.stderr

    # the commands printed to watch it are real ones: a real key, the hubs' data dirs
    keys = json.loads((demo / "network.json").read_text(encoding="utf-8"))
    assert f"--api-key {keys['qlvb.bacha']['api_key']}" in out
    assert f"--api-key {keys['qlvb.hungbinh']['api_key']}" in out
    assert f"lienthong deadletter list --data-dir {demo / 'vn'}" in out
    assert f"lienthong audit verify --data-dir {demo / 'h41'}" in out
    dead = _lienthong(env, "deadletter", "list", "--data-dir", str(demo / "vn"), "--json")
    assert dead.returncode == 0 and json.loads(dead.stdout) == [], dead.stdout + dead.stderr
    for hub in ("vn", *HUB_OF.values()):
        audit = _lienthong(env, "audit", "verify", "--data-dir", str(demo / hub), "--json")
        assert audit.returncode == 0, audit.stdout + audit.stderr
        assert '"ok": true' in audit.stdout
