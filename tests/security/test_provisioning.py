"""The provisioning command and the files it writes; Mosquitto's `$7$` hash against the real
mosquitto_passwd; the embedded broker holding the same logins."""

from __future__ import annotations

import json
import stat
import subprocess
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from support.require import require_binary

from broker.acl import SERVER_KIND, Account
from broker.client import MqttUrl
from broker.passwords import hash_password, read_password_file, verify_password
from hallserver.__main__ import main
from hallserver.bootstrap import Runtime
from hallserver.provisioning import Credentials, ProvisionError, load_configs, start_embedded
from hallserver.settings import DEMO_CONFIG, Settings, load_hall_config

from .conftest import Peer


def test_hash_round_trip_and_format() -> None:
    h = hash_password("s3cret", salt=b"0123456789ab")
    assert h.startswith("$7$101$MDEyMzQ1Njc4OWFi$") and len(h.split("$")[4]) == 88  # 64 bytes, base64
    assert verify_password("s3cret", h) and not verify_password("s3cret!", h)
    assert not verify_password("s3cret", "$6$x$y") and not verify_password("x", "$7$101$!!$!!")


def test_hashes_agree_with_mosquitto_passwd(tmp_path: Path) -> None:
    binary = require_binary("mosquitto_passwd", "mosquitto")
    passwd = tmp_path / "passwd"
    subprocess.run([binary, "-c", "-b", str(passwd), "ct-05", "pass word ✓"], check=True, capture_output=True)
    assert verify_password("pass word ✓", read_password_file(passwd)["ct-05"])
    assert not verify_password("pass word", read_password_file(passwd)["ct-05"])
    # the other way round, Mosquitto taking our hashes: every login in test_mosquitto_access.py


def run_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], *args: str, stdin: str | None = None,
            monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if stdin is not None and monkeypatch is not None:
        import io

        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(["provision", "--credentials", str(tmp_path / "creds.json"), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_add_replace_revoke_list_export(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = run_cli(tmp_path, capsys, "add", "--device", "ct-05", "--kind", "terminal", "--counter", "5",
                           "--hall", "demo")
    assert code == 0 and "added demo.ct-05 (terminal, counter 5) in hall demo" in out
    assert "device URL: mqtt://demo.ct-05:" in out
    password = out.split("keep it on the device): ")[1].split()[0]
    url = MqttUrl.parse(out.split("device URL: ")[1].split()[0].replace("BROKER", "10.0.0.2"))
    assert (url.username, url.password, url.host, url.port) == ("demo.ct-05", password, "10.0.0.2", 1883)
    stored = json.loads((tmp_path / "creds.json").read_text())["accounts"][0]
    assert password not in json.dumps(stored) and verify_password(password, stored["password_hash"])
    assert stat.S_IMODE((tmp_path / "creds.json").stat().st_mode) == 0o600
    assert run_cli(tmp_path, capsys, "add", "--device", "rb-05", "--password-stdin", stdin="chosen-pw\n",
                   monkeypatch=monkeypatch)[0] == 0
    assert run_cli(tmp_path, capsys, "add", "--device", "hallserver", "--kind", "server")[0] == 0

    for args, why in ((("--device", "ct-05"), "already has credentials"),
                      (("--device", "ct-99"), "not declared"),
                      (("--device", "led-05", "--kind", "terminal"), "declared as led at counter 5"),
                      (("--device", "led-05", "--counter", "4"), "declared as led"),
                      (("--device", "led-05", "--hall", "other"), "hall 'other' is not configured"),
                      (("--device", "Bad.Id", "--kind", "server"), "a server login is a slug")):
        code, _, err = run_cli(tmp_path, capsys, "add", *args)
        assert code == 1 and why in err, err

    code, out, _ = run_cli(tmp_path, capsys, "replace", "--device", "ct-05")
    assert code == 0 and password not in out
    assert run_cli(tmp_path, capsys, "revoke", "--device", "rb-05")[0] == 0
    assert run_cli(tmp_path, capsys, "revoke", "--device", "rb-05")[0] == 1
    code, out, _ = run_cli(tmp_path, capsys, "list")
    assert "demo.ct-05" in out and "demo.rb-05" in out and "revoked" in out and "hallserver" in out

    code, out, _ = run_cli(tmp_path, capsys, "export", "--out", str(tmp_path / "etc"))
    assert code == 0 and "(2 logins)" in out
    users = read_password_file(tmp_path / "etc" / "passwd")
    assert sorted(users) == ["demo.ct-05", "hallserver"] and not verify_password(password, users["demo.ct-05"])
    acl = (tmp_path / "etc" / "acl").read_text()
    assert "user hallserver\ntopic readwrite qms/demo/#\n" in acl and "rb-05" not in acl
    assert ("user demo.ct-05\ntopic write qms/demo/dev/ct-05/up\ntopic write qms/demo/dev/ct-05/status\n"
            "topic read qms/demo/dev/ct-05/down\ntopic read qms/demo/dev/ct-05/state\ntopic read qms/demo/calls\n"
            "topic read qms/demo/board\ntopic read qms/demo/server/status\n") in acl
    assert stat.S_IMODE((tmp_path / "etc" / "acl").stat().st_mode) == 0o640


def test_a_revoked_device_can_be_added_again(tmp_path: Path) -> None:
    config = load_hall_config(None)
    creds = Credentials(tmp_path / "c.json")
    creds.add(config, "rb-05")
    creds.revoke("rb-05")
    with pytest.raises(ProvisionError):
        creds.replace("rb-05")
    creds.add(config, "rb-05", password="again-pw")
    assert [r.username for r in creds.active()] == ["demo.rb-05"]


def hall_files(directory: Path, *halls: str) -> list[Path]:
    """The demo hall's configuration under other hall ids (a province's commune centres)."""
    text = DEMO_CONFIG.read_text(encoding="utf-8")
    assert text.count('\nid = "demo"\n') == 1
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for hall in halls:
        files.append(directory / f"{hall}.toml")
        files[-1].write_text(text.replace('\nid = "demo"\n', f'\nid = "{hall}"\n'), encoding="utf-8")
    return files


def test_a_province_file_holds_several_halls(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One credentials file for the province: logins carry their hall, the same device id in two
    halls is two logins, and the server login reads and writes each hall by an explicit pattern."""
    halls = hall_files(tmp_path / "halls", "xa-an-binh", "xa-tan-my")
    province = ("--config", str(tmp_path / "halls"))  # a directory of hall configurations

    def cli(*args: str) -> tuple[int, str, str]:
        code = main(["provision", *province, *args])
        out, err = capsys.readouterr()
        return code, out, err

    code, _, err = cli("add", "--device", "ct-05")
    assert code == 1 and "halls xa-an-binh, xa-tan-my are configured; say which with --hall" in err
    for hall in ("xa-an-binh", "xa-tan-my"):
        code, out, _ = cli("add", "--device", "ct-05", "--hall", hall)
        assert code == 0 and f"added {hall}.ct-05 (terminal, counter 5) in hall {hall}" in out, out
    assert cli("add", "--device", "hallserver", "--kind", "server", "--hall", "xa-an-binh")[0] == 0
    assert (tmp_path / "halls" / "credentials.json").is_file()  # beside the configurations
    # the same with one --config per hall file (and the credentials file named)
    files = ("--credentials", str(tmp_path / "halls" / "credentials.json"), "--config", str(halls[0]),
             "--config", str(halls[1]))
    assert main(["provision", *files, "add", "--device", "rb-05", "--hall", "xa-tan-my"]) == 0
    assert "added xa-tan-my.rb-05 (rating, counter 5)" in capsys.readouterr().out
    assert cli("revoke", "--device", "xa-tan-my.rb-05")[0] == 0
    code, _, err = cli("revoke", "--device", "ct-05")
    assert code == 1 and "say which with --hall" in err
    code, out, _ = cli("revoke", "--device", "ct-05", "--hall", "xa-tan-my")
    assert code == 0 and "revoked xa-tan-my.ct-05" in out
    code, out, _ = cli("replace", "--device", "xa-an-binh.ct-05")
    assert code == 0 and "new password for xa-an-binh.ct-05" in out

    assert cli("export", "--out", str(tmp_path / "etc"))[0] == 0
    acl = (tmp_path / "etc" / "acl").read_text()
    assert "user hallserver\ntopic readwrite qms/xa-an-binh/#\n" in acl  # xa-tan-my has no active login left
    assert "user xa-an-binh.ct-05\ntopic write qms/xa-an-binh/dev/ct-05/up\n" in acl and "xa-tan-my.ct-05" not in acl
    creds = Credentials(tmp_path / "halls" / "credentials.json")
    configs = [load_hall_config(f) for f in halls]
    creds.add(configs, "ct-05", hall="xa-tan-my", password="pw")
    creds.add(configs, "led-05", hall="xa-tan-my", password="pw")
    server = next(a for a in creds.accounts() if a.username == "hallserver")
    assert server.reads() == server.writes() == ["qms/xa-an-binh/#", "qms/xa-tan-my/#"]
    assert sorted(read_password_file(creds.export(tmp_path / "etc2")[0])) == [
        "hallserver", "xa-an-binh.ct-05", "xa-tan-my.ct-05", "xa-tan-my.led-05"]
    assert "topic readwrite qms/xa-tan-my/#" in (tmp_path / "etc2" / "acl").read_text()


def test_a_province_file_is_a_configuration_too(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The province file the server runs (HALL_CONFIG) names the halls for provisioning as well."""
    province = Path(__file__).parents[2] / "hallserver" / "province_example" / "province.toml"
    base = ["provision", "--config", str(province), "--credentials", str(tmp_path / "c.json")]
    for hall in ("xa-an-khanh", "xa-binh-minh"):
        assert main([*base, "add", "--hall", hall, "--device", "ct-01"]) == 0
        assert f"added {hall}.ct-01 (terminal, counter 1) in hall {hall}" in capsys.readouterr().out
    assert main([*base, "add", "--hall", "tinh", "--device", "hallserver", "--kind", "server"]) == 0
    assert "server of halls tinh, xa-an-khanh, xa-binh-minh" in capsys.readouterr().out
    assert main([*base, "add", "--hall", "xa-mau", "--device", "ct-01"]) == 1  # the template is no hall
    assert "hall 'xa-mau' is not configured" in capsys.readouterr().err
    assert main([*base, "export", "--out", str(tmp_path / "etc")]) == 0
    acl = (tmp_path / "etc" / "acl").read_text()
    # the server login serves every hall of the province, those without devices yet included
    halls = sorted(c.id for c in load_configs([province]))
    assert len(halls) > 3 and "xa-mau" not in halls
    assert "user hallserver\n" + "".join(f"topic readwrite qms/{h}/#\n" for h in halls) in acl, acl


def test_logins_carry_their_hall() -> None:
    h = hash_password("x")
    assert Account("demo.ct-05", "demo", "terminal", h, "ct-05").writes()[0] == "qms/demo/dev/ct-05/up"
    for bad in (("ct-05", "demo", "terminal", h, "ct-05"), ("other.ct-05", "demo", "terminal", h, "ct-05"),
                ("demo.ct-05", "demo", "terminal", h, "ct-05", ("b",)), ("a.b", "demo", SERVER_KIND, h),
                ("hallserver", "demo", SERVER_KIND, h, None, ("b/#",))):
        with pytest.raises(ValueError):
            Account(*bad)


def test_an_older_file_with_bare_logins_is_refused_until_migrated(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Files written before logins carried their hall: nothing is exported from them by mistake;
    `migrate` renames the device logins and keeps their passwords."""
    path = tmp_path / "creds.json"
    old = {"v": 1, "accounts": [
        {"username": "ct-05", "hall": "demo", "kind": "terminal", "password_hash": hash_password("kept"),
         "device": "ct-05", "counter": 5, "created_at": "2026-01-01T00:00:00+00:00",
         "changed_at": "2026-01-01T00:00:00+00:00", "revoked_at": None},
        {"username": "hallserver", "hall": "demo", "kind": "server", "password_hash": hash_password("srv"),
         "device": None, "counter": None, "created_at": "", "changed_at": "", "revoked_at": None}]}
    path.write_text(json.dumps(old))
    code, _, err = run_cli(tmp_path, capsys, "export", "--out", str(tmp_path / "etc"))
    assert code == 1 and "provision migrate" in err and "ct-05" in err
    assert not (tmp_path / "etc").exists()
    assert run_cli(tmp_path, capsys, "add", "--device", "led-05")[0] == 1
    code, out, _ = run_cli(tmp_path, capsys, "migrate")
    assert code == 0 and "ct-05 -> demo.ct-05" in out and "1 logins renamed" in out
    assert run_cli(tmp_path, capsys, "export", "--out", str(tmp_path / "etc"))[0] == 0
    users = read_password_file(tmp_path / "etc" / "passwd")
    assert verify_password("kept", users["demo.ct-05"]) and verify_password("srv", users["hallserver"])


def _connack(port: int, user: str | None, password: str | None) -> mqtt.ReasonCode:
    got: list[mqtt.ReasonCode] = []
    done = threading.Event()
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"probe-{user}", protocol=mqtt.MQTTv311)
    if user:
        c.username_pw_set(user, password)
    c.on_connect = lambda cl, u, f, rc, p: (got.append(rc), done.set(), cl.disconnect())
    c.connect("127.0.0.1", port)
    c.loop_start()
    try:
        assert done.wait(10)
    finally:
        c.loop_stop()
    return got[0]


def test_embedded_broker_outside_the_demo_takes_only_provisioned_logins(tmp_path: Path, tmp_sqlite_url: str,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    config = load_hall_config(None, demo=False, always_open=True)
    config_path = tmp_path / "hall.toml"  # its credentials file sits beside it
    monkeypatch.delenv("HALL_CREDENTIALS", raising=False)
    creds = Credentials(tmp_path / "hall.credentials.json")
    password = creds.add(config, "ct-05")
    creds.save()
    settings = Settings(mqtt_url=None, database_url=tmp_sqlite_url, config_path=config_path)
    broker, settings = start_embedded(settings, config)
    try:
        assert settings.mqtt_url is not None and settings.mqtt_url.startswith("mqtt://hallserver:")
        rt = Runtime(settings, config).start()  # the server logs in with its one-off password
        try:
            assert rt.adapter is not None and rt.adapter.connected.wait(10)
            assert not _connack(broker.port, "demo.ct-05", password).is_failure
            for user, pw in (("demo.ct-05", "wrong"), ("demo.ct-04", "x"), ("ct-05", password), (None, None),
                             ("hallserver", "guess")):
                assert _connack(broker.port, user, pw).is_failure, user
            # amqtt's topic ACL: a device's publish on another device's `up` reaches nobody
            spy = Peer(broker.port, "hallserver", settings.mqtt_url.split(":")[2].split("@")[0], "spy")
            device = Peer(broker.port, "demo.ct-05", password, "ct-05-peer")
            try:
                spy.subscribe("qms/demo/dev/+/up")
                device.publish("qms/demo/dev/ct-04/up", {"v": 1, "forged": True})
                device.publish("qms/demo/dev/ct-05/up", {"v": 1, "mine": True})
                spy.wait_for(lambda t, m: m.get("mine") is True)
                assert not [m for t, m in spy.messages if m.get("forged")]
            finally:
                spy.close()
                device.close()
        finally:
            rt.stop()
    finally:
        broker.stop()


def test_embedded_broker_follows_the_credentials_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    """`provision add|replace|revoke` while the embedded broker runs: a new login works at once
    (read before each login), a revoked or replaced one is shut out and its live session closed
    (the file is watched every `refresh_interval`), without `export` or a restart."""
    config = load_hall_config(None, demo=False, always_open=True)
    monkeypatch.delenv("HALL_CREDENTIALS", raising=False)
    creds_file = tmp_path / "hall.credentials.json"
    creds = Credentials(creds_file)
    passwords = {d: creds.add(config, d) for d in ("ct-05", "rb-05")}
    creds.save()
    settings = Settings(mqtt_url=None, database_url="sqlite://", config_path=tmp_path / "hall.toml")
    broker, settings = start_embedded(settings, config)
    broker.refresh_interval = 0.2  # read by the watcher at each turn
    peers: list[Peer] = []

    def connect(user: str, password: str, client_id: str) -> Peer:
        peers.append(Peer(broker.port, user, password, client_id))
        return peers[-1]

    def cli(*args: str) -> str:
        assert main(["provision", "--credentials", str(creds_file), *args]) == 0
        return capsys.readouterr().out.split("keep it on the device): ")[-1].split()[0]

    try:
        assert settings.mqtt_url is not None
        server = connect("hallserver", settings.mqtt_url.split(":")[2].split("@")[0], "server")
        button = connect("demo.rb-05", passwords["rb-05"], "rb")
        terminal = connect("demo.ct-05", passwords["ct-05"], "ct")
        assert server.accepted and button.accepted and terminal.accepted
        assert not connect("demo.led-05", "not-yet", "led-0").accepted

        led_password = cli("add", "--device", "led-05")
        assert connect("demo.led-05", led_password, "led-1").accepted  # no restart, no export

        cli("revoke", "--device", "rb-05")
        assert button.dropped.wait(10), "the revoked device's live session stayed open"
        assert not connect("demo.rb-05", passwords["rb-05"], "rb-again").accepted

        new = cli("replace", "--device", "ct-05")
        assert terminal.dropped.wait(10), "a session with the replaced password stayed open"
        assert not connect("demo.ct-05", passwords["ct-05"], "ct-old").accepted
        assert connect("demo.ct-05", new, "ct-new").accepted
        # the new login's ACL came with it: its publish reaches the server's subscription
        server.subscribe("qms/demo/dev/+/up")
        peers[-1].publish("qms/demo/dev/ct-05/up", {"v": 1, "mine": True})
        server.wait_for(lambda t, m: m.get("mine") is True)
        assert not server.dropped.is_set()
    finally:
        for p in peers:
            p.close()
        broker.stop()


def test_production_mosquitto_conf_starts_and_refuses_anonymous(tmp_path: Path) -> None:
    """broker/mosquitto.conf as shipped, with paths and port moved into tmp_path."""
    from broker.ports import free_port

    binary = require_binary("mosquitto", "mosquitto")
    config = load_hall_config(None)
    creds = Credentials(tmp_path / "c.json")
    password = creds.add(config, "ct-05")
    creds.export(tmp_path / "etc")
    port = free_port()
    text = (Path(__file__).parents[2] / "broker" / "mosquitto.conf").read_text()
    assert "\nallow_anonymous false\n" in text and "\npersistence true\n" in text and "#listener 8883" in text
    text = (text.replace("/etc/hall/mosquitto/", f"{tmp_path}/etc/").replace("/var/lib/mosquitto/", f"{tmp_path}/")
            .replace("user mosquitto", "user root").replace("log_dest syslog", "log_dest stderr")
            .replace("listener 1883", f"listener {port} 127.0.0.1"))
    (tmp_path / "mosquitto.conf").write_text(text)
    proc = subprocess.Popen([binary, "-c", str(tmp_path / "mosquitto.conf")], stderr=subprocess.PIPE, text=True)
    running = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "mosquitto version" in line and line.rstrip().endswith("running"):
                running.set()

    threading.Thread(target=read, daemon=True).start()
    try:
        assert running.wait(10), "mosquitto did not start with the production configuration"
        assert not _connack(port, "demo.ct-05", password).is_failure
        assert _connack(port, None, None).is_failure and _connack(port, "demo.ct-05", "x").is_failure
    finally:
        proc.terminate()
        proc.wait(10)
