"""The thin hardware part of the link: the ESP32's Wi-Fi and umqtt.simple (installed on the board
with `mip install umqtt.simple`, not kept in this repository). Not importable off the board."""

import random

import network
from mpyrt import tlsctx
from umqtt.simple import MQTTClient


class Wifi:
    """Station mode; `connect()` starts joining and returns at once (the link polls isconnected)."""

    def __init__(self, ssid, password, hostname=None):
        self.ssid = ssid
        self.password = password
        if hostname:
            try:
                network.hostname(hostname)
            except (AttributeError, ValueError, OSError):
                pass
        self.wlan = network.WLAN(network.STA_IF)
        self.wlan.active(True)
        try:
            self.wlan.config(pm=network.WLAN.PM_NONE)  # no modem sleep: state changes show at once
        except (AttributeError, ValueError, OSError):
            pass

    def isconnected(self):
        return self.wlan.isconnected()

    def connect(self):
        try:
            self.wlan.disconnect()
        except OSError:
            pass
        self.wlan.connect(self.ssid, self.password)


class Tls:
    """What umqtt.simple (1.4 and newer) calls as its `ssl`: wraps its TCP socket with the context,
    naming the broker (`server_hostname`, checked by mbedtls). It keeps the TCP socket: an SSL
    socket has no settimeout, so the client's timeouts go on the socket underneath."""

    def __init__(self, ctx, timeout_s):
        self.ctx = ctx
        self.timeout_s = timeout_s
        self.raw = None

    def wrap_socket(self, sock, server_hostname=None):
        if not server_hostname:
            raise ValueError("TLS needs the broker's name (mqtt_host) to check its certificate")
        self.raw = sock
        sock.settimeout(self.timeout_s)  # the handshake too
        return self.ctx.wrap_socket(sock, server_hostname=server_hostname)


class Client(MQTTClient):
    """umqtt.simple with a socket timeout that stays set: its check_msg leaves the socket blocking
    forever, so a broker that vanished mid-session would hang a QoS 1 publish waiting for PUBACK.
    With `tls` (an SSL context, mpyrt.tlsctx) the session runs over TLS."""

    def __init__(self, client_id, server, port=1883, user=None, password=None, keepalive=30, timeout_s=5,
                 tls=None):
        self.tls = None if tls is None else Tls(tls, timeout_s)
        MQTTClient.__init__(self, client_id, server, port, user, password, keepalive, ssl=self.tls)
        if self.tls is not None:
            # umqtt.simple before 1.4 takes no context: it would wrap with ssl.wrap_socket(**ssl_params),
            # unchecked by default. These make that path refuse every certificate (no CA to trust)
            self.ssl_params = {"cert_reqs": 2, "cadata": b"", "server_hostname": server}  # 2: CERT_REQUIRED
        self.timeout_s = timeout_s

    def _timeout(self):
        sock = self.sock if self.tls is None else self.tls.raw
        if sock is not None:
            sock.settimeout(self.timeout_s)

    def connect(self, clean_session=True, timeout=None):
        try:
            present = MQTTClient.connect(self, clean_session, self.timeout_s if timeout is None else timeout)
        except TypeError:  # umqtt.simple before late 2024: connect() takes no timeout
            present = MQTTClient.connect(self, clean_session)
        self._timeout()
        return present

    def check_msg(self):
        try:
            return MQTTClient.check_msg(self)
        finally:
            if self.sock is not None:
                self._timeout()


def client_factory(cfg):
    """make_client() for mpyrt.link.Link from a device configuration dict. With `mqtt_tls` the
    SSL context is made at the first connect try (a missing or bad CA file is then logged by the
    link at every try, with what to fix) and kept once made."""
    # the broker knows each device as `{hall}.{device}` (protocols.topics.username): ids repeat across halls
    user = cfg["mqtt_user"] or "%s.%s" % (cfg["hall"], cfg["device"])
    tls = [None]

    def make():
        if cfg["mqtt_tls"] and tls[0] is None:
            tls[0] = tlsctx.load(cfg, tlsctx.find_ssl())
        return Client("%s-%s" % (cfg["hall"], cfg["device"]), cfg["mqtt_host"], tlsctx.port(cfg), user,
                      cfg["mqtt_password"] or "", cfg["keepalive_s"], cfg["io_timeout_s"], tls[0])

    return make


def wifi(cfg):
    return Wifi(cfg["wifi_ssid"], cfg["wifi_password"], cfg["device"])


def jitter(ms):
    """Up to a quarter more, at random (Backoff's jitter)."""
    return random.getrandbits(16) % (ms // 4 + 1)


def salt():
    """Four random hex digits for mpyrt.ids.Ids."""
    return "%04x" % random.getrandbits(16)
