"""The dispenser's configuration file (TOML); see ticket-dispenser.example.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from firmware.ticket_dispenser.buttons import ButtonSpec
from firmware.ticket_dispenser.ticket import Layout


@dataclass(frozen=True)
class DispenserConfig:
    hall: str
    device: str
    broker: str
    server: str | None
    state_dir: Path
    timezone: str
    port: str
    baudrate: int
    rtscts: bool
    query_status: bool
    layout: Layout
    block_size: int
    buttons: tuple[ButtonSpec, ...]
    lcd: dict


def load(path: Path) -> DispenserConfig:
    with open(path, "rb") as f:
        raw = tomllib.load(f)
    for key in ("hall", "device", "broker"):
        if not raw.get(key):
            raise ValueError(f"{path}: '{key}' is required")
    p = raw.get("printer", {})
    mode = p.get("mode", "raster")
    if mode not in ("raster", "cp1258"):
        raise ValueError(f"{path}: printer.mode is raster or cp1258")
    layout = Layout(width=int(p.get("width", 576)), mode=mode, codepage=int(p.get("codepage", 52)),
                    qr_module=int(p.get("qr_module", 6)), partial_cut=p.get("cut", "partial") == "partial")
    buttons = tuple(ButtonSpec(b["service"], b["gpio"], b.get("priority"), b.get("led"))
                    for b in raw.get("buttons", []))
    return DispenserConfig(
        hall=raw["hall"], device=raw["device"], broker=raw["broker"], server=raw.get("server"),
        state_dir=Path(raw.get("state_dir", "/var/lib/hall-dispenser")),
        timezone=raw.get("timezone", "Asia/Ho_Chi_Minh"), port=p.get("port", "/dev/ttyUSB0"),
        baudrate=int(p.get("baudrate", 115200)), rtscts=bool(p.get("rtscts", False)),
        query_status=bool(p.get("status", True)), layout=layout,
        block_size=int(raw.get("offline", {}).get("block_size", 20)), buttons=buttons, lcd=raw.get("lcd", {}),
    )
