"""A broker restart (Mosquitto with persistence): the server and the devices reconnect by
themselves, a vote sent while the broker was down arrives, and the displays show the right
numbers again."""

from __future__ import annotations

import pytest

from firmware.pilink import DeviceLink
from hallserver.bootstrap import Runtime
from hallserver.settings import Settings, load_hall_config
from hallserver.store.models import RatingRow


@pytest.mark.slow
def test_everything_reconnects_after_a_broker_restart(mosquitto, tmp_sqlite_url):
    hall = "restart"
    rt = Runtime(Settings(mqtt_url=mosquitto.url, database_url=tmp_sqlite_url, config_path=None),
                 load_hall_config(None, id=hall, always_open=True)).start()
    links = [DeviceLink(mosquitto.url, hall, d).start() for d in ("kiosk-1", "ct-03", "led-03", "rb-03")]
    kiosk, terminal, led, rating = links
    try:
        kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
        kiosk.request("ticket.take", {"service": "ke-hoach-dau-tu"})
        terminal.request("officer.login", {"officer": "o03", "pin": "0000"})
        terminal.request("call.next")
        terminal.request("serve.done")
        rating.wait_state(lambda s: s["armed"])

        mosquitto.stop()
        for link in links:
            assert link.disconnected.wait(10)
        # pressed while the broker is down: paho keeps the QoS 1 message and sends it on reconnect
        vote_id = rating.send("rating.vote", {"score": "hai-long"})
        mosquitto.start()

        assert rating.wait_reply(vote_id, timeout=30)["ok"] is True
        for link in links:
            assert link.connected.wait(30)
        assert terminal.request("call.next", timeout=30)["ticket"]["number"] == "B002"
        led.wait_state(lambda s: s["number"] == "B002", timeout=15)
        with rt.store.sessions() as s:
            assert s.query(RatingRow).filter_by(hall=hall).count() == 1
    finally:
        for link in links:
            link.close()
        rt.stop()

