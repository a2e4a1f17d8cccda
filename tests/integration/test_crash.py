"""kill -9 of the hall server process: after a restart on the same database the waiting tickets,
their order and the counters' current tickets are all there, and no number is issued twice."""

from __future__ import annotations

import os

import pytest
from support.server_process import ServerProcess

from hallserver.settings import DEMO_CONFIG


@pytest.fixture
def server_env(tmp_path, mqtt_url, hall_id) -> dict[str, str]:
    config = tmp_path / "hall.toml"
    config.write_text(DEMO_CONFIG.read_text(encoding="utf-8").replace(
        'id = "demo"', f'id = "{hall_id}"\nalways_open = true'), encoding="utf-8")
    env = dict(os.environ, HALL_MQTT_URL=mqtt_url, HALL_DATABASE_URL=f"sqlite:///{tmp_path / 'hall.db'}",
               HALL_CONFIG=str(config), HALL_HTTP_PORT="0")
    return env


def _live(board: dict) -> dict:
    return {"counters": [(c["number"], c["status"], c["ticket"]) for c in board["counters"]],
            "waiting": [(w["service"], w["waiting"]) for w in board["waiting"]],
            "recent": [(c["number"], c["counter"], c["seq"]) for c in board["recent"]]}


@pytest.mark.slow
def test_kill_9_and_restart_keeps_everything(server_env, device):
    server = ServerProcess(server_env)
    server.start()
    try:
        kiosk, t1, t22 = device("kiosk-1"), device("ct-01"), device("ct-22")
        issued = [kiosk.request("ticket.take", {"service": s})["ticket"]
                  for s in ("tu-phap", "giao-thong", "tu-phap", "tu-phap", "giao-thong")]
        numbers = [t["number"] for t in issued]
        tokens = {t["number"]: t["track_url"].rsplit("/", 1)[-1] for t in issued}  # by number is staff only
        prio = kiosk.request("ticket.take", {"service": "tu-phap", "priority": "nguoi-cao-tuoi"})["ticket"]
        assert numbers == ["A001", "N001", "A002", "A003", "N002"] and prio["number"] == "A004"
        t1.request("officer.login", {"officer": "o01", "pin": "0000"})
        t22.request("officer.login", {"officer": "o22", "pin": "0000"})
        assert t1.request("call.next")["ticket"]["number"] == "A004"  # priority first (strict)
        assert t22.request("call.next")["ticket"]["number"] == "N001"
        before = _live(server.get("/api/board"))
        tickets_before = {n: server.get(f"/api/track/{tokens[n]}") for n in numbers}

        server.kill9()
        server.start()

        after = _live(server.get("/api/board"))
        assert after == before
        for n, t in tickets_before.items():
            now = server.get(f"/api/track/{tokens[n]}")
            assert (now["status"], now["ahead"], now["counter"]) == (t["status"], t["ahead"], t["counter"])
        # the order of the waiting tickets survived: the counter gets the oldest next
        t1.request("serve.done")
        assert t1.request("call.next")["ticket"]["number"] == "A001"
        assert kiosk.request("ticket.take", {"service": "tu-phap"})["ticket"]["number"] == "A005"
    finally:
        server.stop()
