"""TLS to the broker, for real: a private CA made with openssl (README "TLS to the broker"), and
Mosquitto on the production broker/mosquitto.conf with its TLS lines uncommented (ports and paths
rewritten for a test). Used by tests/broker/test_tls.py (the server and Pi agents) and
tests/firmware_mpy/test_mpy_tls.py (the MicroPython boards)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from broker import free_port
from broker.mosquitto import MosquittoProcess
from hallserver.provisioning import SERVER_USERNAME, Credentials
from hallserver.settings import load_hall_config

from .require import REPO_ROOT, require_binary

PRODUCTION_CONF = REPO_ROOT / "broker" / "mosquitto.conf"
EC_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


# -- certificates: the commands of README "TLS to the broker" ---------------------------------------
def openssl(directory: Path, *args: str) -> None:
    binary = require_binary("openssl", "openssl")
    done = subprocess.run([binary, *args], cwd=directory, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, f"openssl {' '.join(args)}\n{done.stderr}"


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


def der_copy(ca: Path, out: Path) -> Path:
    """The CA certificate in DER, as a MicroPython board takes it (firmware/README.md's command)."""
    openssl(out.parent, "x509", "-in", str(ca), "-outform", "der", "-out", str(out))
    return out


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


@contextmanager
def tls_broker(work: Path, hall: str, devices: Iterable[str]) -> Iterator[TlsBroker]:
    """Mosquitto with a plain and a TLS listener, its certificate from a fresh CA naming
    IP:127.0.0.1; logins for the hall server and `devices` of the demo hall `hall`."""
    ca = make_ca(work / "ca", "Hall test CA")
    cert, key = make_broker_cert(work / "ca", "IP:127.0.0.1")
    other_ca = make_ca(work / "other", "Someone else's CA")
    configs = [load_hall_config(None)]
    creds = Credentials(work / "hall.credentials.json")
    passwords = {SERVER_USERNAME: creds.add(configs, SERVER_USERNAME, kind="server", hall=hall)}
    for device in devices:
        passwords[f"{hall}.{device}"] = creds.add(configs, device, hall=hall)
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
