"""Erlang C (M/M/c): waiting probability, mean wait, service level, occupancy, counters needed.

Computed with the Erlang B recursion B(k) = a·B(k-1) / (k + a·B(k-1)), which only multiplies and
divides numbers in [0, 1]: exact to rounding for loads of hundreds or thousands of Erlangs, where
the textbook a^c/c! overflows a float past c = 170. Rates are per hour; times are in minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def erlang_b(c: int, a: float) -> float:
    """Blocking probability of M/M/c/c with offered load `a` Erlangs."""
    if c < 0 or a < 0:
        raise ValueError("counters and load must be >= 0")
    b = 1.0
    for k in range(1, c + 1):
        b = a * b / (k + a * b)
    return b


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c (1 when the load reaches the capacity)."""
    if a <= 0:
        return 0.0
    if c <= a:
        return 1.0
    b = erlang_b(c, a)
    return c * b / (c - a * (1.0 - b))


@dataclass(frozen=True)
class Figures:
    counters: int
    erlangs: float
    p_wait: float
    wq_min: float  # mean wait in queue, over all arrivals
    sl: float  # share served within the target time
    occupancy: float

    def as_dict(self) -> dict:
        return {"counters": self.counters, "erlangs": self.erlangs, "p_wait": self.p_wait,
                "wq_min": self.wq_min, "sl": self.sl, "occupancy": self.occupancy}


def figures(rate_per_hour: float, aht_min: float, counters: int, target_min: float = 0.0) -> Figures:
    """Steady-state figures of `counters` servers; an unstable queue has infinite mean wait, SL 0."""
    if rate_per_hour < 0 or aht_min <= 0 or counters < 0 or target_min < 0:
        raise ValueError("rate >= 0, aht > 0, counters >= 0, target >= 0")
    a = rate_per_hour * aht_min / 60.0
    if a == 0:
        return Figures(counters, 0.0, 0.0, 0.0, 1.0, 0.0)
    if counters <= a:
        return Figures(counters, a, 1.0, math.inf, 0.0, 1.0 if counters else math.inf)
    pw = erlang_c(counters, a)
    wq = pw * aht_min / (counters - a)
    sl = 1.0 - pw * math.exp(-(counters - a) * target_min / aht_min)
    return Figures(counters, a, pw, wq, max(0.0, sl), a / counters)


def wait_quantile(rate_per_hour: float, aht_min: float, counters: int, q: float) -> float:
    """The q-quantile of the wait (minutes): P(W > t) = C·exp(-(c-a)t/aht)."""
    f = figures(rate_per_hour, aht_min, counters)
    if f.p_wait <= 1.0 - q:
        return 0.0
    if math.isinf(f.wq_min):
        return math.inf
    return aht_min * math.log(f.p_wait / (1.0 - q)) / (counters - f.erlangs)


def counters_needed(rate_per_hour: float, aht_min: float, target_min: float, target_sl: float,
                    max_occupancy: float = 1.0, shrinkage: float = 0.0) -> tuple[int, Figures]:
    """The fewest counters meeting `target_sl` within `target_min` with occupancy at most
    `max_occupancy`, then scaled up for `shrinkage` (the share of staffed time lost to breaks and
    absence). Returns (counters to schedule, figures of the counters actually serving)."""
    if not 0 <= target_sl < 1 or not 0 < max_occupancy <= 1 or not 0 <= shrinkage < 1:
        raise ValueError("0 <= target_sl < 1, 0 < max_occupancy <= 1, 0 <= shrinkage < 1")
    a = rate_per_hour * aht_min / 60.0
    if a == 0:
        return 0, figures(0, aht_min, 0, target_min)
    c = max(math.floor(a) + 1, math.ceil(a / max_occupancy - 1e-12))
    f = figures(rate_per_hour, aht_min, c, target_min)
    while f.sl < target_sl:
        c += 1
        f = figures(rate_per_hour, aht_min, c, target_min)
    return math.ceil(c / (1.0 - shrinkage) - 1e-9), f
