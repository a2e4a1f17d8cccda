"""Duplicate, out-of-order and late messages over a real broker: the same id ten times, a retry of
an old id after newer messages, a vote after its window (accepted only when it names a ticket served
at that counter today), a second `serve.done`: one effect or a clear refusal, and the hall checks
out afterwards (tests/faults/invariants.py)."""

from __future__ import annotations

import collections
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from support.listener import Listener

import protocols
from firmware.pilink import DeviceLink, Refusal
from hallserver.bootstrap import Runtime
from hallserver.domain import views
from hallserver.domain.engine import RETAIN
from hallserver.http import tracking
from hallserver.settings import Settings, load_hall_config
from hallserver.store.models import EventRow, RatingRow
from tests.support.clock import Clock

from .invariants import check_hall

topics = protocols.topics


@pytest.fixture
def hall(mqtt_url, tmp_sqlite_url, hall_id):
    clock = Clock(datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh")))
    rt = Runtime(Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0),
                 load_hall_config(None, id=hall_id, always_open=True), clock=clock).start()
    assert rt.adapter is not None and rt.adapter.connected.wait(10)
    links: list[DeviceLink] = []

    def device(device_id: str) -> DeviceLink:
        links.append(DeviceLink(mqtt_url, hall_id, device_id).start())
        return links[-1]

    yield rt, clock, device
    for link in links:
        link.close()
    rt.stop()


def code(link: DeviceLink, t: str, fields: dict | None = None, msg_id: str | None = None) -> str:
    with pytest.raises(Refusal) as exc:
        link.request(t, fields, msg_id=msg_id)
    return exc.value.code


def kinds(rt: Runtime) -> collections.Counter[tuple[str, str | None]]:
    with rt.store.sessions() as s:
        return collections.Counter((e.kind, e.number) for e in s.query(EventRow).filter_by(hall=rt.config.id))


def test_same_id_ten_times_and_old_ids_out_of_order(hall, mqtt_url, hall_id):
    rt, _, device = hall
    kiosk, terminal = device("kiosk-1"), device("ct-01")
    replies = Listener(mqtt_url, topics.down(hall_id, "kiosk-1"))
    for _ in range(10):  # ten copies in a burst, as a device retrying on a flaky link would
        kiosk.send("ticket.take", {"service": "tu-phap"}, msg_id="take-1")
    with replies.cond:
        assert replies.cond.wait_for(lambda: sum(m.get("re") == "take-1" for m in replies.messages) == 10, 10)
        burst = [m for m in replies.messages if m.get("re") == "take-1"]
    replies.close()
    assert all(m == burst[0] for m in burst) and burst[0]["ticket"]["number"] == "A001"
    second = kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="take-2")["ticket"]["number"]
    # a late retry of the first id, after a newer message: the same answer, no third ticket
    assert kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="take-1") == burst[0]
    assert kiosk.request("ticket.take", {"service": "tu-phap"}, msg_id="take-2")["ticket"]["number"] == second
    # the same id from another device is another message
    other = device("kiosk-2").request("ticket.take", {"service": "tu-phap"}, msg_id="take-1")
    assert other["ticket"]["number"] == "A003"

    terminal.request("officer.login", {"officer": "o01", "pin": "0000"}, msg_id="login-1")
    call = terminal.request("call.next", msg_id="next-1")
    terminal.request("serve.done", msg_id="done-1")
    terminal.request("call.next", msg_id="next-2")
    # old ids replayed after newer ones: each answered as the first time, none acts again
    assert terminal.request("call.next", msg_id="next-1") == call
    assert terminal.request("officer.login", {"officer": "o01", "pin": "0000"}, msg_id="login-1")["ok"]
    terminal.request("serve.done", msg_id="done-1")
    counts = kinds(rt)
    assert [counts[("ticket.issued", n)] for n in ("A001", "A002", "A003")] == [1, 1, 1]
    assert counts[("ticket.called", "A001")] == 1 and counts[("ticket.done", "A001")] == 1
    assert counts[("ticket.called", "A002")] == 1 and counts[("ticket.done", "A002")] == 0
    assert counts[("officer.logged_in", None)] == 1
    assert rt.service.metrics["duplicates"] >= 9 + 4
    check_hall(rt.service)


def test_serve_done_twice_and_commands_out_of_order(hall):
    rt, _, device = hall
    kiosk, terminal = device("kiosk-1"), device("ct-01")
    kiosk.request("ticket.take", {"service": "tu-phap"})
    assert code(terminal, "serve.done") == "not_logged_in"  # before login
    terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
    assert code(terminal, "serve.done") == "no_current_ticket"  # before a call
    assert code(terminal, "call.recall") == "no_current_ticket"
    terminal.request("call.next")
    terminal.request("serve.done", msg_id="done-a")
    assert code(terminal, "serve.done", msg_id="done-b") == "no_current_ticket"  # a second done, new id
    assert terminal.request("serve.done", msg_id="done-a")["ok"]  # the first, retried: same reply
    assert code(terminal, "call.recall") == "no_current_ticket"
    assert code(terminal, "serve.hold") == "no_current_ticket"
    assert code(terminal, "call.no_show") == "no_current_ticket"
    assert code(terminal, "counter.resume") == "not_paused"
    assert code(terminal, "serve.transfer", {"service": "tu-phap"}) == "no_current_ticket"
    terminal.request("officer.logout")
    assert code(terminal, "serve.done") == "not_logged_in"
    assert code(terminal, "officer.logout") == "not_logged_in"
    counts = kinds(rt)
    assert counts[("ticket.done", "A001")] == 1 and counts[("ticket.called", "A001")] == 1
    assert rt.service.metrics["refused.no_current_ticket"] >= 6
    check_hall(rt.service)


def test_votes_after_their_window(hall):
    rt, clock, device = hall
    kiosk, ct1, ct2, rb1, rb2 = (device(d) for d in ("kiosk-1", "ct-01", "ct-02", "rb-01", "rb-02"))
    for _ in range(3):
        kiosk.request("ticket.take", {"service": "tu-phap"})
    ct1.request("officer.login", {"officer": "o01", "pin": "0000"})
    ct2.request("officer.login", {"officer": "o02", "pin": "0000"})
    assert ct1.request("call.next")["ticket"]["number"] == "A001"
    assert ct2.request("call.next")["ticket"]["number"] == "A002"
    ct1.request("serve.done")
    ct2.request("serve.done")
    rb1.wait_state(lambda s: s["armed"] and s["ticket"] == "A001")

    clock.now += timedelta(seconds=rt.config.rating_window_s + 60)  # both windows close
    changed, _ = rt.service.tick()
    assert changed
    rt.adapter.inbox.put("outputs")
    rb1.wait_state(lambda s: not s["armed"])

    assert code(rb1, "rating.vote", {"score": "hai-long"}) == "not_armed"  # late and names nothing
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A003"}) == "not_armed"  # still waiting
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A002"}) == "not_armed"  # served at counter 2
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "Z999"}) == "not_armed"  # never issued
    # late but naming the ticket this counter served today (a button that lost its link): counted
    late = rb1.request("rating.vote", {"score": "khong-hai-long", "reason": "thoi-gian-cho", "ticket": "A001"})
    assert late["rating"] == {"ticket": "A001", "score": "khong-hai-long"}
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A001"}) == "already_rated"
    assert rb2.request("rating.vote", {"score": "rat-hai-long", "ticket": "A002"})["rating"]["ticket"] == "A002"

    # a vote from yesterday's button arrives the next morning: the day rolled, nothing to credit
    clock.now += timedelta(days=1)
    rt.service.tick()
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A003"}) == "not_armed"
    with rt.store.sessions() as s:
        rows = s.query(RatingRow).filter_by(hall=rt.config.id).order_by(RatingRow.id).all()
        assert [(r.number, r.counter, r.officer, r.score) for r in rows] == [
            ("A001", 1, "o01", "khong-hai-long"), ("A002", 2, "o02", "rat-hai-long")]
    check_hall(rt.service)


def test_a_ticket_finished_long_ago_is_answered_from_the_store(hall):
    """Half an hour after it finished, the engine has retired a ticket (engine.RETAIN: memory follows
    the hall, not the day): its tracking link and its number still show it done, and a late vote
    naming it counts once, from what the store says of it."""
    rt, clock, device = hall
    kiosk, ct1, rb1 = (device(d) for d in ("kiosk-1", "ct-01", "rb-01"))
    taken = kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]
    token = taken["track_url"].rsplit("/", 1)[1]
    ct1.request("officer.login", {"officer": "o01", "pin": "0000"})
    assert ct1.request("call.next")["ticket"]["number"] == "A001"
    ct1.request("serve.done")
    clock.now += RETAIN + timedelta(minutes=1)
    kiosk.request("ticket.take", {"service": "tu-phap"})  # its event finds A001 due
    assert not rt.service.snapshot(lambda h, now: "A001" in h.tickets)

    found, error = tracking.lookup(rt, token)
    assert error is None and found["number"] == "A001" and found["status"] == "done"
    assert rt.service.ticket(views.ticket_status, number="A001")["status"] == "done"
    assert rt.service.ticket(views.ticket_status, number="A009") is None
    assert rt.service.snapshot(lambda h, now: h.day_counts()["tu-phap"]) == {
        "issued": 2, "called": 1, "within": 1, "served": 1}

    late = rb1.request("rating.vote", {"score": "hai-long", "ticket": "A001"}, msg_id="late-1")
    assert late["rating"] == {"ticket": "A001", "score": "hai-long"}
    assert code(rb1, "rating.vote", {"score": "rat-hai-long", "ticket": "A001"}, msg_id="late-2") == "already_rated"
    assert rb1.request("rating.vote", {"score": "hai-long", "ticket": "A001"}, msg_id="late-1") == late  # a retry
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A002"}) == "not_armed"  # still waiting
    rt.service.reconfigure(rt.service.config)  # the day replayed: the vote is in the store now
    assert code(rb1, "rating.vote", {"score": "hai-long", "ticket": "A001"}, msg_id="late-3") == "already_rated"
    with rt.store.sessions() as s:
        rows = s.query(RatingRow).filter_by(hall=rt.config.id).all()
        assert [(r.number, r.counter, r.officer, r.score) for r in rows] == [("A001", 1, "o01", "hai-long")]
    check_hall(rt.service)
