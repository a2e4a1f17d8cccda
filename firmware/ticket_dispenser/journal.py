"""What the dispenser must not forget across a crash or a power cut, in one JSON file written
atomically before each step it protects:

- `boot`: incremented at every start; message ids are "<boot>-<seq>", so never reused;
- `pending`: the ticket in progress: `sent` (the ticket.take id, persisted *before* publishing,
  so a retry after a restart has the same id and gets the same ticket), `received` (the ticket,
  persisted before printing: a restart prints that ticket, never a new number), `printed` (the
  cut was written; only the confirmation is left);
- `block`: today's offline numbers per service and the next one to use;
- `offline`: tickets issued from the block, each with the id of its report, until reported;
- `voids`: ticket.take ids whose reply never came (the server may have issued a ticket nobody
  holds), each with the id of its ticket.void, until the server answered;
- `unconfirmed`: printed tickets whose ticket.printed was not answered yet;
- `printed`: numbers printed today (a pushed ticket is printed once).
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path

from firmware.pilink.hallinfo import save_json

log = logging.getLogger(__name__)


class Journal:
    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        self.data: dict = {"boot": 0, "pending": None, "block": None, "offline": [], "unconfirmed": [],
                           "printed": [], "printed_day": None, "voids": []}
        if path.exists():
            try:
                self.data.update(json.loads(path.read_text("utf-8")))
            except ValueError:  # cannot happen with atomic writes, unless the card is failing
                log.error("journal %s unreadable; starting empty", path)
                broken = path.with_suffix(".broken")
                path.replace(broken)

    def save(self) -> None:
        with self._lock:
            save_json(self.path, self.data)

    def next_boot(self) -> int:
        with self._lock:
            self.data["boot"] += 1
            self.save()
            return self.data["boot"]

    # the dict is the state: small helpers keep the rules in one place
    @property
    def pending(self) -> dict | None:
        return self.data["pending"]

    def set_pending(self, value: dict | None) -> None:
        with self._lock:
            self.data["pending"] = value
            self.save()

    def abandon(self, take_id: str, void_id: str) -> None:
        """Give up waiting for the reply to a ticket.take: the server is told to void the ticket it
        may have issued for it (ticket.void, sent with `void_id` until answered); one write."""
        with self._lock:
            self.data["voids"].append({"id": void_id, "take": take_id})
            self.data["pending"] = None
            self.save()

    def finish(self, number: str, day: str, confirm: bool) -> None:
        """The cut was written: the ticket is done, its number remembered, and (online tickets) the
        server still to be told; one write, so a restart never prints it again."""
        with self._lock:
            if self.data["printed_day"] != day:
                self.data["printed"], self.data["printed_day"] = [], day
            self.data["printed"].append(number)
            if confirm:
                self.data["unconfirmed"].append(number)
            self.data["pending"] = None
            self.save()

    def was_printed(self, number: str, day: str) -> bool:
        return self.data["printed_day"] == day and number in self.data["printed"]
