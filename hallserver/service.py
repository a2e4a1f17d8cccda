"""The service layer: turns one device message into engine commands, records the outcome, and
answers. It owns the hall's lock and its unit of work; it knows neither MQTT nor HTTP.

Error policy: malformed input and refusals become ok:false replies (stored, so a retry gets the
same answer); a store failure becomes an `unavailable` reply that is not stored, and the engine is
rebuilt from the store before the next command, so nothing unacknowledged lingers in memory.
"""

from __future__ import annotations

import collections
import contextlib
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

import protocols
from hallserver.domain import views
from hallserver.domain.config import Device, HallConfig
from hallserver.domain.engine import Hall
from hallserver.domain.model import FINAL, Event, Refused, Ticket
from hallserver.store import Store
from hallserver.store.store import stored_ticket

log = logging.getLogger(__name__)


class StoreUnavailable(RuntimeError):
    """The database is gone for now: answer 503 / publish nothing, and try again later."""


def _midnight(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


@dataclass
class Outcome:
    reply: dict | None  # the `down` reply, when the message had a readable id
    events: list[Event] = field(default_factory=list)
    duplicate: bool = False
    resend_state: bool = False  # the device asked for its state again
    hall: str = ""


class Batch:
    """Group commit: device messages, of one hall or several, applied in arrival order and committed
    in one transaction. Each hall touched stays locked from its first message to the commit, so a
    tick or a manager's command can't record events between a message's apply and its commit.
    If the commit fails, every reply of the batch becomes `unavailable` and the halls are rebuilt
    from the store: what was applied in memory but not recorded is forgotten, as with one message.

    The MQTT adapter pipelines batches: `write` runs on its committer thread while the loop applies
    the next batch, made `after` this one (its ids count as answered; it stands only if this one
    commits), and `finish` runs back in the loop's thread, which holds the locks.
    """

    def __init__(self, store: Store, after: Batch | None = None):
        self.store = store
        self.units: list[tuple] = []
        self.outcomes: list[Outcome] = []
        self.answered: dict[tuple[str, str, str], dict] = {}  # replies known (stored or in this batch)
        self.looked_up: set[tuple[str, str, str]] = set()
        self.new_keys: set[tuple[str, str, str]] = set()  # answered in this batch, not yet committed
        self.held: list[HallService] = []
        if after is not None:  # still committing: a retry of one of its ids is a duplicate
            self.answered.update(after.answered)
            self.looked_up |= after.looked_up
            self.new_keys |= after.new_keys

    def prefetch(self, keys: list[tuple[str, str, str]]) -> None:
        """Look up which of these (hall, device, msg_id) were answered before, in one query."""
        keys = [k for k in keys if k not in self.looked_up]
        self.answered.update(self.store.processed_replies(keys))
        self.looked_up.update(keys)

    def stored_reply(self, key: tuple[str, str, str]) -> dict | None:
        if key not in self.answered and key not in self.looked_up:
            self.prefetch([key])
        return self.answered.get(key)

    def hold(self, service: HallService) -> None:
        if service not in self.held:
            service.acquire()
            self.held.append(service)

    def add(self, service: HallService, outcome: Outcome, unit: tuple) -> None:
        device, msg_id = unit[2][0], unit[2][1]
        self.answered[(service.config.id, device, msg_id)] = unit[2][2]
        self.new_keys.add((service.config.id, device, msg_id))
        self.units.append(unit)
        self.depends(outcome)

    def depends(self, outcome: Outcome) -> None:
        """This outcome stands only if the batch commits (its own rows, or a repeat of them)."""
        self.outcomes.append(outcome)

    def write(self) -> None:
        """Record everything in one transaction. It touches nothing but the store, so any thread may run it."""
        if self.units:
            self.store.record_many(self.units)

    def finish(self, error: BaseException | None) -> bool:
        """After `write`, in the thread that applied the batch: with an `error` (the write's, or the
        batch this one came after), every reply becomes `unavailable` and the halls are rebuilt from
        the store. The halls' locks are released either way."""
        try:
            if error is None:
                return True
            log.error("store failed, %d commands not recorded: %s", len(self.units), error)
            for service in self.held:
                service.metrics["store_errors"] += 1
                service._stale = True
            for outcome in self.outcomes:
                msg_id = outcome.reply["re"] if outcome.reply else ""
                outcome.reply = protocols.error_reply(msg_id, "unavailable")
                outcome.events, outcome.resend_state = [], False
            for service in self.held:
                service.metrics["refused.unavailable"] += sum(o.hall == service.config.id for o in self.outcomes)
                service._fresh()  # rebuild now, from what the store holds
            return False
        finally:
            for service in reversed(self.held):
                service.lock.release()
            self.held.clear()

    def commit(self) -> bool:
        """`write` and `finish` in this thread; False (and replies made `unavailable`) if it failed."""
        try:
            self.write()
        except Exception as exc:  # a store failure (or a bug in writing): nothing of the batch stands
            return self.finish(exc)
        return self.finish(None)


class HallService:
    def __init__(self, config: HallConfig, store: Store, clock: Callable[[], datetime] | None = None,
                 new_token: Callable[[], str] = lambda: secrets.token_urlsafe(12)):
        self.config = config
        self.store = store
        self.tz = ZoneInfo(config.timezone)
        self._clock = clock or (lambda: datetime.now(self.tz))
        self.new_token = new_token
        self.lock = threading.RLock()
        self._waiters = 0  # threads waiting for `lock` (see `acquire`)
        self._waiting = threading.Condition(threading.Lock())
        self.metrics: collections.Counter[str] = collections.Counter()
        self.hall = Hall(config)
        self._stale = True
        self._latest: datetime | None = None

    def acquire(self) -> None:
        """Take the hall's lock, saying so while waiting for it (`wanted`): the MQTT adapter holds a
        busy hall's lock from one batch to the next while their commits overlap, and lets a waiting
        thread (an HTTP request, the ticker) in between two batches."""
        if self.lock.acquire(blocking=False):
            return
        with self._waiting:
            self._waiters += 1
        try:
            self.lock.acquire()
        finally:
            with self._waiting:
                self._waiters -= 1
                self._waiting.notify_all()

    @property
    def wanted(self) -> bool:
        return self._waiters > 0

    def let_in(self, timeout: float = 1.0) -> None:
        """Wait until the threads waiting for the lock have taken it (by a thread that has just
        released it): a lock is not fair, and the releasing thread would otherwise take it again first."""
        with self._waiting:
            self._waiting.wait_for(lambda: self._waiters == 0, timeout)

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        """The hall to oneself: every reader and writer of the live hall goes through here."""
        self.acquire()
        try:
            yield
        finally:
            self.lock.release()

    def now(self) -> datetime:
        """The server's clock, never going backwards: a clock stepped back (NTP, a wrong manual
        setting) must not reopen yesterday or reorder the day's events."""
        now = self._clock().astimezone(self.tz)
        if self._latest is not None and now < self._latest:
            return self._latest
        self._latest = now
        return now

    # ------------------------------------------------------------ start and rebuild
    def load(self) -> None:
        """Rebuild the live hall from today's stored events (at start, and after a store failure)."""
        with self.exclusive():
            self.store.ensure_hall(self.config.id, self.config.name)
            last = self.store.last_event_at(self.config.id, self.tz)
            if last is not None and (self._latest is None or last > self._latest):
                self._latest = last  # the clock was stepped back since the last event
            now = self.now()
            hall = Hall(self.config)
            hall.roll(now)
            events = self.store.load_day(self.config.id, now.date(), self.tz)
            for e in events:
                hall.apply(e)
            self.store.expire_before(self.config.id, now.date(), _midnight(now))
            self.hall, self._stale = hall, False
            log.info("hall %s: replayed %d events of %s", self.config.id, len(events), now.date())

    def _fresh(self) -> bool:
        if self._stale:
            try:
                self.load()
            except SQLAlchemyError as exc:
                log.error("store unavailable: %s", exc)
                self.metrics["store_errors"] += 1
                return False
        return True

    def reconfigure(self, config: HallConfig, check: Callable[[Hall], None] | None = None,
                    persist: Callable[[], None] | None = None) -> None:
        """Swap the hall's configuration (an admin's edit; the stored overlay at start) and replay
        today's events under it, so the engine never sees a configuration change mid-day. Under the
        lock: `check(live hall)` may refuse (it raises), the replay runs, then `persist()` records
        the change; when anything fails, the old configuration stays (rebuilt before the next command)."""
        with self.exclusive():
            if not self._fresh():
                raise StoreUnavailable("the store is unreachable")
            if check is not None:
                check(self.hall)
            old = self.config
            self.config = config
            try:
                self.load()
                if persist is not None:
                    persist()
            except BaseException:
                self.config, self._stale = old, True
                raise

    # ------------------------------------------------------------ device messages
    def handle_up(self, device_id: str, payload: bytes) -> Outcome:
        """One device message in its own transaction (the kiosk page, tests); the MQTT adapter
        batches several through `parse_up` and `apply`."""
        parsed = self.parse_up(device_id, payload)
        if isinstance(parsed, Outcome):
            return parsed
        batch = Batch(self.store)
        outcome = self.apply(device_id, parsed, batch)
        batch.commit()
        return outcome

    def parse_up(self, device_id: str, payload: bytes) -> dict | Outcome:
        """The checked message, or the outcome of a malformed one (answered when it had an id)."""
        self.metrics["messages_in"] += 1
        try:
            return protocols.parse_up(payload)
        except protocols.ProtocolError as exc:
            self.metrics["malformed." + exc.code] += 1
            log.warning("malformed message from %s: %s", device_id, exc)
            if exc.msg_id is None:
                return Outcome(None, hall=self.config.id)
            return Outcome(self._error(exc.msg_id, exc.code, exc.detail), hall=self.config.id)

    def apply(self, device_id: str, msg: dict, batch: Batch) -> Outcome:
        """Apply a parsed message to the live hall; its rows join `batch`, committed by the caller."""
        hall_id, msg_id = self.config.id, msg["id"]
        device = self.config.devices.get(device_id)
        if device is None:
            self.metrics["refused.unknown_device"] += 1
            log.warning("message from unknown device %s", device_id)
            return Outcome(self._error(msg_id, "unknown_device", device_id), hall=hall_id)
        batch.hold(self)
        if not self._fresh():
            return Outcome(self._error(msg_id, "unavailable"), hall=hall_id)
        key = (hall_id, device_id, msg_id)
        try:
            stored = batch.stored_reply(key)
        except SQLAlchemyError as exc:
            log.error("store unavailable: %s", exc)
            self.metrics["store_errors"] += 1
            return Outcome(self._error(msg_id, "unavailable"), hall=hall_id)
        if stored is not None:
            self.metrics["duplicates"] += 1
            outcome = Outcome(stored, duplicate=True, hall=hall_id)
            if key in batch.new_keys:  # the same id twice in one batch
                batch.depends(outcome)
            return outcome
        now = self.now()
        resend = msg["t"] == "state.get"
        try:
            if not protocols.allowed(device.kind, msg["t"]):
                raise Refused("wrong_device_kind", f"{device.kind} cannot send {msg['t']}")
            events, fields = self._dispatch(device, msg, now)
            reply = protocols.reply(msg_id, fields)
        except Refused as r:
            self.metrics["refused." + r.code] += 1
            events, reply = r.events, self._error(msg_id, r.code, r.detail)
        self.metrics["commands"] += 1
        outcome = Outcome(reply, events, resend_state=resend, hall=hall_id)
        batch.add(self, outcome, (hall_id, events, (device_id, msg_id, reply, now), []))
        return outcome

    def _error(self, msg_id: str, code: str, detail: str = "") -> dict:
        reply = protocols.error_reply(msg_id, code)
        if code == "unavailable":  # the other codes are counted where they are decided
            self.metrics["refused.unavailable"] += 1
        if detail:
            reply["error"]["detail"] = detail
        return reply

    def _dispatch(self, device: Device, msg: dict, now: datetime) -> tuple[list[Event], dict]:
        t, hall, counter = msg["t"], self.hall, device.counter
        if t == "ticket.take":
            if device.services and msg["service"] not in device.services:
                raise Refused("unknown_service", msg["service"])
            events = hall.take_ticket(now, msg["service"], msg.get("priority"), self.new_token(), device.id,
                                      take=msg["id"])
            ticket = hall.tickets[events[0].data["number"]]
            return events, {"ticket": views.ticket_reply(ticket, hall)}
        if t in ("ticket.printed", "ticket.block", "ticket.offline", "ticket.void"):
            return self._dispenser(device, msg, now)
        if t == "officer.login":
            events = hall.login(now, counter, msg["officer"], msg["pin"])
            officer = self.config.officers[msg["officer"]]
            return events, {"officer": {"id": officer.id, "name": officer.name}}
        if t in ("call.next", "call.recall"):
            events = hall.call_next(now, counter, msg.get("ticket")) if t == "call.next" else hall.recall(now, counter)
            number = events[-1].data["number"]
            fields = {"ticket": {"number": number, "service": hall.tickets[number].service}}
            if events[-1].kind == "ticket.no_show":
                fields["no_show"] = True  # the recall limit was reached
            return events, fields
        simple = {
            "officer.logout": lambda: hall.logout(now, counter),
            "call.no_show": lambda: hall.no_show(now, counter),
            "serve.done": lambda: hall.done(now, counter),
            "serve.hold": lambda: hall.hold(now, counter),
            "serve.transfer": lambda: hall.transfer(now, counter, msg.get("service"), msg.get("counter")),
            "counter.pause": lambda: hall.pause(now, counter, msg.get("reason")),
            "counter.resume": lambda: hall.resume(now, counter),
            "state.get": lambda: [],
        }
        if t == "rating.vote":
            number = msg.get("ticket")
            retired = None
            if number is not None and number not in hall.tickets:
                retired = self.store.retired(self.config.id, now.date(), number, self.tz)  # retired: ask the store
            events = hall.vote(now, counter, msg["score"], msg.get("reason"), number, device.id, retired)
            return events, {"rating": {"ticket": events[0].data["ticket"], "score": msg["score"]}}
        return simple[t](), {}

    def _dispenser(self, device: Device, msg: dict, now: datetime) -> tuple[list[Event], dict]:
        """A dispenser's print confirmations, offline blocks and voids (protocols/README.md, section 3)."""
        t, hall = msg["t"], self.hall
        if t == "ticket.printed":
            return hall.ticket_printed(now, device.id, msg["number"]), {}
        if t == "ticket.void":
            events = hall.void_take(now, device.id, msg["take"])
            return events, {"void": {"take": msg["take"], "number": hall.takes.get((device.id, msg["take"]))}}
        if t == "ticket.block":
            events = hall.reserve_block(now, device.id, device.services or tuple(self.config.services), msg["size"])
            blocks = [[code, self.config.services[code].prefix, first, last]
                      for code, first, last in events[0].data["blocks"]]
            return events, {"block": {"day": now.date().isoformat(), "width": self.config.number_width,
                                      "services": blocks}}
        try:
            issued = datetime.fromisoformat(msg["issued_at"])
        except ValueError:
            raise Refused("bad_field", "issued_at must be ISO 8601") from None
        if issued.tzinfo is None:
            issued = issued.replace(tzinfo=self.tz)
        events = hall.report_offline(now, device.id, msg["service"], msg["number"], issued, msg.get("priority"),
                                     self.new_token())
        return events, {"ticket": views.ticket_reply(hall.tickets[msg["number"]], hall)}

    def handle_status(self, device_id: str, payload: bytes) -> None:
        """A device's retained availability and health; unknown devices are counted, not stored."""
        try:
            status = protocols.parse_status(payload)
        except protocols.ProtocolError as exc:
            self.metrics["malformed_status." + exc.code] += 1
            log.warning("bad status from %s: %s", device_id, exc)
            return
        if device_id not in self.config.devices:
            self.metrics["status.unknown_device"] += 1
            return
        try:
            self.store.set_device_status(self.config.id, device_id, status["online"], status, self.now())
        except SQLAlchemyError as exc:
            log.error("device status of %s not stored: %s", device_id, exc)

    # ------------------------------------------------------------ time and manager actions
    def tick(self) -> tuple[bool, list[Event] | None]:
        """Let time pass: rating windows close, a new day starts. Returns (changed, events); events
        is None when everything may have changed (a new day, the hall rebuilt from the store)."""
        with self.exclusive():
            rebuilt = self._stale
            if not self._fresh():
                return False, []
            now = self.now()
            rolled, events = self.hall.tick(now)
            if events:
                try:
                    self.store.record(self.config.id, events)
                except SQLAlchemyError as exc:
                    log.error("store failed on tick: %s", exc)
                    self._stale = True
                    return False, []
            if rolled:
                self.store.expire_before(self.config.id, now.date(), _midnight(now))
            return rolled or rebuilt or bool(events), None if rolled or rebuilt else events

    def command(self, fn: Callable[[Hall, datetime], tuple[list[Event], list[object]]]) -> list[Event]:
        """A manager's command on the live hall (from HTTP): `fn` runs the engine command under the lock
        and returns its events with extra rows (the audit entry), recorded in one transaction. A
        refusal propagates with nothing changed; a store failure rebuilds the hall from the store and
        becomes Refused("unavailable")."""
        with self.exclusive():
            if not self._fresh():
                raise Refused("unavailable")
            events, extra = fn(self.hall, self.now())
            if events:
                try:
                    self.store.record(self.config.id, events, extra=extra)
                except SQLAlchemyError as exc:
                    log.error("store failed, manager command not recorded: %s", exc)
                    self.metrics["store_errors"] += 1
                    self._stale = True
                    self._fresh()
                    raise Refused("unavailable") from None
                self.metrics["manager_commands"] += 1
            return events

    def snapshot(self, fn: Callable[[Hall, datetime], object]) -> object:
        """Read the live hall consistently (for HTTP queries and outputs). While the store is
        unreachable the hall in memory may hold a change that was never recorded: nobody reads it."""
        with self.exclusive():
            if not self._fresh():
                raise StoreUnavailable("the store is unreachable; the hall is rebuilt when it is back")
            return fn(self.hall, self.now())

    def ticket(self, view: Callable[[Ticket, Hall, datetime], object], *, number: str | None = None,
               token: str | None = None) -> object:
        """`view(ticket, hall, now)` of today's ticket with this number or tracking token, or None: from
        memory, or from the store once the engine has retired it (a finished ticket, engine.RETAIN)."""
        def find(h: Hall, now: datetime) -> object:
            t = (h.tickets.get(number) if number is not None
                 else next((t for t in h.tickets.values() if t.token == token), None))
            return None if t is None else view(t, h, now)

        found = self.snapshot(find)
        if found is not None:
            return found
        day = self.now().date()
        if number is not None:
            row = self.store.ticket(self.config.id, day, number)
        else:
            row = self.store.ticket_by_token(self.config.id, token or "")
        if row is None or row.day != day or row.status not in FINAL:
            return None
        t = stored_ticket(row, self.tz)
        return self.snapshot(lambda h, now: view(t, h, now))
