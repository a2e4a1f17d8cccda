"""The thin hardware part of the link: the ESP32's Wi-Fi and umqtt.simple (installed on the board
with `mip install umqtt.simple`, not kept in this repository). Not importable off the board."""

import random

import network
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


class Client(MQTTClient):
    """umqtt.simple with a socket timeout that stays set: its check_msg leaves the socket blocking
    forever, so a broker that vanished mid-session would hang a QoS 1 publish waiting for PUBACK."""

    def __init__(self, client_id, server, port=1883, user=None, password=None, keepalive=30, timeout_s=5):
        MQTTClient.__init__(self, client_id, server, port, user, password, keepalive)
        self.timeout_s = timeout_s

    def connect(self, clean_session=True, timeout=None):
        try:
            present = MQTTClient.connect(self, clean_session, self.timeout_s if timeout is None else timeout)
        except TypeError:  # umqtt.simple before late 2024: connect() takes no timeout
            present = MQTTClient.connect(self, clean_session)
        self.sock.settimeout(self.timeout_s)
        return present

    def check_msg(self):
        try:
            return MQTTClient.check_msg(self)
        finally:
            if self.sock is not None:
                self.sock.settimeout(self.timeout_s)


def client_factory(cfg):
    """make_client() for mpyrt.link.Link from a device configuration dict."""
    # the broker knows each device as `{hall}.{device}` (protocols.topics.username): ids repeat across halls
    user = cfg["mqtt_user"] or "%s.%s" % (cfg["hall"], cfg["device"])

    def make():
        return Client("%s-%s" % (cfg["hall"], cfg["device"]), cfg["mqtt_host"], cfg["mqtt_port"], user,
                      cfg["mqtt_password"] or "", cfg["keepalive_s"], cfg["io_timeout_s"])

    return make


def wifi(cfg):
    return Wifi(cfg["wifi_ssid"], cfg["wifi_password"], cfg["device"])


def jitter(ms):
    """Up to a quarter more, at random (Backoff's jitter)."""
    return random.getrandbits(16) % (ms // 4 + 1)


def salt():
    """Four random hex digits for mpyrt.ids.Ids."""
    return "%04x" % random.getrandbits(16)
