"""Hypothesis strategies of hostile MQTT payloads and topics for the hall server."""

from __future__ import annotations

import json

from hypothesis import strategies as st

import protocols

TYPES = ("ticket.take", "officer.login", "officer.logout", "call.next", "call.recall", "call.no_show", "serve.done",
         "serve.transfer", "serve.hold", "counter.pause", "counter.resume", "rating.vote", "state.get",
         "ticket.printed", "ticket.block", "ticket.offline")
KNOWN = ("kiosk-1", "kiosk-2", "ct-01", "ct-22", "led-01", "rb-01", "screen-1")
NASTY_TEXT = ("'; DROP TABLE events; --", "../../etc/passwd", "A001\x00", "\u202eA001", "%s%s%n", "${jndi:x}",
              "<script>alert(1)</script>", "𝔸𝟘𝟘𝟙", "\ud800", "A" * 5000, "", " ", "null", "-1", "1e999")
NASTY_RAW = (b"", b"{", b"}", b"{}", b"null", b"[]", b'"x"', b"\xef\xbb\xbf{}", b"\xc0\xaf", b"\xed\xa0\x80",
             b'{"v":1,"v":2,"id":"a","t":"state.get"}', b"[" * 5000 + b"]" * 5000, b'{"a":' * 3000,
             b'{"v": NaN, "id": "x", "t": "call.next"}', b'{"v": 1e999, "id": "x", "t": "call.next"}',
             b'{"v":1,"id":"' + b"i" * 2040 + b'","t":"call.next"}', b"\x00" * 64, bytes(range(256)))

json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-2**70, 2**70), st.floats(allow_nan=False),
                         st.text(max_size=40), st.sampled_from(NASTY_TEXT))
json_values = st.recursive(json_scalars, lambda kids: st.one_of(st.lists(kids, max_size=4),
                                                                 st.dictionaries(st.text(max_size=8), kids,
                                                                                 max_size=4)), max_leaves=12)


PLAUSIBLE = st.sampled_from(("tu-phap", "giao-thong", "A001", "N002", "o01", "0000", "1234", 5, 37, 0, -1,
                             "hai-long", "khong-hai-long", "thai-do", "nguoi-cao-tuoi", "2026-11-23T08:00:00+07:00"))


@st.composite
def envelopes(draw) -> dict:
    """Up messages that look right: a valid envelope with plausible or hostile fields, then a few
    mutations (a wrong `v`, `id` or `t`, a key dropped), so parsing fails at every depth."""
    msg = {"v": 1, "id": draw(st.from_regex(r"\A[a-z0-9-]{1,12}\Z")), "t": draw(st.sampled_from(TYPES))}
    for key in draw(st.lists(st.sampled_from(("service", "priority", "officer", "pin", "counter", "score", "reason",
                                              "ticket", "number", "size", "issued_at", "extra")), max_size=4)):
        msg[key] = draw(st.one_of(PLAUSIBLE, PLAUSIBLE, json_values))
    for _ in range(draw(st.integers(0, 2))):
        key = draw(st.sampled_from(("v", "id", "t")))
        if draw(st.booleans()):
            msg.pop(key, None)
        else:
            msg[key] = draw(json_scalars if key != "t" else st.text(max_size=20))
    return msg


def _dump(value: object) -> bytes:
    return json.dumps(value, ensure_ascii=draw_ascii(value)).encode("utf-8", "surrogatepass")


def draw_ascii(value: object) -> bool:
    return len(repr(value)) % 2 == 0  # both escapes and raw UTF-8 (with lone surrogates: bad_encoding)


payloads = st.one_of(
    st.binary(max_size=2200),
    st.sampled_from(NASTY_RAW),
    json_values.map(_dump),
    envelopes().map(_dump),
    st.text(max_size=200).map(lambda s: s.encode("utf-8", "surrogatepass")),
)

# the device level of a topic the server subscribes to (qms/{hall}/dev/+/up): slugs, known devices,
# and what is not a slug (capitals, Unicode, spaces, too long); never a wildcard, '/' or a control
# character, which the MQTT client or the broker refuse before the server sees them
device_levels = st.one_of(
    st.sampled_from(KNOWN),
    st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,46}[a-z0-9]\Z"),
    st.text(st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/+#"), min_size=1, max_size=60),
)


@st.composite
def messages(draw, hall: str) -> tuple[str, bytes]:
    """(topic, payload) that must not change the hall: a payload a known device could act on goes
    to an unregistered device instead (refused `unknown_device`)."""
    device, leaf, payload = draw(device_levels), draw(st.sampled_from(("up", "up", "up", "status"))), draw(payloads)
    if device in KNOWN:
        try:
            (protocols.parse_up if leaf == "up" else protocols.parse_status)(payload)
        except protocols.ProtocolError:
            pass
        else:
            device = "fz-" + device
    return f"qms/{hall}/dev/{device}/{leaf}", payload


stray_topics = st.one_of(  # under qms/ but outside what the server subscribes to: the broker keeps them away
    st.builds(lambda h, d: f"qms/{h}/dev/{d}/x/up", st.just("HALL"), st.from_regex(r"\A[a-z]{1,8}\Z")),
    st.builds(lambda d: f"qms/HALL/dev/{d}", st.from_regex(r"\A[a-z]{1,8}\Z")),
    st.sampled_from(("qms/HALL", "qms/HALL/", "qms//dev/x/up", "qms/HALL/dev//up", "qms/HALL/server/up",
                     "qms/HALL/dev/x/down/up", "qms/HALL/calls/x")),
)
