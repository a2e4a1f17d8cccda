"""The Pi display controller: drives the serial LED boards above the counters from their states.

It subscribes to the retained `state` of each counter's LED display device
(`qms/{hall}/dev/led-NN/state`, one board address per counter) and redraws a board whenever what it
must show changes: the ticket number, or dashes while the counter is paused or closed. On a new
call (`call_seq` changes) the board flashes for `blink_s` where the protocol can (Alpha), then
holds. The retained states restore every board after a reboot or a reconnect, so the controller
keeps no queue state of its own.

Writes happen on one worker thread, latest text per board wins: a slow 9600-baud bus never stalls
the MQTT loop, and a burst of changes costs one frame per board.

The controller is a device of the hall configuration (kind `boards`, `counters = [...]`) and logs in
as `{hall}.{device}` (`demo.boards-1`) unless the URL names a user. The broker's ACL lets that login
read the `state` of its counters' LED displays (and the hall's `calls`, `board`, `server/status`)
and publish only its own retained `status`: online on connect, offline before a clean shutdown
and as its last will.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

import protocols
from broker.client import MqttUrl, paho_client
from displays.boards.base import BoardDriver

log = logging.getLogger(__name__)
topics = protocols.topics
DASHES = "----"
DEVICE = "boards-1"


@dataclass(frozen=True)
class Sign:
    """The board above one counter: its bus address and the LED device id whose state it shows."""

    counter: int
    address: int
    device: str = ""

    def __post_init__(self) -> None:
        if not self.device:
            object.__setattr__(self, "device", f"led-{self.counter:02d}")


def led_text(state: dict, dashes: str = DASHES) -> str:
    """What a board shows for an LED state: the number, dashes when paused/closed, else blank."""
    if state.get("status") in ("paused", "closed"):
        return dashes
    number = state.get("number")
    return number if isinstance(number, str) else ""


class BoardController:
    def __init__(self, url: str, hall: str, driver: BoardDriver, signs: list[Sign], dashes: str = DASHES,
                 blink_s: float = 5.0, client_id: str | None = None,
                 on_shown: Callable[[Sign, str, bytes], None] | None = None, device: str = DEVICE):
        self.hall, self.device, self.url, self.driver = hall, device, MqttUrl.parse(url), driver
        self.dashes, self.blink_s, self.on_shown = dashes, blink_s, on_shown
        self.by_topic = {topics.state(hall, s.device): s for s in signs}
        self.subscribed = threading.Event()
        self._last: dict[int, tuple[str, int | None]] = {}  # address -> (text, call_seq) last seen
        self._cond = threading.Condition()
        self._pending: dict[int, tuple[Sign, str, bool]] = {}
        self._unblink: dict[int, float] = {}  # address -> monotonic time to stop flashing
        self._shown: dict[int, tuple[Sign, str, bool]] = {}  # what each board shows (worker thread only)
        self._closing = False
        self._worker = threading.Thread(target=self._run, name="boards", daemon=True)
        client_id = client_id or f"boards-{hall}-{socket.gethostname()}"[:64]
        self.status_topic = topics.status(hall, device)
        self.client = paho_client(self.url, client_id, topics.username(hall, device),
                                  (self.status_topic, protocols.encode(protocols.status(False))), clean_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self.subscribed.set()
        self.client.on_disconnect = lambda *_: self.subscribed.clear()
        self.client.on_message = self._on_message

    def start(self, timeout: float = 10.0) -> BoardController:
        self._worker.start()
        self.client.connect_async(self.url.host, self.url.port, keepalive=30)
        self.client.loop_start()
        if not self.subscribed.wait(timeout):
            raise ConnectionError(f"boards: broker {self.url} not reachable")
        return self

    def close(self) -> None:
        if self.subscribed.is_set():  # a clean shutdown says offline (the last will is for crashes)
            info = self.client.publish(self.status_topic, protocols.encode(protocols.status(False)), 1, True)
            try:
                info.wait_for_publish(5)
            except (RuntimeError, ValueError):
                log.info("boards: offline status not sent")
        self.client.disconnect()
        self.client.loop_stop()
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._worker.join(5)

    # ------------------------------------------------------------ MQTT side
    def _on_connect(self, client: mqtt.Client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            log.error("boards: broker refused: %s", reason_code)
            return
        client.subscribe([(t, 1) for t in self.by_topic])  # retained states redraw every board
        client.publish(self.status_topic, protocols.encode(protocols.status(True, {"boards": len(self.by_topic)})),
                       1, True)

    def _on_message(self, client: mqtt.Client, userdata, msg: mqtt.MQTTMessage) -> None:
        sign = self.by_topic.get(msg.topic)
        if sign is None:
            return  # amqtt hands out retained messages of topics nobody subscribed to
        try:
            state = protocols.parse_object(msg.payload)
        except protocols.ProtocolError as exc:
            log.warning("boards: bad state on %s: %s", msg.topic, exc)
            return
        self.update(sign, state)

    def update(self, sign: Sign, state: dict) -> None:
        """Queue the redraw `state` asks for, if any."""
        text = led_text(state, self.dashes)
        seq = state.get("call_seq") if isinstance(state.get("call_seq"), int) else None
        with self._cond:
            before = self._last.get(sign.address)
            self._last[sign.address] = (text, seq)
            if before == (text, seq):
                return
            # flash on a new call or recall, but not for the first state after a (re)start
            blink = before is not None and seq != before[1] and bool(text) and text != self.dashes and self.blink_s > 0
            self._pending[sign.address] = (sign, text, blink)
            if blink:
                self._unblink[sign.address] = time.monotonic() + self.blink_s
            else:
                self._unblink.pop(sign.address, None)
            self._cond.notify_all()

    # ------------------------------------------------------------ bus side
    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._closing and not self._pending and not self._due():
                    nearest = min(self._unblink.values(), default=None)
                    self._cond.wait(None if nearest is None else max(0.0, nearest - time.monotonic()))
                if self._closing:
                    return
                for address in self._due():
                    del self._unblink[address]
                    shown = self._shown.get(address)
                    if address not in self._pending and shown is not None:
                        self._pending[address] = (shown[0], shown[1], False)
                work, self._pending = self._pending, {}
            for address, (sign, text, blink) in work.items():
                try:
                    frame = self.driver.show(address, text, blink)
                except Exception:  # a failed board is logged; the others are still driven
                    log.exception("boards: cannot write to %s (counter %s)", address, sign.counter)
                    continue
                self._shown[address] = (sign, text, blink)
                if self.on_shown:
                    self.on_shown(sign, text, frame)

    def _due(self) -> list[int]:
        now = time.monotonic()
        return [a for a, t in self._unblink.items() if t <= now]
