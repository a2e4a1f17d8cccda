"""Balancing benchmark: routing policies and staffing advice on the seed-hall workload.

    .venv/bin/python -m bench.balancing.run [--weeks 4] [--seed 1] [--jobs 2] [--out bench/balancing/results.md]

Table 1, at the same staff (the hall's 37 counters, staffed as the workload says): dedicated desks
(one queue per department, today's practice), the same desks cross-trained in a chain (each desk
keeps its department first and adds one partner, see hallserver/staffing/advise.py) under the
`oldest`, `preference` and `sla` policies, every desk serving every service (simulated), and the
Erlang C floor of full pooling (M/M/c per hour, the analytic bound the pooled hall approaches).

Table 2: officer-hours a week (Mon-Sat) that each staffing needs, and what it achieves in the
simulator: every desk open all day, one desk per department all day, the advice with one queue per
department (Erlang C per service and hour), and the advice for the chain (pooled Erlang C, checked
and topped up by the simulator); the full-pooling Erlang C floor for reference.

Prints both tables and writes them (Markdown) with the raw figures (JSON) beside --out.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from hallserver.domain.config import WEEKDAYS, HallConfig  # noqa: E402
from hallserver.settings import load_hall_config  # noqa: E402
from hallserver.staffing.advise import Target, dedicated, design_chain, pooled_counters  # noqa: E402
from hallserver.staffing.advise import chain as chain_advice  # noqa: E402
from hallserver.staffing.check import advise, chain_plan, dedicated_plan, demand_of  # noqa: E402
from hallserver.staffing.demand import Demand, rate_per_hour  # noqa: E402
from hallserver.staffing.erlang import figures  # noqa: E402
from simulators.hallsim.metrics import summarise  # noqa: E402
from simulators.hallsim.run import Plan, run, run_records, with_services, workload_plan  # noqa: E402
from simulators.hallsim.workload import Workload, load_workload  # noqa: E402

START = date(2025, 3, 3)  # a Monday
VARIED_TARGETS = {"tra-ket-qua": 5, "giao-thong": 10, "cong-an": 10, "ke-hoach-dau-tu": 30, "xay-dung": 30}


def erlang_floor(config: HallConfig, demand: Demand, plan: Plan, dates: list[date]) -> dict:
    """Every staffed counter serving every service, M/M/c hour by hour (stationary independent
    periods): mean and p90 wait, share within target and occupancy, weighted by tickets."""
    parts = []  # (tickets, p_wait, c - a, aht, target)
    work = staffed = 0.0
    for d in dates:
        wd = WEEKDAYS[d.weekday()]
        sched = plan.schedules.get(wd, {})
        staffed += sum(b - a for spans in sched.values() for a, b in spans) / 3600
        for hour in demand.hours(wd):
            at = hour * 3600  # counters staffed when the hour starts
            c = sum(1 for spans in sched.values() if any(a <= at < b for a, b in spans))
            rates = {s: rate_per_hour(config, demand, s, wd, hour) for s in config.services}
            lam = sum(rates.values())
            n = sum(demand.hourly[wd].get(s, {}).get(hour, 0.0) for s in config.services)
            if lam <= 0:
                continue
            aht = sum(r * demand.aht_min[s] for s, r in rates.items()) / lam
            target = sum(r * config.services[s].target_wait_min for s, r in rates.items()) / lam
            work += n * aht / 60
            f = figures(lam, aht, c, target)
            parts.append((n, f.p_wait, c - f.erlangs, aht, target, f.wq_min, f.sl))
    total = sum(p[0] for p in parts)
    mean = sum(p[0] * p[5] for p in parts) / total
    sl = sum(p[0] * p[6] for p in parts) / total

    def tail(t: float) -> float:
        return sum(p[0] * (p[1] * math.exp(-p[2] * t / p[3]) if p[2] > 0 else 1.0) for p in parts) / total

    lo, hi = 0.0, 600.0
    if tail(0) <= 0.1:
        p90 = 0.0
    else:
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if tail(mid) > 0.1 else (lo, mid)
        p90 = hi
    occ = work / staffed
    return {"overall": {"mean_min": mean, "p90_min": p90, "within_target": sl}, "busiest": occ, "idlest": occ}


def row(label: str, s: dict) -> dict:
    """The first table's columns (utilisation over counters that were staffed)."""
    util = [v["utilisation"] for v in s.get("counters", {}).values()]
    return {"label": label, "mean": s["overall"]["mean_min"], "p90": s["overall"]["p90_min"],
            "within": s["overall"]["within_target"], "busiest": s.get("busiest", max(util, default=None)),
            "idlest": s.get("idlest", min(util, default=None))}


def table1(rows: list[dict]) -> str:
    out = ["| staffing and policy | mean wait (min) | p90 wait (min) | within target | busiest counter "
           "| idlest counter |", "|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        util = f" {r['busiest']:.0%} | {r['idlest']:.0%} |" if r["busiest"] is not None else ""
        out.append(f"| {r['label']} | {r['mean']:.1f} | {r['p90']:.1f} | {r['within']:.1%} |{util}")
    return "\n".join(out)


def table2(rows: list[dict]) -> str:
    out = ["| staffing (Mon-Sat, chain desks use `oldest`) | officer-hours a week | mean wait (min) | p90 wait (min) "
           "| within target |", "|---|---:|---:|---:|---:|"]
    for r in rows:
        sim = r.get("sim")
        figs = (f"{sim['mean_min']:.1f} | {sim['p90_min']:.1f} | {sim['within_target']:.1%}" if sim
                else "— | — | —")
        out.append(f"| {r['label']} | {r['hours']:.0f} | {figs} |")
    return "\n".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weeks", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--workload", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    config = load_hall_config(None)
    wl: Workload = load_workload(args.workload, config)
    demand = demand_of(config, wl)
    days = 7 * args.weeks
    dates = [START + timedelta(days=i) for i in range(days)]
    dates = [d for d in dates if wl.volumes(WEEKDAYS[d.weekday()])]

    def sim(plan: Plan, policy: str = "oldest") -> dict:
        return run(config, wl, plan, START, days, args.seed, policy, jobs=args.jobs)

    base = workload_plan(config, wl)
    links = design_chain(config, demand)
    chained = with_services(base, pooled_counters(config, links), "chain desks")
    everything = with_services(base, {n: (c.services[0], *[s for s in config.services if s != c.services[0]])
                                      for n, c in config.counters.items()}, "all desks serve all")
    results = {"dedicated desks (one queue per department)": sim(base)}
    for policy in ("oldest", "preference", "sla"):
        results[f"chain desks, `{policy}`"] = sim(chained, policy)
    results["every desk serves every service, `oldest`"] = sim(everything)
    results["full-pooling Erlang C floor (M/M/c per hour)"] = erlang_floor(config, demand, base, dates)
    rows1 = [row(k, v) for k, v in results.items()]
    advice: dict[str, dict] = {}

    target = Target()
    week = [wd for wd in WEEKDAYS if wl.volumes(wd)]
    by_day: dict[str, dict[str, Plan]] = {"dedicated": {}, "chain": {}}
    floor_h = 0.0
    for wd in week:
        adv = advise(config, demand, wd, target, wl, check=True, days=args.weeks, seed=args.seed)
        advice[wd] = adv
        by_day["dedicated"][wd] = dedicated_plan(config, dedicated(config, demand, wd, target), wd)
        extra = {int(h): n for h, n in adv["chain"]["extra_from_check"].items()}
        by_day["chain"][wd] = chain_plan(config, chain_advice(config, demand, wd, target, links, extra), wd)
        floor_h += adv["officer_hours"]["full_pooling_floor"] * sum(1 for d in dates if WEEKDAYS[d.weekday()] == wd)
    firsts: dict[str, int] = {}
    for n, c in sorted(config.counters.items()):
        firsts.setdefault(c.services[0], n)
    one_desk = Plan("one desk per department all day", {n: config.counters[n].services for n in firsts.values()},
                    {wd: {n: list(wl.staff[wd].shifts) for n in firsts.values()} for wd in base.schedules})
    rows2 = []
    for label, plans in [("every desk open all day (today)", {wd: base for wd in week}),
                         ("one desk per department all day", {wd: one_desk for wd in week}),
                         ("advice, one queue per department", by_day["dedicated"]),
                         ("advice, chain (cross-trained pairs)", by_day["chain"])]:
        records = []
        for wd, plan in plans.items():
            mine = [d for d in dates if WEEKDAYS[d.weekday()] == wd]
            records += run_records(config, wl, plan, mine, args.seed, "oldest", jobs=args.jobs)
        s = summarise(config, records)
        rows2.append({"label": label, "hours": s["officer_hours"] / args.weeks, "sim": s["overall"]})
        results[f"staffing: {label}"] = s
    rows2.append({"label": "full-pooling Erlang C floor (no simulation)", "hours": floor_h / args.weeks})
    rows3 = []
    for policy in ("oldest", "preference", "sla"):
        records = []
        for wd, plan in by_day["chain"].items():
            mine = [d for d in dates if WEEKDAYS[d.weekday()] == wd]
            records += run_records(config, wl, plan, mine, args.seed, policy, jobs=args.jobs)
        s = summarise(config, records)
        s["counters"] = {}  # counters differ by weekday under the advice: utilisation is not comparable
        rows3.append(row(f"chain advice staffing, `{policy}`", s))
        results[f"chain advice, {policy}"] = s

    # the same, with targets that differ by service: where `sla` differs from `oldest`
    varied = replace(config, services={k: replace(v, target_wait_min=VARIED_TARGETS.get(k, v.target_wait_min))
                                       for k, v in config.services.items()})
    rows4 = []
    for policy in ("oldest", "preference", "sla"):
        records = []
        for wd in week:
            plan = chain_plan(varied, chain_advice(varied, demand, wd, target, links), wd)
            mine = [d for d in dates if WEEKDAYS[d.weekday()] == wd]
            records += run_records(varied, wl, plan, mine, args.seed, policy, jobs=args.jobs)
        s = summarise(varied, records)
        s["counters"] = {}
        r = row(f"targets differ, `{policy}`", s)
        r["label"] += " — " + ", ".join(f"{k} {s['services'][k]['within_target']:.0%}" for k in VARIED_TARGETS)
        rows4.append(r)
        results[f"varied targets, {policy}"] = s

    text = (f"Seed-hall workload ({wl.name}), {len(dates)} working days from {START} (seed {args.seed}); "
            f"target: {target.sl:.0%} of citizens called within their service's target wait (15 min).\n\n"
            + table1(rows1) + "\n\n" + table2(rows2) + "\n\nThe policies again, on the lean chain staffing "
            "of the advice (where they matter):\n\n" + table1(rows3).replace(" busiest counter | idlest counter |", "")
            .replace("|---:|---:|---:|---:|---:|", "|---:|---:|---:|")
            + "\n\nTargets that differ by service ("
            + ", ".join(f"{k} {v} min" for k, v in VARIED_TARGETS.items())
            + ", others 15), chain advice staffing before its simulation top-up; within target per service "
            "after the dash:\n\n" + table1(rows4).replace(" busiest counter | idlest counter |", "")
            .replace("|---:|---:|---:|---:|---:|", "|---:|---:|---:|") + "\n")
    print(text)
    print(f"({time.perf_counter() - t0:.1f} s)")
    args.out.write_text(text, encoding="utf-8")
    raw = {k: {kk: vv for kk, vv in v.items() if kk not in ("queue", "wait_by_time", "officers")}
           for k, v in results.items()}
    raw["chain_links"] = [list(lk) for lk in links]
    raw["advice"] = {wd: {k: a[k] for k in ("officer_hours", "check", "chain")} for wd, a in advice.items()}
    args.out.with_suffix(".json").write_text(json.dumps(raw, indent=1, default=str, ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
