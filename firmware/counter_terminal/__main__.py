"""python -m firmware.counter_terminal --config /etc/hall/counter-terminal.toml [--pin-factory mock]"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from firmware.charlcd import HD44780, ConsoleDisplay, LcdDisplay, SMBusI2C
from firmware.counter_terminal.config import TerminalConfig, load
from firmware.counter_terminal.keypad import EvdevKeypad, MatrixKeypad, StreamKeypad
from firmware.counter_terminal.terminal import CounterTerminal
from firmware.pilink import DeviceLink, LinkDown
from firmware.pilink.hallinfo import load_hall

log = logging.getLogger("counter_terminal")
FW = "1.0.0"


def pin_factory(name: str | None):
    if name == "mock":
        from gpiozero.pins.mock import MockFactory

        return MockFactory()
    return None  # gpiozero's default for the board (lgpio on a Pi 5, and so on)


def make_display(cfg: TerminalConfig):
    if cfg.display == "lcd":
        try:
            return LcdDisplay(HD44780(SMBusI2C(cfg.lcd_bus), cfg.lcd_address, cfg.lcd_cols, cfg.lcd_rows))
        except (OSError, ImportError) as exc:  # no LCD on the bus: say so, keep working on the console
            log.error("LCD at 0x%02x on i2c-%d not usable (%s); using the console", cfg.lcd_address, cfg.lcd_bus, exc)
    return ConsoleDisplay(cfg.lcd_cols, cfg.lcd_rows)


def make_keypad(cfg: TerminalConfig, factory):
    if cfg.input == "evdev":
        return EvdevKeypad(cfg.evdev_path)
    if cfg.input == "stdin":
        return StreamKeypad(sys.stdin)
    return MatrixKeypad(cfg.keypad_rows, cfg.keypad_cols, pin_factory=factory)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m firmware.counter_terminal", description=__doc__)
    ap.add_argument("--config", type=Path, default=Path("/etc/hall/counter-terminal.toml"))
    ap.add_argument("--pin-factory", choices=["mock"], help="gpiozero mock pins (tests, demos without a Pi)")
    ap.add_argument("--input", choices=["matrix", "evdev", "stdin"], help="override the configured key source")
    ap.add_argument("--display", choices=["lcd", "console"], help="override the configured display")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load(args.config)
    overrides = {k: v for k, v in (("input", args.input), ("display", args.display)) if v}
    if overrides:
        cfg = TerminalConfig(**{**cfg.__dict__, **overrides})

    display = make_display(cfg)
    hall = load_hall(cfg.server, cfg.state_dir / "hall.json")
    link = DeviceLink(cfg.broker, cfg.hall, cfg.device, fw=FW)
    terminal = CounterTerminal(link, display, hall, officer_format=cfg.officer_format).start()
    try:
        link.start(timeout=5)
    except LinkDown:
        log.warning("broker not reachable yet; retrying in the background")  # the screen says MẤT KẾT NỐI
    keypad = make_keypad(cfg, pin_factory(args.pin_factory)).start(terminal.press)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    keypad.close()
    terminal.close()
    link.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
