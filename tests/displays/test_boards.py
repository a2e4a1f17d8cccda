"""LED board frames against the documented bytes, written through a real pty with pyserial."""

from __future__ import annotations

import io

import pytest

from displays.boards import AlphaSign, Framing, SevenSegment, ascii_text
from displays.boards.config import BoardsConfig, parse_counters
from displays.boards.controller import Sign, led_text
from displays.boards.serialport import Line

# Alpha Sign Communications Protocol (97088061): 5 NUL, SOH, type "Z", address "03", STX,
# Write TEXT "A", label "A", ESC, position " " (middle line), mode "b" (hold), text, EOT
ALPHA_B001 = (b"\x00\x00\x00\x00\x00" + b"\x01" + b"Z" + b"03" + b"\x02" + b"A" + b"A" + b"\x1b" + b" " + b"b"
              + b"B001" + b"\x04")


def test_alpha_frame_matches_the_protocol() -> None:
    sign = AlphaSign(io.BytesIO())
    assert sign.frame(3, "B001") == ALPHA_B001
    assert sign.frame(0x1F, "x")[6:9] == b"Z1F"  # address: two ASCII hex digits
    assert sign.frame(3, "B001", blink=True) == ALPHA_B001.replace(b"\x1b b", b"\x1b c")  # flash mode
    red = AlphaSign(io.BytesIO(), position="fill", mode="rotate", color="red").frame(3, "B001")
    assert red == ALPHA_B001.replace(b"\x1b bB001", b"\x1b0a\x1c1B001")
    # optional checksum: ETX and the 16-bit sum of STX..ETX as four hex digits, before EOT
    checked = AlphaSign(io.BytesIO(), checksum=True).frame(3, "B001")
    body = ALPHA_B001[ALPHA_B001.index(b"\x02"):-1] + b"\x03"
    assert checked == ALPHA_B001[:-1] + b"\x03" + b"%04X" % sum(body) + b"\x04"
    assert AlphaSign(io.BytesIO()).frame(3, "Quầy 5") == ALPHA_B001.replace(b"B001", b"Quay 5")
    with pytest.raises(ValueError):
        AlphaSign(io.BytesIO(), mode="sideways")
    with pytest.raises(ValueError):
        sign.frame(256, "x")


def test_seven_segment_frames() -> None:
    board = SevenSegment(io.BytesIO())
    xor = 0
    for b in b"03B001":
        xor ^= b
    assert board.frame(3, "B001") == b"\x02" + b"03" + b"B001" + b"%02X" % xor + b"\x03" == b"\x0203B00170\x03"
    assert board.frame(12, "----") == b"\x0212----" + b"%02X" % (0x31 ^ 0x32) + b"\x03"  # "----" xors to 0
    assert board.frame(3, "") == b"\x0203    " + b"%02X" % (0x30 ^ 0x33) + b"\x03"
    summed = SevenSegment(io.BytesIO(), Framing(checksum="sum", width=5, align="left", pad="0", address_hex=True,
                                                 start=b"\x02\x02", end=b"\r"))
    assert summed.frame(0x1A, "B1") == b"\x02\x02" + b"1AB1000" + b"%02X" % (sum(b"1AB1000") & 0xFF) + b"\r"
    digits_only = SevenSegment(io.BytesIO(), Framing(letters=False, checksum="none", width=3))
    assert digits_only.frame(7, "B001") == b"\x0207001\x03"
    assert digits_only.frame(7, "A1023") == b"\x0207023\x03"  # too long: the right-most digits stay
    assert Framing.from_dict({"start": "aa", "end": 85, "checksum": "none"}).start == b"\xaa"
    with pytest.raises(ValueError):
        board.frame(100, "1")
    with pytest.raises(ValueError):
        Framing(checksum="crc")


@pytest.mark.parametrize("driver", ["alpha", "sevenseg"])
def test_frames_reach_the_serial_line(pty_bus, driver: str) -> None:
    cfg = BoardsConfig.from_dict({"driver": driver, "port": pty_bus.path, "baudrate": 9600})
    with cfg.line.open() as port:
        board = cfg.make_driver(port)
        first = board.show(3, "B001")
        second = board.show(4, "----")
    end = pty_bus.wait_for(first)
    pty_bus.wait_for(second, start=end)
    assert bytes(pty_bus.data) == first + second
    assert first == (ALPHA_B001 if driver == "alpha" else b"\x0203B00170\x03")


def test_alpha_line_settings_7e2(pty_bus) -> None:
    with Line(pty_bus.path, 9600, 7, "E", 2).open() as port:
        frame = AlphaSign(port).show(3, "B001")
    pty_bus.wait_for(frame)


def test_text_for_states_and_config() -> None:
    assert ascii_text("Quầy số 5 – Đợi") == "Quay so 5  Doi"
    assert led_text({"status": "open", "number": "A001"}) == "A001"
    assert led_text({"status": "open", "number": None}) == ""
    assert led_text({"status": "paused", "number": "A001"}) == "----"
    assert led_text({"status": "closed", "number": None}, dashes="--") == "--"
    assert parse_counters("1-3,7") == [Sign(1, 1), Sign(2, 2), Sign(3, 3), Sign(7, 7)]
    assert Sign(7, 7).device == "led-07"
    cfg = BoardsConfig.from_dict({"driver": "alpha", "port": "/dev/null", "alpha": {"color": "amber"},
                                  "signs": [{"counter": 5, "address": 21, "device": "bang-5"}], "counters": "1-2"})
    assert cfg.signs == (Sign(5, 21, "bang-5"), Sign(1, 1), Sign(2, 2))
    assert cfg.make_driver(io.BytesIO()).frame(21, "A1").endswith(b"\x1c3A1\x04")
    with pytest.raises(ValueError):
        BoardsConfig.from_dict({"counters": "1-3", "signs": [{"counter": 9, "address": 2}]})
