"""Two halls under /h/{hall} in headless Debian Chromium: the overview, the hall screen, the
dashboard (a call over MQTT in hall B shows on B's and not on A's), the tracking page behind a
ticket's QR link, the kiosk, and the province index with its live figures."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import PASSWORD

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def sign_in(page, url: str, username: str) -> None:
    page.fill('input[name="username"]', username)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    expect(page).to_have_url(url)


def test_each_hall_works_under_its_prefix(province, device, page):
    a, b = province.url(province.a), province.url(province.b)
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(province.base) else None)
    page.on("response", lambda r: outside.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # the dashboards: sign in once (at hall B), both open; hall A's in a second tab
    page.goto(b + "dashboard")
    expect(page).to_have_url(f"{b}login?next=/h/{province.b}/dashboard")
    sign_in(page, b + "dashboard", "province")
    expect(page.locator("#link")).to_have_class("badge live")
    page_a = page.context.new_page()
    page_a.goto(a + "dashboard")
    expect(page_a.locator("#link")).to_have_class("badge live")
    overview, screen = page.context.new_page(), page.context.new_page()
    overview.goto(b)
    expect(overview.locator("#hall-name")).to_have_text("Sảnh B")
    expect(overview.locator("#link")).to_have_class("badge live")
    screen.goto(b + "screen")
    expect(screen.locator("#hall-name")).to_have_text("Sảnh B")

    kiosk, terminal = device(province.b, "kiosk-1"), device(province.b, "ct-03")
    ticket = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    assert ticket["track_url"].startswith(f"{b}t/")
    expect(page.locator('#services tr[data-service="ke-hoach-dau-tu"] td.waiting')).to_have_text("1")
    tracking = page.context.new_page()
    tracking.goto(ticket["track_url"])  # what the QR code on the printed ticket opens
    expect(tracking.locator("#number")).to_have_text(ticket["number"])
    expect(tracking.locator("#link")).to_contain_text("trực tiếp")
    terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
    terminal.request("call.next")
    expect(page.locator('.ctr[data-counter="3"] .ticket')).to_have_text(ticket["number"])
    expect(overview.locator("#recent li").first).to_contain_text(ticket["number"])
    expect(screen.locator('.tile[data-counter="3"] .ticket')).to_have_text(ticket["number"])
    expect(tracking.locator("#call")).to_be_visible()
    # hall A saw none of it
    expect(page_a.locator('#services tr[data-service="ke-hoach-dau-tu"]')).to_have_count(0)
    expect(page_a.locator('.ctr[data-counter="3"] .ticket')).not_to_have_text(ticket["number"])
    expect(page_a.locator("#k-issued")).to_have_text("0")

    # a manager's change goes to hall A only (a POST with the CSRF token under /h/{hall}/api)
    page_a.fill("#notice-text", "Sảnh A nghỉ trưa 12:00")
    page_a.click("#notice-form button[type=submit]")
    expect(page_a.locator("#hall-msg")).to_have_text("✓")
    assert province.halls[province.a].service.snapshot(lambda h, now: h.notice) == "Sảnh A nghỉ trưa 12:00"
    assert province.halls[province.b].service.snapshot(lambda h, now: h.notice) != "Sảnh A nghỉ trưa 12:00"

    # the kiosk of hall A: a touch takes a ticket in hall A (Chromium keeps at most 6 connections per
    # server, and each open page holds an event stream: close the pages that are done)
    for done in (overview, screen, tracking):
        done.close()
    kiosk_page = page.context.new_page()
    kiosk_page.goto(a + "kiosk/kiosk-1")
    expect(kiosk_page.locator("#hall")).to_have_text("Sảnh A")
    kiosk_page.locator('#services button[data-service="tu-phap"]').click()
    expect(kiosk_page.locator("#number")).to_have_text("A001")
    expect(page_a.locator('#services tr[data-service="tu-phap"] td.waiting')).to_have_text("1")
    expect(page.locator('#services tr[data-service="tu-phap"]')).to_have_count(0)
    assert outside == [], outside  # every asset and call stayed on this server, none failed


def test_index_and_isolation_in_the_browser(province, device, page):
    page.goto(province.base + "/")
    expect(page).to_have_url(province.base + "/login?next=/")
    sign_in(page, province.base + "/", "province")
    rows = page.locator("#halls tbody tr")
    expect(rows).to_have_count(2)
    row_a, row_b = (page.locator(f'#halls tr[data-hall="{h}"]') for h in (province.a, province.b))
    expect(row_a.locator("td.name a")).to_have_text("Sảnh A")
    expect(row_b.locator("td.name a")).to_have_text("Sảnh B")
    expect(row_a.locator("td.waiting")).to_have_text("0")
    counters = len(province.halls[province.a].config.counters)
    expect(row_a.locator("td.open")).to_have_text(f"0 / {counters}")
    kiosk = device(province.a, "kiosk-1")
    kiosk.request("ticket.take", {"service": "tu-phap"})
    kiosk.request("ticket.take", {"service": "y-te"})
    terminal = device(province.b, "ct-01")
    terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
    expect(row_a.locator("td.waiting")).to_have_text("2", timeout=10_000)  # refreshed by the page
    expect(row_a.locator("td.issued")).to_have_text("2")
    expect(row_b.locator("td.open")).to_have_text(f"1 / {counters}")
    expect(row_b.locator("td.issued")).to_have_text("0")
    row_b.locator("td.name a").click()
    expect(page).to_have_url(province.url(province.b, "/dashboard"))
    expect(page.locator("#link")).to_have_class("badge live")

    # an account bound to hall A: sent to its hall from the index, refused hall B
    page.context.clear_cookies()
    page.goto(province.base + "/")
    sign_in(page, province.url(province.a, "/dashboard"), "manager-a")
    response = page.goto(province.url(province.b, "/dashboard"))
    assert response.status == 403
    expect(page.locator("p.error")).to_contain_text("thuộc một sảnh khác")
    assert page.request.get(province.url(province.b, "/api/dashboard")).status == 403
    page.click("#province-home")
    expect(page).to_have_url(province.url(province.a, "/dashboard"))
