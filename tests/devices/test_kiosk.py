"""The touch kiosk page's HTTP calls: a ticket through the same service layer as MQTT ticket.take,
idempotent by the page's id, pushed to the dispenser, which prints it once and confirms it."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from pi_hardware import ticket_numbers

import protocols
from firmware.ticket_dispenser.dispenser import Dispenser
from firmware.ticket_dispenser.journal import Journal
from firmware.ticket_dispenser.printer import Printer, SerialPort
from hallserver.http import kiosk
from hallserver.store.models import TicketRow
from tests.support.wait import until

SERVICE = "ke-hoach-dau-tu"


@pytest.fixture
def client(server):
    app = server.app()
    app.include_router(kiosk.router(server))
    with TestClient(app) as c:
        yield c


def test_kiosk_ticket_is_pushed_printed_once_and_confirmed(server, client, device, hall_id, pty_printer, tmp_path,
                                                           request):
    link = device("kiosk-1")
    dispenser = Dispenser(link, Printer(SerialPort(pty_printer.path), status_timeout=2),
                          Journal(tmp_path / "journal.json"), ZoneInfo(server.config.timezone),
                          request_timeout=5, retry_s=1).start()
    request.addfinalizer(dispenser.close)  # its worker would go on polling a closed pty
    assert dispenser.synced.wait(10)
    # the agent's status reaches the store through the broker and the server's worker, in its own time
    state = until(lambda: (s := client.get("/api/kiosk/kiosk-1").json())["printer"]["paper"] is not None and s,
                  what="the dispenser's printer status at the server")
    assert state["printer"]["online"] and state["printer"]["paper"] == "ok"
    svc = next(s for s in state["services"] if s["code"] == SERVICE)
    assert svc == {"code": SERVICE, "name": "Sở Kế hoạch và Đầu tư", "prefix": "B", "open": True, "waiting": 0,
                   "eta_min": 0}

    first = client.post("/api/kiosk/kiosk-1/tickets", json={"id": "web-a1", "service": SERVICE})
    assert first.status_code == 200 and first.json()["printing"] is True
    ticket = first.json()["ticket"]
    assert ticket["number"] == "B001"
    again = client.post("/api/kiosk/kiosk-1/tickets", json={"id": "web-a1", "service": SERVICE})
    assert again.json() == {"ticket": ticket, "printing": True, "duplicate": True}  # a retried touch
    printed = dispenser.results.get(timeout=10)
    assert printed.ticket == ticket
    second = client.post("/api/kiosk/kiosk-1/tickets", json={"id": "web-a2", "service": SERVICE}).json()["ticket"]
    assert dispenser.results.get(timeout=10).ticket == second
    pty_printer.wait_cuts(2)
    assert [ticket_numbers(j) for j in pty_printer.tickets()] == [[ticket["track_url"]], [second["track_url"]]]
    with server.store.sessions() as s:
        rows = s.query(TicketRow).filter_by(hall=hall_id).order_by(TicketRow.number).all()
        assert [(r.number, r.device, r.printed_at is not None) for r in rows] == [
            ("B001", "kiosk-1", True), ("B002", "kiosk-1", True)]
    assert client.get("/api/kiosk/kiosk-1").json()["services"][1]["waiting"] == 2


def test_kiosk_refusals(server, client):
    assert client.get("/kiosk/kiosk-2").headers["content-type"].startswith("text/html")
    assert client.get("/kiosk/ct-05").status_code == 404
    assert client.get("/static/kiosk.js").status_code == 200
    bad = client.post("/api/kiosk/kiosk-2/tickets", json={"id": "web-1", "service": "khong-co"})
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_service"
    bad_id = client.post("/api/kiosk/kiosk-2/tickets", json={"id": "x y", "service": SERVICE})
    assert bad_id.status_code == 422
    server.service.handle_status("kiosk-2", protocols.encode(protocols.status(True, {"paper": "out"})))
    out = client.post("/api/kiosk/kiosk-2/tickets", json={"id": "web-2", "service": SERVICE})
    assert out.status_code == 409 and out.json()["message"] == "Máy in hết giấy, vui lòng báo cán bộ"
    assert server.service.hall.tickets == {}  # nothing issued by any of these


def test_the_page_in_chromium_takes_one_ticket_per_touch(server, browser):
    """The real page: services from the API, a touch shows the number the server issued."""
    port = server.start_http_thread(0)
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    try:
        page.goto(f"http://127.0.0.1:{port}/kiosk/kiosk-1")
        page.click(f"button[data-service='{SERVICE}']")
        page.wait_for_function("document.getElementById('number').textContent === 'B001'")
        assert "Sở Kế hoạch và Đầu tư" in page.text_content("#service")
        assert "ghi nhớ" in page.text_content("#hint")  # no dispenser agent online: no printer
    finally:
        page.close()
    assert list(server.service.hall.tickets) == ["B001"]


def test_the_qr_code_of_a_ticket_is_drawn_by_the_server(server, client):
    ticket = client.post("/api/kiosk/kiosk-1/tickets", json={"id": "web-q1", "service": SERVICE}).json()["ticket"]
    svg = client.get(f"/api/kiosk/kiosk-1/tickets/{ticket['number']}/qr.svg")
    assert svg.status_code == 200 and svg.headers["content-type"] == "image/svg+xml"
    assert svg.content == kiosk.qr_svg(ticket["track_url"]) and svg.content.lstrip().startswith(b"<?xml")
    assert b"<svg" in svg.content and len(svg.content) < 12_000
    assert client.get(f"/api/kiosk/kiosk-2/tickets/{ticket['number']}/qr.svg").status_code == 404  # not its own
    assert client.get("/api/kiosk/kiosk-1/tickets/B999/qr.svg").status_code == 404


def test_the_page_shows_the_qr_code_and_follows_the_hall_stream(server, client, browser):
    """After a touch the page shows the tracking link and its QR code; the waiting counts change
    with the hall's event stream (GET /api/stream), not with a poll (the page polls once a minute)."""
    port = server.start_http_thread(0)
    page = browser.new_page(viewport={"width": 1280, "height": 800}, locale="vi-VN")
    try:
        streams = []
        page.on("request", lambda r: streams.append(r.url) if r.url.endswith("/api/stream") else None)
        page.goto(f"http://127.0.0.1:{port}/kiosk/kiosk-1")
        page.click(f"button[data-service='{SERVICE}']")
        page.wait_for_function("document.getElementById('number').textContent === 'B001'")
        page.wait_for_function("(q => !q.hidden && q.complete && q.naturalWidth > 0)"
                               "(document.getElementById('qr'))")
        track_url = views_track_url(server, "B001")
        assert page.text_content("#link") == track_url
        assert page.get_attribute("#qr", "src").endswith("/api/kiosk/kiosk-1/tickets/B001/qr.svg")
        meta = f"button[data-service='{SERVICE}'] .meta"
        page.wait_for_function(f"document.querySelector(\"{meta}\").textContent.startsWith('Đang chờ: 1 ')")
        # a ticket taken elsewhere (another dispenser): the page hears of it from the stream
        other = client.post("/api/kiosk/kiosk-2/tickets", json={"id": "web-s1", "service": SERVICE})
        assert other.status_code == 200
        page.wait_for_function(f"document.querySelector(\"{meta}\").textContent.startsWith('Đang chờ: 2 ')",
                               timeout=8000)
        assert streams  # the page opened the hall's stream
    finally:
        page.close()


def views_track_url(server, number: str) -> str:
    from hallserver.domain import views

    return server.service.snapshot(lambda hall, now: views.ticket_reply(hall.tickets[number], hall)["track_url"])
