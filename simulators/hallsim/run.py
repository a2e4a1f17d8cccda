"""Runs of many simulated days: a staffing plan, a policy, a workload and a seed in; figures out.

Days are independent (each has its own generator, seeded by the run's seed and the date), so a
run gives the same figures on one process or several, and two plans meet the same citizens.
"""

from __future__ import annotations

import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from datetime import date, timedelta

from hallserver.domain.config import WEEKDAYS, Counter, HallConfig
from simulators.hallsim.metrics import DayRecord, summarise
from simulators.hallsim.progress import Progress
from simulators.hallsim.sim import DaySim, Schedule, draw_breaks, sim_config, whole_spans
from simulators.hallsim.workload import Workload


@dataclass(frozen=True)
class Plan:
    """Who works when: the hall's counters (and what each serves) and a schedule per weekday."""

    label: str
    counters: dict[int, tuple[str, ...]]  # counter -> services, the first its own department's
    schedules: dict[str, Schedule]  # weekday -> counter -> staffed spans

    def apply(self, config: HallConfig) -> HallConfig:
        """The hall with exactly this plan's counters."""
        counters = {}
        for n, services in sorted(self.counters.items()):
            base = config.counters.get(n)
            counters[n] = Counter(n, base.name if base else f"Quầy {n}", tuple(services),
                                  base.kind if base else "receiving")
        return replace(config, counters=counters)

    def officer_hours(self, weekday: str) -> float:
        return sum(b - a for spans in self.schedules.get(weekday, {}).values() for a, b in spans) / 3600


def workload_plan(config: HallConfig, workload: Workload, label: str = "dedicated desks") -> Plan:
    """The hall as configured, staffed as the workload says (the hall's practice)."""
    schedules = {}
    for weekday, staff in workload.staff.items():
        numbers = list(staff.counters) if staff.counters is not None else sorted(config.counters)
        schedules[weekday] = whole_spans(numbers, staff.shifts)
    return Plan(label, {n: c.services for n, c in config.counters.items()}, schedules)


def with_services(plan: Plan, counters: dict[int, tuple[str, ...]], label: str) -> Plan:
    return Plan(label, counters, plan.schedules)


def simulate_day(config: HallConfig, workload: Workload, plan: Plan, day: date, seed: int,
                 policy: str | None = None) -> DayRecord:
    """One day; `config` is the hall as configured (the plan and the policy are applied here)."""
    hall = sim_config(plan.apply(config), policy)
    weekday = WEEKDAYS[day.weekday()]
    schedule = plan.schedules.get(weekday, {})
    arrivals = workload.draw(hall, day, seed)
    rng = random.Random(f"hallsim-staff:{seed}:{day.isoformat()}")
    breaks = draw_breaks(schedule, workload.breaks_per_shift, workload.break_min * 60, rng)
    sim = DaySim(hall, day, arrivals, schedule, breaks, workload.break_min * 60, workload.no_show_wait_min * 60)
    return sim.run()


def _day_task(args: tuple) -> DayRecord:
    return simulate_day(*args)


def run_records(config: HallConfig, workload: Workload, plan: Plan, dates: list[date], seed: int = 1,
                policy: str | None = None, jobs: int = 1, progress: bool | None = False) -> list[DayRecord]:
    """The simulated days, in date order."""
    bar = Progress(len(dates), f"{plan.label} / {policy or config.policy}", progress)
    tasks = [(config, workload, plan, d, seed, policy) for d in dates]
    records: list[DayRecord] = []
    try:
        if jobs > 1 and len(tasks) > 1:
            with ProcessPoolExecutor(jobs) as pool:
                for rec in pool.map(_day_task, tasks, chunksize=max(1, len(tasks) // (4 * jobs))):
                    records.append(rec)
                    bar.step()
        else:
            for t in tasks:
                records.append(_day_task(t))
                bar.step()
    finally:
        bar.close()
    return records


def working_dates(workload: Workload, plan: Plan, start: date, days: int) -> list[date]:
    """The calendar days from `start` with staff or citizens (a closed Sunday is skipped)."""
    dates = [start + timedelta(days=i) for i in range(days)]
    return [d for d in dates if plan.schedules.get(WEEKDAYS[d.weekday()]) or workload.volumes(WEEKDAYS[d.weekday()])]


def run(config: HallConfig, workload: Workload, plan: Plan, start: date, days: int, seed: int = 1,
        policy: str | None = None, jobs: int = 1, progress: bool | None = False) -> dict:
    """Simulate `days` calendar days from `start` and summarise them."""
    records = run_records(config, workload, plan, working_dates(workload, plan, start, days), seed, policy, jobs,
                          progress)
    summary = summarise(plan.apply(config), records)
    summary.update({"plan": plan.label, "policy": policy or config.policy, "seed": seed,
                    "start": start.isoformat(), "calendar_days": days})
    return summary
