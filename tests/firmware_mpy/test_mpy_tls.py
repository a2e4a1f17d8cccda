"""The MicroPython boards over TLS: their program on the host (simulators/mpyhost.py), configured
with `mqtt_tls` and the hall CA on its flash, builds its SSL context with the board's own
mpyrt.tlsctx (over CPython's ssl) and talks to a real Mosquitto's TLS listener (production
mosquitto.conf, tests/support/tls.py) and the real hall server; a board that cannot verify the
broker stays down and says why. mpyrt.tlsctx also runs under the MicroPython WebAssembly port,
which has no ssl module: there it must say so."""

from __future__ import annotations

import json
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from mpy_board import wasm_files
from support.micropython import run_micropython
from support.tls import TlsBroker, der_copy, make_ca, tls_broker
from test_mpy_end_to_end import ratings, serve_one

from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.provisioning import SERVER_USERNAME
from hallserver.settings import Settings, load_hall_config
from simulators.boards import BoardLoop, SimRatingButton, vote
from simulators.mpyhost import board_paths

board_paths()
from mpyrt import tlsctx  # noqa: E402

HALL = "demo"  # the demo hall's own id: the broker's logins and ACL are made for it
DEVICES = ("kiosk-1", "ct-05", "rb-05")
TLS_ON = {"mqtt_tls": True}  # mqtt_ca: the default "ca.der", in the board's flash


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsBroker]:
    with tls_broker(tmp_path_factory.mktemp("tls"), HALL, DEVICES) as running:
        yield running


@pytest.fixture(scope="module")
def hall_server(broker: TlsBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    db = tmp_path_factory.mktemp("db") / "hall.db"
    settings = Settings(mqtt_url=broker.url(SERVER_USERNAME), database_url=f"sqlite:///{db}", config_path=None,
                        http_port=0)
    rt = Runtime(settings, load_hall_config(None, always_open=True)).start()
    assert rt.adapter is not None and rt.adapter.connected.wait(10), broker.mosquitto.log_text()
    yield rt
    rt.stop()


def board_url(broker: TlsBroker, host: str = "127.0.0.1") -> str:
    """The board's broker: mqtt_host and the TLS port, plain scheme (TLS comes from its settings)."""
    return broker.url(f"{HALL}.rb-05", "mqtt", host=host)


def flash_with(tmp_path: Path, ca: Path | None, name: str = "ca.der", pem: bool = False) -> Path:
    """A board's flash folder holding `ca` as `name`: DER as firmware/README.md says, or the PEM file."""
    flash = tmp_path / "flash"
    flash.mkdir()
    if ca is not None:
        if pem:
            (flash / name).write_bytes(ca.read_bytes())
        else:
            der_copy(ca, flash / name)
    return flash


def test_a_rating_button_votes_over_tls(broker, hall_server, tmp_path):
    links: list[DeviceLink] = []

    def device(device_id: str) -> DeviceLink:
        links.append(DeviceLink(broker.url(f"{HALL}.{device_id}"), HALL, device_id).start())
        return links[-1]

    board = SimRatingButton(board_url(broker), HALL, "rb-05", flash_with(tmp_path, broker.ca), (200, 1000), TLS_ON)
    loop = BoardLoop([board])
    try:
        terminal, number = serve_one(device)
        loop.start()
        terminal.request("serve.done")
        assert vote(loop, board, number, "hai-long", None), list(board.log)
        sock = board.clients[-1].c.socket() if board.clients[-1].c else None
        assert isinstance(sock, ssl.SSLSocket) and sock.getpeername()[1] == broker.tls_port
        assert sock.version() in ("TLSv1.2", "TLSv1.3")
        assert [r[0] for r in ratings(hall_server, HALL)][-1:] == [number]
        assert board.link.stats["failures"] == 0 and "rb-05: connected" in board.log
    finally:
        loop.close()
        for link in links:
            link.close()


def test_a_pem_ca_file_is_read_too(broker, hall_server, tmp_path):
    board = SimRatingButton(board_url(broker), HALL, "rb-05", flash_with(tmp_path, broker.ca, "ca.crt", pem=True),
                            (200, 1000), {"mqtt_tls": True, "mqtt_ca": "ca.crt"})
    try:
        # online, and the server's retained state for it arrived (the hall's rating levels)
        board.run_until(lambda: board.link.ok() and board.app.levels != [])
        assert board.app.counts["bad_states"] == 0
    finally:
        for client in board.clients:
            client.close()


@pytest.mark.parametrize("trust, reason", [
    ("another CA", "certificate verify failed: self-signed certificate in certificate chain"),
    # the broker's certificate names IP:127.0.0.1; the board's mqtt_host is checked against it
    ("the CA, under another host name", "certificate verify failed: Hostname mismatch"),
    ("no CA file", "mqtt_ca 'ca.der': cannot read it"),
])
def test_a_board_that_cannot_verify_the_broker_stays_down_and_says_why(broker, tmp_path, trust, reason):
    ca = {"another CA": broker.other_ca, "the CA, under another host name": broker.ca, "no CA file": None}[trust]
    host = "localhost" if "host name" in trust else "127.0.0.1"
    board = SimRatingButton(board_url(broker, host), HALL, "rb-05", flash_with(tmp_path, ca), (200, 1000), TLS_ON)
    try:
        board.run_until(lambda: board.link.stats["failures"] >= 2)
        assert not board.link.up and board.link.stats["connects"] == 0
        assert all(client.dead for client in board.clients)
        failed = [line for line in board.log if line.startswith("rb-05: connect failed")]
        assert len(failed) >= 2 and all(reason in line for line in failed), list(board.log)
    finally:
        for client in board.clients:
            client.close()


# -- mpyrt.tlsctx itself ------------------------------------------------------------------------------
def test_the_context_requires_the_ca_and_the_host_name_under_cpython(broker, tmp_path):
    ctx = tlsctx.load({"mqtt_tls": True, "mqtt_ca": "ca.der"}, ssl, f"{flash_with(tmp_path, broker.ca)}/")
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert [c["subject"] for c in ctx.get_ca_certs()] == [((("commonName", "Hall test CA"),),)]
    assert tlsctx.load({"mqtt_tls": False, "mqtt_ca": ""}, ssl) is None
    (tmp_path / "junk.der").write_bytes(b"\x30\x03not a certificate")
    with pytest.raises(ValueError, match=r"^mqtt_ca 'junk.der': not a certificate \(.*\): give the hall CA"):
        tlsctx.load({"mqtt_tls": True, "mqtt_ca": "junk.der"}, ssl, f"{tmp_path}/")
    with pytest.raises(ValueError, match="mqtt_tls needs mqtt_ca"):
        tlsctx.load({"mqtt_tls": True, "mqtt_ca": ""}, ssl)


def test_the_port_follows_tls_unless_set():
    assert [tlsctx.port({"mqtt_tls": tls, "mqtt_port": port}) for tls, port in
            ((False, 0), (True, 0), (True, 8884), (False, 1884))] == [1883, 8883, 8884, 1884]


WASM_SCRIPT = """\
import binascii
import json
from mpyrt import tlsctx
out = {"ssl": tlsctx.find_ssl() is not None}
out["der"] = binascii.hexlify(tlsctx.der(open("ca.crt", "rb").read())).decode()
out["plain"] = tlsctx.load({"mqtt_tls": False, "mqtt_ca": "ca.crt"}, tlsctx.find_ssl()) is None
for name in ("nope.der", "ca.crt"):
    try:
        out[name] = repr(tlsctx.load({"mqtt_tls": True, "mqtt_ca": name}, tlsctx.find_ssl()))
    except ValueError as exc:
        out[name] = str(exc)
print(json.dumps(out))
"""


def test_tlsctx_on_micropython_says_when_there_is_no_ssl(tmp_path):
    ca_dir = tmp_path / "ca"
    ca = make_ca(ca_dir, "Hall test CA")
    files = wasm_files("rating_button")
    files["ca.crt"] = ca.read_text("ascii")
    out = json.loads(run_micropython(WASM_SCRIPT, files).strip().splitlines()[-1])
    # the PEM the installer has becomes the DER openssl makes of it
    assert bytes.fromhex(out["der"]) == der_copy(ca, ca_dir / "ca.der").read_bytes()
    assert out["plain"] is True
    assert out["nope.der"].startswith("mqtt_ca 'nope.der': cannot read it (OSError(")
    if out["ssl"]:  # a port with ssl: the context is made
        assert out["ca.crt"].startswith("<"), out
    else:  # the WebAssembly port today: no ssl module, and a board firmware without TLS says the same
        assert out["ca.crt"] == "mqtt_tls: this MicroPython has no ssl module (flash a firmware with TLS)"
