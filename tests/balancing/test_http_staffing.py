"""GET /api/staffing, its report and Erlang C, on a real store (SQLite, and PostgreSQL when set)."""

from __future__ import annotations

from datetime import date, datetime
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hallserver.http import staffing
from hallserver.settings import load_hall_config
from hallserver.staffing.erlang import figures
from hallserver.store import Store
from simulators.hallsim.run import workload_plan
from simulators.hallsim.sim import DaySim, sim_config
from simulators.hallsim.workload import load_workload

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.fixture
def client(database_url):
    store = Store(database_url)
    store.migrate()
    config = load_hall_config(None)
    rt = SimpleNamespace(service=SimpleNamespace(config=config, now=lambda: datetime(2025, 3, 17, 9, tzinfo=TZ)),
                         store=store, config=config)
    app = FastAPI()
    app.include_router(staffing.router(rt))
    with TestClient(app) as c:
        c.rt = rt
        yield c
    store.close()


def test_without_history_the_seed_workload_is_used(client):
    r = client.get("/api/staffing", params={"check": "false"})
    assert r.status_code == 200
    body = r.json()
    assert body["weekday"] == "mon" and body["source"] == "workload" and body["check"] == {}
    assert body["dedicated"]["tu-phap"]["hours"]["8"]["counters"] >= 1
    assert body["officer_hours"]["chain"] < body["officer_hours"]["dedicated"]


def test_history_is_used_once_the_hall_has_it(client):
    """A simulated Monday, stored through the real store, becomes the advice's demand."""
    config, store = client.rt.service.config, client.rt.store
    wl = load_workload(None, config)
    hall = sim_config(config)
    day = date(2025, 3, 10)
    schedule = workload_plan(config, wl).schedules["mon"]
    sim = DaySim(hall, day, wl.draw(hall, day, 1), schedule, keep_events=True)
    sim.run()
    store.ensure_hall(config.id, config.name)
    store.record(config.id, [type(e)(e.kind, e.at.replace(tzinfo=TZ), e.data) for e in sim.events])
    r = client.get("/api/staffing", params={"day": "2025-03-17", "weeks": 1, "check": "false"})
    body = r.json()
    assert r.status_code == 200 and body["source"] == "history" and body["days_observed"] == 1
    assert body["tickets"] == len(sim.record.tickets)
    report = client.get("/api/staffing/report", params={"day": "2025-03-17", "check": "false"})
    assert report.status_code == 200 and report.headers["content-type"].startswith("text/plain")
    assert "1 ngày Thứ Hai gần nhất" in report.text


def test_erlang_endpoint(client):
    r = client.get("/api/staffing/erlang", params={"rate": 30, "aht": 10, "target_time": 15, "counters": 7})
    f = figures(30, 10, 7, 15)
    assert r.json() == pytest.approx({"p_wait": f.p_wait, "wq_min": f.wq_min, "sl": f.sl, "occupancy": f.occupancy})
    r = client.get("/api/staffing/erlang", params={"rate": 30, "aht": 10, "target_time": 15, "target_sl": 0.8})
    assert r.json()["counters"] == 6
    assert client.get("/api/staffing/erlang", params={"rate": 30, "aht": 10, "target_time": 15}).status_code == 422
    assert client.get("/api/staffing", params={"target_sl": 1.5}).status_code == 422
