"""The controller's settings: a `[boards]` table in TOML (its own file or the hall's). Example:

    [boards]
    driver = "sevenseg"        # or "alpha"
    port = "/dev/ttyUSB0"      # the RS-485 adapter
    baudrate = 9600            # bytesize, parity, stopbits: 8 "N" 1 by default, 7 "E" 2 for alpha
    dashes = "----"            # shown while a counter is paused or closed
    blink_s = 5                # flash on a new call, where the protocol can
    counters = "1-37"          # board address = counter number, device led-NN ...
    [boards.sevenseg]          # Framing fields: width, checksum ("xor"/"sum"/"none"), start, end ...
    width = 4
    [boards.alpha]             # type_code, label, position, mode, blink_mode, color, checksum
    color = "red"
    [[boards.signs]]           # ... or one entry per board
    counter = 3
    address = 3
    device = "led-03"          # optional: led-NN by default

Without `counters` or signs, the hall's own configuration given as the file says which boards: those
of the `boards` device (`--device`), one per counter it drives (address = counter number), each
showing that counter's `led` device (`device_signs`), as its broker login may read them.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from displays.boards.alpha import AlphaSign
from displays.boards.base import BoardDriver, Port
from displays.boards.controller import DASHES, Sign
from displays.boards.serialport import Line
from displays.boards.sevenseg import Framing, SevenSegment

DRIVERS = ("alpha", "sevenseg")


def parse_counters(spec: str) -> list[Sign]:
    """ "1-5,7" -> boards at addresses 1..5 and 7 for those counters."""
    signs = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        lo, _, hi = part.partition("-")
        signs += [Sign(n, n) for n in range(int(lo), int(hi or lo) + 1)]
    return signs


def device_signs(hall: dict, device: str) -> list[Sign]:
    """The boards of `device` declared in a hall configuration (TOML as a dict) as
    `[[devices]] id = "boards-1" kind = "boards" counters = [1, 2]`: each counter's board at
    address = counter number, showing the counter's `led` device; [] when not declared."""
    devices = [d for d in hall.get("devices", []) if isinstance(d, dict)]
    me = next((d for d in devices if d.get("id") == device and d.get("kind") == "boards"), None)
    if me is None:
        return []
    leds: dict[int, str] = {}
    for d in devices:
        if d.get("kind") == "led" and isinstance(d.get("counter"), int):
            leds.setdefault(d["counter"], str(d.get("id", "")))
    return [Sign(int(n), int(n), leds.get(int(n), "")) for n in me.get("counters", [])]


@dataclass(frozen=True)
class BoardsConfig:
    line: Line
    driver: str = "sevenseg"
    options: dict = field(default_factory=dict)  # the driver's own table
    signs: tuple[Sign, ...] = ()
    dashes: str = DASHES
    blink_s: float = 5.0

    def __post_init__(self) -> None:
        if self.driver not in DRIVERS:
            raise ValueError(f"boards.driver must be one of {DRIVERS}, got {self.driver!r}")
        addresses = [s.address for s in self.signs]
        if len(set(addresses)) != len(addresses):
            raise ValueError("two boards share an address")

    @classmethod
    def from_toml(cls, path: Path | str) -> BoardsConfig:
        with open(path, "rb") as f:
            return cls.from_dict(tomllib.load(f).get("boards", {}))

    @classmethod
    def from_dict(cls, raw: dict) -> BoardsConfig:
        driver = raw.get("driver", "sevenseg")
        bits, parity, stop = (7, "E", 2) if driver == "alpha" else (8, "N", 1)  # each protocol's usual line
        line = Line(raw.get("port", "/dev/ttyUSB0"), int(raw.get("baudrate", 9600)), int(raw.get("bytesize", bits)),
                    str(raw.get("parity", parity)), raw.get("stopbits", stop))
        signs = [Sign(int(s["counter"]), int(s.get("address", s["counter"])), s.get("device", ""))
                 for s in raw.get("signs", [])]
        if raw.get("counters"):
            signs += parse_counters(str(raw["counters"]))
        return cls(line, driver, dict(raw.get(driver, {})), tuple(signs), raw.get("dashes", DASHES),
                   float(raw.get("blink_s", 5.0)))

    def make_driver(self, port: Port) -> BoardDriver:
        if self.driver == "alpha":
            return AlphaSign(port, **self.options)
        return SevenSegment(port, Framing.from_dict(self.options))
