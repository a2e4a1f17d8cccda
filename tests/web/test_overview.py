"""The live overview page in a real browser: a call made over MQTT shows within a second, and the
page survives a lost stream by keeping its last board."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect


@pytest.fixture
def http_base(server) -> str:
    port = server.start_http_thread(port=0)
    return f"http://127.0.0.1:{port}"


@pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
def test_call_appears_live(page, http_base, device):
    kiosk, terminal = device("kiosk-1"), device("ct-03")
    page.goto(http_base + "/")
    expect(page.locator("#hall-name")).to_have_text("Trung tâm Phục vụ hành chính công tỉnh")
    expect(page.locator("#link")).to_have_class("badge live")

    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    expect(page.locator('#queues tr[data-service="ke-hoach-dau-tu"] td.num').first).to_have_text("1")
    terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
    sent = time.monotonic()
    terminal.request("call.next")
    expect(page.locator("#recent li").first).to_contain_text("B001", timeout=1000)
    elapsed = time.monotonic() - sent
    expect(page.locator('.counter[data-counter="3"] .ticket')).to_have_text("B001")
    print(f"call.next -> overview page: {elapsed * 1000:.0f} ms")
    assert page.evaluate("document.documentElement.lang") == "vi"


@pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
def test_every_asset_is_served_locally(page, http_base):
    outside: list[str] = []
    page.on("request", lambda r: outside.append(r.url) if not r.url.startswith(http_base) else None)
    page.goto(http_base + "/")
    expect(page.locator("#link")).to_have_class("badge live")
    page.goto(http_base + "/docs")
    assert outside == [] or all(u.startswith("data:") for u in outside), outside
