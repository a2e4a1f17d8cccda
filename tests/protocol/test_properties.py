"""Property tests of the protocol: round trips, and no input makes the parsers fail otherwise.

Strategies are derived from protocols.messages.TYPES (field name, kind, required), so a new
message type or field is covered without touching this file.
"""

from __future__ import annotations

import json
import re
import unicodedata
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protocols import (
    MAX_BOARD,
    MAX_PAYLOAD,
    MESSAGES,
    TYPES,
    ProtocolError,
    decode,
    encode,
    error_reply,
    is_valid_id,
    make_up,
    parse_down,
    parse_object,
    parse_status,
    parse_up,
    reply,
    status,
    topics,
)
from protocols import messages as m

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# -- building blocks ---------------------------------------------------------------------------
VIETNAMESE = (
    "aàáảãạăằắẳẵặâầấẩẫậbcdđeèéẻẽẹêềếểễệghiìíỉĩịklmnoòóỏõọôồốổỗộơờớởỡợpqrstuùúủũụưừứửữựvxyỳýỷỹỵ"
)
VIETNAMESE = VIETNAMESE + VIETNAMESE.upper() + " 0123456789-–,.:;()/"
REAL_CODES = ["tu-phap", "ke-hoach-dau-tu", "noi-vu", "tai-chinh", "y-te", "bao-hiem-xa-hoi", "o05",
              "rat-hai-long", "hai-long", "khong-hai-long", "thai-do", "nguoi-cao-tuoi", "khac"]

slugs = st.one_of(
    st.sampled_from(REAL_CODES),
    st.from_regex(r"[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?", fullmatch=True),
)
ids = st.one_of(
    st.builds("{}-{}".format, st.integers(0, 10**6), st.integers(0, 10**9)),
    st.from_regex(r"[A-Za-z0-9_.:-]{1,64}", fullmatch=True),
)
vietnamese_text = st.text(alphabet=VIETNAMESE, max_size=200)
# any Unicode text (hypothesis leaves out lone surrogates, which UTF-8 cannot carry), in NFC
any_text = st.text(max_size=200).map(lambda s: unicodedata.normalize("NFC", s)).filter(lambda s: len(s) <= 200)
texts = st.one_of(vietnamese_text.map(lambda s: unicodedata.normalize("NFC", s)), any_text)
tickets = st.one_of(
    st.builds("{}{:03d}".format, st.sampled_from("ABCDEFGHKLMN"), st.integers(0, 999)),
    st.builds(
        lambda head, digit, tail: head + digit + tail,
        st.from_regex(r"[A-Z0-9]{0,6}", fullmatch=True),
        st.sampled_from("0123456789"),
        st.from_regex(r"[A-Z0-9]{0,5}", fullmatch=True),
    ),
)
KIND_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    m.CODE: slugs,
    m.TEXT: texts,
    m.PIN: st.from_regex(r"[0-9]{4,8}", fullmatch=True),
    m.COUNTER: st.integers(1, 9999),
    m.TICKET: tickets,
    m.BOOL: st.booleans(),
    m.INT: st.integers(0, 2**53),
    m.ID: ids,
}
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=8,
)
RESERVED = {"v", "id", "t", "re", "ok", "error"}
extra_keys = st.text(min_size=1, max_size=12).filter(lambda k: k not in RESERVED)


@st.composite
def fields_of(draw: st.DrawFn, t: str) -> dict[str, Any]:
    """Valid fields for message type `t`: required ones always, optional ones sometimes."""
    fields: dict[str, Any] = {}
    for name, kind, required in TYPES[t]:
        if required or draw(st.booleans()):
            fields[name] = draw(KIND_STRATEGIES[kind])
    if t == "serve.transfer":  # exactly one of the two targets
        fields.pop(draw(st.sampled_from(["service", "counter"])), None)
        if not fields:
            fields["counter"] = draw(KIND_STRATEGIES[m.COUNTER])
    return fields


@st.composite
def up_messages(draw: st.DrawFn, extras: bool = True) -> dict[str, Any]:
    t = draw(st.sampled_from(sorted(TYPES)))
    msg = {"v": 1, "id": draw(ids), "t": t}
    msg.update(draw(fields_of(t)))
    if extras:
        names = {name for name, _, _ in TYPES[t]}
        extra = draw(st.dictionaries(extra_keys.filter(lambda k: k not in names), json_values, max_size=3))
        msg.update(extra)
    return msg


def _fits(obj: Any, limit: int = MAX_PAYLOAD) -> bool:
    return len(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()) <= limit


def test_every_field_kind_has_a_strategy() -> None:
    used = {kind for spec in TYPES.values() for _, kind, _ in spec}
    assert used <= set(KIND_STRATEGIES)


@SETTINGS
@given(st.sampled_from(sorted(KIND_STRATEGIES)).flatmap(lambda k: st.tuples(st.just(k), KIND_STRATEGIES[k])))
def test_generated_values_are_valid(kind_value: tuple[str, Any]) -> None:
    kind, value = kind_value
    m.check_value("x", kind, value)


# -- up: encode / parse_up ----------------------------------------------------------------------
@SETTINGS
@given(up_messages())
def test_up_roundtrip(msg: dict[str, Any]) -> None:
    assume(_fits(msg))
    assert parse_up(encode(msg)) == msg


@SETTINGS
@given(st.data())
def test_make_up_roundtrip_every_type(data: st.DataObject) -> None:
    t = data.draw(st.sampled_from(sorted(TYPES)))
    msg_id = data.draw(ids)
    fields = data.draw(fields_of(t))
    msg = make_up(t, msg_id, fields)
    assert msg == {"v": 1, "id": msg_id, "t": t} | fields
    assert parse_up(encode(msg)) == msg
    assert parse_up(encode(msg).decode("utf-8")) == msg  # str payloads too


@SETTINGS
@given(ids, texts)
def test_text_survives_encode_decode(msg_id: str, text: str) -> None:
    msg = make_up("counter.pause", msg_id, {"reason": text})
    data = encode(msg)
    data.decode("utf-8")  # valid UTF-8, written as is (no \\u escapes needed)
    back = parse_up(data)
    assert back["reason"] == text
    assert unicodedata.is_normalized("NFC", back["reason"])
    state = {"v": 1, "kind": "terminal", "counter_name": text, "pause_reason": text}
    assert parse_object(encode(state)) == state


def test_vietnamese_is_written_as_utf8_not_escaped() -> None:
    data = encode(make_up("counter.pause", "1-1", {"reason": "Họp giao ban"}))
    assert "Họp giao ban".encode() in data
    assert b"\\u" not in data
    assert b" " not in data.replace("Họp giao ban".encode(), b"")  # compact separators


# -- down: reply / error_reply / parse_down -----------------------------------------------------
@SETTINGS
@given(ids, st.dictionaries(extra_keys, json_values, max_size=4))
def test_reply_roundtrip(re: str, fields: dict[str, Any]) -> None:
    msg = reply(re, fields)
    assume(_fits(msg))
    back = parse_down(encode(msg))
    assert back == msg
    assert back["re"] == re and back["ok"] is True and back["v"] == 1


@SETTINGS
@given(ids, st.sampled_from(sorted(MESSAGES)), st.sampled_from(["vi", "en"]), st.none() | texts)
def test_error_reply_roundtrip(re: str, code: str, lang: str, text: str | None) -> None:
    msg = error_reply(re, code, text, lang)
    back = parse_down(encode(msg))
    assert back == msg and back["ok"] is False
    expected = text if text is not None else MESSAGES[code][1 if lang == "en" else 0]
    assert back["error"] == {"code": code, "message": expected}


@SETTINGS
@given(st.booleans(), st.dictionaries(extra_keys.filter(lambda k: k != "online"), json_values, max_size=3))
def test_status_roundtrip(online: bool, fields: dict[str, Any]) -> None:
    msg = status(online, fields)
    assume(_fits(msg))
    assert parse_status(encode(msg)) == msg


# -- topics ------------------------------------------------------------------------------------
@SETTINGS
@given(slugs, slugs, st.sampled_from(topics.DEVICE_LEAVES))
def test_device_topic_roundtrip(hall: str, device: str, leaf: str) -> None:
    topic = topics.device_topic(hall, device, leaf)
    assert topic == f"qms/{hall}/dev/{device}/{leaf}"
    assert topics.parse(topic) == (hall, device, leaf)
    builder = getattr(topics, leaf)
    assert builder(hall, device) == topic


@SETTINGS
@given(slugs)
def test_hall_topic_roundtrip(hall: str) -> None:
    assert topics.parse(topics.calls(hall)) == (hall, None, "calls")
    assert topics.parse(topics.board(hall)) == (hall, None, "board")
    assert topics.parse(topics.server_status(hall)) == (hall, None, "server/status")
    up_filter, status_filter = topics.subscriptions(hall)
    assert (up_filter, status_filter) == (f"qms/{hall}/dev/+/up", f"qms/{hall}/dev/+/status")


@SETTINGS
@given(st.text(max_size=60).filter(lambda s: not topics.is_slug(s)), slugs)
def test_topic_builders_refuse_non_slugs(bad: str, good: str) -> None:
    for call in (lambda: topics.up(bad, good), lambda: topics.up(good, bad), lambda: topics.calls(bad)):
        with pytest.raises(ProtocolError) as info:
            call()
        assert info.value.code == "bad_topic"


@FUZZ
@given(st.one_of(st.text(max_size=80), st.lists(st.sampled_from(["qms", "demo", "dev", "d-1", "up", "down",
                                                                  "state", "status", "calls", "board", "server",
                                                                  "", "+", "#", "Demo"]), max_size=7).map("/".join)))
def test_topic_parse_never_fails_otherwise(topic: str) -> None:
    try:
        hall, device, leaf = topics.parse(topic)
    except ProtocolError as exc:
        assert exc.code == "bad_topic"
    else:
        assert topics.is_slug(hall)
        if device is None:
            assert leaf in ("calls", "board", "server/status")
        else:
            assert topics.device_topic(hall, device, leaf) == topic


# -- robustness: whatever arrives, a message or a ProtocolError ----------------------------------
def _check_parse_up(payload: bytes | str, obj: Any = None) -> None:
    size = len(payload.encode("utf-8") if isinstance(payload, str) else payload)
    try:
        msg = parse_up(payload)
    except ProtocolError as exc:
        assert exc.code in MESSAGES
        if size > MAX_PAYLOAD:
            assert exc.code == "payload_too_large"
        if isinstance(obj, dict) and is_valid_id(obj.get("id")) and size <= MAX_PAYLOAD:
            assert exc.msg_id == obj["id"], exc  # the sender can still get its ok:false reply
        elif exc.msg_id is not None:
            assert is_valid_id(exc.msg_id)
    else:
        assert size <= MAX_PAYLOAD
        assert msg["v"] == 1 and not isinstance(msg["v"], bool)
        assert is_valid_id(msg["id"]) and msg["t"] in TYPES
        m.check_fields(msg)
        if obj is not None:
            assert msg == obj


@FUZZ
@given(st.binary(max_size=2100))
def test_arbitrary_bytes(payload: bytes) -> None:
    _check_parse_up(payload)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text(payload: str) -> None:
    _check_parse_up(payload)


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    """A valid message with a few bytes replaced, inserted or deleted."""
    data = bytearray(encode(draw(up_messages(extras=False))))
    for _ in range(draw(st.integers(1, 4))):
        pos = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete"]))
        if action == "delete":
            del data[pos]
        else:
            byte = draw(st.integers(0, 255) | st.sampled_from(list(b'{}[]",:0\\')))
            if action == "replace":
                data[pos] = byte
            else:
                data.insert(pos, byte)
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_messages(payload: bytes) -> None:
    _check_parse_up(payload)


# An independent model of the validation rules (README), to compare parse_up against.
def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


MODEL_KINDS = {
    m.CODE: lambda v: isinstance(v, str) and re.fullmatch(r"[a-z0-9]([a-z0-9-]{0,46}[a-z0-9])?", v) is not None,
    m.TEXT: lambda v: isinstance(v, str) and len(v) <= 200 and not any(0xD800 <= ord(c) <= 0xDFFF for c in v),
    m.PIN: lambda v: isinstance(v, str) and re.fullmatch(r"[0-9]{4,8}", v, re.ASCII) is not None,
    m.COUNTER: lambda v: _is_int(v) and 1 <= v <= 9999,
    m.TICKET: lambda v: isinstance(v, str) and re.fullmatch(r"(?=.*[0-9])[A-Z0-9]{1,12}", v) is not None,
    m.BOOL: lambda v: isinstance(v, bool),
    m.INT: lambda v: _is_int(v) and v >= 0,
    m.ID: lambda v: isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", v) is not None,
}


def model_outcome(obj: dict[str, Any]) -> tuple[str, str | None]:
    """(code or "ok", msg_id) that the README's rules give for a decoded JSON object."""
    if "id" not in obj:
        return "missing_id", None
    msg_id = obj["id"]
    if not (isinstance(msg_id, str) and re.fullmatch(r"[A-Za-z0-9_.:-]{1,64}", msg_id)):
        return "bad_id", None
    if not (_is_int(obj.get("v")) and obj["v"] == 1):
        return "bad_version", msg_id
    if not isinstance(obj.get("t"), str) or obj["t"] not in TYPES:
        return "unknown_type", msg_id
    for name, kind, required in TYPES[obj["t"]]:
        value = obj.get(name)
        if (value is None and required) or (value is not None and not MODEL_KINDS[kind](value)):
            return "bad_field", msg_id
    if obj["t"] == "serve.transfer" and (obj.get("service") is None) == (obj.get("counter") is None):
        return "bad_field", msg_id
    return "ok", None


field_names = sorted({name for spec in TYPES.values() for name, _, _ in spec})
tricky_strings = st.one_of(
    # digits that are not ASCII: CPython's str.isdigit() accepts them (١٢٣٤, ²³, ０１)
    st.text(alphabet=st.characters(categories=["Nd", "No"], exclude_characters="0123456789"),
            min_size=4, max_size=8),
    st.text(alphabet=st.characters(categories=["Cs"]), min_size=1, max_size=3),  # sent as \\udxxx escapes
    st.text(alphabet="aA0-_. ", max_size=14),
    st.text(max_size=202, min_size=195),
)
any_field_value = st.one_of(json_values, tricky_strings, *KIND_STRATEGIES.values())
json_objects = st.dictionaries(
    st.sampled_from(["v", "id", "t", *field_names]) | st.text(max_size=6),
    any_field_value,
    max_size=8,
)
likely_messages = st.builds(
    lambda base, noise: base | noise,
    st.fixed_dictionaries({
        "v": st.sampled_from([1, 1, 1, 2, 0, True, "1", 1.0, None]),
        "id": st.one_of(ids, json_values, tricky_strings),
        "t": st.one_of(st.sampled_from(sorted(TYPES)), json_values),
    }),
    st.dictionaries(st.sampled_from(field_names), any_field_value, max_size=4),
)


@FUZZ
@given(st.one_of(json_objects, likely_messages))
def test_arbitrary_json_objects(obj: dict[str, Any]) -> None:
    payload = json.dumps(obj).encode("utf-8")  # ASCII, \\u escapes: lone surrogates can travel
    obj = json.loads(payload)  # as the receiver sees it: an escaped surrogate pair is one character
    _check_parse_up(payload, obj)
    if len(payload) <= MAX_PAYLOAD:
        try:
            parse_up(payload)
            got: tuple[str, str | None] = ("ok", None)
        except ProtocolError as exc:
            got = (exc.code, exc.msg_id)
        assert got == model_outcome(obj)


TYPE_FIELDS = [(t, name) for t in sorted(TYPES) for name, _, _ in TYPES[t]]


@pytest.mark.parametrize(("t", "name"), TYPE_FIELDS, ids=[f"{t}.{name}" for t, name in TYPE_FIELDS])
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_each_field_against_the_model(t: str, name: str, data: st.DataObject) -> None:
    """A valid message of type t with field `name` replaced by anything: parse_up agrees with the model."""
    msg = {"v": 1, "id": data.draw(ids), "t": t} | data.draw(fields_of(t))
    msg[name] = data.draw(st.one_of(tricky_strings, any_field_value))
    payload = json.dumps(msg).encode("utf-8")
    assume(len(payload) <= MAX_PAYLOAD)
    obj = json.loads(payload)
    try:
        parse_up(payload)
        got: tuple[str, str | None] = ("ok", None)
    except ProtocolError as exc:
        got = (exc.code, exc.msg_id)
    assert got == model_outcome(obj)


# not a hypothesis test: hypothesis raises the recursion limit while it runs one
@pytest.mark.parametrize("depth", [1, 100, 999, 1004])  # 1004: the deepest that fits in 2 KiB
@pytest.mark.parametrize("bracket", ["[", "{"])
def test_deep_nesting_is_bad_json_or_fine(depth: int, bracket: str) -> None:
    """CPython's json raises RecursionError about 1000 deep: that must come out as bad_json."""
    inner = ('{"a":' * depth + "1" + "}" * depth) if bracket == "{" else ("[" * depth + "]" * depth)
    payload = '{"v":1,"id":"1-1","t":"call.next","x":' + inner + "}"
    _check_parse_up(payload)


@FUZZ
@given(st.binary(max_size=2100) | json_objects.map(lambda o: json.dumps(o).encode()))
def test_other_parsers_raise_only_protocol_errors(payload: bytes) -> None:
    for parse in (parse_down, parse_status, parse_object, decode):
        try:
            parse(payload)
        except ProtocolError as exc:
            assert exc.code in MESSAGES and exc.msg_id is None


# -- size limits -------------------------------------------------------------------------------
@SETTINGS
@given(up_messages(extras=False), st.integers(MAX_PAYLOAD + 1, 3 * MAX_PAYLOAD), st.sampled_from("aệ "))
def test_oversize_always_payload_too_large(msg: dict[str, Any], size: int, pad: str) -> None:
    base = len(encode(msg))
    padding = pad * ((size - base) // len(pad.encode()) + 1)
    big = msg | {"zz": padding}
    payload = json.dumps(big, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(payload) > MAX_PAYLOAD
    for parse in (parse_up, parse_down, parse_status, parse_object):
        with pytest.raises(ProtocolError) as info:
            parse(payload)
        assert info.value.code == "payload_too_large" and info.value.msg_id is None
    with pytest.raises(ProtocolError) as info:
        encode(big)
    assert info.value.code == "payload_too_large"
    assert parse_object(encode(big, MAX_BOARD), MAX_BOARD) == big  # a board may be this large


@SETTINGS
@given(st.binary(min_size=MAX_PAYLOAD + 1, max_size=MAX_PAYLOAD + 600))
def test_oversize_bytes_are_not_even_decoded(payload: bytes) -> None:
    with pytest.raises(ProtocolError) as info:
        parse_up(payload)
    assert info.value.code == "payload_too_large"


def test_board_limit() -> None:
    board = {"v": 1, "hall": "demo", "recent": [], "pad": "ệ" * 10000}
    assert parse_object(encode(board, MAX_BOARD), MAX_BOARD) == board
    board["pad"] = "ệ" * 11000  # 33 000 bytes
    for call in (lambda: encode(board, MAX_BOARD),
                 lambda: parse_object(json.dumps(board, ensure_ascii=False).encode(), MAX_BOARD)):
        with pytest.raises(ProtocolError) as info:
            call()
        assert info.value.code == "payload_too_large"
