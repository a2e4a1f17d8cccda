"""Advice checked by simulation: each recommendation becomes a staffing plan that the whole-day
simulator (simulators/hallsim, the real engine under a workload) runs on the same demand.

Erlang C assumes steady state within each hour and, for the chain, perfect pooling; the simulator
has neither assumption. When the simulated chain misses the target in some hour, that hour gets
one more counter and the check runs again (a few rounds at most).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

from hallserver.domain.config import WEEKDAYS, HallConfig
from hallserver.staffing.advise import (
    DEFAULT_TARGET,
    Chain,
    HourNeed,
    Target,
    chain,
    dedicated,
    dedicated_hours,
    floor_hours,
    one_desk_per_department_hours,
)
from hallserver.staffing.demand import Demand
from simulators.hallsim.run import Plan, run
from simulators.hallsim.sim import hours_to_spans
from simulators.hallsim.workload import Workload, load_workload

REFERENCE_MONDAY = date(2025, 1, 6)


def demand_of(config: HallConfig, workload: Workload) -> Demand:
    """The demand a workload file describes (the seed hall's, before the hall has any history)."""
    hourly = {wd: workload.expected(wd) for wd in WEEKDAYS if workload.volumes(wd)}
    return Demand(hourly, {s: workload.mean_min(config, s) for s in config.services}, "workload",
                  no_show=workload.no_show)


def pick_demand(config: HallConfig, history: Demand | None, weekday: str,
                workload_path: Path | None = None) -> tuple[Demand, Workload | None]:
    """The hall's history when it has days of this weekday; otherwise the workload file's demand
    (default: the seed hall's, which fits the demo hall). A WorkloadError when neither fits."""
    if history is not None and history.days_observed.get(weekday):
        return history, load_workload(workload_path, config) if workload_path else None
    workload = load_workload(workload_path, config)
    return demand_of(config, workload), workload


def workload_of(demand: Demand, base: Workload | None = None) -> Workload:
    """A simulator workload with exactly this demand (behaviour from `base` when given)."""
    if base is not None:
        return replace(base, hourly=demand.hourly, service_mean_min=dict(demand.aht_min))
    return Workload(name=f"demand ({demand.source})", daily={}, daily_by_weekday={}, weekday_factor={},
                    profile={"weekday": {}}, service_mean_min=dict(demand.aht_min), no_show=demand.no_show,
                    hourly=demand.hourly)


def _numbers(config: HallConfig, groups: list[tuple[str, int]]) -> list[list[int]]:
    """Counter numbers for groups of (own service, how many): the department's own desks first,
    then desks no group uses, then new numbers."""
    own: dict[str, list[int]] = {}
    for n, c in sorted(config.counters.items()):
        if c.services:
            own.setdefault(c.services[0], []).append(n)
    used: set[int] = set()
    out: list[list[int]] = []
    for primary, k in groups:
        mine = [n for n in own.get(primary, []) if n not in used][:k]
        used.update(mine)
        out.append(mine)
    spare = [n for n in sorted(config.counters) if n not in used]
    fresh = max(config.counters, default=0) + 1
    for (_, k), mine in zip(groups, out, strict=True):
        while len(mine) < k:
            if spare:
                mine.append(spare.pop(0))
            else:
                mine.append(fresh)
                fresh += 1
        used.update(mine)
    return out


def _plan(config: HallConfig, label: str, weekday: str, groups: list[tuple[tuple[str, ...], dict[int, int]]]) -> Plan:
    """groups: (services, hour -> counters); counter k of a group works the hours where k < count."""
    numbers = _numbers(config, [(svcs[0], max(per.values(), default=0)) for svcs, per in groups])
    counters: dict[int, tuple[str, ...]] = {}
    schedule: dict[int, list[tuple[float, float]]] = {}
    for (svcs, per), nums in zip(groups, numbers, strict=True):
        for k, n in enumerate(nums):
            counters[n] = svcs
            schedule[n] = hours_to_spans([h for h, c in per.items() if k < c])
    return Plan(label, counters, {weekday: schedule})


def dedicated_plan(config: HallConfig, needs: dict[str, list[HourNeed]], weekday: str) -> Plan:
    return _plan(config, "dedicated advice", weekday,
                 [((s,), {h.hour: h.counters for h in hs}) for s, hs in needs.items()])


def chain_plan(config: HallConfig, ch: Chain, weekday: str) -> Plan:
    groups = []
    for j, link in enumerate(ch.links):
        per = {h: alloc[j] for h, alloc in ch.counters.items() if alloc[j] > 0}
        if per:
            groups.append((link, per))
    return _plan(config, "chain advice", weekday, groups)


def simulate_weekday(config: HallConfig, workload: Workload, plan: Plan, weekday: str, days: int,
                     seed: int, policy: str = "oldest") -> dict:
    """`days` dates falling on `weekday` (a week apart), each with its own citizens."""
    first = REFERENCE_MONDAY + timedelta(days=WEEKDAYS.index(weekday))
    days_run = []
    for k in range(days):
        days_run.append(run(config, workload, plan, first + timedelta(weeks=k), 1, seed, policy))
    return _merge(days_run) if len(days_run) > 1 else days_run[0]


def _merge(summaries: list[dict]) -> dict:
    """Weighted means of the figures that the check reports."""
    n = sum(s["overall"]["n"] for s in summaries) or 1
    overall = {}
    for key in ("mean_min", "within_target"):
        overall[key] = sum((s["overall"][key] or 0) * s["overall"]["n"] for s in summaries) / n
    for key in ("p90_min", "max_min"):
        overall[key] = max((s["overall"][key] or 0) for s in summaries)
    by_hour: dict[int, list[float]] = {}
    for s in summaries:
        for h, v in s["within_target_by_hour"].items():
            by_hour.setdefault(h, []).append(v)
    return {"overall": {"n": n, **overall}, "days": len(summaries),
            "within_target_by_hour": {h: sum(v) / len(v) for h, v in sorted(by_hour.items())},
            "officer_hours": sum(s["officer_hours"] for s in summaries) / len(summaries)}


def advise(config: HallConfig, demand: Demand, weekday: str, target: Target = DEFAULT_TARGET,
           workload: Workload | None = None, check: bool = True, days: int = 4, seed: int = 1,
           rounds: int = 3) -> dict:
    """The advice for one weekday, as plain data (for the API and the report)."""
    wl = workload_of(demand, workload)
    needs = dedicated(config, demand, weekday, target)
    extra: dict[int, int] = {}
    ch = chain(config, demand, weekday, target)
    checks: dict[str, dict] = {}
    if check and needs:
        checks["dedicated"] = simulate_weekday(config, wl, dedicated_plan(config, needs, weekday), weekday, days, seed)
        for i in range(rounds + 1):
            sim = simulate_weekday(config, wl, chain_plan(config, ch, weekday), weekday, days, seed)
            short = [h for h, v in sim["within_target_by_hour"].items() if v < target.sl and h in ch.counters]
            if not short or i == rounds:
                break
            for h in short:
                extra[h] = extra.get(h, 0) + 1
            ch = chain(config, demand, weekday, target, ch.links, extra)
        checks["chain"] = sim
    services = config.services
    return {
        "weekday": weekday,
        "source": demand.source,
        "days_observed": demand.days_observed.get(weekday, 0),
        "target": {"sl": target.sl, "max_occupancy": target.max_occupancy, "shrinkage": target.shrinkage},
        "hours": demand.hours(weekday),
        "tickets": round(demand.tickets(weekday), 1),
        "dedicated": {
            s: {"name": services[s].name, "target_wait_min": services[s].target_wait_min,
                "aht_min": round(hs[0].aht_min, 2),
                "hours": {h.hour: {"rate": round(h.rate, 2), "counters": h.counters,
                                   "p_wait": round(h.figures.p_wait, 4), "wq_min": round(h.figures.wq_min, 2),
                                   "sl": round(h.figures.sl, 4), "occupancy": round(h.figures.occupancy, 4)}
                          for h in hs}}
            for s, hs in needs.items()},
        "chain": {
            "links": [{"services": list(link),
                       "hours": {h: alloc[j] for h, alloc in ch.counters.items() if alloc[j]}}
                      for j, link in enumerate(ch.links)],
            "pooled": {h: {"rate": round(p.rate, 2), "aht_min": round(p.aht_min, 2), "counters": p.counters,
                           "sl": round(p.figures.sl, 4), "wq_min": round(p.figures.wq_min, 2)}
                       for h, p in ch.pooled.items()},
            "extra_from_check": extra,
        },
        "officer_hours": {
            "dedicated": dedicated_hours(needs),
            "chain": ch.officer_hours(),
            "full_pooling_floor": floor_hours(config, demand, weekday, target),
            "one_desk_per_department": one_desk_per_department_hours(demand, weekday),
            "all_counters": len(config.counters) * len(demand.hours(weekday)),
        },
        "check": {k: {"days": v["days"] if "days" in v else 1, "mean_wait_min": _r(v["overall"]["mean_min"]),
                      "p90_wait_min": _r(v["overall"]["p90_min"]),
                      "within_target": _r(v["overall"]["within_target"], 4),
                      "meets_target": (v["overall"]["within_target"] or 0) >= target.sl,
                      "within_target_by_hour": {h: round(x, 3) for h, x in v["within_target_by_hour"].items()}}
                  for k, v in checks.items()},
    }


def _r(x: float | None, nd: int = 2) -> float | None:
    return None if x is None else round(x, nd)
