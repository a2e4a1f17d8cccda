"""Figures of simulated days, measured from the engine's events alone (what a stored day also has):
waits per service, share within target, counter and officer utilisation, queue length over the day.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from hallserver.domain.config import WEEKDAYS, HallConfig
from hallserver.domain.model import Event

SAMPLE_S = 300  # queue length is sampled every 5 minutes
DAY_START_S, DAY_END_S = 6 * 3600, 19 * 3600


def quantile(sorted_values: list[float], q: float) -> float:
    """Linear interpolation between order statistics (numpy's default)."""
    if not sorted_values:
        return math.nan
    pos = (len(sorted_values) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(sorted_values) - 1)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def wait_figures(waits_s: list[float], target_s: list[float] | float) -> dict:
    """mean, p50, p90, max (minutes) and the share within target of a list of waits."""
    if not waits_s:
        return {"n": 0, "mean_min": None, "p50_min": None, "p90_min": None, "max_min": None, "within_target": None}
    xs = sorted(waits_s)
    targets = target_s if isinstance(target_s, list) else [target_s] * len(waits_s)
    within = sum(1 for w, t in zip(waits_s, targets, strict=True) if w <= t)
    return {"n": len(xs), "mean_min": sum(xs) / len(xs) / 60, "p50_min": quantile(xs, 0.5) / 60,
            "p90_min": quantile(xs, 0.9) / 60, "max_min": xs[-1] / 60, "within_target": within / len(xs)}


@dataclass
class DayRecord:
    """One day as its events tell it (seconds since the day's midnight)."""

    day: str
    weekday: str
    tickets: dict[str, list] = field(default_factory=dict)  # number -> [service, issued, first called, outcome]
    busy: dict[int, float] = field(default_factory=lambda: defaultdict(float))
    staffed: dict[int, float] = field(default_factory=lambda: defaultdict(float))  # logged in, not paused
    officer_busy: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    officer_duty: dict[str, float] = field(default_factory=lambda: defaultdict(float))  # logged in
    queue: list[tuple[float, str, int]] = field(default_factory=list)  # (t, service, +1/-1)
    refused: int = 0
    abandoned: int = 0
    _midnight: datetime | None = None
    _busy_from: dict[int, tuple[float, str | None]] = field(default_factory=dict)
    _staffed_from: dict[int, float] = field(default_factory=dict)
    _duty_from: dict[int, tuple[float, str]] = field(default_factory=dict)

    @classmethod
    def start(cls, midnight: datetime) -> DayRecord:
        return cls(midnight.date().isoformat(), WEEKDAYS[midnight.weekday()], _midnight=midnight)

    def feed(self, events: list[Event]) -> None:
        for e in events:
            t = (e.at - self._midnight).total_seconds()
            d = e.data
            k = e.kind
            if k == "ticket.issued":
                self.tickets[d["number"]] = [d["service"], t, None, "waiting", bool(d.get("priority"))]
                self.queue.append((t, d["service"], 1))
            elif k == "ticket.called":
                rec = self.tickets[d["number"]]
                if rec[3] == "waiting":
                    self.queue.append((t, rec[0], -1))
                if rec[2] is None:
                    rec[2] = t
                rec[3] = "called"
                self._busy_from[d["counter"]] = (t, d.get("officer"))
            elif k in ("ticket.done", "ticket.no_show"):
                self.tickets[d["number"]][3] = k[7:]
                self._end_busy(d["counter"], t)
            elif k == "ticket.transferred":
                rec = self.tickets[d["number"]]
                rec[0], rec[3] = d["service"], "waiting"
                self.queue.append((t, rec[0], 1))
                self._end_busy(d["counter"], t)
            elif k == "officer.logged_in":
                self._staffed_from[d["counter"]] = t
                self._duty_from[d["counter"]] = (t, d["officer"])
            elif k == "officer.logged_out":
                self._end_staffed(d["counter"], t)
                start, officer = self._duty_from.pop(d["counter"], (t, d["officer"]))
                self.officer_duty[officer] += t - start
            elif k == "counter.paused":
                self._end_staffed(d["counter"], t)
            elif k == "counter.resumed":
                self._staffed_from[d["counter"]] = t

    def _end_busy(self, counter: int, t: float) -> None:
        start, officer = self._busy_from.pop(counter, (t, None))
        self.busy[counter] += t - start
        if officer is not None:
            self.officer_busy[officer] += t - start

    def _end_staffed(self, counter: int, t: float) -> None:
        start = self._staffed_from.pop(counter, None)
        if start is not None:
            self.staffed[counter] += t - start

    def close(self, t: float) -> DayRecord:
        """End the day at `t`: whoever is still logged in is counted until then."""
        for counter in list(self._busy_from):
            self._end_busy(counter, t)
        for counter in list(self._staffed_from):
            self._end_staffed(counter, t)
        for start, officer in list(self._duty_from.values()):
            self.officer_duty[officer] += t - start
        self._duty_from.clear()
        self._midnight = None
        self.busy, self.staffed = dict(self.busy), dict(self.staffed)
        self.officer_busy, self.officer_duty = dict(self.officer_busy), dict(self.officer_duty)
        return self

    def queue_samples(self) -> dict[str, list[int]]:
        """Waiting tickets per service (and "*" for all) every SAMPLE_S from DAY_START_S to DAY_END_S."""
        grid = range(DAY_START_S, DAY_END_S + 1, SAMPLE_S)
        out: dict[str, list[int]] = {"*": [0] * len(grid)}
        level: dict[str, int] = defaultdict(int)
        total = 0
        changes = sorted(self.queue, key=lambda x: x[0])
        i = 0
        for j, g in enumerate(grid):
            while i < len(changes) and changes[i][0] <= g:
                _, svc, delta = changes[i]
                level[svc] += delta
                total += delta
                i += 1
            out["*"][j] = total
            for svc, n in level.items():
                out.setdefault(svc, [0] * len(grid))[j] = n
        return out


def summarise(config: HallConfig, days: list[DayRecord]) -> dict:
    """Figures over all `days`: per service and overall, per counter and officer, over the day."""
    waits: dict[str, list[float]] = defaultdict(list)
    all_waits: list[float] = []
    all_targets: list[float] = []
    counts: dict[str, int] = defaultdict(int)
    outcomes: dict[str, int] = defaultdict(int)
    busy: dict[int, float] = defaultdict(float)
    staffed: dict[int, float] = defaultdict(float)
    obusy: dict[str, float] = defaultdict(float)
    oduty: dict[str, float] = defaultdict(float)
    by_issue: dict[int, list[float]] = defaultdict(list)  # 15-minute slot of issue -> waits
    by_hour: dict[int, list[int]] = defaultdict(lambda: [0, 0])  # hour of issue -> [within target, served]
    queue_sum: dict[str, dict[str, list[float]]] = {}
    queue_days: dict[str, int] = defaultdict(int)
    refused = abandoned = 0
    for rec in days:
        refused += rec.refused
        abandoned += rec.abandoned
        for service, issued, called, outcome, _prio in rec.tickets.values():
            counts[service] += 1
            outcomes[outcome] += 1
            if outcome == "done" and called is not None:
                w = called - issued
                waits[service].append(w)
                all_waits.append(w)
                all_targets.append(config.services[service].target_wait_min * 60.0)
                by_issue[int(issued // 900)].append(w)
                hour = by_hour[int(issued // 3600)]
                hour[0] += w <= all_targets[-1]
                hour[1] += 1
        for n, v in rec.busy.items():
            busy[n] += v
        for n, v in rec.staffed.items():
            staffed[n] += v
        for o, v in rec.officer_busy.items():
            obusy[o] += v
        for o, v in rec.officer_duty.items():
            oduty[o] += v
        kind = "sat" if rec.weekday == "sat" else "sun" if rec.weekday == "sun" else "weekday"
        queue_days[kind] += 1
        acc = queue_sum.setdefault(kind, {})
        for svc, series in rec.queue_samples().items():
            row = acc.setdefault(svc, [0.0] * len(series))
            for j, v in enumerate(series):
                row[j] += v
    services = {}
    for code, svc in config.services.items():
        if counts.get(code):
            services[code] = {"tickets": counts[code], **wait_figures(waits[code], svc.target_wait_min * 60.0)}
    util = {n: busy.get(n, 0.0) / staffed[n] for n in sorted(staffed) if staffed[n] > 0}
    officers = {o: obusy.get(o, 0.0) / oduty[o] for o in sorted(oduty) if oduty[o] > 0}
    grid = list(range(DAY_START_S, DAY_END_S + 1, SAMPLE_S))
    queue = {kind: {"t_min": [g // 60 for g in grid],
                    "waiting": {svc: [v / queue_days[kind] for v in row] for svc, row in acc.items()}}
             for kind, acc in queue_sum.items()}
    wait_by_time = [{"t_min": slot * 15, **wait_figures(ws, 0.0)} for slot, ws in sorted(by_issue.items())]
    return {
        "days": len(days),
        "tickets": sum(counts.values()),
        "served": outcomes.get("done", 0),
        "no_show": outcomes.get("no_show", 0),
        "abandoned": abandoned,
        "unserved": outcomes.get("waiting", 0) + outcomes.get("called", 0),
        "refused": refused,
        "overall": wait_figures(all_waits, all_targets),
        "services": services,
        "counters": {n: {"utilisation": u, "busy_h": busy.get(n, 0.0) / 3600, "staffed_h": staffed[n] / 3600}
                     for n, u in util.items()},
        "officers": {o: {"utilisation": u, "duty_h": oduty[o] / 3600} for o, u in officers.items()},
        "officer_hours": sum(oduty.values()) / 3600,
        "queue": queue,
        "wait_by_time": wait_by_time,
        "within_target_by_hour": {h: v[0] / v[1] for h, v in sorted(by_hour.items())},
    }
