"""The hall screen shows a call from its `call` event, before the board that carries it: under load
the server holds the board back (up to 2 s) but never the calls. Here the board is held back at the
server's hub for as long as the test wants, so what the screen shows meanwhile can only come from the
`call` events; in real headless Chromium, the sound replaced by a recorder of what would be played."""

from __future__ import annotations

import threading

import pytest
from playwright.sync_api import expect

from hallserver.http.hub import Hub

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
FULL_HD = {"width": 1920, "height": 1080}
# Each clip the screen would play, in order; a clip "ends" at once, so the queue never waits on it.
RECORD_SOUND = """
window.__spoken = [];
window.Audio = class extends EventTarget {
  constructor(src) { super(); this.src = src; window.__spoken.push(src); }
  play() { setTimeout(() => this.dispatchEvent(new Event("ended")), 0); return Promise.resolve(); }
};
"""


class BoardHold:
    """Wraps a hall's hub: while `holding`, the server's boards wait here; calls go through."""

    def __init__(self, hub: Hub) -> None:
        self.forward = hub.on_publish
        self.lock = threading.Lock()
        self.holding = False
        self.held: list = []
        self.board_held = threading.Event()
        hub.on_publish = self.on_publish

    def on_publish(self, pub) -> None:
        with self.lock:
            if self.holding and pub.topic.endswith("/board"):
                self.held.append(pub)
                self.board_held.set()
                return
        self.forward(pub)

    def hold(self) -> None:
        with self.lock:
            self.holding = True
            self.board_held.clear()

    def release(self) -> int:
        with self.lock:
            self.holding = False
            held, self.held = self.held, []
        for pub in held:
            self.forward(pub)
        return len(held)


@pytest.fixture
def screen(browser):
    context = browser.new_context(viewport=FULL_HD, locale="vi-VN")
    context.add_init_script(RECORD_SOUND)
    page = context.new_page()
    yield page
    context.close()


def spoken(page) -> list[str]:
    return page.evaluate("window.__spoken.map((s) => new URL(s, location.href).search)")


def waiting(page, service: str):
    return page.locator(f'.service[data-service="{service}"] .waiting')


def test_call_shows_and_is_announced_before_its_board(screen, server, device):
    hold = BoardHold(server.hub)
    port = server.start_http_thread(port=0)
    screen.goto(f"http://127.0.0.1:{port}/screen")
    expect(screen.locator("#link")).to_be_hidden()
    kiosk, terminal = device("kiosk-1"), device("ct-04")
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    terminal.request("officer.login", {"officer": "o04", "pin": "0000"})
    expect(screen.locator('.tile[data-counter="4"] .ticket')).to_have_text("—")
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("2 chờ")
    screen.click("#sound")
    expect(screen.locator("#sound")).to_be_hidden()

    hold.hold()
    terminal.request("call.next")
    assert hold.board_held.wait(5), "the server published no board for the call"
    # from the call event alone: latest number, its counter, blink, the counter's tile, the voice
    expect(screen.locator("#latest-number")).to_have_text("B001", timeout=2000)
    expect(screen.locator("#latest-counter")).to_have_text("Quầy 4")
    expect(screen.locator(".latest")).to_have_class("latest blink")
    expect(screen.locator('.tile[data-counter="4"] .ticket')).to_have_text("B001")
    expect(screen.locator('.tile[data-counter="4"]')).to_have_class("tile open fresh")
    screen.wait_for_function("window.__spoken.length === 1", timeout=2000)
    assert spoken(screen) == ["?number=B001&counter=4"]
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("2 chờ")  # no new board reached the page

    # a second call while the boards still wait: merged into the last one shown, B001 moves down
    terminal.request("serve.done")
    terminal.request("call.next")
    expect(screen.locator("#latest-number")).to_have_text("B002", timeout=2000)
    expect(screen.locator("#recent li")).to_have_count(1)
    expect(screen.locator("#recent li").first).to_have_text("B001Quầy 4")
    expect(screen.locator('.tile[data-counter="4"] .ticket')).to_have_text("B002")
    screen.wait_for_function("window.__spoken.length === 2", timeout=2000)
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("2 chờ")

    # the held board arrives with both calls: it replaces the merged one, nothing is announced again
    assert hold.release() >= 1
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("0 chờ")
    expect(screen.locator("#latest-number")).to_have_text("B002")
    expect(screen.locator("#recent li")).to_have_count(1)
    assert spoken(screen) == ["?number=B001&counter=4", "?number=B002&counter=4"]

    # boards no longer held: the call and its board come together, the call is announced once
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("1 chờ")
    terminal.request("serve.done")
    terminal.request("call.next")
    expect(waiting(screen, "ke-hoach-dau-tu")).to_have_text("0 chờ")  # the board after the call
    expect(screen.locator("#latest-number")).to_have_text("B003")
    expect(screen.locator("#recent li")).to_have_count(2)
    assert spoken(screen) == ["?number=B001&counter=4", "?number=B002&counter=4", "?number=B003&counter=4"]


@pytest.mark.parametrize("subset", ["counters=1-3", "services=tu-phap"])
def test_call_outside_the_screens_subset_stays_hidden(screen, server, device, subset):
    hold = BoardHold(server.hub)
    port = server.start_http_thread(port=0)
    screen.goto(f"http://127.0.0.1:{port}/screen?{subset}")
    expect(screen.locator("#link")).to_be_hidden()
    kiosk, outside, inside = device("kiosk-1"), device("ct-04"), device("ct-01")
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    kiosk.request("ticket.take", {"service": "tu-phap"})
    outside.request("officer.login", {"officer": "o04", "pin": "0000"})
    inside.request("officer.login", {"officer": "o01", "pin": "0000"})
    expect(screen.locator('.tile[data-counter="1"] .ticket')).to_have_text("—")
    expect(waiting(screen, "tu-phap")).to_have_text("1 chờ")
    screen.click("#sound")
    expect(screen.locator("#sound")).to_be_hidden()

    hold.hold()
    outside.request("call.next")  # B001 at counter 4: not on this screen
    inside.request("call.next")  # A001 at counter 1: its event comes after B001's on the stream
    assert hold.board_held.wait(5), "the server published no board for the calls"
    expect(screen.locator("#latest-number")).to_have_text("A001", timeout=2000)
    expect(screen.locator("#latest-counter")).to_have_text("Quầy 1")
    expect(screen.locator('.tile[data-counter="1"] .ticket')).to_have_text("A001")
    expect(screen.locator('.tile[data-counter="4"]')).to_have_count(0)
    expect(screen.locator("#recent li")).to_have_count(0)
    screen.wait_for_function("window.__spoken.length >= 1", timeout=2000)
    assert spoken(screen) == ["?number=A001&counter=1"]
    expect(waiting(screen, "tu-phap")).to_have_text("1 chờ")  # no new board reached the page

    assert hold.release() >= 1
    expect(waiting(screen, "tu-phap")).to_have_text("0 chờ")
    expect(screen.locator("#latest-number")).to_have_text("A001")
    assert "B001" not in screen.inner_text("main")
    assert spoken(screen) == ["?number=A001&counter=1"]
