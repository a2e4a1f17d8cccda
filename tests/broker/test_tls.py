"""TLS to the broker, for real: a private CA made with openssl (the README's commands), the
production broker/mosquitto.conf with its TLS lines uncommented (ports and paths rewritten for a
test; both in tests/support/tls.py), and the CA given to the hall server and the Pi agents as
`mqtts://...?ca=FILE`."""

from __future__ import annotations

import ssl
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import pytest
from support.tls import TlsBroker
from support.tls import tls_broker as start_tls_broker

from broker.client import MqttUrl, paho_client
from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.provisioning import SERVER_USERNAME
from hallserver.settings import Settings, load_hall_config

HALL = "demo"
KIOSK = "kiosk-1"


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    with start_tls_broker(tmp_path_factory.mktemp("tls"), HALL, [KIOSK]) as broker:
        yield broker


# -- the URL -------------------------------------------------------------------------------------------
def test_the_ca_is_a_query_parameter_of_an_mqtts_url():
    url = MqttUrl.parse("mqtts://demo.ct-05:p%40ss@10.0.0.2:8883?ca=/etc/hall/tls/ca.crt")
    assert (url.tls, url.host, url.port, url.username, url.password, url.ca) == (
        True, "10.0.0.2", 8883, "demo.ct-05", "p@ss", "/etc/hall/tls/ca.crt")
    assert str(url) == "mqtts://demo.ct-05@10.0.0.2:8883?ca=/etc/hall/tls/ca.crt"  # no password
    assert MqttUrl.parse(str(url)).ca == url.ca
    assert MqttUrl.parse("mqtts://h").ca is None and MqttUrl.parse("mqtts://h").port == 8883  # system CAs


@pytest.mark.parametrize("url, error", [
    ("mqtt://h:1883?ca=/etc/hall/tls/ca.crt", "for mqtts://"),  # a CA on a plain link would be ignored
    ("mqtts://h:8883?cafile=/etc/hall/tls/ca.crt", "takes only"),  # a misspelt option must not fall back
])
def test_a_url_whose_ca_would_be_ignored_is_refused(url, error):
    with pytest.raises(ValueError, match=error):
        MqttUrl.parse(url)


def test_a_missing_ca_file_fails_when_the_client_is_made(tmp_path):
    with pytest.raises(FileNotFoundError):
        paho_client(MqttUrl.parse(f"mqtts://h?ca={tmp_path / 'nope.crt'}"), "c", "u")


# -- against Mosquitto on the production configuration ----------------------------------------------
def test_the_production_conf_with_tls_uncommented_is_accepted(tls_broker):
    log = tls_broker.mosquitto.log_text()
    for port in (tls_broker.plain_port, tls_broker.tls_port):
        assert f"Opening ipv4 listen socket on port {port}." in log, log
    # the LAN listener still serves plain MQTT beside the TLS one
    kiosk = DeviceLink(f"mqtt://{HALL}.{KIOSK}:{tls_broker.passwords[f'{HALL}.{KIOSK}']}@127.0.0.1:"
                       f"{tls_broker.plain_port}", HALL, KIOSK, clean_session=True).start()
    kiosk.close()


def test_server_and_device_talk_over_tls(tls_broker, tmp_path):
    settings = Settings(mqtt_url=tls_broker.url(SERVER_USERNAME), database_url=f"sqlite:///{tmp_path / 'hall.db'}",
                        config_path=None, http_port=0)
    rt = Runtime(settings, load_hall_config(None, always_open=True)).start()
    try:
        assert rt.adapter is not None and rt.adapter.connected.wait(10), tls_broker.mosquitto.log_text()
        kiosk = DeviceLink(tls_broker.url(f"{HALL}.{KIOSK}"), HALL, KIOSK).start()
        try:
            reply = kiosk.request("ticket.take", {"service": "tu-phap"})
            assert reply["ok"] and reply["ticket"]["number"] == "A001", reply
            for client in (kiosk.client, rt.adapter.client):
                sock = client.socket()
                # `tls_version tlsv1.2` is Mosquitto's minimum: 1.3 is negotiated where both have it
                assert isinstance(sock, ssl.SSLSocket) and sock.version() in ("TLSv1.2", "TLSv1.3")
                assert sock.getpeername()[1] == tls_broker.tls_port
        finally:
            kiosk.close()
    finally:
        rt.stop()


@pytest.mark.parametrize("trust, reason", [
    ("another CA", "certificate verify failed: self-signed certificate in certificate chain"),
    ("the system CAs", "certificate verify failed: self-signed"),  # what mqtts:// without ?ca= trusts
    # the certificate names IP:127.0.0.1, not localhost
    ("the CA, under another host name", "certificate verify failed: Hostname mismatch"),
])
def test_a_client_that_cannot_verify_the_broker_is_refused(tls_broker, trust, reason):
    login = f"{HALL}.{KIOSK}"
    url = {"another CA": tls_broker.url(login, ca=tls_broker.other_ca),
           "the system CAs": tls_broker.url(login).partition("?")[0],
           "the CA, under another host name": tls_broker.url(login, host="localhost")}[trust]
    client = paho_client(MqttUrl.parse(url), f"refused-{trust.replace(' ', '-')}", login, clean_session=True)
    with pytest.raises(ssl.SSLCertVerificationError, match=reason):
        client.connect(MqttUrl.parse(url).host, tls_broker.tls_port)


def test_a_plain_client_cannot_talk_to_the_tls_port(tls_broker):
    login = f"{HALL}.{KIOSK}"
    client = paho_client(MqttUrl.parse(tls_broker.url(login, "mqtt")), "plain-on-tls", login, clean_session=True)
    accepted: list[object] = []
    client.on_connect = lambda c, userdata, flags, reason, props: accepted.append(reason)
    assert client.connect("127.0.0.1", tls_broker.tls_port) == mqtt.MQTT_ERR_SUCCESS  # TCP only; CONNECT in clear
    rc, deadline = mqtt.MQTT_ERR_SUCCESS, time.monotonic() + 10
    while rc == mqtt.MQTT_ERR_SUCCESS and time.monotonic() < deadline:
        rc = client.loop(timeout=1.0)  # returns as soon as the broker hangs up
    assert rc == mqtt.MQTT_ERR_CONN_LOST and accepted == []
