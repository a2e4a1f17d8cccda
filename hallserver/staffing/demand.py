"""What a hall must serve: expected tickets per service, weekday and clock hour, and handling times.

The staffing advice works on this alone, whether it was estimated from the hall's own history
(estimate.py) or taken from a workload file (the simulator's), so both are advised the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from hallserver.domain.config import WEEKDAYS, HallConfig


@dataclass(frozen=True)
class Demand:
    # weekday -> service -> hour -> expected tickets issued in that clock hour
    hourly: dict[str, dict[str, dict[int, float]]]
    aht_min: dict[str, float]  # mean handling time per service
    source: str = "history"
    days_observed: dict[str, int] = field(default_factory=dict)  # weekday -> days seen (history)
    samples: dict[str, int] = field(default_factory=dict)  # service -> handled tickets timed (history)
    no_show: float = 0.0

    def hours(self, weekday: str) -> list[int]:
        return sorted({h for per in self.hourly.get(weekday, {}).values() for h, n in per.items() if n > 0})

    def tickets(self, weekday: str) -> float:
        return sum(n for per in self.hourly.get(weekday, {}).values() for n in per.values())


def _secs(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


def open_fraction(config: HallConfig, service: str, weekday: str, hour: int) -> float:
    """Share of the clock hour in which the service issues tickets (1 when it never closes)."""
    if config.always_open:
        return 1.0
    a0, b0 = hour * 3600, hour * 3600 + 3600
    spans = config.services[service].hours.get(weekday, ())
    inside = sum(max(0, min(b0, _secs(b)) - max(a0, _secs(a))) for a, b in spans)
    return inside / 3600


def rate_per_hour(config: HallConfig, demand: Demand, service: str, weekday: str, hour: int) -> float:
    """Arrival rate while tickets are issued in that hour (tickets per hour)."""
    n = demand.hourly.get(weekday, {}).get(service, {}).get(hour, 0.0)
    if n <= 0:
        return 0.0
    frac = open_fraction(config, service, weekday, hour)
    return n / frac if frac > 0 else n


WORKING_DAYS = WEEKDAYS[:6]
