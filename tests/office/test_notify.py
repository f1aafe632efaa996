"""Notifications: new work for the right people, deadlines approaching and passed (once
each), shown in the application and e-mailed through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
from collections.abc import Iterator
from datetime import timedelta
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from lienthong.office import incoming, notify
from lienthong.office.http.app import create_app
from lienthong.office.mail import SmtpMailer
from lienthong.office.models import Document, Notification, User
from lienthong.office.runtime import Office
from lienthong.office.worker import work_once
from lienthong.web.i18n import today_vn

from .officekit import Province, free_port, make_office, provision
from .officekit import web_login as login


def _paper(office: Office, province: Province, subject: str = "Về kế hoạch số hóa") -> Document:
    clerk = province.login(office, "vanthu")
    return office.run(
        lambda s: incoming.enter_paper(
            s,
            who=clerk,
            data=incoming.PaperInput(
                register_id=province.register_id,
                issuer="Sở Khoa học và Công nghệ (mẫu)",
                number="5",
                notation="SKHCN-VP",
                subject=subject,
            ),
            scan=None,
            blobs=office.blobs,
        )
    )


def _direct(office: Office, province: Province, doc: Document, **kw: Any) -> None:
    leader = province.login(office, "lanhdao")
    office.run(
        lambda s: incoming.direct(
            s,
            who=leader,
            document_id=doc.id,
            data=incoming.Direction(
                direction="Giao xử lý",
                lead_user_id=province.users["chuyenvien"],
                cooperating_user_ids=[province.users["chuyenvien2"]],
                **kw,
            ),
        )
    )


def _kinds(office: Office, province: Province, username: str) -> list[str]:
    uid = province.users[username]
    return office.read(
        lambda s: sorted(n.kind for n in s.query(Notification).filter_by(user_id=uid).all())
    )


def test_new_work_reaches_the_people_who_must_act(office: Office, province: Province) -> None:
    doc = _paper(office, province)
    assert _kinds(office, province, "lanhdao") == ["to_direct"]
    assert _kinds(office, province, "chuyenvien") == []
    assert _kinds(office, province, "lanhdao.vp") == []  # another agency's leader
    _direct(office, province, doc)
    assert _kinds(office, province, "chuyenvien") == ["to_handle"]
    assert _kinds(office, province, "chuyenvien2") == ["to_handle"]
    assert _kinds(office, province, "vanthu") == []


def test_deadlines_approaching_and_passed_are_notified_once(
    office: Office, province: Province
) -> None:
    doc = _paper(office, province)
    _direct(office, province, doc, deadline=today_vn())
    today = today_vn()
    assert office.run(lambda s: notify.deadline_sweep(s, today=today)) == 2
    assert office.run(lambda s: notify.deadline_sweep(s, today=today)) == 0  # once only
    assert _kinds(office, province, "chuyenvien") == ["due_soon", "to_handle"]
    later = today + timedelta(days=3)
    assert office.run(lambda s: notify.deadline_sweep(s, today=later)) == 2
    assert _kinds(office, province, "chuyenvien") == ["due_soon", "overdue", "to_handle"]


def test_the_bell_counts_unread_and_the_list_marks_them_read(
    office: Office, province: Province
) -> None:
    _paper(office, province, "Về hội nghị tổng kết")
    with TestClient(create_app(office, start_worker=False), follow_redirects=False) as web:
        login(web, "lanhdao")
        assert 'id="unread">1' in web.get("/").text
        page = web.get("/notifications").text
        assert "Văn bản chờ chỉ đạo" in page and "Về hội nghị tổng kết" in page
        assert 'id="unread"' not in web.get("/").text


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            (envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=default_policy))
        )
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield port, inbox
    controller.stop()


def test_new_work_is_emailed_through_the_smtp_server(
    database_url: str, tmp_path: Path, smtp: tuple[int, Inbox]
) -> None:
    port, inbox = smtp
    office = make_office(
        database_url,
        tmp_path,
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_from="vanphong@nghean.example",
        public_url="https://vanphong.example",
    )
    try:
        assert isinstance(office.mailer, SmtpMailer)
        province = provision(office)

        def give_email(s: Any) -> None:
            s.query(User).filter_by(username="chuyenvien").one().email = "dong@nghean.example"

        office.run(give_email)
        doc = _paper(office, province)
        _direct(office, province, doc)
        done = work_once(office, poll=False)
        assert done["emails"] == 1  # only the officer has an address
        [(to, message)] = inbox.messages
        assert to == ["dong@nghean.example"]
        assert message["Subject"].startswith("Văn bản được giao xử lý")
        assert f"https://vanphong.example/documents/{doc.id}" in message.get_content()
        assert work_once(office, poll=False)["emails"] == 0  # sent once
    finally:
        office.close()
