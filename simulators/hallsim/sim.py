"""The discrete-event core: one hall day driven through the real engine with a simulated clock.

The engine decides everything a hall decides (numbers, who is called next under the hall's
policy and priority rules); this module only plays the people: citizens arriving, officers logging
in and out by the schedule, calling as soon as they are free, taking breaks, serving for the drawn
time, marking the absent as no-shows. Figures come from the engine's events (metrics.DayRecord).
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

from hallserver.domain.config import HallConfig, Officer
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.domain.pins import hash_pin
from simulators.hallsim.metrics import DayRecord
from simulators.hallsim.workload import Arrival

PIN = "0000"
_PIN_HASH = hash_pin(PIN, salt="hallsim", iterations=1)  # the simulated officers log in often

ARRIVE, FINISH, OPEN, CLOSE, BREAK, BREAK_END = range(6)
LAST_S = 22 * 3600  # the building closes: whoever still waits then is counted as unserved
OFF, IDLE, BUSY, ON_BREAK = "off", "idle", "busy", "break"

Schedule = dict[int, list[tuple[float, float]]]  # counter -> staffed spans, seconds since midnight


def sim_config(config: HallConfig, policy: str | None = None) -> HallConfig:
    """The hall with one simulated officer per counter (cheap PIN hashes) and the chosen policy."""
    officers = {f"sim-{n}": Officer(f"sim-{n}", f"Cán bộ quầy {n}", _PIN_HASH) for n in config.counters}
    return replace(config, officers=officers, devices={}, policy=policy or config.policy)


def merge_spans(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[tuple[float, float]] = []
    for a, b in sorted(spans):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


@dataclass
class _Counter:
    number: int
    officer: str
    status: str = OFF
    closing: bool = False
    breaks_due: int = 0
    idle_since: float = 0.0


class DaySim:
    def __init__(self, config: HallConfig, day: date, arrivals: list[Arrival], schedule: Schedule,
                 breaks: list[tuple[int, float]] = (), break_s: float = 900.0, no_show_wait_s: float = 90.0,
                 keep_events: bool = False):
        """`config` must come from sim_config; `breaks` are (counter, when) pairs; `keep_events`
        keeps every engine event in `events` (tests, the store)."""
        self.hall = Hall(config)
        self.events: list | None = [] if keep_events else None
        self.midnight = datetime.combine(day, time())
        self.record = DayRecord.start(self.midnight)
        self.arrivals = arrivals
        self.break_s, self.no_show_wait_s = break_s, no_show_wait_s
        self.counters = {n: _Counter(n, f"sim-{n}") for n in schedule if n in config.counters}
        self.by_number: dict[str, Arrival] = {}
        self.heap: list[tuple[float, int, int, object]] = []
        self.seq = 0
        for i, a in enumerate(arrivals):
            self._push(a.at_s, ARRIVE, i)
        for n, spans in schedule.items():
            if n not in self.counters:
                continue
            for a, b in merge_spans(spans):
                self._push(a, OPEN, n)
                self._push(b, CLOSE, n)
        for n, at in breaks:
            if n in self.counters:
                self._push(at, BREAK, n)
        self.now_s = 0.0

    def _push(self, t: float, kind: int, arg: object) -> None:
        self.seq += 1
        heapq.heappush(self.heap, (t, self.seq, kind, arg))

    def _at(self, t: float) -> datetime:
        return self.midnight + timedelta(seconds=t)

    def run(self, after: Callable[[DaySim], None] | None = None) -> DayRecord:
        """Play the day; `after` (tests) is called after every simulated happening."""
        handlers = (self._arrive, self._finish, self._open, self._close, self._break, self._break_end)
        while self.heap and self.heap[0][0] <= LAST_S:
            t, _, kind, arg = heapq.heappop(self.heap)
            self.now_s = t
            self.now = self._at(t)
            handlers[kind](arg)
            if after is not None:
                after(self)
        return self.record.close(LAST_S if self.heap else max(self.now_s, 0.0))

    # ---------------------------------------------------------------- the people
    def _do(self, command, *args) -> list:
        events = command(self.now, *args)
        self.record.feed(events)
        if self.events is not None:
            self.events.extend(events)
        return events

    def _arrive(self, i: int) -> None:
        a = self.arrivals[i]
        try:
            events = self._do(self.hall.take_ticket, a.service, a.priority)
        except Refused:
            self.record.refused += 1
            return
        self.by_number[events[0].data["number"]] = a
        free = [c for c in self.counters.values()
                if c.status == IDLE and a.service in self.hall.counters[c.number].services]
        if free:
            self._next(min(free, key=lambda c: (c.idle_since, c.number)))

    def _next(self, c: _Counter) -> None:
        """The officer is free: leave, take a due break, or call the next citizen."""
        if c.closing:
            if not self._stranded(c):
                self._do(self.hall.logout, c.number)
                c.status, c.closing = OFF, False
                return
        elif c.breaks_due:
            c.breaks_due -= 1
            self._do(self.hall.pause, c.number, "break")
            c.status = ON_BREAK
            self._push(self.now_s + self.break_s, BREAK_END, c.number)
            return
        try:
            events = self._do(self.hall.call_next, c.number)
        except Refused as r:
            if r.code != "queue_empty":
                raise
            c.status, c.idle_since = IDLE, self.now_s
            return
        number = events[-1].data["number"]
        a = self.by_number[number]
        waited = self.now_s - a.at_s
        gone = waited > a.patience_s
        if gone and not a.no_show:
            self.record.abandoned += 1
        c.status = BUSY
        if a.no_show or gone:
            self._push(self.now_s + self.no_show_wait_s, FINISH, (c.number, False))
        else:
            self._push(self.now_s + a.service_s, FINISH, (c.number, True))

    def _stranded(self, c: _Counter) -> bool:
        """Someone waits whom this counter may serve and no other staffed counter will."""
        mine = self.hall.eligible(self.hall.counters[c.number])
        if not mine:
            return False
        covered: set[str] = set()
        for other in self.counters.values():
            if other is not c and other.status != OFF and not other.closing:
                covered.update(self.hall.counters[other.number].services)
        return any(t.service not in covered or t.target_counter == c.number for t in mine)

    def _finish(self, arg: tuple[int, bool]) -> None:
        n, served = arg
        self._do(self.hall.done if served else self.hall.no_show, n)
        self._next(self.counters[n])

    def _open(self, n: int) -> None:
        c = self.counters[n]
        c.closing = False
        if c.status == OFF:
            self._do(self.hall.login, n, c.officer, PIN)
            c.status, c.idle_since = IDLE, self.now_s
            self._next(c)

    def _close(self, n: int) -> None:
        c = self.counters[n]
        if c.status == OFF:
            return
        c.closing = True
        if c.status == IDLE:
            self._next(c)

    def _break(self, n: int) -> None:
        c = self.counters[n]
        if c.status == OFF or c.closing:
            return
        c.breaks_due += 1
        if c.status == IDLE:
            self._next(c)

    def _break_end(self, n: int) -> None:
        c = self.counters[n]
        self._do(self.hall.resume, n)
        c.status, c.idle_since = IDLE, self.now_s
        self._next(c)


def draw_breaks(schedule: Schedule, per_shift: int, break_s: float, rng: random.Random) -> list[tuple[int, float]]:
    """Breaks at random times in the middle half of each staffed span long enough for them."""
    out = []
    for n in sorted(schedule):
        for a, b in merge_spans(schedule[n]):
            if b - a < 4 * break_s or per_shift <= 0:
                continue
            for _ in range(per_shift):
                out.append((n, a + (b - a) * rng.uniform(0.25, 0.75)))
    return out


def whole_spans(counters: list[int], shifts: tuple[tuple[float, float], ...]) -> Schedule:
    return {n: list(shifts) for n in counters}


def hours_to_spans(hours: list[int]) -> list[tuple[float, float]]:
    """Clock hours (e.g. [7, 8, 9, 13]) as merged staffed spans in seconds."""
    return merge_spans([(h * 3600.0, h * 3600.0 + 3600.0) for h in hours])
