"""Many simulated devices over a few MQTT connections, and one thread that drives them.

A real device has its own connection; a province has thousands. Here each `Fleet` connection
carries the `up` messages of every device of its halls (a device is only a topic to the broker
and the server) and subscribes to their halls' `qms/{hall}/dev/+/down`. Replies are matched by
(hall, device, `re`). Without a broker ACL (the bench's private Mosquitto is anonymous) this is
indistinguishable, for the server, from one connection per device.

`Driver` runs the workloads' state machines on one thread: requests with a callback per reply,
timers, timeouts, and the figures (replies per type and code, latency publish -> reply, and the
time of every acknowledged reply for throughput windows). Replies are stamped on the network
threads as they arrive, so a busy driver does not inflate the latencies it reports.
"""

from __future__ import annotations

import collections
import heapq
import itertools
import json
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt

from broker.client import MqttUrl, paho_client

Reply = dict | None  # None: no reply within the timeout
Callback = Callable[[Reply], None]


class Fleet:
    def __init__(self, url: str, halls: list[str], connections: int = 4, name: str = "fleet"):
        self.url = MqttUrl.parse(url)
        self.inbox: queue.SimpleQueue = queue.SimpleQueue()
        self.clients: list[mqtt.Client] = []
        self._conn_of: dict[str, mqtt.Client] = {}
        self._subscribed = threading.Semaphore(0)
        self._topics: dict[int, list[tuple[str, int]]] = collections.defaultdict(list)
        token = secrets.token_hex(3)
        for i in range(max(1, min(connections, len(halls)))):
            c = paho_client(self.url, f"{name}-{token}-{i}", "bench", clean_session=True)
            c.max_inflight_messages_set(0)  # unlimited: the workload itself bounds what is outstanding
            c.max_queued_messages_set(0)
            c.on_connect, c.on_message, c.on_subscribe = self._on_connect, self._on_message, self._on_subscribe
            c.user_data_set(i)
            self.clients.append(c)
        for k, hall in enumerate(halls):
            i = k % len(self.clients)
            self._conn_of[hall] = self.clients[i]
            self._topics[i].append((f"qms/{hall}/dev/+/down", 1))

    def start(self, timeout: float = 15.0) -> Fleet:
        for c in self.clients:
            c.connect_async(self.url.host, self.url.port, keepalive=60)
            c.loop_start()
        for _ in self.clients:
            if not self._subscribed.acquire(timeout=timeout):
                raise TimeoutError(f"fleet: broker {self.url} did not answer the subscriptions")
        return self

    def close(self) -> None:
        for c in self.clients:
            c.disconnect()
            c.loop_stop()

    def publish(self, hall: str, device: str, payload: bytes) -> None:
        self._conn_of[hall].publish(f"qms/{hall}/dev/{device}/up", payload, qos=1)

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if not reason_code.is_failure:
            client.subscribe(self._topics[userdata])

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        self._subscribed.release()

    def _on_message(self, client, userdata, msg: mqtt.MQTTMessage) -> None:
        _, hall, _, device, _ = msg.topic.split("/", 4)
        self.inbox.put((hall, device, msg.payload, time.perf_counter()))


@dataclass
class Stats:
    ok: collections.Counter = field(default_factory=collections.Counter)  # type -> ok replies
    refused: collections.Counter = field(default_factory=collections.Counter)  # (type, code) -> replies
    lost: collections.Counter = field(default_factory=collections.Counter)  # type -> no reply in time
    per_hall: collections.Counter = field(default_factory=collections.Counter)  # (hall, type, ok) -> replies
    latency: dict[str, list[float]] = field(default_factory=lambda: collections.defaultdict(list))  # s
    acked: list[float] = field(default_factory=list)  # perf_counter of every ok reply
    foreign: int = 0  # replies on our topics to requests of someone else (a probe sharing a dispenser)

    def ok_between(self, start: float, end: float) -> int:
        import bisect

        self.acked.sort()  # stamped on several network threads: nearly sorted already
        return bisect.bisect_left(self.acked, end) - bisect.bisect_left(self.acked, start)


class Driver:
    """One thread: `request` publishes and calls back on the reply; `later` runs a function after a
    delay (seconds of real time). Everything the workloads do happens on `run`'s thread."""

    def __init__(self, fleet: Fleet, timeout: float = 30.0):
        self.fleet = fleet
        self.timeout = timeout
        self.boot = secrets.token_hex(3)
        self._ids = itertools.count(1)
        self._seq = itertools.count()
        self.pending: dict[tuple[str, str, str], tuple[float, str, Callback]] = {}
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self.stats = Stats()
        self.stop = threading.Event()

    def request(self, hall: str, device: str, t: str, fields: dict | None, cb: Callback) -> None:
        msg_id = f"{self.boot}-{next(self._ids)}"
        msg = {"v": 1, "id": msg_id, "t": t}
        if fields:
            msg.update(fields)
        self.pending[(hall, device, msg_id)] = (time.perf_counter(), t, cb)
        self.fleet.publish(hall, device, json.dumps(msg, ensure_ascii=False, separators=(",", ":")).encode())

    def later(self, delay: float, fn: Callable[[], None]) -> None:
        heapq.heappush(self.timers, (time.perf_counter() + max(0.0, delay), next(self._seq), fn))

    def cancel_timers(self) -> int:
        """Forget everything scheduled (a phase's future calls and votes); returns how many."""
        n, self.timers = len(self.timers), []
        return n

    def run(self, seconds: float, until_idle: bool = False) -> None:
        """Drive for `seconds` (or until nothing is pending nor scheduled, with `until_idle`)."""
        end = time.perf_counter() + seconds
        next_sweep = time.perf_counter() + 1.0
        inbox = self.fleet.inbox
        while not self.stop.is_set():
            now = time.perf_counter()
            if now >= end or (until_idle and not self.pending and not self.timers):
                return
            while self.timers and self.timers[0][0] <= now:
                heapq.heappop(self.timers)[2]()
            if now >= next_sweep:
                self._sweep(now)
                next_sweep = now + 1.0
            wait = min(end, next_sweep, self.timers[0][0] if self.timers else end) - time.perf_counter()
            try:
                item = inbox.get(timeout=max(0.0, wait)) if wait > 0 else inbox.get_nowait()
            except queue.Empty:
                continue
            self._reply(*item)
            for _ in range(1000):  # drain what is there before looking at the timers again
                try:
                    item = inbox.get_nowait()
                except queue.Empty:
                    break
                self._reply(*item)

    def _reply(self, hall: str, device: str, payload: bytes, received: float) -> None:
        try:
            reply = json.loads(payload)
            key = (hall, device, reply["re"])
        except (ValueError, KeyError, TypeError):
            return  # a push (ticket.print) or something that is no reply
        entry = self.pending.pop(key, None)
        if entry is None:
            self.stats.foreign += 1
            return
        sent, t, cb = entry
        s = self.stats
        if reply.get("ok"):
            s.ok[t] += 1
            s.acked.append(received)
        else:
            s.refused[(t, reply.get("error", {}).get("code", "?"))] += 1
        s.per_hall[(hall, t, bool(reply.get("ok")))] += 1
        s.latency[t].append(received - sent)
        cb(reply)

    def _sweep(self, now: float) -> None:
        late = [k for k, (sent, _, _) in self.pending.items() if now - sent > self.timeout]
        for key in late:
            _, t, cb = self.pending.pop(key)
            self.stats.lost[t] += 1
            cb(None)


def quantiles(samples: list[float], *qs: float) -> list[float]:
    """Nearest-rank quantiles (0..1) of samples; NaN when there are none."""
    if not samples:
        return [float("nan")] * len(qs)
    ordered = sorted(samples)
    return [ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] for q in qs]
