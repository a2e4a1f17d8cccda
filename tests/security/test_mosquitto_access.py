"""Against a real Mosquitto running the generated password_file and acl_file: who may log in, who
may speak on which topic, and what a revoked device can still do (nothing).

"Nothing arrived" is proven by an ordering barrier: Mosquitto routes a QoS 1 publish before it
acknowledges it and delivers to each client in order, so once a later legitimate message has
arrived, an earlier forged one would have arrived before it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from hallserver.__main__ import main
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config

from .conftest import HALL, Peer, SecuredBroker

FORGED = {"v": 1, "forged": True}


def test_wrong_password_unknown_user_and_anonymous_are_refused(peer: Callable[..., Peer]) -> None:
    assert peer("ct-05").accepted
    for refused in (peer("ct-05", "not-the-password", "p1"), peer("nobody", "x", "p2"), peer(None, None, "p3")):
        assert not refused.accepted and refused.reason is not None
        assert str(refused.reason) in ("Not authorized", "Bad user name or password")


@pytest.fixture
def hall(secured: SecuredBroker, tmp_sqlite_url: str) -> Iterator[Runtime]:
    """The demo hall's server, logged in with its own account."""
    settings = Settings(mqtt_url=secured.url("hallserver"), database_url=tmp_sqlite_url, config_path=None)
    rt = Runtime(settings, load_hall_config(None, always_open=True)).start()
    assert rt.adapter is not None and rt.adapter.connected.wait(10)
    yield rt
    rt.stop()


def test_rating_button_cannot_speak_for_the_terminal_or_the_server(hall: Runtime, peer: Callable[..., Peer]) -> None:
    root = f"qms/{HALL}"
    terminal, kiosk, button = peer("ct-05"), peer("kiosk-1"), peer("rb-05")
    screen = peer("screen-1")
    terminal.subscribe(f"{root}/dev/ct-05/down", f"{root}/dev/ct-05/state")
    kiosk.subscribe(f"{root}/dev/kiosk-1/down")
    screen.subscribe(f"{root}/calls", f"{root}/board", f"{root}/server/status")
    screen.wait_for(lambda t, m: t.endswith("/server/status") and m.get("online") is True)
    assert terminal.request("ct-05", {"v": 1, "id": "t-1", "t": "officer.login", "officer": "o05", "pin": "0000"})["ok"]
    reply = kiosk.request("kiosk-1", {"v": 1, "id": "k-1", "t": "ticket.take", "service": "ke-hoach-dau-tu"})
    number = reply["ticket"]["number"]

    # the button speaks as the terminal, and as the server on every server topic (all acknowledged)
    button.publish(f"{root}/dev/ct-05/up", {"v": 1, "id": "forged-1", "t": "call.next"})
    button.publish(f"{root}/dev/ct-05/down", {**FORGED, "re": "t-2", "ok": True})
    button.publish(f"{root}/dev/ct-05/state", {**FORGED, "kind": "terminal"}, retain=True)
    button.publish(f"{root}/calls", {**FORGED, "seq": 1, "number": "Z999", "counter": 5})
    button.publish(f"{root}/board", FORGED, retain=True)
    button.publish(f"{root}/server/status", {**FORGED, "online": False}, retain=True)

    # the barrier: the terminal's own call.next is answered with the only waiting ticket, so the
    # forged call.next before it did nothing; no forged reply reached the terminal first
    reply = terminal.request("ct-05", {"v": 1, "id": "t-2", "t": "call.next"})
    assert reply["ok"] and reply["ticket"]["number"] == number, reply
    assert not [m for t, m in terminal.messages if m.get("forged") or m.get("re") == "forged-1"]
    i = screen.wait_for(lambda t, m: t.endswith("/calls") and m.get("number") == number)
    assert not [m for t, m in screen.messages[:i + 1] if m.get("forged")]
    assert [c for t, c in screen.messages if t.endswith("/calls")] == [screen.messages[i][1]]

    # retained topics still hold the server's messages, not the forgeries
    late = peer("led-05")
    late.subscribe(f"{root}/server/status", f"{root}/board", f"{root}/dev/led-05/state")
    late.wait_for(lambda t, m: t.endswith("/dev/led-05/state") and m.get("number") == number)
    assert not [m for t, m in late.messages if m.get("forged")]
    assert [m["online"] for t, m in late.messages if t.endswith("/server/status")] == [True]


def test_a_device_cannot_read_another_devices_state(secured: SecuredBroker, peer: Callable[..., Peer]) -> None:
    root = f"qms/{HALL}"
    server, led = peer("hallserver"), peer("led-05")
    server.publish(f"{root}/dev/ct-05/state", {"v": 1, "secret": "retained"}, retain=True)
    server.publish(f"{root}/dev/led-05/state", {"v": 1, "mine": "retained"}, retain=True)
    # the neighbour's state by name and by wildcards, then its own: the retained messages arrive in order
    led.subscribe(f"{root}/dev/ct-05/state", f"{root}/dev/+/state", f"{root}/#", "#")
    led.subscribe(f"{root}/dev/led-05/state")
    led.wait_for(lambda t, m: m.get("mine") == "retained")
    server.publish(f"{root}/dev/ct-05/state", {"v": 1, "secret": "live"})
    server.publish(f"{root}/dev/ct-05/down", {"v": 1, "secret": "reply"})
    server.publish(f"{root}/dev/led-05/state", {"v": 1, "mine": "live"})
    led.wait_for(lambda t, m: m.get("mine") == "live")
    assert not [m for t, m in led.messages if "secret" in m or "/ct-05/" in t]


def test_a_revoked_device_is_shut_out(secured: SecuredBroker, peer: Callable[..., Peer],
                                      capsys: pytest.CaptureFixture[str]) -> None:
    button, terminal = peer("rb-05"), peer("ct-05")
    assert button.accepted and terminal.accepted
    creds_file = str(secured.creds.path)
    assert main(["provision", "--credentials", creds_file, "revoke", "--device", "rb-05"]) == 0
    assert main(["provision", "--credentials", creds_file, "export", "--out", str(secured.files)]) == 0
    secured.mosquitto.reload()
    assert button.dropped.wait(10), "the live session of the revoked device was not closed"
    again = peer("rb-05", client_id="rb-05-again")
    assert not again.accepted
    assert not terminal.dropped.is_set() and peer("ct-05", client_id="ct-05-again").accepted
    assert "revoked demo.rb-05" in capsys.readouterr().out


def test_a_replaced_password_stops_the_old_one(secured: SecuredBroker, peer: Callable[..., Peer]) -> None:
    old = secured.passwords["demo.led-05"]
    secured.creds.replace("demo.led-05", "brand-new-password")
    secured.apply()
    assert not peer("led-05", old, "led-old").accepted
    assert peer("led-05", "brand-new-password", "led-new").accepted
