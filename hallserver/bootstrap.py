"""Wires the adapters around the engine: broker, store, service, MQTT, HTTP. Nothing is started
at import time; `Runtime.start()` does it, `stop()` undoes it in reverse order.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import socket
import threading
from collections.abc import Callable
from datetime import datetime

import uvicorn

from broker import EmbeddedBroker, start_default
from hallserver.domain.config import HallConfig
from hallserver.domain.pins import verify_pin
from hallserver.http.hub import Hub
from hallserver.mqtt import MqttAdapter
from hallserver.service import HallService
from hallserver.settings import DEMO_CONFIG, Settings, load_hall_config
from hallserver.store import Store

log = logging.getLogger("hallserver")


def demo_pin_warnings(config: HallConfig) -> list[str]:
    """Officers of a real hall who still have the demo PIN 0000."""
    if config.demo:
        return []
    return [o.id for o in config.officers.values() if verify_pin(o.pin_hash, "0000")]


class Runtime:
    def __init__(self, settings: Settings, config: HallConfig | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.config = config or load_hall_config(settings.config_path)
        self.clock = clock
        self.broker: EmbeddedBroker | None = None
        self.mqtt_url = settings.mqtt_url
        self.store = Store(settings.database_url)
        self.service = HallService(self.config, self.store, clock)
        self.hub = Hub()
        self.adapter: MqttAdapter | None = None
        self.http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    def start(self) -> Runtime:
        weak = demo_pin_warnings(self.config)
        if weak:
            log.warning("SECURITY: officers %s still have the demo PIN 0000; set their own PINs "
                        "(python -m hallserver hash-pin)", ", ".join(weak))
        if self.mqtt_url is None:
            self.broker = start_default()
            self.mqtt_url = self.broker.url
            log.info("embedded MQTT broker on %s", self.mqtt_url)
        self.store.migrate()
        self.service.load()
        self.adapter = MqttAdapter(self.service, self.mqtt_url, on_publish=self.hub.on_publish)
        self.adapter.start()
        return self

    @functools.cached_property
    def clips(self):
        """Announcement clips for the hall screens (the [voice] table of the hall's TOML)."""
        from displays.voice.clips import ClipBuilder
        from displays.voice.config import VoiceConfig

        return ClipBuilder(VoiceConfig.from_toml(self.settings.config_path or DEMO_CONFIG))

    def mqtt_connected(self) -> bool:
        return self.adapter is not None and self.adapter.connected.is_set()

    def app(self):
        from hallserver.http.app import create_app

        return create_app(self)

    def http_server(self) -> uvicorn.Server:
        config = uvicorn.Config(self.app(), log_level="warning",
                                timeout_graceful_shutdown=2, lifespan="on")
        self.http = uvicorn.Server(config)
        return self.http

    def bind_http(self, port: int | None = None) -> socket.socket:
        """Bind the HTTP socket now: its port is known at once, and connections made before uvicorn
        accepts them wait in the backlog instead of being refused."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.settings.http_host, self.settings.http_port if port is None else port))
        sock.listen(128)
        return sock

    def serve_http(self, sock: socket.socket) -> None:
        """Serve HTTP in this thread until Ctrl-C (python -m hallserver)."""
        self.http_server().run(sockets=[sock])

    def start_http_thread(self, port: int | None = None) -> int:
        """Serve HTTP on a background thread (tests, the demo); returns the bound port."""
        sock = self.bind_http(port)
        server = self.http_server()
        self._http_thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])),
                                             name="http", daemon=True)
        self._http_thread.start()
        return sock.getsockname()[1]

    def stop(self) -> None:
        if self.http is not None:
            self.hub.close()
            self.http.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(timeout=10)
        if self.adapter is not None:
            self.adapter.stop()
        if self.broker is not None:
            self.broker.stop()
        self.store.close()
