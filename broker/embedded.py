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
from collections.abc import Callable
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

__all__ = ["Acls", "EmbeddedBroker", "Logins", "MosquittoHashFileAuthPlugin", "UsernameAwareAnonymousAuthPlugin",
           "start_default"]

log = logging.getLogger(__name__)

Acls = tuple[dict[str, list[str]], dict[str, list[str]]]  # (publish, subscribe) topic filters by username
Logins = tuple[dict[str, str], Acls | None]  # password hashes by username, and the ACLs


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

    # set by EmbeddedBroker: called before each login, so a changed credentials file is read first
    before_authenticate: Callable[[], None] | None = None

    async def authenticate(self, *, session: Session) -> bool | None:
        """`$7$` hashes are checked here; anything else goes to amqtt's own hashers."""
        if self.before_authenticate is not None:
            self.before_authenticate()
        encoded = self._users.get(session.username or "") if session else None
        if encoded is not None and encoded.startswith("$7$"):
            return verify_password(session.password or "", encoded)
        return await super().authenticate(session=session)

    def holds(self, username: str | None, password: str | None) -> bool:
        """Whether a login still holds (a `$7$` hash; other hashes are left to amqtt at the next login)."""
        encoded = self._users.get(username or "")
        if encoded is None:
            return False
        return not encoded.startswith("$7$") or verify_password(password or "", encoded)


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

    Logins change without a restart: `reload(users, acls)` from any thread, or `refresh`, a
    callable returning new (users, acls) when its source changed (else None), asked before every
    login and every `refresh_interval` seconds. Either closes the live sessions whose login no
    longer holds (revoked, or its password replaced), as Mosquitto does on SIGHUP.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        password_file: str | Path | None = None,
        acls: Acls | None = None,
        refresh: Callable[[], Logins | None] | None = None,
        refresh_interval: float = 2.0,
        start_timeout: float = 10.0,
    ) -> None:
        self.host = host
        self._requested_port = port
        self.password_file = Path(password_file) if password_file is not None else None
        self.acls = acls
        self.refresh = refresh
        self.refresh_interval = refresh_interval
        self.start_timeout = start_timeout
        self._broker: Broker | None = None
        self._tasks: set[asyncio.Task] = set()
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

    # -- logins --------------------------------------------------------------------------------
    def reload(self, users: dict[str, str], acls: Acls | None = None, timeout: float = 10.0) -> int:
        """Swap the logins (and ACLs) of the running broker; return how many live sessions were
        closed because their login no longer holds. Only with `password_file`."""
        loop = self._loop
        if loop is None or self._broker is None:
            raise RuntimeError("EmbeddedBroker not started")
        return asyncio.run_coroutine_threadsafe(self._apply(users, acls), loop).result(timeout)

    def _plugins(self) -> tuple[MosquittoHashFileAuthPlugin | None, HallTopicAclPlugin | None]:
        manager = self._broker.plugins_manager if self._broker is not None else None
        auth = next((p for p in getattr(manager, "_auth_plugins", ()) if isinstance(p, MosquittoHashFileAuthPlugin)),
                    None)
        acl = next((p for p in getattr(manager, "_topic_plugins", ()) if isinstance(p, HallTopicAclPlugin)), None)
        return auth, acl

    def _swap(self, users: dict[str, str], acls: Acls | None) -> MosquittoHashFileAuthPlugin:
        """On the broker's loop: the new logins take effect for the next login and publish."""
        auth, acl = self._plugins()
        if auth is None:
            raise RuntimeError("the embedded broker runs without a password file: nothing to reload")
        auth._users = dict(users)
        if acls is not None and acl is not None:
            acl.context.config.publish_acl, acl.context.config.subscribe_acl = acls
        return auth

    async def _apply(self, users: dict[str, str], acls: Acls | None) -> int:
        auth = self._swap(users, acls)
        return await self._close_stale(auth)

    async def _close_stale(self, auth: MosquittoHashFileAuthPlugin) -> int:
        """Close the connected sessions whose login no longer holds (their last will is sent)."""
        assert self._broker is not None
        closed = 0
        for session, handler in list(self._broker._sessions.values()):
            if session.transitions.state == "connected" and not auth.holds(session.username, session.password):
                log.warning("closing the session of %s (%s): its login no longer holds", session.username,
                            session.client_id)
                await handler.handle_connection_closed()
                closed += 1
        return closed

    def _refresh_now(self) -> bool:
        """Ask `refresh` for new logins and swap them in (on the broker's loop); True when changed."""
        if self.refresh is None:
            return False
        try:
            logins = self.refresh()
        except Exception:  # a half-written or broken file: keep the logins in force
            log.exception("embedded MQTT broker: reading the logins failed; the previous ones stay")
            return False
        if logins is None:
            return False
        auth = self._swap(*logins)
        log.info("embedded MQTT broker: %d logins reloaded", len(logins[0]))
        task = asyncio.get_running_loop().create_task(self._close_stale(auth))  # both callers run on the loop
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_interval)
            self._refresh_now()

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
        self._broker = broker
        await broker.start()
        watcher = None
        try:
            auth, _ = self._plugins()
            if self.refresh is not None and auth is not None:
                auth.before_authenticate = self._refresh_now
                watcher = asyncio.create_task(self._watch(), name="embedded-broker-logins")
            # amqtt has no public accessor for the bound address; needed for port=0.
            server = broker._servers["default"].instance
            port = int(server.sockets[0].getsockname()[1])
            ready.set_result(port)
            await self._stop_requested.wait()
        finally:
            if watcher is not None:
                watcher.cancel()
            await broker.shutdown()
            self._broker = None


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
