"""Engine and service rules of the dispenser messages: print confirmations, offline blocks reserved
from the top of the number space, and offline tickets queued by their issue time; all replayable."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

import protocols
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.service import HallService
from hallserver.settings import load_hall_config
from hallserver.store import Store
from hallserver.store.history import ticket_history
from hallserver.store.models import EventRow, TicketRow
from hallserver.store.reporting import load_period
from tests.support.clock import Clock

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday


def make(**hall) -> Hall:
    return Hall(load_hall_config(None, always_open=True, **hall))


def capped(cap: int) -> Hall:
    """The demo hall with a daily_cap on tu-phap (prefix A)."""
    config = load_hall_config(None, always_open=True)
    config.services["tu-phap"] = dataclasses.replace(config.services["tu-phap"], daily_cap=cap)
    return Hall(config)


def at(minutes: float) -> datetime:
    return NINE + timedelta(minutes=minutes)


def replayed(hall: Hall, events) -> Hall:
    """Apply events as the store gives them back (data through JSON) to a fresh hall."""
    fresh = Hall(hall.config)
    for e in events:
        fresh.apply(type(e)(e.kind, e.at, json.loads(json.dumps(e.data))))
    return fresh


def test_blocks_come_from_the_top_and_online_numbering_stops_below():
    hall = make(number_width=1)  # numbers A1..A9: small enough to reach the block
    events = hall.reserve_block(at(0), "kiosk-1", ["tu-phap", "ke-hoach-dau-tu"], 3)
    assert events[0].kind == "dispenser.block_reserved"
    assert events[0].data["blocks"] == [["tu-phap", 7, 9], ["ke-hoach-dau-tu", 7, 9]]
    second = hall.reserve_block(at(1), "kiosk-2", ["tu-phap"], 2)
    assert second[0].data["blocks"] == [["tu-phap", 5, 6]]
    numbers = [hall.take_ticket(at(2), "tu-phap", token=f"t{i}")[0].data["number"] for i in range(4)]
    assert numbers == ["A1", "A2", "A3", "A4"]  # online numbering unchanged
    with pytest.raises(Refused) as exc:
        hall.take_ticket(at(3), "tu-phap")
    assert exc.value.code == "daily_cap_reached"  # A5 is kiosk-2's
    with pytest.raises(Refused) as exc:  # no room left above A4
        hall.reserve_block(at(4), "kiosk-1", ["tu-phap"], 1)
    assert exc.value.code == "daily_cap_reached"
    with pytest.raises(Refused) as exc:
        hall.reserve_block(at(4), "kiosk-1", ["tu-phap"], 0)
    assert exc.value.code == "bad_field"


def test_offline_tickets_join_the_queue_at_their_issue_time():
    hall = make()
    hall.reserve_block(at(0), "kiosk-1", ["tu-phap"], 20)
    a1 = hall.take_ticket(at(0), "tu-phap", token="a", device="kiosk-2")[0].data["number"]
    a2 = hall.take_ticket(at(10), "tu-phap", token="b", device="kiosk-2")[0].data["number"]
    # printed at 09:05 while kiosk-1 was cut off, reported at 09:20
    hall.report_offline(at(20), "kiosk-1", "tu-phap", "A999", at(5), token="c")
    hall.report_offline(at(20), "kiosk-1", "tu-phap", "A998", at(12), token="d")
    assert [t.number for t in hall.waiting("tu-phap")] == [a1, "A999", a2, "A998"]
    t = hall.tickets["A999"]
    assert (t.offline, t.device, t.issued_at, hall.ahead_of(t)) == (True, "kiosk-1", at(5), 1)
    assert "A999" in hall.printed  # an offline ticket was printed before it was reported


def test_offline_issue_time_is_clamped_to_today_and_now():
    hall = make()
    hall.reserve_block(at(0), "kiosk-1", ["tu-phap"], 5)
    hall.report_offline(at(30), "kiosk-1", "tu-phap", "A999", at(90))  # a device clock running fast
    hall.report_offline(at(30), "kiosk-1", "tu-phap", "A998", at(-24 * 60))  # yesterday's clock
    assert hall.tickets["A999"].queued_at == at(30)
    assert hall.tickets["A998"].queued_at == NINE.replace(hour=0)


@pytest.mark.parametrize(("device", "service", "number"), [
    ("kiosk-1", "tu-phap", "A979"),  # below the block
    ("kiosk-2", "tu-phap", "A999"),  # another dispenser's block
    ("kiosk-1", "tu-phap", "B999"),  # another service's prefix
    ("kiosk-1", "tu-phap", "A0999"),  # not the hall's width
])
def test_only_numbers_of_the_devices_own_block(device, service, number):
    hall = make()
    hall.reserve_block(at(0), "kiosk-1", ["tu-phap", "ke-hoach-dau-tu"], 20)
    with pytest.raises(Refused) as exc:
        hall.report_offline(at(1), device, service, number, at(0))
    assert exc.value.code == "not_reserved"


def test_an_offline_number_is_reported_once():
    hall = make()
    hall.reserve_block(at(0), "kiosk-1", ["tu-phap"], 5)
    assert hall.report_offline(at(1), "kiosk-1", "tu-phap", "A999", at(0))
    assert hall.report_offline(at(2), "kiosk-1", "tu-phap", "A999", at(0)) == []  # same ticket, no effect
    assert hall.order == 1


def test_blocks_are_valid_for_their_day():
    hall = make()
    hall.reserve_block(at(0), "kiosk-1", ["tu-phap"], 5)
    tomorrow = at(24 * 60)
    with pytest.raises(Refused) as exc:
        hall.report_offline(tomorrow, "kiosk-1", "tu-phap", "A999", at(0))
    assert exc.value.code == "not_reserved"
    assert hall.take_ticket(tomorrow, "tu-phap")[0].data["number"] == "A001"
    assert hall.reserved_floor == {} and hall.blocks == {}


def test_a_print_is_confirmed_once_by_the_issuing_device():
    hall = make()
    number = hall.take_ticket(at(0), "tu-phap", token="x", device="kiosk-1")[0].data["number"]
    assert [e.kind for e in hall.ticket_printed(at(1), "kiosk-1", number)] == ["ticket.printed"]
    assert hall.ticket_printed(at(2), "kiosk-1", number) == []
    for device, n in (("kiosk-2", number), ("kiosk-1", "A555")):
        with pytest.raises(Refused) as exc:
            hall.ticket_printed(at(3), device, n)
        assert exc.value.code == "unknown_ticket"


def test_replay_rebuilds_blocks_offline_tickets_and_prints():
    hall = make()
    events = []
    events += hall.reserve_block(at(0), "kiosk-1", ["tu-phap", "ke-hoach-dau-tu"], 10)
    events += hall.take_ticket(at(1), "tu-phap", token="a", device="kiosk-1")
    events += hall.ticket_printed(at(1), "kiosk-1", "A001")
    events += hall.report_offline(at(9), "kiosk-1", "ke-hoach-dau-tu", "B999", at(2), "nguoi-cao-tuoi", "t")
    events += hall.reserve_block(at(10), "kiosk-1", ["tu-phap"], 10)
    fresh = replayed(hall, events)
    assert fresh.blocks == hall.blocks and fresh.reserved_floor == hall.reserved_floor == {
        "tu-phap": 980, "ke-hoach-dau-tu": 990}
    assert fresh.printed == hall.printed == {"A001", "B999"}
    assert fresh.tickets["B999"] == hall.tickets["B999"]  # every field (a dataclass with slots: no vars())
    assert [t.number for t in fresh.waiting()] == [t.number for t in hall.waiting()] == ["A001", "B999"]


def test_a_phantom_take_is_voided_once_and_frees_its_place():
    hall = make()
    events = hall.take_ticket(at(0), "tu-phap", token="a", device="kiosk-1", take="7-3")  # the reply was lost
    events += hall.take_ticket(at(1), "tu-phap", token="b", device="kiosk-2", take="7-3")  # same id, other device
    voided = hall.void_take(at(2), "kiosk-1", "7-3")
    assert [(e.kind, e.data["number"], e.data["take"]) for e in voided] == [("ticket.voided", "A001", "7-3")]
    assert hall.void_take(at(3), "kiosk-1", "7-3") == []  # again (a new message id): no second effect
    assert hall.tickets["A001"].status == "voided" and [t.number for t in hall.waiting()] == ["A002"]
    assert hall.ahead_of(hall.tickets["A002"]) == 0 and hall.counted["tu-phap"] == 1
    assert hall.take_ticket(at(4), "tu-phap")[0].data["number"] == "A003"  # a number is never reused
    fresh = replayed(hall, events + voided)
    assert fresh.takes == hall.takes and fresh.tickets["A001"] == hall.tickets["A001"]


@pytest.mark.parametrize(("how", "code"), [("printed", "already_printed"), ("called", "already_called"),
                                           ("held", "already_called"), ("transferred", "already_called")])
def test_a_ticket_printed_or_called_is_not_voided(how, code):
    hall = make()
    hall.take_ticket(at(0), "tu-phap", token="a", device="kiosk-1", take="1-1")
    if how == "printed":
        hall.ticket_printed(at(1), "kiosk-1", "A001")
    else:
        hall.login(at(1), 1, "o01", "0000")
        hall.call_next(at(1), 1)
        if how == "held":
            hall.hold(at(2), 1)
        elif how == "transferred":
            hall.transfer(at(2), 1, to_counter=2)  # waiting again, but it was called
    with pytest.raises(Refused) as exc:
        hall.void_take(at(3), "kiosk-1", "1-1")
    assert exc.value.code == code and exc.value.events == []


def test_a_take_voided_before_it_arrives_is_refused_when_it_does():
    hall = make()
    tomb = hall.void_take(at(0), "kiosk-1", "4-2")  # the take is still somewhere in the broker
    assert [(e.kind, e.data) for e in tomb] == [("dispenser.take_voided", {"device": "kiosk-1", "take": "4-2"})]
    assert hall.void_take(at(1), "kiosk-1", "4-2") == []
    with pytest.raises(Refused) as exc:
        hall.take_ticket(at(2), "tu-phap", device="kiosk-1", take="4-2")
    assert exc.value.code == "ticket_voided" and hall.tickets == {}
    assert hall.take_ticket(at(2), "tu-phap", device="kiosk-2", take="4-2")  # another device's id
    assert replayed(hall, tomb).void_takes == {("kiosk-1", "4-2")}


def test_offline_tickets_count_toward_the_daily_cap():
    hall = capped(5)
    block = hall.reserve_block(at(0), "kiosk-1", ["tu-phap", "ke-hoach-dau-tu"], 3)
    assert block[0].data["blocks"] == [["tu-phap", 997, 999], ["ke-hoach-dau-tu", 997, 999]]
    for i in range(2):
        hall.take_ticket(at(1), "tu-phap", token=str(i))
    hall.report_offline(at(2), "kiosk-1", "tu-phap", "A999", at(1))
    hall.report_offline(at(2), "kiosk-1", "tu-phap", "A998", at(1))
    assert hall.cap_left("tu-phap") == 1  # 2 online + 2 offline of 5
    hall.take_ticket(at(3), "tu-phap")
    with pytest.raises(Refused) as exc:
        hall.take_ticket(at(3), "tu-phap")
    assert exc.value.code == "daily_cap_reached"
    # past the cap, an offline report is still accepted (the citizen holds it) and counted
    assert hall.report_offline(at(4), "kiosk-1", "tu-phap", "A997", at(2))
    assert hall.counted["tu-phap"] == 6 and hall.cap_left("tu-phap") == 0
    with pytest.raises(Refused) as exc:
        hall.reserve_block(at(5), "kiosk-1", ["tu-phap"], 3)  # nothing left for a block
    assert exc.value.code == "daily_cap_reached"


def test_blocks_never_hold_more_than_the_cap_leaves():
    hall = capped(10)
    for i in range(4):
        hall.take_ticket(at(0), "tu-phap", token=str(i))
    first = hall.reserve_block(at(1), "kiosk-1", ["tu-phap", "ke-hoach-dau-tu"], 5)
    assert first[0].data["blocks"] == [["tu-phap", 995, 999], ["ke-hoach-dau-tu", 995, 999]]
    # 4 issued + 5 out in kiosk-1's block: one number left for kiosk-2
    second = hall.reserve_block(at(2), "kiosk-2", ["tu-phap", "ke-hoach-dau-tu"], 5)
    assert second[0].data["blocks"] == [["tu-phap", 994, 994], ["ke-hoach-dau-tu", 990, 994]]
    hall.report_offline(at(3), "kiosk-1", "tu-phap", "A999", at(2))  # reported: out of the block, counted
    assert hall.cap_left("tu-phap") == 5
    with pytest.raises(Refused):  # 5 counted + 5 still out = 10
        hall.reserve_block(at(4), "kiosk-1", ["tu-phap"], 5)
    # worst case: online fills the cap while every reserved number is used offline
    hall.take_ticket(at(5), "tu-phap")
    for number in ("A998", "A997", "A996", "A995"):
        hall.report_offline(at(6), "kiosk-1", "tu-phap", number, at(5))
    hall.report_offline(at(6), "kiosk-2", "tu-phap", "A994", at(5))
    assert hall.counted["tu-phap"] == 11  # above the cap by at most the numbers out when it was reached
    fresh = replayed(hall, [])
    assert fresh.counted["tu-phap"] == 0


# -- through the service layer and the store ---------------------------------------------------
def up(t: str, msg_id: str, **fields) -> bytes:
    return protocols.encode(protocols.make_up(t, msg_id, fields))


def test_service_block_offline_report_print_and_restart(database_url):
    clock = Clock(NINE)
    config = load_hall_config(None, always_open=True)
    store = Store(database_url)
    store.migrate()
    service = HallService(config, store, clock)
    service.load()

    block = service.handle_up("kiosk-1", up("ticket.block", "b-1", size=20)).reply
    assert block["ok"] and block["block"]["day"] == "2026-11-23" and block["block"]["width"] == 3
    assert ["tu-phap", "A", 980, 999] in block["block"]["services"] and len(block["block"]["services"]) == 22
    assert len(protocols.encode(block)) < protocols.MAX_PAYLOAD

    take = service.handle_up("kiosk-1", up("ticket.take", "t-1", service="tu-phap")).reply
    assert take["ticket"]["number"] == "A001"
    printed = service.handle_up("kiosk-1", up("ticket.printed", "p-1", number="A001")).reply
    assert printed == {"v": 1, "re": "p-1", "ok": True}
    clock.now = at(15)
    report = service.handle_up("kiosk-1", up("ticket.offline", "o-1", service="tu-phap", number="A999",
                                             issued_at="2026-11-23T08:59:00+07:00")).reply
    assert report["ok"] and report["ticket"]["ahead"] == 0 and report["ticket"]["track_url"].endswith(
        service.hall.tickets["A999"].token)
    bad = service.handle_up("kiosk-1", up("ticket.offline", "o-2", service="tu-phap", number="A998",
                                          issued_at="yesterday")).reply
    assert bad["error"]["code"] == "bad_field"
    stolen = service.handle_up("kiosk-2", up("ticket.offline", "o-3", service="tu-phap", number="A998",
                                             issued_at="2026-11-23T09:01:00+07:00")).reply
    assert stolen["error"]["code"] == "not_reserved"
    wrong_kind = service.handle_up("ct-05", up("ticket.block", "b-2", size=5)).reply
    assert wrong_kind["error"]["code"] == "wrong_device_kind"

    with store.sessions() as s:
        rows = {r.number: r for r in s.query(TicketRow).filter_by(hall=config.id)}
        assert rows["A001"].printed_at is not None and not rows["A001"].offline
        assert rows["A999"].offline and rows["A999"].issued_at == datetime(2026, 11, 23, 1, 59)  # UTC
        kinds = [e.kind for e in s.query(EventRow).order_by(EventRow.id)]
        assert kinds == ["dispenser.block_reserved", "ticket.issued", "ticket.printed", "ticket.offline_issued"]

    restarted = HallService(config, store, clock)
    restarted.load()
    assert [t.number for t in restarted.hall.waiting("tu-phap")] == ["A999", "A001"]
    assert restarted.hall.reserved_floor["tu-phap"] == 980 and restarted.hall.printed == {"A001", "A999"}
    store.close()


def test_service_voids_a_phantom_take_idempotently(database_url):
    clock = Clock(NINE)
    config = load_hall_config(None, always_open=True)
    store = Store(database_url)
    store.migrate()
    service = HallService(config, store, clock)
    service.load()

    phantom = service.handle_up("kiosk-1", up("ticket.take", "5-1", service="tu-phap")).reply  # never arrived
    assert phantom["ticket"]["number"] == "A001"
    void = service.handle_up("kiosk-1", up("ticket.void", "5-2", take="5-1")).reply
    assert void == {"v": 1, "re": "5-2", "ok": True, "void": {"take": "5-1", "number": "A001"}}
    assert service.handle_up("kiosk-1", up("ticket.void", "5-2", take="5-1")).duplicate
    again = service.handle_up("kiosk-1", up("ticket.void", "6-1", take="5-1")).reply  # after a reboot
    assert again["ok"] and again["void"]["number"] == "A001"
    # the take's own retry still gets its reply (ids are answered once); the ticket stays void
    assert service.handle_up("kiosk-1", up("ticket.take", "5-1", service="tu-phap")).reply == phantom
    early = service.handle_up("kiosk-1", up("ticket.void", "6-2", take="5-9")).reply  # a take never seen
    assert early["void"] == {"take": "5-9", "number": None}
    late = service.handle_up("kiosk-1", up("ticket.take", "5-9", service="tu-phap")).reply
    assert late["error"]["code"] == "ticket_voided"
    printed = service.handle_up("kiosk-1", up("ticket.take", "6-3", service="tu-phap")).reply["ticket"]["number"]
    service.handle_up("kiosk-1", up("ticket.printed", "6-4", number=printed))
    refused = service.handle_up("kiosk-1", up("ticket.void", "6-5", take="6-3")).reply
    assert refused["error"]["code"] == "already_printed"
    assert service.handle_up("ct-05", up("ticket.void", "1-1", take="6-3")).reply["error"]["code"] == (
        "wrong_device_kind")

    with store.sessions() as s:
        rows = {r.number: r.status for r in s.query(TicketRow).filter_by(hall=config.id)}
        assert rows == {"A001": "voided", "A002": "waiting"}
        kinds = [e.kind for e in s.query(EventRow).order_by(EventRow.id)]
        assert kinds == ["ticket.issued", "ticket.voided", "dispenser.take_voided", "ticket.issued", "ticket.printed"]
    period = load_period(store, config.id, NINE.date(), NINE.date(), TZ, clock.now)
    assert [t.number for t in period.tickets] == ["A002"]  # reports and demand leave the phantom out
    assert [t.status for t in ticket_history(store.engine, config.id, NINE.date(), at(24 * 60).date())] == [
        "waiting"]
    restarted = HallService(config, store, clock)
    restarted.load()
    assert [t.number for t in restarted.hall.waiting()] == ["A002"] and restarted.hall.counted["tu-phap"] == 1
    assert restarted.hall.void_takes == {("kiosk-1", "5-9")}
    store.close()
