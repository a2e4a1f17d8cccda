"""Text displays the agents draw on: whole screens of lines, redrawn only where they changed."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Protocol, TextIO

from firmware.charlcd.hd44780 import HD44780
from firmware.charlcd.translit import to_ascii


def fit(lines: list[str], cols: int, rows: int) -> list[str]:
    """Exactly `rows` lines of exactly `cols` characters."""
    out = [line[:cols].ljust(cols) for line in lines[:rows]]
    return out + [" " * cols] * (rows - len(out))


class TextDisplay(Protocol):
    cols: int
    rows: int

    def show(self, lines: list[str]) -> None: ...


class LcdDisplay:
    """An HD44780: Vietnamese transliterated to ASCII, only changed lines rewritten (I2C is slow:
    a full 20x4 screen is ~330 bytes, about 30 ms at 100 kHz)."""

    def __init__(self, lcd: HD44780):
        self.lcd, self.cols, self.rows = lcd, lcd.cols, lcd.rows
        self._shown: list[str | None] = [None] * lcd.rows
        self._lock = threading.Lock()
        lcd.init()

    def show(self, lines: list[str]) -> None:
        with self._lock:
            for row, text in enumerate(fit([to_ascii(t) for t in lines], self.cols, self.rows)):
                if self._shown[row] != text:
                    self.lcd.write_line(row, text)
                    self._shown[row] = text


class ConsoleDisplay:
    """The fallback without an LCD (and the demo's): prints each new screen, framed."""

    def __init__(self, cols: int = 20, rows: int = 4, ascii_only: bool = False, out: TextIO | None = None):
        self.cols, self.rows, self.ascii_only = cols, rows, ascii_only
        self.out = out or sys.stdout
        self._last: list[str] | None = None
        self._lock = threading.Lock()

    def show(self, lines: list[str]) -> None:
        text = fit([to_ascii(t) if self.ascii_only else t for t in lines], self.cols, self.rows)
        with self._lock:
            if text == self._last:
                return
            self._last = text
            bar = "+" + "-" * self.cols + "+"
            self.out.write("\n".join([bar, *(f"|{t}|" for t in text), bar]) + "\n")
            self.out.flush()


class MemoryDisplay:
    """Keeps the last screen (Unicode, as the agent composed it): for tests and simulators."""

    def __init__(self, cols: int = 20, rows: int = 4):
        self.cols, self.rows = cols, rows
        self.lines: list[str] = fit([], cols, rows)
        self._changed = threading.Condition()

    def show(self, lines: list[str]) -> None:
        with self._changed:
            self.lines = fit(lines, self.cols, self.rows)
            self._changed.notify_all()

    def text(self) -> str:
        return "\n".join(self.lines)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 5.0) -> str:
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self.text()), timeout):
                raise TimeoutError(f"display never matched; shows:\n{self.text()}")
            return self.text()
