"""Availability: devices' retained status and last will reach the store; the server announces
itself online, and offline when it stops."""

from __future__ import annotations

from support.listener import Listener

import protocols
from hallserver.bootstrap import demo_pin_warnings
from hallserver.settings import load_hall_config
from hallserver.store.models import DeviceStatusRow

topics = protocols.topics


def _status_row(server, device: str) -> DeviceStatusRow | None:
    with server.store.sessions() as s:
        return s.get(DeviceStatusRow, (server.config.id, device))


def test_device_status_and_last_will(server, device):
    kiosk = device("kiosk-2", health={"paper": "near_end"})
    kiosk.request("state.get")  # handled after the status message published at connect
    row = _status_row(server, "kiosk-2")
    assert row.online is True and row.data["paper"] == "near_end"



def test_server_status_is_retained_and_goes_offline(server, mqtt_url, hall_id):
    status = Listener(mqtt_url, topics.server_status(hall_id))
    try:
        status.wait_for(lambda m: m["online"] is True)  # retained: there before we subscribed
        server.stop()
        status.wait_for(lambda m: m["online"] is False)
    finally:
        status.close()


def test_demo_pin_warning_for_real_halls():
    assert demo_pin_warnings(load_hall_config()) == []  # the demo hall may keep 0000
    real = load_hall_config(None, demo=False)
    assert len(demo_pin_warnings(real)) == 38
