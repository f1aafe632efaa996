"""Administration from the web: an agency's admin manages its own people; the province's
admin (an admin of the agency without a parent) sees every tenant and adds agencies."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lienthong.office import audit
from lienthong.office.http.app import create_app
from lienthong.office.models import Agency, User
from lienthong.office.runtime import Office

from .officekit import DEPARTMENT, PROVINCE, Province
from .officekit import web_login as login


@pytest.fixture
def web(office: Office, province: Province) -> Iterator[TestClient]:
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as client:
        yield client


def _user(office: Office, username: str) -> User | None:
    return office.read(lambda s: s.query(User).filter_by(username=username).one_or_none())


def new_person(agency: str, username: str, csrf: str) -> dict[str, str]:
    return {
        "agency": agency,
        "username": username,
        "full_name": "Ngô Thị Mai",
        "role": "officer",
        "unit": "Phòng Kinh tế",
        "title": "Chuyên viên",
        "password": "Mat-khau-2026",
        "csrf_token": csrf,
    }


def test_only_admins_reach_administration(web: TestClient) -> None:
    login(web, "vanthu")
    assert web.get("/admin").status_code == 403


def test_an_agency_admin_adds_people_to_its_own_agency_only(
    web: TestClient, office: Office
) -> None:
    csrf = login(web, "quantri.vp")
    page = web.get("/admin")
    assert page.status_code == 200 and "vanthu.vp" in page.text
    assert "vanthu</td>" not in page.text  # the province's people are not listed
    assert "Thêm cơ quan" not in page.text
    r = web.post("/admin/users", data=new_person(DEPARTMENT, "mai.vp", csrf))
    assert r.status_code == 303
    mai = _user(office, "mai.vp")
    assert mai is not None and mai.agency_code == DEPARTMENT and mai.role == "officer"
    # another agency is "not found" for this admin, even by a hand-made request
    r = web.post("/admin/users", data=new_person(PROVINCE, "lan.tinh", csrf))
    assert r.status_code == 404 and _user(office, "lan.tinh") is None
    assert web.get("/admin", params={"agency": PROVINCE}).status_code == 200  # shows its own
    r = web.post(
        "/admin/agencies",
        data={"code": "000.00.31.H41", "name": "UBND TP Vinh", "csrf_token": csrf},
    )
    assert r.status_code == 403
    assert web.post("/admin/users", data=new_person(DEPARTMENT, "x.vp", "")).status_code == 403


def test_the_provincial_admin_sees_every_tenant_and_adds_agencies(
    web: TestClient, office: Office
) -> None:
    csrf = login(web, "quantri")
    page = web.get("/admin", params={"agency": DEPARTMENT})
    assert page.status_code == 200 and "vanthu.vp" in page.text and "Thêm cơ quan" in page.text
    r = web.post(
        "/admin/agencies",
        data={
            "code": "000.00.31.H41",
            "name": "UBND thành phố Vinh",
            "parent": PROVINCE,
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 303
    vinh = office.read(lambda s: s.get(Agency, "000.00.31.H41"))
    assert vinh is not None and vinh.parent_code == PROVINCE
    r = web.post("/admin/users", data=new_person("000.00.31.H41", "vanthu.vinh", csrf))
    assert r.status_code == 303
    events = office.read(lambda s: [a.event for a in audit.records(s)])
    assert "agency.added" in events and "user.added" in events


def test_an_admin_unlocks_a_locked_account(web: TestClient, office: Office) -> None:
    from .officekit import csrf_from as _csrf_from

    for _ in range(office.settings.max_failed_logins):
        page = web.get("/login")
        web.post(
            "/login",
            data={"username": "vanthu.vp", "password": "sai", "csrf_token": _csrf_from(page.text)},
        )
    csrf = login(web, "quantri.vp")
    assert "Mở khóa" in web.get("/admin").text
    user = _user(office, "vanthu.vp")
    assert user is not None
    assert web.post(f"/admin/users/{user.id}/unlock", data={"csrf_token": csrf}).status_code == 303
    login(web, "vanthu.vp")


def test_the_provincial_admin_records_a_day_swap_used_by_deadlines(
    web: TestClient, office: Office
) -> None:
    from datetime import date

    from lienthong.office import workdays

    csrf = login(web, "quantri.vp")  # an agency's admin may not
    r = web.post("/admin/calendar", data={"day": "2026-05-04", "working": "0", "csrf_token": csrf})
    assert r.status_code == 403
    csrf = login(web, "quantri")
    r = web.post(
        "/admin/calendar",
        data={"day": "2026-05-04", "working": "0", "note": "nghỉ bù", "csrf_token": csrf},
    )
    assert r.status_code == 303
    assert "04/05/2026" in web.get("/admin").text
    assert office.read(workdays.overrides) == {date(2026, 5, 4): False}
