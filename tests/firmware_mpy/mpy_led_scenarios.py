"""Scripted LED call display scenarios: retained states, calls, recalls, pauses, outages, fed with
the time passed in, on the real view and link over a fake broker, and the MAX7219 bytes on a fake
SPI bus.

MicroPython subset: test_mpy_led.py runs this file under the MicroPython WebAssembly port and under
CPython (the dot matrix scenario needs MicroPython's framebuf), and asserts on the results.
"""

import ledview
import max7219
from mpy_fakes import FakeBroker, FakePin, FakeSpi, FakeWifi
from mpyrt import ticks
from mpyrt.backoff import Backoff
from mpyrt.link import Link

from protocols import topics

HALL = "demo"
DEV = "led-05"
STATE = topics.state(HALL, DEV)
SERVER = topics.server_status(HALL)


def state(number="A001", seq=12, status="open"):
    return {"v": 1, "kind": "led", "counter": 5, "number": number, "status": status, "call_seq": seq}


class Rig:
    def __init__(self, t=1000, broker=None, wifi=None, width=4):
        self.broker = broker if broker is not None else FakeBroker()
        self.view = ledview.LedView(width, 5000)
        self.link = Link(HALL, DEV, self.broker.make_client, wifi, ledview.VERSION, 30, Backoff(1000, 60000))
        self.link.on_state = self.view.on_state
        self.link.on_change = self.view.on_link
        self.t = t

    def run(self, ms, dt=20):
        end = ticks.add(self.t, ms)
        while ticks.diff(end, self.t) > 0:
            self.link.step(self.t)
            self.t = ticks.add(self.t, dt)

    def frame(self):
        text, mark = self.view.frame(self.t)
        return text + ("*" if mark else "")

    def film(self, ms, every=100):
        """What the display shows every `every` ms: '#' the number is lit, '.' blanked by the blink."""
        out = ""
        for _ in range(ms // every):
            text, _mark = self.view.frame(self.t)
            out += "." if text.strip() == "" else "#"
            self.run(every)
        return out


def first_state_no_blink():
    rig = Rig()
    boot = rig.frame()
    rig.broker.publish(STATE, state("A001", 12), retain=True)
    rig.run(40)
    return {"boot": boot, "shown": rig.frame(), "film": rig.film(2000)}


def call_blinks():
    rig = Rig()
    rig.broker.publish(STATE, state("A001", 12), retain=True)
    rig.run(40)
    rig.broker.publish(STATE, state("A002", 13), retain=True)
    rig.run(20)
    shown = rig.frame()
    film = rig.film(6000)
    return {"shown": shown, "film": film, "after": rig.frame()}


def recall_blinks():
    rig = Rig()
    rig.broker.publish(STATE, state("A002", 13), retain=True)
    rig.run(40)
    rig.broker.publish(STATE, state("A002", 14), retain=True)  # a recall: same number, new call_seq
    rig.run(20)
    return {"film": rig.film(1000)}


def outage():
    rig = Rig()
    rig.broker.publish(STATE, state("A002", 13), retain=True)
    rig.run(6000)
    rig.broker.crash()
    rig.run(40)
    lost = rig.frame()
    rig.run(500)
    rig.broker.up = True
    rig.run(3000)
    back = rig.frame()
    film = rig.film(1000)  # the retained state again, same call_seq: no blink
    rig.broker.crash()
    rig.run(40)
    # a call while the display is cut off: the new state is there when it comes back
    rig.broker.publish(STATE, state("A003", 14), retain=True)
    rig.broker.up = True
    rig.run(2500)
    return {"lost": lost, "back": back, "film_back": film, "missed_call": rig.frame(), "film_missed": rig.film(1000)}


def paused_closed():
    rig = Rig()
    out = []
    for st in (state(None, 3, "paused"), state(None, 3, "closed"), state(None, 3, "open"), state("B12", 4, "open")):
        rig.broker.publish(STATE, st, retain=True)
        rig.run(6000)
        out.append(rig.frame())
    return {"frames": out}


def server_offline():
    rig = Rig()
    rig.broker.publish(SERVER, {"v": 1, "online": True}, retain=True)
    rig.broker.publish(STATE, state("A001", 1), retain=True)
    rig.run(40)
    online = rig.frame()
    rig.broker.publish(SERVER, {"v": 1, "online": False}, retain=True)
    rig.run(40)
    offline = rig.frame()
    rig.broker.publish(SERVER, {"v": 1, "online": True}, retain=True)
    rig.run(40)
    return {"online": online, "server_offline": offline, "back": rig.frame()}


def scroll():
    rig = Rig()
    rig.broker.publish(STATE, state("A1023", 1), retain=True)
    rig.run(20)
    frames = []
    for _ in range(9):
        frames.append(rig.frame())
        rig.run(400)
    return {"frames": frames}


def bad_states():
    rig = Rig()
    rig.broker.publish(STATE, state("A001", 1), retain=True)
    rig.run(40)
    for bad in ({"v": 1, "kind": "rating"}, state("A002", "7"), state(5, 2), state("A002", True)):
        rig.broker.publish(STATE, bad)
        rig.run(40)
    return {"bad": rig.view.bad_states, "shown": rig.frame()}


def wifi_join():
    wifi = FakeWifi()
    rig = Rig(wifi=wifi)
    rig.run(25000, 100)
    joins = wifi.calls
    mqtt_before = rig.broker.attempts
    wifi.up = True
    rig.broker.publish(STATE, state("A001", 1), retain=True)
    rig.run(200, 100)
    return {"joins_in_25s": joins, "mqtt_before_join": mqtt_before, "shown": rig.frame()}


def seven_segment_bytes():
    cs = FakePin()
    spi = FakeSpi(cs)
    display = max7219.SevenSegment(max7219.Chain(spi, cs, 1), 4, 8, True)
    init = [f.hex() for f in spi.frames]
    spi.frames = []
    display.show("A001", False)
    plain = [f.hex() for f in spi.frames]
    spi.frames = []
    display.show("----", True)
    return {"init": init, "A001": plain, "dashes_marked": [f.hex() for f in spi.frames], "cs": cs.level,
            "font": max7219.seven_segment("B7-Z", True).hex()}


def matrix_bytes():
    cs = FakePin()
    spi = FakeSpi(cs)
    display = max7219.Matrix(max7219.Chain(spi, cs, 4), 3)
    spi.frames = []
    display.show("A001", False)
    plain = [f.hex() for f in spi.frames]
    spi.frames = []
    display.show("A001", True)
    marked = [f.hex() for f in spi.frames]
    return {"plain": plain, "marked": marked}


SCENARIOS = [
    first_state_no_blink, call_blinks, recall_blinks, outage, paused_closed, server_offline, scroll,
    bad_states, wifi_join, seven_segment_bytes, matrix_bytes,
]
MICROPYTHON_ONLY = ("matrix_bytes",)  # framebuf


def run_all(micropython=True):
    results = {}
    for fn in SCENARIOS:
        if micropython or fn.__name__ not in MICROPYTHON_ONLY:
            results[fn.__name__] = fn()
    return results
