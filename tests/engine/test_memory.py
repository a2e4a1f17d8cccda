"""Memory the engine keeps per citizen (issue #7, flat memory over a province day), measured with
tracemalloc: it counts the interpreter's allocations, not RSS, so the figures are the same on every
run of the same code.

The engine keeps the open tickets and those finished within engine.RETAIN (a dispenser's print
confirmation, votes, look-ups come then); older ones are retired to the store, so what a hall
holds follows the citizens in it, not the tickets of the day.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta

import pytest

from hallserver.domain.engine import RETAIN, Hall
from tests.support.memory import traced, traced_now

CYCLES = 3000  # served tickets measured (the test hall's 4-digit numbers go to 9999)
WARMUP = 200  # tickets served before the measure: the hall's tables and the allocator warmed up
SECONDS_EACH = 3  # Day.serve: take, call and done a second apart
WITHIN = int(RETAIN.total_seconds()) // SECONDS_EACH  # tickets served within RETAIN
KEPT = WITHIN - WARMUP - 10  # served after the warm-up with none retired yet


def parsed(text: str) -> str:
    """A fresh copy of `text`, as a JSON message (or a stored event read back) hands it over."""
    return json.loads(json.dumps(text))


@pytest.fixture(name="traced")
def traced_fixture() -> Iterator[None]:
    with traced():
        yield


class Day:
    """A counter serving citizens one after another: take -> call -> done, and 4 votes in 5,
    every name in each command a fresh string, as the service layer hands over parsed messages."""

    def __init__(self, hall: Hall, start, pin: str):
        self.hall, self.now, self.i = hall, start, 0
        hall.login(start, 1, parsed("o1"), pin)
        self.level = hall.config.levels[0].key

    def serve(self, n: int) -> None:
        hall = self.hall
        for _ in range(n):
            self.i += 1
            self.now += timedelta(seconds=1)
            hall.take_ticket(self.now, parsed("tu-phap"), None, f"tok-{self.i:012d}", parsed("kiosk"),
                             take=f"kiosk-take-{self.i:08d}")
            self.now += timedelta(seconds=1)
            hall.call_next(self.now, 1)
            self.now += timedelta(seconds=1)
            hall.done(self.now, 1)
            if self.i % 5:
                hall.vote(self.now, 1, parsed(self.level), device=parsed("rb-1"))


def warmed(kit, n: int) -> Day:
    d = Day(Hall(kit.build_config(number_width=4, always_open=True)), kit.MONDAY, kit.PIN)
    d.serve(n)
    return d


@pytest.fixture
def day(kit, traced) -> Day:
    return warmed(kit, WARMUP)


@pytest.fixture
def full_day(kit, traced) -> Day:
    """Served past RETAIN: its first tickets are retiring."""
    return warmed(kit, WITHIN + WARMUP)


def test_bytes_per_ticket_in_memory(day):
    """754 bytes per served ticket still in memory (CPython 3.11): the Ticket (slots: 200 B and its
    order, 32 B), its number, tracking token and three times, the dispenser's take id and its key in
    `takes`, its entries in `tickets`, `finished` and `rated`. Before slots and shared names (each
    ticket kept its own __dict__ and its own copy of the service code, device id and officer id of
    the messages) this test measured 832 bytes. One more string or object kept per ticket is 50
    bytes or more."""
    before = traced_now()
    day.serve(KEPT)
    per_ticket = (traced_now() - before) / KEPT
    assert len(day.hall.tickets) == WARMUP + KEPT
    assert per_ticket < 800, f"{per_ticket:.0f} bytes kept per served ticket"


def test_memory_follows_the_hall_not_the_day(full_day):
    """Flat: with the first tickets retiring, 3,000 more citizens served leave the engine's memory
    where it was; each finished ticket leaves RETAIN after it ended, and its share of the day's
    counts stays: 2 bytes per citizen measured (before retirement this hall kept 666 more)."""
    before = traced_now()
    full_day.serve(CYCLES)
    grown = (traced_now() - before) / CYCLES
    hall = full_day.hall
    assert len(hall.tickets) <= WITHIN + 1 and len(hall.finished) <= WITHIN + 1
    counts = hall.day_counts()["tu-phap"]
    everyone = WITHIN + WARMUP + CYCLES
    assert counts["issued"] == counts["called"] == counts["within"] == counts["served"] == everyone
    assert hall.order == everyone
    assert grown < 16, f"{grown:.1f} bytes kept per served ticket once they retire"


def test_what_the_day_held_is_released_when_it_rolls(day):
    """After the day rolls (Hall.roll to the next date), nothing of its tickets is left: the
    memory is back to what it was before them (less, in fact: the warm-up's tickets go too)."""
    before = traced_now()
    day.serve(KEPT)
    held = traced_now() - before
    assert day.hall.roll(day.now + timedelta(days=1))
    left = traced_now() - before
    assert held > 500 * KEPT  # the measure sees the day
    assert left < 8 * 1024, f"{left} bytes left after the day rolled, of {held} it held"
    assert day.hall.tickets == {} and day.hall.takes == {} and day.hall.rated == set()
