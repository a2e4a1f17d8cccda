"""How every CPython part (hall server, Pi agents, simulators, benchmarks) opens an MQTT session:
one place for URLs, credentials, TLS, the last will, reconnect back-off and socket tuning."""

from __future__ import annotations

import logging
import socket
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, unquote, urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


@dataclass(frozen=True)
class MqttUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = None
    tls: bool = False
    # mqtts only: the CA file that signed the broker's certificate (a hall's private CA), as in
    # mqtts://user:pw@host:8883?ca=/etc/hall/tls/ca.crt; None: the system's CAs
    ca: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp"):
            raise ValueError(f"an MQTT URL starts with mqtt:// or mqtts://, got {url!r}")
        tls = parts.scheme == "mqtts"
        query = parse_qs(parts.query, keep_blank_values=True, strict_parsing=bool(parts.query))
        unknown = sorted(set(query) - {"ca"})
        if unknown:  # a misspelt option must not silently fall back to the system's CAs
            raise ValueError(f"an MQTT URL takes only ?ca=<file>, got {', '.join(unknown)} in {url!r}")
        ca = query.get("ca", [None])[-1] or None
        if ca is not None and not tls:
            raise ValueError(f"?ca= is for mqtts:// (TLS) URLs, got {url!r}")
        return cls(parts.hostname or "127.0.0.1", parts.port or (8883 if tls else 1883),
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None, tls, ca)

    def __str__(self) -> str:
        user = f"{self.username}@" if self.username else ""
        ca = f"?ca={quote(self.ca)}" if self.ca else ""
        return f"{'mqtts' if self.tls else 'mqtt'}://{user}{self.host}:{self.port}{ca}"


log = logging.getLogger("broker.client")


def _log_callback_errors(client: mqtt.Client, userdata, level: int, message: str) -> None:
    """paho's own log is chatty about normal reconnects; what matters is a callback that failed."""
    if level == mqtt.MQTT_LOG_ERR and message.startswith("Caught exception"):
        log.error("%s: %s", client._client_id.decode(errors="replace"), message)


def paho_client(url: MqttUrl, client_id: str, default_username: str, will: tuple[str, bytes] | None = None,
                clean_session: bool = False, manual_ack: bool = False) -> mqtt.Client:
    """A paho client (MQTT 3.1.1) with a username (amqtt keeps QoS 1 messages only for named
    sessions), an optional retained last will, and Nagle's algorithm off: small MQTT packets written
    back to back otherwise wait for delayed ACKs, about 40 ms each on Linux."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean_session,
                    protocol=mqtt.MQTTv311, manual_ack=manual_ack)
    c.username_pw_set(url.username or default_username, url.password)
    if url.tls:
        c.tls_set(ca_certs=url.ca)  # verifies the broker's certificate and host name
    if will is not None:
        c.will_set(will[0], will[1], 1, True)
    c.reconnect_delay_set(1, 30)
    c.suppress_exceptions = True  # a failing callback is logged; it must not kill the network loop
    c.on_log = _log_callback_errors

    def nodelay(client: mqtt.Client, userdata, sock) -> None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    c.on_socket_open = nodelay
    return c
