"""What the province's devices do, as state machines on a `Driver`.

- `login_all`: every officer logs in at his counter (the morning's login storm), a bounded number
  of requests outstanding.
- `ProvinceDay`: open-loop citizens. Each hall's dispensers issue tickets at the arrival rate that
  keeps its counters busy `util` of the time (a citizen every `serve_min` minutes per counter);
  an officer calls the next citizen when his terminal shows someone waiting, serves for an
  exponential time, marks the ticket done, and most citizens press the rating button. `rate`
  multiplies the arrival and service rates (the peak: x20); `speed` compresses time (speed 60:
  a simulated minute per second), which raises the message rate the same way. With `warm`, one
  more citizen per counter comes during the first service time, so the counters are busy from the
  start instead of after a slow ramp.
- `Lanes`: closed loop, as fast as the server answers: each lane (one counter and its hall's
  dispenser) takes a ticket, calls, marks done, again; `len(lanes)` requests are outstanding.
- `Probe`: `call.next` -> the LED display's retained `state` with the new call, through the
  server, measured on devices of their own (firmware's DeviceLink), while the rest runs.
"""

from __future__ import annotations

import itertools
import random
import threading
import time

from bench.province.fleet import Driver
from bench.province.generate import HallSpec
from firmware.pilink import DeviceLink, LinkDown, Refusal

SCORES = (("rat-hai-long", 0.6), ("hai-long", 0.3), ("khong-hai-long", 0.1))
REASONS = ("thai-do", "thoi-gian-cho", "huong-dan", "khac")


def login_all(driver: Driver, halls: list[HallSpec], window: int = 64, seconds: float = 600.0) -> int:
    """Log every officer in; returns the number of counters open (ok or already logged in)."""
    todo = [(h.id, n, officer) for h in halls for n, officer in h.officers.items()]
    todo.reverse()
    opened = 0

    def next_one(reply=None) -> None:
        nonlocal opened
        if reply is not None and (reply.get("ok") or reply["error"]["code"] == "already_logged_in"):
            opened += 1
        if todo:
            hall, n, officer = todo.pop()
            driver.request(hall, f"ct-{n:02d}", "officer.login", {"officer": officer, "pin": "0000"}, next_one)

    for _ in range(window):
        next_one()
    driver.run(seconds, until_idle=True)
    return opened


class ProvinceDay:
    def __init__(self, driver: Driver, halls: list[HallSpec], *, speed: float = 1.0, rate: float = 1.0,
                 serve_min: float = 4.0, util: float = 0.9, vote_share: float = 0.8,
                 skip: frozenset[tuple[str, int]] = frozenset(), warm: bool = True, seed: int = 1):
        self.d, self.halls = driver, halls
        self.warm = warm
        self.speed, self.rate, self.serve_s = speed, rate, serve_min * 60.0
        self.util, self.vote_share = util, vote_share
        self.skip = skip
        self.rng = random.Random(seed)
        self.waiting = {h.id: dict.fromkeys(h.services, 0) for h in halls}  # as the terminals show it
        self.idle: dict[str, set[int]] = {h.id: set() for h in halls}
        self.served = 0
        self._running = False

    def real(self, sim_s: float) -> float:
        return sim_s / self.speed

    def start(self) -> None:
        """Schedule the first arrivals and calls; `driver.run` then plays the day."""
        self._running = True
        for h in self.halls:
            counters = [n for n in h.counters if (h.id, n) not in self.skip]
            if not counters or not h.services:
                continue
            per_s = len(counters) * self.util * self.rate / self.serve_s  # citizens per simulated second
            self.d.later(self.real(self.rng.expovariate(per_s)), lambda h=h, r=per_s: self._arrive(h, r))
            for n in counters:
                self.idle[h.id].add(n)
                if self.warm:  # steady state at once: one citizen per counter, over one service time
                    service = next((s for s in h.counters[n] if s in h.services), None)
                    if service is not None:
                        self.d.later(self.real(self.rng.uniform(0, self.serve_s / self.rate)),
                                     lambda h=h, s=service: self._take(h, s))

    def stop(self) -> None:
        """No new arrivals nor calls; what is outstanding still gets its reply."""
        self._running = False

    # -- citizens at the dispensers
    def _arrive(self, h: HallSpec, per_s: float) -> None:
        if not self._running:
            return
        codes, weights = zip(*h.services.items(), strict=True)
        self._take(h, self.rng.choices(codes, weights)[0])
        self.d.later(self.real(self.rng.expovariate(per_s)), lambda: self._arrive(h, per_s))

    def _take(self, h: HallSpec, service: str) -> None:
        fields = {"service": service}
        if self.rng.random() < 0.05:
            fields["priority"] = "nguoi-cao-tuoi"
        self.d.request(h.id, self.rng.choice(h.dispensers), "ticket.take", fields,
                       lambda r: self._taken(h, service, r))

    def _taken(self, h: HallSpec, service: str, reply) -> None:
        if not reply or not reply["ok"]:
            return
        self.waiting[h.id][service] += 1
        for n in list(self.idle[h.id]):  # an officer who sees someone waiting calls (after a few seconds)
            if service in h.counters[n]:
                self.idle[h.id].discard(n)
                self.d.later(self.real(self.rng.uniform(2, 8)), lambda n=n: self._call(h, n))
                break

    # -- officers at the counters
    def _call(self, h: HallSpec, n: int) -> None:
        if not self._running:
            return
        if not any(self.waiting[h.id][s] for s in h.counters[n] if s in self.waiting[h.id]):
            self.idle[h.id].add(n)
            return
        self.d.request(h.id, f"ct-{n:02d}", "call.next", None, lambda r: self._called(h, n, r))

    def _called(self, h: HallSpec, n: int, reply) -> None:
        if reply and reply["ok"]:
            service = reply["ticket"]["service"]
            if self.waiting[h.id].get(service):
                self.waiting[h.id][service] -= 1
            handle = self.rng.expovariate(self.rate / self.serve_s)
            self.d.later(self.real(handle), lambda: self._done(h, n))
        elif reply and reply["error"]["code"] == "counter_busy":  # a citizen left from before: finish him
            self._done(h, n)
        elif reply and reply["error"]["code"] == "queue_empty":
            for s in h.counters[n]:  # our picture of the queue was wrong: nobody is left
                if s in self.waiting[h.id]:
                    self.waiting[h.id][s] = 0
            self.idle[h.id].add(n)
        else:
            self.d.later(self.real(30), lambda: self._call(h, n))

    def _done(self, h: HallSpec, n: int) -> None:
        self.d.request(h.id, f"ct-{n:02d}", "serve.done", None, lambda r: self._finished(h, n, r))

    def _finished(self, h: HallSpec, n: int, reply) -> None:
        if reply is None:  # no reply: press again, as an officer would
            self.d.later(self.real(5), lambda: self._done(h, n))
            return
        self.served += 1
        if reply["ok"] and self.rng.random() < self.vote_share:
            self.d.later(self.real(self.rng.uniform(2, 10)), lambda: self._vote(h, n))
        self.d.later(self.real(self.rng.uniform(5, 20)), lambda: self._call(h, n))

    def _vote(self, h: HallSpec, n: int) -> None:
        keys, weights = zip(*SCORES, strict=True)
        score = self.rng.choices(keys, weights)[0]
        fields = {"score": score}
        if score == "khong-hai-long":
            fields["reason"] = self.rng.choice(REASONS)
        self.d.request(h.id, f"rb-{n:02d}", "rating.vote", fields, lambda r: None)


class Lanes:
    """Closed loop: each lane takes a ticket for its counter's service, calls it, marks it done."""

    def __init__(self, driver: Driver, halls: list[HallSpec], lanes: int = 256,
                 skip: frozenset[tuple[str, int]] = frozenset(), seed: int = 1):
        self.d = driver
        self.rng = random.Random(seed)
        counters = [[(h, n) for n in h.counters if (h.id, n) not in skip] for h in halls]
        self.lanes: list[tuple[HallSpec, int]] = []
        for k in range(max(len(c) for c in counters)):  # round robin over the halls
            self.lanes += [c[k] for c in counters if k < len(c)]
        self.lanes = self.lanes[:lanes]
        self._running = False

    def start(self) -> None:
        self._running = True
        for h, n in self.lanes:
            self._take(h, n)

    def stop(self) -> None:
        self._running = False

    def _take(self, h: HallSpec, n: int) -> None:
        if not self._running:
            return
        service = self.rng.choice([s for s in h.counters[n] if s in h.services] or list(h.services))
        self.d.request(h.id, self.rng.choice(h.dispensers), "ticket.take", {"service": service},
                       lambda r: self._call(h, n) if r is not None else self._take(h, n))

    def _call(self, h: HallSpec, n: int) -> None:
        if self._running:
            self.d.request(h.id, f"ct-{n:02d}", "call.next", None, lambda r: self._called(h, n, r))

    def _called(self, h: HallSpec, n: int, reply) -> None:
        if reply and reply["ok"]:
            self.d.request(h.id, f"ct-{n:02d}", "serve.done", None, lambda r: self._take(h, n))
        elif reply and reply["error"]["code"] == "counter_busy":  # a lost done: finish it first
            self.d.request(h.id, f"ct-{n:02d}", "serve.done", None, lambda r: self._take(h, n))
        else:  # queue_empty (another counter took it) or no reply: another ticket
            self._take(h, n)


class Probe:
    """Samples call.next -> LED state round trips at one counter, on a thread of its own."""

    def __init__(self, url: str, hall: HallSpec, counter: int):
        self.hall, self.counter = hall, counter
        # its counter's services in turn: one ticket every 0.25 s for an hour would use up one
        # service's day of 4-digit numbers (9,999) and be refused `daily_cap_reached`
        self.services = [s for s in hall.counters[counter] if s in hall.services]
        self._turn = itertools.count()
        self.samples: list[float] = []  # seconds
        self.failures = 0
        self.taken = self.called = self.done = 0  # acknowledged by the server (tests count them)
        self._seen: list[tuple[float, dict]] = []
        self._cond = threading.Condition()
        self.disp = DeviceLink(url, hall.id, hall.dispensers[0], boot=f"probe{counter}")
        self.term = DeviceLink(url, hall.id, f"ct-{counter:02d}")
        self.led = DeviceLink(url, hall.id, f"led-{counter:02d}")
        self.led.on_state = self._on_state  # called on the network thread: stamp the arrival there
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def start(self) -> Probe:
        for link in (self.disp, self.term, self.led):
            link.start()
        return self

    def close(self) -> None:
        self.stop()
        for link in (self.disp, self.term, self.led):
            link.close()

    def _on_state(self, state: dict) -> None:
        with self._cond:
            self._seen.append((time.perf_counter(), state))
            self._cond.notify_all()

    def _seq(self) -> int:
        with self._cond:
            return max((s.get("call_seq") or 0 for _, s in self._seen), default=0)

    def sample(self, timeout: float = 10.0) -> float | None:
        """One round trip in seconds (None if the call was refused or never shown)."""
        try:
            service = self.services[next(self._turn) % len(self.services)]
            self.disp.request("ticket.take", {"service": service}, timeout=timeout)
            self.taken += 1
            before = self._seq()
            start = time.perf_counter()
            self.term.request("call.next", timeout=timeout)
            self.called += 1
            with self._cond:
                shown = self._cond.wait_for(
                    lambda: any((s.get("call_seq") or 0) > before and t >= start for t, s in self._seen), timeout)
                at = next((t for t, s in self._seen if (s.get("call_seq") or 0) > before and t >= start), None)
                self._seen = self._seen[-1:]
            self.term.request("serve.done", timeout=timeout)
            self.done += 1
        except (Refusal, LinkDown):
            self.failures += 1
            return None
        if not shown or at is None:
            self.failures += 1
            return None
        self.samples.append(at - start)
        return at - start

    def run(self, count: int, interval: float = 0.2) -> list[float]:
        """`count` samples, one every `interval` s at most, on the calling thread."""
        for _ in range(count):
            if self._stop.is_set():
                break
            started = time.perf_counter()
            self.sample()
            self._stop.wait(max(0.0, interval - (time.perf_counter() - started)))
        return self.samples

    def run_background(self, interval: float = 0.5) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self.run, args=(10**9, interval), name="probe", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(15)
            self._thread = None
