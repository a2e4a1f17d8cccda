"""The MQTT adapter: device messages in, replies, states, calls and the board out (paho-mqtt).

One worker thread applies messages in arrival order; a QoS 1 message is acknowledged to the broker
only after its outcome is committed (manual ack), so a killed server gets it again on restart.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client
from hallserver.metrics import Histogram
from hallserver.outputs import Outputs, Publication
from hallserver.service import HallService, StoreUnavailable

log = logging.getLogger(__name__)
topics = protocols.topics
TICK_S = 1.0


class MqttAdapter:
    def __init__(self, service: HallService, url: str, client_id: str | None = None,
                 on_publish: Callable[[Publication], None] | None = None):
        self.service = service
        self.hall_id = service.config.id
        self.url = MqttUrl.parse(url)
        self.on_publish = on_publish
        self.outputs = Outputs()
        self.latency = Histogram()  # up message taken from the inbox -> reply published (GET /metrics)
        self.inbox: queue.Queue = queue.Queue()
        self.connected = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        c = paho_client(self.url, client_id or f"hallserver-{self.hall_id}", "hallserver",
                        (topics.server_status(self.hall_id), protocols.encode(protocols.status(False))),
                        manual_ack=True)
        c.max_inflight_messages_set(100)
        c.on_connect = self._on_connect
        c.on_disconnect = self._on_disconnect
        c.on_message = self._on_message
        self.client = c

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 15.0) -> None:
        self._stop.clear()
        for target, name in ((self._work, "mqtt-worker"), (self._tick, "mqtt-ticker")):
            t = threading.Thread(target=target, name=f"{name}-{self.hall_id}", daemon=True)
            t.start()
            self._threads.append(t)
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        if not self.connected.wait(timeout):
            log.warning("broker %s not reachable yet; retrying in the background", self.url)

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()
        if self.connected.is_set():
            info = self.client.publish(topics.server_status(self.hall_id),
                                       protocols.encode(protocols.status(False)), 1, True)
            info.wait_for_publish(timeout=5)
        self.client.disconnect()
        self.client.loop_stop()

    # ------------------------------------------------------------ paho callbacks (network thread)
    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection: %s", reason_code)
            return
        for topic in topics.subscriptions(self.hall_id):
            client.subscribe(topic, qos=1)
        client.publish(topics.server_status(self.hall_id),
                       protocols.encode(protocols.status(True, {"service": "hallserver"})), 1, True)
        self.inbox.put("republish")  # retained messages may be gone (an embedded broker restarted)
        self.connected.set()
        log.info("connected to %s", self.url)

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("disconnected from broker (%s); reconnecting", reason_code)

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(msg)

    # ------------------------------------------------------------ worker
    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            try:
                changed, _ = self.service.tick()
            except Exception:  # a failed tick is logged; the next one tries again
                log.exception("tick failed")
                continue
            if changed:
                self.inbox.put("outputs")

    def _work(self) -> None:
        while True:
            item = self.inbox.get()
            if item is None:
                return
            try:
                if item == "republish":
                    self.outputs.reset()
                    self._publish_outputs()
                elif item == "outputs":
                    self._publish_outputs()
                else:
                    self._handle(item)
            except Exception:  # the server never stops for one bad message
                log.exception("failed to handle %r", getattr(item, "topic", item))
                self.service.metrics["handler_errors"] += 1
                if isinstance(item, mqtt.MQTTMessage):
                    self._ack(item)

    def _handle(self, msg: mqtt.MQTTMessage) -> None:
        try:
            hall, device, leaf = topics.parse(msg.topic)
        except protocols.ProtocolError:
            self.service.metrics["malformed.bad_topic"] += 1
            log.warning("message on bad topic %r", msg.topic[:80])
            self._ack(msg)
            return
        if hall != self.hall_id:
            self._ack(msg)
            return
        if leaf == "status":
            self.service.handle_status(device, msg.payload)
        elif leaf == "up":
            started = time.perf_counter()
            outcome = self.service.handle_up(device, msg.payload)
            if outcome.reply is not None:
                self._send(Publication(topics.down(hall, device), outcome.reply, False))
            self.latency.observe(time.perf_counter() - started)
            if outcome.events or outcome.resend_state:
                self._publish_outputs((device,) if outcome.resend_state else ())
        self._ack(msg)

    def _ack(self, msg: mqtt.MQTTMessage) -> None:
        if msg.qos > 0:
            self.client.ack(msg.mid, msg.qos)

    def _publish_outputs(self, resend: tuple[str, ...] = ()) -> None:
        try:
            pubs = self.service.snapshot(lambda hall, now: self.outputs.collect(hall, now, resend))
        except StoreUnavailable:
            log.warning("store unreachable: states not republished until it is back")
            self.outputs.reset()  # republish everything once the hall is rebuilt
            return
        for pub in pubs:
            self._send(pub)

    def _send(self, pub: Publication) -> None:
        self.client.publish(pub.topic, pub.encode(), qos=1, retain=pub.retain)
        self.service.metrics["messages_out"] += 1
        if self.on_publish is not None:
            self.on_publish(pub)
