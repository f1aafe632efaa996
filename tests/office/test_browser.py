"""The whole path as real users in a real browser (Playwright driving Debian's chromium,
headless): another agency's system sends a package through a real hub, the hub pushes it
to the office, the clerk registers it, the leader directs it, the officer finishes it, and
the sending system receives 01, 03, 04, 05, 06 in order. Also a return (02), a paper
document found by a search without diacritics, and another tenant's document by URL (404).

Screenshots go to ``docs/images/office/`` when ``LIENTHONG_OFFICE_SCREENSHOTS=1`` (they
illustrate docs/user-guide-office.md), else to the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from lienthong.office import hubsync
from lienthong.office.http.app import create_app
from lienthong.office.runtime import Office

from .officekit import (
    PASSWORD,
    REPO_IMAGES,
    HubWorld,
    Province,
    ServerThread,
    edoc,
    free_port,
    scanned_page,
    start_hub,
)

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


@pytest.fixture(scope="module")  # Playwright's sync API keeps an event loop running
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("chromium is not installed: run scripts/install-system-packages.sh")
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@dataclass
class Site:
    url: str
    hub: HubWorld
    office: Office
    province: Province
    shots: Path

    def shot(self, page: Any, name: str) -> None:
        page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)


@pytest.fixture
def site(
    office: Office, province: Province, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[Site]:
    """The office served over HTTP, connected to a real hub that pushes to it."""
    port = free_port()
    world, hub_server = start_hub(tmp_path, callback_url=f"http://127.0.0.1:{port}/hub/push")
    office.run(
        lambda s: hubsync.connect(
            s, hub_url=world.url, api_key=world.office_key, push_secret=world.office_secret
        )
    )
    server = ServerThread(create_app(office), port=port).start()
    keep = os.environ.get("LIENTHONG_OFFICE_SCREENSHOTS") == "1" and "sqlite" in request.node.name
    shots = REPO_IMAGES if keep else tmp_path / "shots"
    shots.mkdir(parents=True, exist_ok=True)
    try:
        yield Site(server.url, world, office, province, shots)
    finally:
        server.stop()
        world.sender.close()
        hub_server.stop()
        world.hub.close()


def new_page(browser: Any, site: Site, username: str, *, phone: bool = False) -> Any:
    viewport = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 860}
    context = browser.new_context(viewport=viewport, locale="vi-VN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(site.url + "/")
    expect(page).to_have_url(re.compile(r"/login"))
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_role("heading", name="Việc của tôi")).to_be_visible()
    return page


def reload_until_link(page: Any, name: str, timeout: float = 30.0) -> Any:
    """The push reaches the office asynchronously: reload "my work" until the link shows."""
    deadline = time.monotonic() + timeout
    link = page.get_by_role("link", name=name)
    while link.count() == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
        page.reload()
    return link


def test_clerk_leader_officer_walk_the_whole_path_and_the_sender_sees_every_status(
    browser: Any, site: Site
) -> None:
    subject = "V/v triển khai Quyết định số 1234 về chuyển đổi số tỉnh Đồng Tháp"
    site.hub.send(edoc(subject=subject))

    # the clerk: the package is in "to register"; register it → arrival number 1
    clerk = new_page(browser, site, "vanthu")
    link = reload_until_link(clerk, subject)
    expect(link).to_be_visible()
    site.shot(clerk, "01-van-thu-viec-cua-toi")
    link.click()
    expect(clerk.locator("#state")).to_have_text("Chờ vào sổ")
    site.shot(clerk, "02-van-thu-van-ban-den")
    clerk.get_by_role("button", name="Vào sổ").click()
    expect(clerk.locator("#arrival-number")).to_contain_text("1")
    expect(clerk.locator("#state")).to_have_text("Chờ chỉ đạo")
    site.shot(clerk, "03-van-thu-da-vao-so")

    # the leader: direct it to the officer with a deadline in working days
    leader = new_page(browser, site, "lanhdao")
    leader.get_by_role("link", name=subject).click()
    leader.get_by_label("Người chủ trì").select_option(label="Trần Thị Đông — Phòng Tổng hợp")
    leader.get_by_label("Người phối hợp").select_option(label="Phạm Văn Đức")
    leader.get_by_label("Hạn xử lý (số ngày làm việc)").fill("5")
    leader.get_by_label("Ý kiến chỉ đạo").fill("Giao Phòng Tổng hợp chủ trì tham mưu, báo cáo.")
    site.shot(leader, "04-lanh-dao-chi-dao")
    leader.get_by_role("button", name="Chỉ đạo").click()
    expect(leader.locator("#state")).to_have_text("Đã giao xử lý")

    # the officer: record progress, then finish with a result
    officer = new_page(browser, site, "chuyenvien")
    officer.get_by_role("link", name=subject).first.click()
    officer.get_by_label("Tiến độ xử lý").fill("Đã lấy ý kiến các sở, ngành.")
    officer.get_by_role("button", name="Cập nhật tiến độ").click()
    expect(officer.locator("#state")).to_have_text("Đang xử lý")
    officer.get_by_label("Kết quả xử lý").fill("Đã ban hành Công văn số 12/UBND-TH trả lời.")
    site.shot(officer, "05-chuyen-vien-xu-ly")
    officer.get_by_role("button", name="Hoàn thành xử lý").click()
    expect(officer.locator("#state")).to_have_text("Hoàn thành")
    expect(officer.locator("#history tbody tr")).to_have_count(5)
    officer.get_by_role("link", name="Phiếu giải quyết văn bản đến").click()
    expect(officer.get_by_role("heading", name="PHIẾU GIẢI QUYẾT VĂN BẢN ĐẾN")).to_be_visible()
    site.shot(officer, "06-phieu-giai-quyet")

    statuses = site.hub.statuses(expect=5)
    assert [s["status_code"] for s in statuses] == ["01", "03", "04", "05", "06"]


def test_the_clerk_returns_a_wrongly_addressed_document_and_the_sender_gets_02(
    browser: Any, site: Site
) -> None:
    subject = "Văn bản gửi nhầm: đề nghị cung cấp số liệu"
    site.hub.send(edoc(subject=subject))
    clerk = new_page(browser, site, "vanthu")
    reload_until_link(clerk, subject).click()
    clerk.get_by_label("Lý do trả lại").fill("Văn bản không thuộc thẩm quyền của UBND tỉnh.")
    site.shot(clerk, "07-van-thu-tra-lai")
    clerk.get_by_role("button", name="Trả lại nơi gửi").click()
    expect(clerk.locator("#state")).to_have_text("Đã trả lại")
    statuses = site.hub.statuses(expect=2)
    assert [s["status_code"] for s in statuses] == ["01", "02"]


def test_a_paper_document_is_entered_with_its_scan_and_found_without_diacritics(
    browser: Any, site: Site, tmp_path: Path
) -> None:
    scan = tmp_path / "ban-quet.pdf"
    scan.write_bytes(
        scanned_page(["ỦY BAN NHÂN DÂN HUYỆN ĐÔNG SƠN", "Kế hoạch phòng chống thiên tai năm 2027"])
    )
    clerk = new_page(browser, site, "vanthu")
    clerk.get_by_role("link", name="Nhập văn bản giấy").click()
    clerk.get_by_label("Cơ quan ban hành").fill("UBND huyện Đông Sơn (mẫu)")
    clerk.get_by_label("Số", exact=True).fill("88")
    clerk.get_by_label("Ký hiệu").fill("QĐ-UBND")
    clerk.get_by_label("Trích yếu").fill("Quyết định thành lập Đoàn kiểm tra xã Đông Hòa")
    clerk.get_by_label("Bản quét (PDF, ảnh)").set_input_files(str(scan))
    site.shot(clerk, "08-van-thu-nhap-van-ban-giay")
    clerk.get_by_role("button", name="Vào sổ").click()
    expect(clerk.locator("#arrival-number")).to_contain_text("1")
    expect(clerk.get_by_role("link", name="ban-quet.pdf")).to_be_visible()

    clerk.get_by_role("link", name="Văn bản đến", exact=True).click()
    clerk.get_by_label("Tìm kiếm (không cần dấu)").fill("quyet dinh dong hoa")
    results = clerk.locator("#results")
    expect(
        results.get_by_role("link", name=re.compile("Đoàn kiểm tra xã Đông Hòa"))
    ).to_be_visible()
    site.shot(clerk, "09-tim-kiem-khong-dau")
    clerk.get_by_label("Tìm kiếm (không cần dấu)").fill("quyet dinh tay son")
    expect(results).to_contain_text("Không tìm thấy văn bản nào.")

    # a word that is only inside the scanned page, once the worker has OCRed it
    clerk.goto(site.url + "/documents?q=phong+chong+thien+tai")
    found = reload_until_link(clerk, "Quyết định thành lập Đoàn kiểm tra xã Đông Hòa", timeout=120)
    expect(found).to_be_visible()
    site.shot(clerk, "11-tim-trong-ban-quet")


def test_another_agencys_document_by_url_is_404_and_forms_need_session_and_csrf(
    browser: Any, site: Site
) -> None:
    site.hub.send(edoc(subject="Văn bản chỉ của UBND tỉnh"))
    clerk = new_page(browser, site, "vanthu")
    reload_until_link(clerk, "Văn bản chỉ của UBND tỉnh").click()
    url = clerk.url
    other = new_page(browser, site, "vanthu.vp")
    response = other.goto(url)
    assert response is not None and response.status == 404
    expect(other.get_by_role("alert")).to_contain_text("Không tìm thấy")
    # a form post without the CSRF token, with the clerk's own session
    doc_path = url.removeprefix(site.url)
    r = clerk.request.post(site.url + doc_path + "/return", form={"reason": "x"})
    assert r.status == 403
    # and without any session
    anonymous = browser.new_context().request
    r = anonymous.post(site.url + doc_path + "/return", form={"reason": "x"}, max_redirects=0)
    assert r.status == 401
    expect(clerk.locator("#state")).to_have_text("Chờ vào sổ")


def test_my_work_is_usable_on_a_phone(browser: Any, site: Site) -> None:
    site.hub.send(edoc(subject="Giấy mời họp trực tuyến"))
    phone = new_page(browser, site, "vanthu", phone=True)
    link = reload_until_link(phone, "Giấy mời họp trực tuyến")
    expect(link).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1  # no sideways scrolling of the page itself
    site.shot(phone, "10-dien-thoai")
