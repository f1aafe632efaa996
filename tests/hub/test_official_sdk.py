"""The official national-platform SDK 2.0.1 itself, run against a hub (issue 10 §1, §1b).

A small Java driver (``helpers/SdkCycle.java``, compiled here with ``javac``) takes the SDK
through send, list, count, get, ``done``, list again (empty), sent list and the directory
calls (``getAgenciesList``, ``getAgenciesListQD20``, ``getSynchronizeUnit``), with one client
object per system for the life of the program as the SDK's example does — the use that
repeats byte-identical signatures across operations and reads every answer key with Gson's
``getAsString()``.

The SDK's jars are not ours to redistribute and are never committed. They are found in the
folder named by ``LIENTHONG_SDK_JARS``, or extracted from a git snapshot of the official
repository (PVN-Organization/API-Gateway-iOffice, folder ``JDK 1.8/SDKVXP_Example/lib/``)
named by ``LIENTHONG_SDK_REPO`` or at ``.mirror/…/repo`` beside the checkout or above it.
Without them, or without a JDK, the test skips and says why. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from lienthong.devnet.network import free_port
from lienthong.edxml.builder import build
from lienthong.edxml.model import DocumentCode, Organization
from lienthong.hub import audit, directory
from lienthong.hub.http.app import create_app
from lienthong.hub.runtime import Hub
from support import REPO_ROOT

JARS_ENV = "LIENTHONG_SDK_JARS"
REPO_ENV = "LIENTHONG_SDK_REPO"
SDK_JAR = "SDKVXP-2.0.1.jar"
LIB = "JDK 1.8/SDKVXP_Example/lib"
_SNAPSHOT = Path(".mirror") / "PVN-Organization+API-Gateway-iOffice" / "repo"
#: where a snapshot of the official repository may lie: beside the checkout or any folder
#: above it, or the workplace's snapshot folder (CI clones main into another folder)
SNAPSHOTS = [p / _SNAPSHOT for p in REPO_ROOT.parents] + [Path("/work") / _SNAPSHOT]
DEFAULT_SNAPSHOT = next((p for p in SNAPSHOTS if p.is_dir()), SNAPSHOTS[0])
DRIVER = Path(__file__).parent / "helpers" / "SdkCycle.java"
TIMEOUT = 120

SENDER, RECEIVER = "sdk.h41", "sdk.g22"
H41 = "000.00.00.H41"  # UBND tỉnh Nghệ An
G22 = "000.00.00.G22"  # Văn phòng Chính phủ
CHILD = "000.00.01.H41"  # a department: has a parent, no mail, no old code


def _git(snapshot: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        ["git", "--git-dir", str(snapshot), *args], capture_output=True, timeout=60, check=True
    )


def _extract(snapshot: Path, into: Path) -> Path:
    """The jars of the SDK's example folder, from a git snapshot."""
    listing = _git(snapshot, "ls-tree", "-z", "--name-only", "HEAD", f"{LIB}/").stdout
    names = [n for n in listing.decode().split("\0") if n]
    jars = [n for n in names if n.endswith(".jar")]
    into.mkdir(parents=True, exist_ok=True)
    for name in jars:
        (into / Path(name).name).write_bytes(_git(snapshot, "show", f"HEAD:{name}").stdout)
    return into


@pytest.fixture(scope="session")
def sdk_jars(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("javac") is None or shutil.which("java") is None:
        pytest.skip("no JDK (javac, java) on this machine: the official SDK cannot run")
    named = os.environ.get(JARS_ENV)
    if named:
        folder = Path(named)
        if not (folder / SDK_JAR).is_file():
            pytest.fail(f"{JARS_ENV}={named} holds no {SDK_JAR}")
        return folder
    snapshot = Path(os.environ.get(REPO_ENV) or DEFAULT_SNAPSHOT)
    if not snapshot.exists():
        pytest.skip(
            f"the official SDK's jars are absent: set {JARS_ENV} to a folder holding "
            f"{SDK_JAR} and its libraries, or {REPO_ENV} to a git snapshot of "
            f"PVN-Organization/API-Gateway-iOffice (looked for {snapshot})"
        )
    if shutil.which("git") is None:
        pytest.skip("git is needed to read the SDK's jars from the snapshot")
    if snapshot.joinpath(".git").is_dir():
        snapshot = snapshot / ".git"
    return _extract(snapshot, tmp_path_factory.mktemp("sdk-jars"))


@pytest.fixture(scope="session")
def driver(sdk_jars: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The class path to run ``SdkCycle`` with (the driver compiled into a temp folder)."""
    classes = tmp_path_factory.mktemp("sdk-driver")
    jars = [  # one SDK only: 2.0.0 beside it (as in the official folder) would shadow it
        p for p in sorted(sdk_jars.glob("*.jar")) if p.name == SDK_JAR or "SDKVXP" not in p.name
    ]
    class_path = os.pathsep.join(str(p) for p in jars)
    subprocess.run(
        ["javac", "-nowarn", "-cp", class_path, "-d", str(classes), str(DRIVER)],
        check=True,
        capture_output=True,
        timeout=TIMEOUT,
    )
    return os.pathsep.join([str(classes), class_path])


class Server:
    """The hub's app on a real port (uvicorn in a thread), with its worker."""

    def __init__(self, hub: Hub) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(hub), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> Server:
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the hub did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


@pytest.fixture
def served(hub: Hub) -> Iterator[tuple[Server, dict[str, str]]]:
    secrets: dict[str, str] = {}
    with hub.session() as s:
        directory.add_agency(s, code=H41, name="UBND tỉnh Nghệ An")  # no mail, no parent
        directory.add_agency(s, code=G22, name="Văn phòng Chính phủ", email="vpcp@chinhphu.vn")
        directory.add_agency(s, code=CHILD, name="Văn phòng UBND tỉnh Nghệ An")
        for system_id, agency in ((SENDER, H41), (RECEIVER, G22)):
            # the SDK fixes its timestamp once per client object: a legacy-SDK system
            secrets[system_id] = directory.add_system(
                s, system_id=system_id, agencies=[agency], legacy_sdk=True
            ).secret
    with Server(hub) as server:
        yield server, secrets
    with hub.session() as s:
        assert audit.verify(s).ok


def test_the_official_sdk_runs_a_full_cycle_against_the_hub(
    driver: str,
    served: tuple[Server, dict[str, str]],
    make_edoc: Any,
    tmp_path: Path,
) -> None:
    server, secrets = served
    package = tmp_path / "edoc.edxml"
    package.write_bytes(
        build(
            make_edoc(
                sender=Organization(organ_id=H41, organ_name="UBND tỉnh Nghệ An"),
                recipients=[Organization(organ_id=G22, organ_name="Văn phòng Chính phủ")],
                code=DocumentCode("412", "UBND-VX"),
                subject="V/v thử nghiệm liên thông bằng SDK chính thức",
            )
        )
    )
    store = tmp_path / "store"
    args = [server.url, SENDER, secrets[SENDER], RECEIVER, secrets[RECEIVER], H41, G22]
    run = subprocess.run(
        ["java", "-cp", driver, "SdkCycle", *args, str(package), str(store)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        cwd=tmp_path,  # the SDK writes fetched packages under a path relative to it
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0 and "DONE" in run.stdout, output
    steps = {
        values["step"]: values
        for values in (
            json.loads(line[5:]) for line in run.stdout.splitlines() if line.startswith("STEP ")
        )
    }
    for name, values in steps.items():
        assert values["status"] == "OK", (name, values)

    doc_id = steps["send"]["docId"]
    assert doc_id
    assert steps["list"]["ids"] == [doc_id]
    assert steps["count"]["count"] == 1
    assert steps["get"]["fileHasEdxml"] is True and steps["get"]["fileSize"] > 0
    # after updateStatus, a list whose signed headers repeat updateStatus's: empty, not refused
    assert steps["list again"]["size"] == 0
    assert steps["sent"]["rows"] == [
        {"senderDocId": doc_id, "toCode": G22, "receiveStatus": "DONE"}
    ]
    # the directory: agencies without mail, parent or old code are read without a crash
    listed = {a["code"]: a for a in steps["agencies"]["agencies"]}
    assert set(listed) == {H41, G22, CHILD}
    assert listed[CHILD]["pid"] == H41 and listed[G22]["mail"] == "vpcp@chinhphu.vn"
    assert "mail" not in listed[H41] and "pid" not in listed[H41]  # Gson leaves them null
    assert {a["code"] for a in steps["agencies QD20"]["agencies"]} == {H41, G22}
    units = {u["code"]: u for u in steps["synchronize"]["units"]}
    assert set(units) == {H41, G22, CHILD} and units[CHILD]["pid"] == H41
    assert not any(u["deleted"] for u in units.values())
