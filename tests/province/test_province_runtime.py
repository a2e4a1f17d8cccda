"""One server process carrying a province (HALL_CONFIG names a province file): each hall numbers
its own day, answers only its own devices, keeps its own retained states and its own server
presence, and is reached over HTTP under /h/{hall}; a bad province file is refused clearly."""

from __future__ import annotations

import uuid
from pathlib import Path

import httpx
import pytest

from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.domain.config import ConfigError
from hallserver.province import load_province
from hallserver.settings import DEMO_CONFIG, Settings
from tests.support.listener import Listener


def province_file(tmp_path: Path, halls: list[str], extra: str = "") -> Path:
    entries = "".join(
        f'[[halls]]\nconfig = "{DEMO_CONFIG}"\nid = "{h}"\nname = "Trung tâm xã {h}"\nalways_open = true\n'
        f"demo = true\n\n" for h in halls)
    path = tmp_path / "province.toml"
    path.write_text(f'[province]\nid = "tinh-test"\nname = "Tỉnh Thử"\n\n{entries}{extra}', encoding="utf-8")
    return path


@pytest.fixture
def halls() -> list[str]:
    suffix = uuid.uuid4().hex[:6]
    return [f"p{suffix}-{i}" for i in range(3)]


@pytest.fixture
def province_rt(mqtt_url, tmp_path, halls):
    settings = Settings(mqtt_url=mqtt_url, database_url=f"sqlite:///{tmp_path / 'p.db'}",
                        config_path=province_file(tmp_path, halls), http_port=0)
    rt = Runtime(settings).start()
    assert rt.adapter is not None and rt.adapter.connected.wait(15)
    yield rt
    rt.stop()


def test_each_hall_numbers_and_answers_its_own_devices(province_rt, mqtt_url, halls):
    assert list(province_rt.halls) == halls
    links = [DeviceLink(mqtt_url, h, "kiosk-1").start() for h in halls]
    terminal = DeviceLink(mqtt_url, halls[1], "ct-01").start()
    led = DeviceLink(mqtt_url, halls[1], "led-01").start()
    try:
        for _ in range(2):  # same device id in every hall, a separate queue each
            replies = [link.request("ticket.take", {"service": "tu-phap"}) for link in links]
            assert len({r["ticket"]["number"] for r in replies}) == 1
        assert [r["ticket"]["number"] for r in replies] == ["A002"] * 3
        links[1].request("ticket.take", {"service": "tu-phap"})
        terminal.request("officer.login", {"officer": "o01", "pin": "0000"})
        call = terminal.request("call.next")
        assert call["ticket"]["number"] == "A001"
        assert led.wait_state(lambda s: s.get("number") == "A001")["number"] == "A001"
        waiting = {h: province_rt.halls[h].service.snapshot(lambda hall, now: len(hall.waiting("tu-phap")))
                   for h in halls}
        assert waiting == {halls[0]: 2, halls[1]: 2, halls[2]: 2}
        day = province_rt.service.now().date()
        assert [len(province_rt.store.tickets(h, day)) for h in halls] == [2, 3, 2]
    finally:
        for link in (*links, terminal, led):
            link.close()


def test_every_hall_has_its_own_presence_and_pages(province_rt, mqtt_url, halls):
    listener = Listener(mqtt_url, "qms/+/server/status")
    try:
        for h in halls:  # each hall's devices learn of the server from their own hall's topic
            listener.wait_for(lambda m, h=h: m.get("online") is True)
        port = province_rt.start_http_thread(0)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
            for h in halls:
                hall = http.get(f"/h/{h}/api/hall").json()
                assert hall["id"] == h and hall["name"] == f"Trung tâm xã {h}"
                assert http.get(f"/h/{h}/api/queues").status_code == 200
            assert http.get("/h/no-such-hall/api/hall").status_code == 404
            metrics = http.get("/metrics").text  # one scrape for the province: a sample per hall
            assert metrics.count("# TYPE hall_messages_in_total counter") == 1
            for h in halls:
                assert f'hall_mqtt_connected{{hall="{h}"}} 1' in metrics
            assert 'hall_command_seconds_count{server="tinh-test"}' in metrics
        assert province_rt.adapter is not None
        for h in halls:
            assert province_rt.halls[h].mqtt_connected()
    finally:
        listener.close()


def test_bad_province_files_are_refused(tmp_path):
    path = province_file(tmp_path, ["xa-a", "xa-a"])
    with pytest.raises(ConfigError, match="appears twice"):
        load_province(path)
    path.write_text('[province]\nid = "p"\n[[halls]]\nconfig = "missing.toml"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="no file"):
        load_province(path)
    path.write_text('[province]\nid = "p"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="at least one"):
        load_province(path)
    one = load_province(DEMO_CONFIG)  # a hall file is a province of one hall
    assert one.single and one.halls[0].config.id == "demo"


def test_the_example_province_loads():
    """hallserver/province_example: the provincial centre and five communes from one template."""
    example = Path(__file__).parents[2] / "hallserver" / "province_example" / "province.toml"
    loaded = load_province(example)
    ids = [h.config.id for h in loaded.halls]
    assert ids[0] == "tinh" and len(ids) == 6 == len(set(ids))
    for h in loaded.halls:
        assert h.config.public_url.endswith(f"/h/{h.config.id}")  # the tickets' QR links reach the hall's pages
        if h.config.id != "tinh":
            assert len(h.config.counters) == 5 and h.config.name.startswith("Trung tâm Phục vụ hành chính công xã ")
