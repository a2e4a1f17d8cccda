"""One device's session with the hall: what a real Pi agent and a simulated device both use."""

from __future__ import annotations

import itertools
import logging
import secrets
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client

log = logging.getLogger(__name__)
topics = protocols.topics


class LinkDown(ConnectionError):
    """No reply from the server in time: the device must say so, not pretend."""


class Refusal(Exception):
    """The server answered ok:false."""

    def __init__(self, reply: dict):
        err = reply.get("error", {})
        super().__init__(err.get("code"), err.get("message"))
        self.code = err.get("code", "server_error")
        self.message = err.get("message", "")
        self.reply = reply


class DeviceLink:
    def __init__(self, url: str, hall: str, device: str, fw: str = "1.0.0", boot: str | None = None,
                 clean_session: bool = False, health: dict | None = None):
        self.hall, self.device = hall, device
        self.url = MqttUrl.parse(url)
        self.fw = fw
        self.health = dict(health or {})
        self.boot = boot or secrets.token_hex(3)  # id prefix: ids stay unique across reboots
        self._seq = itertools.count(1)
        self._lock = threading.Condition()
        self._replies: dict[str, dict] = {}
        self.state: dict | None = None
        self.connected = threading.Event()
        self.disconnected = threading.Event()  # set while the link is down, so both can be waited on
        self.disconnected.set()
        self._dropped = False
        self.on_state: Callable[[dict], None] | None = None
        self.on_push: Callable[[dict], None] | None = None
        # the hall server's retained availability (None: not heard yet); a device shows "MẤT KẾT NỐI"
        # when the broker or the server is gone, and on_link(available) tells it when that changes
        self.server_online: bool | None = None
        self.on_link: Callable[[bool], None] | None = None
        c = paho_client(self.url, f"{hall}-{device}", topics.username(hall, device),
                        (topics.status(hall, device), protocols.encode(protocols.status(False))),
                        clean_session=clean_session)
        c.on_connect, c.on_message, c.on_disconnect = self._on_connect, self._on_message, self._on_disconnect
        self.client = c

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 10.0) -> DeviceLink:
        self.client.connect_async(self.url.host, self.url.port, keepalive=20)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            raise LinkDown(f"{self.device}: broker {self.url} not reachable")
        return self

    def close(self) -> None:
        """A clean shutdown: say offline first (the last will is only for crashes)."""
        if self._dropped:
            return
        if self.connected.is_set():
            info = self.client.publish(topics.status(self.hall, self.device),
                                       protocols.encode(protocols.status(False)), 1, True)
            try:
                info.wait_for_publish(5)
            except (RuntimeError, ValueError):  # the link went down meanwhile: the will says offline
                log.info("%s: offline status not sent", self.device)
        self.client.disconnect()
        self.client.loop_stop()

    def drop(self) -> None:
        """Vanish without a DISCONNECT, like a device losing power: the broker sends the last will."""
        self._dropped = True
        self.client.loop_stop()
        sock = self.client.socket()
        if sock is not None:
            sock.close()

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("%s: broker refused: %s", self.device, reason_code)
            return
        client.subscribe([(topics.down(self.hall, self.device), 1), (topics.state(self.hall, self.device), 1),
                          (topics.server_status(self.hall), 1)])
        self.publish_status()
        self.disconnected.clear()
        self.connected.set()
        self._link_changed()

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        self.disconnected.set()
        self._link_changed()

    @property
    def available(self) -> bool:
        """Connected to the broker, and the server is not known to be offline."""
        return self.connected.is_set() and self.server_online is not False

    def _link_changed(self) -> None:
        if self.on_link:
            self.on_link(self.available)

    def publish_status(self, **health: object) -> None:
        self.health.update(health)
        fields = {"fw": self.fw}
        fields.update(self.health)
        self.client.publish(topics.status(self.hall, self.device),
                            protocols.encode(protocols.status(True, fields)), 1, True)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        try:
            hall, device, leaf = topics.parse(msg.topic)
            if hall == self.hall and leaf == "server/status":
                self.server_online = protocols.parse_status(msg.payload)["online"]
                self._link_changed()
                return
            if (hall, device) != (self.hall, self.device):
                # some brokers (amqtt) hand out retained messages of topics never subscribed to
                log.debug("%s: ignoring %s", self.device, msg.topic)
                return
            if leaf == "state":
                state = protocols.parse_object(msg.payload)
                with self._lock:
                    self.state = state
                    self._lock.notify_all()
                if self.on_state:
                    self.on_state(state)
            elif leaf == "down":
                down = protocols.parse_down(msg.payload)
                if "re" in down:
                    with self._lock:
                        self._replies[down["re"]] = down
                        self._lock.notify_all()
                elif self.on_push:
                    self.on_push(down)
        except protocols.ProtocolError as exc:
            log.warning("%s: bad message on %s: %s", self.device, msg.topic, exc)

    # ------------------------------------------------------------ requests
    def new_id(self) -> str:
        return f"{self.boot}-{next(self._seq)}"

    def send(self, t: str, fields: dict | None = None, msg_id: str | None = None) -> str:
        """Publish one `up` message (QoS 1) without waiting; returns its id."""
        msg_id = msg_id or self.new_id()
        msg = protocols.make_up(t, msg_id, fields)
        self.client.publish(topics.up(self.hall, self.device), protocols.encode(msg), 1, False)
        return msg_id

    def request(self, t: str, fields: dict | None = None, timeout: float = 10.0, retry_s: float = 3.0,
                msg_id: str | None = None) -> dict:
        """Send and wait for the reply, resending the same id; raises Refusal on ok:false,
        LinkDown when nothing came back in time."""
        msg_id = msg_id or self.new_id()
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                self.send(t, fields, msg_id)
                resend_at = min(deadline, time.monotonic() + retry_s)
                while msg_id not in self._replies:
                    remaining = resend_at - time.monotonic()
                    if remaining <= 0:
                        break
                    self._lock.wait(remaining)
                if msg_id in self._replies:
                    reply = self._replies.pop(msg_id)
                    if not reply["ok"]:
                        raise Refusal(reply)
                    return reply
                if time.monotonic() >= deadline:
                    raise LinkDown(f"{self.device}: no reply to {t} within {timeout:.0f} s")

    def wait_reply(self, msg_id: str, timeout: float = 10.0) -> dict:
        """The reply (ok or not) to a message sent with `send`."""
        with self._lock:
            if not self._lock.wait_for(lambda: msg_id in self._replies, timeout):
                raise LinkDown(f"{self.device}: no reply to {msg_id} within {timeout:.0f} s")
            return self._replies.pop(msg_id)

    def wait_state(self, predicate: Callable[[dict], bool], timeout: float = 10.0) -> dict:
        """Block until the retained state satisfies `predicate`."""
        with self._lock:
            if not self._lock.wait_for(lambda: self.state is not None and predicate(self.state), timeout):
                raise TimeoutError(f"{self.device}: state never matched; last {self.state}")
            return self.state
