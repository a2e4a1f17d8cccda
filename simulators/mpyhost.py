"""The MicroPython boards' programs on the host: umqtt.simple's client interface over paho-mqtt, so
their link (mpyrt.link) and logic run under CPython against a real broker and the real hall server
(the simulators and tests/firmware_mpy/test_mpy_end_to_end.py). CPython only.

On a board the device's modules sit at the root and the shared runtime under /lib; `board_paths()`
puts the same folders on sys.path (appended, so they never shadow anything else).

TLS as on the board: a HostBoard given the board settings `mqtt_tls` and `mqtt_ca` (a file in its
flash folder) builds its SSL context with the board's own mpyrt.tlsctx, over CPython's ssl."""

from __future__ import annotations

import collections
import queue
import ssl
import threading
import time
from collections.abc import Callable
from pathlib import Path

import paho.mqtt.client as mqtt

from broker.client import MqttUrl, paho_client

FIRMWARE = Path(__file__).resolve().parents[1] / "firmware"


def board_paths() -> None:
    import sys

    for path in (FIRMWARE, FIRMWARE / "rating_button", FIRMWARE / "led_display"):
        if str(path) not in sys.path:
            sys.path.append(str(path))


board_paths()

from mpyrt import conf, tlsctx  # noqa: E402  (the boards' runtime: found on the board's paths)

# what a host board's settings may set: the broker itself comes from its URL
TLS_SETTINGS = ("mqtt_tls", "mqtt_ca")


class PahoUmqtt:
    """What mpyrt.link needs: set_callback, set_last_will, connect, publish (QoS 1 waits for the
    PUBACK), subscribe, check_msg (one message per call, on the caller's thread), ping, disconnect, sock.
    `tls`: the board's SSL context (umqtt.simple's `ssl`), for an mqtt:// URL naming the TLS port."""

    def __init__(self, url: str, client_id: str, username: str, tls: ssl.SSLContext | None = None):
        self.url = MqttUrl.parse(url)
        if tls is not None and self.url.tls:
            raise ValueError(f"{self.url}: an mqtts:// URL brings its own TLS; a board context takes mqtt://")
        self.tls = tls
        self.client_id = client_id
        self.username = username
        self.cb: Callable[[bytes, bytes], None] | None = None
        self.will: tuple[str, bytes] | None = None
        self.inbox: queue.Queue[tuple[bytes, bytes]] = queue.Queue()
        self.connected = threading.Event()
        self.subscribed = threading.Event()
        self.dead = False
        self.sock = self  # the link closes `sock` to drop a session without DISCONNECT
        self.c: mqtt.Client | None = None

    def set_callback(self, f: Callable[[bytes, bytes], None]) -> None:
        self.cb = f

    def set_last_will(self, topic: str, msg: bytes, retain: bool = False, qos: int = 0) -> None:
        assert retain and qos == 1
        self.will = (topic, msg)

    def connect(self, clean_session: bool = True) -> bool:
        c = paho_client(self.url, self.client_id, self.username, self.will, clean_session=clean_session)
        if self.tls is not None:
            c.tls_set_context(self.tls)  # paho names the URL's host: the context checks it
        c.on_connect = lambda *a: self.connected.set()
        c.on_subscribe = lambda *a: self.subscribed.set()
        c.on_message = lambda cl, ud, m: self.inbox.put((m.topic.encode(), m.payload))
        c.on_disconnect = lambda *a: setattr(self, "dead", True)
        self.c = c
        try:
            c.connect(self.url.host, self.url.port, keepalive=30)
        except OSError:
            self.dead = True
            raise
        c.loop_start()
        if not self.connected.wait(5):
            self.close()
            raise OSError(110, "no CONNACK")
        return False

    def _live(self) -> mqtt.Client:
        if self.dead or self.c is None:
            raise OSError(104, "connection lost")
        return self.c

    def publish(self, topic: str, msg: bytes, retain: bool = False, qos: int = 0) -> None:
        info = self._live().publish(topic, msg, qos, retain)
        info.wait_for_publish(5)
        if not info.is_published():
            raise OSError(110, "no PUBACK")

    def subscribe(self, topic: str, qos: int = 0) -> None:
        self.subscribed.clear()
        self._live().subscribe(topic, qos)
        if not self.subscribed.wait(5):
            raise OSError(110, "no SUBACK")

    def check_msg(self) -> None:
        self._live()
        try:
            topic, payload = self.inbox.get_nowait()
        except queue.Empty:
            return
        assert self.cb is not None
        self.cb(topic, payload)

    def ping(self) -> None:
        self._live()  # paho keeps the session alive itself

    def disconnect(self) -> None:
        c = self._live()
        c.disconnect()
        c.loop_stop()
        self.dead = True

    def close(self) -> None:
        self.dead = True
        if self.c is not None:
            self.c.disconnect()  # paho cannot vanish without a trace on every broker; fine here
            self.c.loop_stop()


def ticks_ms() -> int:
    return int(time.monotonic() * 1000) & ((1 << 30) - 1)


class HostBoard:
    """A MicroPython device's program on the host: its real logic, link and flash files (under
    `flash`), stepping in real time; `reachable` switches the network off and on. `settings`: the
    board's TLS settings (TLS_SETTINGS), its CA file read from `flash` at every connect try as the
    board does; `log` keeps the link's last lines (what the board prints)."""

    def __init__(self, url: str, hall: str, device: str, flash: Path, settings: dict[str, object] | None = None):
        self.url, self.hall, self.device, self.flash = url, hall, device, flash
        unknown = sorted(set(settings or {}) - set(TLS_SETTINGS))
        if unknown:
            raise ValueError(f"a host board takes its broker from its URL; settings may set only "
                             f"{', '.join(TLS_SETTINGS)}, got {', '.join(unknown)}")
        self.settings: dict[str, object] = {key: conf.LINK[key] for key in TLS_SETTINGS}
        self.settings.update(settings or {})
        self.reachable = True
        self.clients: list[PahoUmqtt] = []
        self.log: collections.deque[str] = collections.deque(maxlen=100)

    def say(self, line: str) -> None:
        self.log.append(line)

    def make_client(self) -> PahoUmqtt:
        if not self.reachable:
            raise OSError(113, "no route to host")
        tls = tlsctx.load(self.settings, ssl, f"{self.flash}/")
        client = PahoUmqtt(self.url, f"{self.hall}-{self.device}", f"{self.hall}.{self.device}", tls)
        self.clients.append(client)
        return client

    def go_offline(self) -> None:
        self.reachable = False
        for client in self.clients:
            if not client.dead:
                client.close()

    def step(self) -> None:
        raise NotImplementedError

    def run_until(self, predicate: Callable[[], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.device}: condition not met in {timeout} s")
            self.step()
            time.sleep(0.005)

    def run_for(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.step()
            time.sleep(0.005)
