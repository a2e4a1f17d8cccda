"""A device losing power (no DISCONNECT): the broker's last will marks it offline in the store.

In a module of its own, hence with brokers of its own: a vanished client holds up amqtt's
deliveries to the others until amqtt gives up waiting for its acknowledgements."""

from __future__ import annotations

from support.listener import Listener

import protocols
from hallserver.store.models import DeviceStatusRow

topics = protocols.topics


def test_last_will_marks_device_offline(server, device, mqtt_url, hall_id):
    led = device("led-09")
    led.request("state.get")
    status = Listener(mqtt_url, topics.status(hall_id, "led-09"))
    status.wait_for(lambda m: m["online"] is True)
    led.drop()
    status.wait_for(lambda m: m["online"] is False)  # the broker published the will
    status.close()
    # the server got the will on the same subscription before this later message: once the probe
    # is answered, the will has been handled
    device("kiosk-1").request("state.get")
    with server.store.sessions() as s:
        row = s.get(DeviceStatusRow, (hall_id, "led-09"))
    assert row is not None and row.online is False
