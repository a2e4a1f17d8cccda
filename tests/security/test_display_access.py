"""The hall's display-side programs under the production ACL, on a real Mosquitto: the serial LED
board controller (kind `boards`, login `{hall}.boards-1`) reads the states of the LED displays of
the counters it drives and nothing else, and publishes only its own `status`; the voice announcer
is a `screen` (`{hall}.voice-1`) and reads the hall's calls. Both programs log in as
`{hall}.{device}` when their URL names no user.

"Nothing arrived" is proven as in test_mosquitto_access.py: a later legitimate message is the
barrier (Mosquitto routes a QoS 1 publish before acknowledging it and delivers in order).
"""

from __future__ import annotations

import io
import re
import threading
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.require import require_binary

from broker.acl import amqtt_acls
from displays.boards import SevenSegment
from displays.boards.config import device_signs
from displays.boards.controller import BoardController, Sign
from hallserver.domain.config import ConfigError, HallConfig, parse_config
from hallserver.provisioning import SERVER_USERNAME, Credentials, ProvisionError
from hallserver.settings import DEMO_CONFIG

from .conftest import DEVICES, Peer, SecuredBroker, peer_factory, start_secured

A, B = "demo", "xa-tan-my"
BOARDS, VOICE = "boards-1", "voice-1"
FORGED = {"v": 1, "forged": True}


def hall_toml(hall: str = A, counters: list[int] | None = None) -> dict:
    """The demo hall's configuration as TOML data, under `hall`, its board controller driving
    `counters` (default: counters 4 and 5, so counter 6's LED is one it does not drive)."""
    with open(DEMO_CONFIG, "rb") as f:
        raw = tomllib.load(f)
    raw["hall"]["id"] = hall
    for d in raw["devices"]:
        if d["id"] == BOARDS:
            d["counters"] = [4, 5] if counters is None else counters
    return raw


def hall_config(hall: str = A, counters: list[int] | None = None) -> HallConfig:
    return parse_config(hall_toml(hall, counters))


@pytest.fixture
def province(tmp_path: Path) -> Iterator[SecuredBroker]:
    broker = start_secured(tmp_path, [hall_config(A), hall_config(B)], DEVICES + (BOARDS, VOICE))
    try:
        yield broker
    finally:
        broker.mosquitto.stop()


@pytest.fixture
def peer(province: SecuredBroker) -> Iterator[Callable[..., Peer]]:
    make, peers = peer_factory(province)
    yield make
    for p in peers:
        p.close()


def test_a_boards_controller_is_declared_with_counters_that_have_leds() -> None:
    assert hall_config().devices[BOARDS].counters == (4, 5)
    for counters, why in (([], "needs `counters`"), ([99], "needs `counters`"), ([5, 5], "needs `counters`"),
                          ([True], "needs `counters`"), ("1-5", "needs `counters`")):
        with pytest.raises(ConfigError, match=why):
            hall_config(counters=counters)  # type: ignore[arg-type]
    raw = hall_toml()
    raw["devices"] = [d for d in raw["devices"] if d["id"] != "led-05"]
    with pytest.raises(ConfigError, match=r"boards-1 drives the boards of counters \[5\], which have no led"):
        parse_config(raw)
    raw = hall_toml()
    raw["devices"].append({"id": "screen-9", "kind": "screen", "counters": [5]})
    with pytest.raises(ConfigError, match="only a boards controller has `counters`"):
        parse_config(raw)
    raw["devices"][-1] = {"id": "boards-2", "kind": "boards", "counter": 5, "counters": [5]}
    with pytest.raises(ConfigError, match="and no `counter`"):
        parse_config(raw)


def test_the_acl_of_a_boards_controller_in_mosquitto_and_amqtt(tmp_path: Path) -> None:
    creds = Credentials(tmp_path / "c.json")
    creds.add(hall_config(), BOARDS)
    assert creds.records[-1].watches == ["led-04", "led-05"]
    with pytest.raises(ProvisionError, match="declared as boards"):
        creds.add(hall_config(), BOARDS, counter=5)
    acl = creds.export(tmp_path / "etc")[1].read_text()
    assert (f"user {A}.{BOARDS}\ntopic write qms/{A}/dev/{BOARDS}/status\n"
            f"topic read qms/{A}/dev/led-04/state\ntopic read qms/{A}/dev/led-05/state\n"
            f"topic read qms/{A}/calls\ntopic read qms/{A}/board\ntopic read qms/{A}/server/status\n") in acl
    publish, subscribe = amqtt_acls(creds.accounts())  # the embedded broker's mirror of the same rules
    assert publish[f"{A}.{BOARDS}"] == [f"qms/{A}/dev/{BOARDS}/status"]
    assert subscribe[f"{A}.{BOARDS}"] == [f"qms/{A}/dev/led-04/state", f"qms/{A}/dev/led-05/state",
                                          f"qms/{A}/calls", f"qms/{A}/board", f"qms/{A}/server/status"]
    # the configuration changes (its counters, an LED renamed): `export` follows it
    assert [r.username for r in creds.follow(hall_config(counters=[5, 6]))] == [f"{A}.{BOARDS}"]
    assert creds.records[-1].watches == ["led-05", "led-06"] and creds.follow(hall_config(counters=[5, 6])) == []


def test_provision_add_and_export_follow_the_hall_configuration(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from hallserver.__main__ import main

    monkeypatch.delenv("HALL_CREDENTIALS", raising=False)  # beside the configuration

    text = DEMO_CONFIG.read_text(encoding="utf-8")
    declared = re.compile(r"(id = \"boards-1\"\nkind = \"boards\"\ncounters = )\[[^]]*\]")
    assert declared.search(text), "the demo hall declares boards-1"
    hall = tmp_path / "hall.toml"
    hall.write_text(declared.sub(r"\g<1>[4, 5]", text), encoding="utf-8")
    args = ["provision", "--config", str(hall)]
    assert main([*args, "add", "--device", BOARDS]) == 0
    assert f"added {A}.{BOARDS} (boards, reads the states of led-04, led-05) in hall {A}" in capsys.readouterr().out
    hall.write_text(declared.sub(r"\g<1>[5, 6]", text), encoding="utf-8")
    assert main([*args, "export", "--out", str(tmp_path / "etc")]) == 0
    assert f"{A}.{BOARDS} now reads the states of led-05, led-06" in capsys.readouterr().out
    acl = (tmp_path / "etc" / "acl").read_text()
    assert f"topic read qms/{A}/dev/led-06/state" in acl and f"qms/{A}/dev/led-04/state" not in acl
    assert main([*args, "export", "--out", str(tmp_path / "etc")]) == 0
    assert "now reads" not in capsys.readouterr().out


def test_the_controller_reads_the_led_states_it_drives_and_nothing_else(peer: Callable[..., Peer]) -> None:
    server, boards = peer(SERVER_USERNAME), peer(BOARDS)
    a, b = f"qms/{A}", f"qms/{B}"
    forbidden = (f"{a}/dev/led-06/state", f"{a}/dev/ct-05/state", f"{a}/dev/ct-05/down", f"{a}/dev/led-05/down",
                 f"{a}/dev/{BOARDS}/down", f"{a}/dev/{BOARDS}/state", f"{a}/dev/ct-05/up", f"{a}/dev/led-05/status",
                 f"{b}/dev/led-05/state", f"{b}/calls", f"{b}/board", f"{b}/server/status")
    for topic in forbidden:
        server.publish(topic, {**FORGED, "secret": topic}, retain=not topic.endswith(("/up", "/down", "/calls")))
    server.publish(f"{a}/dev/led-05/state", {"v": 1, "mine": "retained"}, retain=True)
    server.publish(f"{a}/board", {"v": 1, "board": "retained"}, retain=True)
    # every forbidden topic by name and by wildcards, then what it may read: retained ones arrive in order
    boards.subscribe(*forbidden, f"{a}/dev/+/state", f"{b}/#", f"{a}/#", "qms/+/dev/+/state", "#")
    boards.subscribe(f"{a}/dev/led-04/state", f"{a}/dev/led-05/state", f"{a}/calls", f"{a}/board",
                     f"{a}/server/status")
    boards.wait_for(lambda t, m: m.get("mine") == "retained")
    boards.wait_for(lambda t, m: m.get("board") == "retained")
    for topic in forbidden:
        server.publish(topic, {**FORGED, "secret": topic})
    server.publish(f"{a}/calls", {"v": 1, "seq": 1, "number": "A001", "counter": 4})
    server.publish(f"{a}/dev/led-04/state", {"v": 1, "mine": "live"})
    boards.wait_for(lambda t, m: m.get("mine") == "live")
    assert not [(t, m) for t, m in boards.messages if "secret" in m], "read a state it does not drive"
    assert {t for t, _ in boards.messages} == {f"{a}/dev/led-04/state", f"{a}/dev/led-05/state", f"{a}/calls",
                                               f"{a}/board"}


def test_the_controller_cannot_publish_on_any_up_topic(peer: Callable[..., Peer]) -> None:
    server, boards = peer(SERVER_USERNAME), peer(BOARDS)
    a, b = f"qms/{A}", f"qms/{B}"
    server.subscribe(f"{a}/#", f"{b}/#")
    call = {"v": 1, "id": "forged-1", "t": "call.next", **FORGED}
    for topic in (f"{a}/dev/{BOARDS}/up", f"{a}/dev/ct-05/up", f"{a}/dev/led-05/up", f"{b}/dev/{BOARDS}/up",
                  f"{b}/dev/ct-05/up", f"{a}/dev/led-05/state", f"{a}/dev/led-05/status", f"{a}/dev/{BOARDS}/down",
                  f"{a}/calls", f"{a}/board", f"{a}/server/status", f"{b}/dev/{BOARDS}/status"):
        boards.publish(topic, call)
    boards.publish(f"{a}/dev/{BOARDS}/status", {"v": 1, "online": True}, retain=True)  # its own: allowed
    i = server.wait_for(lambda t, m: t == f"{a}/dev/{BOARDS}/status" and m.get("online") is True)
    assert not [(t, m) for t, m in server.messages[:i + 1] if m.get("forged")]


def test_the_controller_program_logs_in_as_its_device_and_drives_its_boards(province: SecuredBroker,
                                                                            peer: Callable[..., Peer]) -> None:
    server = peer(SERVER_USERNAME)
    a = f"qms/{A}"
    server.subscribe(f"{a}/dev/{BOARDS}/status")
    for led, number in (("led-04", "B004"), ("led-05", "A005"), ("led-06", "C006")):
        server.publish(f"{a}/dev/{led}/state", {"v": 1, "kind": "led", "number": number, "status": "open",
                                                 "call_seq": 1}, retain=True)
    signs = device_signs(hall_toml(), BOARDS)  # what the hall's own file declares, as --config gives it
    assert signs == [Sign(4, 4, "led-04"), Sign(5, 5, "led-05")]
    shown: dict[int, str] = {}
    changed = threading.Condition()

    def on_shown(sign: Sign, text: str, frame: bytes) -> None:
        with changed:
            shown[sign.address] = text
            changed.notify_all()

    # no user in the URL: the controller logs in as demo.boards-1
    url = f"mqtt://:{province.passwords[f'{A}.{BOARDS}']}@127.0.0.1:{province.port}"
    # counter 6's board is wired too, but the login may not read led-06: it stays blank
    controller = BoardController(url, A, SevenSegment(io.BytesIO()), [*signs, Sign(6, 6)], blink_s=0,
                                 on_shown=on_shown)
    assert controller.client.username == f"{A}.{BOARDS}"
    controller.start()
    try:
        server.wait_for(lambda t, m: m.get("online") is True)
        with changed:
            assert changed.wait_for(lambda: shown == {4: "B004", 5: "A005"}, 10), shown
        server.publish(f"{a}/dev/led-06/state", {"v": 1, "kind": "led", "number": "C007", "status": "open",
                                                 "call_seq": 2})
        server.publish(f"{a}/dev/led-05/state", {"v": 1, "kind": "led", "number": "A008", "status": "open",
                                                 "call_seq": 2})
        with changed:
            assert changed.wait_for(lambda: shown.get(5) == "A008", 10), shown
        assert 6 not in shown
    finally:
        controller.close()
    server.wait_for(lambda t, m: m.get("online") is False)  # a clean shutdown says offline


def test_the_announcer_is_a_screen_that_hears_its_halls_calls(province: SecuredBroker, peer: Callable[..., Peer],
                                                              tmp_path: Path) -> None:
    require_binary("espeak-ng", "espeak-ng")
    from displays.voice import AnnouncementQueue, ClipBuilder, VoiceConfig
    from displays.voice.announcer import Announcer

    server = peer(SERVER_USERNAME)
    server.subscribe(f"qms/{A}/dev/{VOICE}/status")
    played: list[Path] = []
    done = threading.Condition()

    def play(clip: Path) -> None:
        with done:
            played.append(clip)
            done.notify_all()

    url = f"mqtt://:{province.passwords[f'{A}.{VOICE}']}@127.0.0.1:{province.port}"
    announcer = Announcer(url, A, ClipBuilder(VoiceConfig(), tmp_path / "voice"), AnnouncementQueue(play))
    assert announcer.client.username == f"{A}.{VOICE}"
    announcer.start()
    try:
        server.wait_for(lambda t, m: m.get("online") is True)
        server.publish(f"qms/{B}/calls", {"v": 1, "seq": 1, "number": "Z001", "counter": 9})  # another hall's
        server.publish(f"qms/{A}/calls", {"v": 1, "seq": 2, "number": "A002", "counter": 5})
        with done:
            assert done.wait_for(lambda: len(played) >= 1, 10)
        assert played == [announcer.builder.build("A002", 5)]
    finally:
        announcer.close()
    server.wait_for(lambda t, m: m.get("online") is False)


def test_the_embedded_broker_holds_the_controller_to_the_same_topics(tmp_path: Path, tmp_sqlite_url: str,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """amqtt's topic ACL from `amqtt_acls` (live messages: amqtt hands out retained ones past it)."""
    from hallserver.provisioning import start_embedded
    from hallserver.settings import Settings

    monkeypatch.delenv("HALL_CREDENTIALS", raising=False)
    config = hall_config()
    creds = Credentials(tmp_path / "hall.credentials.json")
    password = creds.add(config, BOARDS)
    creds.save()
    broker, settings = start_embedded(Settings(mqtt_url=None, database_url=tmp_sqlite_url,
                                               config_path=tmp_path / "hall.toml"), config)
    assert settings.mqtt_url is not None
    server = Peer(broker.port, SERVER_USERNAME, settings.mqtt_url.split(":")[2].split("@")[0], "server")
    boards = Peer(broker.port, f"{A}.{BOARDS}", password, "boards")
    try:
        a = f"qms/{A}"
        server.subscribe(f"{a}/dev/+/up", f"{a}/dev/+/status")
        boards.subscribe(f"{a}/dev/ct-05/state", f"{a}/dev/led-06/state", f"{a}/dev/led-05/state")
        for topic in (f"{a}/dev/ct-05/state", f"{a}/dev/led-06/state"):
            server.publish(topic, {**FORGED, "secret": topic})
        server.publish(f"{a}/dev/led-05/state", {"v": 1, "mine": "live"})
        boards.wait_for(lambda t, m: m.get("mine") == "live")
        assert not [m for t, m in boards.messages if "secret" in m]
        for topic in (f"{a}/dev/{BOARDS}/up", f"{a}/dev/ct-05/up"):
            boards.publish(topic, {"v": 1, "id": "forged-1", "t": "call.next", **FORGED})
        boards.publish(f"{a}/dev/{BOARDS}/status", {"v": 1, "online": True})
        i = server.wait_for(lambda t, m: t == f"{a}/dev/{BOARDS}/status")
        assert not [m for t, m in server.messages[:i + 1] if m.get("forged")]
    finally:
        server.close()
        boards.close()
        broker.stop()
