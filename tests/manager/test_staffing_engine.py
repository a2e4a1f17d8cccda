"""The engine's staffing commands (pure, no I/O): which services a counter serves, opening and
closing a counter, moving an officer; each effective at the counter's next call, each replayable."""

from __future__ import annotations

from datetime import datetime

import pytest
from manager_kit import TZ, Clock

from hallserver.domain import views
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.settings import load_hall_config

CONFIG = load_hall_config(None, always_open=True)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 8, 0, tzinfo=TZ))


@pytest.fixture
def hall(clock) -> Hall:
    h = Hall(CONFIG)
    h.roll(clock())
    return h


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def refused(code: str, fn, *args) -> None:
    with pytest.raises(Refused) as info:
        fn(*args)
    assert info.value.code == code


def test_new_services_apply_at_the_next_call(hall, clock):
    hall.take_ticket(clock(), "tu-phap")  # A001
    clock.advance(minutes=1)
    hall.take_ticket(clock(), "y-te")
    hall.login(clock(), 1, "o01", "0000")
    assert kinds(hall.set_services(clock(), 1, ["y-te", "tu-phap"])) == ["counter.services_set"]
    assert hall.set_services(clock(), 1, ["y-te", "tu-phap"]) == []  # no change, no event
    hall.call_next(clock(), 1)
    hall.done(clock(), 1)
    hall.set_services(clock(), 1, ["y-te"])
    called = hall.call_next(clock(), 1)[0].data["number"]
    assert hall.tickets[called].service == "y-te"
    hall.done(clock(), 1)
    refused("queue_empty", hall.call_next, clock(), 1)  # the only waiting ticket is a service it dropped
    refused("unknown_service", hall.set_services, clock(), 1, ["khong-co"])


def test_closing_an_idle_counter_logs_its_officer_out(hall, clock):
    hall.login(clock(), 1, "o01", "0000")
    events = hall.close_counter(clock(), 1, "manager")
    assert kinds(events) == ["counter.closed", "officer.logged_out"]
    assert events[1].data["reason"] == "counter_closed"
    assert hall.counters[1].status == "closed"
    assert hall.close_counter(clock(), 1) == []
    refused("counter_closed", hall.login, clock(), 1, "o01", "0000")
    refused("counter_closed", hall.move_officer, clock(), "o01", 1)
    assert kinds(hall.open_counter(clock(), 1, "manager")) == ["counter.opened"]
    assert hall.open_counter(clock(), 1) == []
    assert kinds(hall.login(clock(), 1, "o01", "0000")) == ["officer.logged_in"]
    assert hall.counters[1].status == "open"


def test_closing_a_busy_counter_takes_effect_at_its_next_call(hall, clock):
    hall.take_ticket(clock(), "tu-phap")
    hall.take_ticket(clock(), "tu-phap")
    hall.login(clock(), 1, "o01", "0000")
    hall.call_next(clock(), 1)
    assert kinds(hall.close_counter(clock(), 1)) == ["counter.closed"]
    assert hall.counters[1].status == "open"  # still serving A001: the LED keeps the number
    hall.done(clock(), 1)
    assert hall.counters[1].status == "closed"
    refused("counter_closed", hall.call_next, clock(), 1)
    assert kinds(hall.logout(clock(), 1)) == ["officer.logged_out"]


def test_moving_an_officer(hall, clock):
    hall.take_ticket(clock(), "tu-phap")
    hall.login(clock(), 1, "o01", "0000")
    events = hall.move_officer(clock(), "o01", 2, "manager")
    assert kinds(events) == ["officer.logged_out", "officer.logged_in"]
    assert events[0].data == {"officer": "o01", "counter": 1, "reason": "moved"}
    assert events[1].data == {"officer": "o01", "counter": 2, "by": "manager"}
    assert (hall.counters[1].officer, hall.counters[2].officer) == (None, "o01")
    assert hall.move_officer(clock(), "o01", 2) == []
    # an officer not logged in anywhere is seated, like a login without PIN
    assert kinds(hall.move_officer(clock(), "o05", 1)) == ["officer.logged_in"]
    hall.call_next(clock(), 2)
    # serving at counter 2: the move waits for the ticket to end (tests/manager/test_deferred_move.py)
    assert kinds(hall.move_officer(clock(), "o01", 3)) == ["officer.move_deferred"]
    assert hall.counters[2].officer == "o01"
    refused("counter_busy", hall.move_officer, clock(), "o05", 2)
    refused("unknown_officer", hall.move_officer, clock(), "nobody", 3)
    refused("unknown_counter", hall.move_officer, clock(), "o05", 999)
    # replacing an idle officer at the target counter logs them out
    assert kinds(hall.move_officer(clock(), "o06", 1)) == ["officer.logged_out", "officer.logged_in"]
    assert kinds(hall.done(clock(), 2)) == ["ticket.done", "officer.logged_out", "officer.logged_in"]
    assert (hall.counters[2].officer, hall.counters[3].officer) == (None, "o01")


def test_first_call_and_idle_time_are_kept(hall, clock):
    hall.take_ticket(clock(), "tu-phap")
    hall.login(clock(), 1, "o01", "0000")
    assert hall.counters[1].idle_since == clock()
    clock.advance(minutes=3)
    hall.call_next(clock(), 1)
    first = clock()
    assert hall.counters[1].idle_since is None
    clock.advance(minutes=2)
    hall.transfer(clock(), 1, service="y-te")
    assert hall.counters[1].idle_since == clock()
    hall.login(clock(), 2, "o02", "0000")
    hall.set_services(clock(), 2, ["y-te"])
    clock.advance(minutes=1)
    hall.call_next(clock(), 2)
    assert hall.tickets["A001"].first_called_at == first  # the wait ended at the first call


def test_staffing_events_replay_exactly(hall, clock):
    log = []
    log += hall.take_ticket(clock(), "tu-phap")
    log += hall.take_ticket(clock(), "y-te")
    log += hall.login(clock(), 1, "o01", "0000")
    log += hall.login(clock(), 3, "o03", "0000")
    clock.advance(minutes=1)
    log += hall.set_services(clock(), 1, ["y-te", "tu-phap"])
    log += hall.call_next(clock(), 1)
    log += hall.close_counter(clock(), 1, "m")
    log += hall.close_counter(clock(), 4, "m")
    log += hall.move_officer(clock(), "o03", 2, "m")
    log += hall.done(clock(), 1)
    log += hall.open_counter(clock(), 4, "m")
    again = Hall(CONFIG)
    for e in log:
        again.apply(e)
    assert again.counters == hall.counters
    assert again.tickets == hall.tickets
    assert views.board(again, clock()) == views.board(hall, clock())
    for device in CONFIG.devices.values():
        assert views.device_state(again, device, clock()) == views.device_state(hall, device, clock())
