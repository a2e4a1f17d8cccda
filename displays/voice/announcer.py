"""The announcer agent: a Raspberry Pi with a speaker that says every call of its hall.

It subscribes to `qms/{hall}/calls` through `broker.client.paho_client`, turns each call into a
clip (a builder thread: synthesis never blocks the MQTT loop, and clips are built in arrival
order) and hands it to the announcement queue, which plays one clip at a time. A recall is a new
`calls` message and is announced again; a QoS 1 duplicate (same `seq`) is not.

The session is clean (clean_session=True): a call missed while the broker was unreachable is not
announced minutes late after the reconnect; the hall screen still shows it.

The announcer is a `screen` device of the hall configuration (`voice-1` by default) and logs in as
`{hall}.{device}` unless the URL names a user: the broker's ACL lets a screen read its hall's
`calls`. It keeps its own retained `status` (online on connect, offline on a clean shutdown and
as its last will).
"""

from __future__ import annotations

import logging
import queue
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client
from displays.voice.clips import ClipBuilder
from displays.voice.config import ANNOUNCER_DEVICE
from displays.voice.player import AnnouncementQueue

log = logging.getLogger(__name__)
topics = protocols.topics


@dataclass(frozen=True)
class Call:
    """The part of a `calls` message the voice needs."""

    seq: int | None  # None: a sender without seq; such calls are never taken for duplicates
    number: str
    counter: int
    recall: int

    @classmethod
    def parse(cls, payload: bytes) -> Call:
        msg = protocols.parse_object(payload)
        number, counter, seq = msg.get("number"), msg.get("counter"), msg.get("seq")
        if not protocols.is_ticket_number(number):
            raise protocols.ProtocolError("bad_field", f"number {number!r}")
        if not isinstance(counter, int) or isinstance(counter, bool) or not 1 <= counter <= 9999:
            raise protocols.ProtocolError("bad_field", f"counter {counter!r}")
        recall = msg.get("recall") or 0
        return cls(seq if isinstance(seq, int) else None, number, counter, recall if isinstance(recall, int) else 0)


class Announcer:
    def __init__(self, url: str, hall: str, builder: ClipBuilder, announcements: AnnouncementQueue,
                 client_id: str | None = None, on_queued: Callable[[Call, Path], None] | None = None,
                 device: str = ANNOUNCER_DEVICE):
        self.hall, self.device, self.url = hall, device, MqttUrl.parse(url)
        self.builder, self.announcements = builder, announcements
        self.on_queued = on_queued
        self.topic = topics.calls(hall)
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self._seen: deque[tuple[int | None, str, int]] = deque(maxlen=256)
        self._calls: queue.Queue[Call | None] = queue.Queue()
        self._builder_thread = threading.Thread(target=self._build_loop, name="announcer-build", daemon=True)
        client_id = client_id or f"announcer-{hall}-{socket.gethostname()}"[:64]
        self.status_topic = topics.status(hall, device)
        self.client = paho_client(self.url, client_id, topics.username(hall, device),
                                  (self.status_topic, protocols.encode(protocols.status(False))), clean_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_disconnect = lambda *_: (self.connected.clear(), self.subscribed.clear())
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> Announcer:
        self._builder_thread.start()
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            raise ConnectionError(f"announcer: broker {self.url} not reachable")
        return self

    def close(self) -> None:
        if self.connected.is_set():  # a clean shutdown says offline (the last will is for crashes)
            info = self.client.publish(self.status_topic, protocols.encode(protocols.status(False)), 1, True)
            try:
                info.wait_for_publish(5)
            except (RuntimeError, ValueError):
                log.info("announcer: offline status not sent")
        self.client.disconnect()
        self.client.loop_stop()
        self._calls.put(None)
        self._builder_thread.join(10)
        self.announcements.close()

    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("announcer: broker refused: %s", reason_code)
            return
        client.subscribe(self.topic, qos=1)  # again after every reconnect
        client.publish(self.status_topic, protocols.encode(protocols.status(True, {"service": "announcer"})), 1, True)
        self.connected.set()

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        if msg.topic != self.topic:
            return  # amqtt hands out retained messages of topics nobody subscribed to
        try:
            call = Call.parse(msg.payload)
        except protocols.ProtocolError as exc:
            log.warning("announcer: bad call message: %s", exc)
            return
        key = (call.seq, call.number, call.recall)
        if call.seq is not None and key in self._seen:
            return  # QoS 1 redelivery of a call already announced
        self._seen.append(key)
        self._calls.put(call)

    def _build_loop(self) -> None:
        while (call := self._calls.get()) is not None:
            try:
                clip = self.builder.build(call.number, call.counter)
            except Exception:  # one failed clip is logged; the next call is still announced
                log.exception("announcer: no clip for %s at counter %s", call.number, call.counter)
                continue
            self.announcements.submit(clip, f"{call.number} -> {call.counter}")
            if self.on_queued:
                self.on_queued(call, clip)
