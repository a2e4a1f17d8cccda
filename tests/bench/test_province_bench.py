"""The province benchmark's parts, end to end and small: a generated province of 3 halls x 4
counters served by `python -m hallserver` over a real Mosquitto, driven a few seconds by the load
generator (logins, a compressed day, the closed loop) and the call probe. Checks that replies
arrive and that what the server acknowledged is what its store holds, hall by hall; no timing."""

from __future__ import annotations

import sqlite3
import uuid
from pathlib import Path

import pytest
from support.require import require_binary

from bench.province.fleet import Driver, Fleet
from bench.province.generate import generate, load_province
from bench.province.procs import HallServer, quiet_mosquitto
from bench.province.workload import Lanes, Probe, ProvinceDay, login_all

pytestmark = pytest.mark.slow

TYPES = ("ticket.take", "call.next", "serve.done", "rating.vote")


def test_generated_province_parses(tmp_path: Path) -> None:
    province = generate(tmp_path, halls=4, counters=5, tag="gen")
    halls = load_province(province)
    assert [h.id for h in halls] == ["gen-tinh", "gen-xa-001", "gen-xa-002", "gen-xa-003"]
    for h in halls:
        assert sorted(h.counters) == [1, 2, 3, 4, 5]
        assert h.officers == {n: f"o{n:03d}" for n in range(1, 6)}
        assert 1 <= len(h.dispensers) <= 2
        assert h.services and all(any(s in c for c in h.counters.values()) for s in h.services)


def test_load_generator_against_the_server(tmp_path: Path) -> None:
    require_binary("mosquitto", "mosquitto")
    province = generate(tmp_path / "province", halls=3, counters=4, tag=f"t{uuid.uuid4().hex[:8]}")
    halls = load_province(province)
    db = tmp_path / "hall.db"
    broker = quiet_mosquitto(tmp_path)
    broker.start()
    server = fleet = probe = None
    try:
        server = HallServer(province, broker.url, f"sqlite:///{db}", tmp_path / "server.log").start(timeout=120)
        fleet = Fleet(broker.url, [h.id for h in halls], connections=2).start()
        driver = Driver(fleet, timeout=15)
        assert login_all(driver, halls, window=8, seconds=60) == 12
        probe = Probe(broker.url, halls[0], 1).start()
        probe.run(3, interval=0)
        skip = frozenset({(halls[0].id, 1)})
        day = ProvinceDay(driver, halls, speed=240, skip=skip)
        day.start()
        driver.run(4)
        day.stop()
        driver.run(20, until_idle=True)
        lanes = Lanes(driver, halls, lanes=6, skip=skip)
        lanes.start()
        driver.run(2)
        lanes.stop()
        driver.run(20, until_idle=True)
    finally:
        if probe is not None:
            probe.close()
        if fleet is not None:
            fleet.close()
        if server is not None:
            server.stop()
        broker.stop()
    assert "Traceback" not in server.output()
    stats = driver.stats
    assert not stats.lost and not driver.pending
    assert probe.samples and probe.taken == probe.called == probe.done == 3
    for t in TYPES:
        assert stats.ok[t] > 0, (t, stats.ok, stats.refused)
    assert {code for (_, code) in stats.refused} <= {"queue_empty", "counter_busy"}, stats.refused

    con = sqlite3.connect(db)

    def count(sql: str, hall: str) -> int:
        return con.execute(sql, (hall,)).fetchone()[0]

    for h in halls:
        extra = probe.taken if h.id == halls[0].id else 0  # the probe's own tickets
        ok = {t: stats.per_hall[(h.id, t, True)] for t in TYPES}
        assert count("SELECT count(*) FROM tickets WHERE hall = ?", h.id) == ok["ticket.take"] + extra
        assert count("SELECT count(*) FROM tickets WHERE hall = ? AND first_called_at IS NOT NULL",
                     h.id) == ok["call.next"] + extra
        done = count("SELECT count(*) FROM tickets WHERE hall = ? AND status = 'done'", h.id)
        assert done == ok["serve.done"] + extra
        assert count("SELECT count(*) FROM ratings WHERE hall = ?", h.id) == ok["rating.vote"]
        assert count("SELECT count(*) FROM officer_sessions WHERE hall = ?", h.id) == 4
    con.close()
