"""Engine and service rules of the dispenser messages: print confirmations, offline blocks reserved
from the top of the number space, and offline tickets queued by their issue time; all replayable."""

from __future__ import annotations

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
from hallserver.store.models import EventRow, TicketRow

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
NINE = datetime(2026, 11, 23, 9, 0, tzinfo=TZ)  # a Monday


def make(**hall) -> Hall:
    return Hall(load_hall_config(None, always_open=True, **hall))


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
    assert vars(fresh.tickets["B999"]) == vars(hall.tickets["B999"])
    assert [t.number for t in fresh.waiting()] == [t.number for t in hall.waiting()] == ["A001", "B999"]


# -- through the service layer and the store ---------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.now = NINE

    def __call__(self) -> datetime:
        return self.now


def up(t: str, msg_id: str, **fields) -> bytes:
    return protocols.encode(protocols.make_up(t, msg_id, fields))


def test_service_block_offline_report_print_and_restart(database_url):
    clock = Clock()
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
