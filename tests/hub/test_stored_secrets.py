"""Stored secrets are sealed and the data folder is private (security review, issue 10
§3.5): the data directory and its temporary folder are 0700, the SQLite database and its
WAL 0600; systems' HMAC secrets and peers' API keys are sealed (AES-GCM) with a key kept
outside the database, rows written in clear before are sealed at start, and
``lienthong hub rotate-key`` moves every value to a new key. On SQLite and PostgreSQL."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from lienthong.cli import app as cli_app
from lienthong.core.sealing import Keyring, is_sealed
from lienthong.hub import authn, directory, federation, sealed
from lienthong.hub.errors import HubError
from lienthong.hub.models import Peer, System
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from lienthong.protocol.xroad import sign_headers

H41 = "000.00.00.H41"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _settings(database_url: str, tmp_path: Path, **kw: object) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url, **kw)  # type: ignore[arg-type]


def _raw(hub: Hub) -> dict[str, str]:
    """What the database itself holds (as a dump or a reader of the file would see)."""
    with hub.engine.connect() as conn:
        rows = dict(conn.execute(text("SELECT id, secret FROM system")).all())
        rows.update({f"peer:{k}": v for k, v in conn.execute(text("SELECT id, api_key FROM peer"))})
    return rows


def _seed(hub: Hub) -> str:
    with hub.session() as s:
        directory.add_agency(s, code=H41, name="UBND tỉnh Nghệ An")
        new = directory.add_system(s, system_id="sys.h41", agencies=[H41])
        federation.add_peer(
            s, peer_id="vn", url="http://vn.invalid", api_key="khoa-cua-vn", serves=["*"]
        )
    return new.secret


def _authenticates(hub: Hub, secret: str) -> bool:
    headers = sign_headers("sys.h41", secret, {"servicetype": "eDoc"})
    with hub.session() as s:
        system, _ = authn.authenticate_signed(
            s, headers=headers, path="/countReceiveEdoc", window=timedelta(minutes=5)
        )
    return system.id == "sys.h41"


def test_the_data_folder_and_database_files_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)  # as an older release left it
    hub = Hub(Settings(data_dir=data))
    try:
        _seed(hub)  # a write: the WAL exists now
        assert _mode(data) == 0o700
        assert _mode(data / "tmp") == 0o700
        assert _mode(data / "blobs") == 0o700
        assert _mode(data / "hub.db") == 0o600
        assert _mode(data / "hub.db-wal") == 0o600
        assert _mode(data / "secret.key") == 0o600
    finally:
        hub.close()


def test_secrets_are_stored_sealed_and_still_work(database_url: str, tmp_path: Path) -> None:
    hub = Hub(_settings(database_url, tmp_path))
    try:
        secret = _seed(hub)
        raw = _raw(hub)
        assert is_sealed(raw["sys.h41"]) and secret not in raw["sys.h41"]
        assert is_sealed(raw["peer:vn"]) and "khoa-cua-vn" not in raw["peer:vn"]
        assert _authenticates(hub, secret)
        with hub.session() as s:
            peer = s.get(Peer, "vn")
            assert peer is not None and sealed.peer_key(s, peer) == "khoa-cua-vn"
    finally:
        hub.close()


def test_a_sealed_value_moved_to_another_row_does_not_open(
    database_url: str, tmp_path: Path
) -> None:
    hub = Hub(_settings(database_url, tmp_path))
    try:
        _seed(hub)
        with hub.session() as s:
            directory.add_system(s, system_id="sys.other", agencies=[H41])
        with hub.session() as s:
            mine, other = s.get(System, "sys.h41"), s.get(System, "sys.other")
            assert mine is not None and other is not None
            other.secret = mine.secret
        with hub.session() as s, pytest.raises(HubError) as refused:
            other = s.get(System, "sys.other")
            assert other is not None
            sealed.system_secret(s, other)
        assert refused.value.code == "HUB_SECRET_KEY_MISSING"
    finally:
        hub.close()


def test_secrets_stored_in_clear_are_sealed_at_start(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)
    hub = Hub(settings)
    secret = _seed(hub)
    with hub.engine.begin() as conn:  # as a release before sealing wrote them
        conn.execute(text("UPDATE system SET secret = :s"), {"s": secret})
        conn.execute(text("UPDATE peer SET api_key = 'khoa-cua-vn'"))
    hub.close()
    hub = Hub(settings)
    try:
        raw = _raw(hub)
        assert is_sealed(raw["sys.h41"]) and is_sealed(raw["peer:vn"])
        assert _authenticates(hub, secret)
    finally:
        hub.close()


def test_another_key_cannot_open_the_secrets(database_url: str, tmp_path: Path) -> None:
    settings = _settings(database_url, tmp_path)
    hub = Hub(settings)
    secret = _seed(hub)
    hub.close()
    stranger = settings.with_(secret_keys=Keyring.generate().dump().strip())
    with pytest.raises(HubError) as refused:
        Hub(stranger)  # sealing again at start needs to open them first
    assert refused.value.code == "HUB_SECRET_KEY_MISSING"
    assert secret not in refused.value.message_en


def test_rotate_key_seals_everything_with_a_new_key(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(database_url, tmp_path)
    hub = Hub(settings)
    secret = _seed(hub)
    before = hub.keyring.current
    hub.close()
    for name in ("LIENTHONG_CONFIG", "LIENTHONG_SECRET_KEYS", "LIENTHONG_SECRET_KEY_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LIENTHONG_DATABASE_URL", database_url)
    result = CliRunner().invoke(
        cli_app, ["hub", "rotate-key", "--data-dir", str(settings.data_dir)]
    )
    assert result.exit_code == 0, result.output
    ring = Keyring.parse(settings.effective_secret_key_file.read_text())
    assert [kid for kid, _ in ring.keys] != [before] and len(ring.keys) == 1
    hub = Hub(settings)
    try:
        raw = _raw(hub)
        assert all(v.startswith(f"lt-sealed:v1:{ring.current}:") for v in raw.values())
        assert _authenticates(hub, secret)
    finally:
        hub.close()
