"""Routing policies over random halls (hypothesis).

Each policy, with the priority rules on top:
- is work-conserving: a call returns a ticket whenever the counter has an eligible one, and in a
  whole simulated day no open, idle counter ever has an eligible ticket waiting;
- never gives a counter a ticket of a service it lacks (nor one sent to another counter);
- bypasses nobody for ever: `oldest` never calls a later ticket of the same class before an
  earlier one the counter could serve; `preference` does so only for its own service's ticket,
  and never past a ticket that waited longer than the threshold; `sla` only for a ticket whose
  wait-to-target ratio is at least as large; and when the day ends every ticket of a service
  with an open counter has been called.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hallserver.domain import policies
from hallserver.domain.config import POLICY_NAMES, parse_config
from hallserver.domain.engine import Hall
from hallserver.domain.model import CounterState, Ticket
from hallserver.domain.pins import hash_pin
from simulators.hallsim.sim import IDLE, DaySim, sim_config
from simulators.hallsim.workload import Arrival

DAY = date(2025, 3, 3)
MIDNIGHT = datetime(2025, 3, 3)
CODES = ("s-a", "s-b", "s-c", "s-d")
PIN_HASH = hash_pin("0000", salt="t", iterations=1)


@st.composite
def halls(draw):
    n = draw(st.integers(1, 4))
    services = [{"code": c, "prefix": c[-1].upper(), "target_wait_min": draw(st.sampled_from((5, 10, 15, 30, 60))),
                 "handle_min": draw(st.sampled_from((3, 8, 15)))} for c in CODES[:n]]
    counters = []
    for number in range(1, draw(st.integers(1, 5)) + 1):
        served = draw(st.lists(st.sampled_from(CODES[:n]), min_size=1, max_size=n, unique=True))
        counters.append({"number": number, "services": served})
    return parse_config({
        "hall": {"id": "prop", "always_open": True, "policy": draw(st.sampled_from(POLICY_NAMES)),
                 "preference_wait_min": draw(st.sampled_from((0, 2, 10, 30)))},
        "priority": {"mode": draw(st.sampled_from(("strict", "interleave"))), "every": draw(st.integers(1, 3)),
                     "categories": [{"key": "nguoi-cao-tuoi"}]},
        "services": services, "counters": counters,
        "officers": [{"id": "o1", "pin_hash": PIN_HASH}],
    })


@st.composite
def situations(draw):
    """A hall, one of its counters and the tickets waiting at a moment."""
    config = draw(halls())
    number = draw(st.sampled_from(sorted(config.counters)))
    counter = CounterState(number, list(config.counters[number].services), officer="o1",
                           ordinary_streak=draw(st.integers(0, 4)))
    tickets = []
    for i in range(draw(st.integers(0, 12))):
        at = MIDNIGHT + timedelta(hours=8, minutes=draw(st.integers(0, 120)))
        t = Ticket(f"X{i:03d}", draw(st.sampled_from(sorted(config.services))),
                   "nguoi-cao-tuoi" if draw(st.booleans()) and draw(st.booleans()) else None, i + 1, at, "", at)
        t.target_counter = draw(st.sampled_from((None, None, None, number, number + 1)))
        tickets.append(t)
    now = MIDNIGHT + timedelta(hours=10, minutes=draw(st.integers(0, 60)))
    return config, counter, tickets, now


def eligible(counter: CounterState, tickets: list[Ticket]) -> list[Ticket]:
    return [t for t in tickets if t.target_counter == counter.number
            or (t.target_counter is None and t.service in counter.services)]


def ratio(t: Ticket, config, now: datetime) -> float:
    return (now - t.queued_at).total_seconds() / (60 * config.services[t.service].target_wait_min)


def allowed_bypass(policy: str, chosen: Ticket, other: Ticket, counter: CounterState, config, now) -> bool:
    """May `chosen` be called while `other` (same class, earlier in time) waits at this counter?"""
    if policy == "oldest":
        return False
    if policy == "preference":
        own = chosen.service == counter.services[0] or chosen.target_counter == counter.number
        overdue = (now - other.queued_at).total_seconds() > config.preference_wait_s
        return own and not overdue
    return ratio(chosen, config, now) >= ratio(other, config, now) - 1e-9


@settings(max_examples=300, deadline=None)
@given(situations(), st.sampled_from(POLICY_NAMES))
def test_a_call_takes_an_eligible_ticket_whenever_there_is_one(situation, name):
    config, counter, tickets, now = situation
    mine = eligible(counter, tickets)
    chosen = policies.choose(policies.get(name), mine, counter, config, now)
    assert (chosen is None) == (not mine)
    if chosen is None:
        return
    assert chosen in mine  # its service is one of the counter's, or it was sent to this counter
    if any(t.priority for t in mine) and config.priority.mode == "strict":
        assert chosen.priority
    same_class = [t for t in mine if bool(t.priority) == bool(chosen.priority)]
    for other in same_class:
        if other.key < chosen.key:
            assert allowed_bypass(name, chosen, other, counter, config, now), (other, chosen)


@st.composite
def days(draw):
    config = draw(halls())
    categories = ["nguoi-cao-tuoi"]
    arrivals = []
    for _ in range(draw(st.integers(1, 40))):
        at = 8 * 3600 + draw(st.integers(0, 4 * 3600))
        arrivals.append(Arrival(float(at), draw(st.sampled_from(sorted(config.services))),
                                draw(st.sampled_from([None, None, None, *categories])),
                                float(draw(st.integers(30, 40 * 60))), draw(st.booleans()) and draw(st.booleans()),
                                float("inf")))
    arrivals.sort(key=lambda a: a.at_s)
    schedule = {}
    for n in config.counters:
        start = draw(st.integers(7, 10)) * 3600.0
        schedule[n] = [(start, start + draw(st.integers(1, 5)) * 3600.0)]
    breaks = [(n, draw(st.integers(8 * 3600, 12 * 3600))) for n in config.counters if draw(st.booleans())]
    return config, arrivals, schedule, breaks


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(days(), st.sampled_from(POLICY_NAMES))
def test_whole_days_under_each_policy(day, name):
    config, arrivals, schedule, breaks = day
    hall_config = sim_config(replace(config, policy=name))
    sim = DaySim(hall_config, DAY, arrivals, schedule, [(n, float(t)) for n, t in breaks], keep_events=True)

    def work_conserving(s: DaySim) -> None:
        for c in s.counters.values():
            if c.status == IDLE:
                assert not s.hall.eligible(s.hall.counters[c.number]), f"counter {c.number} idle with work"

    sim.run(after=work_conserving)
    waiting: dict[str, None] = {}  # numbers, in issue order
    staffed: set[int] = set()
    covered_at_issue: set[str] = set()
    replay = Hall(hall_config)  # the tickets as each event found them (the day's hall has retired many)
    for e in sim.events:
        if e.kind == "officer.logged_in":
            staffed.add(e.data["counter"])
        elif e.kind == "officer.logged_out":
            staffed.discard(e.data["counter"])
        elif e.kind == "ticket.issued":
            waiting[e.data["number"]] = None
            if any(e.data["service"] in hall_config.counters[n].services for n in staffed):
                covered_at_issue.add(e.data["number"])
        elif e.kind == "ticket.called":
            waiting.pop(e.data["number"])
            chosen = replay.tickets[e.data["number"]]
            counter = CounterState(e.data["counter"], list(hall_config.counters[e.data["counter"]].services))
            assert chosen.service in counter.services
            for other in eligible(counter, [replay.tickets[n] for n in waiting]):
                if bool(other.priority) == bool(chosen.priority) and other.key < chosen.key:
                    assert allowed_bypass(name, chosen, other, counter, hall_config, e.at), (other, chosen)
        replay.apply(e)
    assert not covered_at_issue & set(waiting), "a ticket taken while its service had an open counter was left"
    for number in covered_at_issue:
        assert sim.record.tickets[number][3] in ("done", "no_show")
