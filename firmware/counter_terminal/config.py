"""The terminal's configuration file (TOML); see counter-terminal.example.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class TerminalConfig:
    hall: str
    device: str
    broker: str  # mqtt://device:secret@host:1883
    server: str | None = None  # http://host:8000, for names (GET /api/hall)
    state_dir: Path = Path("/var/lib/hall-terminal")
    input: str = "matrix"  # matrix | evdev | stdin
    display: str = "lcd"  # lcd | console
    officer_format: str = "o{:02d}"
    keypad_rows: tuple[int, ...] = (5, 6, 13, 19)
    keypad_cols: tuple[int, ...] = (12, 16, 20, 21)
    evdev_path: str = ""
    lcd_bus: int = 1
    lcd_address: int = 0x27
    lcd_cols: int = 20
    lcd_rows: int = 4
    extra: dict = field(default_factory=dict)


def load(path: Path) -> TerminalConfig:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    keypad, lcd, evdev = raw.get("keypad", {}), raw.get("lcd", {}), raw.get("evdev", {})
    for key in ("hall", "device", "broker"):
        if not raw.get(key):
            raise ValueError(f"{path}: '{key}' is required")
    cfg = TerminalConfig(
        hall=raw["hall"], device=raw["device"], broker=raw["broker"], server=raw.get("server"),
        state_dir=Path(raw.get("state_dir", "/var/lib/hall-terminal")), input=raw.get("input", "matrix"),
        display=raw.get("display", "lcd"), officer_format=raw.get("officer_format", "o{:02d}"),
        keypad_rows=tuple(keypad.get("rows", (5, 6, 13, 19))), keypad_cols=tuple(keypad.get("cols", (12, 16, 20, 21))),
        evdev_path=evdev.get("path", ""), lcd_bus=int(lcd.get("bus", 1)), lcd_address=int(lcd.get("address", 0x27)),
        lcd_cols=int(lcd.get("cols", 20)), lcd_rows=int(lcd.get("rows", 4)),
    )
    if cfg.input not in ("matrix", "evdev", "stdin") or cfg.display not in ("lcd", "console"):
        raise ValueError(f"{path}: input is matrix, evdev or stdin; display is lcd or console")
    if (cfg.lcd_cols, cfg.lcd_rows) not in ((16, 2), (20, 4), (16, 4), (20, 2)):
        raise ValueError(f"{path}: lcd is 16x2, 20x2, 16x4 or 20x4")
    return cfg
