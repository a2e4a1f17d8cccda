"""Key sources: the 4x4 matrix keypad on GPIO (gpiozero), a USB numeric keypad (evdev), a console.

Each calls `on_key(key)` with a logical key of keys.py, once per press, from its own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import TextIO

from firmware.counter_terminal.keys import CONSOLE_KEYS, EVDEV_KEYS, MATRIX_4X4

log = logging.getLogger(__name__)
OnKey = Callable[[str], None]


class Debouncer:
    """A key counts as pressed (or released) after `scans` equal readings in a row: contact bounce
    lasts a few milliseconds, a scan takes ~5 ms, so 3 scans reject it without feeling slow."""

    def __init__(self, scans: int = 3):
        self.scans = scans
        self.stable: dict[str, bool] = {}
        self._count: dict[str, int] = {}

    def sample(self, key: str, pressed: bool) -> bool:
        """Feed one reading; True exactly when it makes a new debounced press."""
        if pressed == self.stable.get(key, False):
            self._count[key] = 0
            return False
        self._count[key] = self._count.get(key, 0) + 1
        if self._count[key] < self.scans:
            return False
        self._count[key] = 0
        self.stable[key] = pressed
        return pressed


class MatrixKeypad:
    """Rows are outputs driven low one at a time; columns are buttons with pull-ups, so a pressed key
    pulls its column low while its row is driven. Polled: interrupts on four columns would still
    need a scan to find the row, and a polled scan debounces naturally."""

    def __init__(self, rows: Iterable[int | str], cols: Iterable[int | str],
                 layout: tuple[tuple[str, ...], ...] = MATRIX_4X4, scan_s: float = 0.005,
                 debounce_scans: int = 3, pin_factory=None):
        from gpiozero import Button, DigitalOutputDevice

        self.layout = layout
        # active_high=False: "on" drives the row low; idle rows float high through the columns' pull-ups
        self.rows = [DigitalOutputDevice(p, active_high=False, initial_value=False, pin_factory=pin_factory)
                     for p in rows]
        self.cols = [Button(p, pull_up=True, pin_factory=pin_factory) for p in cols]
        if len(self.rows) != len(layout) or any(len(r) != len(self.cols) for r in layout):
            raise ValueError("the key layout does not match the rows and columns")
        self.scan_s = scan_s
        self.debounce = Debouncer(debounce_scans)
        self.idle = threading.Event()  # set while no key is (debounced) down
        self.idle.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def scan(self) -> list[str]:
        """One pass over the matrix: the keys whose debounced press completed in it."""
        pressed = []
        for r, row in enumerate(self.rows):
            row.on()
            for c, col in enumerate(self.cols):
                key = self.layout[r][c]
                if self.debounce.sample(key, col.is_pressed):
                    pressed.append(key)
            row.off()
        if pressed:
            self.idle.clear()
        elif not any(self.debounce.stable.values()):
            self.idle.set()
        return pressed

    def start(self, on_key: OnKey) -> MatrixKeypad:
        def loop() -> None:
            while not self._stop.wait(self.scan_s):
                for key in self.scan():
                    on_key(key)

        self._thread = threading.Thread(target=loop, name="keypad-scan", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=2)
        for dev in (*self.rows, *self.cols):
            dev.close()


class EvdevKeypad:
    """A USB numeric keypad read through evdev, grabbed so its keys do not also type into a console."""

    def __init__(self, path: str, keymap: dict[str, str] | None = None):
        import evdev

        self._evdev = evdev
        self.device = evdev.InputDevice(path)
        self.keymap = keymap or EVDEV_KEYS
        self._thread: threading.Thread | None = None

    def start(self, on_key: OnKey) -> EvdevKeypad:
        ecodes = self._evdev.ecodes

        def loop() -> None:
            self.device.grab()
            try:
                for event in self.device.read_loop():
                    if event.type == ecodes.EV_KEY and event.value == 1:  # key down, not repeat or up
                        name = ecodes.KEY.get(event.code)
                        for n in name if isinstance(name, list) else [name]:
                            if n in self.keymap:
                                on_key(self.keymap[n])
                                break
            except OSError as exc:  # unplugged: systemd restarts the agent, which waits for it
                log.error("keypad %s gone: %s", self.device.path, exc)

        self._thread = threading.Thread(target=loop, name="keypad-evdev", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        try:
            self.device.ungrab()
        except OSError:
            pass
        self.device.close()


class StreamKeypad:
    """Keys typed on a console (or any text stream): each character of a line is a key, e.g.
    "*1" then "5#" then "0000#" logs officer 5 in; + - / . work like a numeric keypad."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self._thread: threading.Thread | None = None

    def start(self, on_key: OnKey) -> StreamKeypad:
        def loop() -> None:
            for line in self.stream:
                for ch in line.strip():
                    if ch in CONSOLE_KEYS:
                        on_key(CONSOLE_KEYS[ch])

        self._thread = threading.Thread(target=loop, name="keypad-stream", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        pass
