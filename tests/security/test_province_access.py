"""A province on one Mosquitto: two halls in one credentials file, the same device ids in both.

Logins are `{hall}.{device}`, so `demo.ct-05` and `xa-tan-my.ct-05` are two devices, each held to
its own hall; the server login reads and writes both halls. "Nothing arrived" is proven as in
test_mosquitto_access.py: a later legitimate message is the barrier (Mosquitto routes a QoS 1
publish before acknowledging it and delivers to each client in order).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.province import load_province
from hallserver.provisioning import SERVER_USERNAME
from hallserver.settings import DEMO_CONFIG, Settings, load_hall_config

from .conftest import DEVICES, Peer, SecuredBroker, peer_factory, start_secured

A, B = "demo", "xa-tan-my"
FORGED = {"v": 1, "forged": True}


@pytest.fixture
def province(tmp_path: Path) -> Iterator[SecuredBroker]:
    configs = [load_hall_config(None), load_hall_config(None, id=B, demo=False)]
    broker = start_secured(tmp_path, configs, DEVICES)
    try:
        yield broker
    finally:
        broker.mosquitto.stop()


@pytest.fixture
def peer(province: SecuredBroker) -> Iterator[Callable[..., Peer]]:
    make, peers = peer_factory(province)
    yield make
    for p in peers:
        p.close()


def test_the_server_login_serves_both_halls_by_explicit_patterns(province: SecuredBroker) -> None:
    acl = (province.files / "acl").read_text()
    assert f"user {SERVER_USERNAME}\ntopic readwrite qms/{A}/#\ntopic readwrite qms/{B}/#\n" in acl
    assert "qms/#" not in acl and "qms/+" not in acl


def test_a_device_of_one_hall_cannot_publish_in_another(peer: Callable[..., Peer]) -> None:
    server = peer(SERVER_USERNAME)
    server.subscribe(f"qms/{B}/#", f"qms/{A}/dev/+/up")
    intruder, own = peer(f"{A}.ct-05"), peer(f"{B}.ct-05")
    b = f"qms/{B}"
    # the same device id in hall B, B's neighbour terminal, and every server topic of B
    for topic, retain in ((f"{b}/dev/ct-05/up", False), (f"{b}/dev/ct-05/status", True),
                          (f"{b}/dev/ct-04/up", False), (f"{b}/dev/ct-05/down", False),
                          (f"{b}/dev/ct-05/state", True), (f"{b}/calls", False), (f"{b}/board", True),
                          (f"{b}/server/status", True)):
        intruder.publish(topic, {**FORGED, "id": f"forged-{topic}", "t": "call.next"}, retain=retain)
    intruder.publish(f"qms/{A}/dev/ct-05/up", {"v": 1, "id": "a-1", "t": "call.next"})  # its own topic works
    own.publish(f"{b}/dev/ct-05/up", {"v": 1, "id": "b-1", "t": "call.next"})
    server.wait_for(lambda t, m: t == f"{b}/dev/ct-05/up" and m.get("id") == "b-1")
    server.wait_for(lambda t, m: t == f"qms/{A}/dev/ct-05/up" and m.get("id") == "a-1")
    assert not [m for t, m in server.messages if m.get("forged")]
    # nothing forged was retained in hall B either
    late = peer(SERVER_USERNAME, client_id="late-server")
    late.subscribe(f"{b}/#")
    own.publish(f"{b}/dev/ct-05/status", {"v": 1, "online": True, "mine": True}, retain=True)
    late.wait_for(lambda t, m: m.get("mine") is True)
    assert not [m for t, m in late.messages if m.get("forged")]


def test_a_device_of_one_hall_cannot_read_another(peer: Callable[..., Peer]) -> None:
    server = peer(SERVER_USERNAME)
    for hall in (B, A):  # retained: B's state and board for its ct-05, then A's for the reader
        server.publish(f"qms/{hall}/dev/ct-05/state", {"v": 1, "hall": hall, "when": "retained"}, retain=True)
        server.publish(f"qms/{hall}/board", {"v": 1, "hall": hall, "when": "retained"}, retain=True)
    reader = peer(f"{A}.ct-05")
    reader.subscribe(f"qms/{B}/dev/ct-05/state", "qms/+/dev/ct-05/state", f"qms/{B}/#", "qms/#", "#",
                     f"qms/{B}/board", f"qms/{B}/calls", f"qms/{B}/server/status")
    reader.subscribe(f"qms/{A}/dev/ct-05/state", f"qms/{A}/calls")
    reader.wait_for(lambda t, m: t == f"qms/{A}/dev/ct-05/state" and m.get("when") == "retained")
    for hall in (B, A):  # live: B's messages, then A's, which its own device must see
        server.publish(f"qms/{hall}/dev/ct-05/state", {"v": 1, "hall": hall, "when": "live"})
        server.publish(f"qms/{hall}/dev/ct-05/down", {"v": 1, "hall": hall, "re": "x", "ok": True})
        server.publish(f"qms/{hall}/calls", {"v": 1, "hall": hall, "number": "A001", "counter": 5})
    reader.wait_for(lambda t, m: t == f"qms/{A}/calls" and m.get("hall") == A)
    assert not [(t, m) for t, m in reader.messages if m.get("hall") == B or f"/{B}/" in t]


def test_the_same_device_id_in_two_halls_are_two_devices(province: SecuredBroker, peer: Callable[..., Peer]) -> None:
    server = peer(SERVER_USERNAME)
    server.subscribe("qms/+/dev/+/up")  # the province server's one subscription for every hall
    # both connected at once, with the firmware's client ids `{hall}-{device}`
    devices = {hall: peer(f"{hall}.ct-05", client_id=f"{hall}-ct-05") for hall in (A, B)}
    for hall, device in devices.items():
        device.subscribe(f"qms/{hall}/dev/ct-05/down")
        device.publish(f"qms/{hall}/dev/ct-05/up", {"v": 1, "id": f"{hall}-1", "t": "call.next"})
        server.wait_for(lambda t, m, hall=hall: t == f"qms/{hall}/dev/ct-05/up" and m.get("id") == f"{hall}-1")
    for hall in (A, B):
        server.publish(f"qms/{hall}/dev/ct-05/down", {"v": 1, "re": f"{hall}-1", "ok": True, "hall": hall})
    for hall, device in devices.items():
        device.wait_for(lambda t, m, hall=hall: m.get("re") == f"{hall}-1")
        assert [m["hall"] for t, m in device.messages] == [hall]
        assert not device.dropped.is_set()
    # each password opens its own login only; the bare device id is no login at all
    assert not peer(f"{A}.ct-05", province.passwords[f"{B}.ct-05"], "swap-1").accepted
    assert not peer(f"{B}.ct-05", province.passwords[f"{A}.ct-05"], "swap-2").accepted
    bare = Peer(province.port, "ct-05", province.passwords[f"{A}.ct-05"], "bare-ct-05")
    try:
        assert not bare.accepted
    finally:
        bare.close()


def test_a_province_server_on_the_generated_acl(tmp_path: Path) -> None:
    """The real province runtime (one server, HALL_CONFIG a province file of two halls) logged in
    with the generated server login: both halls work, each device with its own login, and hall A's
    terminal speaking on hall B's terminal topic changes nothing in B."""
    path = tmp_path / "province.toml"
    path.write_text('[province]\nid = "tinh-thu"\nname = "Tỉnh Thử"\n\n' + "".join(
        f'[[halls]]\nconfig = "{DEMO_CONFIG}"\nid = "{h}"\nalways_open = true\ndemo = false\n\n' for h in (A, B)),
        encoding="utf-8")
    broker = start_secured(tmp_path, [src.config for src in load_province(path).halls], ("kiosk-1", "ct-01"))
    settings = Settings(mqtt_url=broker.url(SERVER_USERNAME), database_url=f"sqlite:///{tmp_path / 'p.db'}",
                        config_path=path, http_port=0)
    rt = Runtime(settings).start()
    links: list[DeviceLink] = []

    def link(hall: str, device: str) -> DeviceLink:
        login = f"{hall}.{device}"
        links.append(DeviceLink(f"mqtt://{login}:{broker.passwords[login]}@127.0.0.1:{broker.port}", hall,
                                device).start())
        return links[-1]

    make, peers = peer_factory(broker)
    try:
        assert rt.adapter is not None and rt.adapter.connected.wait(15)
        for hall in (A, B):
            assert link(hall, "kiosk-1").request("ticket.take", {"service": "tu-phap"})["ticket"]["number"] == "A001"
        intruder = make(f"{A}.ct-01")
        for i, (t, fields) in enumerate((("officer.login", {"officer": "o01", "pin": "0000"}), ("call.next", {}))):
            intruder.publish(f"qms/{B}/dev/ct-01/up", {"v": 1, "id": f"forged-{i}", "t": t, **fields})
        terminal_b = link(B, "ct-01")
        assert terminal_b.request("officer.login", {"officer": "o02", "pin": "0000"})["ok"]
        assert terminal_b.request("call.next")["ticket"]["number"] == "A001"  # the forged call.next did nothing
        terminal_a = link(A, "ct-01")
        assert terminal_a.request("officer.login", {"officer": "o01", "pin": "0000"})["ok"]
        assert terminal_a.request("call.next")["ticket"]["number"] == "A001"
        day = rt.service.now().date()
        assert [len(rt.store.tickets(h, day)) for h in (A, B)] == [1, 1]
    finally:
        for each in links:
            each.close()
        for p in peers:
            p.close()
        rt.stop()
        broker.mosquitto.stop()
