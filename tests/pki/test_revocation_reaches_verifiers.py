"""After ``pki revoke`` a trust folder exported earlier still holds the old CRL: the command
says what to do, refreshes the folders it is given, ``pki trust refresh`` brings any folder up
to date (from the CA folder or the CRL URLs a hub publishes), and a hub that publishes the
CA's CRLs (``LIENTHONG_CA_DIR``) refreshes its own trust folder by itself. ``--password`` is
a .p12's password everywhere, ``--ca-password`` the CA keys'."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner, Result

from lienthong.cli import app
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from lienthong.hub.settings import Settings
from lienthong.pki.credentials import TrustStore, parse_serial
from lienthong.pki.crl_refresh import crls_from_urls, refresh_trust_dir

CA_PW = "mật-khẩu-CA"
P12_PW = "mật-khẩu-p12"


def run(*args: str | Path) -> Result:
    env = {"LIENTHONG_CA_PASSWORD": None, "LIENTHONG_P12_PASSWORD": None, "COLUMNS": "300"}
    return CliRunner().invoke(app, ["pki", *map(str, args)], env=env)


def revoked_in(trust_dir: Path) -> set[int]:
    return {r.serial_number for crl in TrustStore.load(trust_dir).crls for r in crl}


@pytest.fixture
def ca(tmp_path: Path) -> dict[str, Any]:
    ca_dir = tmp_path / "ca"
    assert run("init", "--dir", ca_dir, "--ca-password", CA_PW).exit_code == 0
    issued = run(
        "issue", "person", "--dir", ca_dir, "--agency", "000.00.00.H41", "--name",
        "Nguyễn Văn An", "--position", "Phó Chủ tịch", "--out", tmp_path / "an.p12",
        "--password", P12_PW, "--ca-password", CA_PW, "--json",
    )  # fmt: skip
    assert issued.exit_code == 0, issued.output
    trust = tmp_path / "trust"
    assert run("trust", "export", "--dir", ca_dir, "--out", trust).exit_code == 0
    serial = parse_serial(json.loads(issued.stdout)["serial"])
    return {"dir": ca_dir, "trust": trust, "p12": tmp_path / "an.p12", "serial": serial}


def test_init_refuses_password_and_names_ca_password(tmp_path: Path) -> None:
    result = run("init", "--dir", tmp_path / "ca", "--password", "x")
    assert result.exit_code == 2
    assert "--ca-password" in result.output and ".p12" in result.output
    assert not (tmp_path / "ca").exists()


def test_revoke_says_what_is_left_to_do_and_refreshes_the_folders_it_is_given(
    ca: dict[str, Any], tmp_path: Path
) -> None:
    other = tmp_path / "other-trust"
    assert run("trust", "export", "--dir", ca["dir"], "--out", other).exit_code == 0
    result = run(
        "revoke", ca["p12"], "--dir", ca["dir"], "--password", P12_PW, "--ca-password", CA_PW,
        "--reason", "keyCompromise", "--trust-dir", other,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert "pki trust refresh" in flat and "LIENTHONG_CA_DIR" in flat
    assert "still says VALID" in flat
    assert ca["serial"] in revoked_in(other)  # refreshed at once
    assert ca["serial"] not in revoked_in(ca["trust"])  # exported earlier: stale

    refreshed = run("trust", "refresh", ca["trust"], "--ca", ca["dir"], "--json")
    assert refreshed.exit_code == 0, refreshed.output
    assert len(json.loads(refreshed.stdout)["updated"]) == 1  # the issuing CA's CRL
    assert ca["serial"] in revoked_in(ca["trust"])
    again = run("trust", "refresh", ca["trust"], "--ca", ca["dir"], "--json")
    assert json.loads(again.stdout)["updated"] == []  # only newer CRLs replace held ones


def test_trust_refresh_fetches_the_crls_a_hub_publishes(ca: dict[str, Any], tmp_path: Path) -> None:
    publisher = Hub(Settings(data_dir=tmp_path / "pub", ca_dir=ca["dir"]))
    try:
        assert run(
            "revoke", "--serial", format(ca["serial"], "x"), "--dir", ca["dir"],
            "--ca-password", CA_PW,
        ).exit_code == 0  # fmt: skip
        with TestClient(create_app(publisher, start_worker=False)) as http:
            crls = crls_from_urls(
                ["http://testserver/pki/issuing.crl", "http://testserver/pki/root.crl"],
                http=http,
            )
        assert len(refresh_trust_dir(ca["trust"], crls)) == 1
        assert ca["serial"] in revoked_in(ca["trust"])
    finally:
        publisher.close()


def test_a_hub_publishing_the_ca_refreshes_its_own_trust_folder(
    ca: dict[str, Any], tmp_path: Path
) -> None:
    hub = Hub(Settings(data_dir=tmp_path / "hub", ca_dir=ca["dir"], trust_dir=ca["trust"]))
    try:
        before = {r.serial_number for crl in hub.trust.crls for r in crl}
        assert ca["serial"] not in before
        assert run(
            "revoke", ca["p12"], "--dir", ca["dir"], "--password", P12_PW,
            "--ca-password", CA_PW,
        ).exit_code == 0  # fmt: skip
        assert hub.refresh_crls_from_ca()  # what its worker does once a minute
        assert hub.reload_trust_if_changed()
        assert ca["serial"] in {r.serial_number for crl in hub.trust.crls for r in crl}
    finally:
        hub.close()
