"""Staffing advice: counters per service and hour, the chain of cross-trained counters, the
simulation check, the Vietnamese report and the command."""

from __future__ import annotations

import json

import pytest

from hallserver.settings import load_hall_config
from hallserver.staffing.__main__ import main
from hallserver.staffing.advise import Target, chain, dedicated, design_chain, pooled_counters
from hallserver.staffing.check import advise, demand_of
from hallserver.staffing.demand import rate_per_hour
from hallserver.staffing.erlang import counters_needed
from hallserver.staffing.report import render
from simulators.hallsim.workload import load_workload


@pytest.fixture(scope="module")
def seed():
    config = load_hall_config(None)
    wl = load_workload(None, config)
    return config, wl, demand_of(config, wl)


def test_dedicated_counters_are_erlang_c_per_service_and_hour(seed):
    config, _, demand = seed
    needs = dedicated(config, demand, "tue", Target(0.8, 0.85))
    assert set(needs) == {s for s, v in demand.hourly["tue"].items() if sum(v.values())}
    for code, hours in needs.items():
        for h in hours:
            rate = rate_per_hour(config, demand, code, "tue", h.hour)
            assert h.counters == counters_needed(rate, demand.aht_min[code], config.services[code].target_wait_min,
                                                 0.8, 0.85)[0] >= 1
    # the 11:00 hour issues for 15 minutes: its rate is per issuing hour, not per clock hour
    assert rate_per_hour(config, demand, "tu-phap", "tue", 11) == pytest.approx(demand.hourly["tue"]["tu-phap"][11] * 4)


def test_the_chain_trains_each_counter_on_two_services(seed):
    config, _, demand = seed
    links = design_chain(config, demand)
    assert all(1 <= len(lk) <= 2 for lk in links)
    assert {s for lk in links for s in lk} == set(config.services)
    owners = [lk[0] for lk in links]
    assert len(owners) == len(set(owners)) == len(config.services)  # one pair per department's desks
    busy = [lk[0] for lk in links if lk[0] in {x[1] for x in links}]
    for b in busy:  # the busy services form one closed chain
        assert sum(1 for lk in links if lk[0] == b and lk[1] in busy) == 1
    quiet = [s for s in owners if s not in busy]
    assert {"van-hoa", "du-lich", "ngoai-vu", "xuc-tien"} <= set(quiet)
    desks = pooled_counters(config, links)
    assert all(desks[n][0] == c.services[0] and len(desks[n]) == 2 for n, c in config.counters.items())


def test_every_service_with_tickets_has_a_counter_every_hour(seed):
    config, _, demand = seed
    for weekday in ("mon", "sat"):
        ch = chain(config, demand, weekday)
        for hour, alloc in ch.counters.items():
            staffed = {s for j, n in enumerate(alloc) if n for s in ch.links[j]}
            active = {s for s in config.services if rate_per_hour(config, demand, s, weekday, hour) > 0}
            assert active <= staffed
            assert sum(alloc) >= ch.pooled[hour].figures.counters


def test_advice_is_checked_by_the_simulator(seed):
    config, wl, demand = seed
    a = advise(config, demand, "wed", Target(), wl, check=True, days=2)
    hours = a["officer_hours"]
    assert hours["full_pooling_floor"] <= hours["chain"] < hours["one_desk_per_department"] < hours["dedicated"]
    assert a["check"]["dedicated"]["meets_target"]
    assert a["check"]["chain"]["within_target"] >= 0.75
    assert a["source"] == "workload" and a["tickets"] == pytest.approx(sum(wl.volumes("wed").values()), rel=1e-6)
    json.dumps(a)
    text = render(config, a)
    assert "BÁO CÁO ĐỀ XUẤT BỐ TRÍ CÁN BỘ" in text and "Thứ Tư" in text and "Sở Tư pháp" in text
    assert "nhận thêm hồ sơ" in text and "Kiểm tra bằng mô phỏng" in text


def test_advise_command(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("HALL_DATABASE_URL", f"sqlite:///{tmp_path / 'h.db'}")
    monkeypatch.delenv("HALL_CONFIG", raising=False)
    assert main(["advise", "--day", "2025-03-15", "--no-check"]) == 0  # a Saturday, no history yet
    out = capsys.readouterr().out
    assert "Thứ Bảy, ngày 15/03/2025" in out and "tải mẫu" in out
    assert main(["advise", "--day", "2025-03-10", "--no-history", "--json", "--days", "1"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["weekday"] == "mon" and data["check"]["chain"]["days"] == 1
