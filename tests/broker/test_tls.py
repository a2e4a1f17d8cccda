"""TLS to the broker, for real: a private CA made with openssl (the README's commands), the
production broker/mosquitto.conf with its TLS lines uncommented (ports and paths rewritten for a
test), and the CA given to the hall server and the Pi agents as `mqtts://...?ca=FILE`."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from support.require import REPO_ROOT, require_binary

from broker import free_port
from broker.client import MqttUrl, paho_client
from broker.mosquitto import MosquittoProcess
from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.provisioning import SERVER_USERNAME, Credentials
from hallserver.settings import Settings, load_hall_config

PRODUCTION_CONF = REPO_ROOT / "broker" / "mosquitto.conf"
HALL = "demo"
KIOSK = "kiosk-1"


# -- certificates: the commands of README "TLS to the broker" ---------------------------------------
def openssl(directory: Path, *args: str) -> None:
    binary = require_binary("openssl", "openssl")
    done = subprocess.run([binary, *args], cwd=directory, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl {' '.join(args)}\n{done.stderr}"


EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def make_ca(directory: Path, name: str) -> Path:
    directory.mkdir(parents=True)
    openssl(directory, "req", "-x509", *EC_KEY, "-keyout", "ca.key", "-out", "ca.crt", "-days", "3650",
            "-subj", f"/CN={name}", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return directory / "ca.crt"


def make_broker_cert(ca_dir: Path, san: str) -> tuple[Path, Path]:
    """broker.crt (signed by the CA in `ca_dir`, valid for `san`) and broker.key, beside the CA."""
    (ca_dir / "broker.ext").write_text(f"subjectAltName={san}\nextendedKeyUsage=serverAuth\n")
    openssl(ca_dir, "req", "-new", *EC_KEY, "-keyout", "broker.key", "-out", "broker.csr", "-subj", "/CN=hall-broker")
    openssl(ca_dir, "x509", "-req", "-in", "broker.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
            "-days", "825", "-out", "broker.crt", "-extfile", "broker.ext")
    return ca_dir / "broker.crt", ca_dir / "broker.key"


# -- the production configuration, rewritten only where a test must ---------------------------------
def production_config(work: Path, plain_port: int, tls_port: int, ca: Path, cert: Path, key: Path,
                      passwd: Path, acl: Path) -> str:
    """broker/mosquitto.conf with the TLS listener uncommented; listeners on free loopback ports,
    files in `work`, the log on stderr (where MosquittoProcess sees readiness)."""
    (work / "data").mkdir()
    rewrites = {
        "listener 1883\n": f"listener {plain_port} 127.0.0.1\n",
        "#listener 8883\n": f"listener {tls_port} 127.0.0.1\n",
        "#certfile /etc/hall/tls/broker.crt\n": f"certfile {cert}\n",
        "#keyfile /etc/hall/tls/broker.key\n": f"keyfile {key}\n",
        "#cafile /etc/hall/tls/ca.crt\n": f"cafile {ca}\n",
        "#tls_version tlsv1.2\n": "tls_version tlsv1.2\n",
        "persistence_location /var/lib/mosquitto/\n": f"persistence_location {work / 'data'}/\n",
        "password_file /etc/hall/mosquitto/passwd\n": f"password_file {passwd}\n",
        "acl_file /etc/hall/mosquitto/acl\n": f"acl_file {acl}\n",
        "log_dest syslog\n": "log_dest stderr\n",
    }
    if os.geteuid() == 0:  # as root it would drop to `mosquitto`, who cannot read pytest's temp files
        rewrites["user mosquitto\n"] = "user root\n"
    text = PRODUCTION_CONF.read_text(encoding="utf-8")
    for old, new in rewrites.items():
        assert text.count(old) == 1, f"{PRODUCTION_CONF} no longer has the line {old!r}: update this test"
        text = text.replace(old, new)
    return text


@dataclass
class TlsBroker:
    mosquitto: MosquittoProcess
    plain_port: int
    tls_port: int
    ca: Path  # the CA that signed the broker's certificate
    other_ca: Path  # a CA that did not
    passwords: dict[str, str]  # by login

    def url(self, login: str, scheme: str = "mqtts", *, ca: Path | None = None, host: str = "127.0.0.1") -> str:
        """`login`'s URL on the TLS port; an mqtts one names `ca` (by default the broker's)."""
        base = f"{scheme}://{login}:{self.passwords[login]}@{host}:{self.tls_port}"
        return f"{base}?ca={ca or self.ca}" if scheme == "mqtts" else base


@pytest.fixture(scope="module")
def tls_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    work = tmp_path_factory.mktemp("tls")
    ca = make_ca(work / "ca", "Hall test CA")
    cert, key = make_broker_cert(work / "ca", "IP:127.0.0.1")
    other_ca = make_ca(work / "other", "Someone else's CA")
    configs = [load_hall_config(None)]
    creds = Credentials(work / "hall.credentials.json")
    passwords = {SERVER_USERNAME: creds.add(configs, SERVER_USERNAME, kind="server", hall=HALL),
                 f"{HALL}.{KIOSK}": creds.add(configs, KIOSK, hall=HALL)}
    creds.save()
    passwd, acl = creds.export(work / "broker")
    plain_port, tls_port = free_port(), free_port()
    while tls_port == plain_port:
        tls_port = free_port()
    conf = production_config(work, plain_port, tls_port, ca, cert, key, passwd, acl)
    proc = MosquittoProcess(require_binary("mosquitto", "mosquitto"), port=plain_port, config=conf)
    proc.start()
    try:
        yield TlsBroker(proc, plain_port, tls_port, ca, other_ca, passwords)
    finally:
        proc.stop()


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
