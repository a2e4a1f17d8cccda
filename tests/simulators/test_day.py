"""The accelerated day of `make demo`, run for real: the dispensers, counter terminals, rating buttons
and LED displays are the device programs of firmware/ on simulated hardware, against the real server
and broker."""

from __future__ import annotations

import pytest

from hallserver.store.models import RatingRow, TicketRow
from simulators.day import HallDay

pytestmark = pytest.mark.parametrize("broker_kind", ["amqtt"], indirect=True)


def test_a_simulated_morning(server, mqtt_url):
    day = HallDay(mqtt_url, server.config, speed=600, counters=6, seed=3)
    try:
        day.start()
        with day.progress:
            assert day.progress.wait_for(lambda: day.served >= 8, timeout=60), (day.issued, day.served)
    finally:
        day.close()
    printed = sum(k.paper.tickets for k in day.kiosks)
    assert printed >= day.issued  # every ticket the kiosks issued came out of a printer
    number, officer, terminal = day.counters[0][:3]
    # the terminal's own screen, drawn by its program from the retained state
    assert terminal.display.lines[0].startswith(f"Quầy {number} {server.config.officers[officer].name}"[:20])
    with server.store.sessions() as s:
        done = s.query(TicketRow).filter_by(hall=server.config.id, status="done").count()
        assert done >= 8
        printed_rows = s.query(TicketRow).filter(TicketRow.hall == server.config.id,
                                                 TicketRow.printed_at.is_not(None)).count()
        assert printed_rows >= day.issued - 1  # confirmed to the server (the last may be in flight)
        assert s.query(RatingRow).filter_by(hall=server.config.id).count() >= day.rated >= 1
    # the LED display's own program shows the number its counter is serving
    led = day.counters[0][4]
    assert led.view.number is None or led.view.number.startswith(server.config.services[
        server.config.counters[number].services[0]].prefix)
