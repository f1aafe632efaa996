"""The sample province for the demo: provisioned idempotently, served, wired to a hub."""

from __future__ import annotations

from pathlib import Path

import httpx

from lienthong.office.models import Document
from lienthong.office.sample import SAMPLE_PASSWORD, agency_codes, start_sample_office

from .officekit import HubWorld, edoc, free_port, wait_for


def test_the_sample_office_serves_logins_of_every_role_and_receives_from_the_hub(
    tmp_path: Path, hub_world: HubWorld
) -> None:
    running = start_sample_office(
        tmp_path / "office",
        hub_url=hub_world.url,
        api_key=hub_world.office_key,
        port=free_port(),
        poll_seconds=0.2,
    )
    try:
        assert {login["role"] for login in running.logins} == {
            "clerk",
            "leader",
            "officer",
            "admin",
        }
        assert {login["agency"] for login in running.logins} == set(agency_codes())
        assert all(login["password"] == SAMPLE_PASSWORD for login in running.logins)
        assert httpx.get(running.url + "/healthz").json()["part"] == "office"
        assert httpx.get(running.url + "/login").status_code == 200
        hub_world.send(edoc(subject="Văn bản gửi văn phòng mẫu"))
        found = wait_for(
            lambda: running.office.read(
                lambda s: s.query(Document).filter(Document.state == "arrived").count()
            )
        )
        assert found == 1
        assert [s["status_code"] for s in hub_world.statuses(expect=1)] == ["01"]
        # provisioning again changes nothing
        from lienthong.office.sample import provision

        again = running.office.run(provision)
        assert len(again) == len(running.logins)
    finally:
        running.stop()
