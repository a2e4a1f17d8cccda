"""The hall screen in real headless Chromium at TV sizes: live calls within a second, a stale mark
and recovery without reload across a server restart, subsets by URL, everything served locally."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from hallserver.bootstrap import Runtime

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
FULL_HD = {"width": 1920, "height": 1080}


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=FULL_HD, locale="vi-VN")
    page = context.new_page()
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith("http://127.0.0.1") else None)
    yield page
    context.close()
    assert outside == [], f"the screen fetched from outside the hall server: {outside}"


def test_call_shows_within_a_second(screen, server, device):
    port = server.start_http_thread(port=0)
    screen.goto(f"http://127.0.0.1:{port}/screen")
    expect(screen.locator("#hall-name")).to_have_text("Trung tâm Phục vụ hành chính công tỉnh")
    expect(screen.locator("#link")).to_be_hidden()
    kiosk, terminal = device("kiosk-1"), device("ct-04")
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    expect(screen.locator('.service[data-service="ke-hoach-dau-tu"] .waiting')).to_have_text("1 chờ")
    terminal.request("officer.login", {"officer": "o04", "pin": "0000"})
    sent = time.monotonic()
    terminal.request("call.next")
    expect(screen.locator("#latest-number")).to_have_text("B001", timeout=1000)
    print(f"call.next -> hall screen: {(time.monotonic() - sent) * 1000:.0f} ms")
    expect(screen.locator("#latest-counter")).to_have_text("Quầy 4")
    # after the one click a kiosk needs, each new call is spoken
    screen.click("#sound")
    expect(screen.locator("#sound")).to_be_hidden()
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    terminal.request("serve.done")
    with screen.expect_response(lambda r: "/api/voice/call.wav" in r.url and "B002" in r.url) as clip:
        terminal.request("call.next")
    assert clip.value.status in (200, 206) and clip.value.header_value("content-type") == "audio/wav"
    expect(screen.locator('.tile[data-counter="4"] .ticket')).to_have_text("B002")
    expect(screen.locator(".latest")).to_have_class("latest blink")
    # legible from 10 m: the called number is about a fifth of the screen's height
    size = screen.eval_on_selector("#latest-number", "e => parseFloat(getComputedStyle(e).fontSize)")
    assert size >= 180
    font = screen.eval_on_selector("#latest-number", "e => getComputedStyle(e).fontFamily")
    assert "Be Vietnam Pro" in font
    assert screen.evaluate("document.fonts.check('700 40px \"Be Vietnam Pro\"', 'Mời công dân')")


def test_recovers_after_server_restart_without_reload(screen, server, device, mqtt_url):
    port = server.start_http_thread(port=0)
    screen.goto(f"http://127.0.0.1:{port}/screen")
    kiosk, terminal = device("kiosk-1"), device("ct-01")
    kiosk.request("ticket.take", {"service": "tu-phap"})
    kiosk.request("ticket.take", {"service": "tu-phap"})
    terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
    terminal.request("call.next")
    expect(screen.locator("#latest-number")).to_have_text("A001")
    screen.evaluate("window.__marker = 'same page'")

    server.stop()
    expect(screen.locator("#link")).to_be_visible()  # marked stale...
    expect(screen.locator("#latest-number")).to_have_text("A001")  # ...but the last board stays

    again = Runtime(server.settings, server.config).start()
    try:
        again.start_http_thread(port=port)
        expect(screen.locator("#link")).to_be_hidden(timeout=15000)
        terminal.request("serve.done")
        terminal.request("call.next")
        expect(screen.locator("#latest-number")).to_have_text("A002")
        assert screen.evaluate("window.__marker") == "same page"
    finally:
        again.stop()


def test_subset_by_url_and_other_sizes(screen, server, device):
    port = server.start_http_thread(port=0)
    device("kiosk-1").request("ticket.take", {"service": "giao-thong"})
    screen.goto(f"http://127.0.0.1:{port}/screen?services=giao-thong,tu-phap")
    expect(screen.locator(".service")).to_have_count(2)
    expect(screen.locator('.service[data-service="giao-thong"] .waiting')).to_have_text("1 chờ")
    for viewport in ({"width": 1280, "height": 720}, {"width": 1080, "height": 1920}):
        screen.set_viewport_size(viewport)
        box = screen.locator("#latest-number").bounding_box()
        assert box and box["y"] + box["height"] <= viewport["height"]
        assert screen.evaluate("document.documentElement.scrollWidth") <= viewport["width"]
