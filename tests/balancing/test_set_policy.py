"""The routing policy per hall (config) and its live switch (an engine command, replayed exactly)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from hallserver.domain.config import ConfigError, parse_config
from hallserver.domain.engine import Hall
from hallserver.domain.model import Refused
from hallserver.domain.pins import hash_pin
from hallserver.settings import load_hall_config

PIN_HASH = hash_pin("0000", salt="t", iterations=1)
MONDAY = datetime(2025, 3, 3, 8, 0)


def raw(**hall) -> dict:
    return {
        "hall": {"id": "p", "always_open": True, **hall},
        "services": [{"code": "a", "prefix": "A", "target_wait_min": 60}, {"code": "b", "prefix": "B",
                                                                           "target_wait_min": 5}],
        "counters": [{"number": 1, "services": ["a", "b"]}],
        "officers": [{"id": "o1", "pin_hash": PIN_HASH}],
    }


def test_policy_is_configured_per_hall():
    assert parse_config(raw()).policy == "oldest"
    cfg = parse_config(raw(policy="preference", preference_wait_min=7.5))
    assert (cfg.policy, cfg.preference_wait_min, cfg.preference_wait_s) == ("preference", 7.5, 450)
    with pytest.raises(ConfigError, match="hall.policy"):
        parse_config(raw(policy="fastest"))
    with pytest.raises(ConfigError, match="preference_wait_min"):
        parse_config(raw(preference_wait_min=-1))
    assert load_hall_config(None).policy in ("oldest", "preference", "sla")  # the demo hall still parses


def busy_hall(policy: str = "oldest") -> tuple[Hall, list]:
    """A at 08:00 (target 60 min) and B at 08:10 (target 5 min), one counter serving both."""
    hall = Hall(parse_config(raw(policy=policy)))
    events = hall.take_ticket(MONDAY, "a") + hall.take_ticket(MONDAY + timedelta(minutes=10), "b")
    events += hall.login(MONDAY + timedelta(minutes=11), 1, "o1", "0000")
    return hall, events


def test_switching_changes_the_next_call_and_is_replayed():
    hall, events = busy_hall("oldest")
    now = MONDAY + timedelta(minutes=20)
    switch = hall.set_policy(now, "sla", by="manager")
    assert [(e.kind, e.data) for e in switch] == [("hall.policy_set", {"policy": "sla", "by": "manager"})]
    assert hall.set_policy(now, "sla") == []  # already so
    call = hall.call_next(now, 1)
    assert call[-1].data["number"] == "B001"  # 10/5 beats 20/60; `oldest` would call A001
    replayed = Hall(hall.config)
    for e in events + switch + call:
        replayed.apply(e)
    assert replayed.policy.name == "sla"
    assert replayed.tickets["B001"].status == "called"


def test_oldest_would_have_called_the_other():
    hall, _ = busy_hall("oldest")
    assert hall.call_next(MONDAY + timedelta(minutes=20), 1)[-1].data["number"] == "A001"


def test_a_switch_lasts_for_the_day():
    hall, _ = busy_hall("oldest")
    hall.set_policy(MONDAY + timedelta(minutes=20), "preference")
    assert hall.policy.name == "preference"
    hall.tick(MONDAY + timedelta(days=1))
    assert hall.policy.name == "oldest"  # the next day starts with the configured policy, as a replay does


def test_unknown_policy_is_refused():
    hall, _ = busy_hall()
    with pytest.raises(Refused) as exc:
        hall.set_policy(MONDAY, "fastest")
    assert exc.value.code == "bad_field" and "fastest" in exc.value.detail
