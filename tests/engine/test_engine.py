"""Unit tests of the hall engine: every transition, every refusal, and the views' shapes."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from pathlib import Path

import pytest

from hallserver.domain import engine as engine_module
from hallserver.domain import views
from hallserver.domain.config import Device
from hallserver.domain.engine import LOGIN_FAILURES, LOGIN_WINDOW, RECENT_CALLS, RETAIN, Hall
from hallserver.domain.model import CALLED, DONE, HELD, NO_SHOW, WAITING, Refused, Retired, Ticket
from protocols.errors import MESSAGES

ELDER = "nguoi-cao-tuoi"


def refused(code: str, fn, *args, **kwargs) -> Refused:
    with pytest.raises(Refused) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, (info.value.code, info.value.detail)
    return info.value


def kinds(events) -> list[str]:
    return [e.kind for e in events]


def issue(hall: Hall, clock, service: str = "tu-phap", n: int = 1, priority: str | None = None) -> list[str]:
    """Take n tickets one second apart; their numbers."""
    numbers = []
    for _ in range(n):
        clock.advance(seconds=1)
        (e,) = hall.take_ticket(clock(), service, priority=priority)
        numbers.append(e.data["number"])
    return numbers


def open_counter(hall: Hall, clock, counter: int = 1, officer: str | None = None) -> None:
    hall.login(clock(), counter, officer or f"o{counter}", "1234")


def call(hall: Hall, clock, counter: int = 1, ticket: str | None = None) -> str:
    clock.advance(seconds=1)
    events = hall.call_next(clock(), counter, ticket=ticket)
    assert kinds(events) == ["ticket.called"]
    return events[0].data["number"]


# ------------------------------------------------------------------------------ refusal table
def test_every_refusal_code_has_a_message():
    source = Path(engine_module.__file__).read_text()
    codes = set(re.findall(r'Refused\("([a-z_]+)"', source))
    assert codes and codes <= set(MESSAGES), codes - set(MESSAGES)


# ------------------------------------------------------------------------------ numbering
def test_numbers_carry_prefix_and_width_per_service(hall, clock):
    assert issue(hall, clock, "tu-phap", 3) == ["A001", "A002", "A003"]
    assert issue(hall, clock, "xay-dung", 2) == ["B001", "B002"]
    assert issue(hall, clock, "tu-phap") == ["A004"]
    assert hall.issued == {"tu-phap": 4, "xay-dung": 2, "tra-ket-qua": 0}


def test_issued_event_shape(hall, clock):
    events = hall.take_ticket(clock(), "tu-phap", priority=ELDER, token="tok123", device="kiosk")
    assert kinds(events) == ["ticket.issued"]
    assert events[0].at == clock()
    assert events[0].data == {"number": "A001", "service": "tu-phap", "priority": ELDER, "seq": 1,
                              "token": "tok123", "device": "kiosk"}
    t = hall.tickets["A001"]
    assert (t.status, t.service, t.priority, t.token, t.issued_at, t.queued_at) == (
        WAITING, "tu-phap", ELDER, "tok123", clock(), clock())


def test_number_width_is_configurable(make_hall, clock):
    hall = make_hall(number_width=5)
    assert issue(hall, clock, "tu-phap", 2) == ["A00001", "A00002"]


def test_numbers_past_the_width_are_refused(make_hall, clock):
    """With width 1, A9 is the last number; A10 would break the width (and could equal another prefix's)."""
    hall = make_hall(number_width=1)
    assert issue(hall, clock, "tu-phap", 9)[-1] == "A9"
    refused("daily_cap_reached", hall.take_ticket, clock(), "tu-phap")


def test_numbers_never_collide_across_prefixes(raw, make_hall, clock):
    """Prefixes A and A1: without a width limit A + 101 and A1 + 01 are both "A101"."""
    raw["hall"].update(number_width=2, always_open=True)
    raw["services"][1]["prefix"] = "A1"
    raw["services"][1].pop("daily_cap")
    hall = make_hall(raw)
    assert issue(hall, clock, "xay-dung") == ["A101"]
    issued = 1
    for _ in range(120):
        try:
            hall.take_ticket(clock(), "tu-phap")
            issued += 1
        except Refused as exc:
            assert exc.code == "daily_cap_reached"
    assert len(hall.tickets) == issued
    assert hall.tickets["A101"].service == "xay-dung"


def test_a_new_date_restarts_numbers_and_empties_the_day(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    hall.done(clock(), 1)
    clock.advance(days=1)
    assert hall.take_ticket(clock(), "tu-phap")[0].data["number"] == "A001"
    assert list(hall.tickets) == ["A001"]
    assert hall.counters[1].officer is None and hall.counters[1].current is None
    assert hall.armed == {} and not hall.recent and hall.call_seq == 0
    assert hall.day == clock().date()


def test_roll_and_tick_report_a_closed_day(hall, clock):
    assert hall.roll(clock()) is False  # opening the first day closes nothing
    issue(hall, clock)
    assert hall.roll(clock()) is False
    rolled, events = hall.tick(clock() + timedelta(days=1))
    assert rolled is True and events == []
    assert hall.tickets == {}


def test_daily_cap(hall, clock):
    assert issue(hall, clock, "xay-dung", 3) == ["B001", "B002", "B003"]
    err = refused("daily_cap_reached", hall.take_ticket, clock(), "xay-dung")
    assert err.detail == "xay-dung" and err.events == []
    assert issue(hall, clock, "tu-phap") == ["A001"]  # other services are not capped
    clock.advance(days=1)
    assert issue(hall, clock, "xay-dung") == ["B001"]


def test_cap_counts_issued_tickets_not_waiting_ones(hall, clock):
    issue(hall, clock, "xay-dung", 3)
    open_counter(hall, clock, 2)
    call(hall, clock, 2)
    hall.done(clock(), 2)
    refused("daily_cap_reached", hall.take_ticket, clock(), "xay-dung")


# ------------------------------------------------------------------------------ take_ticket refusals
def test_take_ticket_refusals(raw, make_hall, clock):
    raw["services"][0]["enabled"] = False
    hall = make_hall(raw)
    refused("unknown_service", hall.take_ticket, clock(), "khong-co")
    refused("unknown_priority", hall.take_ticket, clock(), "xay-dung", priority="vip")
    refused("service_closed", hall.take_ticket, clock(), "tu-phap")
    assert hall.tickets == {}


def test_priority_needs_a_configured_category(raw, make_hall, clock):
    raw["priority"]["categories"] = []
    hall = make_hall(raw)
    refused("unknown_priority", hall.take_ticket, clock(), "tu-phap", priority=ELDER)
    assert issue(hall, clock, "tu-phap") == ["A001"]


# ------------------------------------------------------------------------------ hours
@pytest.mark.parametrize(("day", "hh", "mm", "ss", "is_open"), [
    (0, 6, 59, 59, False), (0, 7, 0, 0, True), (0, 11, 14, 59, True), (0, 11, 15, 0, False),
    (0, 12, 0, 0, False), (0, 13, 15, 0, True), (0, 16, 29, 0, True), (0, 16, 30, 0, False),
    (4, 15, 0, 0, True),  # Friday afternoon
    (5, 8, 0, 0, True), (5, 11, 15, 0, False), (5, 14, 0, 0, False),  # Saturday morning only
    (6, 9, 0, 0, False),  # Sunday
])
def test_issuing_hours_per_weekday(hall, clock, day, hh, mm, ss, is_open):
    now = clock.at(hh, mm, ss, days=day)
    assert hall.is_open_for_tickets("tu-phap", now) is is_open
    if is_open:
        assert hall.take_ticket(now, "tu-phap")[0].data["number"] == "A001"
    else:
        refused("outside_hours", hall.take_ticket, now, "tu-phap")


def test_saturday_can_be_switched_off(raw, make_hall, clock):
    del raw["hall"]["hours"]["sat"]
    hall = make_hall(raw)
    refused("outside_hours", hall.take_ticket, clock.at(8, days=5), "tu-phap")


def test_service_hours_override_the_hall(hall, clock):
    refused("outside_hours", hall.take_ticket, clock.at(7, 15), "tra-ket-qua")  # opens 07:30
    assert hall.take_ticket(clock.at(12, 0), "tra-ket-qua")  # no lunch break for returns
    refused("outside_hours", hall.take_ticket, clock.at(8, 0, days=5), "tra-ket-qua")  # no Saturday
    assert hall.take_ticket(clock(), "tu-phap")


def test_always_open_ignores_hours(make_hall, clock):
    hall = make_hall(always_open=True)
    assert hall.take_ticket(clock.at(3, 0, days=6), "tra-ket-qua")[0].data["number"] == "Z001"


def test_dispenser_shows_which_services_issue_now(raw, make_hall, clock):
    raw["services"][1]["enabled"] = False
    hall = make_hall(raw)
    kiosk = hall.config.devices["kiosk"]
    state = views.device_state(hall, kiosk, clock.at(7, 15))
    assert [(row["code"], row["open"]) for row in state["services"]] == [
        ("tu-phap", True), ("xay-dung", False), ("tra-ket-qua", False)]
    state = views.device_state(hall, kiosk, clock.at(12, 0))
    assert [row["open"] for row in state["services"]] == [False, False, True]


# ------------------------------------------------------------------------------ login / logout
def test_login_opens_the_counter(hall, clock):
    events = hall.login(clock(), 1, "o1", "1234")
    assert kinds(events) == ["officer.logged_in"]
    assert events[0].data == {"officer": "o1", "counter": 1}
    assert hall.counters[1].officer == "o1" and hall.counters[1].status == "open"
    state = views.device_state(hall, hall.config.devices["ct-1"], clock())
    assert state["officer"] == {"id": "o1", "name": "Nguyễn Văn An"} and state["status"] == "open"


def test_login_again_at_the_same_counter_changes_nothing(hall, clock):
    open_counter(hall, clock, 1)
    assert hall.login(clock(), 1, "o1", "1234") == []


def test_wrong_pin_is_recorded(hall, clock):
    err = refused("wrong_pin", hall.login, clock(), 1, "o1", "9999")
    assert kinds(err.events) == ["officer.login_failed"]
    assert err.events[0].data == {"officer": "o1", "counter": 1}
    assert hall.login_failures["o1"] == [clock()]
    assert hall.counters[1].officer is None


def test_unknown_officer_is_a_wrong_pin(hall, clock):
    err = refused("wrong_pin", hall.login, clock(), 1, "nobody", "1234")
    assert kinds(err.events) == ["officer.login_failed"]


def test_login_at_unknown_counter(hall, clock):
    refused("unknown_counter", hall.login, clock(), 99, "o1", "1234")


def test_login_replaces_the_officer_of_a_free_counter(hall, clock):
    open_counter(hall, clock, 1, "o1")
    events = hall.login(clock(), 1, "o2", "1234")
    assert [(e.kind, e.data) for e in events] == [
        ("officer.logged_out", {"officer": "o1", "counter": 1, "reason": "replaced"}),
        ("officer.logged_in", {"officer": "o2", "counter": 1}),
    ]
    assert hall.counters[1].officer == "o2"


def test_login_does_not_replace_a_busy_officer(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1, "o1")
    number = call(hall, clock, 1)
    err = refused("counter_busy", hall.login, clock(), 1, "o2", "1234")
    assert err.detail == number
    assert hall.counters[1].officer == "o1"


def test_login_moves_an_officer_who_forgot_to_log_out(hall, clock):
    open_counter(hall, clock, 1, "o1")
    events = hall.login(clock(), 2, "o1", "1234")
    assert [(e.kind, e.data) for e in events] == [
        ("officer.logged_out", {"officer": "o1", "counter": 1, "reason": "moved"}),
        ("officer.logged_in", {"officer": "o1", "counter": 2}),
    ]
    assert hall.counters[1].status == "closed" and hall.counters[2].officer == "o1"


def test_login_does_not_move_an_officer_busy_elsewhere(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1, "o1")
    call(hall, clock, 1)
    err = refused("officer_busy", hall.login, clock(), 2, "o1", "1234")
    assert err.detail == "1"
    assert hall.counters[2].officer is None


def test_login_replaces_and_moves_at_once(hall, clock):
    open_counter(hall, clock, 1, "o1")
    open_counter(hall, clock, 2, "o2")
    events = hall.login(clock(), 2, "o1", "1234")
    assert [(e.kind, e.data.get("reason")) for e in events] == [
        ("officer.logged_out", "replaced"), ("officer.logged_out", "moved"), ("officer.logged_in", None)]
    assert hall.counters[1].officer is None and hall.counters[2].officer == "o1"
    assert hall.counter_of_officer("o2") is None


def test_login_throttling(hall, clock):
    for _ in range(LOGIN_FAILURES):
        refused("wrong_pin", hall.login, clock(), 1, "o1", "0000")
        clock.advance(seconds=10)
    err = refused("too_many_attempts", hall.login, clock(), 1, "o1", "1234")  # even the right PIN
    assert err.events == [] and len(hall.login_failures["o1"]) == LOGIN_FAILURES
    assert hall.login(clock(), 2, "o2", "1234")  # per officer id
    first_failure = clock() - timedelta(seconds=10 * LOGIN_FAILURES)
    clock.now = first_failure + LOGIN_WINDOW - timedelta(seconds=1)
    refused("too_many_attempts", hall.login, clock(), 1, "o1", "1234")
    clock.now = first_failure + LOGIN_WINDOW
    assert kinds(hall.login(clock(), 1, "o1", "1234")) == ["officer.logged_in"]


def test_failures_spread_over_time_do_not_lock(hall, clock):
    for _ in range(2 * LOGIN_FAILURES):
        refused("wrong_pin", hall.login, clock(), 1, "o1", "0000")
        clock.advance(minutes=2)
    assert hall.login(clock(), 1, "o1", "1234")


def test_logout(hall, clock):
    refused("not_logged_in", hall.logout, clock(), 1)
    refused("unknown_counter", hall.logout, clock(), 42)
    open_counter(hall, clock, 1)
    events = hall.logout(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [
        ("officer.logged_out", {"officer": "o1", "counter": 1, "reason": "logout"})]
    assert hall.counters[1].status == "closed"


def test_logout_refused_while_serving(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1)
    number = call(hall, clock, 1)
    assert refused("counter_busy", hall.logout, clock(), 1).detail == number


# ------------------------------------------------------------------------------ call_next
def test_call_next_refusals(hall, clock):
    refused("unknown_counter", hall.call_next, clock(), 9)
    refused("not_logged_in", hall.call_next, clock(), 1)
    open_counter(hall, clock, 1)
    refused("queue_empty", hall.call_next, clock(), 1)
    issue(hall, clock, "tu-phap", 2)
    refused("unknown_ticket", hall.call_next, clock(), 1, ticket="A002")  # not held here
    call(hall, clock, 1)
    refused("counter_busy", hall.call_next, clock(), 1)
    hall.done(clock(), 1)
    hall.pause(clock(), 1)
    refused("counter_paused", hall.call_next, clock(), 1)


def test_call_next_calls_the_oldest_of_the_counters_services(hall, clock):
    issue(hall, clock, "xay-dung")
    issue(hall, clock, "tu-phap")
    issue(hall, clock, "tra-ket-qua")
    open_counter(hall, clock, 1)
    events = hall.call_next(clock.advance(seconds=5), 1)
    assert [(e.kind, e.data) for e in events] == [
        ("ticket.called", {"number": "B001", "counter": 1, "officer": "o1", "from_hold": False})]
    t = hall.tickets["B001"]
    assert (t.status, t.counter, t.officer, t.called_at) == (CALLED, 1, "o1", clock())
    assert hall.counters[1].current == "B001"
    hall.done(clock(), 1)
    assert call(hall, clock, 1) == "A001"
    hall.done(clock(), 1)
    refused("queue_empty", hall.call_next, clock(), 1)  # Z001 is not counter 1's
    assert hall.tickets["Z001"].status == WAITING


def test_a_counter_only_gets_its_services(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 2)  # xay-dung only
    refused("queue_empty", hall.call_next, clock(), 2)


def test_a_call_is_announced(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    led = views.device_state(hall, hall.config.devices["led-1"], clock())
    assert led == {"v": 1, "kind": "led", "counter": 1, "number": "A001", "status": "open", "call_seq": 1}
    board = views.board(hall, clock())
    assert board["recent"][0] == {"v": 1, "seq": 1, "number": "A001", "counter": 1, "counter_name": "Quầy 1",
                                  "service": "tu-phap", "recall": 0, "at": clock().isoformat(timespec="seconds")}


def test_recent_calls_are_bounded(make_hall, clock):
    hall = make_hall(always_open=True)
    issue(hall, clock, "tu-phap", RECENT_CALLS + 3)
    open_counter(hall, clock, 1)
    for _ in range(RECENT_CALLS + 3):
        call(hall, clock, 1)
        hall.done(clock(), 1)
    assert len(hall.recent) == RECENT_CALLS
    assert hall.recent[0].number == f"A{RECENT_CALLS + 3:03d}"


# ------------------------------------------------------------------------------ recall / no-show / done
def test_recall(hall, clock):
    refused("not_logged_in", hall.recall, clock(), 1)
    open_counter(hall, clock, 1)
    refused("no_current_ticket", hall.recall, clock(), 1)
    issue(hall, clock)
    call(hall, clock, 1)
    events = hall.recall(clock.advance(seconds=30), 1)
    assert [(e.kind, e.data) for e in events] == [("ticket.recalled", {"number": "A001", "counter": 1})]
    assert hall.tickets["A001"].recalls == 1 and hall.tickets["A001"].status == CALLED
    assert hall.counters[1].call_seq == 2 and hall.call_seq == 2
    assert hall.recent[0].recall == 1 and hall.recent[0].at == clock()


def test_recall_limit_makes_a_no_show(hall, clock):
    assert hall.config.recall_limit == 2
    issue(hall, clock)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    assert kinds(hall.recall(clock(), 1)) == ["ticket.recalled"]
    assert kinds(hall.recall(clock(), 1)) == ["ticket.recalled"]
    events = hall.recall(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [
        ("ticket.no_show", {"number": "A001", "counter": 1, "officer": "o1", "reason": "recall_limit"})]
    assert hall.tickets["A001"].status == NO_SHOW and hall.counters[1].current is None


def test_recall_limit_zero(make_hall, clock):
    hall = make_hall(recall_limit=0)
    issue(hall, clock)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    assert kinds(hall.recall(clock(), 1)) == ["ticket.no_show"]


def test_no_show(hall, clock):
    refused("not_logged_in", hall.no_show, clock(), 1)
    open_counter(hall, clock, 1)
    refused("no_current_ticket", hall.no_show, clock(), 1)
    issue(hall, clock)
    call(hall, clock, 1)
    events = hall.no_show(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [
        ("ticket.no_show", {"number": "A001", "counter": 1, "officer": "o1", "reason": "officer"})]
    assert hall.tickets["A001"].status == NO_SHOW
    assert hall.counters[1].current is None and hall.counters[1].served == 0
    assert hall.armed == {}


def test_done(hall, clock):
    refused("not_logged_in", hall.done, clock(), 1)
    open_counter(hall, clock, 1)
    refused("no_current_ticket", hall.done, clock(), 1)
    issue(hall, clock)
    call(hall, clock, 1)
    events = hall.done(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [("ticket.done", {"number": "A001", "counter": 1, "officer": "o1"})]
    assert hall.tickets["A001"].status == DONE
    assert hall.counters[1].current is None and hall.counters[1].served == 1


# ------------------------------------------------------------------------------ hold
def test_hold_and_call_back(hall, clock):
    refused("not_logged_in", hall.hold, clock(), 1)
    open_counter(hall, clock, 1)
    refused("no_current_ticket", hall.hold, clock(), 1)
    issue(hall, clock, "tu-phap", 2)
    call(hall, clock, 1)
    events = hall.hold(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [("ticket.held", {"number": "A001", "counter": 1})]
    t = hall.tickets["A001"]
    assert (t.status, t.counter) == (HELD, 1)
    assert hall.counters[1].current is None and hall.counters[1].held == ["A001"]
    assert views.ticket_status(t, hall, clock())["counter"] == 1
    # a plain call skips held tickets
    assert call(hall, clock, 1) == "A002"
    refused("counter_busy", hall.call_next, clock(), 1, ticket="A001")
    hall.hold(clock(), 1)
    assert hall.counters[1].held == ["A001", "A002"]
    refused("queue_empty", hall.call_next, clock(), 1)
    # held tickets belong to their counter
    open_counter(hall, clock, 4)
    refused("unknown_ticket", hall.call_next, clock(), 4, ticket="A001")
    events = hall.call_next(clock(), 1, ticket="A001")
    assert events[0].data == {"number": "A001", "counter": 1, "officer": "o1", "from_hold": True}
    assert hall.counters[1].current == "A001" and hall.counters[1].held == ["A002"]
    assert hall.tickets["A001"].status == CALLED


def test_held_tickets_stay_with_the_counter_across_officers(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1, "o1")
    call(hall, clock, 1)
    hall.hold(clock(), 1)
    hall.logout(clock(), 1)
    assert hall.tickets["A001"].status == HELD
    hall.login(clock(), 1, "o2", "1234")
    assert hall.call_next(clock(), 1, ticket="A001")[0].data["officer"] == "o2"


def test_call_back_is_refused_while_paused(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    hall.hold(clock(), 1)
    hall.pause(clock(), 1)
    refused("counter_paused", hall.call_next, clock(), 1, ticket="A001")


# ------------------------------------------------------------------------------ transfer
def test_transfer_to_a_service_keeps_the_place_in_time(hall, clock):
    issue(hall, clock, "tu-phap")  # A001 at 08:00:01
    issue(hall, clock, "xay-dung", 2)  # B001, B002 later
    a001 = hall.tickets["A001"]
    open_counter(hall, clock, 4)
    call(hall, clock, 4)
    hall.recall(clock(), 4)
    events = hall.transfer(clock.advance(minutes=5), 4, service="xay-dung")
    assert [(e.kind, e.data) for e in events] == [("ticket.transferred", {
        "number": "A001", "counter": 4, "officer": "o4", "service": "xay-dung", "to_counter": None})]
    assert (a001.status, a001.service, a001.counter, a001.officer, a001.recalls, a001.transfers) == (
        WAITING, "xay-dung", None, None, 0, 1)
    assert a001.queued_at == a001.issued_at
    assert hall.counters[4].current is None
    assert [t.number for t in hall.waiting("xay-dung")] == ["A001", "B001", "B002"]
    assert hall.ahead_of(hall.tickets["B001"]) == 1
    open_counter(hall, clock, 2)
    assert call(hall, clock, 2) == "A001"


def test_transfer_to_a_counter(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 1)
    open_counter(hall, clock, 3)  # tra-ket-qua only
    open_counter(hall, clock, 4)
    assert call(hall, clock, 1) == "A001"
    events = hall.transfer(clock(), 1, to_counter=3)
    assert events[0].data == {"number": "A001", "counter": 1, "officer": "o1", "service": "tu-phap", "to_counter": 3}
    t = hall.tickets["A001"]
    assert (t.status, t.target_counter, t.service) == (WAITING, 3, "tu-phap")
    # counter 4 serves tu-phap but the ticket was sent to counter 3
    assert call(hall, clock, 4) == "A002"
    hall.done(clock(), 4)
    refused("queue_empty", hall.call_next, clock(), 4)
    terminal = views.device_state(hall, hall.config.devices["ct-1"], clock())
    assert (terminal["services"][0]["code"], terminal["services"][0]["waiting"]) == ("tu-phap", 0)
    assert call(hall, clock, 3) == "A001"
    assert hall.tickets["A001"].target_counter is None


def test_transfer_refusals(hall, clock):
    refused("not_logged_in", hall.transfer, clock(), 1, service="xay-dung")
    open_counter(hall, clock, 1)
    refused("no_current_ticket", hall.transfer, clock(), 1, service="xay-dung")
    issue(hall, clock)
    call(hall, clock, 1)
    refused("bad_transfer", hall.transfer, clock(), 1)
    refused("bad_transfer", hall.transfer, clock(), 1, service="xay-dung", to_counter=2)
    refused("bad_transfer", hall.transfer, clock(), 1, to_counter=1)
    refused("unknown_service", hall.transfer, clock(), 1, service="khong-co")
    refused("unknown_counter", hall.transfer, clock(), 1, to_counter=77)
    assert hall.tickets["A001"].status == CALLED and hall.counters[1].current == "A001"


# ------------------------------------------------------------------------------ pause / resume
def test_pause_and_resume(hall, clock):
    refused("not_logged_in", hall.pause, clock(), 1)
    refused("not_logged_in", hall.resume, clock(), 1)
    open_counter(hall, clock, 1)
    refused("not_paused", hall.resume, clock(), 1)
    events = hall.pause(clock(), 1, reason="an-trua")
    assert [(e.kind, e.data) for e in events] == [("counter.paused", {"counter": 1, "reason": "an-trua"})]
    c = hall.counters[1]
    assert (c.status, c.paused, c.pause_reason) == ("paused", True, "an-trua")
    assert views.device_state(hall, hall.config.devices["ct-1"], clock())["pause_reason"] == "an-trua"
    assert hall.pause(clock(), 1) == []
    events = hall.resume(clock(), 1)
    assert [(e.kind, e.data) for e in events] == [("counter.resumed", {"counter": 1})]
    assert (c.status, c.paused, c.pause_reason) == ("open", False, None)


def test_pause_refused_while_serving(hall, clock):
    issue(hall, clock)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    refused("counter_busy", hall.pause, clock(), 1)


def test_a_paused_counter_does_not_count_as_serving(hall, clock):
    open_counter(hall, clock, 1)
    open_counter(hall, clock, 4)
    assert hall.serving_counters("tu-phap") == 2
    hall.pause(clock(), 4)
    assert hall.serving_counters("tu-phap") == 1


def test_logout_and_new_login_clear_a_pause(hall, clock):
    open_counter(hall, clock, 1, "o1")
    hall.pause(clock(), 1, reason="hop")
    hall.logout(clock(), 1)
    hall.login(clock(), 1, "o1", "1234")
    assert hall.counters[1].status == "open"
    hall.pause(clock(), 1, reason="hop")
    hall.login(clock(), 1, "o2", "1234")
    assert hall.counters[1].status == "open" and hall.counters[1].pause_reason is None


# ------------------------------------------------------------------------------ priority
def test_strict_priority_goes_first(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    issue(hall, clock, "tu-phap", 2, priority=ELDER)
    open_counter(hall, clock, 1)
    order = []
    for _ in range(4):
        order.append(call(hall, clock, 1))
        hall.done(clock(), 1)
    assert order == ["A003", "A004", "A001", "A002"]


def test_interleave_one_priority_per_n_ordinary(raw, make_hall, clock):
    raw["priority"].update(mode="interleave", every=2)
    hall = make_hall(raw)
    issue(hall, clock, "tu-phap", 5)  # A001..A005
    issue(hall, clock, "tu-phap", 3, priority=ELDER)  # A006..A008
    open_counter(hall, clock, 1)
    order = []
    for _ in range(8):
        order.append(call(hall, clock, 1))
        hall.done(clock(), 1)
    assert order == ["A001", "A002", "A006", "A003", "A004", "A007", "A005", "A008"]


def test_interleave_takes_what_there_is(raw, make_hall, clock):
    raw["priority"].update(mode="interleave", every=3)
    hall = make_hall(raw)
    issue(hall, clock, "tu-phap", 2, priority=ELDER)
    open_counter(hall, clock, 1)
    assert call(hall, clock, 1) == "A001"  # only priority tickets wait
    hall.done(clock(), 1)
    issue(hall, clock, "tu-phap", 1)
    assert call(hall, clock, 1) == "A003"  # the streak restarted at the priority call
    hall.done(clock(), 1)
    assert hall.counters[1].ordinary_streak == 1


def test_interleave_streak_ignores_call_backs(raw, make_hall, clock):
    raw["priority"].update(mode="interleave", every=1)
    hall = make_hall(raw)
    issue(hall, clock, "tu-phap", 2)
    issue(hall, clock, "tu-phap", 1, priority=ELDER)
    open_counter(hall, clock, 1)
    assert call(hall, clock, 1) == "A001"
    hall.hold(clock(), 1)
    call(hall, clock, 1, ticket="A001")
    assert hall.counters[1].ordinary_streak == 1
    hall.done(clock(), 1)
    assert call(hall, clock, 1) == "A003"


def test_priority_is_per_counter_choice_among_its_services(hall, clock):
    issue(hall, clock, "xay-dung", 1)
    issue(hall, clock, "tu-phap", 1, priority=ELDER)
    open_counter(hall, clock, 2)  # xay-dung only: the priority ticket is not its
    assert call(hall, clock, 2) == "B001"


# ------------------------------------------------------------------------------ ahead_of / eta
def test_ahead_of_and_eta(hall, clock):
    issue(hall, clock, "tu-phap", 3)
    issue(hall, clock, "xay-dung", 2)
    a3 = hall.tickets["A003"]
    assert hall.ahead_of(hall.tickets["A001"]) == 0
    assert hall.ahead_of(a3) == 2
    assert hall.eta_min(a3) == 20  # 2 x 10 min, no counter open: as if one
    open_counter(hall, clock, 1)
    open_counter(hall, clock, 4)
    assert hall.serving_counters("tu-phap") == 2
    assert hall.eta_min(a3) == 10
    assert hall.eta_min(hall.tickets["B002"]) == 15  # only counter 1 serves xay-dung
    assert call(hall, clock, 1) == "A001"
    assert hall.ahead_of(a3) == 1
    assert hall.ahead_of(hall.tickets["A001"]) == 0 and hall.eta_min(hall.tickets["A001"]) == 0


def test_eta_rounds_up(raw, make_hall, clock):
    raw["services"][0]["handle_min"] = 7
    hall = make_hall(raw)
    issue(hall, clock, "tu-phap", 2)
    for n in (1, 4):
        open_counter(hall, clock, n)
    assert hall.eta_min(hall.tickets["A002"]) == math.ceil(7 / 2)


def test_ahead_of_with_priority(raw, make_hall, clock):
    hall = make_hall()
    issue(hall, clock, "tu-phap", 2)
    issue(hall, clock, "tu-phap", 2, priority=ELDER)
    # strict: every priority ticket is ahead of an ordinary one, no ordinary one of a priority one
    assert hall.ahead_of(hall.tickets["A002"]) == 3
    assert hall.ahead_of(hall.tickets["A004"]) == 1
    raw["priority"]["mode"] = "interleave"
    hall = make_hall(raw)
    issue(hall, clock, "tu-phap", 2)
    issue(hall, clock, "tu-phap", 2, priority=ELDER)
    assert hall.ahead_of(hall.tickets["A002"]) == 1
    assert hall.ahead_of(hall.tickets["A004"]) == 1


# ------------------------------------------------------------------------------ ratings
def served(hall, clock, counter: int = 1) -> str:
    issue(hall, clock)
    if hall.counters[counter].officer is None:
        open_counter(hall, clock, counter)
    number = call(hall, clock, counter)
    hall.done(clock(), counter)
    return number


def test_done_arms_the_rating_button(hall, clock):
    number = served(hall, clock)
    armed = hall.armed[1]
    assert (armed.ticket, armed.officer, armed.expires_at) == (number, "o1", clock() + timedelta(seconds=120))
    state = views.device_state(hall, hall.config.devices["rb-1"], clock())
    assert state["armed"] is True and state["ticket"] == number and state["officer"] == "o1"
    assert state["expires_at"] == armed.expires_at.isoformat(timespec="seconds")


def test_vote(hall, clock):
    number = served(hall, clock)
    events = hall.vote(clock.advance(seconds=30), 1, "khong-hai-long", reason="thoi-gian-cho", device="rb-1")
    assert [(e.kind, e.data) for e in events] == [("rating.recorded", {
        "counter": 1, "ticket": number, "officer": "o1", "score": "khong-hai-long",
        "reason": "thoi-gian-cho", "device": "rb-1"})]
    assert hall.armed == {} and number in hall.rated
    assert views.device_state(hall, hall.config.devices["rb-1"], clock())["armed"] is False
    # one vote per ticket
    refused("not_armed", hall.vote, clock(), 1, "hai-long")
    refused("already_rated", hall.vote, clock(), 1, "hai-long", ticket=number)


def test_vote_refusals(hall, clock):
    refused("not_armed", hall.vote, clock(), 1, "hai-long")
    number = served(hall, clock)
    refused("unknown_level", hall.vote, clock(), 1, "tuyet-voi")
    refused("unknown_reason", hall.vote, clock(), 1, "khong-hai-long", reason="tai-sao")
    refused("not_armed", hall.vote, clock(), 1, "hai-long", ticket="A999")  # another ticket
    refused("not_armed", hall.vote, clock(), 2, "hai-long")  # another counter
    assert hall.armed[1].ticket == number


def test_vote_window(hall, clock):
    served(hall, clock)
    clock.advance(seconds=120)
    assert hall.tick(clock()) == (False, [])  # the last second of the window
    assert kinds(hall.vote(clock(), 1, "hai-long")) == ["rating.recorded"]
    served(hall, clock)
    clock.advance(seconds=121)
    refused("not_armed", hall.vote, clock(), 1, "hai-long")


def test_tick_expires_the_rating(hall, clock):
    number = served(hall, clock)
    clock.advance(seconds=121)
    rolled, events = hall.tick(clock())
    assert rolled is False
    assert [(e.kind, e.data) for e in events] == [("rating.expired", {"counter": 1, "ticket": number})]
    assert hall.armed == {}
    assert hall.tick(clock()) == (False, [])


def test_a_new_done_rearms_for_the_new_ticket(hall, clock):
    first = served(hall, clock)
    second = served(hall, clock)
    assert hall.armed[1].ticket == second != first
    assert hall.vote(clock(), 1, "hai-long", ticket=second)[0].data["ticket"] == second


def test_a_late_vote_naming_its_ticket_still_counts(hall, clock):
    """A button that was offline sends the vote it took while armed, with the ticket, later."""
    first = served(hall, clock)
    second = served(hall, clock)
    clock.advance(minutes=30)  # both windows are long gone
    late = hall.vote(clock(), 1, "rat-hai-long", ticket=first, device="rb-1")
    assert [(e.data["ticket"], e.data["officer"]) for e in late] == [(first, "o1")]
    assert hall.armed[1].ticket == second  # a late vote leaves the newer arming alone
    refused("already_rated", hall.vote, clock(), 1, "hai-long", ticket=first)
    refused("not_armed", hall.vote, clock(), 2, "hai-long", ticket=second)  # served elsewhere
    refused("not_armed", hall.vote, clock(), 1, "hai-long")  # no ticket named: the window rules


def test_a_finished_ticket_retires_and_its_share_of_the_day_stays(hall, clock, kit):
    """RETAIN after it finished (at the next event then), a ticket leaves memory: its take, print and
    vote marks go with it, the day's counts keep it, and a replay of the day retires the same."""
    events = []
    clock.advance(seconds=1)
    events += hall.take_ticket(clock(), "tu-phap", device="kiosk", take="take-1")
    first = events[-1].data["number"]
    events += hall.ticket_printed(clock(), "kiosk", first)
    clock.advance(seconds=1)
    events += hall.login(clock(), 1, "o1", "1234")
    events += hall.call_next(clock(), 1)
    events += hall.done(clock(), 1)
    clock.advance(seconds=60)
    events += hall.vote(clock(), 1, "hai-long")
    assert first in hall.tickets and first in hall.rated and ("kiosk", "take-1") in hall.takes
    before = hall.day_counts()
    clock.advance(seconds=RETAIN.total_seconds() - 30)
    events += hall.take_ticket(clock(), "tu-phap")  # RETAIN since it finished, not since its vote
    assert first in hall.tickets
    clock.advance(seconds=31)
    events += hall.take_ticket(clock(), "tu-phap")
    assert first not in hall.tickets and first not in hall.printed and first not in hall.rated
    assert hall.takes == {} and hall.order == 3 and len(hall.finished) == 0
    counts = hall.day_counts()["tu-phap"]
    assert counts == {**before["tu-phap"], "issued": 3} and counts["served"] == 1
    assert kit.snapshot(kit.replay(hall.config, events), clock()) == kit.snapshot(hall, clock())
    refused("unknown_ticket", hall.ticket_printed, clock(), "kiosk", first)


def test_a_late_vote_for_a_retired_ticket_takes_the_store_s_word(hall, clock):
    """Once retired, a late vote naming the ticket counts from what the store says of it (Retired):
    served at this counter and not rated yet; once only."""
    first = served(hall, clock)
    clock.advance(seconds=RETAIN.total_seconds() + 1)
    served(hall, clock)  # its events retire the first
    assert first not in hall.tickets

    def stored(status: str = DONE, counter: int = 1, rated: bool = False) -> Retired:
        return Retired(Ticket(first, "tu-phap", None, 1, clock(), "", clock(), status=status, counter=counter,
                              officer="o1"), rated)

    refused("not_armed", hall.vote, clock(), 1, "hai-long", ticket=first)  # no word from the store
    refused("not_armed", hall.vote, clock(), 2, "hai-long", ticket=first, retired=stored())  # served elsewhere
    refused("not_armed", hall.vote, clock(), 1, "hai-long", ticket=first, retired=stored(NO_SHOW))
    refused("already_rated", hall.vote, clock(), 1, "hai-long", ticket=first, retired=stored(rated=True))
    late = hall.vote(clock(), 1, "hai-long", ticket=first, retired=stored())
    assert [(e.data["ticket"], e.data["officer"]) for e in late] == [(first, "o1")]
    # the store does not have that vote yet (it is being committed): the engine remembers it
    refused("already_rated", hall.vote, clock(), 1, "hai-long", ticket=first, retired=stored())


def test_expiry_of_a_replaced_arming_is_ignored(hall, clock):
    first = served(hall, clock)
    expired = hall.tick(clock() + timedelta(seconds=121))[1]  # computed, then overtaken below
    second = served(hall, clock)
    for e in expired:
        hall.apply(e)
    assert expired[0].data["ticket"] == first and hall.armed[1].ticket == second


# ------------------------------------------------------------------------------ set_services
def test_set_services(hall, clock):
    refused("unknown_counter", hall.set_services, clock(), 8, ["tu-phap"])
    refused("unknown_service", hall.set_services, clock(), 2, ["tu-phap", "khong-co"])
    assert hall.set_services(clock(), 2, ["xay-dung"]) == []
    events = hall.set_services(clock(), 2, ["tra-ket-qua", "xay-dung"])  # no login needed
    assert [(e.kind, e.data) for e in events] == [
        ("counter.services_set", {"counter": 2, "services": ["tra-ket-qua", "xay-dung"]})]
    assert hall.counters[2].services == ["tra-ket-qua", "xay-dung"]
    assert views.board(hall, clock())["counters"][1]["services"] == ["tra-ket-qua", "xay-dung"]


def test_set_services_takes_effect_at_the_next_call(hall, clock):
    issue(hall, clock, "xay-dung", 2)
    issue(hall, clock, "tu-phap", 1)
    open_counter(hall, clock, 2)
    assert call(hall, clock, 2) == "B001"
    hall.set_services(clock(), 2, ["tu-phap"])
    assert hall.counters[2].current == "B001"  # the ticket being served stays
    hall.done(clock(), 2)
    assert call(hall, clock, 2) == "A001"
    hall.done(clock(), 2)
    refused("queue_empty", hall.call_next, clock(), 2)
    assert hall.tickets["B002"].status == WAITING


# ------------------------------------------------------------------------------ views
def test_ticket_reply(hall, clock):
    issue(hall, clock, "tu-phap")
    clock.advance(seconds=1)
    hall.take_ticket(clock(), "tu-phap", token="abc")
    reply = views.ticket_reply(hall.tickets["A002"], hall)
    assert reply == {"number": "A002", "service": "tu-phap", "service_name": "Sở Tư pháp", "priority": None,
                     "issued_at": clock().isoformat(timespec="seconds"), "ahead": 1, "eta_min": 10,
                     "track_url": "http://hall.test/t/abc"}
    assert reply["issued_at"].endswith("+07:00")


def test_ticket_status(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    a2 = hall.tickets["A002"]
    st = views.ticket_status(a2, hall, clock.advance(minutes=3))
    assert st == {"number": "A002", "service": "tu-phap", "service_name": "Sở Tư pháp", "status": "waiting",
                  "priority": None, "issued_at": a2.issued_at.isoformat(timespec="seconds"), "ahead": 1,
                  "eta_min": 10, "counter": None, "called_at": None, "recalls": 0, "waited_s": 180}
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    call_at = clock()
    hall.done(clock(), 1)
    call(hall, clock, 1)
    st = views.ticket_status(a2, hall, clock.advance(minutes=10))
    assert (st["status"], st["counter"], st["eta_min"], st["ahead"]) == ("called", 1, 0, 0)
    assert st["called_at"] == (call_at + timedelta(seconds=1)).isoformat(timespec="seconds")
    assert st["waited_s"] == int((a2.called_at - a2.queued_at).total_seconds())
    hall.done(clock(), 1)
    st = views.ticket_status(a2, hall, clock())
    assert (st["status"], st["counter"]) == ("done", None)


def test_queues(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    first = clock()
    open_counter(hall, clock, 4)
    rows = views.queues(hall, first + timedelta(minutes=2))
    # a ticket taken now waits for the two ahead: 2 x 10 min of handling on the one open counter
    assert rows[0] == {"service": "tu-phap", "name": "Sở Tư pháp", "prefix": "A", "waiting": 2,
                       "longest_wait_s": 121, "eta_min": 20, "issued": 2, "counters_open": 1}
    assert rows[1] == {"service": "xay-dung", "name": "Sở Xây dựng", "prefix": "B", "waiting": 0,
                       "longest_wait_s": 0, "eta_min": 0, "issued": 0, "counters_open": 0}
    assert [r["service"] for r in rows] == ["tu-phap", "xay-dung", "tra-ket-qua"]


def test_board(hall, clock):
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 1)
    hall.pause(clock(), 1)
    hall.resume(clock(), 1)
    call(hall, clock, 1)
    open_counter(hall, clock, 2)
    hall.pause(clock(), 2)
    board = views.board(hall, clock())
    assert set(board) == {"v", "hall", "name", "at", "counters", "recent", "waiting", "notice"}
    assert (board["v"], board["hall"], board["at"]) == (1, "test-hall", clock().isoformat(timespec="seconds"))
    assert board["name"] == "Trung tâm Phục vụ hành chính công thử nghiệm"
    assert board["counters"][:3] == [
        {"number": 1, "name": "Quầy 1", "status": "open", "ticket": "A001", "services": ["tu-phap", "xay-dung"]},
        {"number": 2, "name": "Quầy 2", "status": "paused", "ticket": None, "services": ["xay-dung"]},
        {"number": 3, "name": "Quầy 3", "status": "closed", "ticket": None, "services": ["tra-ket-qua"]},
    ]
    assert [c["number"] for c in board["recent"]] == ["A001"]
    assert board["waiting"][0] == {"service": "tu-phap", "name": "Sở Tư pháp", "prefix": "A", "waiting": 1,
                                   "longest_wait_s": 1,  # A002, issued a second before A001's call
                                   "eta_min": 10}  # one ahead, 10 min handling, counter 1 open


def services_of(state: dict, *keys: str) -> list[tuple]:
    """The per-service rows of a device state, reduced to `keys` (labels may or may not be there)."""
    return [tuple(row[k] for k in keys) for row in state["services"]]


def test_terminal_state(hall, clock):
    terminal = hall.config.devices["ct-1"]
    state = views.device_state(hall, terminal, clock())
    assert {k: state[k] for k in ("v", "kind", "counter", "counter_name", "status", "pause_reason", "officer",
                                  "current", "held")} == {
        "v": 1, "kind": "terminal", "counter": 1, "counter_name": "Quầy 1", "status": "closed",
        "pause_reason": None, "officer": None, "current": None, "held": []}
    assert services_of(state, "code", "waiting") == [("tu-phap", 0), ("xay-dung", 0)]
    issue(hall, clock, "tu-phap", 3)
    issue(hall, clock, "xay-dung", 1)
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    hall.hold(clock(), 1)
    call(hall, clock, 1)
    hall.recall(clock(), 1)
    state = views.device_state(hall, terminal, clock())
    assert state["status"] == "open" and state["officer"]["id"] == "o1"
    assert state["current"] == {"number": "A002", "service": "tu-phap", "status": "called",
                                "called_at": clock().isoformat(timespec="seconds"), "recalls": 1}
    assert state["held"] == ["A001"]
    assert services_of(state, "code", "waiting") == [("tu-phap", 1), ("xay-dung", 1)]


def test_led_state(hall, clock):
    led = hall.config.devices["led-1"]
    assert views.device_state(hall, led, clock()) == {
        "v": 1, "kind": "led", "counter": 1, "number": None, "status": "closed", "call_seq": 0}
    issue(hall, clock, "tu-phap", 2)
    open_counter(hall, clock, 1)
    hall.pause(clock(), 1)
    assert views.device_state(hall, led, clock())["status"] == "paused"
    hall.resume(clock(), 1)
    call(hall, clock, 1)
    hall.recall(clock(), 1)
    assert views.device_state(hall, led, clock()) == {
        "v": 1, "kind": "led", "counter": 1, "number": "A001", "status": "open", "call_seq": 2}


def test_rating_state(hall, clock):
    rb = hall.config.devices["rb-1"]
    state = views.device_state(hall, rb, clock())
    assert {k: state[k] for k in ("v", "kind", "counter", "armed", "ticket", "officer", "expires_at")} == {
        "v": 1, "kind": "rating", "counter": 1, "armed": False, "ticket": None, "officer": None,
        "expires_at": None}


def test_dispenser_and_screen_states(hall, clock):
    devices = hall.config.devices
    issue(hall, clock, "tu-phap", 2)
    kiosk_a = views.device_state(hall, devices["kiosk-a"], clock())
    assert (kiosk_a["v"], kiosk_a["kind"]) == (1, "dispenser")
    assert services_of(kiosk_a, "code", "open", "waiting") == [("tu-phap", True, 2)]
    kiosk = views.device_state(hall, devices["kiosk"], clock())
    assert services_of(kiosk, "code", "waiting") == [("tu-phap", 2), ("xay-dung", 0), ("tra-ket-qua", 0)]
    assert views.device_state(hall, devices["screen"], clock()) == {"v": 1, "kind": "screen"}


def test_device_state_leaves_now_out_of_unchanged_states(hall, clock):
    """Retained states are republished only on change: time alone must not change them."""
    for device in hall.config.devices.values():
        if device.kind == "dispenser":
            continue  # its `open` flags follow the hours on purpose
        assert views.device_state(hall, device, clock()) == views.device_state(
            hall, device, clock() + timedelta(minutes=1))


# ------------------------------------------------------------------------------ replay
def test_replay_rebuilds_the_same_state(make_hall, clock, kit):
    raw = kit.base_raw()
    raw["priority"].update(mode="interleave", every=1)
    hall = make_hall(raw)
    log = []

    def do(fn, *args, **kwargs):
        try:
            log.extend(fn(clock(), *args, **kwargs))
        except Refused as exc:
            log.extend(exc.events)
        clock.advance(seconds=7)

    do(hall.login, 1, "o1", "0000")
    do(hall.login, 1, "o1", "1234")
    do(hall.login, 2, "o2", "1234")
    do(hall.login, 4, "o4", "1234")
    for service, prio in [("tu-phap", None), ("tu-phap", ELDER), ("xay-dung", None), ("tu-phap", None),
                          ("xay-dung", "nguoi-khuyet-tat"), ("tra-ket-qua", None), ("xay-dung", None),
                          ("xay-dung", None)]:
        do(hall.take_ticket, service, priority=prio, token=f"t{len(log)}")
    do(hall.call_next, 1)
    do(hall.recall, 1)
    do(hall.hold, 1)
    do(hall.call_next, 1)
    do(hall.transfer, 1, service="tra-ket-qua")
    do(hall.call_next, 1)
    do(hall.transfer, 1, to_counter=2)
    do(hall.call_next, 2)
    do(hall.done, 2)
    do(hall.vote, 2, "rat-hai-long")
    do(hall.call_next, 4)
    do(hall.done, 4)
    do(hall.call_next, 1, ticket="A001")
    do(hall.no_show, 1)
    do(hall.call_next, 1)
    do(hall.done, 1)
    do(hall.pause, 4, reason="hop")
    do(hall.set_services, 2, ["tu-phap", "tra-ket-qua"])
    do(hall.call_next, 2)
    do(hall.recall, 2)
    do(hall.recall, 2)
    do(hall.recall, 2)
    do(hall.login, 3, "o2", "1234")
    do(hall.call_next, 3)
    do(hall.call_next, 1)  # refused: nothing left for counter 1, or served
    clock.advance(minutes=3)
    log.extend(hall.tick(clock())[1])
    do(hall.logout, 1)
    log.extend(hall.tick(clock())[1])
    assert {e.kind for e in log} >= {
        "ticket.issued", "ticket.called", "ticket.recalled", "ticket.held", "ticket.transferred", "ticket.done",
        "ticket.no_show", "officer.logged_in", "officer.logged_out", "officer.login_failed", "counter.paused",
        "counter.services_set", "rating.recorded", "rating.expired"}
    fresh = kit.replay(hall.config, log)
    assert kit.snapshot(fresh, clock()) == kit.snapshot(hall, clock())


def test_replay_over_a_day_change_keeps_only_the_last_day(hall, clock, kit):
    log = []
    log += hall.take_ticket(clock(), "tu-phap")
    log += hall.login(clock(), 1, "o1", "1234")
    clock.advance(days=1)
    log += hall.take_ticket(clock(), "xay-dung")
    fresh = kit.replay(hall.config, log)
    assert list(fresh.tickets) == ["B001"] and fresh.counters[1].officer is None
    assert kit.snapshot(fresh, clock()) == kit.snapshot(hall, clock())


def test_terminal_counts_tickets_transferred_to_its_counter(hall, clock):
    """A ticket sent to counter 2 for a service counter 2 does not serve still shows as waiting there."""
    (number,) = issue(hall, clock, "tu-phap")
    open_counter(hall, clock, 1)
    call(hall, clock, 1)
    hall.transfer(clock(), 1, to_counter=2)
    state = views.device_state(hall, Device("ct-2", "terminal", 2), clock())
    assert services_of(state, "code", "waiting") == [("xay-dung", 0), ("tu-phap", 1)]


def test_notice_for_the_day(hall, clock):
    standing = hall.config.notice
    events = hall.set_notice(clock(), "  Hôm nay quầy 2 nghỉ.  ", by="quanly")
    assert [(e.kind, e.data) for e in events] == [("hall.notice_set", {"notice": "Hôm nay quầy 2 nghỉ.",
                                                                       "by": "quanly"})]
    assert views.board(hall, clock())["notice"] == "Hôm nay quầy 2 nghỉ."
    assert hall.set_notice(clock(), "Hôm nay quầy 2 nghỉ.") == []
    refused("bad_field", hall.set_notice, clock(), "x" * 501)
    clock.advance(days=1)
    hall.tick(clock())
    assert views.board(hall, clock())["notice"] == standing  # the next day: the configured one
