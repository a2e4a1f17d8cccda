"""The brokers the hall relies on deliver what the device contract needs (QoS 1, retained,
persistent sessions), on the embedded amqtt and on Mosquitto alike."""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from broker import EmbeddedBroker, free_port, port_in_use, start_default
from broker.mosquitto import MosquittoProcess

TIMEOUT = 5.0


class Client:
    """A paho client that reports messages on a queue and waits on events, never sleeps."""

    def __init__(
        self,
        url: str,
        client_id: str | None = None,
        *,
        clean_session: bool = True,
        username: str | None = None,
        password: str | None = None,
        will: tuple[str, bytes] | None = None,
    ) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.connected = threading.Event()
        self.connect_rc: mqtt.ReasonCode | None = None
        self.subscribed = threading.Event()
        self.disconnected = threading.Event()
        self.session_present = False
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id or f"t-{uuid.uuid4().hex[:12]}",
            clean_session=clean_session,
            protocol=mqtt.MQTTv311,
        )
        if username is not None:
            self.client.username_pw_set(username, password)
        if will is not None:
            self.client.will_set(will[0], will[1], 1)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_args: self.subscribed.set()
        self.client.on_message = lambda _c, _u, msg: self.messages.put(msg)
        self.client.on_disconnect = lambda *_args: self.disconnected.set()
        parts = urlsplit(url)
        assert parts.hostname and parts.port
        self.client.connect(parts.hostname, parts.port, keepalive=30)
        self.client.loop_start()

    def _on_connect(
        self, _c: mqtt.Client, _u: object, flags: mqtt.ConnectFlags, rc: mqtt.ReasonCode, _p: object
    ) -> None:
        self.session_present = flags.session_present
        self.connect_rc = rc
        if rc.is_failure:
            _c.disconnect()  # refused: stop paho from reconnecting (its loop would wait ~1 s)
        self.connected.set()

    def wait_connected(self) -> None:
        assert self.connected.wait(TIMEOUT), "no CONNACK"
        assert self.connect_rc is not None and not self.connect_rc.is_failure, f"refused: {self.connect_rc}"

    def subscribe(self, topic: str, qos: int = 1) -> None:
        self.subscribed.clear()
        self.client.subscribe(topic, qos)
        assert self.subscribed.wait(TIMEOUT), "no SUBACK"

    def publish(self, topic: str, payload: bytes, qos: int = 1, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        info.wait_for_publish(TIMEOUT)  # returns once PUBACK arrived (QoS 1)
        assert info.is_published()

    def next_message(self) -> mqtt.MQTTMessage:
        try:
            return self.messages.get(timeout=TIMEOUT)
        except queue.Empty:
            raise AssertionError("no message within timeout") from None

    def close(self) -> None:
        """Disconnect and wait until the socket is closed, so the broker sees the client gone."""
        was_up = self.connected.is_set() and not self.disconnected.is_set()
        self.client.disconnect()
        if was_up:
            self.disconnected.wait(TIMEOUT)
        self.client.loop_stop()


@contextmanager
def client(url: str, **kwargs: object) -> Iterator[Client]:
    c = Client(url, **kwargs)  # type: ignore[arg-type]
    try:
        c.wait_connected()
        yield c
    finally:
        c.close()


def test_qos1_round_trip(mqtt_url: str, topic_prefix: str) -> None:
    topic = f"{topic_prefix}/up"
    with client(mqtt_url) as sub, client(mqtt_url) as pub:
        sub.subscribe(topic)
        pub.publish(topic, b'{"v":1}')
        msg = sub.next_message()
        assert (msg.topic, msg.payload, msg.qos) == (topic, b'{"v":1}', 1)


def test_retained_message_reaches_late_subscriber(mqtt_url: str, topic_prefix: str) -> None:
    topic = f"{topic_prefix}/state"
    with client(mqtt_url) as pub:
        pub.publish(topic, b"snapshot", retain=True)
    with client(mqtt_url) as late:
        late.subscribe(topic)
        msg = late.next_message()
        assert (msg.payload, msg.retain) == (b"snapshot", True)
    with client(mqtt_url) as pub:  # clear it: an empty retained payload deletes it
        pub.publish(topic, b"", retain=True)


def test_persistent_session_gets_qos1_sent_while_offline(mqtt_url: str, topic_prefix: str) -> None:
    """Devices log in with a username and clean_session=False (amqtt queues only then)."""
    topic = f"{topic_prefix}/down"
    device_id = f"dev-{uuid.uuid4().hex[:8]}"
    with client(mqtt_url, client_id=device_id, clean_session=False, username="device") as dev:
        dev.subscribe(topic)
    with client(mqtt_url) as server:
        server.publish(topic, b"reply-while-offline")
    with client(mqtt_url, client_id=device_id, clean_session=False, username="device") as dev:
        assert dev.session_present
        msg = dev.next_message()
        assert (msg.topic, msg.payload, msg.qos) == (topic, b"reply-while-offline", 1)


# -- embedded broker specifics ----------------------------------------------------------------
def test_start_stop_frees_port_and_context_manager() -> None:
    with EmbeddedBroker() as broker:
        port = broker.port
        assert broker.url == f"mqtt://127.0.0.1:{port}"
        assert port_in_use("127.0.0.1", port)
    assert not broker.running
    assert not port_in_use("127.0.0.1", port)


def test_fixed_port_and_start_failure_is_reported() -> None:
    port = free_port()
    with EmbeddedBroker(port=port) as first:
        assert first.port == port
        with pytest.raises(Exception, match="can't be started"):
            EmbeddedBroker(port=port).start()


def test_start_default_prefers_the_given_port_when_free() -> None:
    port = free_port()
    broker = start_default(preferred=port)
    try:
        assert broker.port == port
        other = start_default(preferred=port)  # taken now: falls back to a free port
        try:
            assert other.port != port
        finally:
            other.stop()
    finally:
        broker.stop()


def test_password_file_requires_login(tmp_path: Path, topic_prefix: str) -> None:
    """The hook for the credentials issue: amqtt's FileAuthPlugin with an argon2 hash."""
    from pwdlib import PasswordHash
    from pwdlib.hashers.argon2 import Argon2Hasher

    password_file = tmp_path / "passwd"
    password_file.write_text(f"dev1:{PasswordHash((Argon2Hasher(),)).hash('s3cret')}\n")
    with EmbeddedBroker(password_file=password_file) as broker:
        with client(broker.url, username="dev1", password="s3cret") as ok:
            ok.subscribe(f"{topic_prefix}/x")
        for kwargs in ({}, {"username": "dev1", "password": "wrong"}):
            bad = Client(broker.url, **kwargs)  # type: ignore[arg-type]
            try:
                assert bad.connected.wait(TIMEOUT)
                assert bad.connect_rc is not None and bad.connect_rc.is_failure
            finally:
                bad.close()


def test_reload_swaps_logins_and_closes_stale_sessions(tmp_path: Path, topic_prefix: str) -> None:
    """EmbeddedBroker.reload(users, acls) on a running broker: a dropped login's live session is
    closed (its last will goes out), a kept one stays, a new one logs in, the new ACL applies."""
    from broker.passwords import hash_password

    topic, will = f"{topic_prefix}/up", f"{topic_prefix}/will"
    password_file = tmp_path / "passwd"
    password_file.write_text(f"old:{hash_password('pw-old')}\nkept:{hash_password('pw-kept')}\n")
    acls = ({"old": [topic, will], "kept": [topic]}, {"old": [topic], "kept": [topic, will]})
    with EmbeddedBroker(password_file=password_file, acls=acls) as broker:
        with client(broker.url, username="kept", password="pw-kept") as kept:
            kept.subscribe(will)
            kept.subscribe(topic)
            old = Client(broker.url, username="old", password="pw-old", will=(will, b"gone"))
            try:
                old.wait_connected()
                users = {"kept": hash_password("pw-kept"), "new": hash_password("pw-new")}
                assert broker.reload(users, ({"new": [topic]}, {"kept": [topic, will]})) == 1
                assert old.disconnected.wait(TIMEOUT)
                assert kept.next_message().payload == b"gone"
            finally:
                old.close()
            assert not kept.disconnected.is_set()
            kept.publish(topic, b"no longer allowed")  # acknowledged, and dropped by the new ACL
            with client(broker.url, username="new", password="pw-new") as new:
                new.publish(topic, b"allowed")
            assert kept.next_message().payload == b"allowed"
            refused = Client(broker.url, username="old", password="pw-old")
            try:
                assert refused.connected.wait(TIMEOUT) and refused.connect_rc is not None
                assert refused.connect_rc.is_failure
            finally:
                refused.close()
            assert kept.messages.empty()


# -- the Mosquitto test helper ----------------------------------------------------------------
def test_mosquitto_restart_keeps_persistent_session(mosquitto: MosquittoProcess, topic_prefix: str) -> None:
    """With persistence on, a clean restart keeps sessions, queued QoS 1 and retained messages."""
    topic, device_id = f"{topic_prefix}/down", f"dev-{uuid.uuid4().hex[:8]}"
    with client(mosquitto.url, client_id=device_id, clean_session=False, username="device") as dev:
        dev.subscribe(topic)
    with client(mosquitto.url) as server:
        server.publish(topic, b"queued")
        server.publish(f"{topic_prefix}/state", b"kept", retain=True)
    port = mosquitto.port
    assert mosquitto.restart() == port
    with client(mosquitto.url, client_id=device_id, clean_session=False, username="device") as dev:
        assert dev.session_present
        assert dev.next_message().payload == b"queued"
        dev.subscribe(f"{topic_prefix}/state")
        assert dev.next_message().payload == b"kept"
    mosquitto.kill()
    assert not mosquitto.running
    assert mosquitto.start() == port
    with client(mosquitto.url) as again:
        again.subscribe(f"{topic_prefix}/state")
        assert again.next_message().payload == b"kept"  # saved by the clean stop before the kill


def test_many_devices_connecting_at_once(mqtt_url: str, topic_prefix: str) -> None:
    """A hall's 100-odd devices power up together, each subscribing as soon as it is connected,
    with retained states waiting: every one connects once and stays connected (amqtt 0.12 dropped
    connections that raced with other clients' subscriptions)."""
    n = 60
    publisher = Client(mqtt_url)
    assert publisher.connected.wait(TIMEOUT)
    for i in range(n):
        publisher.client.publish(f"{topic_prefix}/dev{i}/state", b"{}", qos=1, retain=True).wait_for_publish(TIMEOUT)
    connects = [0] * n
    got_state = [threading.Event() for _ in range(n)]
    clients = []
    parts = urlsplit(mqtt_url)
    for i in range(n):
        c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{topic_prefix[-8:]}-dev{i}", clean_session=False,
                        protocol=mqtt.MQTTv311)
        c.username_pw_set(f"dev{i}")

        def on_connect(client, _u, _f, rc, _p, i=i):
            connects[i] += 1
            client.subscribe(f"{topic_prefix}/dev{i}/state", qos=1)

        c.on_connect = on_connect
        c.on_message = lambda _c, _u, msg, i=i: got_state[i].set() if msg.topic.endswith(f"/dev{i}/state") else None
        c.connect_async(parts.hostname, parts.port)
        c.loop_start()
        clients.append(c)
    try:
        for i in range(n):
            assert got_state[i].wait(TIMEOUT), f"device {i} never got its retained state"
        assert connects == [1] * n, "some devices had to reconnect"
    finally:
        for c in clients:
            c.disconnect()
            c.loop_stop()
        for i in range(n):
            publisher.client.publish(f"{topic_prefix}/dev{i}/state", b"", qos=1, retain=True)
        publisher.close()
