"""Simulate whole hall days through the real engine.

    python -m simulators.hallsim [--days 1] [--start 2025-03-03] [--seed 1] [--policy oldest]
        [--desks dedicated|chain|all] [--workload FILE] [--config FILE] [--abandonment]
        [--jobs 2] [--plots DIR] [--json FILE]

Prints waits per service and overall (mean, p50, p90, max, share within target), counter and
officer utilisation; --plots writes SVG charts of queue length and wait over the day; --json the
full figures. The same seed gives the same figures, with any --jobs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from hallserver.domain.config import POLICY_NAMES
from hallserver.settings import load_hall_config
from simulators.hallsim.plot import queue_chart, wait_chart
from simulators.hallsim.run import run, with_services, workload_plan
from simulators.hallsim.workload import load_workload


def _m(x: float | None) -> str:
    return "-" if x is None else f"{x:.1f}"


def render(summary: dict, config) -> str:
    o = summary["overall"]
    lines = [f"{summary['days']} day(s) from {summary['start']}, plan: {summary['plan']}, policy: {summary['policy']}, "
             f"seed {summary['seed']}",
             f"tickets {summary['tickets']}, served {summary['served']}, no-show {summary['no_show']} "
             f"(of which gave up {summary['abandoned']}), unserved {summary['unserved']}, refused {summary['refused']}",
             f"{'service':<18}{'tickets':>8}{'mean':>7}{'p50':>7}{'p90':>7}{'max':>7}{'in target':>11}"]
    for code, s in summary["services"].items():
        lines.append(f"{code:<18}{s['tickets']:>8}{_m(s['mean_min']):>7}{_m(s['p50_min']):>7}{_m(s['p90_min']):>7}"
                     f"{_m(s['max_min']):>7}{(s['within_target'] or 0):>11.1%}")
    lines.append(f"{'all':<18}{summary['tickets']:>8}{_m(o['mean_min']):>7}{_m(o['p50_min']):>7}"
                 f"{_m(o['p90_min']):>7}{_m(o['max_min']):>7}{(o['within_target'] or 0):>11.1%}")
    util = sorted((v["utilisation"], n) for n, v in summary["counters"].items())
    if util:
        lines.append(f"counter utilisation: busiest {util[-1][0]:.0%} (counter {util[-1][1]}), idlest {util[0][0]:.0%} "
                     f"(counter {util[0][1]}), mean {sum(u for u, _ in util) / len(util):.0%}")
    officers = [v["utilisation"] for v in summary["officers"].values()]
    if officers:
        lines.append(f"officer utilisation (busy / on duty): max {max(officers):.0%}, min {min(officers):.0%}; "
                     f"officer-hours {summary['officer_hours']:.0f}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m simulators.hallsim", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=1, help="calendar days (closed days are skipped)")
    ap.add_argument("--start", type=date.fromisoformat, default=date(2025, 3, 3))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--policy", choices=POLICY_NAMES, default=None, help="default: the hall's")
    ap.add_argument("--desks", choices=("dedicated", "chain", "all"), default="dedicated",
                    help="counters as configured, cross-trained in a chain, or serving every service")
    ap.add_argument("--workload", type=Path, default=None, help="default: the seed hall's")
    ap.add_argument("--config", type=Path, default=None, help="hall TOML (default: the demo hall)")
    ap.add_argument("--abandonment", action="store_true", help="citizens give up after their patience")
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--plots", type=Path, default=None, help="directory for SVG charts")
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    config = load_hall_config(args.config)
    wl = load_workload(args.workload, config)
    if args.abandonment:
        wl = replace(wl, abandonment=True)
    plan = workload_plan(config, wl)
    if args.desks != "dedicated":
        from hallserver.staffing.advise import design_chain, pooled_counters
        from hallserver.staffing.check import demand_of

        if args.desks == "chain":
            counters = pooled_counters(config, design_chain(config, demand_of(config, wl)))
        else:
            counters = {n: (c.services[0], *[s for s in config.services if s != c.services[0]])
                        for n, c in config.counters.items()}
        plan = with_services(plan, counters, f"{args.desks} desks")
    summary = run(config, wl, plan, args.start, args.days, args.seed, args.policy, args.jobs, args.progress)
    sys.stdout.write(render(summary, config))
    if args.plots:
        args.plots.mkdir(parents=True, exist_ok=True)
        for kind in summary["queue"]:
            (args.plots / f"queue-{kind}.svg").write_text(queue_chart(summary, kind), "utf-8")
        (args.plots / "wait.svg").write_text(wait_chart(summary), "utf-8")
        print(f"charts in {args.plots}/")
    if args.json:
        args.json.write_text(json.dumps(summary, indent=1, default=str), "utf-8")
    print(f"({time.perf_counter() - t0:.2f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
