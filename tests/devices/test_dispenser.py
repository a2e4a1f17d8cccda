"""The ticket dispenser end to end: mock GPIO buttons, a pty printer, the real broker and server.

A press prints exactly one ticket with the server's number and is confirmed; paper out refuses;
a restart in the middle of a ticket prints that ticket again, never a new number; with the server
gone, numbers come from the reserved block and join the queues at their issue time on return.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pi_hardware import PtyPrinter, ticket_numbers
from support.listener import Listener

import protocols
from firmware.ticket_dispenser.buttons import ButtonSpec, ServiceButtons
from firmware.ticket_dispenser.dispenser import Dispenser
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer, SerialPort
from hallserver.bootstrap import Runtime
from hallserver.store.models import EventRow, TicketRow

SERVICE = "ke-hoach-dau-tu"  # prefix B, served at counter 5


def hall_info(rt: Runtime) -> dict:
    """What GET /api/hall gives a dispenser: the hall's name, service names and prefixes."""
    cfg = rt.config
    return {"name": cfg.name,
            "services": [{"code": s.code, "name": s.name, "prefix": s.prefix} for s in cfg.services.values()],
            "priority_categories": [{"key": c.key, "label": c.label} for c in cfg.priority.categories]}


STARTED: list[Dispenser] = []  # by make(), stopped after each test (a worker left running polls a closed pty)


@pytest.fixture(autouse=True)
def _stop_dispensers() -> Iterator[None]:
    yield
    while STARTED:
        STARTED.pop().close(timeout=5)


def make(rt, link, pty, tmp_path, port=None, **kw) -> Dispenser:
    printer = Printer(port or SerialPort(pty.path), status_timeout=2)
    d = Dispenser(link, printer, Journal(tmp_path / "journal.json"), ZoneInfo(rt.config.timezone),
                  hall=hall_info(rt), request_timeout=5, retry_s=1, **kw)
    STARTED.append(d)
    return d.start()


def issued(rt: Runtime, hall_id: str) -> list[TicketRow]:
    with rt.store.sessions() as s:
        return s.query(TicketRow).filter_by(hall=hall_id).order_by(TicketRow.issued_at).all()


def test_a_button_press_prints_one_ticket_confirmed_to_the_server(server, device, hall_id, pins, pty_printer,
                                                                  tmp_path):
    dispenser = make(server, device("kiosk-1"), pty_printer, tmp_path)
    assert dispenser.synced.wait(10)
    ServiceButtons([ButtonSpec(SERVICE, 17, led=27)], dispenser)
    button, lamp = pins.pin(17), pins.pin(27)
    assert lamp.state  # lit: paper in, online
    times = []
    for i in range(5):
        start = time.monotonic()
        button.drive_low()
        button.drive_high()
        result = dispenser.results.get(timeout=10)
        pty_printer.wait_cuts(i + 1)
        times.append(pty_printer.cut_times[i] - start)
        assert result.error is None and result.ticket["number"] == f"B00{i + 1}" and not result.offline
        assert ticket_numbers(pty_printer.tickets()[i]) == [result.ticket["track_url"]]
    assert len(pty_printer.tickets()) == 5
    rows = issued(server, hall_id)
    assert [r.number for r in rows] == ["B001", "B002", "B003", "B004", "B005"]
    assert all(r.printed_at is not None and r.device == "kiosk-1" and not r.offline for r in rows)
    print(f"\npress -> ticket fully written to the pty: median {statistics.median(times) * 1000:.1f} ms, "
          f"max {max(times) * 1000:.1f} ms; {len(pty_printer.data) / 5:.0f} bytes per ticket "
          f"(~{len(pty_printer.data) / 5 * 10 / 115200:.1f} s on a 115200 baud line)")


def test_a_second_press_while_printing_is_ignored(server, device, hall_id, pins, pty_printer, tmp_path):
    dispenser = make(server, device("kiosk-1"), pty_printer, tmp_path)
    assert dispenser.synced.wait(10)
    assert dispenser.press(SERVICE) is True
    assert dispenser.press(SERVICE) is False  # an impatient double press
    assert dispenser.results.get(timeout=10).ticket["number"] == "B001"
    assert dispenser.ignored == 1 and len(issued(server, hall_id)) == 1


def test_paper_out_refuses_and_says_why(server, device, mqtt_url, hall_id, pty_printer, tmp_path):
    status = Listener(mqtt_url, protocols.topics.status(hall_id, "kiosk-1"))
    pty_printer.status.update({1: 0x1A, 2: 0x32, 4: 0x72})  # paper end: offline, roll sensor empty
    dispenser = make(server, device("kiosk-1"), pty_printer, tmp_path)
    dispenser.press(SERVICE)
    result = dispenser.results.get(timeout=10)
    assert result.error == "paper_out" and result.ticket is None
    assert status.wait_for(lambda m: m.get("paper") == "out")["printer"] == "offline"
    assert issued(server, hall_id) == [] and pty_printer.tickets() == []
    pty_printer.status.update({1: 0x12, 2: 0x12, 4: 0x1E})  # paper back, the near-end sensor on
    dispenser.press(SERVICE)
    assert dispenser.results.get(timeout=10).ticket["number"] == "B001"
    assert status.wait_for(lambda m: m.get("paper") == "near_end")
    status.close()


def test_an_unplugged_printer_refuses_and_prints_again_once_plugged_back(server, device, mqtt_url, hall_id,
                                                                          tmp_path):
    """A pulled USB cable makes the port fail: the dispenser says so (status, refusal) and keeps
    running; the printer plugged back in (a new device node) is opened again at the next press."""
    status = Listener(mqtt_url, protocols.topics.status(hall_id, "kiosk-1"))
    ptys = [PtyPrinter()]
    printer = Printer(SerialPort(ptys[0].path), status_timeout=2, reopen=lambda: SerialPort(ptys[-1].path))
    dispenser = Dispenser(device("kiosk-1"), printer, Journal(tmp_path / "journal.json"),
                          ZoneInfo(server.config.timezone), hall=hall_info(server), request_timeout=5,
                          retry_s=1).start()
    try:
        assert dispenser.synced.wait(10)
        dispenser.press(SERVICE)
        assert dispenser.results.get(timeout=10).ticket["number"] == "B001"
        ptys[0].wait_cuts(1)
        ptys[0].close()  # the cable is pulled
        dispenser.press(SERVICE)
        assert dispenser.results.get(timeout=10).error == "printer_error"
        assert status.wait_for(lambda m: m.get("printer") == "disconnected")["online"] is True
        assert [t.number for t in issued(server, hall_id)] == ["B001"]  # nothing issued meanwhile
        ptys.append(PtyPrinter())  # plugged back in
        dispenser.press(SERVICE)
        result = dispenser.results.get(timeout=10)
        assert result.error is None and result.ticket["number"] == "B002"
        ptys[1].wait_cuts(1)
        assert ticket_numbers(ptys[1].tickets()[0]) == [result.ticket["track_url"]]
        status.wait_for(lambda m: m.get("printer") == "ok" and m is not status.messages[0])
        assert dispenser._worker is not None and dispenser._worker.is_alive()
    finally:
        dispenser.close()
        ptys[-1].close()
        status.close()


class Clock:
    """The hall's time for the server and the dispenser alike, moved only by the test."""

    def __init__(self, start: datetime):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def at(self, hour: int, minute: int) -> None:
        self.now = self.now.replace(hour=hour, minute=minute)


class Crash(BaseException):
    """The agent dying (power cut, kill -9) at a chosen point: nothing after it runs."""


@pytest.fixture
def crashes():
    """The worker thread dies of Crash on purpose: not an unhandled error of the test."""
    previous = threading.excepthook
    threading.excepthook = lambda args: None if args.exc_type is Crash else previous(args)
    yield
    threading.excepthook = previous


class CrashingPort(SerialPort):
    def __init__(self, path: str, after: int):
        super().__init__(path)
        self.left = after

    def write(self, data: bytes) -> None:
        if len(data) > 3 and self.left <= 0:  # status queries pass; the ticket dies mid-way
            raise Crash
        self.left -= len(data)
        super().write(data)


# a device that vanishes without DISCONNECT stalls amqtt's deliveries to the others until its
# acknowledgements time out (README: the embedded broker's limits): these crash tests use Mosquitto
@pytest.mark.parametrize("broker_kind", ["mosquitto"], indirect=True)
def test_restart_in_the_middle_of_a_print_prints_the_same_number(server, device, hall_id, pty_printer, tmp_path,
                                                                   crashes):
    first = device("kiosk-1")
    dispenser = make(server, first, pty_printer, tmp_path, port=CrashingPort(pty_printer.path, after=6000))
    assert dispenser.synced.wait(10)
    dispenser.press(SERVICE)
    dispenser._worker.join(10)  # died with the ticket half sent
    pty_printer.wait_bytes(6000)  # what was written before the crash reaches the printer
    assert not dispenser._worker.is_alive() and pty_printer.cut_times == []
    first.drop()

    again = make(server, device("kiosk-1"), pty_printer, tmp_path)
    result = again.results.get(timeout=10)
    assert result.reprint and result.ticket["number"] == "B001"
    pty_printer.wait_cuts(1)
    assert pty_printer.cleared == 2  # at each start: the second dropped the half ticket from the printer
    (job,) = pty_printer.tickets()
    assert ticket_numbers(job) == [result.ticket["track_url"]]
    (row,) = issued(server, hall_id)
    assert row.number == "B001" and row.printed_at is not None


# a device that vanishes without DISCONNECT stalls amqtt's deliveries to the others until its
# acknowledgements time out (README: the embedded broker's limits): these crash tests use Mosquitto
@pytest.mark.parametrize("broker_kind", ["mosquitto"], indirect=True)
def test_restart_after_sending_the_request_gets_the_same_ticket(server, device, mqtt_url, hall_id, pty_printer,
                                                                tmp_path, crashes):
    replies = Listener(mqtt_url, protocols.topics.down(hall_id, "kiosk-1"))
    first = device("kiosk-1")
    real_request = first.request

    def crash_after_send(t, fields=None, *args, msg_id=None, **kw):
        if t == "ticket.take":
            first.send(t, fields, msg_id)
            raise Crash
        return real_request(t, fields, *args, msg_id=msg_id, **kw)

    first.request = crash_after_send
    dispenser = make(server, first, pty_printer, tmp_path)
    assert dispenser.synced.wait(10)
    dispenser.press(SERVICE)
    issued_reply = replies.wait_for(lambda m: "ticket" in m)  # the server issued B001, nobody printed it
    dispenser._worker.join(10)
    first.drop()

    again = make(server, device("kiosk-1"), pty_printer, tmp_path)
    result = again.results.get(timeout=10)
    assert result.ticket == issued_reply["ticket"] and result.reprint
    pty_printer.wait_cuts(1)
    assert [r.number for r in issued(server, hall_id)] == ["B001"]
    assert server.service.metrics["duplicates"] >= 1
    replies.close()


def test_offline_block_issuing_reported_and_queued_in_time_order(mqtt_url, tmp_sqlite_url, hall_id, device,
                                                                 pty_printer, tmp_path):
    from hallserver.settings import Settings, load_hall_config

    config = load_hall_config(None, id=hall_id, always_open=True)
    clock = Clock(datetime.now(ZoneInfo(config.timezone)).replace(hour=9, minute=0, second=0, microsecond=0))

    def start_server() -> Runtime:
        settings = Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0)
        rt = Runtime(settings, config, clock=clock).start()
        assert rt.adapter.connected.wait(10)
        return rt

    rt = start_server()
    other = device("kiosk-2")
    link = device("kiosk-1")
    dispenser = make(rt, link, pty_printer, tmp_path, block_size=10, clock=clock)
    assert dispenser.synced.wait(10)
    assert dispenser.offline_left(SERVICE) == 10
    assert other.request("ticket.take", {"service": SERVICE})["ticket"]["number"] == "B001"

    gone, back = threading.Event(), threading.Event()
    on_link = link.on_link

    def watch(available: bool) -> None:
        on_link(available)
        (back if available else gone).set()

    link.on_link = watch
    rt.stop()  # the server says offline on its status topic
    assert gone.wait(10) and not link.available
    dispenser.synced.clear()
    offline = []
    for minute in (1, 2):  # 09:01 and 09:02 by the dispenser's clock
        clock.at(9, minute)
        dispenser.press(SERVICE)
        offline.append(dispenser.results.get(timeout=10))
    assert [(r.offline, r.ticket["number"]) for r in offline] == [(True, "B990"), (True, "B991")]
    pty_printer.wait_cuts(2)
    assert all(ticket_numbers(job) == [] for job in pty_printer.tickets())  # no tracking link offline

    clock.at(9, 5)
    rt = start_server()
    try:
        assert back.wait(10) and dispenser.synced.wait(10)
        assert dispenser.journal.data["offline"] == []
        clock.at(9, 6)
        later = other.request("ticket.take", {"service": SERVICE})["ticket"]
        assert later["number"] == "B002"
        hall = rt.service.hall
        assert [t.number for t in hall.waiting(SERVICE)] == ["B001", "B990", "B991", "B002"]
        for r in offline:
            t = hall.tickets[r.ticket["number"]]
            assert t.offline and t.queued_at == datetime.fromisoformat(r.ticket["issued_at"])
        with rt.store.sessions() as s:
            kinds = [e.kind for e in s.query(EventRow).filter_by(hall=hall_id)]
        assert kinds.count("ticket.offline_issued") == 2 and kinds.count("dispenser.block_reserved") == 1
    finally:
        rt.stop()


def test_a_take_whose_reply_is_lost_is_voided_when_its_offline_ticket_is_reported(
        mqtt_url, tmp_sqlite_url, hall_id, device, pty_printer, tmp_path):
    """The last duplicate: the server commits the take, the reply never arrives and the link drops;
    the citizen gets an offline number. On return the phantom is voided and the offline ticket is
    the citizen's only ticket in the queue."""
    from hallserver.settings import Settings, load_hall_config

    config = load_hall_config(None, id=hall_id, always_open=True)
    clock = Clock(datetime.now(ZoneInfo(config.timezone)).replace(hour=9, minute=0, second=0, microsecond=0))

    def start_server() -> Runtime:
        settings = Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0)
        rt = Runtime(settings, config, clock=clock).start()
        assert rt.adapter.connected.wait(10)
        return rt

    rt = start_server()
    replies = Listener(mqtt_url, protocols.topics.down(hall_id, "kiosk-1"))
    link = device("kiosk-1")
    dispenser = make(rt, link, pty_printer, tmp_path, block_size=10, clock=clock)
    assert dispenser.synced.wait(10)

    # the link loses every reply to a ticket.take from now on (the server's reply is on its way
    # when the connection goes)
    receive = link.client.on_message
    lose = threading.Event()
    lose.set()

    def lossy(client, userdata, msg):
        if lose.is_set() and msg.topic.endswith("/down") and b'"ticket"' in msg.payload:
            return
        receive(client, userdata, msg)

    link.client.on_message = lossy
    gone, back = threading.Event(), threading.Event()
    on_link = link.on_link

    def watch(available: bool) -> None:
        on_link(available)
        (back if available else gone).set()

    link.on_link = watch
    dispenser.press(SERVICE)
    committed = replies.wait_for(lambda m: "ticket" in m)  # the server issued B001 for the take
    assert committed["ticket"]["number"] == "B001"
    rt.stop()
    assert gone.wait(10)
    result = dispenser.results.get(timeout=15)  # the request times out: an offline number instead
    assert (result.offline, result.ticket["number"]) == (True, "B990")
    pty_printer.wait_cuts(1)
    assert dispenser.journal.data["voids"] == [{"id": dispenser.journal.data["voids"][0]["id"],
                                                "take": committed["re"]}]
    lose.clear()

    clock.at(9, 5)
    dispenser.synced.clear()  # no sync runs while the server is away
    rt = start_server()
    try:
        assert back.wait(10) and dispenser.synced.wait(15)
        assert dispenser.journal.data["voids"] == [] and dispenser.journal.data["offline"] == []
        hall = rt.service.hall
        assert [t.number for t in hall.waiting(SERVICE)] == ["B990"]  # one ticket for that citizen
        assert hall.tickets["B001"].status == "voided"
        rows = {r.number: r.status for r in issued(rt, hall_id)}
        assert rows == {"B001": "voided", "B990": "waiting"}
        assert len(pty_printer.tickets()) == 1
        with rt.store.sessions() as s:
            kinds = [e.kind for e in s.query(EventRow).filter_by(hall=hall_id).order_by(EventRow.id)]
        assert kinds == ["dispenser.block_reserved", "ticket.issued", "ticket.voided", "ticket.offline_issued"]
    finally:
        rt.stop()
        replies.close()
