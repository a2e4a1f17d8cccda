"""Bad input over the real broker: each gets an ok:false reply with a code where it can, a log line
and a counter; the server goes on serving."""

from __future__ import annotations

import logging

import pytest

import protocols
from firmware.pilink import Refusal

topics = protocols.topics


def refused(link, t, fields=None) -> str:
    with pytest.raises(Refusal) as exc:
        link.request(t, fields)
    return exc.value.code


def test_refusals_have_codes(server, device):
    kiosk, terminal, rating = device("kiosk-1"), device("ct-01"), device("rb-01")
    assert refused(kiosk, "ticket.take", {"service": "khong-co"}) == "unknown_service"
    assert refused(kiosk, "ticket.take", {"service": "tu-phap", "priority": "vip"}) == "unknown_priority"
    assert refused(terminal, "call.next") == "not_logged_in"
    assert refused(terminal, "officer.login", {"officer": "o01", "pin": "1111"}) == "wrong_pin"
    assert refused(terminal, "officer.login", {"officer": "nobody", "pin": "0000"}) == "wrong_pin"
    assert refused(kiosk, "call.next") == "wrong_device_kind"
    assert refused(rating, "rating.vote", {"score": "hai-long"}) == "not_armed"
    terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
    assert refused(terminal, "call.next") == "queue_empty"
    assert refused(terminal, "serve.done") == "no_current_ticket"
    metrics = server.service.metrics
    assert metrics["refused.wrong_pin"] == 2 and metrics["refused.unknown_service"] == 1


def test_unknown_device_gets_a_reply(server, device, hall_id):
    ghost = device("ghost-99")  # not in the hall's configuration
    with pytest.raises(Refusal) as exc:
        ghost.request("ticket.take", {"service": "tu-phap"})
    assert exc.value.code == "unknown_device"
    assert "đăng ký" in exc.value.message  # Vietnamese text fit to show
    assert server.service.metrics["refused.unknown_device"] >= 1  # QoS 1: at least once


@pytest.mark.parametrize(
    ("payload", "code", "answered"),
    [
        (b"not json at all", "bad_json", False),
        (b"\xff\xfe\x00garbage", "bad_encoding", False),
        (b"[1, 2, 3]", "not_object", False),
        (b'{"v": 1, "t": "call.next"}', "missing_id", False),
        (b'{"v": 1, "id": "x1", "t": "teleport"}', "unknown_type", True),
        (b'{"v": 2, "id": "x2", "t": "call.next"}', "bad_version", True),
        (b'{"v": 1, "id": "x3", "t": "officer.login", "officer": "o01", "pin": "12ab"}', "bad_field", True),
        (b'{"v": 1, "id": "x4", "t": "call.next", "pad": "' + b"x" * 3000 + b'"}', "payload_too_large", False),
    ],
)
def test_malformed_payloads(server, device, hall_id, payload, code, answered, caplog):
    terminal = device("ct-02")
    with caplog.at_level(logging.WARNING, logger="hallserver.service"):
        terminal.client.publish(topics.up(hall_id, "ct-02"), payload, qos=1)
        # messages are handled in order: once this one is answered, the bad one was handled too
        assert refused(terminal, "call.next") == "not_logged_in"
    assert server.service.metrics[f"malformed.{code}"] >= 1  # QoS 1: at least once
    assert any(code in r.getMessage() for r in caplog.records)
    if answered:
        msg_id = protocols.decode(payload)["id"]
        reply = terminal.wait_reply(msg_id)
        assert reply["ok"] is False and reply["error"]["code"] == code
        assert server.store.processed_reply(hall_id, "ct-02", msg_id) is None  # malformed: not a command
    # still serving
    kiosk = device("kiosk-1")
    assert kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]["number"] == "A001"


def test_malformed_with_id_gets_error_reply(server, device, hall_id):
    terminal = device("ct-03")
    terminal.client.publish(topics.up(hall_id, "ct-03"),
                            b'{"v": 1, "id": "bad-1", "t": "serve.transfer"}', qos=1)
    reply = terminal.wait_reply("bad-1")
    assert reply["ok"] is False and reply["error"]["code"] == "bad_field"
