"""The HTTP API against the real server: statuses, shapes and error texts."""

from __future__ import annotations

import httpx
import pytest

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


@pytest.fixture
def http(server):
    port = server.start_http_thread(port=0)
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        yield client


def test_health(http, server):
    body = http.get("/healthz").json()
    assert body["status"] == "ok" and body["hall"] == server.config.id and body["mqtt_connected"] is True


def test_hall_description_has_no_pins(http):
    r = http.get("/api/hall")
    assert r.status_code == 200
    hall = r.json()
    assert len(hall["services"]) == 22 and len(hall["counters"]) == 37 and len(hall["officers"]) == 38
    assert {c["kind"] for c in hall["counters"]} == {"receiving", "inter_agency", "returning"}
    assert [lv["label"] for lv in hall["rating_levels"]] == ["Rất hài lòng", "Hài lòng", "Không hài lòng"]
    assert {"id", "kind", "counter"} <= set(hall["devices"][0])
    assert "pin" not in r.text and "pbkdf2" not in r.text


def viewer_token(server) -> str:
    """An API token with the viewer role, made the way /admin makes one."""
    from hallserver.http.auth import TOKEN_PREFIX, digest
    from hallserver.store.accounts import Accounts

    token = TOKEN_PREFIX + "test-viewer-token-0123456789abcdef"
    Accounts(server.store).create_token("test", digest(token), "viewer", "test", server.service.now())
    return token


def test_queues_and_tickets(http, device, server):
    kiosk = device("kiosk-1")
    ticket = kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]
    kiosk.request("ticket.take", {"service": "tu-phap"})
    rows = {q["service"]: q for q in http.get("/api/queues").json()}
    assert rows["tu-phap"]["waiting"] == 2 and rows["tu-phap"]["issued"] == 2 and rows["y-te"]["waiting"] == 0

    assert http.get("/api/tickets/a002").status_code == 401  # by number: staff only (see tests/manager)
    staff = {"Authorization": f"Bearer {viewer_token(server)}"}
    t = http.get("/api/tickets/a002", headers=staff).json()
    assert (t["number"], t["status"], t["ahead"], t["service_name"]) == ("A002", "waiting", 1, "Sở Tư pháp")

    r = http.get("/api/tickets/A999", headers=staff)
    assert r.status_code == 404 and "Không có số A999" in r.json()["detail"]
    r = http.get("/api/tickets/x-1", headers=staff)
    assert r.status_code == 422 and "không hợp lệ" in r.json()["detail"]

    token = ticket["track_url"].rsplit("/", 1)[-1]
    assert http.get(f"/api/track/{token}").json()["number"] == "A001"
    r = http.get("/api/track/not-a-real-token")
    assert r.status_code == 404 and "Không tìm thấy" in r.json()["detail"] and r.json()["code"] == "unknown"
    page = http.get(f"/t/{token}")
    assert page.status_code == 200 and "Số thứ tự của bạn" in page.text


def test_pages_and_docs_are_local(http):
    assert "Tổng quan sảnh" in http.get("/").text
    docs = http.get("/docs").text
    assert "swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    assert http.get("/openapi.json").json()["paths"]["/api/queues"]
    assert http.get("/static/overview.js").status_code == 200


def test_voice_clip_of_a_call(http):
    r = http.get("/api/voice/call.wav", params={"number": "b001", "counter": 3})
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav"
    assert r.content[:4] == b"RIFF" and r.content[8:12] == b"WAVE" and len(r.content) > 50_000
    bad = http.get("/api/voice/call.wav", params={"number": "B001", "counter": 99})
    assert bad.status_code == 422 and "không hợp lệ" in bad.json()["detail"]
