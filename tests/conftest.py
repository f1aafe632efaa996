"""Shared fixtures for the edXML tests.

* Where the official sample packages are: ``<repo root>/../shared/interop/vdxp-samples``
  (CI runs on a fresh clone with a copy of ``shared/`` beside it), or the folder named by
  the ``LIENTHONG_SAMPLES`` environment variable.
* Factories for realistic packages (Vietnamese agencies, document codes and clerks) that
  pass validation as they are, so a test only states what it changes.
"""

from __future__ import annotations

import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from lienthong.edxml.model import (
    Attachment,
    Edoc,
    Status,
)
from support import (
    ALL_SAMPLES,
    EDOC_SAMPLES,
    PDF_BYTES,
    PG_URL,
    SAMPLES_ENV,
    STATUS_SAMPLES,
    _schema_url,
    new_attachment,
    new_edoc,
    new_status,
    postgresql_reachable,
    samples_path,
)

# --------------------------------------------------------------------------- samples


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    path = samples_path()
    assert path.is_dir(), (
        f"official edXML samples not found at {path}; put a copy of shared/ beside the "
        f"repository or set {SAMPLES_ENV}"
    )
    return path


@pytest.fixture(scope="session")
def sample(samples_dir: Path) -> Callable[[str], Path]:
    """``sample("edoc_revocation.edxml")`` → the path of that official sample."""

    def _sample(name: str) -> Path:
        path = samples_dir / name
        assert path.is_file(), f"missing official sample {path}"
        return path

    return _sample


@pytest.fixture(scope="session")
def sample_corpus(samples_dir: Path) -> dict[str, bytes]:
    """Every official sample's bytes, by file name (loaded once)."""
    return {p.name: p.read_bytes() for p in sorted(samples_dir.glob("*.edxml"))}


@pytest.fixture(params=ALL_SAMPLES)
def sample_name(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over every official sample (readable or not)."""
    name: str = request.param
    return name


@pytest.fixture(params=STATUS_SAMPLES)
def status_sample_name(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over every official status sample."""
    name: str = request.param
    return name


@pytest.fixture(params=EDOC_SAMPLES + STATUS_SAMPLES)
def readable_sample_name(request: pytest.FixtureRequest) -> str:
    """Parametrises a test over every official sample the parser can read."""
    name: str = request.param
    return name


# --------------------------------------------------------------------------- factories


@pytest.fixture(scope="session")
def make_edoc() -> Callable[..., Edoc]:
    """``make_edoc(subject=..., recipients=[...])`` → a fresh valid :class:`Edoc`."""
    return new_edoc


@pytest.fixture(scope="session")
def make_status() -> Callable[..., Status]:
    """``make_status(status_code="06")`` → a fresh valid :class:`Status`."""
    return new_status


@pytest.fixture(scope="session")
def make_attachment() -> Callable[..., Attachment]:
    """``make_attachment("Tờ trình.pdf", b"...")`` → an in-memory attachment."""
    return new_attachment


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    """A PDF-like file with a Vietnamese name, for attachments given by path."""
    path = tmp_path / "Quyết định 123-QĐ-UBND.signed.pdf"
    path.write_bytes(PDF_BYTES)
    return path


# ----------------------------------------------------------------------------- databases
#
# Hub tests run on SQLite and on a real PostgreSQL (LIENTHONG_TEST_DATABASE_URL; .ci/run
# sets it). Each PostgreSQL test gets its own schema, dropped afterwards. PostgreSQL tests
# are skipped only when no server is reachable.


@pytest.fixture
def postgresql_url() -> Any:
    """A fresh, empty PostgreSQL schema for one test (skipped only where no PostgreSQL is
    reachable at LIENTHONG_TEST_DATABASE_URL)."""
    if not postgresql_reachable():
        pytest.skip("no PostgreSQL reachable at LIENTHONG_TEST_DATABASE_URL")
    import uuid

    from lienthong.core.db import make_engine

    schema = f"lt_{uuid.uuid4().hex[:12]}"
    admin = make_engine(PG_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield _schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """A fresh, empty database for one test: a SQLite file, or a PostgreSQL schema."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return request.getfixturevalue("postgresql_url")


@pytest.fixture
def hub(database_url: str, tmp_path: Path) -> Any:
    """A hub (no HTTP, no worker) on the test database and a local blob folder."""
    from lienthong.hub.runtime import Hub
    from lienthong.hub.settings import Settings

    instance = Hub(
        Settings(
            data_dir=tmp_path / "data", database_url=database_url, blob_url=str(tmp_path / "blobs")
        )
    )
    yield instance
    instance.close()


# ----------------------------------------------------------------------------- S3 (moto)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A real S3 API (moto) on 127.0.0.1, on a free port, for the whole session."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials; no profile, instance metadata or proxy can reach the network."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_S3",
        "AWS_REGION",
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "http_proxy",
        "https_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")


@pytest.fixture
def moto(moto_endpoint: str, aws_env: None) -> Iterator[str]:
    """The moto endpoint, emptied after the test."""
    yield moto_endpoint
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    opener.open(urllib.request.Request(f"{moto_endpoint}/moto-api/reset", method="POST"))


# ----------------------------------------------------------------------------- PKI
#
# One test PKI per session (built by tests/pki_factory.py): a CA with its trust directory,
# person and organisation credentials of agency 000.00.00.H41, a person of another agency,
# an expired, a revoked and an unrelated CA's certificate, each also as a .p12 file
# (password pki_factory.P12_PASSWORD). Do not revoke or issue on the session CA: use
# ``fresh_ca``.


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """The whole test PKI (:class:`pki_factory.PkiWorld`)."""
    from pki_factory import build_world

    return build_world(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="session")
def ca(pki: Any) -> Any:
    """The session CA (read-only for tests)."""
    return pki.ca


@pytest.fixture(scope="session")
def trust_dir(pki: Any) -> Path:
    """The session CA's exported trust directory (root.pem, root.crl, issuing.crl)."""
    path: Path = pki.trust_dir
    return path


@pytest.fixture(scope="session")
def person_creds(pki: Any) -> Any:
    """Nguyễn Thị Ngọc Trâm, Phó Chủ tịch, UBND tỉnh Nghệ An (000.00.00.H41), RSA-2048."""
    return pki.person


@pytest.fixture(scope="session")
def org_creds(pki: Any) -> Any:
    """Ủy ban nhân dân tỉnh Nghệ An (000.00.00.H41), organisation certificate, RSA-2048."""
    return pki.org


@pytest.fixture(scope="session")
def other_agency_creds(pki: Any) -> Any:
    """A person of Văn phòng Chính phủ (000.00.00.G22)."""
    return pki.other_person


@pytest.fixture(scope="session")
def expired_creds(pki: Any) -> Any:
    """A person certificate of 000.00.00.H41 that expired 20 days ago."""
    return pki.expired


@pytest.fixture(scope="session")
def revoked_creds(pki: Any) -> Any:
    """A person certificate of 000.00.00.H41 revoked an hour ago (keyCompromise)."""
    return pki.revoked


@pytest.fixture(scope="session")
def stranger_creds(pki: Any) -> Any:
    """Same name and agency as ``person_creds`` but certified by an unrelated CA."""
    return pki.stranger


@pytest.fixture
def fresh_ca(tmp_path: Path) -> Any:
    """A new, empty CA of this test's own (may be changed freely)."""
    from lienthong.pki.ca import CertificateAuthority

    return CertificateAuthority.init(tmp_path / "fresh-ca")
