"""Hostile MQTT input through the real adapter of a running `python -m hallserver`: more than 10,000
malformed payloads and topics on a real Mosquitto, in batches each closed by a barrier message. The
server stays up, its memory stays flat, every message is refused with a code or counted, and the
hall's state (its board) is unchanged."""

from __future__ import annotations

import collections
import threading

import paho.mqtt.client as mqtt
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from paho.mqtt.enums import CallbackAPIVersion
from support.server_process import ServerProcess, hall_env

import protocols

from .hostile import messages, stray_topics

topics = protocols.topics
# Hypothesis draws each example from a bounded buffer: many small batches, not a few large ones.
# The first batch warms up (imports, caches) before memory is measured.
BATCH, BATCHES = 50, 330
RSS_GROWTH_LIMIT = 16 * 2**20


class Fuzzer:
    """One MQTT connection: publishes a batch, then a barrier; the server handles one publisher's
    messages in order, so the barrier's reply means the batch was handled."""

    def __init__(self, url: str, hall: str):
        host, port = url.removeprefix("mqtt://").split(":")
        self.hall = hall
        self.replies: set[str] = set()
        self.cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"fuzz-{hall}", protocol=mqtt.MQTTv311)
        self.client.max_queued_messages_set(0)
        self.client.max_inflight_messages_set(100)
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, int(port))
        self.client.loop_start()
        self.client.subscribe(topics.down(hall, "fuzz-barrier"), qos=1)
        assert subscribed.wait(10)
        self.n = 0

    def _on_message(self, client, userdata, msg) -> None:
        with self.cond:
            self.replies.add(protocols.decode(msg.payload)["re"])
            self.cond.notify_all()

    def batch(self, items: list[tuple[str, bytes]]) -> None:
        infos = [self.client.publish(topic, payload, qos=1) for topic, payload in items]
        self.n += 1
        barrier = f"barrier-{self.n}"
        self.client.publish(topics.up(self.hall, "fuzz-barrier"),
                            protocols.encode(protocols.make_up("state.get", barrier)), qos=1)
        with self.cond:
            assert self.cond.wait_for(lambda: barrier in self.replies, 60), "the server stopped answering"
        assert all(i.rc == mqtt.MQTT_ERR_SUCCESS for i in infos)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def expected(topic: str, hall: str, seen: collections.Counter[str]) -> None:
    """What the server must count for one message (nothing, when the broker keeps it away)."""
    if not any(mqtt.topic_matches_sub(sub, topic) for sub in topics.subscriptions(hall)):
        seen["not_delivered"] += 1
        return
    try:
        _, _, leaf = topics.parse(topic)
    except protocols.ProtocolError:
        seen["malformed.bad_topic"] += 1
        return
    seen["up" if leaf == "up" else "status"] += 1


def _delta(after: dict, before: dict, keys) -> int:
    return sum(after.get(k, 0) - before.get(k, 0) for k in keys)


@pytest.mark.slow
def test_hostile_mqtt_input(tmp_path, mqtt_url, hall_id):
    server = ServerProcess(hall_env(tmp_path, mqtt_url, hall_id))
    server.start()
    fuzzer = Fuzzer(mqtt_url, hall_id)
    seen: collections.Counter[str] = collections.Counter()
    rss: list[int] = []
    try:
        board = server.get("/api/board")
        before = server.get("/healthz")["metrics"]
        proc = psutil.Process(server.pid)

        stray = stray_topics.map(lambda t: (t.replace("HALL", hall_id), b"{}"))
        items = st.one_of(messages(hall_id), messages(hall_id), messages(hall_id), messages(hall_id), stray)

        @settings(max_examples=BATCHES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(st.lists(items, min_size=BATCH, max_size=BATCH))
        def fuzz(batch: list[tuple[str, bytes]]) -> None:
            for topic, _ in batch:
                expected(topic, hall_id, seen)
            fuzzer.batch(batch)
            rss.append(proc.memory_info().rss)

        fuzz()
        assert server.alive()
        after = server.get("/healthz")["metrics"]
        sent = sum(seen.values())
        delivered = sent - seen["not_delivered"]  # the rest the broker keeps from the server (stray topics)
        assert delivered >= 10_000 and fuzzer.n == BATCHES
        barriers = fuzzer.n
        # every `up` that reached the server was refused with a code (malformed.* or refused.*)
        ups = _delta(after, before, ["messages_in"])
        assert ups == seen["up"] + barriers
        codes = [k for k in after if k.startswith(("malformed.", "refused.")) and k != "malformed.bad_topic"]
        assert _delta(after, before, codes) == ups
        assert _delta(after, before, ["malformed.bad_topic"]) == seen["malformed.bad_topic"]
        assert _delta(after, before, [k for k in after if k.startswith(("malformed_status.", "status."))]) \
            == seen["status"]
        assert _delta(after, before, ["commands", "duplicates", "handler_errors"]) == 0
        # the hall is as it was, and still serves
        now = server.get("/api/board")
        assert {k: v for k, v in now.items() if k != "at"} == {k: v for k, v in board.items() if k != "at"}
        growth = rss[-1] - rss[0]
        by_code = {k: after.get(k, 0) - before.get(k, 0) for k in sorted(after) if after.get(k) != before.get(k)}
        print(f"\nMQTT fuzz: {sent} messages ({delivered} reached the adapter) in {fuzzer.n} batches "
              f"({dict(seen)}); server RSS "
              f"{rss[0] / 2**20:.1f} -> {rss[-1] / 2**20:.1f} MiB (max {max(rss) / 2**20:.1f}); counted {by_code}")
        assert growth < RSS_GROWTH_LIMIT, f"server memory grew by {growth / 2**20:.1f} MiB"
    finally:
        fuzzer.close()
        server.stop()
