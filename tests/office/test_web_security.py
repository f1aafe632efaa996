"""Accounts and permissions over HTTP: sessions, CSRF on every form, lock-out with an audit
record, password change, per-tenant and per-role checks (another tenant's document → 404)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from lienthong.office import audit, incoming
from lienthong.office.http.app import create_app
from lienthong.office.models import Document
from lienthong.office.runtime import Office
from lienthong.web.security import SESSION_COOKIE

from .officekit import DEPARTMENT, PASSWORD, PROVINCE, Province
from .officekit import csrf_from as _csrf_from
from .officekit import web_login as login


@pytest.fixture
def web(office: Office, province: Province) -> Iterator[TestClient]:
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as client:
        yield client


def paper_doc(office: Office, province: Province, username: str, subject: str) -> Document:
    who = province.login(office, username)
    register_id = (
        province.register_id if who.agency_code == PROVINCE else province.other_register_id
    )
    return office.run(
        lambda s: incoming.enter_paper(
            s,
            who=who,
            data=incoming.PaperInput(
                register_id=register_id,
                issuer="Sở Tài chính (mẫu)",
                number="45",
                notation="STC-NS",
                subject=subject,
            ),
            scan=None,
            blobs=office.blobs,
        )
    )


def test_pages_need_a_session(web: TestClient) -> None:
    r = web.get("/")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    r = web.get("/documents/1")
    assert r.status_code == 303
    # a form post without a session is refused outright
    r = web.post("/documents/1/register", data={"register_id": "1"})
    assert r.status_code == 401
    # a forged session cookie is no session
    web.cookies.set(SESSION_COOKIE, "not-a-real-token")
    assert web.get("/").status_code == 303


def test_login_with_the_right_password_opens_my_work(web: TestClient) -> None:
    login(web, "vanthu")
    r = web.get("/")
    assert r.status_code == 200
    assert "Việc của tôi" in r.text and "Nguyễn Thị Ngọc Trâm" in r.text


def test_the_login_form_itself_needs_its_csrf_token(web: TestClient) -> None:
    web.get("/login")
    r = web.post("/login", data={"username": "vanthu", "password": PASSWORD})
    assert r.status_code == 403
    assert SESSION_COOKIE not in r.cookies


def test_every_form_post_without_the_csrf_token_is_refused(
    web: TestClient, office: Office, province: Province
) -> None:
    doc = paper_doc(office, province, "vanthu", "Về kế hoạch năm 2027")
    csrf = login(web, "lanhdao")
    direct = {
        "direction": "Giao chuyên viên xử lý",
        "lead_user_id": str(province.users["chuyenvien"]),
        "working_days": "3",
    }
    r = web.post(f"/documents/{doc.id}/direct", data=direct)
    assert r.status_code == 403 and "CSRF" in r.text
    r = web.post(f"/documents/{doc.id}/direct", data={**direct, "csrf_token": "wrong"})
    assert r.status_code == 403
    assert office.read(lambda s: s.get(Document, doc.id)).state == "registered"
    for path in ("/logout", "/account/password", "/paper/new", f"/documents/{doc.id}/finish"):
        assert web.post(path, data={}).status_code == 403, path
    # with the token (as the form sends it) it works
    r = web.post(f"/documents/{doc.id}/direct", data={**direct, "csrf_token": csrf})
    assert r.status_code == 303
    assert office.read(lambda s: s.get(Document, doc.id)).state == "directed"


def test_htmx_requests_send_the_token_as_a_header(
    web: TestClient, office: Office, province: Province
) -> None:
    doc = paper_doc(office, province, "vanthu", "Về kế hoạch năm 2027")
    csrf = login(web, "lanhdao")
    r = web.post(
        f"/documents/{doc.id}/direct",
        data={"direction": "Xử lý", "lead_user_id": str(province.users["chuyenvien"])},
        headers={"X-CSRF-Token": csrf},
    )
    assert r.status_code == 303


def test_another_tenants_document_answers_404(
    web: TestClient, office: Office, province: Province
) -> None:
    theirs = paper_doc(office, province, "vanthu.vp", "Văn bản của Văn phòng UBND")
    mine = paper_doc(office, province, "vanthu", "Văn bản của UBND tỉnh")
    csrf = login(web, "vanthu")
    assert web.get(f"/documents/{mine.id}").status_code == 200
    for path in (f"/documents/{theirs.id}", f"/documents/{theirs.id}/slip"):
        assert web.get(path).status_code == 404, path
    assert web.get("/documents/999999").status_code == 404
    r = web.post(f"/documents/{theirs.id}/return", data={"reason": "x", "csrf_token": csrf})
    assert r.status_code == 404
    # and it never shows up in a list or a search
    listing = web.get("/documents", params={"q": "van phong"})
    assert "Văn bản của Văn phòng UBND" not in listing.text
    # its own clerk sees it
    login(web, "vanthu.vp")
    assert web.get(f"/documents/{theirs.id}").status_code == 200
    assert web.get(f"/documents/{mine.id}").status_code == 404
    assert DEPARTMENT != PROVINCE


def test_an_officer_sees_only_what_is_assigned_to_them(
    web: TestClient, office: Office, province: Province
) -> None:
    doc = paper_doc(office, province, "vanthu", "Chưa giao cho ai")
    login(web, "chuyenvien")
    assert web.get(f"/documents/{doc.id}").status_code == 404
    leader = province.login(office, "lanhdao")
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=doc.id,
            data=incoming.Direction(direction="Xử lý", lead_user_id=province.users["chuyenvien"]),
        )
    )
    assert web.get(f"/documents/{doc.id}").status_code == 200
    login(web, "chuyenvien2")
    assert web.get(f"/documents/{doc.id}").status_code == 404


def test_a_role_cannot_take_another_roles_step(
    web: TestClient, office: Office, province: Province
) -> None:
    doc = paper_doc(office, province, "vanthu", "Về việc chuẩn bị họp")
    csrf = login(web, "chuyenvien")  # an officer cannot direct (and does not see it yet)
    r = web.post(
        f"/documents/{doc.id}/direct",
        data={
            "direction": "x",
            "lead_user_id": str(province.users["chuyenvien"]),
            "csrf_token": csrf,
        },
    )
    assert r.status_code in {403, 404}
    csrf = login(web, "vanthu")  # a clerk sees it but cannot direct
    r = web.post(
        f"/documents/{doc.id}/direct",
        data={
            "direction": "x",
            "lead_user_id": str(province.users["chuyenvien"]),
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 403
    assert office.read(lambda s: s.get(Document, doc.id)).state == "registered"


def test_repeated_failures_lock_the_account_and_are_audited(
    web: TestClient, office: Office
) -> None:
    for _ in range(office.settings.max_failed_logins):
        page = web.get("/login")
        r = web.post(
            "/login",
            data={
                "username": "vanthu",
                "password": "sai-mat-khau",
                "csrf_token": _csrf_from(page.text),
            },
        )
        assert r.status_code in {401, 429}
        assert SESSION_COOKIE not in r.cookies
    # now even the right password is refused while the lock lasts
    page = web.get("/login")
    r = web.post(
        "/login",
        data={"username": "vanthu", "password": PASSWORD, "csrf_token": _csrf_from(page.text)},
    )
    assert r.status_code == 429 and SESSION_COOKIE not in r.cookies
    events = office.read(lambda s: [a.event for a in audit.records(s) if a.username == "vanthu"])
    assert events.count("login.failed") == office.settings.max_failed_logins
    assert "account.locked" in events and "login.refused_locked" in events
    # another account is not affected
    login(web, "lanhdao")


def test_password_change_ends_other_sessions_and_the_old_password(
    web: TestClient, office: Office
) -> None:
    other = TestClient(create_app(office, start_worker=False), follow_redirects=False)
    login(other, "vanthu")
    csrf = login(web, "vanthu")
    r = web.post(
        "/account/password",
        data={
            "current": "sai",
            "new": "Mat-khau-moi-1",
            "again": "Mat-khau-moi-1",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 422
    r = web.post(
        "/account/password",
        data={
            "current": PASSWORD,
            "new": "Mat-khau-moi-1",
            "again": "Mat-khau-moi-1",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 200 and "Đã đổi mật khẩu" in r.text
    assert web.get("/").status_code == 200  # this session continues
    assert other.get("/").status_code == 303  # the other one ended
    page = web.get("/login")
    r = web.post(
        "/login",
        data={"username": "vanthu", "password": PASSWORD, "csrf_token": _csrf_from(page.text)},
    )
    assert r.status_code == 401
    login(web, "vanthu", "Mat-khau-moi-1")


def test_logout_ends_the_session_on_the_server(web: TestClient) -> None:
    csrf = login(web, "vanthu")
    token = web.cookies.get(SESSION_COOKIE)
    assert web.post("/logout", data={"csrf_token": csrf}).status_code == 303
    web.cookies.set(SESSION_COOKIE, token or "")  # replaying the old cookie does not help
    assert web.get("/").status_code == 303


def test_an_expired_session_is_refused(office: Office, province: Province) -> None:
    from datetime import timedelta

    from lienthong.office.models import WebSession, utcnow

    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as client:
        login(client, "vanthu")

        def expire(s: object) -> None:
            for ws in s.query(WebSession).all():  # type: ignore[attr-defined]
                ws.expires_at = utcnow() - timedelta(minutes=1)

        office.run(expire)
        assert client.get("/").status_code == 303


def test_english_is_available_and_dates_are_dd_mm_yyyy(
    web: TestClient, office: Office, province: Province
) -> None:
    doc = paper_doc(office, province, "vanthu", "Về lịch công tác")
    login(web, "vanthu")
    vi = web.get(f"/documents/{doc.id}").text
    assert "Số đến" in vi and re.search(r"\d{2}/\d{2}/\d{4}", vi)
    web.get("/lang/en")
    en = web.get(f"/documents/{doc.id}").text
    assert "Arrival no." in en and 'lang="en"' in en
