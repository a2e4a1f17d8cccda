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
from pathlib import Path

import uvicorn

from broker import EmbeddedBroker, start_default
from hallserver.config_edits import load_overlay
from hallserver.domain.config import HallConfig
from hallserver.domain.pins import verify_pin
from hallserver.http.hub import Hub
from hallserver.mqtt import MqttAdapter
from hallserver.province import Province, load_province
from hallserver.service import HallService
from hallserver.settings import Settings
from hallserver.store import Store

log = logging.getLogger("hallserver")


def demo_pin_warnings(config: HallConfig) -> list[str]:
    """Officers of a real hall who still have the demo PIN 0000."""
    if config.demo:
        return []
    return [o.id for o in config.officers.values() if verify_pin(o.pin_hash, "0000")]


class HallRuntime:
    """One hall's share of the server: what its HTTP app needs (hallserver.http.app.create_app)."""

    def __init__(self, runtime: Runtime, config: HallConfig, config_path: Path,
                 clock: Callable[[], datetime] | None = None):
        self.runtime = runtime
        self.config = config
        self.config_path = config_path
        self.settings = runtime.settings
        self.store = runtime.store
        self.service = HallService(config, runtime.store, clock)
        self.hub = Hub()

    @property
    def adapter(self) -> MqttAdapter | None:
        return self.runtime.adapter

    @property
    def province(self) -> Province:
        return self.runtime.province

    def mqtt_connected(self) -> bool:
        adapter = self.runtime.adapter
        return adapter is not None and adapter.hall_connected(self.config.id)

    @functools.cached_property
    def clips(self):
        """Announcement clips for the hall screens (the [voice] table of the hall's TOML)."""
        from displays.voice.clips import ClipBuilder
        from displays.voice.config import VoiceConfig

        return ClipBuilder(VoiceConfig.from_toml(self.config_path))


class Runtime:
    """The server: one hall, or every hall of a province (HALL_CONFIG names a province file), over
    one store and one MQTT worker. For one hall, `config`, `service`, `hub` and `clips` are its own."""

    def __init__(self, settings: Settings, config: HallConfig | None = None,
                 clock: Callable[[], datetime] | None = None):
        self.settings = settings
        self.province = load_province(settings.config_path, config)
        self.clock = clock
        self.broker: EmbeddedBroker | None = None
        self.mqtt_url = settings.mqtt_url
        self.store = Store(settings.database_url)
        self.halls = {src.config.id: HallRuntime(self, src.config, src.path, clock) for src in self.province.halls}
        self.adapter: MqttAdapter | None = None
        self.http: uvicorn.Server | None = None
        self._http_thread: threading.Thread | None = None

    @property
    def first(self) -> HallRuntime:
        return next(iter(self.halls.values()))

    @property
    def config(self) -> HallConfig:
        return self.first.config

    @property
    def service(self) -> HallService:
        return self.first.service

    @property
    def hub(self) -> Hub:
        return self.first.hub

    @property
    def clips(self):
        return self.first.clips

    def start(self) -> Runtime:
        for hall in self.halls.values():
            weak = demo_pin_warnings(hall.config)
            if weak:
                log.warning("SECURITY: officers %s of hall %s still have the demo PIN 0000; set their own "
                            "PINs (python -m hallserver hash-pin)", ", ".join(weak), hall.config.id)
        if self.mqtt_url is None:
            self.broker = start_default()
            self.mqtt_url = self.broker.url
            log.info("embedded MQTT broker on %s", self.mqtt_url)
        self.store.migrate()
        for hall in self.halls.values():  # the admin's edits of each hall's TOML, then today's events
            load_overlay(hall)
        self.adapter = MqttAdapter({h: rt.service for h, rt in self.halls.items()}, self.mqtt_url,
                                   on_publish=self._on_publish)
        self.adapter.start()
        return self

    def _on_publish(self, pub) -> None:
        hall = self.halls.get(pub.topic.split("/", 2)[1])
        if hall is not None:
            hall.hub.on_publish(pub)

    def mqtt_connected(self) -> bool:
        return self.adapter is not None and self.adapter.connected.is_set()

    def app(self):
        """One hall's pages at /; a province's halls each under /h/{hall}, with an index at /."""
        if self.province.single:
            from hallserver.http.app import create_app

            return create_app(self.first)
        from hallserver.http.province import create_province_app

        return create_province_app(self.halls, self.settings, self.store)

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
            for hall in self.halls.values():
                hall.hub.close()
            self.http.should_exit = True
            if self._http_thread is not None:
                self._http_thread.join(timeout=10)
        if self.adapter is not None:
            self.adapter.stop()
        if self.broker is not None:
            self.broker.stop()
        self.store.close()
