"""Workloads: who comes to the hall and when, how long they take, and who staffs which counter.

A workload is a TOML file (format: simulators/workloads/seed_hall.toml, the built-in one, which
models the seed hall of CONTEXT.md). Arrivals are Poisson per service with a rate that changes by
hour and weekday; service times are lognormal around each service's mean; a citizen may not show
up when called, or give up after a patience. Everything random about one day is drawn from a
generator seeded by (seed, date), so a day is the same whatever else runs, in whatever order.
"""

from __future__ import annotations

import math
import random
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path

from hallserver.domain.config import WEEKDAYS, HallConfig

WORKLOADS = Path(__file__).resolve().parents[1] / "workloads"
SEED_WORKLOAD = WORKLOADS / "seed_hall.toml"


class WorkloadError(ValueError):
    """A workload file that cannot drive a simulation."""


def _secs(hhmm: str) -> float:
    t = time.fromisoformat(hhmm)
    return t.hour * 3600.0 + t.minute * 60.0 + t.second


@dataclass(frozen=True)
class Arrival:
    """One citizen: when they take a ticket and what happens to them (drawn before the day runs,
    so every policy and staffing plan meets the same citizens)."""

    at_s: float  # seconds since the day's midnight
    service: str
    priority: str | None
    service_s: float  # time at the counter once called
    no_show: bool  # not there when called
    patience_s: float  # gone when called after waiting longer (inf: waits for ever)


@dataclass(frozen=True)
class DayStaff:
    counters: tuple[int, ...] | None  # None: every counter of the hall
    shifts: tuple[tuple[float, float], ...]  # (start, end) seconds since midnight


@dataclass(frozen=True)
class Workload:
    name: str
    daily: dict[str, float]  # tickets on an average working day, per service
    daily_by_weekday: dict[str, dict[str, float]]  # e.g. sat: only these services, these volumes
    weekday_factor: dict[str, float]
    profile: dict[str, dict[int, float]]  # "weekday", "sat", ... or a weekday name -> hour -> share
    service_mean_min: dict[str, float] = field(default_factory=dict)  # default: the service's handle_min
    service_cv: float = 0.6
    no_show: float = 0.03
    no_show_wait_min: float = 1.5  # the officer recalls, then marks the no-show
    priority_share: float = 0.05
    abandonment: bool = False
    patience_mean_min: float = 90.0
    patience_cv: float = 0.5
    staff: dict[str, DayStaff] = field(default_factory=dict)  # weekday -> who works
    breaks_per_shift: int = 1
    break_min: float = 15.0
    # weekday -> service -> hour -> expected tickets: when set for a weekday, it replaces the
    # daily x profile model (a workload estimated from a hall's history has one)
    hourly: dict[str, dict[str, dict[int, float]]] = field(default_factory=dict)

    # ---------------------------------------------------------------- rates
    def volumes(self, weekday: str) -> dict[str, float]:
        """Expected tickets per service on this weekday."""
        if weekday in self.hourly:
            return {s: sum(h.values()) for s, h in self.hourly[weekday].items()}
        if weekday in self.daily_by_weekday:
            return dict(self.daily_by_weekday[weekday])
        factor = self.weekday_factor.get(weekday, 0.0)
        return {s: v * factor for s, v in self.daily.items()} if factor else {}

    def hour_shares(self, weekday: str) -> dict[int, float]:
        prof = self.profile.get(weekday) or self.profile.get("sat" if weekday == "sat" else "weekday", {})
        total = sum(prof.values())
        return {h: v / total for h, v in prof.items()} if total else {}

    def expected(self, weekday: str) -> dict[str, dict[int, float]]:
        """Expected tickets per service per clock hour (the hour it starts) on this weekday."""
        if weekday in self.hourly:
            return {s: dict(h) for s, h in self.hourly[weekday].items() if sum(h.values()) > 0}
        shares = self.hour_shares(weekday)
        return {s: {h: v * sh for h, sh in shares.items()} for s, v in self.volumes(weekday).items() if v > 0}

    def mean_min(self, config: HallConfig, service: str) -> float:
        return self.service_mean_min.get(service, config.services[service].handle_min)

    def staff_on(self, weekday: str) -> DayStaff | None:
        return self.staff.get(weekday)

    # ---------------------------------------------------------------- one day's citizens
    def draw(self, config: HallConfig, day: date, seed: int) -> list[Arrival]:
        """The citizens of one day, in order of arrival."""
        rng = random.Random(f"hallsim:{seed}:{day.isoformat()}")
        weekday = WEEKDAYS[day.weekday()]
        categories = [c.key for c in config.priority.categories]
        s2 = math.log(1.0 + self.service_cv ** 2)
        p2 = math.log(1.0 + self.patience_cv ** 2)
        out: list[Arrival] = []
        for service, hours in sorted(self.expected(weekday).items()):
            svc = config.services.get(service)
            if svc is None:
                continue
            spans = [(0.0, 86400.0)] if config.always_open else [
                (_secs(a.isoformat()), _secs(b.isoformat())) for a, b in svc.hours.get(weekday, ())]
            mu = math.log(self.mean_min(config, service) * 60.0) - s2 / 2
            for hour, n in sorted(hours.items()):
                parts = [(max(a, hour * 3600.0), min(b, hour * 3600.0 + 3600.0)) for a, b in spans]
                parts = [(a, b) for a, b in parts if b > a]
                length = sum(b - a for a, b in parts)
                if n <= 0 or length <= 0:
                    continue
                rate = n / length  # per second, over the hour's issuing minutes
                for a, b in parts:
                    t = a + rng.expovariate(rate)
                    while t < b:
                        prio = rng.choice(categories) if categories and rng.random() < self.priority_share else None
                        patience = math.inf
                        if self.abandonment:
                            patience = rng.lognormvariate(math.log(self.patience_mean_min * 60.0) - p2 / 2,
                                                          math.sqrt(p2))
                        out.append(Arrival(t, service, prio, rng.lognormvariate(mu, math.sqrt(s2)),
                                           rng.random() < self.no_show, patience))
                        t += rng.expovariate(rate)
        out.sort(key=lambda a: (a.at_s, a.service))
        return out


# -------------------------------------------------------------------- reading the file
def _shares(raw: dict, where: str) -> dict[int, float]:
    out = {}
    for k, v in raw.items():
        try:
            hour = int(k)
        except ValueError:
            raise WorkloadError(f"{where}: hours are \"0\"..\"23\", got {k!r}") from None
        if not 0 <= hour <= 23 or not isinstance(v, int | float) or v < 0:
            raise WorkloadError(f"{where}.{k}: a share >= 0 for an hour 0..23")
        out[hour] = float(v)
    return out


def _volumes(raw: dict, where: str) -> dict[str, float]:
    for k, v in raw.items():
        if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
            raise WorkloadError(f"{where}.{k}: tickets per day must be a number >= 0")
    return {k: float(v) for k, v in raw.items()}


def _shifts(raw: list, where: str) -> tuple[tuple[float, float], ...]:
    try:
        spans = tuple((_secs(a), _secs(b)) for a, b in raw)
    except (TypeError, ValueError) as exc:
        raise WorkloadError(f"{where}: shifts are [[\"HH:MM\", \"HH:MM\"], ...]") from exc
    if any(a >= b for a, b in spans):
        raise WorkloadError(f"{where}: a shift ends before it starts")
    return spans


def parse_workload(raw: dict) -> Workload:
    wl = raw.get("workload", {})
    arr = raw.get("arrivals", {})
    if "daily" not in arr:
        raise WorkloadError("arrivals.daily: tickets per day per service is required")
    by_day = {d: _volumes(v, f"arrivals.by_weekday.{d}") for d, v in arr.get("by_weekday", {}).items()}
    factors = {d: float(v) for d, v in arr.get("weekday_factor", {}).items()}
    for d in [*by_day, *factors]:
        if d not in WEEKDAYS:
            raise WorkloadError(f"arrivals: unknown weekday {d!r}")
    profile = {k: _shares(v, f"arrivals.profile.{k}") for k, v in arr.get("profile", {}).items()}
    if "weekday" not in profile:
        raise WorkloadError("arrivals.profile.weekday: the share of a day's tickets by hour is required")
    times = raw.get("service_times", {})
    beh = raw.get("behaviour", {})
    staff_raw = raw.get("staff", {})
    default_shifts = _shifts(staff_raw.get("shifts", [["07:00", "11:30"], ["13:00", "17:00"]]), "staff.shifts")
    staff = {}
    for d in WEEKDAYS:
        sub = staff_raw.get(d)
        if sub is None:
            if d in ("sat", "sun") and d not in by_day and not factors.get(d):
                continue
            staff[d] = DayStaff(None, default_shifts)
        elif sub.get("closed"):
            continue
        else:
            counters = sub.get("counters")
            staff[d] = DayStaff(tuple(int(n) for n in counters) if counters is not None else None,
                                _shifts(sub["shifts"], f"staff.{d}.shifts") if "shifts" in sub else default_shifts)
    breaks = staff_raw.get("breaks", {})
    default_factor = {d: 1.0 for d in WEEKDAYS[:5]}
    return Workload(
        name=str(wl.get("name", "workload")),
        daily=_volumes(arr["daily"], "arrivals.daily"),
        daily_by_weekday=by_day,
        weekday_factor={**default_factor, **factors},
        profile=profile,
        service_mean_min={k: float(v) for k, v in times.get("mean_min", {}).items()},
        service_cv=float(times.get("cv", 0.6)),
        no_show=float(beh.get("no_show", 0.03)),
        no_show_wait_min=float(beh.get("no_show_wait_min", 1.5)),
        priority_share=float(beh.get("priority_share", 0.05)),
        abandonment=bool(beh.get("abandonment", False)),
        patience_mean_min=float(beh.get("patience_mean_min", 90)),
        patience_cv=float(beh.get("patience_cv", 0.5)),
        staff=staff,
        breaks_per_shift=int(breaks.get("per_shift", 1)),
        break_min=float(breaks.get("minutes", 15)),
    )


def load_workload(path: Path | str | None = None, config: HallConfig | None = None) -> Workload:
    """Read a workload file (default: the seed hall's); with `config`, check its services exist."""
    with open(path or SEED_WORKLOAD, "rb") as f:
        wl = parse_workload(tomllib.load(f))
    if config is not None:
        named = set(wl.daily) | {s for v in wl.daily_by_weekday.values() for s in v} | set(wl.service_mean_min)
        unknown = sorted(named - set(config.services))
        if unknown:
            raise WorkloadError(f"services not in hall {config.id!r}: {unknown}")
        for d, st in wl.staff.items():
            bad = [n for n in (st.counters or ()) if n not in config.counters]
            if bad:
                raise WorkloadError(f"staff.{d}.counters: not in hall {config.id!r}: {bad}")
    return wl
