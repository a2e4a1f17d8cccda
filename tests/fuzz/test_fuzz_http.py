"""Hostile HTTP requests against the API of a running hall server (httpx against
`start_http_thread`), and schemathesis driven by its OpenAPI document: never a 5xx, the server goes
on serving, and the hall's board is unchanged.

Left out of both: the */stream routes (server-sent events: responses that never end) and
/api/voice/call.wav (answers 503 by design when espeak-ng is missing; tested in tests/displays)."""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error

from .hostile import NASTY_TEXT, json_values

SKIP = re.compile(r"^/api/voice/|/stream$")
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD")


@pytest.fixture
def api(server) -> tuple[str, dict]:
    port = server.start_http_thread(port=0)
    base = f"http://127.0.0.1:{port}"
    spec = httpx.get(base + "/openapi.json", timeout=10).json()
    return base, spec


def board_now(client: httpx.Client) -> dict:
    board = client.get("/api/board").json()
    board.pop("at")
    return board


# no lone surrogates here: an HTTP client cannot send them (MQTT payloads carry them, as bytes)
segments = st.one_of(st.sampled_from([t for t in NASTY_TEXT if "\ud800" not in t]),
                     st.text(st.characters(blacklist_categories=("Cs",)), max_size=30),
                     st.from_regex(r"\A[A-Z][0-9]{3}\Z"),
                     st.integers(-10, 10**20).map(str))


@st.composite
def requests(draw, paths: list[str]) -> tuple[str, str, dict, dict, bytes]:
    template = draw(st.one_of(st.sampled_from(paths), st.lists(st.sampled_from(("api", "admin", "..", "%00", "x")),
                                                               max_size=4).map(lambda p: "/" + "/".join(p))))
    path = re.sub(r"\{[^}]+\}", lambda _: quote(draw(segments), safe=""), template)
    params = draw(st.dictionaries(st.sampled_from(("number", "counter", "day", "service", "from", "to", "format",
                                                   "next", "q", "limit")), segments, max_size=3))
    kind = draw(st.sampled_from(("json", "bytes", "form", "none")))
    headers: dict[str, str] = {}
    body = b""
    if kind == "json":
        body = json.dumps(draw(json_values)).encode()
        headers["content-type"] = "application/json"
    elif kind == "bytes":
        body = draw(st.binary(max_size=600))
        headers["content-type"] = draw(st.sampled_from(("application/json", "text/plain", "multipart/form-data",
                                                        "application/x-www-form-urlencoded", "\x7f/\x7f")))
    elif kind == "form":
        body = "&".join(f"{quote(k)}={quote(v)}" for k, v in draw(st.dictionaries(segments, segments, max_size=3))
                        .items()).encode()
        headers["content-type"] = "application/x-www-form-urlencoded"
    if draw(st.booleans()):
        headers["authorization"] = "Bearer x" + quote(draw(segments), safe="")
    if draw(st.booleans()):
        headers["cookie"] = "hall_session=" + quote(draw(segments), safe="")
    return draw(st.sampled_from(METHODS)), path, params, headers, body


@pytest.mark.slow
def test_hostile_http_requests(api):
    base, spec = api
    paths = [p for p in spec["paths"] if not SKIP.search(p)]
    statuses: dict[int, int] = {}
    # TCP_NODELAY: headers and body go out in two writes, which Nagle would hold for a delayed ACK (40 ms)
    transport = httpx.HTTPTransport(socket_options=[(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)])
    with httpx.Client(base_url=base, timeout=10, transport=transport) as client:
        before = board_now(client)

        @settings(max_examples=800, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(requests(paths))
        def fuzz(req: tuple[str, str, dict, dict, bytes]) -> None:
            method, path, params, headers, body = req
            try:
                r = client.request(method, path, params=params, headers=headers, content=body)
            except httpx.TransportError as exc:  # a hang or a dropped connection is a failure too
                raise AssertionError(f"{method} {path} {params} {headers} {body[:200]!r}: {exc!r}") from exc
            statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
            assert r.status_code < 500, (method, path, params, r.status_code, r.text[:300])

        fuzz()
        assert board_now(client) == before
        assert client.get("/healthz").json()["status"] == "ok"
    print(f"\nHTTP fuzz: {sum(statuses.values())} requests, statuses {dict(sorted(statuses.items()))}")


# operations whose every distinct request is expensive: the staffing advice runs the whole-day
# simulator (about a second each on 2 cores), so it gets few examples
FEW = {"/api/staffing": 6}


def run_schemathesis(base: str, examples: int, **auth: dict) -> dict[tuple[str, str], dict[int, int]]:
    """Every operation of /openapi.json, `examples` generated requests each, sent with `auth`
    (headers, cookies); none may answer 5xx. Returns the statuses per operation."""
    schema = schemathesis.openapi.from_url(base + "/openapi.json").exclude(path_regex=SKIP.pattern)
    statuses: dict[tuple[str, str], dict[int, int]] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        seen = statuses.setdefault((operation.method.upper(), operation.path), {})
        _drive(operation, FEW.get(operation.path, examples), base, auth, seen)
    return statuses


def _drive(operation, examples: int, base: str, auth: dict, seen: dict[int, int]) -> None:
    @settings(max_examples=examples, deadline=None, database=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(operation.as_strategy())
    def check(case) -> None:
        response = case.call(base_url=base, timeout=10, **auth)
        seen[response.status_code] = seen.get(response.status_code, 0) + 1
        case.validate_response(response, checks=[not_a_server_error])

    check()


@pytest.mark.slow
def test_openapi_no_server_errors(api):
    """schemathesis generates requests from /openapi.json for every operation (its pytest plugin's
    `from_fixture` does not run under pytest 9 here, so each operation's strategy is driven directly)."""
    base, _ = api
    statuses = run_schemathesis(base, 25)
    calls = sum(sum(s.values()) for s in statuses.values())
    assert calls > 100
    print(f"\nschemathesis: {calls} requests over {len(statuses)} operations")


ADMIN_PASSWORD = "fuzzing admin password"


@pytest.fixture
def admin(api, server) -> Iterator[tuple[str, dict[str, str], dict[str, str]]]:
    """(base, headers, cookies) of an admin signed in through the login form: the session cookie
    and its CSRF token, which every unsafe request made with the cookie must carry."""
    from hallserver.auth import hash_password
    from hallserver.store.accounts import Accounts

    base, _ = api
    Accounts(server.store).create_user("fuzz-admin", "Fuzz admin", "admin", hash_password(ADMIN_PASSWORD),
                                       server.service.now())
    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as client:
        form = client.get("/login").text
        login_csrf = form.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = client.post("/login", data={"username": "fuzz-admin", "password": ADMIN_PASSWORD, "csrf": login_csrf})
        assert r.status_code == 303, r.text
        me = client.get("/api/me").json()
        assert me["role"] == "admin", me
        cookies = {name: value for name, value in client.cookies.items() if not name.startswith("hall_login")}
    yield base, {"X-CSRF-Token": me["csrf"]}, cookies


@pytest.mark.slow
def test_openapi_no_server_errors_as_admin(admin):
    """The same over every operation as a signed-in admin (session cookie and CSRF token), so the
    generated requests get past the role checks into the handlers: the manager's staffing changes,
    policy and notice, reports, staffing advice. Still no 5xx, and the session holds to the end."""
    base, headers, cookies = admin
    statuses = run_schemathesis(base, 40, headers=headers, cookies=cookies)
    calls = sum(sum(s.values()) for s in statuses.values())
    refused = {op: s for op, s in statuses.items() if 401 in s}
    assert not refused, f"the admin was refused as signed out: {refused}"
    reached = [op for op, s in statuses.items() if any(200 <= code < 300 for code in s)]
    manage = [op for op in reached if op[1].startswith("/api/manage/")]
    assert len(manage) >= 4 and len(reached) >= len(statuses) // 2, statuses
    with httpx.Client(base_url=base, timeout=10, headers=headers, cookies=cookies) as client:
        assert client.get("/api/me").json()["role"] == "admin"
        assert client.get("/healthz").json()["status"] == "ok"
    print(f"\nschemathesis as admin: {calls} requests over {len(statuses)} operations, "
          f"{len(reached)} answered 2xx at least once")
