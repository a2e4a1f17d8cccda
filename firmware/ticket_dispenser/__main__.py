"""python -m firmware.ticket_dispenser --config /etc/hall/ticket-dispenser.toml [--pin-factory mock]"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware.charlcd import HD44780, LcdDisplay, SMBusI2C
from firmware.pilink import DeviceLink, LinkDown
from firmware.pilink.hallinfo import load_hall
from firmware.ticket_dispenser.buttons import ServiceButtons
from firmware.ticket_dispenser.config import load
from firmware.ticket_dispenser.dispenser import Dispenser
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer, open_port

log = logging.getLogger("ticket_dispenser")
FW = "1.0.0"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m firmware.ticket_dispenser", description=__doc__)
    ap.add_argument("--config", type=Path, default=Path("/etc/hall/ticket-dispenser.toml"))
    ap.add_argument("--pin-factory", choices=["mock"], help="gpiozero mock pins (tests, demos without a Pi)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load(args.config)
    factory = None
    if args.pin_factory == "mock":
        from gpiozero.pins.mock import MockFactory

        factory = MockFactory()

    journal = Journal(cfg.state_dir / "journal.json")
    boot = journal.next_boot()  # ids "<boot>-<seq>" are never reused, even after a power cut
    hall = load_hall(cfg.server, cfg.state_dir / "hall.json")
    display = None
    if cfg.lcd:
        try:
            display = LcdDisplay(HD44780(SMBusI2C(int(cfg.lcd.get("bus", 1))), int(cfg.lcd.get("address", 0x27)),
                                         int(cfg.lcd.get("cols", 20)), int(cfg.lcd.get("rows", 4))))
        except (OSError, ImportError) as exc:
            log.error("LCD not usable: %s", exc)
    printer = Printer(open_port(cfg.port, cfg.baudrate, cfg.rtscts), cfg.query_status)
    link = DeviceLink(cfg.broker, cfg.hall, cfg.device, fw=FW, boot=str(boot))
    dispenser = Dispenser(link, printer, journal, ZoneInfo(cfg.timezone), hall=hall, layout=cfg.layout,
                          block_size=cfg.block_size, display=display)
    try:
        link.start(timeout=5)
    except LinkDown:
        log.warning("broker not reachable yet; issuing from the offline block meanwhile")
    dispenser.start()
    buttons = ServiceButtons(list(cfg.buttons), dispenser, pin_factory=factory)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    buttons.close()
    dispenser.close()
    link.close()
    printer.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
