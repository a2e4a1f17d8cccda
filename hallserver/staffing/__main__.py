"""Staffing commands.

    python -m hallserver.staffing erlang --rate R --aht M --target-time T --counters C
        JSON: p_wait, wq_min, sl, occupancy (R arrivals per hour; M, T in minutes)
    python -m hallserver.staffing erlang --rate R --aht M --target-time T --target-sl S
            [--max-occupancy O] [--shrinkage K]
        JSON: counters (to schedule), and the figures of the counters serving
    python -m hallserver.staffing advise [--day YYYY-MM-DD] [--weeks 8] [--json] [--no-check]
            [--workload FILE] [--target-sl 0.8] [--max-occupancy 0.85]
        the Vietnamese report (or JSON) for that day's weekday, from the hall's stored history
        (HALL_DATABASE_URL, HALL_CONFIG); without history, from the workload (default: the seed hall's)
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hallserver.domain.config import WEEKDAYS
from hallserver.staffing.advise import Target
from hallserver.staffing.erlang import counters_needed, figures


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def erlang_main(args: argparse.Namespace) -> int:
    if args.counters is not None:
        f = figures(args.rate, args.aht, args.counters, args.target_time)
        out = {"p_wait": f.p_wait, "wq_min": _finite(f.wq_min), "sl": f.sl, "occupancy": _finite(f.occupancy)}
    else:
        n, f = counters_needed(args.rate, args.aht, args.target_time, args.target_sl, args.max_occupancy,
                               args.shrinkage)
        out = {"counters": n, "serving": f.counters, "p_wait": f.p_wait, "wq_min": _finite(f.wq_min), "sl": f.sl,
               "occupancy": f.occupancy}
    print(json.dumps(out))
    return 0


def advise_main(args: argparse.Namespace) -> int:
    from hallserver.settings import Settings, load_hall_config
    from hallserver.staffing.check import advise, pick_demand
    from hallserver.staffing.report import render
    from hallserver.store import Store
    from hallserver.store.history import demand_from_store

    settings = Settings.from_env()
    config = load_hall_config(settings.config_path)
    day = args.day or datetime.now(ZoneInfo(config.timezone)).date()
    weekday = WEEKDAYS[day.weekday()]
    history = None
    if not args.no_history:
        store = Store(args.database_url or settings.database_url)
        try:
            store.migrate()
            history = demand_from_store(config, store.engine, day, args.weeks)
        finally:
            store.close()
    demand, workload = pick_demand(config, history, weekday, args.workload)
    target = Target(args.target_sl, args.max_occupancy, args.shrinkage)
    advice = advise(config, demand, weekday, target, workload, check=not args.no_check, days=args.days)
    if args.json:
        print(json.dumps(advice, ensure_ascii=False, indent=1))
    else:
        sys.stdout.write(render(config, advice, day))
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m hallserver.staffing", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("erlang", help="Erlang C figures (M/M/c)")
    e.add_argument("--rate", type=float, required=True, help="arrivals per hour")
    e.add_argument("--aht", type=float, required=True, help="mean handling time, minutes")
    e.add_argument("--target-time", type=float, required=True, help="target wait, minutes")
    g = e.add_mutually_exclusive_group(required=True)
    g.add_argument("--counters", type=int)
    g.add_argument("--target-sl", type=float, help="share to be served within the target time")
    e.add_argument("--max-occupancy", type=float, default=1.0)
    e.add_argument("--shrinkage", type=float, default=0.0)
    a = sub.add_parser("advise", help="staffing advice for a day (Vietnamese report)")
    a.add_argument("--day", type=date.fromisoformat, default=None, help="YYYY-MM-DD (default: today)")
    a.add_argument("--weeks", type=int, default=8, help="weeks of history to estimate from")
    a.add_argument("--database-url", default=None)
    a.add_argument("--no-history", action="store_true", help="use the workload file only")
    a.add_argument("--workload", type=Path, default=None)
    a.add_argument("--target-sl", type=float, default=0.8)
    a.add_argument("--max-occupancy", type=float, default=0.85)
    a.add_argument("--shrinkage", type=float, default=0.0)
    a.add_argument("--days", type=int, default=4, help="simulated days per check")
    a.add_argument("--no-check", action="store_true", help="skip the simulation check")
    a.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    try:
        return erlang_main(args) if args.cmd == "erlang" else advise_main(args)
    except ValueError as exc:
        ap.error(str(exc))
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
