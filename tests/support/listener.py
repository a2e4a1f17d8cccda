"""A plain MQTT subscriber for tests: records JSON messages and signals each arrival."""

from __future__ import annotations

import json
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


class Listener:
    """A plain subscriber that records messages and signals each arrival."""

    def __init__(self, url: str, topic: str):
        host, port = url.removeprefix("mqtt://").split(":")
        self.topic = topic
        self.messages: list[dict] = []
        self.cond = threading.Condition()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe(topic, qos=1)
        self.client.on_subscribe = lambda *_: subscribed.set()
        self.client.on_message = self._on_message
        self.client.connect(host, int(port))
        self.client.loop_start()
        assert subscribed.wait(10)

    def _on_message(self, client, userdata, msg) -> None:
        if not mqtt.topic_matches_sub(self.topic, msg.topic):
            return  # amqtt hands out retained messages of topics nobody here subscribed to
        with self.cond:
            self.messages.append(json.loads(msg.payload))
            self.cond.notify_all()

    def wait_for(self, predicate, timeout: float = 10.0) -> dict:
        with self.cond:
            ok = self.cond.wait_for(lambda: any(predicate(m) for m in self.messages), timeout)
            assert ok, f"no matching message; got {self.messages}"
            return next(m for m in self.messages if predicate(m))

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
