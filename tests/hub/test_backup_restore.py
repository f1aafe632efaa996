"""The backup-and-restore drill of the operator guide: a hub (its own process, settings from
one ``LIENTHONG_CONFIG`` file) is backed up while documents flow into it, the backup is
restored into a new folder, the audit chain there is intact and nothing accepted before the
backup started is missing (message and payload). A second backup into the same folder copies
only new payloads; a restore never overwrites a hub."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.client.rest import HubClient, HubClientError
from lienthong.core.blobstore import LocalBlobStore
from lienthong.devnet.network import free_port, wait_ready
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode
from lienthong.hub import directory, sealed
from lienthong.hub.models import Message, System
from lienthong.hub.runtime import Database, Hub
from lienthong.hub.settings import Settings
from support import new_edoc

SENDER = "000.00.12.H41"
RECIPIENT = "000.00.00.G22"
BEFORE = 20  # documents accepted before the backup starts
AFTER = 10  # and after it ended, while the hub keeps taking them
MAX_DOCUMENTS = 2000  # a bound, never reached: the test stops the sender


def cli(*args: str | Path) -> Result:
    env = {k: None for k in os.environ if k.startswith("LIENTHONG_")}
    return CliRunner().invoke(app, [str(a) for a in args], env=env)


def test_backup_while_documents_flow_then_restore_into_a_new_folder(tmp_path: Path) -> None:
    data = tmp_path / "hub"
    key = _provision(data)
    port = free_port()
    config = tmp_path / "hub.toml"
    config.write_text(f'data_dir = "{data}"\nhub_id = "h41"\nport = {port}\n', encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIENTHONG_")}
    env["LIENTHONG_CONFIG"] = str(config)
    log = tmp_path / "hub.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "lienthong", "hub", "serve"], env=env, stdout=out, stderr=out
        )
    url = f"http://127.0.0.1:{port}"
    accepted: list[tuple[str, float]] = []  # (message id, when its 201 arrived)
    failures: list[BaseException] = []
    stop = threading.Event()

    def send_until_stopped() -> None:  # documents keep flowing until the test says stop
        try:
            with HubClient(url, key) as client:
                for n in range(MAX_DOCUMENTS):
                    if stop.is_set():
                        return
                    package = build(new_edoc(code=DocumentCode(str(1000 + n), "STTTT-VP")))
                    result = client.send(package)
                    accepted.append((result["message_id"], time.monotonic()))
        except (HubClientError, OSError) as exc:  # pragma: no cover - reported below
            failures.append(exc)

    try:
        wait_ready(url, proc=proc)
        sender = threading.Thread(target=send_until_stopped)
        sender.start()
        while len(accepted) < BEFORE and sender.is_alive():
            time.sleep(0.01)
        started = time.monotonic()
        backup_dir = tmp_path / "backup"
        backed = cli("hub", "backup", backup_dir, "--data-dir", data, "--json")
        ended = time.monotonic()
        while len([at for _, at in accepted if at > ended]) < AFTER and sender.is_alive():
            time.sleep(0.01)  # a few more documents after the backup, then stop
        still_flowing = sender.is_alive()
        stop.set()
        sender.join(timeout=120)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    assert not failures, failures
    assert still_flowing, "documents were sent during and after the backup"
    assert backed.exit_code == 0, backed.output
    report = json.loads(backed.stdout)
    assert report["ok"] is True and report["missing_payloads"] == []
    before = {mid for mid, at in accepted if at < started}
    after = {mid for mid, at in accepted if at > ended}
    total = len(accepted)
    assert len(before) >= BEFORE and len(after) >= AFTER
    assert len(before) <= report["messages"] <= total - len(after)
    # uvicorn re-raises SIGTERM after its graceful shutdown (systemd counts it as clean)
    assert proc.returncode in (0, -signal.SIGTERM)
    assert b'"hub.stopped"' in log.read_bytes()  # a clean, logged shutdown

    # the sealing key is not in the backup (kept apart): a restore without it is refused
    assert not (backup_dir / "secret.key").exists()
    assert report["secret_key_file"] == str((data / "secret.key").resolve())
    restored = tmp_path / "restored"
    refused = cli("hub", "restore", backup_dir, "--data-dir", restored, "--json")
    assert refused.exit_code == 2
    assert json.loads(refused.stdout)["error"]["code"] == "HUB_SECRET_KEY_MISSING"
    assert not (restored / "hub.db").exists()
    restored.mkdir(mode=0o700)
    shutil.copy2(data / "secret.key", restored / "secret.key")  # from its own safe place
    done = cli("hub", "restore", backup_dir, "--data-dir", restored, "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    assert result["ok"] is True and result["audit_ok"] is True
    assert result["payloads_missing"] == []
    assert cli("audit", "verify", "--data-dir", restored).exit_code == 0

    database = Database.existing(Settings(data_dir=restored))
    try:
        rows = {m.id: m.payload_key for m in database.read(_messages)}
        # the systems' sealed secrets open with the restored key
        assert database.read(_system_secret, system_id="sys.stttt")
    finally:
        database.close()
    assert before <= set(rows), "a document accepted before the backup is missing"
    blobs = LocalBlobStore(restored / "blobs")
    for mid in before:
        with blobs.open(rows[mid]) as fh:
            assert hashlib.sha256(fh.read()).hexdigest() == rows[mid]

    # the next backup into the same folder copies only what is new
    again = cli("hub", "backup", backup_dir, "--data-dir", data, "--json")
    assert again.exit_code == 0, again.output
    second = json.loads(again.stdout)
    assert second["messages"] == total
    assert second["payloads_copied"] == total - report["messages"]

    # a restore never overwrites a hub
    refused = cli("hub", "restore", backup_dir, "--data-dir", restored)
    assert refused.exit_code == 2 and "HUB_EXISTS" in refused.output


def _provision(data: Path) -> str:
    hub = Hub(Settings(data_dir=data))
    try:
        with hub.session() as s:
            directory.add_agency(s, code=SENDER, name="Sở TT&TT Nghệ An")
            directory.add_agency(s, code=RECIPIENT, name="Văn phòng Chính phủ")
            directory.add_system(s, system_id="sys.vpcp", agencies=[RECIPIENT])
            return directory.add_system(s, system_id="sys.stttt", agencies=[SENDER]).api_key
    finally:
        hub.close()


def _system_secret(session: Session, *, system_id: str) -> str:
    system = session.get(System, system_id)
    assert system is not None
    return sealed.system_secret(session, system)


def _messages(session: Session) -> list[Message]:
    return list(session.scalars(select(Message)))
