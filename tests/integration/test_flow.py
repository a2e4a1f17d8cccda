"""The Spine's end-to-end flow over a real broker: ticket, login, call, LED state, calls, done,
armed rating button, vote stored against ticket and officer; and duplicates with one effect."""

from __future__ import annotations

from support.listener import Listener

import protocols
from hallserver.store.models import EventRow, RatingRow, TicketRow

topics = protocols.topics


def test_ticket_call_done_rate(server, device, mqtt_url, hall_id):
    calls = Listener(mqtt_url, topics.calls(hall_id))
    kiosk, terminal, rating = device("kiosk-1"), device("ct-05"), device("rb-05")
    ticket = kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})["ticket"]
    assert ticket["number"] == "B001" and ticket["ahead"] == 0
    assert ticket["track_url"].startswith("http") and ticket["service_name"] == "Sở Kế hoạch và Đầu tư"

    login = terminal.request("officer.login", {"officer": "o05", "pin": "0000"})
    assert login["officer"]["id"] == "o05"
    called = terminal.request("call.next")
    assert called["ticket"] == {"number": "B001", "service": "ke-hoach-dau-tu"}

    # a display that starts now gets the number from the retained state alone
    led = device("led-05")
    state = led.wait_state(lambda s: s.get("number") == "B001")
    assert state["status"] == "open" and state["call_seq"] == 1
    call = calls.wait_for(lambda m: m["number"] == "B001")
    assert call["counter"] == 5 and call["recall"] == 0
    terminal.wait_state(lambda s: s["current"] and s["current"]["number"] == "B001")

    terminal.request("serve.done")
    armed = rating.wait_state(lambda s: s["armed"])
    assert armed["ticket"] == "B001" and armed["officer"] == "o05"
    vote = rating.request("rating.vote", {"score": "rat-hai-long"})
    assert vote["rating"] == {"ticket": "B001", "score": "rat-hai-long"}
    rating.wait_state(lambda s: not s["armed"])
    calls.close()

    with server.store.sessions() as s:
        rows = s.query(RatingRow).filter_by(hall=hall_id).all()
        assert [(r.number, r.officer, r.counter, r.score) for r in rows] == [("B001", "o05", 5, "rat-hai-long")]
        t = s.query(TicketRow).filter_by(hall=hall_id, number="B001").one()
        assert (t.status, t.counter, t.officer) == ("done", 5, "o05")


def test_duplicate_deliveries_have_one_effect(server, device, hall_id):
    kiosk, terminal, rating = device("kiosk-2"), device("ct-22"), device("rb-22")
    first = kiosk.request("ticket.take", {"service": "giao-thong"}, msg_id="take-1")
    for _ in range(3):  # a device retrying after a lost reply: same id, same answer
        assert kiosk.request("ticket.take", {"service": "giao-thong"}, msg_id="take-1") == first
    second = kiosk.request("ticket.take", {"service": "giao-thong"})
    assert (first["ticket"]["number"], second["ticket"]["number"]) == ("N001", "N002")

    terminal.request("officer.login", {"officer": "o22", "pin": "0000"})
    a = terminal.request("call.next", msg_id="next-1")
    assert terminal.request("call.next", msg_id="next-1") == a  # not a second call
    terminal.request("serve.done", msg_id="done-1")
    terminal.request("serve.done", msg_id="done-1")
    rating.wait_state(lambda s: s["armed"])
    v = rating.request("rating.vote", {"score": "hai-long"}, msg_id="vote-1")
    assert rating.request("rating.vote", {"score": "hai-long"}, msg_id="vote-1") == v

    with server.store.sessions() as s:
        kinds = [e.kind for e in s.query(EventRow).filter_by(hall=hall_id).order_by(EventRow.id)]
        assert kinds.count("ticket.issued") == 2
        assert kinds.count("ticket.called") == 1 and kinds.count("ticket.done") == 1
        assert s.query(RatingRow).filter_by(hall=hall_id).count() == 1
    assert server.service.metrics["duplicates"] == 6
