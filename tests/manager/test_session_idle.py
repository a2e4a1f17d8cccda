"""Idle sign-out (HALL_SESSION_IDLE_MIN, 30 minutes by default) besides the 12-hour limit: a request
the person makes slides the window (stored time and cookie Max-Age); the dashboard's event stream
and its background refreshes do not, and the stream ends with `signed_out` once the session is
gone. Viewer accounts (the wall screen's dashboard) have no idle limit. Time is a scripted clock."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import pytest
from manager_kit import TZ, Clock, create_users, sign_in

from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from hallserver.store.accounts import Accounts

server_tests = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 7, 30, tzinfo=TZ))


@pytest.fixture
def base(mqtt_url, tmp_sqlite_url, hall_id, clock):
    settings = Settings(mqtt_url=mqtt_url, database_url=tmp_sqlite_url, config_path=None, http_port=0,
                        session_idle_min=30)
    rt = Runtime(settings, load_hall_config(None, id=hall_id, always_open=True), clock=clock).start()
    create_users(Accounts(rt.store), clock())
    yield f"http://127.0.0.1:{rt.start_http_thread(port=0)}"
    rt.stop()


def max_age(response: httpx.Response) -> int | None:
    found = re.search(r"hall_session=[^;]+;.*?Max-Age=(\d+)", response.headers.get("set-cookie", ""), re.I)
    return int(found.group(1)) if found else None


@server_tests
def test_activity_slides_the_idle_window(base, clock):
    client = httpx.Client(base_url=base, follow_redirects=False)
    r = client.post("/login", data={"username": "manager", "password": "correct horse battery",
                                    "csrf": client.get("/login").text.split('name="csrf" value="', 1)[1][:43]})
    assert r.status_code == 303 and max_age(r) == 30 * 60  # the cookie itself ends after the idle limit
    for _ in range(4):  # two hours of work, a request every 25 minutes
        clock.advance(minutes=25)
        r = client.get("/api/dashboard")
        assert r.status_code == 200 and max_age(r) == 30 * 60  # renewed
    r = client.get("/api/dashboard")
    assert r.status_code == 200 and max_age(r) is None  # written at most once a minute
    clock.advance(minutes=31)
    assert client.get("/api/dashboard").status_code == 401
    clock.advance(minutes=1)
    assert client.get("/api/dashboard").status_code == 401  # the session is gone, not just idle
    assert client.get("/dashboard").headers["location"].endswith("/login?next=/dashboard")


@server_tests
def test_streams_and_background_refreshes_are_not_activity(base, clock):
    manager = sign_in(base, "manager")
    clock.advance(minutes=20)
    with manager.stream("GET", "/api/dashboard/stream", headers={"Accept": "text/event-stream"}) as r:
        assert r.status_code == 200 and max_age(r) is None
        lines = r.iter_lines()
        assert next(lines) == "event: dashboard"
        assert manager.get("/api/audit?limit=8", headers={"X-Hall-Background": "1"}).status_code == 200
        clock.advance(minutes=11)  # 31 minutes since the last thing the manager did
        events = []
        for line in lines:  # the stream checks the session at its next refresh (a few seconds)
            if line.startswith("event: "):
                events.append(line[7:])
                if line == "event: signed_out":
                    break
        assert events[-1] == "signed_out"
    assert manager.get("/api/me").status_code == 401


@server_tests
def test_viewer_on_a_wall_screen_has_no_idle_limit(base, clock):
    viewer, manager = sign_in(base, "viewer"), sign_in(base, "manager")
    clock.advance(hours=3)
    r = viewer.get("/api/dashboard")
    assert r.status_code == 200
    assert manager.get("/api/dashboard").status_code == 401
    clock.advance(hours=9, minutes=1)  # the absolute limit (12 hours) still holds
    assert viewer.get("/api/dashboard").status_code == 401


def test_idle_limit_setting():
    assert Settings.from_env({}).session_idle_min == 30
    assert Settings.from_env({}).session_idle_exempt == ("viewer",)
    env = {"HALL_SESSION_IDLE_MIN": "0", "HALL_SESSION_IDLE_EXEMPT": ""}
    assert (Settings.from_env(env).session_idle_min, Settings.from_env(env).session_idle_exempt) == (0, ())
    with pytest.raises(ValueError, match="HALL_SESSION_IDLE_MIN"):
        Settings.from_env({"HALL_SESSION_IDLE_MIN": "-5"})
