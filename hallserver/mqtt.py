"""The MQTT adapter: device messages in, replies, states, calls and the board out (paho-mqtt).

One server process may serve one hall or a whole province. Each hall has its own broker
connection (its subscriptions and its retained last will `qms/{hall}/server/status`, which is how
that hall's devices learn that the server died); one worker thread applies the messages of every
hall in arrival order.

Group commit: the worker takes what has arrived (up to MAX_BATCH messages), applies them one after
the other and commits them in one transaction, then publishes the replies and acknowledges. A QoS 1
message is acknowledged to the broker only after its outcome is committed (manual ack), so a killed
server gets it again on restart. At low load a batch is one message; under load, one commit
carries many, which is what lets the store keep up (bench/province).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client
from hallserver.metrics import Histogram
from hallserver.outputs import Outputs, Publication
from hallserver.service import Batch, HallService, Outcome, StoreUnavailable

log = logging.getLogger(__name__)
topics = protocols.topics
TICK_S = 1.0
MAX_BATCH = 200


@dataclass
class _Link:
    """One hall's broker connection and what was last published for it."""

    hall: str
    service: HallService
    client: mqtt.Client
    outputs: Outputs = field(default_factory=Outputs)
    connected: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Inbound:
    link: _Link
    msg: mqtt.MQTTMessage
    received: float


class MqttAdapter:
    def __init__(self, services: HallService | Mapping[str, HallService], url: str, client_id: str | None = None,
                 on_publish: Callable[[Publication], None] | None = None):
        if isinstance(services, HallService):
            services = {services.config.id: services}
        self.services = dict(services)
        self.service = next(iter(self.services.values()))  # the hall of a one-hall server
        self.hall_id = self.service.config.id
        self.url = MqttUrl.parse(url)
        self.on_publish = on_publish
        self.latency = Histogram()  # up message received -> reply published (GET /metrics)
        self.inbox: queue.Queue = queue.Queue()
        self.connected = threading.Event()  # every hall's connection is up
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._links: dict[str, _Link] = {}
        for hall, service in self.services.items():
            cid = client_id if client_id and len(self.services) == 1 else f"{client_id or 'hallserver'}-{hall}"
            c = paho_client(self.url, cid, "hallserver",
                            (topics.server_status(hall), protocols.encode(protocols.status(False))), manual_ack=True)
            c.max_inflight_messages_set(100)
            link = _Link(hall, service, c)
            c.on_connect = self._on_connect
            c.on_disconnect = self._on_disconnect
            c.on_message = self._on_message
            c.user_data_set(link)
            self._links[hall] = link

    @property
    def client(self) -> mqtt.Client:
        """The connection of a one-hall server."""
        return self._links[self.hall_id].client

    def hall_connected(self, hall: str) -> bool:
        link = self._links.get(hall)
        return link is not None and link.connected.is_set()

    def refresh(self, hall: str | None = None) -> None:
        """Publish what changed outside a device message (a manager's command, the kiosk page)."""
        self.inbox.put(("outputs", hall) if hall else "outputs")

    def publish(self, hall: str, topic: str, payload: dict) -> None:
        """A one-off QoS 1 message on a hall's connection (not retained)."""
        self._send(Publication(topic, payload, False), self._links[hall])

    # ------------------------------------------------------------ lifecycle
    def start(self, timeout: float = 15.0) -> None:
        self._stop.clear()
        for target, name in ((self._work, "mqtt-worker"), (self._tick, "mqtt-ticker")):
            t = threading.Thread(target=target, name=f"{name}-{self.hall_id}", daemon=True)
            t.start()
            self._threads.append(t)
        for link in self._links.values():
            link.client.connect_async(self.url.host, self.url.port, keepalive=30)
            link.client.loop_start()
        if not self.connected.wait(timeout):
            log.warning("broker %s not reachable yet; retrying in the background", self.url)

    def stop(self) -> None:
        self._stop.set()
        self.inbox.put(None)
        for t in self._threads:
            t.join(timeout=10)
        self._threads.clear()
        infos = []
        for link in self._links.values():
            if link.connected.is_set():
                infos.append(link.client.publish(topics.server_status(link.hall),
                                                 protocols.encode(protocols.status(False)), 1, True))
        for info in infos:
            info.wait_for_publish(timeout=5)
        for link in self._links.values():
            link.client.disconnect()
            link.client.loop_stop()

    # ------------------------------------------------------------ paho callbacks (network threads)
    def _on_connect(self, client, link: _Link, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("broker refused the connection of hall %s: %s", link.hall, reason_code)
            return
        for topic in topics.subscriptions(link.hall):
            client.subscribe(topic, qos=1)
        client.publish(topics.server_status(link.hall),
                       protocols.encode(protocols.status(True, {"service": "hallserver"})), 1, True)
        self.inbox.put(("republish", link.hall))  # retained messages may be gone (an embedded broker restarted)
        link.connected.set()
        if all(x.connected.is_set() for x in self._links.values()):
            self.connected.set()
        log.info("hall %s connected to %s", link.hall, self.url)

    def _on_disconnect(self, client, link: _Link, flags, reason_code, properties) -> None:
        link.connected.clear()
        self.connected.clear()
        if not self._stop.is_set():
            log.warning("hall %s disconnected from broker (%s); reconnecting", link.hall, reason_code)

    def _on_message(self, client, link: _Link, msg: mqtt.MQTTMessage) -> None:
        self.inbox.put(_Inbound(link, msg, time.perf_counter()))

    # ------------------------------------------------------------ worker
    def _tick(self) -> None:
        while not self._stop.wait(TICK_S):
            for hall, service in self.services.items():
                try:
                    changed, _ = service.tick()
                except Exception:  # a failed tick is logged; the next one tries again
                    log.exception("tick of hall %s failed", hall)
                    continue
                if changed:
                    self.inbox.put(("outputs", hall))

    def _work(self) -> None:
        item = None
        while True:
            if item is None:
                item = self.inbox.get()
            if item is None:
                return
            later = None
            try:
                if isinstance(item, _Inbound):
                    batch, later = self._take_batch(item)
                    self._handle(batch)
                elif item in ("republish", "outputs"):
                    for link in self._links.values():
                        if item == "republish":
                            link.outputs.reset()
                        self._publish_outputs(link)
                else:
                    what, hall = item
                    link = self._links[hall]
                    if what == "republish":
                        link.outputs.reset()
                    self._publish_outputs(link)
            except Exception:  # the server never stops for one bad message
                log.exception("failed to handle %r", item)
                self.service.metrics["handler_errors"] += 1
                for inbound in (batch if isinstance(item, _Inbound) else ()):
                    self._ack(inbound)
            item = later

    def _take_batch(self, first: _Inbound) -> tuple[list[_Inbound], object]:
        """The first message and those that arrived behind it; a control item ends the batch."""
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                nxt = self.inbox.get_nowait()
            except queue.Empty:
                return batch, None
            if not isinstance(nxt, _Inbound):
                return batch, nxt
            batch.append(nxt)
        return batch, None

    def _handle(self, inbound: list[_Inbound]) -> None:
        ups: list[tuple[_Inbound, str, object]] = []  # (message, device, parsed message or outcome)
        for item in inbound:
            link, msg = item.link, item.msg
            try:
                hall, device, leaf = topics.parse(msg.topic)
            except protocols.ProtocolError:
                link.service.metrics["malformed.bad_topic"] += 1
                log.warning("message on bad topic %r", msg.topic[:80])
                continue
            if hall != link.hall or device is None:
                continue
            if leaf == "status":
                link.service.handle_status(device, msg.payload)
            elif leaf == "up":
                ups.append((item, device, link.service.parse_up(device, msg.payload)))
        if ups:
            self._apply(ups)
        for item in inbound:
            self._ack(item)

    def _apply(self, ups: list[tuple[_Inbound, str, object]]) -> None:
        batch = Batch(ups[0][0].link.service.store)
        try:
            batch.prefetch([(i.link.hall, device, m["id"]) for i, device, m in ups if isinstance(m, dict)])
        except Exception:  # looked up one by one in `apply`, which answers `unavailable` if the store is gone
            log.warning("could not look up answered message ids in one query", exc_info=True)
        outcomes: list[tuple[_Inbound, str, Outcome]] = []
        try:
            for item, device, parsed in ups:
                outcome = parsed if isinstance(parsed, Outcome) else item.link.service.apply(device, parsed, batch)
                outcomes.append((item, device, outcome))
        finally:
            batch.commit()
        resend: dict[str, set[str]] = {}
        for item, device, outcome in outcomes:
            link = item.link
            if outcome.reply is not None:
                self._send(Publication(topics.down(link.hall, device), outcome.reply, False), link)
            self.latency.observe(time.perf_counter() - item.received)
            if outcome.events or outcome.resend_state:
                devices = resend.setdefault(link.hall, set())
                if outcome.resend_state:
                    devices.add(device)
        for hall, devices in resend.items():
            self._publish_outputs(self._links[hall], tuple(devices))

    def _ack(self, item: _Inbound) -> None:
        if item.msg.qos > 0:
            item.link.client.ack(item.msg.mid, item.msg.qos)

    def _publish_outputs(self, link: _Link, resend: tuple[str, ...] = ()) -> None:
        try:
            pubs = link.service.snapshot(lambda hall, now: link.outputs.collect(hall, now, resend))
        except StoreUnavailable:
            log.warning("store unreachable: states of hall %s not republished until it is back", link.hall)
            link.outputs.reset()  # republish everything once the hall is rebuilt
            return
        for pub in pubs:
            self._send(pub, link)

    def _send(self, pub: Publication, link: _Link) -> None:
        link.client.publish(pub.topic, pub.encode(), qos=1, retain=pub.retain)
        link.service.metrics["messages_out"] += 1
        if self.on_publish is not None:
            self.on_publish(pub)
