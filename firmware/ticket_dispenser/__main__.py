"""python -m firmware.ticket_dispenser --config /etc/hall/ticket-dispenser.toml [--pin-factory mock]

python -m firmware.ticket_dispenser --config ... report-journal PATH: send what a copied journal owes
the server (takes to void, offline tickets, print confirmations) once, and exit; safe to repeat."""

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
from firmware.ticket_dispenser.config import DispenserConfig, load
from firmware.ticket_dispenser.dispenser import Dispenser, report_journal
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer, open_port

log = logging.getLogger("ticket_dispenser")
FW = "1.0.0"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m firmware.ticket_dispenser", description=__doc__)
    ap.add_argument("--config", type=Path, default=Path("/etc/hall/ticket-dispenser.toml"))
    ap.add_argument("--pin-factory", choices=["mock"], help="gpiozero mock pins (tests, demos without a Pi)")
    ap.add_argument("command", nargs="?", choices=["run", "report-journal"], default="run")
    ap.add_argument("journal", nargs="?", type=Path,
                    help="report-journal: the journal.json copied from a dead dispenser")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg = load(args.config)
    if args.command == "report-journal":
        if args.journal is None:
            ap.error("report-journal needs the path of the journal")
        return report_file(cfg, args.journal)
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
    def port():
        return open_port(cfg.port, cfg.baudrate, cfg.rtscts)

    try:
        first = port()
    except OSError as exc:  # unplugged at boot: the dispenser starts, says so, and opens it when it is back
        log.warning("printer %s not available: %s", cfg.port, exc)
        first = None
    printer = Printer(first, cfg.query_status, reopen=port)
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


def report_file(cfg: DispenserConfig, path: Path, timeout: float = 10.0) -> int:
    """Report a dead dispenser's journal as this device (the same device id: only it may report its
    block's numbers). Every message keeps the id stored in the journal, so running this twice, or
    after the old dispenser came back and reported, has one effect. Exit 0 when nothing is left."""
    if not path.exists():
        print(f"{path}: no such journal")
        return 2
    journal = Journal(path)
    owed = {k: len(journal.data.get(k) or []) for k in ("voids", "offline", "unconfirmed")}
    local = cfg.state_dir / "journal.json"
    if local.exists() and local.resolve() != path.resolve():
        mine = Journal(local)  # this device's message ids must never repeat the dead one's
        if mine.data["boot"] <= journal.data["boot"]:
            mine.data["boot"] = journal.data["boot"] + 1
            mine.save()
    link = DeviceLink(cfg.broker, cfg.hall, cfg.device, fw=FW)  # a random id prefix for new ids
    try:
        link.start(timeout=timeout)
        if not link.connected.wait(timeout):
            raise LinkDown("not connected")
        done = report_journal(link, journal, timeout, 2.0)
    except LinkDown as exc:
        print(f"broker or server not reachable: {exc}")
        return 1
    finally:
        link.close()
    left = {k: len(journal.data.get(k) or []) for k in owed}
    print(f"{path}: voids {owed['voids'] - left['voids']}/{owed['voids']}, offline tickets "
          f"{owed['offline'] - left['offline']}/{owed['offline']}, print confirmations "
          f"{owed['unconfirmed'] - left['unconfirmed']}/{owed['unconfirmed']} sent")
    if journal.pending:
        print(f"not reported: a ticket interrupted mid-print: {journal.pending}")
    return 0 if done and not any(left.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
