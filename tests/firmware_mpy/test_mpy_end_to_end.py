"""The MicroPython boards' logic and link, run under CPython against the real hall server over a
real broker (the `server`/`device` fixtures: amqtt, then Mosquitto): the rating button votes
from the real retained state after a real serve.done, also after an outage and a power cut; the
LED display shows and blinks the number the real call.next put in its state."""

from __future__ import annotations

from pathlib import Path

from hallserver.store.models import RatingRow
from simulators.boards import SimLed, SimRatingButton
from simulators.mpyhost import ticks_ms


class RatingHost(SimRatingButton):
    """The demo's simulated rating button (its real program), pressed by the test on its own loop."""

    def __init__(self, url: str, hall: str, device: str, flash: Path):
        super().__init__(url, hall, device, flash, backoff=(200, 1000))

    def press(self, i: int) -> None:
        self.hold(i, True)
        self.run_for(0.08)
        self.hold(i, False)
        self.run_for(0.02)


class LedHost(SimLed):
    def __init__(self, url: str, hall: str, device: str, flash: Path):
        super().__init__(url, hall, device, backoff=(200, 1000))


def ratings(server, hall_id: str) -> list[tuple]:
    with server.store.sessions() as s:
        rows = s.query(RatingRow).filter_by(hall=hall_id).order_by(RatingRow.id).all()
        return [(r.number, r.officer, r.counter, r.score, r.reason) for r in rows]


def serve_one(device, service: str = "ke-hoach-dau-tu") -> tuple[object, str]:
    kiosk, terminal = device("kiosk-1"), device("ct-05")
    number = kiosk.request("ticket.take", {"service": service})["ticket"]["number"]
    terminal.request("officer.login", {"officer": "o05", "pin": "0000"})
    assert terminal.request("call.next")["ticket"]["number"] == number
    return terminal, number


def test_rating_button_votes_through_the_hall_server(server, device, mqtt_url, hall_id, tmp_path):
    terminal, number = serve_one(device)
    board = RatingHost(mqtt_url, hall_id, "rb-05", tmp_path)
    board.run_until(lambda: board.link.up and board.app.counts["bad_states"] == 0 and board.app.levels != [])
    assert board.app.mode == "idle"  # the real retained state: not armed

    terminal.request("serve.done")
    board.run_until(lambda: board.app.mode == "armed")
    assert board.app.ticket == number and board.app.levels == ["rat-hai-long", "hai-long", "khong-hai-long"]
    board.press(2)  # "Không hài lòng": the reason keys light up
    assert board.app.leds(ticks_ms()) == ([False, False, True], [True, True, True, True])
    board.press(3 + 1)  # "Thời gian chờ"
    board.run_until(lambda: board.app.counts["accepted"] == 1 and len(board.outbox) == 0)
    board.run_until(lambda: not board.app.armed)  # the server disarmed it
    assert ratings(server, hall_id) == [(number, "o05", 5, "khong-hai-long", "thoi-gian-cho")]
    board.link.close()


def test_vote_made_offline_survives_a_power_cut(server, device, mqtt_url, hall_id, tmp_path):
    terminal, number = serve_one(device)
    terminal.request("serve.done")
    board = RatingHost(mqtt_url, hall_id, "rb-05", tmp_path)
    board.run_until(lambda: board.app.mode == "armed")

    board.go_offline()
    board.run_until(lambda: not board.link.up)
    board.press(0)
    assert board.app.mode == "thanks" and len(board.outbox) == 1
    # power cut, right after the thanks: that board is never stepped again; a new one boots

    reborn = RatingHost(mqtt_url, hall_id, "rb-05", tmp_path)
    assert reborn.ids.boot == 2 and len(reborn.outbox) == 1
    reborn.run_until(lambda: reborn.app.counts["accepted"] == 1 and len(reborn.outbox) == 0)
    assert reborn.app.mode != "armed"  # never armed again for the ticket it had voted for
    assert ratings(server, hall_id) == [(number, "o05", 5, "rat-hai-long", None)]
    reborn.link.close()


def test_led_display_shows_and_blinks_the_called_number(server, device, mqtt_url, hall_id, tmp_path):
    led = LedHost(mqtt_url, hall_id, "led-05", tmp_path)
    led.run_until(lambda: led.link.up and led.view.seq is not None)
    assert led.view.frame(ticks_ms()) == ("----", False)  # counter 5 is closed: nobody logged in

    terminal, number = serve_one(device)
    led.run_until(lambda: led.view.number == number)
    assert led.view.blinking(ticks_ms())  # a new call_seq: blink
    frames = set()
    for _ in range(60):  # 600 ms: on and off
        led.run_for(0.01)
        frames.add(led.view.frame(ticks_ms())[0])
    assert frames == {number, "    "}

    terminal.request("serve.done")
    terminal.request("counter.pause", {"reason": "Họp giao ban"})
    led.run_until(lambda: led.view.status == "paused")
    assert led.view.frame(ticks_ms()) == ("----", False)
    led.link.close()
