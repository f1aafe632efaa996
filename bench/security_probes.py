"""Peak memory of a hub process under the security review's two memory probes (issue 10
§3.2 and §3.3), measured from outside as an attacker would cause it:

* ``body``: ``POST /api/v1/messages/<id>/ack`` with a 300 MiB chunked JSON body and no
  key;
* ``zip``: a 0.6 MB package of 300 ZIP attachments each inflating to 1 MiB (ratio ~1000:1),
  sent by a registered system, then its first attachment asked for three times by the
  recipient;
* ``zip-moderate``: the same with a ratio under the limit (20 KiB of noise + zeros, ~50:1;
  a 9 MB package any hub accepts): what inflating and the attachment endpoint cost.

The hub runs as ``lienthong hub serve`` in a child process (SQLite, signature policy off);
the figure is its ``VmHWM`` (peak RSS) from ``/proc/<pid>/status`` before and after the
probe. ``--src DIR`` runs another checkout's sources (e.g. ``git archive main`` unpacked)
for a before/after comparison::

    .venv/bin/python bench/security_probes.py body zip
    .venv/bin/python bench/security_probes.py --src /tmp/old/src body zip
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx

from lienthong.edxml.attachments import Blob
from lienthong.edxml.builder import build
from lienthong.edxml.model import Attachment, DocumentCode, Edoc, Organization, PromulgationInfo

MiB = 1 << 20
SENDER, RECIPIENT = "000.00.00.H41", "000.00.00.G22"


def _status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def _mb(kib: int) -> str:
    return f"{kib * 1024 / 1e6:.0f} MB"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "lienthong", *args], env=env, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(done.stderr)
    return done.stdout


def _package(moderate: bool = False) -> bytes:
    out = io.BytesIO()
    inner = os.urandom(20 * 1024) + bytes(MiB - 20 * 1024) if moderate else bytes(MiB)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("phu-luc.txt", inner)
    inner = out.getvalue()
    return build(
        Edoc(
            sender=Organization(organ_id=SENDER, organ_name="UBND tỉnh Nghệ An"),
            recipients=[Organization(organ_id=RECIPIENT, organ_name="Văn phòng Chính phủ")],
            code=DocumentCode(str(uuid.uuid4().int % 10000), "UBND"),
            promulgation=PromulgationInfo("Vinh", "2026/12/04"),
            subject="Phụ lục",
            attachments=[
                Attachment(
                    name=f"phu-luc-{i}.pdf",
                    content_type="application/pdf",
                    content=Blob.from_bytes(inner),
                )
                for i in range(300)
            ],
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("probes", nargs="+", choices=["body", "zip", "zip-moderate"])
    parser.add_argument("--src", help="the sources to run the hub from (default: this tree)")
    args = parser.parse_args()
    env = dict(os.environ)
    if args.src:
        env["PYTHONPATH"] = args.src
    with tempfile.TemporaryDirectory() as tmp:
        env["LIENTHONG_DATA_DIR"] = tmp
        env["LIENTHONG_SIGNATURE_POLICY"] = "off"
        _cli(env, "agency", "add", SENDER, "UBND tỉnh Nghệ An")
        _cli(env, "agency", "add", RECIPIENT, "Văn phòng Chính phủ")
        keys = {
            code: json.loads(_cli(env, "system", "add", f"s{i}", "--agency", code, "--json"))[
                "api_key"
            ]
            for i, code in enumerate((SENDER, RECIPIENT))
        }
        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        hub = subprocess.Popen(
            [sys.executable, "-m", "lienthong", "hub", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(300):
                try:
                    if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with httpx.Client(timeout=600) as http:
                http.get(f"{url}/healthz")
                for probe in args.probes:
                    before = _status_kib(hub.pid, "VmHWM")
                    answer = (
                        _body(http, url)
                        if probe == "body"
                        else _zip(http, url, keys, moderate=probe == "zip-moderate")
                    )
                    after = _status_kib(hub.pid, "VmHWM")
                    rss = _status_kib(hub.pid, "VmRSS")
                    print(
                        f"{probe}: peak RSS {_mb(before)} → {_mb(after)} "
                        f"(+{_mb(after - before)}), RSS after {_mb(rss)}; {answer}"
                    )
        finally:
            hub.terminate()
            hub.wait(30)


def _body(http: httpx.Client, url: str) -> str:
    def chunks() -> Iterator[bytes]:
        yield b"{"
        for _ in range(300):
            yield b" " * MiB

    try:
        r = http.post(f"{url}/api/v1/messages/{uuid.uuid4()}/ack", content=chunks())
        return f"HTTP {r.status_code} {r.text[:80]}"
    except httpx.HTTPError as exc:  # the hub answered and closed before the upload ended
        return f"connection closed by the hub ({type(exc).__name__})"


def _zip(http: httpx.Client, url: str, keys: dict[str, str], *, moderate: bool) -> str:
    data = _package(moderate)
    sent = http.post(
        f"{url}/api/v1/packages",
        content=data,
        headers={"Authorization": f"Bearer {keys[SENDER]}"},
    )
    out = f"package {len(data) / 1e6:.2f} MB: HTTP {sent.status_code}"
    if sent.status_code >= 300:
        return out + f" {sent.json()['error']['code']}"
    message_id = sent.json()["message_id"]
    auth = {"Authorization": f"Bearer {keys[RECIPIENT]}"}
    http.get(f"{url}/api/v1/inbox", headers=auth)
    for _ in range(3):
        got = http.get(f"{url}/api/v1/messages/{message_id}/attachments/1", headers=auth)
    return out + f"; attachment 1 ×3: HTTP {got.status_code}"


if __name__ == "__main__":
    main()
