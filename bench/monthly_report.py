"""How long the monthly report takes for a month of the seed hall's volume.

    .venv/bin/python bench/monthly_report.py [--days 26] [--per-day 500] [--database-url URL]

Writes a month of tickets, their events, ratings and officer sessions straight into a fresh store
(SQLite file by default; any HALL_DATABASE_URL-style URL works), then times, through the real
HTTP app signed in as a manager: GET /reports/monthly, GET /reports?view=month and the XLSX export
of every table of the month. Prints the figures and the command.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

from fastapi.testclient import TestClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from hallserver.auth import hash_password  # noqa: E402
from hallserver.bootstrap import Runtime  # noqa: E402
from hallserver.settings import Settings, load_hall_config  # noqa: E402
from hallserver.store.accounts import Accounts  # noqa: E402
from simulators.history import working_days, write_days  # noqa: E402

MONTH = date(2026, 12, 1)


def timed(client: TestClient, path: str, runs: int) -> tuple[float, int]:
    spent = []
    for _ in range(runs):
        t = time.perf_counter()
        r = client.get(path)
        spent.append(time.perf_counter() - t)
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
    return statistics.median(spent), len(r.content)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=26)
    parser.add_argument("--per-day", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{Path(tempfile.mkdtemp()) / 'month.db'}"
    days = working_days(MONTH, args.days)
    last = days[-1]
    # the server's clock on the evening of the month's last working day
    def clock() -> datetime:
        return datetime.combine(last, datetime.min.time(), rt.service.tz).replace(hour=18)

    rt = Runtime(Settings(mqtt_url="mqtt://unused:1", database_url=url, config_path=None),
                 load_hall_config(None), clock=clock)
    rt.store.migrate()
    rt.service.load()
    t = time.perf_counter()
    rows = write_days(rt.store, rt.config, rt.service.tz, days, args.per_day)
    generated = time.perf_counter() - t
    Accounts(rt.store).create_user("bench", "Bench", "manager", hash_password("bench password 1"), clock())
    with TestClient(rt.app()) as client:
        token = client.get("/login").text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = client.post("/login", data={"username": "bench", "password": "bench password 1", "csrf": token},
                        follow_redirects=False)
        assert r.status_code == 303, r.text
        month = MONTH.strftime("%Y-%m")
        results = [(f"/reports/monthly?month={month}", *timed(client, f"/reports/monthly?month={month}", args.runs)),
                   ("/reports?view=month", *timed(client, f"/reports?view=month&day={MONTH}", args.runs)),
                   ("/reports/export/all.xlsx (month)",
                    *timed(client, f"/reports/export/all.xlsx?view=month&day={MONTH}", args.runs))]
    rt.store.close()
    print(f"$ .venv/bin/python bench/monthly_report.py --days {args.days} --per-day {args.per_day}")
    print(f"store: {url.split(':', 1)[0]}, {args.days} days x {args.per_day} tickets = {args.days * args.per_day} "
          f"tickets, {rows} rows written in {generated:.1f} s")
    for path, seconds, size in results:
        print(f"GET {path:42s} median of {args.runs}: {seconds * 1000:7.0f} ms  ({size / 1024:.0f} KiB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
