"""The protocol's test vectors (vectors.json), run in CPython and under a real MicroPython.

A vector is {"name", "parser"?, "payload" | "payload_hex" | "topic", "expect", ...}:
- parser: "up" (default, protocols.parse_up), "down" (parse_down), "status" (parse_status),
  "object" (parse_object: state and calls), "board" (parse_object with limit=MAX_BOARD) or
  "topic" (protocols.topics.parse of "topic");
- expect: "ok" or the ProtocolError code; msg_id: the id the error must carry (null for none);
- parsed: for topics, the expected [hall, device or null, leaf];
- kind / allowed: for up messages, the device kind sending it and whether KINDS allows it
  (allowed defaults to true);
- micropython: {"expect", "msg_id"?, "why"}: where MicroPython's json or bytes.decode is more
  lenient than CPython's, the outcome under MicroPython (documented in protocols/README.md).

The checker (CHECKER below) is one piece of MicroPython-compatible code: CPython executes it in
process, MicroPython (WebAssembly port, through Node) executes it over the same vectors.json and
prints one JSON line per vector, which is compared with the same expectations.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from support.micropython import mpy_cross_compile, repo_files, run_micropython

from protocols import (
    MAX_BOARD,
    MESSAGES,
    TYPES,
    ProtocolError,
    encode,
    error_reply,
    parse_down,
    parse_object,
    parse_status,
    parse_up,
)
from protocols.messages import KINDS

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
VECTORS_PATH = HERE / "vectors.json"
VECTORS: list[dict[str, Any]] = json.loads(VECTORS_PATH.read_text("utf-8"))
PARSERS = ("up", "down", "status", "object", "board", "topic")
# every code the parsing functions can raise
PARSER_CODES = (
    "payload_too_large", "bad_encoding", "bad_json", "not_object", "bad_version",
    "missing_id", "bad_id", "unknown_type", "bad_field", "bad_topic",
)

# Runs in CPython and in MicroPython: no typing, no f-strings, nothing outside MicroPython's json.
CHECKER = r'''
import json

from protocols import (
    MAX_BOARD, ProtocolError, allowed, encode, parse_down, parse_object, parse_status, parse_up, topics,
)


def vector_payload(case):
    if "payload_hex" in case:
        return bytes.fromhex(case["payload_hex"])
    return case["payload"].encode("utf-8")


def _roundtrip(parse, msg, limit):
    try:
        return parse(encode(msg, limit)) == msg
    except Exception:
        return False


def outcome(case):
    """What the protocol makes of a vector, as a dict of plain JSON values."""
    parser = case.get("parser", "up")
    result = {"name": case["name"]}
    try:
        if parser == "topic":
            hall, device, leaf = topics.parse(case["topic"])
            result["r"] = "ok"
            result["parsed"] = [hall, device, leaf]
            return result
        data = vector_payload(case)
        limit = 2048
        if parser == "up":
            parse = parse_up
        elif parser == "down":
            parse = parse_down
        elif parser == "status":
            parse = parse_status
        elif parser == "object":
            parse = parse_object
        elif parser == "board":
            limit = MAX_BOARD

            def parse(payload):
                return parse_object(payload, MAX_BOARD)
        else:
            raise KeyError("unknown parser " + parser)
        msg = parse(data)
        result["r"] = "ok"
        result["rt"] = _roundtrip(parse, msg, limit)
        if parser == "up" and "kind" in case:
            result["allowed"] = allowed(case["kind"], msg["t"])
    except ProtocolError as exc:
        result["r"] = exc.code
        result["id"] = exc.msg_id
    except Exception as exc:
        result["r"] = "EXC"
        result["x"] = type(exc).__name__ + ": " + str(exc)
    return result
'''

MP_MAIN = r'''
import sys
with open("vectors.json") as f:
    cases = json.load(f)
print("impl", json.dumps(sys.implementation.name))
for case in cases:
    print(json.dumps(outcome(case)))
'''


def expected(case: dict[str, Any], runtime: str = "cpython") -> dict[str, Any]:
    """The outcome `outcome(case)` must produce in `runtime` ("cpython" or "micropython")."""
    want: dict[str, Any] = {"expect": case["expect"], "msg_id": case.get("msg_id")}
    if runtime == "micropython" and "micropython" in case:
        want = {"msg_id": None} | case["micropython"]
    result: dict[str, Any] = {"name": case["name"], "r": want["expect"]}
    parser = case.get("parser", "up")
    if want["expect"] != "ok":
        result["id"] = want["msg_id"]
    elif parser == "topic":
        result["parsed"] = case["parsed"]
    else:
        result["rt"] = True
        if parser == "up" and "kind" in case:
            result["allowed"] = case.get("allowed", True)
    return result


def _checker_namespace() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "vector_checker"}
    exec(compile(CHECKER, "vector_checker", "exec"), namespace)
    return namespace


CPYTHON_OUTCOME = _checker_namespace()["outcome"]


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


# -- the vectors themselves ------------------------------------------------------------------
def test_vector_names_are_unique_and_fields_known() -> None:
    names = _ids(VECTORS)
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    keys = {"name", "parser", "payload", "payload_hex", "topic", "expect", "msg_id", "parsed", "kind",
            "allowed", "micropython"}
    for case in VECTORS:
        assert set(case) <= keys, case["name"]
        assert case.get("parser", "up") in PARSERS, case["name"]
        assert case["expect"] == "ok" or case["expect"] in MESSAGES, case["name"]
        inputs = [k for k in ("payload", "payload_hex", "topic") if k in case]
        assert len(inputs) == 1, case["name"]
        assert ("topic" in case) == (case.get("parser") == "topic"), case["name"]


def test_vectors_cover_every_type_kind_and_code() -> None:
    ok_types = set()
    kinds = set()
    codes = set()
    for case in VECTORS:
        parser = case.get("parser", "up")
        if case["expect"] != "ok":
            codes.add(case["expect"])
        elif parser == "up":
            ok_types.add(json.loads(case["payload"])["t"])
            if case.get("allowed", True):
                kinds.add(case.get("kind"))
    assert ok_types == set(TYPES)
    assert kinds >= {kind for kind, types in KINDS.items() if types}  # a listener (boards) sends nothing
    assert codes == set(PARSER_CODES)
    for parser in PARSERS:
        expects = {c["expect"] for c in VECTORS if c.get("parser", "up") == parser}
        assert "ok" in expects and len(expects) > 1, parser


def test_every_kind_may_ask_for_its_state() -> None:
    for kind, types in KINDS.items():
        assert "state.get" in types or kind == "boards", kind  # the board controller sends nothing on up
        assert set(types) <= set(TYPES), kind


# -- CPython -----------------------------------------------------------------------------------
@pytest.mark.parametrize("case", VECTORS, ids=_ids(VECTORS))
def test_vector_cpython(case: dict[str, Any]) -> None:
    assert CPYTHON_OUTCOME(case) == expected(case, "cpython")


@pytest.mark.parametrize(
    "case", [c for c in VECTORS if c.get("parser", "up") == "up"], ids=_ids([c for c in VECTORS
                                                                         if c.get("parser", "up") == "up"]))
def test_up_vector_reply(case: dict[str, Any]) -> None:
    """Whatever the outcome, the server can answer with a reply the device parses."""
    payload = bytes.fromhex(case["payload_hex"]) if "payload_hex" in case else case["payload"].encode()
    try:
        msg = parse_up(payload)
    except ProtocolError as exc:
        assert exc.code in MESSAGES
        assert str(exc).startswith(exc.code)
        if exc.msg_id is None:
            return
        answer = parse_down(encode(error_reply(exc.msg_id, exc.code)))
        assert answer["re"] == exc.msg_id and answer["ok"] is False
        assert answer["error"] == {"code": exc.code, "message": MESSAGES[exc.code][0]}
        en = error_reply(exc.msg_id, exc.code, lang="en")["error"]["message"]
        assert en == MESSAGES[exc.code][1]
    else:
        assert msg == json.loads(payload)
        assert parse_down(encode({"v": 1, "re": msg["id"], "ok": True}))["re"] == msg["id"]


# -- MicroPython -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def micropython_outcomes() -> dict[str, dict[str, Any]]:
    files = repo_files("protocols")
    files["vectors.json"] = VECTORS_PATH.read_text("utf-8")
    out = run_micropython(CHECKER + MP_MAIN, files, timeout=120)
    lines = out.splitlines()
    assert lines[0] == 'impl "micropython"', lines[:1]
    results = [json.loads(line) for line in lines[1:]]
    assert len(results) == len(VECTORS), f"MicroPython printed {len(results)} outcomes for {len(VECTORS)} vectors"
    return {r["name"]: r for r in results}


@pytest.mark.parametrize("case", VECTORS, ids=_ids(VECTORS))
def test_vector_micropython(case: dict[str, Any], micropython_outcomes: dict[str, dict[str, Any]]) -> None:
    assert micropython_outcomes[case["name"]] == expected(case, "micropython")


@pytest.mark.parametrize("path", sorted((REPO / "protocols").glob("*.py")), ids=lambda p: p.name)
def test_protocols_compile_with_mpy_cross(path: Path, tmp_path: Path) -> None:
    out = mpy_cross_compile(path, tmp_path)
    assert out.stat().st_size > 0


# -- protocols/README.md stays exact -----------------------------------------------------------
README = (REPO / "protocols" / "README.md").read_text("utf-8")


def test_readme_error_table_is_the_module_table() -> None:
    section = README.split("## 9. Error codes")[1].split("\n## ")[0]
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \| ([^|]+) \|$", section, re.MULTILINE)
    assert [(code, (vi, en)) for code, vi, en in rows] == list(MESSAGES.items())


def test_readme_lists_every_type_with_its_senders() -> None:
    for t in TYPES:
        senders = ", ".join(kind for kind, types in KINDS.items() if t in types)
        row = rf"^\| `{re.escape(t)}` \|.*\| {re.escape(senders)} \|$"
        assert re.search(row, README, re.MULTILINE), t
        assert f"`{t}`" in README.split("## 3.")[1], t


def test_readme_json_examples_are_valid() -> None:
    blocks = re.findall(r"```json\n(.*?)\n```", README, re.DOTALL)
    assert len(blocks) >= 20
    for block in blocks:
        data = block.encode("utf-8")
        obj = json.loads(data)
        if "t" in obj and "id" in obj:
            parse_up(data)
        elif "re" in obj:
            parse_down(data)
        elif "online" in obj:
            parse_status(data)
        elif "counters" in obj:
            parse_object(data, MAX_BOARD)
        else:
            parse_object(data)
        assert encode(obj, MAX_BOARD) == data, "README examples are written compact: " + block[:60]
