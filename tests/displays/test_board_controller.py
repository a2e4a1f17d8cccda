"""The display controller against a real hall server: a real call.next reaches the counter's board
on the serial line (a pty), in the board's protocol; paused and closed counters show dashes."""

from __future__ import annotations

import threading

import pytest

from displays.boards import AlphaSign, SevenSegment
from displays.boards.controller import BoardController, Sign
from displays.boards.serialport import Line

SYNC = b"\x00" * 5 + b"\x01Z"


def alpha(address: int, text: str, mode: bytes) -> bytes:
    return SYNC + b"%02X" % address + b"\x02AA\x1b " + mode + text.encode() + b"\x04"


def seven(address: int, text: str) -> bytes:
    body = b"%02d" % address + text.rjust(4).encode()
    x = 0
    for b in body:
        x ^= b
    return b"\x02" + body + b"%02X" % x + b"\x03"


@pytest.mark.parametrize("kind", ["sevenseg", "alpha"])
def test_call_next_reaches_the_board(server, device, mqtt_url, hall_id, pty_bus, kind: str) -> None:
    port = Line(pty_bus.path).open()
    driver = SevenSegment(port) if kind == "sevenseg" else AlphaSign(port)
    shown: list[tuple[int, str]] = []
    changed = threading.Condition()

    def on_shown(sign: Sign, text: str, frame: bytes) -> None:
        with changed:
            shown.append((sign.address, text))
            changed.notify_all()

    # counter 3's board sits at bus address 13; counter 4's at its own number
    controller = BoardController(mqtt_url, hall_id, driver, [Sign(3, 13), Sign(4, 4)], blink_s=0.2,
                                 client_id=f"boards-{hall_id}", on_shown=on_shown).start()
    try:
        # nobody logged in: both counters closed, restored from the retained states
        closed = (alpha(13, "----", b"b"), alpha(4, "----", b"b")) if kind == "alpha" else (seven(13, "----"),
                                                                                            seven(4, "----"))
        for frame in closed:
            pty_bus.wait_for(frame)
        terminal, kiosk = device("ct-03"), device("kiosk-1")
        terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
        kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
        mark = len(pty_bus.data)
        terminal.request("call.next")
        if kind == "alpha":  # a new call flashes, then holds
            end = pty_bus.wait_for(alpha(13, "B001", b"c"), start=mark)
            pty_bus.wait_for(alpha(13, "B001", b"b"), start=end)
        else:
            pty_bus.wait_for(seven(13, "B001"), start=mark)
        terminal.request("serve.done")
        terminal.request("counter.pause", {"reason": "Họp giao ban"})
        pty_bus.wait_for(alpha(13, "----", b"b") if kind == "alpha" else seven(13, "----"), start=mark)
        with changed:
            assert changed.wait_for(lambda: shown[-1] == (13, "----"), 5)
        assert all(address in (4, 13) for address, _ in shown)
        assert (4, "B001") not in shown
    finally:
        controller.close()
        port.close()
