"""End to end in headless Debian Chromium, as a manager would: sign in, watch a call made over MQTT
appear on the dashboard (timed), reassign a counter and see its next call follow, download an XLSX
and read it back, and follow a ticket on its tracking page while it is called."""

from __future__ import annotations

import io
import time
from datetime import timedelta

import openpyxl
import pytest
from manager_kit import PASSWORD
from playwright.sync_api import expect

from hallserver.store.accounts import Accounts
from hallserver.store.models import TicketRow

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


@pytest.fixture
def manager_page(page, server, http_base):
    from manager_kit import create_users

    create_users(Accounts(server.store), server.service.now())
    page.goto(http_base + "/dashboard")
    expect(page).to_have_url(http_base + "/login?next=/dashboard")
    page.fill('input[name="username"]', "manager")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(http_base + "/dashboard")
    expect(page.locator("#link")).to_have_class("badge live")
    return page


def test_call_reassign_and_export(manager_page, http_base, device, server):
    page = manager_page
    kiosk, terminal = device("kiosk-1"), device("ct-03")
    b1 = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    expect(page.locator('#services tr[data-service="ke-hoach-dau-tu"] td.waiting')).to_have_text("1")
    terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
    card = page.locator('.ctr[data-counter="3"]')
    expect(card.locator(".officer")).to_have_text(server.config.officers["o03"].name)
    sent = time.monotonic()
    terminal.request("call.next")
    expect(card.locator(".ticket")).to_have_text(b1["number"], timeout=2000)
    elapsed_ms = (time.monotonic() - sent) * 1000
    print(f"call.next -> manager dashboard: {elapsed_ms:.0f} ms")
    expect(card.locator(".since")).to_contain_text("đang phục vụ")

    # the manager moves counter 3 from Kế hoạch và Đầu tư to Y tế
    card.locator("button.edit").click()
    dialog = page.locator("#editor")
    expect(dialog).to_be_visible()
    dialog.locator('#editor-services li[data-service="ke-hoach-dau-tu"] button', has_text="Bỏ").click()
    dialog.locator("#editor-add").select_option("y-te")
    dialog.locator("#editor-add-btn").click()
    dialog.locator("#editor-save").click()
    expect(dialog.locator("#editor-msg")).to_contain_text("Đã lưu")
    # the terminal's retained state shows it at once, before its next call
    state = terminal.wait_state(lambda s: [x["code"] for x in s["services"]] == ["y-te"], timeout=5)
    assert state["current"]["number"] == b1["number"]
    dialog.locator("#editor-done").click()
    expect(page.locator("#audit tr").first).to_contain_text("counter.services")

    b2 = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    g1 = kiosk.request("ticket.take", {"service": "y-te"})["ticket"]
    terminal.request("serve.done")
    assert terminal.request("call.next")["ticket"]["number"] == g1["number"]  # not the older B ticket
    expect(card.locator(".ticket")).to_have_text(g1["number"])
    expect(page.locator('#services tr[data-service="ke-hoach-dau-tu"] td.waiting')).to_have_text("1")
    assert b2["number"].startswith("B")

    # the reports page: download every table as one XLSX and read it back
    page.goto(http_base + "/reports")
    with page.expect_download() as info:
        page.click("#export-all")
    data = info.value.path().read_bytes()
    book = openpyxl.load_workbook(io.BytesIO(data))
    assert "Theo cán bộ" in book.sheetnames and "Theo đơn vị (dịch vụ)" in book.sheetnames
    officers = list(book["Theo cán bộ"].iter_rows(values_only=True))
    header, rows = officers[0], {r[0]: dict(zip(officers[0], r, strict=True)) for r in officers[1:]}
    assert header[:3] == ("Mã cán bộ", "Cán bộ", "Đã phục vụ")
    assert rows["o03"]["Đã phục vụ"] == 1 and rows["o03"]["Số được gọi"] == 2
    units = {r[0]: r for r in book["Theo đơn vị (dịch vụ)"].iter_rows(values_only=True)}
    assert units["ke-hoach-dau-tu"][3] == 2 and units["y-te"][3] == 1  # issued


def test_ticket_tracking_page_is_live(page, http_base, device, server):
    kiosk, terminal = device("kiosk-2"), device("ct-05")
    first = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    mine = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    token = mine["track_url"].rsplit("/", 1)[-1]
    page.goto(f"{http_base}/t/{token}")
    expect(page.locator("#number")).to_have_text(mine["number"])
    expect(page.locator("#details")).to_contain_text("Số người trước bạn")
    expect(page.locator("#link")).to_contain_text("trực tiếp")
    terminal.request("officer.login", {"officer": "o05", "pin": "0000"})
    assert terminal.request("call.next")["ticket"]["number"] == first["number"]
    expect(page.locator("#details dd").nth(2)).to_have_text("0")  # nobody ahead any more
    terminal.request("serve.done")
    terminal.request("call.next")
    expect(page.locator("#call")).to_have_text("Mời bạn đến Quầy 5 · Please go to Quầy 5")
    assert "nguoi" not in page.content()  # no priority category, nothing personal

    with server.store.sessions.begin() as s:  # a ticket of yesterday
        now = server.service.now()
        s.add(TicketRow(hall=server.config.id, day=(now - timedelta(days=1)).date(), number="A077", service="tu-phap",
                        first_service="tu-phap", status="done", token="yesterdays-token", issued_at=now,
                        recalls=0, transfers=0))
    page.goto(f"{http_base}/t/yesterdays-token")
    expect(page.locator("#error")).to_contain_text("Số A077 của ngày")
    expect(page.locator("#error")).to_contain_text("đã hết hiệu lực")
    page.goto(f"{http_base}/t/not-a-ticket-token")
    expect(page.locator("#error")).to_contain_text("Không tìm thấy số thứ tự")
    page.goto(f"{http_base}/t/bad!")
    expect(page.locator("#error")).to_contain_text("không hợp lệ")


def test_manager_edits_the_hall_screens_notice(manager_page, http_base, browser, server):
    screen = browser.new_page(viewport={"width": 1920, "height": 1080})
    try:
        screen.goto(http_base + "/screen")
        expect(screen.locator("#notice")).to_have_text(server.config.notice)
        notice = "Hôm nay quầy 5 tạm nghỉ từ 10 giờ. Xin cảm ơn!"
        manager_page.fill("#notice-text", notice)
        manager_page.click("#notice-form button")
        expect(manager_page.locator("#hall-msg")).to_have_text("✓")
        expect(screen.locator("#notice")).to_have_text(notice)  # pushed to the hall screen live
        manager_page.select_option("#policy", "sla")
        manager_page.click("#policy-form button")
        expect(manager_page.locator("#hall-msg")).to_have_text("✓")
        assert server.service.hall.policy.name == "sla"
    finally:
        screen.close()
