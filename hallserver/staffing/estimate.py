"""Demand estimated from a hall's own stored tickets: arrivals per service, weekday and hour, and
mean handling times (call to done), pulled towards the configured handle_min while samples are few.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC
from zoneinfo import ZoneInfo

from hallserver.domain.config import WEEKDAYS, HallConfig
from hallserver.staffing.demand import Demand
from hallserver.store.history import TicketHistory

PRIOR_WEIGHT = 5  # the configured handle_min counts as this many observed tickets
MAX_HANDLE_MIN = 240  # longer call-to-done spans are a forgotten "done" button, not a service


def estimate(config: HallConfig, rows: Iterable[TicketHistory]) -> Demand:
    """Average tickets per (weekday, service, local hour) over the days of that weekday the hall was
    open (had any ticket), and each service's mean handling time."""
    tz = ZoneInfo(config.timezone)
    counts: dict[str, dict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(lambda: defaultdict(int)))
    days: dict[str, set] = defaultdict(set)
    handle_sum: dict[str, float] = defaultdict(float)
    handle_n: dict[str, int] = defaultdict(int)
    no_show = finished = 0
    for r in rows:
        local = r.issued_at.replace(tzinfo=UTC).astimezone(tz)
        weekday = WEEKDAYS[r.day.weekday()]
        days[weekday].add(r.day)
        if r.first_service in config.services:
            counts[weekday][r.first_service][local.hour] += 1
        if r.status == "done" and r.called_at and r.finished_at and r.service in config.services:
            minutes = (r.finished_at - r.called_at).total_seconds() / 60
            if 0 <= minutes <= MAX_HANDLE_MIN:
                handle_sum[r.service] += minutes
                handle_n[r.service] += 1
        if r.status in ("done", "no_show"):
            finished += 1
            no_show += r.status == "no_show"
    hourly = {wd: {s: {h: n / len(days[wd]) for h, n in sorted(per.items())} for s, per in by_s.items()}
              for wd, by_s in counts.items()}
    aht = {code: (handle_sum[code] + PRIOR_WEIGHT * svc.handle_min) / (handle_n[code] + PRIOR_WEIGHT)
           for code, svc in config.services.items()}
    return Demand(hourly, aht, "history", {wd: len(d) for wd, d in days.items()}, dict(handle_n),
                  no_show / finished if finished else 0.0)
