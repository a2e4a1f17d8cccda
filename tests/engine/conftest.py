"""Fixtures of the engine tests: a small hall built from a dict, a clock, state snapshots.

The hall (all officers' PIN is "1234"):

    services  tu-phap (A), xay-dung (B, daily cap 3), tra-ket-qua (Z, weekdays only)
    counters  1: tu-phap, xay-dung   2: xay-dung   3: tra-ket-qua   4: tu-phap
    officers  o1..o4
    devices   kiosk (every service), kiosk-a (tu-phap only), screen, ct-1, led-1, rb-1 (counter 1)
    hours     Mon-Fri 07:00-11:15 and 13:15-16:30, Sat 07:00-11:15 (Saturday morning on)
    priority  strict, categories nguoi-cao-tuoi and nguoi-khuyet-tat
"""

from __future__ import annotations

import copy
import dataclasses
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest

from hallserver.domain import views
from hallserver.domain.config import HallConfig, parse_config
from hallserver.domain.engine import Hall
from hallserver.domain.pins import hash_pin

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
PIN = "1234"
# few iterations: verify_pin reads them from the hash, and the property tests log in often
PIN_HASH = hash_pin(PIN, salt="testsalt", iterations=1000)
MONDAY = datetime(2025, 3, 3, 8, 0, tzinfo=TZ)  # a Monday, 08:00 in Vietnam

WEEKDAY_HOURS = [["07:00", "11:15"], ["13:15", "16:30"]]

BASE = {
    "hall": {
        "id": "test-hall",
        "name": "Trung tâm Phục vụ hành chính công thử nghiệm",
        "timezone": "Asia/Ho_Chi_Minh",
        "number_width": 3,
        "recall_limit": 2,
        "public_url": "http://hall.test/",
        "hours": {**{d: WEEKDAY_HOURS for d in ("mon", "tue", "wed", "thu", "fri")}, "sat": [["07:00", "11:15"]]},
    },
    "ratings": {"window_s": 120},
    "priority": {
        "mode": "strict",
        "every": 2,
        "categories": [
            {"key": "nguoi-cao-tuoi", "label": "Người cao tuổi"},
            {"key": "nguoi-khuyet-tat", "label": "Người khuyết tật"},
        ],
    },
    "services": [
        {"code": "tu-phap", "name": "Sở Tư pháp", "prefix": "A", "handle_min": 10},
        {"code": "xay-dung", "name": "Sở Xây dựng", "prefix": "B", "daily_cap": 3, "handle_min": 15},
        {"code": "tra-ket-qua", "name": "Trả kết quả", "prefix": "Z", "handle_min": 4,
         "hours": {d: [["07:30", "16:30"]] for d in ("mon", "tue", "wed", "thu", "fri")}},
    ],
    "counters": [
        {"number": 1, "name": "Quầy 1", "services": ["tu-phap", "xay-dung"]},
        {"number": 2, "name": "Quầy 2", "services": ["xay-dung"]},
        {"number": 3, "name": "Quầy 3", "services": ["tra-ket-qua"], "kind": "returning"},
        {"number": 4, "name": "Quầy 4", "services": ["tu-phap"]},
    ],
    "officers": [
        {"id": f"o{i}", "name": name, "pin_hash": PIN_HASH}
        for i, name in enumerate(("Nguyễn Văn An", "Trần Thu Bình", "Lê Minh Châu", "Phạm Hồng Dũng"), start=1)
    ],
    "devices": [
        {"id": "kiosk", "kind": "dispenser"},
        {"id": "kiosk-a", "kind": "dispenser", "services": ["tu-phap"]},
        {"id": "screen", "kind": "screen"},
        {"id": "ct-1", "kind": "terminal", "counter": 1},
        {"id": "led-1", "kind": "led", "counter": 1},
        {"id": "rb-1", "kind": "rating", "counter": 1},
    ],
}


def base_raw() -> dict:
    """A fresh copy of the test hall's TOML-like dict, safe to edit."""
    return copy.deepcopy(BASE)


def build_config(raw: dict | None = None, **hall: object) -> HallConfig:
    """parse_config of `raw` (default: the test hall), with [hall] keys overridden by `hall`."""
    raw = base_raw() if raw is None else copy.deepcopy(raw)
    raw["hall"].update(hall)
    return parse_config(raw)


class Clock:
    """Hall time for tests: starts Monday 08:00 in Asia/Ho_Chi_Minh and only moves when told."""

    def __init__(self, start: datetime = MONDAY):
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now

    def at(self, hour: int, minute: int = 0, second: int = 0, days: int = 0) -> datetime:
        """Move to a time of the same day (or `days` later); does not check it moves forward."""
        self.now = (self.now + timedelta(days=days)).replace(hour=hour, minute=minute, second=second)
        return self.now


def plain(value):
    """A comparable copy of engine state: dataclasses and containers unfolded, policies by name."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | deque):
        return [plain(v) for v in value]
    if isinstance(value, set | frozenset):
        return set(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}  # slots: no vars()
    if hasattr(value, "pick"):  # a policy object
        return ("policy", value.name)
    return value


def snapshot(hall: Hall, now: datetime) -> dict:
    """Everything observable of a hall, to compare a replay with: every attribute of its state
    (whatever the engine adds later; not its private caches, derived from the rest) and every view."""
    state = {k: plain(v) for k, v in vars(hall).items() if k != "config" and not k.startswith("_")}
    state["login_failures"] = {k: v for k, v in state.get("login_failures", {}).items() if v}
    return {
        "state": state,
        "board": views.board(hall, now),
        "queues": views.queues(hall, now),
        "devices": {d.id: views.device_state(hall, d, now) for d in hall.config.devices.values()},
        "status": {n: views.ticket_status(t, hall, now) for n, t in hall.tickets.items()},
    }


def replay(config: HallConfig, events) -> Hall:
    fresh = Hall(config)
    for e in events:
        fresh.apply(e)
    return fresh


@pytest.fixture
def raw() -> dict:
    return base_raw()


@pytest.fixture
def make_hall() -> Callable[..., Hall]:
    """make_hall(raw=None, **hall_overrides) -> a fresh Hall."""

    def make(raw: dict | None = None, **hall: object) -> Hall:
        return Hall(build_config(raw, **hall))

    return make


@pytest.fixture
def hall(make_hall) -> Hall:
    return make_hall()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def kit() -> SimpleNamespace:
    """The helpers above for test modules (two conftest.py files make `import conftest` ambiguous)."""
    return SimpleNamespace(TZ=TZ, PIN=PIN, PIN_HASH=PIN_HASH, MONDAY=MONDAY, Clock=Clock, base_raw=base_raw,
                           build_config=build_config, snapshot=snapshot, replay=replay)
