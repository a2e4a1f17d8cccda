"""The ticket dispenser's core: a press becomes one printed ticket, online or from the offline block.

One worker thread does everything that touches the printer or the journal, in order: takes,
tickets pushed from the kiosk page, the sync after a reconnection (offline reports, print
confirmations, a fresh block) and the printer's status. Hardware is injected (`Printer` on any
port, an optional `TextDisplay`), so tests and simulators run this same class.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import protocols
from firmware.charlcd import TextDisplay
from firmware.pilink import DeviceLink, LinkDown, Refusal
from firmware.ticket_dispenser import ticket as tickets
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer, PrinterStatus

log = logging.getLogger(__name__)
STATUS_EVERY_S = 20.0  # the printer's status is read before every ticket and this often when idle
PUSH_MAX_AGE = timedelta(minutes=2)  # a kiosk ticket pushed while this dispenser was away is stale


@dataclass(frozen=True)
class Result:
    """What became of one press (or push): the printed ticket, or why nothing was printed."""

    service: str
    ticket: dict | None = None
    offline: bool = False
    error: str | None = None
    reprint: bool = False  # a ticket interrupted by a restart, printed again with its number


class Dispenser:
    def __init__(self, link: DeviceLink, printer: Printer, journal: Journal, tz: ZoneInfo, *,
                 hall: dict | None = None, layout: tickets.Layout | None = None, block_size: int = 20,
                 display: TextDisplay | None = None, request_timeout: float = 6.0, retry_s: float = 2.0,
                 clock: Callable[[], datetime] | None = None,
                 on_result: Callable[[Result], None] | None = None):
        self.link, self.printer, self.journal, self.tz = link, printer, journal, tz
        self.hall = hall or {}
        self.layout, self.block_size, self.display = layout or tickets.Layout(), block_size, display
        self.request_timeout, self.retry_s = request_timeout, retry_s
        self.clock = clock or (lambda: datetime.now(tz))
        self.on_result = on_result
        self.results: queue.Queue[Result] = queue.Queue()
        self.status = PrinterStatus("ok", "unknown")
        self.busy = threading.Event()  # a take is queued or running: more presses are ignored
        self.ignored = 0
        self.on_change: Callable[[], None] | None = None  # status or link changed (button LEDs)
        self._jobs: queue.Queue = queue.Queue()
        self._sync_queued = threading.Event()
        self.synced = threading.Event()  # set after each sync with the server (tests, simulators)
        self._worker: threading.Thread | None = None
        self._last_text: list[str] = []

    # ------------------------------------------------------------ lifecycle and inputs
    def start(self) -> Dispenser:
        self.link.on_link = self._on_link
        self.link.on_push = self._on_push
        self._worker = threading.Thread(target=self._work, name="dispenser", daemon=True)
        self._worker.start()
        self._jobs.put(("resume",))
        return self

    def close(self, timeout: float = 10.0) -> None:
        self._jobs.put(None)
        if self._worker is not None:
            self._worker.join(timeout)

    def press(self, service: str, priority: str | None = None) -> bool:
        """A button: False when ignored because a ticket is already under way."""
        if self.busy.is_set():
            self.ignored += 1
            return False
        self.busy.set()
        self._jobs.put(("take", service, priority))
        return True

    def _on_link(self, available: bool) -> None:
        if available and not self._sync_queued.is_set():
            self._sync_queued.set()
            self._jobs.put(("sync",))
        self._show()

    def _on_push(self, down: dict) -> None:
        if down.get("t") == "ticket.print" and isinstance(down.get("ticket"), dict):
            self._jobs.put(("push", down["ticket"]))

    # ------------------------------------------------------------ the worker
    def _work(self) -> None:
        while True:
            try:
                job = self._jobs.get(timeout=STATUS_EVERY_S)
            except queue.Empty:
                self._check_printer()
                continue
            if job is None:
                return
            try:
                if job[0] == "take":
                    self._finish_take(job[1], self._take(job[1], job[2]))
                elif job[0] == "push":
                    self._print_push(job[1])
                elif job[0] == "sync":
                    self._sync_queued.clear()
                    self._sync()
                elif job[0] == "resume":
                    self._resume()
            except Exception:  # the dispenser keeps serving; the journal keeps what was half done
                log.exception("dispenser job %s failed", job[0])
                if job[0] == "take":
                    self._finish_take(job[1], Result(job[1], error="printer_error"))

    def _finish_take(self, service: str, result: Result) -> None:
        self.busy.clear()
        self._report(result)

    def _report(self, result: Result) -> None:
        self.results.put(result)
        if result.error:
            self._show(protocols.message(result.error))
        elif result.ticket:
            self._show(f"SỐ CỦA BẠN: {result.ticket['number']}")
        if self.on_result is not None:
            self.on_result(result)

    # ------------------------------------------------------------ taking a ticket
    def _take(self, service: str, priority: str | None) -> Result:
        status = self._check_printer()
        if status.refusal:
            return Result(service, error=status.refusal)  # never issue a number that cannot be printed
        if self.link.available:
            fields = {"service": service}
            if priority:
                fields["priority"] = priority
            msg_id = self.link.new_id()
            self.journal.set_pending({"id": msg_id, "service": service, "priority": priority, "stage": "sent",
                                      "ticket": None, "offline": False})
            try:
                reply = self.link.request("ticket.take", fields, self.request_timeout, self.retry_s, msg_id=msg_id)
            except Refusal as r:
                self.journal.set_pending(None)
                return Result(service, error=r.code)
            except LinkDown:
                # the server may have issued a ticket for this id that nobody will hold: it is voided
                # (ticket.void) when the server is back, and the citizen gets an offline number now
                log.warning("no reply to %s; issuing from the offline block", msg_id)
                self.journal.abandon(msg_id, self.link.new_id())
            else:
                return self._print_ticket(reply["ticket"], offline=False)
        return self._issue_offline(service, priority)

    def _issue_offline(self, service: str, priority: str | None) -> Result:
        block, today = self.journal.data["block"], self._today()
        entry = (block or {}).get("services", {}).get(service) if (block or {}).get("day") == today else None
        if entry is None or entry["next"] > entry["last"]:
            return Result(service, error="link_down")  # no number that is sure not to collide
        number = f"{entry['prefix']}{entry['next']:0{block['width']}d}"
        entry["next"] += 1
        issued = self.clock().astimezone(self.tz).isoformat(timespec="seconds")
        ticket = {"number": number, "service": service, "service_name": self._service_name(service),
                  "priority": priority, "issued_at": issued, "ahead": None, "eta_min": None, "track_url": None}
        report = {"id": self.link.new_id(), "service": service, "number": number, "issued_at": issued}
        if priority:
            report["priority"] = priority
        self.journal.data["offline"].append(report)
        return self._print_ticket(ticket, offline=True)

    def _print_ticket(self, ticket: dict, offline: bool, reprint: bool = False) -> Result:
        pending = self.journal.pending or {"id": None, "service": ticket["service"], "priority": None}
        self.journal.set_pending({**pending, "stage": "received", "ticket": ticket, "offline": offline})
        self.printer.print_bytes(tickets.render(ticket, self._hall_name(), self.layout,
                                                self._priority_label(ticket.get("priority"))))
        self.journal.finish(ticket["number"], self._today(), confirm=not offline)
        result = Result(ticket["service"], ticket, offline, reprint=reprint)
        if not offline:
            self._confirm()
            send_voids(self.link, self.journal, self.request_timeout, self.retry_s)
        return result

    def _print_push(self, ticket: dict) -> None:
        """A ticket taken on the kiosk page for this dispenser: printed once, if still fresh."""
        number = ticket.get("number", "")
        if self.journal.was_printed(number, self._today()):
            return
        try:
            age = self.clock() - datetime.fromisoformat(ticket["issued_at"])
        except (KeyError, TypeError, ValueError):
            age = timedelta(0)
        if age > PUSH_MAX_AGE:
            log.warning("not printing %s pushed %s ago", number, age)
            return
        status = self._check_printer()
        if status.refusal:
            self._report(Result(ticket.get("service", ""), error=status.refusal))
            return
        self.journal.set_pending(None)
        self._report(self._print_ticket(ticket, offline=False))

    # ------------------------------------------------------------ restart and reconnection
    def _resume(self) -> None:
        """After a restart: finish the ticket that was under way, with its id or its number."""
        self.printer.clear()
        pending = self.journal.pending
        if pending is not None and pending["stage"] == "sent":
            if self.link.connected.wait(self.request_timeout):
                fields = {"service": pending["service"]}
                if pending.get("priority"):
                    fields["priority"] = pending["priority"]
                try:  # the same id: the server answers with the ticket it already issued
                    reply = self.link.request("ticket.take", fields, self.request_timeout, self.retry_s,
                                              msg_id=pending["id"])
                    self._report(self._print_ticket(reply["ticket"], offline=False, reprint=True))
                except Refusal as exc:
                    log.warning("pending ticket.take %s refused: %s", pending["id"], exc.code)
                    self.journal.set_pending(None)
                except LinkDown:
                    log.warning("pending ticket.take %s not answered; voiding it", pending["id"])
                    self.journal.abandon(pending["id"], self.link.new_id())
            else:  # no server to ask: the press is not replayed later; what it may have issued is voided
                self.journal.abandon(pending["id"], self.link.new_id())
        elif pending is not None and pending["stage"] == "received":
            if self._check_printer().refusal is None:  # else it stays pending until the printer is back
                self._report(self._print_ticket(pending["ticket"], pending["offline"], reprint=True))
        self._check_printer()
        if self.link.available:
            self._sync()

    def _sync(self) -> None:
        """Reconnected: void unanswered takes, report offline tickets oldest first, confirm prints,
        keep a block for today."""
        if not report_journal(self.link, self.journal, self.request_timeout, self.retry_s):
            return  # the next reconnection tries again
        if self._block_low():
            try:
                reply = self.link.request("ticket.block", {"size": self.block_size}, self.request_timeout,
                                          self.retry_s)
            except (Refusal, LinkDown) as exc:
                log.warning("no offline block: %r", exc)
                self.synced.set()
                return
            block = reply["block"]
            self.journal.data["block"] = {
                "day": block["day"], "width": block["width"],
                "services": {code: {"prefix": prefix, "first": first, "last": last, "next": first}
                             for code, prefix, first, last in block["services"]}}
            self.journal.save()
        self._show()
        self.synced.set()

    def _block_low(self) -> bool:
        block = self.journal.data["block"]
        if not block or block["day"] != self._today():
            return True
        return any(e["last"] - e["next"] + 1 < max(1, self.block_size // 2) for e in block["services"].values())

    def _confirm(self) -> None:
        confirm_prints(self.link, self.journal, self.request_timeout, self.retry_s)

    # ------------------------------------------------------------ printer health and display
    def _check_printer(self) -> PrinterStatus:
        status = self.printer.status()
        if status != self.status:
            self.status = status
            self.link.publish_status(paper=status.paper, printer=status.printer)
            self._show()
            if status.refusal is None and (self.journal.pending or {}).get("stage") == "received":
                self._jobs.put(("resume",))
            if self.on_change:
                self.on_change()
        return status

    def offline_left(self, service: str) -> int:
        block = self.journal.data["block"]
        if not block or block["day"] != self._today() or service not in block["services"]:
            return 0
        e = block["services"][service]
        return e["last"] - e["next"] + 1

    def _show(self, message: str | None = None) -> None:
        if self.display is None:
            return
        if self.status.refusal:
            top = protocols.message(self.status.refusal)
        elif not self.link.available:
            top = protocols.message("link_down") + " - SỐ NGOẠI TUYẾN"
        else:
            top = "MỜI LẤY SỐ THỨ TỰ"
        lines = [top, message or ""]
        if lines != self._last_text:
            self._last_text = lines
            self.display.show(lines)

    # ------------------------------------------------------------ configuration lookups
    def _today(self) -> str:
        return self.clock().astimezone(self.tz).date().isoformat()

    def _hall_name(self) -> str:
        return self.hall.get("name") or "Trung tâm Phục vụ hành chính công"

    def _service_name(self, code: str) -> str:
        return next((s["name"] for s in self.hall.get("services", []) if s["code"] == code), code)

    def _priority_label(self, key: str | None) -> str | None:
        if not key:
            return None
        return next((c["label"] for c in self.hall.get("priority_categories", []) if c["key"] == key), key)


# ---------------------------------------------------------------- what the journal owes the server
# Module functions, so that `report-journal` can send a dead dispenser's journal without a printer.
def send_voids(link: DeviceLink, journal: Journal, timeout: float, retry_s: float) -> bool:
    """ticket.void for each take whose reply never came; False when the link failed meanwhile."""
    for void in list(journal.data.get("voids", [])):
        try:
            reply = link.request("ticket.void", {"take": void["take"]}, timeout, retry_s, msg_id=void["id"])
            log.info("take %s voided: ticket %s", void["take"], reply["void"].get("number"))
        except Refusal as r:  # printed or called: the citizen may hold it after all, it stays
            log.warning("take %s not voided: %s", void["take"], r.code)
        except LinkDown:
            return False
        journal.data["voids"].remove(void)
        journal.save()
    return True


def report_offline(link: DeviceLink, journal: Journal, timeout: float, retry_s: float) -> bool:
    """ticket.offline for each ticket issued from the block, oldest first, with its stored id."""
    for report in list(journal.data["offline"]):
        fields = {k: report[k] for k in ("service", "number", "issued_at", "priority") if report.get(k)}
        try:
            link.request("ticket.offline", fields, timeout, retry_s, msg_id=report["id"])
        except Refusal as r:
            log.error("offline ticket %s refused: %s", report["number"], r.code)  # e.g. yesterday's
        except LinkDown:
            return False
        journal.data["offline"].remove(report)
        journal.save()
    return True


def confirm_prints(link: DeviceLink, journal: Journal, timeout: float, retry_s: float) -> bool:
    for number in list(journal.data["unconfirmed"]):
        if not link.available:
            return False
        try:
            link.request("ticket.printed", {"number": number}, timeout, retry_s)
        except Refusal as r:
            log.warning("print of %s not recorded: %s", number, r.code)
        except LinkDown:
            return False
        journal.data["unconfirmed"].remove(number)
        journal.save()
    return True


def report_journal(link: DeviceLink, journal: Journal, timeout: float, retry_s: float) -> bool:
    """Everything the journal owes the server, in order: voids first (a phantom leaves the queue
    before the offline ticket that replaced it joins), then offline tickets, then print
    confirmations. Every message has a stable id, so sending a journal twice has one effect.
    False when the link failed part way (what was answered is off the journal already)."""
    return (send_voids(link, journal, timeout, retry_s) and report_offline(link, journal, timeout, retry_s)
            and confirm_prints(link, journal, timeout, retry_s))
