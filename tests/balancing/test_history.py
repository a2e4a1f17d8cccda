"""Demand estimated from the stored tickets (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hallserver.domain.config import parse_config
from hallserver.domain.engine import Hall
from hallserver.domain.pins import hash_pin
from hallserver.staffing.estimate import PRIOR_WEIGHT
from hallserver.store import Store
from hallserver.store.history import demand_from_store, ticket_history

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PIN_HASH = hash_pin("0000", salt="t", iterations=1)
CONFIG = parse_config({
    "hall": {"id": "hist", "always_open": True},
    "services": [{"code": "a", "prefix": "A", "handle_min": 10}, {"code": "b", "prefix": "B", "handle_min": 4}],
    "counters": [{"number": 1, "services": ["a", "b"]}],
    "officers": [{"id": "o1", "pin_hash": PIN_HASH}],
})
MONDAYS = [date(2025, 3, 3), date(2025, 3, 10)]


def play_day(store: Store, day: date, plan: list[tuple[int, int, str, float]]) -> None:
    """plan: (local hour, minute, service, minutes at the counter); served in order, one at a time."""
    hall = Hall(CONFIG)
    at = datetime(day.year, day.month, day.day, 7, 0, tzinfo=TZ)
    events = hall.login(at, 1, "o1", "0000")
    for hour, minute, service, _ in plan:
        events += hall.take_ticket(datetime(day.year, day.month, day.day, hour, minute, tzinfo=TZ), service)
    clock = datetime(day.year, day.month, day.day, 16, 0, tzinfo=TZ)
    for _, _, _, minutes in plan:
        events += hall.call_next(clock, 1)
        clock += timedelta(minutes=minutes)
        events += hall.done(clock, 1)
    store.record(CONFIG.id, events)


@pytest.fixture
def store(database_url):
    s = Store(database_url)
    s.migrate()
    s.ensure_hall(CONFIG.id, "History hall")
    yield s
    s.close()


def test_rates_and_handling_times_from_the_store(store):
    play_day(store, MONDAYS[0], [(8, 5, "a", 12), (8, 40, "a", 8), (9, 0, "b", 3), (14, 30, "a", 10)])
    play_day(store, MONDAYS[1], [(8, 20, "a", 14), (9, 30, "b", 5)])
    play_day(store, date(2025, 3, 11), [(10, 0, "b", 4)])  # a Tuesday
    rows = ticket_history(store.engine, CONFIG.id, date(2025, 3, 1), date(2025, 3, 12))
    assert len(rows) == 7 and all(r.issued_at.tzinfo is None for r in rows)
    d = demand_from_store(CONFIG, store.engine, date(2025, 3, 12), weeks=2)
    assert d.source == "history" and d.days_observed == {"mon": 2, "tue": 1}
    # local hours (the store keeps UTC: 08:05 in Vietnam is 01:05 UTC)
    assert d.hourly["mon"] == {"a": {8: 1.5, 14: 0.5}, "b": {9: 1.0}}
    assert d.hourly["tue"] == {"b": {10: 1.0}}
    assert d.samples == {"a": 4, "b": 3}
    assert d.aht_min["a"] == pytest.approx((12 + 8 + 10 + 14 + PRIOR_WEIGHT * 10) / (4 + PRIOR_WEIGHT))
    assert d.aht_min["b"] == pytest.approx((3 + 5 + 4 + PRIOR_WEIGHT * 4) / (3 + PRIOR_WEIGHT))
    assert d.hours("mon") == [8, 9, 14] and d.tickets("mon") == 3.0
    # the window excludes `until` and what lies before it
    assert demand_from_store(CONFIG, store.engine, date(2025, 3, 10), weeks=1).days_observed == {"mon": 1}


def test_no_history_is_an_empty_demand(store):
    d = demand_from_store(CONFIG, store.engine, date(2025, 3, 12))
    assert d.hourly == {} and d.days_observed == {} and d.aht_min == {"a": 10, "b": 4}
