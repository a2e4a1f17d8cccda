"""The embedded MQTT broker: amqtt running on its own thread and event loop.

The hall server (and the tests) are mostly synchronous code, so the broker gets a private
asyncio loop on a daemon thread; `start()` returns only once the listening socket is open.
amqtt 0.12 speaks MQTT 3.1.1 only and is meant for a single hall; production uses Mosquitto.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from amqtt.broker import Broker
from amqtt.errors import BrokerError
from amqtt.plugins.authentication import FileAuthPlugin
from amqtt.plugins.base import BaseAuthPlugin
from amqtt.plugins.topic_checking import TopicAccessControlListPlugin
from amqtt.session import Session

from .passwords import verify_password
from .ports import port_in_use

__all__ = ["EmbeddedBroker", "MosquittoHashFileAuthPlugin", "UsernameAwareAnonymousAuthPlugin", "start_default"]

log = logging.getLogger(__name__)



class UsernameAwareAnonymousAuthPlugin(BaseAuthPlugin):
    """Accept every client, but mark only clients without a username as anonymous.

    amqtt's own AnonymousAuthPlugin with `allow_anonymous: true` marks *every* session
    anonymous, and amqtt drops anonymous sessions on disconnect and never queues QoS 1
    messages for them. Devices use persistent sessions (clean_session=False) with a
    username, so they must not be marked anonymous.
    """

    async def authenticate(self, *, session: Session) -> bool | None:
        """Always allow; remember whether the client named itself."""
        session.is_anonymous = not session.username
        return True


class MosquittoHashFileAuthPlugin(FileAuthPlugin):
    """amqtt's FileAuthPlugin that also checks Mosquitto's `$7$` hashes, so the embedded broker
    reads the very password file generated for Mosquitto (argon2 lines still work)."""

    async def authenticate(self, *, session: Session) -> bool | None:
        """`$7$` hashes are checked here; anything else goes to amqtt's own hashers."""
        encoded = self._users.get(session.username or "") if session else None
        if encoded is not None and encoded.startswith("$7$"):
            return verify_password(session.password or "", encoded)
        return await super().authenticate(session=session)


class HallTopicAclPlugin(TopicAccessControlListPlugin):
    """amqtt's topic ACL, configured with `publish_acl` and `subscribe_acl` (its own Config only
    knows the deprecated `acl` name for the latter)."""

    @dataclass
    class Config:
        publish_acl: dict[str, list[str]] = field(default_factory=dict)
        subscribe_acl: dict[str, list[str]] = field(default_factory=dict)


def _plugin_path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


class EmbeddedBroker:
    """amqtt broker on a background daemon thread with its own event loop.

    `port=0` lets the OS pick a free port (read it back from `port` or `start()`).
    Without `password_file` any client may connect (anonymous or with any username);
    with it, clients must log in: `user:hash` lines, Mosquitto `$7$` or argon2. `acls`, a
    (publish, subscribe) pair of {username: [topic filters]}, turns on amqtt's topic ACL; amqtt
    still hands out retained messages past it, so ACL guarantees belong to Mosquitto.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        password_file: str | Path | None = None,
        acls: tuple[dict[str, list[str]], dict[str, list[str]]] | None = None,
        start_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.password_file = Path(password_file) if password_file is not None else None
        self.acls = acls
        self.start_timeout = start_timeout
        self._port: int | None = None
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested: asyncio.Event | None = None
        self._ready: concurrent.futures.Future[int] | None = None

    # -- configuration -------------------------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """The amqtt 0.12 BrokerConfig dict: one TCP listener, auth plugin, no $SYS topics."""
        plugins: dict[str, Any]
        if self.password_file is not None:
            plugins = {_plugin_path(MosquittoHashFileAuthPlugin): {"password_file": str(self.password_file)}}
        else:
            plugins = {_plugin_path(UsernameAwareAnonymousAuthPlugin): {}}
        if self.acls is not None:
            plugins[_plugin_path(HallTopicAclPlugin)] = {"publish_acl": self.acls[0], "subscribe_acl": self.acls[1]}
        return {
            "listeners": {
                "default": {"type": "tcp", "bind": f"{self.host}:{self._requested_port}"},
            },
            # Leaving out amqtt.plugins.sys.broker.BrokerSysPlugin turns $SYS publishing off
            # (and avoids its psutil deprecation warning); no logging plugins either.
            "plugins": plugins,
        }

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> int:
        """Start the broker and block until it listens; return the port."""
        if self._thread is not None:
            raise RuntimeError("EmbeddedBroker already started")
        self._ready = concurrent.futures.Future()
        self._thread = threading.Thread(target=self._thread_main, name="embedded-mqtt-broker", daemon=True)
        self._thread.start()
        try:
            self._port = self._ready.result(timeout=self.start_timeout)
        except BaseException:
            self._join(self.start_timeout)
            self._thread = None
            raise
        log.info("embedded MQTT broker listening on %s", self.url)
        return self._port

    def stop(self, timeout: float = 10.0) -> None:
        """Shut the broker down (disconnecting clients) and join its thread. Idempotent."""
        thread, loop, stop_requested = self._thread, self._loop, self._stop_requested
        if thread is None:
            return
        if loop is not None and stop_requested is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(stop_requested.set)
            except RuntimeError:  # loop closed in between: the thread is finishing anyway
                pass
        self._join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"embedded MQTT broker did not stop within {timeout}s")
        self._thread = None
        self._loop = None
        self._stop_requested = None

    def _join(self, timeout: float) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def port(self) -> int:
        """The port the broker listens on (only after `start()`)."""
        if self._port is None:
            raise RuntimeError("EmbeddedBroker not started")
        return self._port

    @property
    def url(self) -> str:
        """mqtt://host:port, the form HALL_MQTT_URL takes."""
        return f"mqtt://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def __enter__(self) -> EmbeddedBroker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- broker thread -------------------------------------------------------------------------
    def _thread_main(self) -> None:
        ready = self._ready
        assert ready is not None
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:  # report start-up failures to start(); log later ones
            if not ready.done():
                ready.set_exception(exc)
            else:
                log.exception("embedded MQTT broker crashed")

    async def _serve(self, ready: concurrent.futures.Future[int]) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop_requested = asyncio.Event()
        broker = Broker(self.config())
        broker._subscriptions = _SnapshotDict(broker._subscriptions)
        await broker.start()
        try:
            # amqtt has no public accessor for the bound address; needed for port=0.
            server = broker._servers["default"].instance
            port = int(server.sockets[0].getsockname()[1])
            ready.set_result(port)
            await self._stop_requested.wait()
        finally:
            await broker.shutdown()


class _SnapshotDict(dict):
    """amqtt 0.12 walks its subscription table with awaits in between when a client connects
    (Broker._handle_client_session), so another client subscribing meanwhile crashed the
    connection ("dictionary changed size during iteration"). Iterating over a snapshot fixes it."""

    def __iter__(self):
        return iter(list(super().keys()))


def start_default(host: str = "127.0.0.1", preferred: int = 1883, **options: Any) -> EmbeddedBroker:
    """Start the broker used when HALL_MQTT_URL is unset: `preferred` if free, else any free port.

    The project's machines run a system Mosquitto on 1883, hence the fallback; the caller
    prints `broker.url` and passes it to simulated devices. `options` go to EmbeddedBroker
    (password_file, acls).
    """
    if not port_in_use(host, preferred):
        broker = EmbeddedBroker(host, preferred, **options)
        try:
            broker.start()
            return broker
        except BrokerError:  # taken between the check and the bind
            log.info("port %s on %s was taken meanwhile; using a free port", preferred, host)
    broker = EmbeddedBroker(host, 0, **options)
    broker.start()
    return broker
