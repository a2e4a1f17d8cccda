"""The whole-day simulator: the seed workload's shape, reproducibility, the real engine's
figures, schedules, breaks, abandonment, speed, charts and the command."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import replace
from datetime import date, timedelta

import pytest

from hallserver.domain.config import WEEKDAYS
from hallserver.settings import load_hall_config
from simulators.hallsim.__main__ import main
from simulators.hallsim.plot import queue_chart, wait_chart
from simulators.hallsim.run import run, workload_plan
from simulators.hallsim.workload import WorkloadError, load_workload, parse_workload

MONDAY = date(2025, 3, 3)


@pytest.fixture(scope="module")
def hall():
    config = load_hall_config(None)
    return config, load_workload(None, config)


def test_seed_workload_is_the_seed_hall(hall):
    config, wl = hall
    week = {wd: wl.volumes(wd) for wd in WEEKDAYS}
    weekday_mean = sum(sum(week[wd].values()) for wd in WEEKDAYS[:5]) / 5
    assert 480 <= weekday_mean <= 520
    assert len([s for s, v in week["tue"].items() if v > 0]) >= 20
    assert min(week["tue"].values()) <= 1 and max(week["tue"].values()) >= 50  # one a day vs dozens
    shares = wl.hour_shares("tue")
    assert shares[8] + shares[9] > shares[14] + shares[15]  # the morning peak
    assert 0 < sum(week["sat"].values()) < weekday_mean / 2 and not week["sun"]  # Saturday morning only
    assert wl.staff["sat"].counters and all(n in config.counters for n in wl.staff["sat"].counters)
    days = [wl.draw(config, MONDAY + timedelta(days=k), 7) for k in range(1, 4)]
    assert all(420 <= len(d) <= 600 for d in days)
    assert all(60 * 7 <= a.at_s / 60 <= 60 * 16.5 for d in days for a in d)


def test_same_seed_same_figures_on_any_number_of_processes(hall):
    config, wl = hall
    plan = workload_plan(config, wl)
    one = run(config, wl, plan, MONDAY, 3, seed=5)
    again = run(config, wl, plan, MONDAY, 3, seed=5, jobs=2)
    other = run(config, wl, plan, MONDAY, 3, seed=6)
    assert one == again
    assert one["overall"] != other["overall"]


def test_a_day_of_the_seed_hall(hall):
    config, wl = hall
    started = time.perf_counter()
    s = run(config, wl, workload_plan(config, wl), MONDAY, 1, seed=1)
    assert time.perf_counter() - started < 2.0
    assert s["tickets"] == s["served"] + s["no_show"] and s["unserved"] == 0 and s["refused"] == 0
    assert 0 < s["no_show"] < s["tickets"] * 0.1
    o = s["overall"]
    assert 0 <= o["p50_min"] <= o["p90_min"] <= o["max_min"] and 0 < o["within_target"] <= 1
    assert set(s["services"]) <= set(config.services) and len(s["services"]) >= 18
    assert len(s["counters"]) == len(config.counters)
    util = [v["utilisation"] for v in s["counters"].values()]
    assert max(util) > 0.5 and min(util) < 0.1  # the imbalance of dedicated desks
    for n, v in s["counters"].items():  # an officer's duty includes the breaks
        assert s["officers"][f"sim-{n}"]["utilisation"] <= v["utilisation"] + 1e-9
    assert max(s["queue"]["weekday"]["waiting"]["*"]) > 0


def test_saturday_staffs_only_the_scheduled_counters(hall):
    config, wl = hall
    s = run(config, wl, workload_plan(config, wl), MONDAY + timedelta(days=5), 1, seed=1)
    assert set(s["counters"]) == set(wl.staff["sat"].counters)
    assert s["unserved"] == 0 and "sat" in s["queue"]


def test_abandonment_shows_as_no_shows(hall):
    config, wl = hall
    impatient = replace(wl, abandonment=True, patience_mean_min=3, no_show=0.0)
    s = run(config, impatient, workload_plan(config, impatient), MONDAY, 1, seed=1)
    assert s["abandoned"] > 0 and s["no_show"] == s["abandoned"]


def test_a_month_in_well_under_a_minute(hall):
    config, wl = hall
    started = time.perf_counter()
    s = run(config, wl, workload_plan(config, wl), date(2025, 3, 1), 31, seed=1, jobs=2)
    assert time.perf_counter() - started < 60
    assert s["days"] == 26  # Sundays closed


def test_workload_errors_name_the_entry(hall):
    config, _ = hall
    with pytest.raises(WorkloadError, match="arrivals.daily"):
        parse_workload({"arrivals": {"profile": {"weekday": {"8": 1}}}})
    with pytest.raises(WorkloadError, match="weekday"):
        parse_workload({"arrivals": {"daily": {"a": 1}, "profile": {}}})
    with pytest.raises(WorkloadError, match="fri-day"):
        parse_workload({"arrivals": {"daily": {"a": 1}, "profile": {"weekday": {"8": 1}},
                                     "weekday_factor": {"fri-day": 1}}})


def test_charts_and_command(hall, tmp_path, capsys):
    config, wl = hall
    s = run(config, wl, workload_plan(config, wl), MONDAY, 1, seed=1)
    for svg in (queue_chart(s), wait_chart(s)):
        assert ET.fromstring(svg).tag.endswith("svg") and "polyline" in svg
    assert main(["--days", "2", "--desks", "chain", "--policy", "sla", "--plots", str(tmp_path),
                 "--json", str(tmp_path / "out.json")]) == 0
    out = capsys.readouterr().out
    assert "policy: sla" in out and "counter utilisation" in out
    assert {p.name for p in tmp_path.iterdir()} >= {"queue-weekday.svg", "wait.svg", "out.json"}
