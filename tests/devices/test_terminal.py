"""The counter terminal: its key map and screens (pure), the matrix keypad on mock pins, and end
to end against the real server: login and NEXT typed on the keypad show on the LCD (a fake I2C bus
decoded like the HD44780) and on the LED display's state."""

from __future__ import annotations

import queue

import pytest

from firmware.charlcd import HD44780, FakeI2C, LcdDisplay, MemoryDisplay, to_ascii
from firmware.counter_terminal.keypad import Debouncer, MatrixKeypad
from firmware.counter_terminal.menu import Action, Menu
from firmware.counter_terminal.screen import compose
from firmware.counter_terminal.terminal import CounterTerminal
from firmware.pilink import DeviceLink

STATE = {"v": 1, "kind": "terminal", "counter": 5, "counter_name": "Quầy 5", "status": "open",
         "pause_reason": None, "officer": {"id": "o05", "name": "Nguyễn Văn Đức"},
         "current": {"number": "B017", "service": "ke-hoach-dau-tu", "status": "called",
                     "called_at": "2026-11-23T08:15:03+07:00", "recalls": 1},
         "held": ["B003", "B009"], "services": [{"code": "ke-hoach-dau-tu", "prefix": "B", "waiting": 12}]}
SERVICES = [("tu-phap", "Sở Tư pháp"), ("ke-hoach-dau-tu", "Sở Kế hoạch và Đầu tư")]


def typed(keys: str, state: dict | None = STATE, menu: Menu | None = None) -> list[Action]:
    menu = menu or Menu(lambda d: f"o{int(d):02d}", lambda: SERVICES)
    return [a for a in (menu.press(k, state, 0.0) for k in keys) if a is not None]


@pytest.mark.parametrize(("keys", "expected"), [
    ("A", [Action("call.next")]), ("B", [Action("call.recall")]), ("C", [Action("serve.done")]),
    ("D", [Action("call.no_show")]), ("*2", [Action("serve.hold")]), ("*4", [Action("counter.pause")]),
    ("*0#", [Action("officer.logout")]), ("*15#0000#", [Action("officer.login", {"officer": "o05", "pin": "0000"})]),
    ("*3 12#".replace(" ", ""), [Action("serve.transfer", {"counter": 12})]),
    ("*3AA#", [Action("serve.transfer", {"service": "ke-hoach-dau-tu"})]),
    ("*5A#", [Action("call.next", {"ticket": "B009"})]),
    ("*15#12#", []),  # a PIN of two digits is not sent
    ("*15*A", [Action("call.next")]),  # * cancels the entry; A is NEXT again
    ("123#", []),  # digits alone do nothing
])
def test_key_map(keys, expected):
    assert [(a.t, a.fields) for a in typed(keys)] == [(a.t, a.fields) for a in expected]


def test_pause_toggles_and_entries_time_out():
    assert [a.t for a in typed("*4", dict(STATE, status="paused"))] == ["counter.resume"]
    menu = Menu()
    menu.press("*", STATE, 0.0)
    menu.press("1", STATE, 1.0)
    assert menu.prompt(STATE)[0] == "ĐĂNG NHẬP" and not menu.expire(20.0)
    assert menu.expire(40.0) and menu.prompt(STATE) is None


def test_screens_20x4_and_16x2():
    assert compose(STATE, 20, 4, link_ok=True) == [
        "Quầy 5 Nguyễn Văn Đức", "SỐ B017 GỌI LẠI 1", "CHỜ B:12 GIỮ:2", "A TIẾP B LẠI C XONG"]
    assert compose(STATE, 16, 2, link_ok=True) == ["SỐ B017 GỌI LẠI 1", "CHỜ B:12 GIỮ:2"]
    down = compose(STATE, 20, 4, link_ok=False, message="KHÔNG GỬI ĐƯỢC")
    assert down[2:] == ["KHÔNG GỬI ĐƯỢC", "MẤT KẾT NỐI"]
    assert compose(STATE, 16, 2, link_ok=False)[1] == "MẤT KẾT NỐI"
    closed = dict(STATE, status="closed", officer=None, current=None)
    assert compose(closed, 20, 4, link_ok=True)[:2] == ["Quầy 5", "CHƯA ĐĂNG NHẬP"]


def test_lcd_shows_the_transliteration_on_the_glass():
    bus = FakeI2C(20, 4)
    LcdDisplay(HD44780(bus, delay=lambda s: None)).show(compose(STATE, 20, 4, link_ok=False))
    assert [line.rstrip() for line in bus.lines()] == [
        "Quay 5 Nguyen Van Du", "SO B017 GOI LAI 1", "CHO B:12 GIU:2", "MAT KET NOI"]
    assert bus.display_on and bus.backlight
    assert to_ascii("Đường Hầm Thủ Thiêm ~ \\") == "Duong Ham Thu Thiem - /"


def test_debounce_ignores_contact_bounce():
    d = Debouncer(scans=3)
    readings = [True, False, True, False, True, True, True, True, False, False, False, True]
    assert [d.sample("A", r) for r in readings].count(True) == 1


def test_matrix_keypad_scans_one_press_per_key(matrix):
    keys: queue.Queue[str] = queue.Queue()
    pad = MatrixKeypad((5, 6, 13, 19), (12, 16, 20, 21), scan_s=0.001).start(keys.put)
    try:
        for key in "A5#DD":
            matrix.down(key)
            assert keys.get(timeout=5) == key
            matrix.up(key)
            assert pad.idle.wait(5)
        with pytest.raises(queue.Empty):
            keys.get(timeout=0.05)  # held keys do not repeat
    finally:
        pad.close()


# -- end to end --------------------------------------------------------------------------------
def type_keys(matrix, pad: MatrixKeypad, seen: queue.Queue, keys: str) -> None:
    """Press and release each key like a finger: down until scanned, up until seen released."""
    for key in keys:
        matrix.down(key)
        assert seen.get(timeout=5) == key
        matrix.up(key)
        assert pad.idle.wait(5)


def test_keypad_login_and_next_show_on_the_lcd_and_the_led_display(server, device, matrix):
    kiosk, led = device("kiosk-1"), device("led-05")
    kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
    bus = FakeI2C(20, 4)
    results: queue.Queue = queue.Queue()
    terminal = CounterTerminal(device("ct-05"), LcdDisplay(HD44780(bus, delay=lambda s: None)),
                               hall={"officers": [{"id": "o05"}]},
                               on_result=lambda action, reply, code: results.put((action.t, code))).start()
    seen: queue.Queue[str] = queue.Queue()
    pad = MatrixKeypad((5, 6, 13, 19), (12, 16, 20, 21), scan_s=0.001).start(
        lambda key: (terminal.press(key), seen.put(key)))
    try:
        bus.wait_for(lambda lines: lines[1].startswith("CHUA DANG NHAP"))
        type_keys(matrix, pad, seen, "*15#0000#")
        assert results.get(timeout=10) == ("officer.login", None)
        bus.wait_for(lambda lines: lines[0].startswith("Quay 5 ") and lines[1].startswith("SO: ---"))
        type_keys(matrix, pad, seen, "A")
        assert results.get(timeout=10) == ("call.next", None)
        lines = bus.wait_for(lambda lines: lines[1].startswith("SO B001 DANG GOI"))
        assert lines[2].startswith("CHO B:0")
        led.wait_state(lambda s: s["number"] == "B001" and s["status"] == "open")
        type_keys(matrix, pad, seen, "A")  # the counter is busy with B001
        assert results.get(timeout=10) == ("call.next", "counter_busy")
        bus.wait_for(lambda lines: lines[3].startswith("DANG PHUC VU SO"))
    finally:
        pad.close()
        terminal.close()


def test_a_press_while_the_reply_is_pending_is_not_sent_twice(server, device):
    device("kiosk-1").request("ticket.take", {"service": "ke-hoach-dau-tu"})
    link = device("ct-05")
    link.request("officer.login", {"officer": "o05", "pin": "0000"})
    display = MemoryDisplay(20, 4)
    done: queue.Queue = queue.Queue()
    terminal = CounterTerminal(link, display, on_result=lambda *r: done.put(r)).start()
    terminal.press("A")
    terminal.press("A")  # the officer presses again before the reply
    assert done.get(timeout=10)[2] is None
    assert (terminal.sent, terminal.ignored_pending) == (1, 1)
    display.wait_for(lambda text: "SỐ B001 ĐANG GỌI" in text)
    terminal.close()


def test_link_down_is_shown_and_keys_are_refused_not_queued(mqtt_url, hall_id):
    link = DeviceLink(mqtt_url, hall_id, "ct-05")  # never connected: the broker is "unreachable"
    display = MemoryDisplay(16, 2)
    terminal = CounterTerminal(link, display).start()
    display.wait_for(lambda text: "MẤT KẾT NỐI" in text)
    terminal.press("A")
    assert (terminal.sent, terminal.refused_offline) == (0, 1) and terminal.pending is None
    display.wait_for(lambda text: text.startswith("KHÔNG GỬI ĐƯỢC") and "MẤT KẾT NỐI" in text)
    terminal.close()
