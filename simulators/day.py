"""An accelerated hall day against the running server: citizens press the kiosks' buttons, officers
type on their counter terminals' keypads, citizens rate. The dispensers and terminals are the real
device programs on simulated hardware (simulators/devices.py). Used by `make demo`.

Pacing uses the stop event's timeout: the simulation waits on "stop", never on a bare sleep.
"""

from __future__ import annotations

import logging
import random
import threading

from firmware.pilink import LinkDown, Refusal
from hallserver.domain.config import HallConfig
from simulators.boards import BoardLoop, SimLed, SimRatingButton, vote
from simulators.devices import SimDispenser, SimTerminal

log = logging.getLogger(__name__)

# relative daily volumes of the demo hall's services (CONTEXT.md: a few desks see one file a day)
WEIGHTS = {"ke-hoach-dau-tu": 10, "lao-dong": 9, "giao-thong": 12, "tu-phap": 7, "xay-dung": 6, "cong-an": 8,
           "bao-hiem": 8, "y-te": 5, "cong-thuong": 4, "nong-nghiep": 4, "giao-duc": 4, "tai-chinh": 2,
           "noi-vu": 2, "tra-ket-qua": 10, "lien-thong": 2, "khu-kinh-te": 1, "khoa-hoc": 1, "thong-tin": 1,
           "xuc-tien": 0.3, "van-hoa": 0.3, "du-lich": 0.3, "ngoai-vu": 0.3}
VOTES = (("rat-hai-long", 0.6), ("hai-long", 0.32), ("khong-hai-long", 0.08))
REASONS = ("thai-do", "thoi-gian-cho", "huong-dan", "khac")


class HallDay:
    def __init__(self, url: str, config: HallConfig, speed: float = 60.0, counters: int | None = None,
                 pin: str = "0000", seed: int | None = None):
        self.url, self.config, self.speed, self.pin = url, config, speed, pin
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        numbers = sorted(config.counters)[:counters] if counters else sorted(config.counters)
        by_counter = {(d.kind, d.counter): d.id for d in config.devices.values()}
        self.kiosks = [SimDispenser(url, config, d.id) for d in config.devices.values() if d.kind == "dispenser"]
        self.counters = []
        officers = list(config.officers)
        for i, n in enumerate(numbers):
            term = SimTerminal(url, config, by_counter[("terminal", n)])
            rating = by_counter.get(("rating", n))
            led = by_counter.get(("led", n))
            self.counters.append((n, officers[i % len(officers)], term,
                                  SimRatingButton(url, config.id, rating) if rating else None,
                                  SimLed(url, config.id, led) if led else None))
        # the MicroPython boards' own programs, stepped like their main loops
        self.boards = BoardLoop([b for c in self.counters for b in c[3:] if b is not None])
        self.threads: list[threading.Thread] = []
        self.issued = 0
        self.served = 0
        self.rated = 0
        self.progress = threading.Condition()  # notified at each ticket issued or served

    def sim_minutes(self, minutes: float) -> bool:
        """Let `minutes` of hall time pass; True when the day was stopped meanwhile."""
        return self.stop.wait(minutes * 60 / self.speed)

    def start(self) -> None:
        for d in [*self.kiosks, *(c[2] for c in self.counters)]:
            d.start()
        self.boards.start()
        self._spawn(self._arrivals, "arrivals")
        for c in self.counters:
            self._spawn(lambda c=c: self._officer(*c), f"counter-{c[0]}")

    def _spawn(self, target, name: str) -> None:
        t = threading.Thread(target=target, name=name, daemon=True)
        t.start()
        self.threads.append(t)

    def _arrivals(self) -> None:
        services = [s for s in self.config.services if s in WEIGHTS] or list(self.config.services)
        weights = [WEIGHTS.get(s, 1) for s in services]
        categories = [c.key for c in self.config.priority.categories]
        per_minute = 2.0  # about 500 tickets over a working day at full scale
        while not self.sim_minutes(self.rng.expovariate(per_minute)):
            service = self.rng.choices(services, weights)[0]
            priority = self.rng.choice(categories) if categories and self.rng.random() < 0.07 else None
            try:
                self.rng.choice(self.kiosks).take(service, priority)
                with self.progress:
                    self.issued += 1
                    self.progress.notify_all()
            except (Refusal, LinkDown) as exc:
                log.info("ticket refused: %s", exc)

    def _officer(self, number: int, officer: str, term: SimTerminal, rating, led) -> None:
        try:
            term.login(officer, self.pin)
            while not self.stop.is_set():
                ticket = term.call_next()
                if ticket is None:
                    if self.sim_minutes(2):
                        break
                    continue
                if self.rng.random() < 0.05:  # nobody came
                    if self.sim_minutes(1):
                        break
                    term.no_show()
                    continue
                handle = self.config.services[ticket["service"]].handle_min
                if self.sim_minutes(self.rng.lognormvariate(0, 0.5) * handle):
                    break
                term.done()
                with self.progress:
                    self.served += 1
                    self.progress.notify_all()
                if rating is not None and self.rng.random() < 0.8:
                    score = self.rng.choices([v for v, _ in VOTES], [w for _, w in VOTES])[0]
                    reason = self.rng.choice(REASONS) if score == "khong-hai-long" else None
                    if vote(self.boards, rating, ticket["number"], score, reason):
                        with self.progress:
                            self.rated += 1
                    else:
                        log.info("vote at counter %s not taken", number)
        except (Refusal, LinkDown) as exc:
            log.warning("counter %s stopped: %s", number, exc)

    def close(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(timeout=15)
        for d in [*self.kiosks, *(c[2] for c in self.counters)]:
            try:
                d.close()
            except Exception:  # closing is best effort at the end of a run
                log.debug("close failed", exc_info=True)
        self.boards.close()
