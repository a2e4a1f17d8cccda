"""Hostile HTTP requests against the API of a running hall server (httpx against
`start_http_thread`), and schemathesis driven by its OpenAPI document: never a 5xx, the server goes
on serving, and the hall's board is unchanged.

Left out of both: the */stream routes (server-sent events: responses that never end) and
/api/voice/call.wav (answers 503 by design when espeak-ng is missing; tested in tests/displays)."""

from __future__ import annotations

import json
import re
import socket
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


@pytest.mark.slow
def test_openapi_no_server_errors(api):
    """schemathesis generates requests from /openapi.json for every operation (its pytest plugin's
    `from_fixture` does not run under pytest 9 here, so each operation's strategy is driven directly)."""
    base, _ = api
    schema = schemathesis.openapi.from_url(base + "/openapi.json").exclude(path_regex=SKIP.pattern)
    calls = 0
    for result in schema.get_all_operations():
        operation = result.ok()

        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(operation.as_strategy())
        def check(case) -> None:
            nonlocal calls
            calls += 1
            response = case.call(base_url=base, timeout=10)
            case.validate_response(response, checks=[not_a_server_error])

        check()
    assert calls > 100
    print(f"\nschemathesis: {calls} requests over {len(list(schema.get_all_operations()))} operations")
