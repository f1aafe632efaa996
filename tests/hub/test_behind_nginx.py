"""The hub behind nginx as the operator guide ships it (``deploy/nginx/lienthong-hub.conf``,
run as it is but for ports, certificate paths and log files): the national platform's
client (``client/vdxp.py``, signed ``XroadVnpt-*`` headers) sends, lists, downloads and
acknowledges over TLS through it; a 3 MB package streams through; plain HTTP is redirected;
``/metrics`` and the admin API are closed to addresses not allowed; the API documentation
loads its assets through the proxy.

nginx comes from Debian's packages (scripts/install-system-packages.sh, run by ``make test``,
installs it where missing)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from lienthong.client.vdxp import VdxpClient
from lienthong.devnet.network import free_port, start_server
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode
from lienthong.hub import directory
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from support import new_attachment, new_edoc

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "deploy" / "nginx" / "lienthong-hub.conf"
SENDER, RECIPIENT = "000.00.12.H41", "000.00.00.G22"


def _nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx",) if os.access(p, os.X_OK)), None
    )


pytestmark = pytest.mark.skipif(
    _nginx() is None, reason="nginx missing (scripts/install-system-packages.sh installs it)"
)


def _tls(folder: Path) -> tuple[Path, Path, Path]:
    """A CA and a certificate for 127.0.0.1 signed by it: (ca.pem, hub.crt, hub.key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "lienthong test TLS CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    paths = (folder / "ca.pem", folder / "hub.crt", folder / "hub.key")
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return paths


def _site(folder: Path, *, hub_port: int, https: int, http: int, crt: Path, key: Path) -> str:
    """The shipped site file with this test's ports, certificate and log paths."""
    text = SITE.read_text(encoding="utf-8")
    for old, new in (
        ("server 127.0.0.1:8080;", f"server 127.0.0.1:{hub_port};"),
        ("listen 443 ssl;", f"listen 127.0.0.1:{https} ssl;"),
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("/etc/lienthong/tls/hub.crt", str(crt)),
        ("/etc/lienthong/tls/hub.key", str(key)),
        ("/var/log/nginx/lienthong-access.log", str(folder / "access.log")),
        ("/var/log/nginx/lienthong-error.log", str(folder / "error.log")),
    ):
        assert old in text, f"the shipped nginx example no longer has {old!r}"
        text = text.replace(old, new)
    return text


@dataclass
class Front:
    url: str
    http_url: str
    ca: Path
    hub: Hub
    secrets: dict[str, str]
    folder: Path


def _start_nginx(folder: Path, site: str, port: int) -> subprocess.Popen[bytes]:
    (folder / "site.conf").write_text(site, encoding="utf-8")
    user = "user root;\n" if os.geteuid() == 0 else ""  # workers must read this test's folder
    (folder / "nginx.conf").write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/nginx-error.log warn;
events {{ worker_connections 128; }}
http {{
    access_log off;
    client_body_temp_path {folder}/body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/site.conf;
}}
""",
        encoding="utf-8",
    )
    nginx = _nginx()
    assert nginx is not None
    checked = subprocess.run(
        [nginx, "-t", "-p", str(folder), "-c", str(folder / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr
    proc = subprocess.Popen(
        [nginx, "-p", str(folder), "-c", str(folder / "nginx.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "nginx exited")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return proc
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("nginx did not start")


@pytest.fixture
def front(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Front]:
    hub = Hub(Settings(data_dir=tmp_path / "hub", hub_id="h41"))
    secrets = {}
    with hub.session() as s:
        directory.add_agency(s, code=SENDER, name="Sở TT&TT Nghệ An")
        directory.add_agency(s, code=RECIPIENT, name="Văn phòng Chính phủ")
        for system_id, agency in (("sys.stttt", SENDER), ("sys.vpcp", RECIPIENT)):
            secrets[system_id] = directory.add_system(
                s, system_id=system_id, agencies=[agency]
            ).secret
    hub_port, https, http = free_port(), free_port(), free_port()
    server = start_server(hub, hub_port)
    ca, crt, key = _tls(tmp_path)
    lock_down = getattr(request, "param", False)
    site = _site(tmp_path, hub_port=hub_port, https=https, http=http, crt=crt, key=key)
    if lock_down:  # the allowed network is one this test does not come from
        site = site.replace("allow 127.0.0.1;", "allow 192.0.2.1;")
    nginx = _start_nginx(tmp_path, site, https)
    try:
        yield Front(
            f"https://127.0.0.1:{https}", f"http://127.0.0.1:{http}", ca, hub, secrets, tmp_path
        )
    finally:
        nginx.send_signal(signal.SIGQUIT)  # graceful stop
        try:
            nginx.wait(timeout=10)
        except subprocess.TimeoutExpired:
            nginx.kill()
            nginx.wait()
        server.should_exit = True
        time.sleep(0.2)
        hub.close()


def _trusting(ca: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca))


def _client(front: Front, system_id: str) -> VdxpClient:
    http = httpx.Client(verify=_trusting(front.ca), timeout=60)
    return VdxpClient(front.url, system_id, front.secrets[system_id], http=http)


def test_the_national_platform_client_works_through_nginx_over_tls(front: Front) -> None:
    sender, receiver = _client(front, "sys.stttt"), _client(front, "sys.vpcp")
    small = build(new_edoc(code=DocumentCode("301", "STTTT-VP")))
    first = sender.send_edoc(small, from_code=SENDER)
    assert first["code"] == "ACCEPTED", first
    big_doc = new_edoc(code=DocumentCode("302", "STTTT-VP"))
    big_doc.attachments = [new_attachment("Hồ sơ.pdf", os.urandom(3 * 1024 * 1024))]
    big = build(big_doc)
    second = sender.send_edoc(big, from_code=SENDER)
    front.hub.dispatch_now()
    listed = [item["docId"] for item in receiver.get_received_list("edoc")["data"]]
    assert sorted(listed) == sorted([first["DocId"], second["DocId"]])
    got = receiver.get_edoc(second["DocId"])
    assert len(got) > len(big)  # the delivered package: the sender's bytes + our TraceHeader
    receiver.update_status(second["DocId"], "done")
    assert [i["docId"] for i in receiver.get_received_list("edoc")["data"]] == [first["DocId"]]

    with httpx.Client(verify=_trusting(front.ca)) as plain:
        metrics = plain.get(front.url + "/metrics")
        assert metrics.status_code == 200  # allowed from 127.0.0.1 in the example
        assert "lienthong_accepted_total 2" in metrics.text
        docs = plain.get(front.url + "/docs")
        assert docs.status_code == 200
        assert plain.get(front.url + "/docs/assets/swagger-ui-bundle.js").status_code == 200
        redirect = plain.get(front.http_url + "/healthz")
        assert redirect.status_code == 301
        assert redirect.headers["location"].startswith("https://")
    access = (front.folder / "access.log").read_text()
    assert "/sendEdoc" in access and "/getEdoc" in access


@pytest.mark.parametrize("front", [True], indirect=True, ids=["locked-down"])
def test_metrics_and_the_admin_api_are_closed_to_other_addresses(front: Front) -> None:
    with httpx.Client(verify=_trusting(front.ca)) as plain:
        assert plain.get(front.url + "/metrics").status_code == 403
        assert plain.get(front.url + "/api/admin/v1/outbox").status_code == 403
        assert plain.get(front.url + "/healthz").status_code == 200
