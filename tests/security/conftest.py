"""A real Mosquitto started with the files `provision export` writes, and raw MQTT peers that
record everything they receive (so a test can show what did *not* arrive)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.require import require_binary

from broker.mosquitto import MosquittoProcess
from hallserver.domain.config import HallConfig
from hallserver.provisioning import SERVER_USERNAME, Credentials
from hallserver.settings import load_hall_config

HALL = "demo"
# the logins every test hall gets: the server, counter 5's three devices, a neighbour, a kiosk, a screen
DEVICES = ("ct-05", "led-05", "rb-05", "ct-04", "kiosk-1", "screen-1")


def login(user: str | None, hall: str = HALL) -> str | None:
    """A device id of `hall` as its broker login `{hall}.{device}`; full logins and the server's stay."""
    if user is None or "." in user or user == SERVER_USERNAME:
        return user
    return f"{hall}.{user}"


@dataclass
class SecuredBroker:
    mosquitto: MosquittoProcess
    creds: Credentials
    passwords: dict[str, str]  # by login
    files: Path

    @property
    def port(self) -> int:
        return self.mosquitto.port

    def url(self, user: str) -> str:
        name = login(user)
        return f"mqtt://{name}:{self.passwords[name or '']}@127.0.0.1:{self.port}"

    def apply(self) -> None:
        """Export the credentials and make Mosquitto re-read them (SIGHUP), as an installer does."""
        self.creds.export(self.files)
        self.mosquitto.reload()


def start_secured(tmp_path: Path, configs: list[HallConfig], devices: tuple[str, ...] = DEVICES) -> SecuredBroker:
    """Provision the server and `devices` in every hall of `configs` (one credentials file, as
    for a province), export, and start Mosquitto on the generated files."""
    creds = Credentials(tmp_path / "hall.credentials.json")
    passwords = {SERVER_USERNAME: creds.add(configs, SERVER_USERNAME, kind="server", hall=configs[0].id)}
    for config in configs:
        for device in devices:
            passwords[f"{config.id}.{device}"] = creds.add(configs, device, hall=config.id)
    creds.save()
    files = tmp_path / "broker"
    passwd, acl = creds.export(files)
    extra = f"allow_anonymous false\npassword_file {passwd}\nacl_file {acl}"
    proc = MosquittoProcess(require_binary("mosquitto", "mosquitto"), extra_config=extra)
    proc.start()
    return SecuredBroker(proc, creds, passwords, files)


@pytest.fixture
def secured(tmp_path: Path) -> Iterator[SecuredBroker]:
    """Mosquitto with anonymous access off and the generated password_file and acl_file."""
    broker = start_secured(tmp_path, [load_hall_config(None)])
    try:
        yield broker
    finally:
        broker.mosquitto.stop()


class Peer:
    """A raw MQTT 3.1.1 client that records (topic, JSON) of every message it receives."""

    def __init__(self, port: int, username: str | None, password: str | None, client_id: str | None = None):
        self.messages: list[tuple[str, dict]] = []
        self.cond = threading.Condition()
        self.connack = threading.Event()
        self.dropped = threading.Event()
        self.reason: mqtt.ReasonCode | None = None
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or f"peer-{username}",
                                  protocol=mqtt.MQTTv311)
        if username is not None:
            self.client.username_pw_set(username, password)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = lambda *_: self.dropped.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self.connack.wait(10), "no CONNACK"

    @property
    def accepted(self) -> bool:
        return self.reason is not None and not self.reason.is_failure

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not self.connack.is_set():
            self.reason = reason_code
            self.connack.set()
        if reason_code.is_failure:
            client.disconnect()  # no reconnect loop for a refused login

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.messages.append((msg.topic, json.loads(msg.payload)))
            self.cond.notify_all()

    def subscribe(self, *topics: str) -> None:
        """Subscribe (one SUBSCRIBE packet) and wait for the SUBACK."""
        done = threading.Event()
        self.client.on_subscribe = lambda *_: done.set()
        self.client.subscribe([(t, 1) for t in topics])
        assert done.wait(10), "no SUBACK"

    def publish(self, topic: str, payload: dict, retain: bool = False) -> None:
        """QoS 1, waiting for the PUBACK: Mosquitto has routed (or dropped) it by then."""
        info = self.client.publish(topic, json.dumps(payload), qos=1, retain=retain)
        info.wait_for_publish(10)
        assert info.is_published()

    def wait_for(self, predicate: Callable[[str, dict], bool], timeout: float = 10.0) -> int:
        """Index of the first message matching `predicate`, waiting for it to arrive."""
        with self.cond:
            found = self.cond.wait_for(lambda: any(predicate(t, m) for t, m in self.messages), timeout)
            assert found, f"nothing matching arrived; got {self.messages}"
            return next(i for i, (t, m) in enumerate(self.messages) if predicate(t, m))

    def request(self, device: str, msg: dict, hall: str = HALL) -> dict:
        """Publish on the device's `up` and wait for the reply on its `down`."""
        self.publish(f"qms/{hall}/dev/{device}/up", msg)
        i = self.wait_for(lambda t, m: t == f"qms/{hall}/dev/{device}/down" and m.get("re") == msg["id"])
        return self.messages[i][1]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def peer_factory(secured: SecuredBroker) -> tuple[Callable[..., Peer], list[Peer]]:
    peers: list[Peer] = []

    def make(user: str | None, password: str | None = None, client_id: str | None = None) -> Peer:
        name = login(user)
        p = Peer(secured.port, name, password if password is not None else secured.passwords.get(name or ""),
                 client_id or f"peer-{name}")
        peers.append(p)
        return p

    return make, peers


@pytest.fixture
def peer(secured: SecuredBroker) -> Iterator[Callable[..., Peer]]:
    """peer("ct-05") -> a Peer connected as `demo.ct-05` with its password (or `password=`);
    peer("b.ct-05") for another hall's device, peer("hallserver") for the server."""
    make, peers = peer_factory(secured)
    yield make
    for p in peers:
        p.close()
