"""HD44780 character LCD driven through a PCF8574 I2C backpack, in 4-bit mode.

The common backpack wires P0=RS, P1=RW, P2=E, P3=backlight, P4..P7=D4..D7. Every nibble is one
I2C byte with E high then one with E low. The bus is an interface (`I2CBus`): `SMBusI2C` on the
Pi (smbus2), `FakeI2C` in tests and simulators, which decodes the byte stream the way the
controller does, so a test reads back exactly what the glass would show.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Protocol

RS, RW, EN, BACKLIGHT = 0x01, 0x02, 0x04, 0x08
CLEAR, HOME, ENTRY_LEFT, DISPLAY_ON, FUNCTION_4BIT_2LINE, SET_DDRAM = 0x01, 0x02, 0x06, 0x0C, 0x28, 0x80
ROW_OFFSETS = (0x00, 0x40, 0x14, 0x54)  # 20x4 (16x2 uses the first two; 16x4 differs, see offsets())


def offsets(cols: int, rows: int) -> tuple[int, ...]:
    if cols == 16 and rows == 4:
        return (0x00, 0x40, 0x10, 0x50)
    return ROW_OFFSETS[:rows]


class I2CBus(Protocol):
    def write_byte(self, address: int, value: int) -> None: ...


class SMBusI2C:
    """The Pi's I2C bus (/dev/i2c-1) through smbus2, imported only here so tests need no hardware."""

    def __init__(self, bus: int = 1):
        from smbus2 import SMBus

        self._bus = SMBus(bus)

    def write_byte(self, address: int, value: int) -> None:
        self._bus.write_byte(address, value)

    def close(self) -> None:
        self._bus.close()


class HD44780:
    def __init__(self, bus: I2CBus, address: int = 0x27, cols: int = 20, rows: int = 4,
                 delay: Callable[[float], None] = time.sleep):
        self.bus, self.address, self.cols, self.rows = bus, address, cols, rows
        self.delay = delay
        self.backlight = BACKLIGHT
        self._offsets = offsets(cols, rows)

    def _write(self, value: int) -> None:
        self.bus.write_byte(self.address, value | self.backlight)

    def _nibble(self, value: int) -> None:
        self._write(value | EN)
        self._write(value & ~EN)

    def _send(self, byte: int, mode: int = 0) -> None:
        self._nibble((byte & 0xF0) | mode)
        self._nibble(((byte << 4) & 0xF0) | mode)

    def command(self, byte: int) -> None:
        self._send(byte)
        if byte in (CLEAR, HOME):
            self.delay(0.002)  # the only slow commands (1.52 ms); the rest finish within an I2C byte

    def init(self) -> None:
        """The datasheet's initialisation by instruction: works whatever state the LCD was left in."""
        self.delay(0.05)
        for wait in (0.0045, 0.0045, 0.00015):
            self._nibble(0x30)
            self.delay(wait)
        self._nibble(0x20)  # 4-bit mode from here on
        for cmd in (FUNCTION_4BIT_2LINE, 0x08, CLEAR, ENTRY_LEFT, DISPLAY_ON):
            self.command(cmd)

    def write_line(self, row: int, text: str) -> None:
        """Write an ASCII line at the start of `row` (padded or cut to the width)."""
        self.command(SET_DDRAM | self._offsets[row])
        for ch in text.ljust(self.cols)[: self.cols]:
            self._send(ord(ch) if ord(ch) < 128 else ord("?"), RS)

    def set_backlight(self, on: bool) -> None:
        self.backlight = BACKLIGHT if on else 0
        self._write(0)


class FakeI2C:
    """An I2C bus with an HD44780 behind a PCF8574: decodes the nibbles on E's falling edge, in
    8-bit mode until the function set switches to 4 bits, as the controller does after power-up."""

    def __init__(self, cols: int = 20, rows: int = 4, address: int = 0x27):
        self.cols, self.rows, self.address = cols, rows, address
        self.writes = 0
        self.ddram = bytearray(b" " * 128)
        self.addr = 0
        self.display_on = False
        self.backlight = False
        self._last = 0
        self._eight_bit = True
        self._high: int | None = None
        self._changed = threading.Condition()
        self._offsets = offsets(cols, rows)

    def write_byte(self, address: int, value: int) -> None:
        if address != self.address:
            raise OSError(121, "Remote I/O error")  # what smbus raises for an absent device
        with self._changed:
            self.writes += 1
            self.backlight = bool(value & BACKLIGHT)
            if self._last & EN and not value & EN:
                self._latch(value >> 4, value & RS)
            self._last = value
            self._changed.notify_all()

    def _latch(self, nibble: int, rs: int) -> None:
        if self._eight_bit:
            if not rs and nibble & 0x2 and not nibble & 0x1:  # function set, DL=0: 4-bit mode
                self._eight_bit = False
            return
        if self._high is None:
            self._high = nibble
            return
        byte, self._high = (self._high << 4) | nibble, None
        if rs:
            self.ddram[self.addr & 0x7F] = byte
            self.addr = (self.addr + 1) & 0x7F
        elif byte & 0x80:
            self.addr = byte & 0x7F
        elif byte == CLEAR:
            self.ddram[:] = b" " * 128
            self.addr = 0
        elif byte == HOME:
            self.addr = 0
        elif byte & 0xF8 == 0x08:
            self.display_on = bool(byte & 0x04)

    def lines(self) -> list[str]:
        with self._changed:
            return [self.ddram[o:o + self.cols].decode("ascii", "replace") for o in self._offsets]

    def wait_for(self, predicate: Callable[[list[str]], bool], timeout: float = 5.0) -> list[str]:
        """Block until what the glass shows satisfies `predicate` (writes come from other threads)."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.lines()), timeout):
                raise TimeoutError(f"LCD never matched; shows {self.lines()}")
            return self.lines()
