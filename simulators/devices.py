"""Simulated devices: the real device programs (the counter terminal's and the dispenser's cores
from firmware/) on simulated hardware — scripted keys, a memory display, a paper roll in memory —
so the demo exercises the same code an installer puts on a Raspberry Pi.

The MicroPython boards (rating button, LED display) run their own programs too: simulators/boards.py.
"""

from __future__ import annotations

import queue
import tempfile
from pathlib import Path
from zoneinfo import ZoneInfo

from firmware.charlcd import MemoryDisplay
from firmware.counter_terminal.terminal import CounterTerminal
from firmware.pilink import DeviceLink, LinkDown, Refusal
from firmware.ticket_dispenser.dispenser import Dispenser
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer
from hallserver.domain.config import HallConfig

RESULT_TIMEOUT_S = 20.0


def hall_info(config: HallConfig) -> dict:
    """What a Pi agent reads from GET /api/hall at installation, from the configuration itself."""
    return {"id": config.id, "name": config.name,
            "services": [{"code": s.code, "name": s.name, "name_en": s.name_en, "prefix": s.prefix}
                         for s in config.services.values()],
            "officers": [{"id": o.id, "name": o.name} for o in config.officers.values()],
            "counters": [{"number": c.number, "name": c.name, "services": list(c.services)}
                         for c in config.counters.values()]}


class PaperRoll:
    """A printer port that keeps what was printed and counts the tickets (ESC/POS cuts)."""

    CUT = b"\x1dV"

    def __init__(self) -> None:
        self.data = bytearray()

    def write(self, data: bytes) -> None:
        self.data += data

    def read(self, n: int, timeout: float) -> bytes:
        return b""  # a printer that does not answer status queries

    def reset_input(self) -> None:
        pass

    def close(self) -> None:
        pass

    @property
    def tickets(self) -> int:
        return self.data.count(self.CUT)


class SimTerminal:
    """The counter terminal program with its keys pressed by a script."""

    def __init__(self, url: str, config: HallConfig, device: str):
        self.link = DeviceLink(url, config.id, device, fw="sim")
        self.display = MemoryDisplay()
        self.results: queue.Queue = queue.Queue()
        self.core = CounterTerminal(self.link, self.display, hall=hall_info(config),
                                    on_result=lambda action, reply, code: self.results.put((action.t, reply, code)))

    def start(self) -> SimTerminal:
        self.link.start()
        self.core.start()
        return self

    def keys(self, keys: str) -> dict:
        """Press keys; the reply of the message they sent, or Refusal / LinkDown."""
        for key in keys:
            self.core.press(key)
        t, reply, code = self.results.get(timeout=RESULT_TIMEOUT_S)
        if code == "link_down":
            raise LinkDown(f"{self.link.device}: {t} unanswered")
        if code is not None:
            raise Refusal({"error": {"code": code, "message": code}})
        return reply

    def login(self, officer: str, pin: str) -> dict:
        digits = "".join(ch for ch in officer if ch.isdigit())
        return self.keys(f"*1{digits}#{pin}#")

    def call_next(self) -> dict | None:
        """NEXT: the ticket called, or None when nobody waits."""
        try:
            return self.keys("A")["ticket"]
        except Refusal as r:
            if r.code == "queue_empty":
                return None
            raise

    def done(self) -> dict:
        return self.keys("C")

    def no_show(self) -> dict:
        return self.keys("D")

    def close(self) -> None:
        self.core.close()
        self.link.close()


class SimDispenser:
    """The ticket dispenser program with its buttons pressed by a script and a paper roll."""

    def __init__(self, url: str, config: HallConfig, device: str, workdir: Path | None = None):
        self.link = DeviceLink(url, config.id, device, fw="sim", health={"paper": "ok"})
        self.paper = PaperRoll()
        workdir = workdir or Path(tempfile.mkdtemp(prefix=f"sim-{device}-"))
        self.core = Dispenser(self.link, Printer(self.paper, query_status=False), Journal(workdir / "journal.json"),
                              ZoneInfo(config.timezone), hall=hall_info(config), display=MemoryDisplay())

    def start(self) -> SimDispenser:
        self.link.start()
        self.core.start()
        return self

    def take(self, service: str, priority: str | None = None) -> dict:
        """Press a service's button; the printed ticket (or Refusal with the reason)."""
        while not self.core.press(service, priority):  # another press is being printed: wait for it
            self.core.results.get(timeout=RESULT_TIMEOUT_S)
        result = self.core.results.get(timeout=RESULT_TIMEOUT_S)
        if result.error:
            raise Refusal({"error": {"code": result.error, "message": result.error}})
        return result.ticket

    def close(self) -> None:
        self.core.close()
        self.link.close()
