"""The hall engine: pure state machine of one hall's day.

Commands check the state and return events; `apply` is the only place state changes, so the live
queues are rebuilt exactly by applying the day's stored events again. No I/O, no clock: the time
(and anything random, such as tracking tokens) is passed in.

Memory follows the hall, not the day: a finished ticket is retired RETAIN after it finished (the
time of the event that finds it due, so a replay retires the same tickets) and is then only in the
store; the day's counts keep its share (`day_counts`). What the engine still needs of it comes from
the store through its caller (a late vote: `vote(..., retired=...)`).
"""

from __future__ import annotations

import math
import unicodedata
from collections import deque
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from hallserver.domain import policies
from hallserver.domain.config import WEEKDAYS, HallConfig, Service
from hallserver.domain.model import (
    CALLED,
    DONE,
    EXPIRED,
    FINAL,
    HELD,
    NO_SHOW,
    VOIDED,
    WAITING,
    Armed,
    Call,
    CounterState,
    Event,
    Refused,
    Retired,
    Ticket,
)
from hallserver.domain.pins import verify_pin

RECENT_CALLS = 10
NOTICE_MAX = 500
LOGIN_FAILURES = 5  # wrong PINs within LOGIN_WINDOW before an officer id is locked for that window
LOGIN_WINDOW = timedelta(minutes=5)
MAX_BLOCK = 200  # numbers per service in one offline block
# a finished ticket stays in memory this long (and at least twice the rating window): its dispenser's
# print confirmation, a vote, a reprint or a look-up come within it; after it, the store answers
RETAIN = timedelta(minutes=30)
# a service's day in day_counts: tickets issued, called, called within the target wait, served
DAY_COUNTS = ("issued", "called", "within", "served")



class Hall:
    def __init__(self, config: HallConfig):
        self.config = config
        self.policy = policies.get(config.policy)
        self.day: date | None = None
        self._reset_day()

    # ---------------------------------------------------------------- day state
    def _reset_day(self) -> None:
        self.policy = policies.get(self.config.policy)
        # the configuration's own strings, for the names an event carries (services, officers,
        # devices, priority categories): a ticket then points at one shared string instead of the
        # copy each event's data holds (a parsed message, or a stored event read back for replay)
        cfg = self.config
        self._names: dict[str, str] = {name: name for name in (
            *cfg.services, *cfg.officers, *cfg.devices, *(c.key for c in cfg.priority.categories))}
        self.notice = self.config.notice
        self.tickets: dict[str, Ticket] = {}  # open ones and those finished within RETAIN
        self._prefixes = {s.prefix: code for code, s in cfg.services.items()}
        self._retain = max(RETAIN, timedelta(seconds=2 * cfg.rating_window_s))
        self.finished: deque[Ticket] = deque()  # in the order they finished
        self.retired: dict[str, dict[str, int]] = {}  # the retired tickets' shares of day_counts
        # waiting, called or held: what the queries scan, so their cost follows the queues, not the day
        self.open: dict[str, Ticket] = {}
        self._queue_index: tuple[dict[str, list[Ticket]], dict[int, list[Ticket]]] | None = None
        self.issued: dict[str, int] = {code: 0 for code in self.config.services}
        self.order = 0
        self.counters: dict[int, CounterState] = {
            n: CounterState(n, list(c.services)) for n, c in self.config.counters.items()
        }
        self.armed: dict[int, Armed] = {}
        self.rated: set[str] = set()
        self.recent: deque[Call] = deque(maxlen=RECENT_CALLS)
        self.call_seq = 0
        self.login_failures: dict[str, list[datetime]] = {}
        # dispensers' offline blocks, reserved from the top of the number space down (A999, A998, ...)
        self.blocks: dict[str, list[tuple[str, int, int]]] = {}  # device -> [(service, first, last)]
        self.reserved_floor: dict[str, int] = {}  # service -> lowest reserved number: online issuing stops below
        self.printed: set[str] = set()
        # tickets that count toward a service's daily_cap: issued online or reported offline, not voided
        self.counted: dict[str, int] = {code: 0 for code in self.config.services}
        self.reserved: dict[str, int] = {}  # service -> numbers reserved in today's blocks
        self.offline: dict[str, int] = {}  # service -> offline tickets reported from them
        self.takes: dict[tuple[str, str], str] = {}  # (device, ticket.take id) -> number issued for it
        self.void_takes: set[tuple[str, str]] = set()  # takes voided before the server ever saw them
        # a manager's move of an officer who was serving: officer -> {"counter", "by"}, carried out
        # when their current ticket ends (done, no-show, hold or transfer)
        self.pending_moves: dict[str, dict] = {}

    def roll(self, now: datetime) -> bool:
        """Start a new day when `now` is on another date: numbers restart, queues empty.

        Returns True when a day with state was closed.
        """
        today = now.date()
        if self.day == today:
            return False
        closed = self.day is not None
        self.day = today
        self._reset_day()
        return closed

    # ---------------------------------------------------------------- queries
    def _queues(self) -> tuple[dict[str, list[Ticket]], dict[int, list[Ticket]]]:
        """Waiting tickets per service (oldest first) and those sent to one counter, built once
        after each change: the outputs ask for them for every device of the hall."""
        if self._queue_index is None:
            by_service: dict[str, list[Ticket]] = {}
            sent: dict[int, list[Ticket]] = {}
            for t in self.open.values():
                if t.status == WAITING:
                    by_service.setdefault(t.service, []).append(t)
                    if t.target_counter is not None:
                        sent.setdefault(t.target_counter, []).append(t)
            for queue in by_service.values():
                queue.sort(key=lambda t: t.key)
            self._queue_index = (by_service, sent)
        return self._queue_index

    def waiting(self, service: str | None = None) -> list[Ticket]:
        """Waiting tickets (of one service), oldest first."""
        by_service = self._queues()[0]
        if service is not None:
            return list(by_service.get(service, ()))
        return sorted((t for queue in by_service.values() for t in queue), key=lambda t: t.key)

    def eligible(self, counter: CounterState) -> list[Ticket]:
        """Tickets this counter may call: its services' queues and the tickets sent to it (in the
        order they were issued)."""
        by_service, sent = self._queues()
        found = [t for t in sent.get(counter.number, ())]
        for code in dict.fromkeys(counter.services):
            found.extend(t for t in by_service.get(code, ()) if t.target_counter is None)
        return sorted(found, key=lambda t: t.order)

    def counter_of_officer(self, officer: str) -> CounterState | None:
        return next((c for c in self.counters.values() if c.officer == officer), None)

    def serving_counters(self, service: str) -> int:
        return sum(1 for c in self.counters.values() if c.status == "open" and service in c.services)

    def ahead_of(self, ticket: Ticket) -> int:
        """Waiting tickets that will be called before this one in its queue."""
        if ticket.status != WAITING:
            return 0
        strict = self.config.priority.mode == "strict"
        n = 0
        for t in self.open.values():
            if t is ticket or t.status != WAITING or t.service != ticket.service:
                continue
            if t.priority and not ticket.priority and strict:
                n += 1
            elif bool(t.priority) == bool(ticket.priority) and t.key < ticket.key:
                n += 1
        return n

    def eta_min(self, ticket: Ticket) -> int:
        service = self.config.services[ticket.service]
        servers = max(1, self.serving_counters(ticket.service))
        return math.ceil(self.ahead_of(ticket) * service.handle_min / servers)

    def is_open_for_tickets(self, service_code: str, now: datetime) -> bool:
        if self.config.always_open:
            return True
        spans = self.config.services[service_code].hours.get(WEEKDAYS[now.weekday()], ())
        t = now.time()
        return any(start <= t < end for start, end in spans)

    # ---------------------------------------------------------------- commands
    def _commit(self, events: list[Event]) -> list[Event]:
        for e in events:
            self.apply(e)
        return events

    def _counter(self, number: int) -> CounterState:
        try:
            return self.counters[number]
        except KeyError:
            raise Refused("unknown_counter", str(number)) from None

    def _logged_in(self, number: int) -> CounterState:
        c = self._counter(number)
        if c.officer is None:
            raise Refused("not_logged_in")
        return c

    def _current(self, number: int) -> tuple[CounterState, Ticket]:
        c = self._logged_in(number)
        if c.current is None:
            raise Refused("no_current_ticket")
        return c, self.tickets[c.current]

    def _service(self, code: str, priority: str | None) -> Service:
        """The service a ticket is for, and its priority category, checked."""
        svc = self.config.services.get(code)
        if svc is None:
            raise Refused("unknown_service", code)
        if priority is not None and priority not in {c.key for c in self.config.priority.categories}:
            raise Refused("unknown_priority", priority)
        return svc

    def cap_left(self, service: str) -> int | None:
        """Tickets the service may still issue today under its daily_cap (None: no cap). Offline
        tickets reported count; voided ones do not."""
        cap = self.config.services[service].daily_cap
        return None if cap is None else max(0, cap - self.counted.get(service, 0))

    def take_ticket(self, now: datetime, service: str, priority: str | None = None,
                    token: str = "", device: str | None = None, take: str | None = None) -> list[Event]:
        """`take`: the id of the dispenser's ticket.take (or the kiosk page's touch), remembered so
        that the dispenser can void the ticket if the reply never reached it (void_take)."""
        self.roll(now)
        if device is not None and take is not None and (device, take) in self.void_takes:
            raise Refused("ticket_voided", take)
        svc = self._service(service, priority)
        if not svc.enabled:
            raise Refused("service_closed", service)
        if not self.is_open_for_tickets(service, now):
            raise Refused("outside_hours", service)
        if self.cap_left(service) == 0:
            raise Refused("daily_cap_reached", service)
        seq = self.issued[service] + 1
        if seq >= 10 ** self.config.number_width:  # a longer number could be another prefix's (A+101 = A1+01)
            raise Refused("daily_cap_reached", service)
        if seq >= self.reserved_floor.get(service, seq + 1):  # the rest is reserved for dispensers' offline use
            raise Refused("daily_cap_reached", service)
        number = f"{svc.prefix}{seq:0{self.config.number_width}d}"
        data = {"number": number, "service": service, "priority": priority, "seq": seq, "token": token,
                "device": device}
        if take is not None:
            data["take"] = take
        return self._commit([Event("ticket.issued", now, data)])

    def login(self, now: datetime, counter: int, officer: str, pin: str) -> list[Event]:
        self.roll(now)
        c = self._counter(counter)
        recent = [t for t in self.login_failures.get(officer, []) if now - t < LOGIN_WINDOW]
        if len(recent) >= LOGIN_FAILURES:
            raise Refused("too_many_attempts", officer)
        who = self.config.officers.get(officer)
        if who is not None and not who.active:
            raise Refused("officer_inactive", officer)
        if who is None or not verify_pin(who.pin_hash, pin):
            failed = self._commit([Event("officer.login_failed", now, {"officer": officer, "counter": counter})])
            raise Refused("wrong_pin", officer, failed)
        return self._commit(self._seat(now, c, officer))

    def _seat(self, now: datetime, c: CounterState, officer: str, by: str | None = None) -> list[Event]:
        """The events that put `officer` at counter `c` (a login, or a manager's move)."""
        counter = c.number
        if c.officer == officer:
            return []
        if c.closed:
            raise Refused("counter_closed", str(counter))
        events = []
        if c.officer is not None:  # a shift change on a free counter replaces the officer
            if c.current is not None:
                raise Refused("counter_busy", c.current)
            events.append(Event("officer.logged_out", now, {"officer": c.officer, "counter": counter,
                                                              "reason": "replaced"}))
        elsewhere = self.counter_of_officer(officer)
        if elsewhere is not None:  # forgot to log out at another counter
            if elsewhere.current is not None:
                raise Refused("officer_busy", str(elsewhere.number))
            events.append(Event("officer.logged_out", now, {"officer": officer, "counter": elsewhere.number,
                                                              "reason": "moved"}))
        data = {"officer": officer, "counter": counter}
        if by is not None:
            data["by"] = by
        events.append(Event("officer.logged_in", now, data))
        return events

    def logout(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c = self._logged_in(counter)
        if c.current is not None:
            raise Refused("counter_busy", c.current)
        return self._commit([Event("officer.logged_out", now, {"officer": c.officer, "counter": counter,
                                                                 "reason": "logout"})])

    def call_next(self, now: datetime, counter: int, ticket: str | None = None) -> list[Event]:
        self.roll(now)
        c = self._logged_in(counter)
        if c.closed:
            raise Refused("counter_closed", str(counter))
        if c.paused:
            raise Refused("counter_paused")
        if c.current is not None:
            raise Refused("counter_busy", c.current)
        if ticket is not None:  # call back a ticket this counter put on hold
            if ticket not in c.held:
                raise Refused("unknown_ticket", ticket)
            chosen = self.tickets[ticket]
        else:
            chosen = policies.choose(self.policy, self.eligible(c), c, self.config, now)
            if chosen is None:
                raise Refused("queue_empty")
        return self._commit([Event("ticket.called", now, {
            "number": chosen.number, "counter": counter, "officer": c.officer,
            "from_hold": ticket is not None})])

    def recall(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c, t = self._current(counter)
        if t.recalls >= self.config.recall_limit:
            return self._then_move(now, c, self._commit([Event("ticket.no_show", now, {
                "number": t.number, "counter": counter, "officer": c.officer, "reason": "recall_limit"})]))
        return self._commit([Event("ticket.recalled", now, {"number": t.number, "counter": counter})])

    def no_show(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c, t = self._current(counter)
        return self._then_move(now, c, self._commit([Event("ticket.no_show", now, {
            "number": t.number, "counter": counter, "officer": c.officer, "reason": "officer"})]))

    def done(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c, t = self._current(counter)
        return self._then_move(now, c, self._commit([Event("ticket.done", now, {
            "number": t.number, "counter": counter, "officer": c.officer})]))

    def hold(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c, t = self._current(counter)
        return self._then_move(now, c, self._commit([Event("ticket.held", now, {"number": t.number,
                                                                                "counter": counter})]))

    def transfer(self, now: datetime, counter: int, service: str | None = None,
                 to_counter: int | None = None) -> list[Event]:
        self.roll(now)
        c, t = self._current(counter)
        if (service is None) == (to_counter is None):
            raise Refused("bad_transfer", "a service or a counter")
        if service is not None and service not in self.config.services:
            raise Refused("unknown_service", service)
        if to_counter is not None:
            if to_counter not in self.counters:
                raise Refused("unknown_counter", str(to_counter))
            if to_counter == counter:
                raise Refused("bad_transfer", "same counter")
        return self._then_move(now, c, self._commit([Event("ticket.transferred", now, {
            "number": t.number, "counter": counter, "officer": c.officer,
            "service": service or t.service, "to_counter": to_counter})]))

    def pause(self, now: datetime, counter: int, reason: str | None = None) -> list[Event]:
        self.roll(now)
        c = self._logged_in(counter)
        if c.current is not None:
            raise Refused("counter_busy", c.current)
        if c.paused:
            return []
        return self._commit([Event("counter.paused", now, {"counter": counter, "reason": reason})])

    def resume(self, now: datetime, counter: int) -> list[Event]:
        self.roll(now)
        c = self._logged_in(counter)
        if not c.paused:
            raise Refused("not_paused")
        return self._commit([Event("counter.resumed", now, {"counter": counter})])

    def vote(self, now: datetime, counter: int, score: str, reason: str | None = None,
             ticket: str | None = None, device: str | None = None, retired: Retired | None = None) -> list[Event]:
        """`retired`: the named ticket as the store has it, when it is no longer in memory (see RETAIN)."""
        self.roll(now)
        if self.config.level(score) is None:
            raise Refused("unknown_level", score)
        if reason is not None and reason not in {r.key for r in self.config.reasons}:
            raise Refused("unknown_reason", reason)
        armed = self.armed.get(counter)
        # the named ticket: in memory, else as the store has it once retired (None: never served here)
        if ticket is not None and ticket not in self.tickets and retired is not None:
            if retired.rated:
                raise Refused("already_rated", ticket)
            late: Ticket | None = retired.ticket
        else:
            late = self.tickets.get(ticket) if ticket is not None else None
        if ticket is not None and ticket in self.rated:
            raise Refused("already_rated", ticket)
        if armed is not None and now <= armed.expires_at and ticket in (None, armed.ticket):
            number, officer = armed.ticket, armed.officer
        else:
            # a button that lost its link keeps the vote it took while armed and sends it later,
            # naming the ticket: it still counts for that ticket if it was served at this counter today
            if late is None or late.status != DONE or late.counter != counter:
                raise Refused("not_armed")
            number, officer = late.number, late.officer
        return self._commit([Event("rating.recorded", now, {
            "counter": counter, "ticket": number, "officer": officer, "score": score,
            "reason": reason, "device": device})])

    def set_services(self, now: datetime, counter: int, services: list[str]) -> list[Event]:
        """A manager's live change of what a counter serves; effective at its next call."""
        self.roll(now)
        c = self._counter(counter)
        unknown = [s for s in services if s not in self.config.services]
        if unknown:
            raise Refused("unknown_service", ",".join(unknown))
        if c.services == list(services):
            return []
        return self._commit([Event("counter.services_set", now, {"counter": counter, "services": list(services)})])

    def close_counter(self, now: datetime, counter: int, by: str | None = None) -> list[Event]:
        """A manager closes a counter: no more logins or calls there; an idle officer is logged out,
        a busy one finishes the ticket at hand first (the close takes effect at the next call)."""
        self.roll(now)
        c = self._counter(counter)
        if c.closed:
            return []
        events = [Event("counter.closed", now, {"counter": counter, "by": by})]
        if c.officer is not None and c.current is None:
            events.append(Event("officer.logged_out", now, {"officer": c.officer, "counter": counter,
                                                              "reason": "counter_closed"}))
        return self._commit(events)

    def open_counter(self, now: datetime, counter: int, by: str | None = None) -> list[Event]:
        """A manager opens a closed counter again: officers may log in and call there."""
        self.roll(now)
        c = self._counter(counter)
        if not c.closed:
            return []
        return self._commit([Event("counter.opened", now, {"counter": counter, "by": by})])

    def move_officer(self, now: datetime, officer: str, counter: int, by: str | None = None) -> list[Event]:
        """A manager seats an officer at a counter (from another counter, or not yet logged in),
        as a login without PIN. An officer serving a ticket moves when it ends (`officer.move_deferred`
        now, the seating after their done, no-show, hold or transfer); refused while the target
        counter is closed or serving with another officer. Moving an officer with a deferred move
        back to their own counter calls the move off."""
        self.roll(now)
        if officer not in self.config.officers:
            raise Refused("unknown_officer", officer)
        if not self.config.officers[officer].active:
            raise Refused("officer_inactive", officer)
        target, at = self._counter(counter), self.counter_of_officer(officer)
        if at is not None and at is not target and at.current is not None:
            if target.closed:
                raise Refused("counter_closed", str(counter))
            if target.officer is not None and target.current is not None:
                raise Refused("counter_busy", target.current)
            return self._commit([Event("officer.move_deferred", now, {
                "officer": officer, "counter": counter, "from": at.number, "by": by})])
        events = self._seat(now, target, officer, by)
        if not events and officer in self.pending_moves:
            events = [Event("officer.move_deferred", now, {"officer": officer, "counter": None, "by": by})]
        return self._commit(events)

    def _then_move(self, now: datetime, c: CounterState, events: list[Event]) -> list[Event]:
        """After the ticket at `c` ended: the officer's deferred move, when there is one, happens
        now; if the target cannot take them any more, the move is dropped (with its reason)."""
        move = self.pending_moves.get(c.officer) if c.officer is not None and c.current is None else None
        if move is None:
            return events
        officer = c.officer
        try:
            seat = self._seat(now, self._counter(move["counter"]), officer, move.get("by"))
        except Refused as r:
            seat = [Event("officer.move_deferred", now, {"officer": officer, "counter": None, "by": move.get("by"),
                                                          "dropped": r.code})]
        return events + self._commit(seat)

    def set_policy(self, now: datetime, policy: str, by: str | None = None) -> list[Event]:
        """A manager's live switch of the routing policy, effective at the next call and for the rest
        of the day (the next day starts with the configured one, as a replay of the day does)."""
        self.roll(now)
        if policy not in policies.POLICIES:
            raise Refused("bad_field", f"unknown policy {policy!r}")
        if self.policy.name == policy:
            return []
        return self._commit([Event("hall.policy_set", now, {"policy": policy, "by": by})])

    def set_notice(self, now: datetime, notice: str, by: str | None = None) -> list[Event]:
        """The hall screens' scrolling line for the rest of the day (the standing one is in the
        hall configuration and comes back the next day)."""
        self.roll(now)
        notice = unicodedata.normalize("NFC", notice.strip())
        if len(notice) > NOTICE_MAX:
            raise Refused("bad_field", f"a notice has at most {NOTICE_MAX} characters")
        if notice == self.notice:
            return []
        return self._commit([Event("hall.notice_set", now, {"notice": notice, "by": by})])

    # ---------------------------------------------------------------- dispensers: prints and offline blocks
    def ticket_printed(self, now: datetime, device: str, number: str) -> list[Event]:
        """The dispenser that issued a ticket confirms it left the printer whole (once)."""
        self.roll(now)
        t = self.tickets.get(number)
        if t is None or t.device != device:
            raise Refused("unknown_ticket", number)
        if number in self.printed:
            return []
        return self._commit([Event("ticket.printed", now, {"number": number, "device": device})])

    def reserve_block(self, now: datetime, device: str, services: Iterable[str], size: int) -> list[Event]:
        """Reserve `size` numbers per service for a dispenser to issue while it cannot reach the server.

        Blocks are taken from the top of the day's number space down (A999..A990, then A989..), so
        the server's own numbering is unchanged and stops below the lowest reserved number; a
        service without room is left out. Valid for the day only.

        A service with a daily_cap gets at most what the cap leaves: the cap, less the tickets
        counted, less the numbers of its earlier blocks not reported yet (a block smaller than
        `size`, or none at the cap). Online issuing stops at the cap; offline reports are accepted
        past it (the citizen holds a printed ticket), so the day ends above the cap by at most the
        numbers that were out in blocks when online issuing reached it.
        """
        self.roll(now)
        if not 1 <= size <= MAX_BLOCK:
            raise Refused("bad_field", f"size must be 1..{MAX_BLOCK}")
        top = 10 ** self.config.number_width
        blocks = []
        for code in services:
            floor = self.reserved_floor.get(code, top)
            n = size
            left = self.cap_left(code)
            if left is not None:
                n = min(n, left - (self.reserved.get(code, 0) - self.offline.get(code, 0)))
            if n > 0 and floor - n > self.issued.get(code, 0):
                blocks.append((code, floor - n, floor - 1))
        if not blocks:
            raise Refused("daily_cap_reached", "no room for a block")
        return self._commit([Event("dispenser.block_reserved", now, {
            "device": device, "size": size, "blocks": [list(b) for b in blocks]})])

    def report_offline(self, now: datetime, device: str, service: str, number: str, issued_at: datetime,
                       priority: str | None = None, token: str = "") -> list[Event]:
        """A ticket a dispenser issued from its block while offline joins its queue at its issue time
        (clamped to today and not later than now). Only numbers of that device's blocks, once."""
        self.roll(now)
        svc = self._service(service, priority)
        known = self.tickets.get(number)
        if known is not None:
            if known.offline and known.device == device and known.service == service:
                return []  # reported before (a retry with a new id): same ticket, no second effect
            raise Refused("not_reserved", number)
        digits = number[len(svc.prefix):]
        seq = int(digits) if number.startswith(svc.prefix) and digits.isdigit() else -1
        if len(digits) != self.config.number_width or not any(
                s == service and first <= seq <= last for s, first, last in self.blocks.get(device, ())):
            raise Refused("not_reserved", number)
        start = now.replace(hour=0, minute=0, second=0, microsecond=0)
        at = min(max(issued_at.astimezone(now.tzinfo), start), now)
        return self._commit([Event("ticket.offline_issued", now, {
            "number": number, "service": service, "priority": priority, "seq": seq, "token": token,
            "device": device, "issued_at": at.isoformat()})])

    def void_take(self, now: datetime, device: str, take: str) -> list[Event]:
        """A dispenser gave up waiting for the reply to its ticket.take `take` (the link dropped; the
        citizen got an offline number, or nothing): the ticket issued for it is a phantom nobody
        holds, and is voided unless it was printed or called. A take not seen yet is remembered and
        refused if it ever arrives (ticket_voided). Voiding twice has one effect."""
        self.roll(now)
        number = self.takes.get((device, take))
        if number is None:
            if (device, take) in self.void_takes:
                return []
            return self._commit([Event("dispenser.take_voided", now, {"device": device, "take": take})])
        t = self.tickets[number]
        if t.status == VOIDED:
            return []
        if number in self.printed:
            raise Refused("already_printed", number)
        if t.status != WAITING or t.first_called_at is not None:
            raise Refused("already_called", number)
        return self._commit([Event("ticket.voided", now, {
            "number": number, "service": t.service, "device": device, "take": take})])

    def tick(self, now: datetime) -> tuple[bool, list[Event]]:
        """Time passing: a new day, rating windows closing. Returns (day rolled, events)."""
        rolled = self.roll(now)
        expired = [Event("rating.expired", now, {"counter": n, "ticket": a.ticket})
                   for n, a in sorted(self.armed.items()) if now > a.expires_at]
        return rolled, self._commit(expired)

    # ---------------------------------------------------------------- apply
    def _name(self, name: str | None) -> str | None:
        """The configuration's string equal to `name` (a service code, officer or device id, a
        priority category), else `name` itself: the same value, held once (see _reset_day)."""
        return self._names.get(name, name) if name is not None else None

    def _number(self, number: str) -> str:
        """The ticket's own number string when it is today's (what a set of numbers keeps)."""
        t = self.tickets.get(number)
        return t.number if t is not None else number

    def apply(self, e: Event) -> None:
        """Change state by one event; also used to replay the stored day after a restart."""
        self.roll(e.at)
        self._queue_index = None
        self._retire(e.at - self._retain)  # before the event: what it adds (a late vote) stays
        getattr(self, "_on_" + e.kind.replace(".", "_"))(e.at, e.data)

    def _on_ticket_issued(self, at: datetime, d: dict) -> None:
        self.order += 1
        self.issued[d["service"]] = max(self.issued.get(d["service"], 0), d["seq"])
        t = self.tickets[d["number"]] = Ticket(d["number"], self._name(d["service"]), self._name(d.get("priority")),
                                               self.order, at, d.get("token", ""), at,
                                               device=self._name(d.get("device")), take=d.get("take"))
        self.open[t.number] = t
        self.counted[d["service"]] = self.counted.get(d["service"], 0) + 1
        if d.get("take") is not None and d.get("device") is not None:
            self.takes[(t.device, d["take"])] = t.number

    def _release(self, t: Ticket) -> None:
        c = self.counters.get(t.counter) if t.counter is not None else None
        if c is not None:
            if c.current == t.number:
                c.current = None
            if t.number in c.held:
                c.held.remove(t.number)

    def _on_ticket_called(self, at: datetime, d: dict) -> None:
        t, c = self.tickets[d["number"]], self.counters[d["counter"]]
        self._release(t)
        t.status, t.counter, t.called_at, t.target_counter = CALLED, c.number, at, None
        t.officer = self._name(d.get("officer"))
        if t.first_called_at is None:
            t.first_called_at = at
        c.current, c.idle_since = t.number, None
        if not d.get("from_hold"):
            c.ordinary_streak = 0 if t.priority else c.ordinary_streak + 1
        self._announce(t, c, at)

    def _announce(self, t: Ticket, c: CounterState, at: datetime) -> None:
        self.call_seq += 1
        c.call_seq += 1
        self.recent.appendleft(Call(self.call_seq, t.number, c.number, t.service, t.recalls, at))

    def _on_ticket_recalled(self, at: datetime, d: dict) -> None:
        t, c = self.tickets[d["number"]], self.counters[d["counter"]]
        t.recalls += 1
        self._announce(t, c, at)

    def _finish(self, at: datetime, d: dict, status: str) -> Ticket:
        t = self.tickets[d["number"]]
        self._release(t)
        t.status = status
        self.open.pop(t.number, None)
        t.kept_from = at
        self.finished.append(t)
        return t

    def _retire(self, cutoff: datetime) -> None:
        """Forget the tickets that finished before `cutoff`, keeping their share of the day's counts.
        Offline tickets stay (a dispenser's report may come again; their blocks bound them)."""
        while self.finished and self.finished[0].kept_from < cutoff:  # type: ignore[operator]
            t = self.finished.popleft()
            if t.offline or self.tickets.get(t.number) is not t:
                continue
            self._tally(t, self.retired)
            del self.tickets[t.number]
            self.printed.discard(t.number)
            self.rated.discard(t.number)
            if t.take is not None:
                self.takes.pop((t.device, t.take), None)

    def _tally(self, t: Ticket, into: dict[str, dict[str, int]]) -> None:
        """Add a ticket to `into` (service -> DAY_COUNTS): issued, called and within target count for
        the service it was issued for (its number's prefix tells it: its wait counts there), served
        for the one that served it."""
        cfg = self.config
        code = self._prefixes.get(t.number[:-cfg.number_width], t.service)
        if code not in cfg.services:
            return
        row = into.setdefault(code, dict.fromkeys(DAY_COUNTS, 0))
        row["issued"] += 1
        if t.first_called_at is not None:
            row["called"] += 1
            waited = (t.first_called_at - t.issued_at).total_seconds()
            row["within"] += waited <= cfg.services[code].target_wait_min * 60
        if t.status == DONE and t.service in cfg.services:
            into.setdefault(t.service, dict.fromkeys(DAY_COUNTS, 0))["served"] += 1

    def day_counts(self) -> dict[str, dict[str, int]]:
        """Per service, the day's DAY_COUNTS (the live dashboard): the retired tickets' shares plus
        those still in memory."""
        rows = {code: dict(self.retired.get(code) or dict.fromkeys(DAY_COUNTS, 0)) for code in self.config.services}
        for t in self.tickets.values():
            self._tally(t, rows)
        return rows

    def _freed(self, at: datetime, d: dict) -> None:
        c = self.counters.get(d.get("counter"))
        if c is not None and c.current is None:
            c.idle_since = at

    def _on_ticket_done(self, at: datetime, d: dict) -> None:
        t = self._finish(at, d, DONE)
        self.counters[d["counter"]].served += 1
        self._freed(at, d)
        self.armed[d["counter"]] = Armed(t.number, d.get("officer"),
                                         at + timedelta(seconds=self.config.rating_window_s))

    def _on_ticket_no_show(self, at: datetime, d: dict) -> None:
        self._finish(at, d, NO_SHOW)
        self._freed(at, d)

    def _on_ticket_held(self, at: datetime, d: dict) -> None:
        t = self.tickets[d["number"]]
        self._release(t)
        t.status, t.counter = HELD, d["counter"]
        self.counters[d["counter"]].held.append(t.number)
        self._freed(at, d)

    def _on_ticket_transferred(self, at: datetime, d: dict) -> None:
        t = self.tickets[d["number"]]
        self._release(t)
        t.status, t.service, t.target_counter = WAITING, self._name(d["service"]), d.get("to_counter")
        t.counter, t.officer, t.called_at, t.recalls = None, None, None, 0
        t.transfers += 1
        self._freed(at, d)

    def _on_ticket_expired(self, at: datetime, d: dict) -> None:
        self._finish(at, d, EXPIRED)

    def _on_officer_move_deferred(self, at: datetime, d: dict) -> None:
        if d.get("counter") is None:
            self.pending_moves.pop(d["officer"], None)
        else:
            self.pending_moves[d["officer"]] = {"counter": d["counter"], "by": d.get("by")}

    def _on_officer_logged_in(self, at: datetime, d: dict) -> None:
        self.pending_moves.pop(d["officer"], None)
        c = self.counters[d["counter"]]
        c.officer, c.paused, c.pause_reason, c.idle_since = self._name(d["officer"]), False, None, at

    def _on_officer_logged_out(self, at: datetime, d: dict) -> None:
        if d.get("reason") != "moved":  # signed off (or replaced, or the counter closed): the move is off
            self.pending_moves.pop(d["officer"], None)
        c = self.counters[d["counter"]]
        c.officer, c.paused, c.pause_reason = None, False, None

    def _on_officer_login_failed(self, at: datetime, d: dict) -> None:
        self.login_failures.setdefault(d["officer"], []).append(at)

    def _on_counter_paused(self, at: datetime, d: dict) -> None:
        c = self.counters[d["counter"]]
        c.paused, c.pause_reason = True, d.get("reason")

    def _on_counter_resumed(self, at: datetime, d: dict) -> None:
        c = self.counters[d["counter"]]
        c.paused, c.pause_reason = False, None
        self._freed(at, d)

    def _on_counter_closed(self, at: datetime, d: dict) -> None:
        self.counters[d["counter"]].closed = True

    def _on_counter_opened(self, at: datetime, d: dict) -> None:
        self.counters[d["counter"]].closed = False

    def _on_hall_notice_set(self, at: datetime, d: dict) -> None:
        self.notice = d["notice"]

    def _on_hall_policy_set(self, at: datetime, d: dict) -> None:
        self.policy = policies.get(d["policy"])

    def _on_counter_services_set(self, at: datetime, d: dict) -> None:
        self.counters[d["counter"]].services = list(d["services"])

    def _on_rating_recorded(self, at: datetime, d: dict) -> None:
        armed = self.armed.get(d["counter"])
        if armed is not None and armed.ticket == d["ticket"]:  # a late vote leaves a newer arming alone
            del self.armed[d["counter"]]
        t = self.tickets.get(d["ticket"])
        if t is not None and t.status in FINAL:
            # kept until its vote is long in the store, which then says it was rated (a ticket at the
            # head of `finished` holds the others back a little: each ticket is voted for once)
            t.kept_from = at
        self.rated.add(self._number(d["ticket"]))

    def _on_rating_expired(self, at: datetime, d: dict) -> None:
        armed = self.armed.get(d["counter"])
        if armed is not None and armed.ticket == d["ticket"]:
            del self.armed[d["counter"]]

    def _on_ticket_printed(self, at: datetime, d: dict) -> None:
        self.printed.add(self._number(d["number"]))

    def _on_dispenser_block_reserved(self, at: datetime, d: dict) -> None:
        for code, first, last in d["blocks"]:
            self.blocks.setdefault(d["device"], []).append((code, first, last))
            self.reserved_floor[code] = min(first, self.reserved_floor.get(code, first))
            self.reserved[code] = self.reserved.get(code, 0) + last - first + 1

    def _on_ticket_voided(self, at: datetime, d: dict) -> None:
        self._finish(at, d, VOIDED)
        self.counted[d["service"]] -= 1

    def _on_dispenser_take_voided(self, at: datetime, d: dict) -> None:
        self.void_takes.add((self._name(d["device"]), d["take"]))

    def _on_ticket_offline_issued(self, at: datetime, d: dict) -> None:
        self.order += 1
        issued = datetime.fromisoformat(d["issued_at"])
        t = self.tickets[d["number"]] = Ticket(d["number"], self._name(d["service"]), self._name(d.get("priority")),
                                               self.order, issued, d.get("token", ""), issued,
                                               device=self._name(d.get("device")), offline=True)
        self.open[t.number] = t
        self.printed.add(t.number)  # it was printed before it could be reported
        self.counted[d["service"]] = self.counted.get(d["service"], 0) + 1
        self.offline[d["service"]] = self.offline.get(d["service"], 0) + 1
