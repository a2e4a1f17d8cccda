"""Moving a busy officer is deferred, not refused: the move is recorded at once
(`officer.move_deferred`) and carried out when their current ticket ends (done, no-show, hold or
transfer); moving them back calls it off; a target that can no longer take them drops it. The
pending move survives a replay of the day, shows on the dashboard and in the audit log."""

from __future__ import annotations

import pytest
from manager_kit import Devices, make_service

from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.settings import load_hall_config

CONFIG = load_hall_config(None, always_open=True)


def kinds(events) -> list[str]:
    return [e.kind for e in events]


@pytest.fixture
def hall(clock) -> Hall:
    h = Hall(CONFIG)
    h.roll(clock())
    h.take_ticket(clock(), "tu-phap")  # A001
    h.take_ticket(clock(), "tu-phap")  # A002
    h.login(clock(), 1, "o01", "0000")
    h.call_next(clock(), 1)  # o01 serves A001 at counter 1
    return h


@pytest.mark.parametrize("finish", ["done", "no_show", "hold", "transfer"])
def test_the_move_happens_when_the_ticket_ends(hall, clock, finish):
    events = hall.move_officer(clock(), "o01", 3, "manager")
    assert kinds(events) == ["officer.move_deferred"]
    assert events[0].data == {"officer": "o01", "counter": 3, "from": 1, "by": "manager"}
    assert (hall.counters[1].officer, hall.counters[1].current, hall.counters[3].officer) == ("o01", "A001", None)
    clock.advance(minutes=5)
    ended = {"done": lambda: hall.done(clock(), 1), "no_show": lambda: hall.no_show(clock(), 1),
             "hold": lambda: hall.hold(clock(), 1),
             "transfer": lambda: hall.transfer(clock(), 1, service="y-te")}[finish]()
    assert kinds(ended)[1:] == ["officer.logged_out", "officer.logged_in"]
    assert ended[2].data == {"officer": "o01", "counter": 3, "by": "manager"}
    assert (hall.counters[1].officer, hall.counters[3].officer, hall.pending_moves) == (None, "o01", {})
    hall.set_services(clock(), 3, ["tu-phap"])
    assert hall.call_next(clock(), 3)[0].data["number"] == "A002"


def test_moving_back_calls_it_off_and_a_closed_target_drops_it(hall, clock):
    hall.move_officer(clock(), "o01", 3)
    assert kinds(hall.move_officer(clock(), "o01", 1, "manager")) == ["officer.move_deferred"]  # back: off
    assert hall.pending_moves == {}
    assert kinds(hall.done(clock(), 1)) == ["ticket.done"] and hall.counters[1].officer == "o01"

    hall.call_next(clock(), 1)  # A002
    hall.move_officer(clock(), "o01", 3)
    hall.move_officer(clock(), "o01", 4)  # the latest move wins
    assert hall.pending_moves == {"o01": {"counter": 4, "by": None}}
    hall.close_counter(clock(), 4, "manager")
    ended = hall.done(clock(), 1)
    assert kinds(ended) == ["ticket.done", "officer.move_deferred"]
    assert ended[1].data["dropped"] == "counter_closed" and ended[1].data["counter"] is None
    assert hall.counters[1].officer == "o01" and hall.pending_moves == {}


def test_what_is_still_refused(hall, clock):
    hall.close_counter(clock(), 3, "manager")
    with pytest.raises(Refused, match="counter_closed"):
        hall.move_officer(clock(), "o01", 3)
    hall.login(clock(), 2, "o02", "0000")
    hall.call_next(clock(), 2)  # o02 serves A002 at counter 2
    with pytest.raises(Refused, match="counter_busy"):
        hall.move_officer(clock(), "o01", 2)  # the target serves with another officer
    assert hall.pending_moves == {}


def test_a_pending_move_survives_a_replay(store, clock):
    svc = make_service(store, clock)
    d = Devices(svc)
    d("kiosk-1", "ticket.take", service="tu-phap")
    d("ct-01", "officer.login", officer="o01", pin="0000")
    d("ct-01", "call.next")
    svc.command(lambda hall, now: (hall.move_officer(now, "o01", 3, "manager"), []))
    again = make_service(store, clock)  # a restart replays the day
    assert again.hall.pending_moves == {"o01": {"counter": 3, "by": "manager"}}
    Devices(again)("ct-01", "serve.done")
    assert (again.hall.counters[1].officer, again.hall.counters[3].officer) == (None, "o01")
    assert make_service(store, clock).hall.counters[3].officer == "o01"


@pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)
def test_manager_moves_a_busy_officer_from_the_dashboard(staff, server):
    d = Devices(server.service)
    d("kiosk-1", "ticket.take", service="tu-phap")
    d("ct-01", "officer.login", officer="o01", pin="0000")
    d("ct-01", "call.next")
    manager = staff.clients["manager"]
    r = manager.post("/api/manage/officers/o01/move", json={"counter": 3},
                     headers={"X-CSRF-Token": staff.csrf("manager")})
    assert r.status_code == 200 and r.json()["events"] == ["officer.move_deferred"]
    assert r.json()["after"] == {"counter": 1, "target_officer": None, "pending": 3}
    counters = {c["number"]: c for c in manager.get("/api/dashboard").json()["counters"]}
    assert (counters[1]["officer"]["id"], counters[1]["moving_to"]) == ("o01", 3)
    entry = next(a for a in staff.accounts.audit_log(server.config.id) if a.action == "officer.move")
    assert (entry.before["pending"], entry.after["pending"]) == (None, 3)
    d("ct-01", "serve.done")
    counters = {c["number"]: c for c in manager.get("/api/dashboard").json()["counters"]}
    assert (counters[1]["officer"], counters[3]["officer"]["id"], counters[3]["moving_to"]) == (None, "o01", None)
